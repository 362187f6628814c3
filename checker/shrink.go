package checker

import (
	"math"
	"slices"

	"github.com/faultline-sim/faultline/history"
)

// shrink reduces an illegal key's operations to a witness: a set of its
// operations that on its own cannot be ordered and that proves the key
// non-linearizable. Only operations whose removal cannot hide or create a
// violation are removed: reads (they change no state, so a linearization
// of the whole gives one of what remains) and writes whose unique value no
// remaining operation observes (as in PatchInfo, such a write can be moved
// last). It tries halves of the removable operations first, then smaller
// chunks, down to single operations, so the result is 1-minimal: no single
// removable operation can go. minimal is false if limit steps ran out
// first (the witness is then larger than it could be). b is shared by
// the bad keys of one check; the searches reuse pool's searchers (nil:
// none).
func shrink(part []sop, init string, b *budget, pool *searcherPool) (witness []*history.Op, minimal bool, cut int64, wasCut bool) {
	ops := slices.Clone(part)
	limit := b.maxSteps
	b.begin(limit)
	all := len(ops)
	ops, cut = shortestPrefix(ops, init, b, pool)
	wasCut = len(ops) < all
	keep := make([]bool, len(ops))
	for i := range keep {
		keep[i] = true
	}
	illegal := func() (bool, bool) {
		sub := make([]sop, 0, len(ops))
		for i, k := range keep {
			if k {
				sub = append(sub, ops[i])
			}
		}
		b.begin(limit)
		r := search(sub, init, step, b, false, pool)
		return r.outcome == searchIllegal, r.outcome == searchUndecided
	}
	candidates := func() []int {
		produced := map[string]int{}
		observed := map[string]bool{}
		for i, k := range keep {
			if !k {
				continue
			}
			in := ops[i].in
			switch in.op.Kind {
			case history.Write, history.CAS:
				produced[in.next]++
			}
			switch in.op.Kind {
			case history.Read, history.CAS:
				observed[in.want] = true
			}
		}
		var out []int
		for i, k := range keep {
			if !k {
				continue
			}
			in := ops[i].in
			switch {
			case in.op.Kind == history.Read:
				out = append(out, i)
			case in.op.Kind == history.Write && !in.appendKey && produced[in.next] == 1 && !observed[in.next] && in.next != init:
				out = append(out, i)
			}
		}
		return out
	}
	minimal = true
	for size := max(len(ops)/2, 1); ; size /= 2 {
		cands := candidates()
		for start := 0; start < len(cands); start += size {
			chunk := cands[start:min(start+size, len(cands))]
			for _, i := range chunk {
				keep[i] = false
			}
			bad, undecided := illegal()
			if undecided {
				for _, i := range chunk {
					keep[i] = true
				}
				minimal = false
				goto done
			}
			if !bad {
				for _, i := range chunk {
					keep[i] = true
				}
			}
		}
		if size == 1 {
			break
		}
	}
	// A removed read can make a write removable: repeat single removals
	// until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, i := range candidates() {
			keep[i] = false
			bad, undecided := illegal()
			if undecided {
				keep[i] = true
				minimal = false
				goto done
			}
			if bad {
				changed = true
			} else {
				keep[i] = true
			}
		}
	}
done:
	for i, k := range keep {
		if k {
			witness = append(witness, ops[i].in.op)
		}
	}
	return witness, minimal, cut, wasCut
}

// shortestPrefix returns the operations of the shortest illegal prefix of
// ops: for a time T, the prefix holds the operations invoked by T, those
// still running at T made info (a read still running is dropped). It is
// sound: in a linearization of ops, whatever precedes a read that returned
// by T was invoked before T, so the prefix linearizes too. Prefixes grow
// with T, so a binary search over the return times finds the shortest. If
// the budget runs out, ops is returned whole. cut is the T used.
func shortestPrefix(ops []sop, init string, b *budget, pool *searcherPool) ([]sop, int64) {
	var times []int64
	for _, o := range ops {
		if o.ret != math.MaxInt64 {
			times = append(times, o.ret)
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	prefix := func(t int64) []sop {
		var out []sop
		for _, o := range ops {
			switch {
			case o.call > t:
			case o.ret <= t:
				out = append(out, o)
			case o.in.op.Kind == history.Read:
			default:
				in := *o.in
				in.ok = false
				out = append(out, sop{call: o.call, ret: math.MaxInt64, in: &in})
			}
		}
		return out
	}
	lo, hi := 0, len(times) // the answer is in times[lo:hi], or ops whole
	best, cut := ops, int64(math.MaxInt64)
	for lo < hi {
		mid := (lo + hi) / 2
		p := prefix(times[mid])
		r := search(p, init, step, b, false, pool)
		switch r.outcome {
		case searchUndecided:
			return best, cut
		case searchIllegal:
			best, cut, hi = p, times[mid], mid
		default:
			lo = mid + 1
		}
	}
	return best, cut
}
