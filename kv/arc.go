package kv

import (
	"math"
	"slices"
)

// arc is a ring arc (start, end] of hash positions, wrapping past 2^64-1
// when start > end; start == end is the whole ring (as in ring.Range).
type arc struct {
	start, end uint64
}

// contains reports whether hash h lies in the arc.
func (a arc) contains(h uint64) bool {
	switch {
	case a.start < a.end:
		return a.start < h && h <= a.end
	case a.start > a.end:
		return h > a.start || h <= a.end
	}
	return true
}

// overlaps reports whether two arcs share a hash: every arc contains its
// end, and two arcs intersect exactly when one contains the other's end.
func (a arc) overlaps(b arc) bool { return a.contains(b.end) || b.contains(a.end) }

// span is a closed interval [lo, hi] of hash positions, lo <= hi.
type span struct{ lo, hi uint64 }

// spans returns the arc as one or two closed, non-wrapping intervals.
func (a arc) spans() []span {
	switch {
	case a.start == a.end:
		return []span{{0, math.MaxUint64}}
	case a.start < a.end:
		return []span{{a.start + 1, a.end}}
	case a.start == math.MaxUint64:
		return []span{{0, a.end}}
	}
	return []span{{a.start + 1, math.MaxUint64}, {0, a.end}}
}

// arcSet is a union of arcs kept as sorted, disjoint, non-adjacent closed
// intervals.
type arcSet struct {
	spans []span
}

// add adds an arc to the set.
func (s *arcSet) add(a arc) {
	for _, n := range a.spans() {
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
func (s *arcSet) covers(a arc) bool {
	for _, n := range a.spans() {
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
func (s *arcSet) remove(a arc) {
	for _, n := range a.spans() {
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
func (s *arcSet) overlaps(a arc) bool {
	for _, n := range a.spans() {
		for _, x := range s.spans {
			if x.lo <= n.hi && n.lo <= x.hi {
				return true
			}
		}
	}
	return false
}
