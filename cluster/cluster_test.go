package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/sim"
)

// TestFaultFreeRunIsCleanAndSettles: without faults the default cluster
// completes every operation, every exercised checker says valid, and the
// settle phase is recorded.
func TestFaultFreeRunIsCleanAndSettles(t *testing.T) {
	cfg := DefaultConfig()
	c, err := New(cfg, 1)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err)
	require.Zero(t, r.Stats.Pending)
	require.Positive(t, r.Stats.OK)
	require.NotEqual(t, sim.Never, r.SettleAt)
	res, err := Judge(r, JudgeOptionsFor(cfg))
	require.NoError(t, err)
	require.NotEmpty(t, res)
	for _, x := range res {
		if !x.Idle {
			require.Equal(t, checker.Valid, x.Verdict, "%s", x)
		}
	}
}

// TestLivenessFailureHasNoSettlePhase: a run stopped by its event budget
// during the workload reports a liveness error and SettleAt = Never.
func TestLivenessFailureHasNoSettlePhase(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.MaxEvents = 2000
	c, err := New(cfg, 1)
	require.NoError(t, err)
	r, err := c.Run()
	var le *LivenessError
	require.ErrorAs(t, err, &le)
	require.Equal(t, uint64(1), le.Seed)
	require.Equal(t, sim.Never, r.SettleAt)
}

// TestTraceDoesNotChangeTheRun: tracing observes, it never perturbs.
func TestTraceDoesNotChangeTheRun(t *testing.T) {
	cfg := withFaults(t, DefaultConfig(), 2, "partition,crash,pause", 2*time.Second)
	c1, err := New(cfg, 2)
	require.NoError(t, err)
	r1, err := c1.Run()
	require.NoError(t, err)
	c2, err := New(cfg, 2)
	require.NoError(t, err)
	var lines []TraceLine
	c2.SetTrace(func(l TraceLine) { lines = append(lines, l) })
	r2, err := c2.Run()
	require.NoError(t, err)
	require.Equal(t, r1.TraceHash, r2.TraceHash)
	require.Greater(t, len(lines), 1000)
	var sawCrash, sawRecv, sawClient bool
	for i, l := range lines {
		if i > 0 {
			require.GreaterOrEqual(t, l.Time, lines[i-1].Time, "trace goes back in time at line %d", i)
		}
		s := l.String()
		sawCrash = sawCrash || strings.Contains(s, "pause") || strings.Contains(s, "cut link")
		sawRecv = sawRecv || strings.Contains(s, "recv ")
		if strings.HasPrefix(l.Event, "client ") {
			sawClient = true
			require.NotContains(t, l.Event, "#0 invoke c0 read \"\"", "client lines must show the recorded event")
			require.Regexp(t, `client \d+ #\d+ (invoke|ok|fail|info) c\d+ (read|write|delete|add) "`, l.Event)
		}
	}
	require.True(t, sawCrash && sawRecv && sawClient, "trace lacks fault/recv/client lines")
}
