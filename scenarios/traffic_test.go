package scenarios

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// exchange runs a whole Merkle exchange of a's range against b and
// returns its bytes (requests and responses, exact msgpack sizes) and the
// differing keys it found.
func exchange(t require.TestingT, a, b *merkle.Tree) (int, int) {
	s := merkle.NewSession(a, 7)
	q := s.Start()
	for {
		p, err := b.Respond(q)
		require.NoError(t, err)
		next, more, err := s.Step(p)
		require.NoError(t, err)
		if !more {
			break
		}
		q = next
	}
	require.True(t, s.Done())
	return s.Stats().Bytes, len(s.Diffs())
}

// TestRepairTrafficBoundHoldsForRealExchanges: the bound is an upper bound
// on what kv/merkle's exchange protocol really sends, for any tree shape,
// data and divergence: an exchange of equal trees costs at most Floor, and
// one that finds d differing keys at most Floor + d·PerKey.
func TestRepairTrafficBoundHoldsForRealExchanges(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := merkle.Config{Depth: rapid.IntRange(1, 4).Draw(rt, "depth"), Fanout: rapid.IntRange(2, 32).Draw(rt, "fanout")}
		if cfg.Validate() != nil {
			rt.Skip("too many leaves")
		}
		full := merkle.Range{}
		keys := rapid.IntRange(0, 300).Draw(rt, "keys")
		var same, other []merkle.Entry
		maxKey := 0
		for i := range keys {
			k := fmt.Sprintf("key-%d", i)
			maxKey = max(maxKey, len(k))
			same = append(same, merkle.Entry{Key: k, Version: uint64(i)})
			switch rapid.IntRange(0, 9).Draw(rt, "diverge") {
			case 0: // the other replica missed the key
			case 1: // the other replica holds another version
				other = append(other, merkle.Entry{Key: k, Version: uint64(i) + 1<<40})
			default:
				other = append(other, same[i])
			}
		}
		a, err := merkle.Build(cfg, full, same)
		require.NoError(rt, err)
		b, err := merkle.Build(cfg, full, other)
		require.NoError(rt, err)
		// Every key may share its leaf with every other: a bound that holds
		// whatever the occupancy.
		bound, err := RepairTrafficBound(cfg, maxKey, 0, 1, max(keys, 1))
		require.NoError(rt, err)
		bytes, diffs := exchange(rt, a, b)
		assert.LessOrEqual(rt, uint64(bytes), bound.Floor+uint64(diffs)*bound.PerKey, "%d diffs", diffs)
		if diffs == 0 {
			assert.LessOrEqual(rt, uint64(bytes), bound.Floor)
		} else {
			assert.Greater(rt, uint64(bytes), bound.Floor, "finding a difference costs more than the floor")
		}
	})
}

// TestRepairTrafficBoundShape: the bound grows with depth and fanout (the
// descent) and with the key and value sizes (the repair), never with the
// number of keys stored; bad input is an error.
func TestRepairTrafficBoundShape(t *testing.T) {
	small, err := RepairTrafficBound(merkle.Config{Depth: 3, Fanout: 8}, 5, 6, 1, 2)
	require.NoError(t, err)
	assert.Equal(t, uint64(118), small.Floor, "a root request and an equal reply, widest varints")
	deeper, err := RepairTrafficBound(merkle.Config{Depth: 4, Fanout: 8}, 5, 6, 1, 2)
	require.NoError(t, err)
	wider, err := RepairTrafficBound(merkle.Config{Depth: 3, Fanout: 16}, 5, 6, 1, 2)
	require.NoError(t, err)
	bigger, err := RepairTrafficBound(merkle.Config{Depth: 3, Fanout: 8}, 5, 1000, 1, 2)
	require.NoError(t, err)
	assert.Greater(t, deeper.PerKey, small.PerKey)
	assert.Greater(t, wider.PerKey, small.PerKey)
	assert.Equal(t, small.PerKey+2*994, bigger.PerKey, "the value travels both ways")
	assert.Equal(t, small.Floor, bigger.Floor, "an equal-roots exchange carries no data")

	_, err = RepairTrafficBound(merkle.Config{Depth: 0, Fanout: 8}, 5, 6, 1, 2)
	require.ErrorIs(t, err, merkle.ErrBadConfig)
	_, err = RepairTrafficBound(merkle.Config{Depth: 3, Fanout: 8}, 5, 6, 0, 2)
	require.ErrorContains(t, err, "versions=0")
}

// trafficResult is a hand-made anti-entropy run: 5 nodes of 4 vnodes
// (N=3: 12 ranges per node), each holding keys "k0".."k599" with 6-byte
// values, settled at 1 s.
func trafficResult() (Config, *cluster.Result) {
	cfg := DefaultConfig()
	cfg.KV.VNodes = 4
	cfg.KV.AntiEntropyIntervalTicks = 10
	r := &cluster.Result{SettleAt: sim.Time(time.Second)}
	for n := range cfg.Nodes {
		s := node.Snapshot{Node: sim.NodeID(n)}
		for k := range 600 {
			s.Keys = append(s.Keys, node.KeyState{Key: fmt.Sprintf("k%d", k), Versions: []node.Version{{ID: "1", Value: []byte("v-0001")}}})
		}
		r.Nodes = append(r.Nodes, s)
	}
	return cfg, r
}

// TestRepairTrafficJudge judges hand-made quiescent counters: traffic
// within the per-exchange floor plus the per-key descent is valid; an
// exchange that ships its range's data (traffic that grows with the data,
// not the divergence) is invalid, with the numbers; nothing to judge is
// unknown.
func TestRepairTrafficJudge(t *testing.T) {
	judge := func(ex, rep, bytes uint64) checker.Result {
		cfg, r := trafficResult()
		res, err := repairTraffic(cfg, r, trafficCounts{settled: true, exchanges: ex, keysRepaired: rep, bytes: bytes})
		require.NoError(t, err)
		assert.Equal(t, NameRepairTraffic, res.Checker)
		return res
	}
	b, err := RepairTrafficBound(merkle.Config{Depth: 3, Fanout: 8}, 4, 6, 1, 2)
	require.NoError(t, err)
	limit := func(ex, rep uint64) uint64 { return (ex+5)*b.Floor + (rep+5)*b.PerKey } // 5 nodes may straddle

	res := judge(1000, 50, limit(1000, 50))
	assert.Equal(t, checker.Valid, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, "(1000 exchanges + 5 straddling) × 118 B")
	assert.Contains(t, res.Explanation, "100% used")

	res = judge(1000, 0, 1000*b.Floor)
	assert.Equal(t, checker.Valid, res.Verdict, "equal replicas cost at most the floor: %s", res.Explanation)

	// 600 keys of ~10 B on 12 ranges per node: ~491 B per range replica.
	// An exchange that sends its range whole costs that much every time,
	// however few keys differ.
	res = judge(1000, 50, 1000*(b.Floor+491))
	assert.Equal(t, checker.Invalid, res.Verdict, res.Explanation)
	assert.Equal(t, 1, res.Count)
	assert.Contains(t, res.Explanation, "not proportional to the divergence")
	assert.Contains(t, res.Explanation, "609000 B of anti-entropy traffic in 1000 exchanges repairing 50 keys")
	assert.Contains(t, res.Explanation, "holds 491 B of data on average")

	res = judge(1000, 50, limit(1000, 50)+1)
	assert.Equal(t, checker.Invalid, res.Verdict, "one byte over is over")
	assert.Contains(t, res.Explanation, "1 B over the limit")

	res = judge(1000, 0, limit(1000, 0)+1)
	assert.Equal(t, checker.Invalid, res.Verdict, "descents that repair nothing are not proportional to anything")

	res = judge(0, 0, 0)
	assert.Equal(t, checker.Unknown, res.Verdict, "no exchange is not a pass")
	assert.Contains(t, res.Explanation, "no anti-entropy exchange ran")
	cfg, r := trafficResult()
	res, err = repairTraffic(cfg, r, trafficCounts{})
	require.NoError(t, err)
	assert.Equal(t, checker.Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, "never reached its settle phase")

	cfg.KV.MerkleFanout = 1
	_, err = repairTraffic(cfg, r, trafficCounts{settled: true, exchanges: 10, bytes: 10})
	require.ErrorIs(t, err, merkle.ErrBadConfig)
}

// TestRepairTrafficCheckOnARun: on a real anti-entropy run the check
// replays the run up to its settle phase and judges what follows: valid as
// it is, invalid once the run's counters carry a range's worth of data per
// quiescent exchange, and an error when the replay cannot be the run.
func TestRepairTrafficCheckOnARun(t *testing.T) {
	spec, err := Lookup("anti-entropy")
	require.NoError(t, err)
	o, err := RunSeed(spec, 2, RunOptions{})
	require.NoError(t, err)
	require.Equal(t, ClassOK, o.Class, o.Failure)
	check := RepairTrafficCheck()
	res, err := check.Judge(o.Config, o.Result)
	require.NoError(t, err)
	require.Equal(t, checker.Valid, res.Verdict, res.Explanation)
	q, err := quiescentTraffic(o.Config, o.Result)
	require.NoError(t, err)
	require.Positive(t, q.exchanges)
	assert.Positive(t, q.keysRepaired, "the last partition lasts until the workload ends: the settle phase repairs")
	assert.Less(t, q.keysRepaired, o.Result.Stats.Counter(kv.CounterAntiEntropyKeysRepaired), "the workload phase repaired keys too")

	bloated := *o.Result
	bloated.Stats.Counters = slices.Clone(bloated.Stats.Counters)
	for i, c := range bloated.Stats.Counters {
		if c.Name == kv.CounterAntiEntropyRepairBytes {
			bloated.Stats.Counters[i].Value += q.exchanges * 1000
		}
	}
	res, err = check.Judge(o.Config, &bloated)
	require.NoError(t, err)
	assert.Equal(t, checker.Invalid, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, "not proportional to the divergence")

	other := o.Config
	other.WorkloadConfig.Keys++
	_, err = check.Judge(other, o.Result)
	require.ErrorContains(t, err, "diverged from the run")
}
