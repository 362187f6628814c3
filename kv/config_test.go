package kv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultConfigIsValid(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate(3))
}

func TestValidateRejectsBadConfigs(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Config)
		cluster int
		want    string
	}{
		{"W>N", func(c *Config) { c.W = 4 }, 5, "W=4 > N=3"},
		{"R>N", func(c *Config) { c.R = 4 }, 5, "R=4 > N=3"},
		{"N<1", func(c *Config) { c.N = 0 }, 3, "N=0"},
		{"N>cluster", func(c *Config) { c.N = 4; c.W = 1; c.R = 1 }, 3, "larger than the 3 nodes"},
		{"W<1", func(c *Config) { c.W = 0 }, 3, "W=0"},
		{"R<1", func(c *Config) { c.R = -1 }, 3, "R=-1"},
		{"no cluster", func(c *Config) {}, 0, "cluster size 0"},
		{"quorum unset", func(c *Config) { c.Quorum = 0 }, 3, "set Strict or Sloppy"},
		{"resolve unset", func(c *Config) { c.Resolve = 0 }, 3, "set LWW or VectorClock"},
		{"repair unset", func(c *Config) { c.ReadRepair = 9 }, 3, "set RepairOff"},
		{"hint policy unset", func(c *Config) { c.HintPolicy = 0 }, 3, "HintRejectWhenFull"},
		{"timeout 0", func(c *Config) { c.RequestTimeoutTicks = 0 }, 3, "RequestTimeoutTicks=0"},
		{"suspect negative", func(c *Config) { c.SuspectAfterTicks = -2 }, 3, "SuspectAfterTicks=-2"},
		{"probe 0", func(c *Config) { c.ProbeIntervalTicks = 0 }, 3, "ProbeIntervalTicks=0"},
		{"replay 0", func(c *Config) { c.HintReplayIntervalTicks = 0 }, 3, "HintReplayIntervalTicks=0"},
		{"batch 0", func(c *Config) { c.HintReplayBatch = 0 }, 3, "HintReplayBatch=0"},
		{"max hints 0", func(c *Config) { c.MaxHints = 0 }, 3, "MaxHints=0"},
		{"siblings 0", func(c *Config) { c.MaxSiblings = 0 }, 3, "MaxSiblings=0"},
		{"key bytes 0", func(c *Config) { c.MaxKeyBytes = 0 }, 3, "MaxKeyBytes=0"},
		{"value bytes 0", func(c *Config) { c.MaxValueBytes = 0 }, 3, "MaxValueBytes=0"},
		{"grace 0", func(c *Config) { c.TombstoneGraceTicks = 0 }, 3, "TombstoneGraceTicks=0"},
		{"sync 0", func(c *Config) { c.SyncIntervalTicks = 0 }, 3, "SyncIntervalTicks=0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate(tc.cluster)
			require.ErrorIs(t, err, ErrBadConfig)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestModeStrings(t *testing.T) {
	assert.Equal(t, "sloppy", Sloppy.String())
	assert.Equal(t, "vclock", VectorClock.String())
	assert.Equal(t, "blocking", RepairBlocking.String())
	assert.Equal(t, "evict-oldest", HintEvictOldest.String())
	assert.Equal(t, "QuorumMode(0)", QuorumMode(0).String())
	assert.Equal(t, "delete", Delete.String())
	assert.Equal(t, "timeout", Timeout.String())
	assert.Equal(t, "handoff-ack", MsgHandoffAck.String())
	assert.Equal(t, "MsgType(99)", MsgType(99).String())
}
