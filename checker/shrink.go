package checker

import (
	"github.com/anishathalye/porcupine"

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
// first (the witness is then larger than it could be).
func shrink(part []porcupine.Operation, init string, limit int) (witness []*history.Op, minimal bool) {
	if limit <= 0 {
		limit = DefaultWitnessSteps
	}
	b := &budget{maxSteps: int64(limit), maxMem: DefaultMemoryBytes / 4}
	ops := toSearch(part)
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
		r := search(sub, init, step, b, false)
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
	return witness, minimal
}
