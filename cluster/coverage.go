package cluster

import (
	"cmp"
	"slices"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// span is a half-open interval of virtual time [from, to).
type span struct{ from, to sim.Time }

// union merges spans into sorted disjoint spans, dropping empty ones. It
// works in place: the result shares in's storage, which it overwrites.
func union(in []span) []span {
	s := in[:0]
	for _, x := range in {
		if x.to > x.from {
			s = append(s, x)
		}
	}
	slices.SortFunc(s, func(a, b span) int {
		if c := cmp.Compare(a.from, b.from); c != 0 {
			return c
		}
		return cmp.Compare(a.to, b.to)
	})
	out := s[:0]
	for _, x := range s {
		if n := len(out); n > 0 && x.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, x.to)
			continue
		}
		out = append(out, x)
	}
	return out
}

func measure(s []span) sim.Time {
	var t sim.Time
	for _, x := range s {
		t += x.to - x.from
	}
	return t
}

// intersect returns the measure of the intersection of two sorted
// disjoint span lists.
func intersect(a, b []span) sim.Time {
	var t sim.Time
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].from, b[j].from), min(a[i].to, b[j].to)
		if hi > lo {
			t += hi - lo
		}
		if a[i].to < b[j].to {
			i++
		} else {
			j++
		}
	}
	return t
}

// FaultCoverage returns how much virtual time faults were active before
// end (the settle phase heals everything) and the fraction of it during
// which at least one workload operation (final reads excluded) was in
// flight: a fault that hits an idle cluster tests nothing. The fraction is
// 1 when no fault was active.
func FaultCoverage(windows []nemesis.Window, ops []history.Op, end sim.Time) (faultTime sim.Time, coverage float64) {
	fw := make([]span, 0, len(windows))
	for _, w := range windows {
		fw = append(fw, span{w.Start, min(w.End, end)})
	}
	faults := union(fw)
	faultTime = measure(faults)
	if faultTime == 0 {
		return 0, 1
	}
	ow := make([]span, 0, len(ops))
	for _, op := range ops {
		if !op.Final {
			ow = append(ow, span{op.Call, min(op.End, end)})
		}
	}
	return faultTime, float64(intersect(faults, union(ow))) / float64(faultTime)
}
