package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/scenarios"
	"github.com/faultline-sim/faultline/sim"
)

const churnSchedule = `
100ms join n5
400ms leave n2
700ms join n6
1s leave n0
`

// TestJoinAndLeaveUnderLoadLoseNothing: with range handoff, nodes that join
// and leave while clients write lose no acknowledged write and the history
// stays linearizable (strict quorum, blocking read repair, no other fault).
func TestJoinAndLeaveUnderLoadLoseNothing(t *testing.T) {
	for _, mode := range []kv.MembershipMode{kv.MembershipOracle, kv.MembershipGossip} {
		for seed := uint64(1); seed <= 4; seed++ {
			cfg := scenarios.DefaultConfig()
			cfg.Spares = 2
			cfg.KV.Membership = mode
			cfg.KV.RangeHandoff = true
			cfg.WorkloadConfig.Ops = 2000
			s, err := nemesis.Parse(churnSchedule)
			require.NoError(t, err)
			cfg.Nemesis = s
			r, m := run(t, cfg, seed)
			require.Empty(t, r.TargetErrors)
			require.Equal(t, checker.Valid, m["lost-writes"].Verdict, "%v seed %d: %s", mode, seed, m["lost-writes"])
			require.Equal(t, checker.Valid, m["linearizable"].Verdict, "%v seed %d: %s", mode, seed, m["linearizable"])
			require.Positive(t, r.Stats.Counter(kv.CounterHandoffKeysSent), "ranges must have been streamed")
			t.Logf("%v seed %d: ok=%d fail=%d info=%d handoff keys=%d %s", mode, seed, r.Stats.OK, r.Stats.Fail, r.Stats.Info, r.Stats.Counter(kv.CounterHandoffKeysSent), verdicts(m))
		}
	}
}

// TestAntiEntropyOffDivergesOnConverges: writes during partitions with
// hinted handoff and read repair off leave replicas divergent after the
// heal; Merkle anti-entropy makes them converge, with traffic reported.
func TestAntiEntropyOffDivergesOnConverges(t *testing.T) {
	base := scenarios.DefaultConfig()
	base.KV.HintedHandoff = false
	base.KV.ReadRepair = kv.RepairOff
	base.WorkloadConfig.Keys = 50
	base.WorkloadConfig.Clients = 10
	base.WorkloadConfig.ReadRatio = 0.2
	base.WorkloadConfig.Ops = 1500
	off := withFaults(t, base, 7, "partition", 2*time.Second)
	r, m := run(t, off, 7)
	require.Equal(t, checker.Invalid, m["convergence"].Verdict, "%s", m["convergence"])
	require.Zero(t, r.Stats.Counter(kv.CounterAntiEntropyMessages), "off must really mean off")
	divergent := m["convergence"].Count

	on := off
	on.KV.AntiEntropyIntervalTicks = 20
	r, m = run(t, on, 7)
	require.Equal(t, checker.Valid, m["convergence"].Verdict, "%s", m["convergence"])
	require.Positive(t, r.Stats.Counter(kv.CounterAntiEntropyKeysRepaired))
	t.Logf("off: %d divergent keys; on: converged, %d exchanges, %d messages, %d bytes, %d keys repaired",
		divergent, r.Stats.Counter(kv.CounterAntiEntropyExchanges), r.Stats.Counter(kv.CounterAntiEntropyMessages), r.Stats.Counter(kv.CounterAntiEntropyTreeBytes)+r.Stats.Counter(kv.CounterAntiEntropyRepairBytes), r.Stats.Counter(kv.CounterAntiEntropyKeysRepaired))
}

// TestVectorClockRejoinLosesNothing: a node id that leaves and joins again
// must not reissue the dots of its earlier membership, or vector clocks
// treat its new writes as already seen and acknowledged writes vanish.
func TestVectorClockRejoinLosesNothing(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		cfg := scenarios.DefaultConfig()
		cfg.KV.Resolve = kv.VectorClock
		cfg.Workload = "kv"
		cfg.WorkloadConfig.Ops = 2000
		s, err := nemesis.Parse("100ms leave n2\n400ms join n2\n700ms leave n2\n1s join n2\n")
		require.NoError(t, err)
		cfg.Nemesis = s
		r, m := run(t, cfg, seed)
		require.Empty(t, r.TargetErrors)
		require.Equal(t, checker.Valid, m["lost-writes"].Verdict, "seed %d: %s", seed, m["lost-writes"])
		require.Equal(t, checker.Valid, m["siblings"].Verdict, "seed %d: %s", seed, m["siblings"])
	}
}

// TestGossipRejoinRunsToCompletion: under gossip membership a node id that
// left rejoins as a new life at a higher incarnation (left is final only
// within an incarnation): the run finishes without target errors, every
// running member's view holds the node alive with its ring tokens, and no
// acknowledged write is lost.
func TestGossipRejoinRunsToCompletion(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		cfg := scenarios.DefaultConfig()
		cfg.KV.Membership = kv.MembershipGossip
		cfg.Workload = "kv"
		cfg.WorkloadConfig.Ops = 1500
		s, err := nemesis.Parse("100ms leave n2\n400ms join n2\n700ms leave n2\n1s join n2\n")
		require.NoError(t, err)
		cfg.Nemesis = s
		cc := cfg.Cluster()
		latest := map[sim.NodeID]*kv.Node{} // the last node started per id
		inner := cc.Node
		cc.Node = func(env node.Env) (node.Node, error) {
			n, err := inner(env)
			if err == nil {
				latest[env.ID], _ = kv.Unwrap(n)
			}
			return n, err
		}
		c, err := cluster.New(cc, seed)
		require.NoError(t, err)
		r, err := c.Run()
		require.NoError(t, err, "seed %d: the run must finish (no liveness failure)", seed)
		require.Empty(t, r.TargetErrors, "seed %d", seed)
		res, err := cluster.Judge(r, scenarios.JudgeOptionsFor(cfg))
		require.NoError(t, err)
		judged := false
		for _, x := range res {
			if x.Checker == "lost-writes" {
				require.Equal(t, checker.Valid, x.Verdict, "seed %d: %s", seed, x)
				judged = true
			}
		}
		require.True(t, judged, "seed %d: lost-writes must have judged the run", seed)
		var running []sim.NodeID // the members running at the end
		for _, snap := range r.Nodes {
			running = append(running, snap.Node)
		}
		require.Contains(t, running, sim.NodeID(2), "seed %d: n2 is a running member", seed)
		var lastLife uint64
		for _, e := range latest[2].View() {
			if e.ID == 2 {
				lastLife = e.Incarnation
			}
		}
		for _, id := range running {
			n := latest[id]
			found := false
			for _, e := range n.View() {
				if e.ID == 2 {
					found = true
					require.Equal(t, membership.Alive, e.Status, "seed %d: n2 in %v's view", seed, id)
					require.Equal(t, lastLife, e.Incarnation, "seed %d: %v's view holds n2's latest life", seed, id)
				}
			}
			require.True(t, found, "seed %d: %v's view lacks n2", seed, id)
			require.True(t, n.Ring().Contains(2), "seed %d: n2 is on %v's ring", seed, id)
		}
		t.Logf("seed %d: ok=%d fail=%d info=%d; n2 back at membership incarnation %d", seed, r.Stats.OK, r.Stats.Fail, r.Stats.Info, lastLife)
	}
}

// TestSettleUntilTheAntiEntropySweepIsDone: with anti-entropy every 100 ms
// (a sweep of every range with every replica takes seconds) the settle
// phase lasts until each node has compared every range since the heal, and
// then the replicas have converged; a settle limit shorter than the sweep
// is a liveness failure naming the sweep.
func TestSettleUntilTheAntiEntropySweepIsDone(t *testing.T) {
	base := scenarios.DefaultConfig()
	base.KV.HintedHandoff = false
	base.KV.ReadRepair = kv.RepairOff
	base.KV.AntiEntropyIntervalTicks = 100
	base.KV.VNodes = 4
	base.WorkloadConfig.Keys = 50
	base = withFaults(t, base, 3, "partition", 500*time.Millisecond)
	r, m := run(t, base, 3)
	require.Equal(t, checker.Valid, m["convergence"].Verdict, m["convergence"].Explanation)
	require.Greater(t, time.Duration(r.QuiescentAt-r.SettleAt), base.SettleTime, "the sweep outlasts SettleTime")

	short := base
	short.SettleTime, short.SettleLimit = 500*time.Millisecond, time.Second
	c, err := cluster.New(short.Cluster(), 3)
	require.NoError(t, err)
	_, err = c.Run()
	var le *cluster.LivenessError
	require.ErrorAs(t, err, &le)
	require.Contains(t, le.Reason, "an anti-entropy sweep since the heal")
}
