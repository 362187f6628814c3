package checker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/history"
)

// searchOne searches a one-key history with the cache compacted once it
// holds compactFrom entries, and returns the outcome, the steps it took and
// the most entries its cache held at once.
func searchOne(t *testing.T, ops []history.Op, compactFrom int) (searchOutcome, int64, int) {
	t.Helper()
	old := minCompact
	minCompact = compactFrom
	defer func() { minCompact = old }()
	raw := make([]*history.Op, len(ops))
	for i := range ops {
		raw[i] = &ops[i]
	}
	part, _ := toSearchKey(raw, nil, nil, ModelRegister, nil)
	b := &budget{maxSteps: 1 << 40, maxMem: 1 << 40}
	b.begin(b.maxSteps)
	sr := newSearcher(part, initState(part, LinearOptions{}), step, true)
	most := 0
	for {
		// Run in rounds of 1000 steps to watch the cache's size.
		b.begin(1000)
		r := sr.run(b)
		most = max(most, len(sr.entries))
		if r.outcome != searchUndecided || b.exhausted != "local" {
			require.Contains(t, []string{"", "local"}, b.exhausted)
			steps := b.steps
			sr.release(b)
			assert.Zero(t, b.mem, "the memory counted comes back when the search is released")
			return r.outcome, steps, most
		}
	}
}

// TestCacheCompactionKeepsTheSearch: a long key with 10 concurrent clients
// searched with the cache compacted every few hundred entries takes exactly
// the steps and gives exactly the outcome of the uncompacted search (what
// compaction forgets lies far behind the frontier and is never reached
// again), while the cache stays bounded instead of growing with the key: a
// key twice as long needs twice the entries uncompacted, about the same
// compacted.
func TestCacheCompactionKeepsTheSearch(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			var most [2][2]int // [length][compacted]
			for l, n := range []int{4000, 8000} {
				ops := generate(genConfig{ops: n, clients: 10, keys: 1, seed: seed})
				outFull, stepsFull, mostFull := searchOne(t, ops, 1<<30)
				outCompact, stepsCompact, mostCompact := searchOne(t, ops, 256)
				assert.Equal(t, searchOK, outFull)
				assert.Equal(t, outFull, outCompact)
				assert.Equal(t, stepsFull, stepsCompact)
				most[l] = [2]int{mostFull, mostCompact}
			}
			t.Logf("most entries held, 4000 then 8000 operations: %v uncompacted, %v compacted", []int{most[0][0], most[1][0]}, []int{most[0][1], most[1][1]})
			assert.Greater(t, most[1][0], most[0][0]*17/10, "uncompacted, the cache grows with the key")
			assert.Less(t, most[1][1], most[0][1]*13/10, "compacted, it does not")
		})
	}
}

// TestCacheCompactionOnAnInvalidKey: a read in the middle of a long key
// returns a value overwritten long before, so the search backtracks; with
// the cache compacted it still finds the key illegal.
func TestCacheCompactionOnAnInvalidKey(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ops := generate(genConfig{ops: 3000, clients: 10, keys: 1, seed: seed})
			// The first ok write's value, read by an ok read in the middle.
			first := ""
			for _, o := range ops {
				if o.Kind == history.Write && o.Outcome == history.OK {
					first = o.Value
					break
				}
			}
			for i := len(ops) / 2; i < len(ops); i++ {
				if ops[i].Kind == history.Read && ops[i].Outcome == history.OK && !ops[i].NotFound && ops[i].Values[0] != first {
					ops[i].Values = []string{first}
					break
				}
			}
			outFull, stepsFull, _ := searchOne(t, ops, 1<<30)
			outCompact, stepsCompact, _ := searchOne(t, ops, 256)
			assert.Equal(t, searchIllegal, outFull)
			assert.Equal(t, outFull, outCompact)
			t.Logf("steps: %d uncompacted, %d compacted", stepsFull, stepsCompact)
		})
	}
}
