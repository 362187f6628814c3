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
	byKey := make(map[string][]int)
	var keys []string
	for i := range ops {
		k := ops[i].Key
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	ret := make([]sim.Time, len(ops))
	drop := make([]bool, len(ops))
	for i := range ops {
		ret[i] = ops[i].Return
	}
	for _, k := range keys {
		idx := byKey[k]
		ptrs := make([]*history.Op, len(idx))
		for j, i := range idx {
			ptrs[j] = &ops[i]
		}
		kret, kdrop, d, b := patchPlan(ptrs, nil)
		dropped += d
		bounded += b
		if kret == nil {
			continue
		}
		for j, i := range idx {
			ret[i], drop[i] = kret[j], kdrop[j]
		}
	}
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

// patchPlan is PatchInfo without the copy, for one key's operations: each
// operation's patched return time, and which operations the patch drops;
// both are nil when ops hold no info write or add (nothing to patch). ps,
// if not nil, lends the memory: ret and drop are then its own, valid until
// the next call with ps.
func patchPlan(ops []*history.Op, ps *patchScratch) (ret []sim.Time, drop []bool, dropped, bounded int) {
	if ps == nil {
		ps = &patchScratch{}
	}
	if ps.index == nil {
		ps.index = make(map[string]int32)
	}
	index := ps.index
	defer ps.reset()
	// Only the values of info writes and adds matter: index those, then
	// count their producers and observers.
	vals := ps.vals[:0]
	for _, o := range ops {
		if o.Outcome == history.Info && (o.Kind == history.Write || o.Kind == history.Add) {
			if _, ok := index[o.Value]; !ok {
				index[o.Value] = int32(len(vals))
				vals = append(vals, valueFacts{})
			}
		}
	}
	ps.vals = vals
	if len(vals) == 0 {
		return nil, nil, 0, 0
	}
	lookup := func(value string) *valueFacts {
		if i, ok := index[value]; ok {
			return &vals[i]
		}
		return nil
	}
	observe := func(vf *valueFacts, t sim.Time) {
		if vf != nil && (!vf.observed || t < vf.earliest) {
			vf.earliest, vf.observed = t, true
		}
	}
	for _, o := range ops {
		switch o.Kind {
		case history.Write, history.Add:
			if vf := lookup(o.Value); vf != nil {
				vf.producers++
			}
		case history.CAS:
			if vf := lookup(o.Value); vf != nil {
				vf.producers++
			}
			if vf := lookup(o.Expect); vf != nil {
				vf.expected = true
				if o.Outcome == history.OK {
					observe(vf, o.Return)
				}
			}
		case history.Read:
			if o.Outcome == history.OK {
				for _, v := range o.Values {
					observe(lookup(v), o.Return)
				}
			}
		}
	}
	ps.ret = resize(ps.ret, len(ops))
	ps.drop = resize(ps.drop, len(ops))
	ret, drop = ps.ret, ps.drop
	for i, o := range ops {
		ret[i], drop[i] = o.Return, false
		if o.Outcome == history.Info && (o.Kind == history.Write || o.Kind == history.Add) {
			vf := lookup(o.Value)
			if vf.producers == 1 {
				switch {
				case vf.observed:
					ret[i] = max(vf.earliest, o.Call)
					bounded++
				case !vf.expected:
					dropped++
					drop[i] = true
				}
			}
		}
	}
	return ret, drop, dropped, bounded
}

// valueFacts is what patchPlan learns of one value of an info write or add.
type valueFacts struct {
	producers int
	earliest  sim.Time // valid if observed: the earliest ok observer's return
	observed  bool
	expected  bool // expected by some cas
}

// patchScratch is the memory patchPlan reuses from key to key (and from
// call to call). index is empty between uses.
type patchScratch struct {
	index  map[string]int32
	vals   []valueFacts
	ret    []sim.Time
	drop   []bool
	values int // the most entries index held
}

// reset empties index, which holds the history's values.
func (ps *patchScratch) reset() {
	ps.values = max(ps.values, len(ps.index))
	clear(ps.index)
}
