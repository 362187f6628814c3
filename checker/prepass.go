package checker

import (
	"fmt"
	"math"
	"slices"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// prepassViolation is a violation the pre-pass proved, with the operations
// that cannot be ordered.
type prepassViolation struct {
	detail string
	ops    []*history.Op
}

// prepass looks for stale and future reads on one register key whose
// written values are unique. It is sound: whatever it reports is a real
// violation. Let v be written by exactly one operation w (a write, or a
// cas producing v), and let o observe v (an ok read of v, or an ok cas
// expecting v). Then in any linearization w precedes o and nothing that
// writes another value lies between them. So o is a future read if it
// returned before w was invoked (or nothing wrote v at all), and a stale
// read if another ok write w2 began after w ended and ended before o
// began: then w < w2 < o in real time. The initial state (absent, or
// -initial) is a value written before everything. On a key where some
// value is written twice only future reads are named (a read of a value
// that nothing wrote, or that returned before any of its writers was
// invoked); keys with deletes, appends, adds or locks are left to the
// search.
func prepass(ops []history.Op, model Model, opts LinearOptions) *prepassViolation {
	ptrs := make([]*history.Op, len(ops))
	for i := range ops {
		ptrs[i] = &ops[i]
	}
	return prepassPtrs(ptrs, model, opts)
}

// prepassPtrs is prepass over the key's operations by pointer (no copies).
func prepassPtrs(ops []*history.Op, model Model, opts LinearOptions) *prepassViolation {
	if model == ModelSet || model == ModelMutex {
		return nil
	}
	const minT, maxT = sim.Time(math.MinInt64), sim.Time(math.MaxInt64)
	type writer struct {
		op         *history.Op // nil: the initial state
		call, ret  sim.Time
		value      string
		definitely bool // ok: it certainly took effect
	}
	initial := absent
	if opts.HasInitial {
		initial = registerState(opts.Initial)
	}
	writers := map[string]*writer{initial: {call: minT, ret: minT, value: initial, definitely: true}}
	earliest := map[string]sim.Time{initial: minT} // earliest call of a writer of each value
	unique := true
	var oks []*writer // definitely-effective writers other than the initial state
	for _, o := range ops {
		if o.Outcome == history.Fail {
			continue
		}
		var v string
		switch o.Kind {
		case history.Read:
			continue
		case history.Write:
			v = registerState(o.Value)
		case history.CAS:
			v = registerState(o.Value)
		default:
			return nil // deletes, appends, adds: not a plain register
		}
		if t, ok := earliest[v]; !ok || o.Call < t {
			earliest[v] = o.Call
		}
		if _, dup := writers[v]; dup {
			unique = false // stale reads need unique values; future reads do not
			continue
		}
		w := &writer{op: o, call: o.Call, ret: o.Return, value: v, definitely: o.Outcome == history.OK}
		writers[v] = w
		if w.definitely {
			oks = append(oks, w)
		}
	}
	// Definitely-effective writers by call time, with the suffix minimum of
	// their return times: "does some ok writer begin after t and end
	// before u?" is then one binary search.
	slices.SortStableFunc(oks, func(a, b *writer) int {
		switch {
		case a.call < b.call:
			return -1
		case a.call > b.call:
			return 1
		}
		return 0
	})
	sufMin := make([]int, len(oks)+1) // index into oks of the earliest return in oks[i:]
	sufMin[len(oks)] = -1
	for i := len(oks) - 1; i >= 0; i-- {
		sufMin[i] = i
		if j := sufMin[i+1]; j >= 0 && oks[j].ret < oks[i].ret {
			sufMin[i] = j
		}
	}
	for _, o := range ops {
		if o.Outcome != history.OK {
			continue
		}
		var seen string
		switch {
		case o.Kind == history.Read && o.NotFound:
			seen = absent
		case o.Kind == history.Read && len(o.Values) == 1:
			seen = registerState(o.Values[0])
		case o.Kind == history.CAS:
			seen = registerState(o.Expect)
		default:
			continue
		}
		verb := "read"
		if o.Kind == history.CAS {
			verb = "cas expected"
		}
		w := writers[seen]
		if w == nil {
			return &prepassViolation{
				detail: fmt.Sprintf("future read: %s %s, which no operation wrote (failed operations did not happen)", verb, describeState(seen)),
				ops:    []*history.Op{o},
			}
		}
		if !unique {
			if o.Return < earliest[seen] {
				return &prepassViolation{
					detail: fmt.Sprintf("future read: %s %s, and returned before any of its writers was invoked", verb, describeState(seen)),
					ops:    []*history.Op{o},
				}
			}
			continue
		}
		if w.op == o {
			continue
		}
		if o.Return < w.call {
			return &prepassViolation{
				detail: fmt.Sprintf("future read: %s %s, and returned before its only writer was invoked", verb, describeState(seen)),
				ops:    []*history.Op{w.op, o},
			}
		}
		// Stale: an ok writer of another value began after w ended and ended
		// before o began.
		k, _ := slices.BinarySearchFunc(oks, w.ret, func(x *writer, t sim.Time) int {
			if x.call <= t {
				return -1
			}
			return 1
		})
		if j := sufMin[k]; j >= 0 && oks[j].ret < o.Call && oks[j] != w && oks[j].op != o {
			w2 := oks[j]
			if w.op == nil {
				return &prepassViolation{
					detail: fmt.Sprintf("stale read: %s %s (the initial state) after another value was written", verb, describeState(seen)),
					ops:    []*history.Op{w2.op, o},
				}
			}
			return &prepassViolation{
				detail: fmt.Sprintf("stale read: %s %s after a later write of %s had ended", verb, describeState(seen), describeState(w2.value)),
				ops:    []*history.Op{w.op, w2.op, o},
			}
		}
	}
	return nil
}
