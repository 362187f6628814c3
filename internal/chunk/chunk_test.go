package chunk

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestTakeIsFreshAndApart: whatever the chunk size and the requests, each
// slice Take returns has the length asked for and no room beyond it, starts
// zeroed, and is its own memory: filling one and appending to it changes
// no other; Copy copies.
func TestTakeIsFreshAndApart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := Chunks[int]{Size: rapid.SampledFrom([]int{0, 1, 4, 16, 64}).Draw(t, "size")}
		n := rapid.IntRange(1, 40).Draw(t, "takes")
		got := make([][]int, n)
		for i := range n {
			k := rapid.IntRange(0, 20).Draw(t, "n")
			if rapid.Bool().Draw(t, "copy") {
				src := make([]int, k)
				for j := range src {
					src[j] = -j - 1
				}
				got[i] = c.Copy(src)
				require.Equal(t, src, got[i])
			} else {
				got[i] = c.Take(k)
				require.Equal(t, make([]int, k), got[i], "fresh memory is zeroed")
			}
			require.NotNil(t, got[i])
			require.Len(t, got[i], k)
			require.Equal(t, k, cap(got[i]), "no room past the length")
			for j := range got[i] {
				got[i][j] = i
			}
			_ = append(got[i], -100)
		}
		for i := range n {
			for j, v := range got[i] {
				require.Equal(t, i, v, "slice %d element %d was overwritten by another slice", i, j)
			}
		}
	})
}
