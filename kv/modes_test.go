package kv

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestModesReadAndWriteTheirNames: every mode marshals to its String name
// and reads back from it; JSON uses the names; anything else is a clear
// error listing the names.
func TestModesReadAndWriteTheirNames(t *testing.T) {
	for _, m := range []interface {
		MarshalText() ([]byte, error)
		String() string
	}{Strict, Sloppy, LWW, VectorClock, RepairOff, RepairAsync, RepairBlocking, HintRejectWhenFull, HintEvictOldest, MembershipOracle, MembershipGossip} {
		b, err := m.MarshalText()
		require.NoError(t, err)
		require.Equal(t, m.String(), string(b))
	}
	var q QuorumMode
	require.NoError(t, q.UnmarshalText([]byte("sloppy")))
	require.Equal(t, Sloppy, q)
	require.ErrorContains(t, q.UnmarshalText([]byte("loose")), `quorum "loose": want strict or sloppy`)
	var r ReadRepairMode
	require.ErrorContains(t, r.UnmarshalText([]byte("")), "want off, async or blocking")
	_, err := QuorumMode(9).MarshalText()
	require.ErrorIs(t, err, ErrBadConfig)
	b, err := json.Marshal(struct{ Q QuorumMode }{Sloppy})
	require.NoError(t, err)
	require.JSONEq(t, `{"Q":"sloppy"}`, string(b))
	var back struct{ M MembershipMode }
	require.NoError(t, json.Unmarshal([]byte(`{"M":"gossip"}`), &back))
	require.Equal(t, MembershipGossip, back.M)
}

// TestEveryIgnoreReasonIsExplained: a trace never prints an empty reason.
func TestEveryIgnoreReasonIsExplained(t *testing.T) {
	for r := ignoreNone + 1; r < numIgnoreReasons; r++ {
		require.NotEmpty(t, ignoreNames[r], "reason %d", r)
		require.NotEmpty(t, ignoreWhy[r], "reason %s", ignoreNames[r])
	}
}
