package cluster

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// selectNth finds what sorting would put at k, leaving nothing greater
// before it and nothing smaller after it; percentiles agrees with the
// sorted slice's n/2, n*99/100 and last element. Latencies repeat a lot
// (drawn from a few values) as well as not at all.
func TestPercentilesAreTheSortedOnes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		span := rapid.SampledFrom([]int64{3, 50, 1 << 40}).Draw(t, "span")
		lat := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) time.Duration {
			return time.Duration(rapid.Int64Range(0, span).Draw(t, "d"))
		}), 0, 300).Draw(t, "latencies")
		sorted := slices.Sorted(slices.Values(lat))
		if len(lat) > 0 {
			k := rapid.IntRange(0, len(lat)-1).Draw(t, "k")
			s := slices.Clone(lat)
			if got := selectNth(s, k); got != sorted[k] {
				t.Fatalf("selectNth(%d) = %v, want %v", k, got, sorted[k])
			}
			for i := range s {
				if i < k && s[i] > s[k] || i > k && s[i] < s[k] {
					t.Fatalf("s[%d] = %v on the wrong side of s[%d] = %v", i, s[i], k, s[k])
				}
			}
			if !slices.Equal(slices.Sorted(slices.Values(s)), sorted) {
				t.Fatal("selectNth changed the values, not only their order")
			}
		}
		p50, p99, mx := percentiles(slices.Clone(lat))
		var w50, w99, wmax time.Duration
		if n := len(sorted); n > 0 {
			w50, w99, wmax = sorted[n/2], sorted[min(n-1, n*99/100)], sorted[n-1]
		}
		if p50 != w50 || p99 != w99 || mx != wmax {
			t.Fatalf("percentiles = %v %v %v, want %v %v %v", p50, p99, mx, w50, w99, wmax)
		}
	})
}
