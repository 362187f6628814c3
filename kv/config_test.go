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
		{"membership unset", func(c *Config) { c.Membership = 0 }, 3, "set MembershipOracle or MembershipGossip"},
		{"anti-entropy negative", func(c *Config) { c.AntiEntropyIntervalTicks = -1 }, 3, "AntiEntropyIntervalTicks=-1"},
		{"merkle depth 0", func(c *Config) { c.MerkleDepth = 0 }, 3, "MerkleDepth=0"},
		{"merkle fanout 1", func(c *Config) { c.MerkleFanout = 1 }, 3, "Fanout=1"},
		{"merkle too many leaves", func(c *Config) { c.MerkleDepth, c.MerkleFanout = 8, 16 }, 3, "exceeds"},
		{"gossip interval 0", func(c *Config) { c.GossipIntervalTicks = 0 }, 3, "GossipIntervalTicks=0"},
		{"gossip fanout 0", func(c *Config) { c.GossipFanout = 0 }, 3, "GossipFanout=0"},
		{"gossip suspect 0", func(c *Config) { c.GossipSuspectRounds = 0 }, 3, "GossipSuspectRounds=0"},
		{"gossip dead 0", func(c *Config) { c.GossipDeadRounds = 0 }, 3, "GossipDeadRounds=0"},
		{"transfer batch 0", func(c *Config) { c.TransferBatchKeys = 0 }, 3, "TransferBatchKeys=0"},
		{"transfer batch huge", func(c *Config) { c.TransferBatchKeys = 1 << 20 }, 3, "at most 4096"},
		{"handoff timeout 0", func(c *Config) { c.HandoffTimeoutTicks = 0 }, 3, "HandoffTimeoutTicks=0"},
		{"leave timeout 0", func(c *Config) { c.LeaveTimeoutTicks = 0 }, 3, "LeaveTimeoutTicks=0"},
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
	assert.Equal(t, "info", Info.String())
	assert.Equal(t, "handoff-ack", MsgHandoffAck.String())
	assert.Equal(t, "MsgType(99)", MsgType(99).String())
	assert.Equal(t, "gossip", MembershipGossip.String())
	assert.Equal(t, "MembershipMode(0)", MembershipMode(0).String())
	assert.Equal(t, "tree-request", MsgTreeRequest.String())
	assert.Equal(t, "stream-ack", MsgStreamAck.String())
	for mt := MsgType(1); mt < msgTypeEnd; mt++ {
		assert.NotContains(t, mt.String(), "MsgType(", "every message type has a name")
	}
}

// The defaults: anti-entropy off (AntiEntropyIntervalTicks 0 really means
// no trees and no traffic; see TestAntiEntropyOffLeavesReplicasDivergent),
// oracle membership, range handoff on.
func TestDefaultConfigSwitches(t *testing.T) {
	c := DefaultConfig()
	assert.Zero(t, c.AntiEntropyIntervalTicks)
	assert.Equal(t, MembershipOracle, c.Membership)
	assert.True(t, c.RangeHandoff)
	c.AntiEntropyIntervalTicks, c.Membership = 10, MembershipGossip
	require.NoError(t, c.Validate(3))
}
