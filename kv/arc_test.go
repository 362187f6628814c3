package kv

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/ring"
)

// TestPropArcSetMatchesArcs checks arcSet against ring.Arc on a small ring:
// arc ends are among 128 points p<<58 + off + d (d in {0, 1}; with off =
// 2^58-1 the last point wraps to 0), so every arc is a union of the unit
// arcs between neighbouring points, each named by its end. After random adds
// and removes, a point is in the set exactly when the last arc holding it
// was added, and covers and overlaps agree with that.
func TestPropArcSetMatchesArcs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		off := rapid.SampledFrom([]uint64{0, 1<<58 - 1}).Draw(t, "off")
		var pts [128]uint64
		for i := range pts {
			pts[i] = uint64(i/2)<<58 + off + uint64(i%2)
		}
		genArc := func(label string) ring.Arc {
			return ring.Arc{Start: pts[rapid.IntRange(0, 127).Draw(t, label+".s")], End: pts[rapid.IntRange(0, 127).Draw(t, label+".e")]}
		}
		var s arcSet
		var in [128]bool
		for range rapid.IntRange(0, 8).Draw(t, "ops") {
			a, add := genArc("op"), rapid.Bool().Draw(t, "add")
			if add {
				s.add(a)
			} else {
				s.remove(a)
			}
			for p := range in {
				if a.Contains(pts[p]) {
					in[p] = add
				}
			}
		}
		for i := 1; i < len(s.spans); i++ {
			require.Less(t, s.spans[i-1].hi+1, s.spans[i].lo, "sorted, disjoint, not adjacent: %v", s.spans)
		}
		for p := range in {
			unit := ring.Arc{Start: pts[(p+len(pts)-1)%len(pts)], End: pts[p]}
			require.Equal(t, in[p], s.covers(unit), "covers %v", unit)
			require.Equal(t, in[p], s.overlaps(unit), "overlaps %v", unit)
		}
		q := genArc("q")
		covers, overlaps := true, false
		for p := range in {
			if q.Contains(pts[p]) {
				covers = covers && in[p]
				overlaps = overlaps || in[p]
			}
		}
		require.Equal(t, covers, s.covers(q), "covers %v", q)
		require.Equal(t, overlaps, s.overlaps(q), "overlaps %v", q)
	})
}
