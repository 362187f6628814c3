package checker

import (
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// PatchInfo returns a copy of ops in which info writes and info adds (whose
// outcome is unknown, so they return at sim.Never) are made cheaper to
// check without changing the linearizability verdict:
//
//   - an info write whose value no operation observed is dropped;
//   - an info write whose value was observed gets, as its return time, the
//     return time of the earliest-returning operation that observed it (but
//     never earlier than its own call).
//
// The value must be unique on its key: a write (or add) whose value another
// write, cas or add on the key also produces is left alone, as are info
// cas and delete operations. "Observed" means: an ok read returned the value
// (among its Values), or a cas (ok or info) expected it. Only ok reads and
// ok cas give a return time; a value expected only by info cas keeps the
// write at sim.Never.
//
// Why the verdict does not change. Let H be the history and P the patched
// one. Every linearization of P is one of H: a dropped write is an info
// operation and can be linearized last, after every other operation, where
// it affects nothing; a bounded write's point lies in [Call, R], inside its
// original interval [Call, Never]. Conversely let L linearize H.
// (a) Dropped write w with value v: in L, the state holds v from w's point
// until a write, delete or cas replaces it (a set keeps an added element
// for ever). No ok read and no cas expecting v lies in that stretch (either
// would observe v), so removing w changes only the state seen by info
// operations there: info writes, deletes and adds behave the same in any
// state, and info cas did not swap in L (they expected something other than
// v); move those to the end of L, where info operations may always go. L
// minus w is then a linearization of P.
// (b) Bounded write w, earliest observer o returning at R: v is unique, so
// the state holds v only after w's point; o sees v, so w's point precedes
// o's, which is at most R. So w's point already lies in [Call, R] (if R <
// Call, o saw v before w was invoked: H and P are both non-linearizable).
// Hence P is linearizable iff H is.
func PatchInfo(ops []history.Op) []history.Op {
	out, _, _ := patchInfo(ops)
	return out
}

type keyValue struct{ key, value string }

// patchInfo implements PatchInfo and also reports how many info writes it
// dropped and how many it bounded.
func patchInfo(ops []history.Op) (out []history.Op, dropped, bounded int) {
	ptrs := make([]*history.Op, len(ops))
	for i := range ops {
		ptrs[i] = &ops[i]
	}
	ret, drop, dropped, bounded := patchPlan(ptrs)
	out = make([]history.Op, 0, len(ops))
	for i, o := range ops {
		if drop[i] {
			continue
		}
		o.Return = ret[i]
		out = append(out, o)
	}
	return out, dropped, bounded
}

// patchPlan is PatchInfo without the copy: each operation's patched
// return time, and which operations the patch drops.
func patchPlan(ops []*history.Op) (ret []sim.Time, drop []bool, dropped, bounded int) {
	producers := make(map[keyValue]int)
	earliest := make(map[keyValue]sim.Time) // observed with a return time
	expected := make(map[keyValue]bool)     // expected by some cas
	for _, o := range ops {
		switch o.Kind {
		case history.Write, history.Add:
			producers[keyValue{o.Key, o.Value}]++
		case history.CAS:
			producers[keyValue{o.Key, o.Value}]++
			kv := keyValue{o.Key, o.Expect}
			expected[kv] = true
			if o.Outcome == history.OK {
				observe(earliest, kv, o.Return)
			}
		case history.Read:
			if o.Outcome == history.OK {
				for _, v := range o.Values {
					observe(earliest, keyValue{o.Key, v}, o.Return)
				}
			}
		}
	}
	ret = make([]sim.Time, len(ops))
	drop = make([]bool, len(ops))
	for i, o := range ops {
		ret[i] = o.Return
		if o.Outcome == history.Info && (o.Kind == history.Write || o.Kind == history.Add) {
			kv := keyValue{o.Key, o.Value}
			if producers[kv] == 1 {
				r, seen := earliest[kv]
				switch {
				case seen:
					ret[i] = max(r, o.Call)
					bounded++
				case !expected[kv]:
					dropped++
					drop[i] = true
				}
			}
		}
	}
	return ret, drop, dropped, bounded
}

func observe(earliest map[keyValue]sim.Time, kv keyValue, t sim.Time) {
	if r, ok := earliest[kv]; !ok || t < r {
		earliest[kv] = t
	}
}
