package kv

import (
	"math"
	"slices"

	"github.com/faultline-sim/faultline/ring"
)

// span is a closed interval [lo, hi] of hash positions, lo <= hi.
type span struct{ lo, hi uint64 }

// arcSpans returns arc a as one or two closed, non-wrapping intervals.
func arcSpans(a ring.Arc) []span {
	switch {
	case a.Start == a.End:
		return []span{{0, math.MaxUint64}}
	case a.Start < a.End:
		return []span{{a.Start + 1, a.End}}
	case a.Start == math.MaxUint64:
		return []span{{0, a.End}}
	}
	return []span{{a.Start + 1, math.MaxUint64}, {0, a.End}}
}

// arcSet is a union of arcs kept as sorted, disjoint, non-adjacent closed
// intervals.
type arcSet struct {
	spans []span
}

// add adds an arc to the set.
func (s *arcSet) add(a ring.Arc) {
	for _, n := range arcSpans(a) {
		s.addSpan(n)
	}
}

func (s *arcSet) addSpan(n span) {
	out := make([]span, 0, len(s.spans)+1)
	for _, x := range s.spans {
		switch {
		case x.hi < n.lo && x.hi+1 < n.lo: // entirely before, not adjacent
			out = append(out, x)
		case n.hi < x.lo && n.hi+1 < x.lo: // entirely after, not adjacent
			out = append(out, x)
		default: // overlapping or adjacent: absorb
			n.lo, n.hi = min(n.lo, x.lo), max(n.hi, x.hi)
		}
	}
	out = append(out, n)
	slices.SortFunc(out, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	s.spans = out
}

// covers reports whether every hash of the arc is in the set.
func (s *arcSet) covers(a ring.Arc) bool {
	for _, n := range arcSpans(a) {
		ok := false
		for _, x := range s.spans {
			if x.lo <= n.lo && n.hi <= x.hi {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// remove takes every hash of the arc out of the set.
func (s *arcSet) remove(a ring.Arc) {
	for _, n := range arcSpans(a) {
		out := make([]span, 0, len(s.spans)+1)
		for _, x := range s.spans {
			if x.hi < n.lo || n.hi < x.lo {
				out = append(out, x) // disjoint
				continue
			}
			if x.lo < n.lo {
				out = append(out, span{x.lo, n.lo - 1})
			}
			if n.hi < x.hi {
				out = append(out, span{n.hi + 1, x.hi})
			}
		}
		s.spans = out
	}
}

// overlaps reports whether some hash of the arc is in the set.
func (s *arcSet) overlaps(a ring.Arc) bool {
	for _, n := range arcSpans(a) {
		for _, x := range s.spans {
			if x.lo <= n.hi && n.lo <= x.hi {
				return true
			}
		}
	}
	return false
}
