package cluster_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
	"github.com/faultline-sim/faultline/sim"
)

// withFaults returns cfg with a nemesis schedule of the given mix, drawn
// from the seed's "nemesis" stream.
func withFaults(t testing.TB, cfg scenarios.Config, seed uint64, mix string, d time.Duration) scenarios.Config {
	t.Helper()
	m, err := nemesis.ParseMix(mix)
	require.NoError(t, err)
	opts := nemesis.GenOptions{
		Nodes: members(cfg.Nodes), Mix: m, Duration: d,
		Interval: 250 * time.Millisecond, FaultDuration: 300 * time.Millisecond,
		MaxSkew: 2 * time.Second, MaxDelay: 50 * time.Millisecond, MinMembers: cfg.KV.N,
	}
	s, err := nemesis.Generate(sim.NewRNG(seed).Fork("nemesis"), opts)
	require.NoError(t, err)
	cfg.Nemesis = s
	return cfg
}

func run(t testing.TB, cfg scenarios.Config, seed uint64) (*cluster.Result, map[string]checker.Result) {
	t.Helper()
	c, err := cluster.New(cfg.Cluster(), seed)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err, "seed %d", seed)
	res, err := cluster.Judge(r, scenarios.JudgeOptionsFor(cfg))
	require.NoError(t, err)
	out := map[string]checker.Result{}
	for _, x := range res {
		out[x.Checker] = x
	}
	return r, out
}

func verdicts(m map[string]checker.Result) string {
	return fmt.Sprintf("lin=%s lost=%s dur=%s conv=%s", m["linearizable"].Verdict, m["lost-writes"].Verdict, m["durability"].Verdict, m["convergence"].Verdict)
}

// TestStrictQuorumBlockingRepairIsLinearizable: W+R>N, blocking read
// repair, synced replicas and synchronised clocks stay linearizable under
// partitions and crashes (docs/design.md §6, row 1).
func TestStrictQuorumBlockingRepairIsLinearizable(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		cfg := withFaults(t, scenarios.DefaultConfig(), seed, "partition,crash", 2*time.Second)
		cfg.WorkloadConfig.Ops = 1500
		r, m := run(t, cfg, seed)
		require.Positive(t, len(cfg.Nemesis), "the schedule must inject faults")
		require.Equal(t, checker.Valid, m["linearizable"].Verdict, "seed %d: %s", seed, m["linearizable"])
		require.Equal(t, checker.Valid, m["lost-writes"].Verdict, "seed %d: %s", seed, m["lost-writes"])
		require.Equal(t, checker.Valid, m["durability"].Verdict, "seed %d: %s", seed, m["durability"])
		t.Logf("seed %d: ok=%d fail=%d info=%d faults=%d %s", seed, r.Stats.OK, r.Stats.Fail, r.Stats.Info, cfg.Nemesis.Faults(), verdicts(m))
	}
}

// TestSloppyQuorumsWithoutOverlapAreNotLinearizable: W+R<=N gives stale
// reads that the linearizability checker must find (§6, row 3).
func TestWeakQuorumIsNotLinearizable(t *testing.T) {
	found := 0
	for seed := uint64(1); seed <= 6; seed++ {
		cfg := withFaults(t, scenarios.DefaultConfig(), seed, "partition", 2*time.Second)
		cfg.KV.W, cfg.KV.R = 1, 1
		cfg.KV.ReadRepair = kv.RepairOff
		cfg.WorkloadConfig.Ops = 1500
		_, m := run(t, cfg, seed)
		t.Logf("seed %d: %s", seed, verdicts(m))
		if m["linearizable"].Verdict == checker.Invalid {
			found++
		}
	}
	require.Positive(t, found, "W=R=1 under partitions must produce a stale read in some seed")
}

// TestLWWSetLosesElements: concurrent read-modify-write of a set under LWW
// loses acknowledged elements (§6: Jepsen measured 71% on Riak).
func TestLWWSetLosesElements(t *testing.T) {
	cfg := withFaults(t, scenarios.DefaultConfig(), 3, "partition", 2*time.Second)
	cfg.Workload = "set"
	cfg.WorkloadConfig.Keys = 1
	cfg.WorkloadConfig.ReadRatio = 0
	cfg.WorkloadConfig.Ops = 1000
	_, m := run(t, cfg, 3)
	lost := m["lost-writes"]
	require.Equal(t, checker.Invalid, lost.Verdict, "%s", lost)
	require.Positive(t, lost.Count)
	t.Logf("%s", lost)
}

// TestVectorClockSetLosesNothing: the same workload with vector clocks,
// siblings and a union merge loses no acknowledged element.
func TestVectorClockSetLosesNothing(t *testing.T) {
	cfg := withFaults(t, scenarios.DefaultConfig(), 3, "partition", 2*time.Second)
	cfg.Workload = "set"
	cfg.KV.Resolve = kv.VectorClock
	cfg.WorkloadConfig.Keys = 1
	cfg.WorkloadConfig.ReadRatio = 0
	cfg.WorkloadConfig.Ops = 1000
	r, m := run(t, cfg, 3)
	lost := m["lost-writes"]
	require.Equal(t, checker.Valid, lost.Verdict, "%s", lost)
	require.Positive(t, r.Stats.OK)
	t.Logf("%s ok=%d", lost, r.Stats.OK)
}

// TestDeterminismCluster: the same seed gives the same trace hash and the
// same history, across runs and GOMAXPROCS values; another seed differs.
func TestDeterminismCluster(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for seed := uint64(1); seed <= 3; seed++ {
		cfg := withFaults(t, scenarios.DefaultConfig(), seed, "all", 2*time.Second)
		cfg.Spares = 1
		cfg = withFaults(t, cfg, seed, "partition,crash,pause,skew,loss", 2*time.Second)
		var hashes []uint64
		var hists []string
		for _, procs := range []int{1, 2, 2} {
			runtime.GOMAXPROCS(procs)
			c, err := cluster.New(cfg.Cluster(), seed)
			require.NoError(t, err)
			r, err := c.Run()
			require.NoError(t, err)
			hashes = append(hashes, r.TraceHash)
			hists = append(hists, fmt.Sprint(r.History()))
		}
		assert.Equal(t, hashes[0], hashes[1], "seed %d: GOMAXPROCS changed the trace", seed)
		assert.Equal(t, hashes[1], hashes[2], "seed %d: two runs differ", seed)
		assert.Equal(t, hists[0], hists[2], "seed %d: histories differ", seed)
		c, err := cluster.New(cfg.Cluster(), seed+100)
		require.NoError(t, err)
		other, err := c.Run()
		require.NoError(t, err)
		assert.NotEqual(t, hashes[0], other.TraceHash, "seed %d: another seed gave the same trace", seed)
	}
}

// TestBadKVConfig: kv policies that cannot work are refused before the run.
func TestBadKVConfig(t *testing.T) {
	for name, mut := range map[string]func(*scenarios.Config){
		"N>nodes":   func(c *scenarios.Config) { c.Nodes = 2 },
		"W>N":       func(c *scenarios.Config) { c.KV.W = 4 },
		"no vnodes": func(c *scenarios.Config) { c.KV.VNodes = 0 },
	} {
		cfg := scenarios.DefaultConfig()
		mut(&cfg)
		err := cfg.Validate()
		require.Error(t, err, name)
		require.ErrorIs(t, err, cluster.ErrBadConfig, name)
		t.Logf("%s: %v", name, err)
	}
}

// members returns the ids n0..n(count-1).
func members(count int) []sim.NodeID {
	ids := make([]sim.NodeID, count)
	for i := range ids {
		ids[i] = sim.NodeID(i)
	}
	return ids
}
