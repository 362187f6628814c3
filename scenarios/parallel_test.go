package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParallelRunsEachOnceAndCountsCompletions: every index runs exactly
// once whatever the parallelism, and finished sees done = 1..n in order.
func TestParallelRunsEachOnceAndCountsCompletions(t *testing.T) {
	for _, p := range []int{0, 1, 3, 100} {
		const n = 50
		ran := make([]int, n)
		var dones []int
		Parallel(n, p, func(i int) { ran[i]++ }, func(i, done int) {
			require.Equal(t, 1, ran[i], "finished before or without its run")
			dones = append(dones, done)
		})
		for i, c := range ran {
			require.Equal(t, 1, c, "parallel=%d index %d", p, i)
		}
		require.Len(t, dones, n)
		for k, d := range dones {
			require.Equal(t, k+1, d)
		}
	}
	Parallel(0, 4, func(int) { t.Fatal("nothing to run") }, nil)
}
