package checker

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestEntryOrderIsTheSortedOrder: the merge of sorted calls with sorted
// returns gives exactly the order a full sort gives, with ties at one time
// (calls first, then by operation index) and info returns at infinity,
// and so does the fallback for calls out of order.
func TestEntryOrderIsTheSortedOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 40).Draw(t, "n")
		sorted := rapid.Bool().Draw(t, "calls in order")
		ops := make([]sop, n)
		call := int64(0)
		for i := range ops {
			if sorted {
				call += int64(rapid.IntRange(0, 3).Draw(t, "gap"))
			} else {
				call = int64(rapid.IntRange(0, 30).Draw(t, "call"))
			}
			ret := call + int64(rapid.IntRange(0, 10).Draw(t, "latency"))
			if rapid.IntRange(0, 5).Draw(t, "info") == 0 {
				ret = math.MaxInt64
			}
			ops[i] = sop{call: call, ret: ret}
		}
		want := make([]point, 0, 2*n)
		for i, o := range ops {
			want = append(want, point{o.call, int64(i)}, point{o.ret, 1<<32 | int64(i)})
		}
		slices.SortFunc(want, comparePoints)
		require.Equal(t, want, entryOrder(ops))
	})
}
