package cluster_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/scenarios"
)

// kvNode is everything kv's adapter implements.
type kvNode interface {
	node.Node
	node.Member
	node.Snapshotter
	node.Counted
	node.Describer
	node.Settler
	node.Sleeper
}

// countedNode counts the Tick calls and the ticks handed over with
// SkipTicks of the node it wraps.
type countedNode struct {
	kvNode
	ticks, skipped *int64
}

func (n countedNode) Tick() {
	*n.ticks++
	n.kvNode.Tick()
}

func (n countedNode) SkipTicks(k int64) {
	*n.skipped += k
	n.kvNode.SkipTicks(k)
}

// sparedRun is what a run did, for comparing a run with spared ticks and
// one with every node ticked every tick.
type sparedRun struct {
	result         *cluster.Result
	err            string
	syncs          map[string]uint64 // per node id: disk syncs, unsynced keys
	ticks, skipped int64
}

func runSpared(t *testing.T, spec scenarios.Spec, seed uint64, tickAll bool) sparedRun {
	t.Helper()
	cfg, err := spec.Config(seed)
	require.NoError(t, err)
	cc := cfg.Cluster()
	out := sparedRun{syncs: map[string]uint64{}}
	disks := map[string]*node.MemDisk{}
	inner := cc.Node
	cc.Node = func(env node.Env) (node.Node, error) {
		n, err := inner(env)
		if err != nil {
			return n, err
		}
		disks[env.ID.String()] = env.Disk.(*node.MemDisk)
		return countedNode{kvNode: n.(kvNode), ticks: &out.ticks, skipped: &out.skipped}, nil
	}
	c, err := cluster.New(cc, seed)
	require.NoError(t, err)
	if tickAll {
		c.TickEveryNode()
	}
	out.result, err = c.Run()
	if err != nil {
		out.err = err.Error()
	}
	for id, d := range disks {
		out.syncs[id+" syncs"], out.syncs[id+" unsynced"] = d.Syncs(), uint64(d.Unsynced())
	}
	return out
}

// TestSparedTicksKeepEveryScenario: every built-in scenario (seed 1; the
// trace hashes of scripts/trace-hashes.sh cover more) runs the same
// with kv's idle ticks spared as with every node ticked every tick: trace
// hash, history, counters, and every disk's syncs. Ticks are spared, and
// the ticks called and handed over add up to the ticks of the other run.
func TestSparedTicksKeepEveryScenario(t *testing.T) {
	for _, spec := range scenarios.List() {
		t.Run(spec.Name, func(t *testing.T) {
			t.Parallel()
			const seed = 1
			all := runSpared(t, spec, seed, true)
			spared := runSpared(t, spec, seed, false)
			what := fmt.Sprintf("%s seed %d", spec.Name, seed)
			require.Equal(t, all.err, spared.err, what)
			require.Equal(t, all.result.TraceHash, spared.result.TraceHash, what)
			require.Equal(t, all.result.Stats, spared.result.Stats, what)
			require.Equal(t, all.result.Ops, spared.result.Ops, what)
			require.Equal(t, all.syncs, spared.syncs, what)
			require.Zero(t, all.skipped, what)
			require.Positive(t, spared.skipped, what)
			require.Equal(t, all.ticks, spared.ticks+spared.skipped, what)
		})
	}
}
