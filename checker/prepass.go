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
	return prepassPtrs(ptrs, model, opts, nil)
}

// writer is a writer of a value, for the pre-pass. A plain register's
// state is absent or a value. The writers of values are found by value;
// the absent state's only writer is the initial state (when no initial
// value is set).
type writer struct {
	op         *history.Op // nil: the initial state
	call, ret  sim.Time
	earliest   sim.Time // earliest call of a writer of this value
	definitely bool     // ok: it certainly took effect
}

// prepassScratch is the memory prepassPtrs reuses from key to key (and
// from call to call). Between uses it is empty and holds no pointer.
type prepassScratch struct {
	ws      []writer
	byValue map[string]int32
	oks     []int32
	sufMin  []int
	values  int // the most entries byValue held
}

// reset empties the scratch, dropping what points at a history.
func (ps *prepassScratch) reset() {
	clear(ps.ws[:cap(ps.ws)])
	ps.values = max(ps.values, len(ps.byValue))
	clear(ps.byValue)
}

// prepassPtrs is prepass over the key's operations by pointer (no copies),
// in ps's memory (nil: its own).
func prepassPtrs(ops []*history.Op, model Model, opts LinearOptions, ps *prepassScratch) *prepassViolation {
	if model == ModelSet || model == ModelMutex {
		return nil
	}
	const minT = sim.Time(math.MinInt64)
	producers := 0
	for _, o := range ops {
		switch o.Kind {
		case history.Read:
		case history.Write, history.CAS:
			producers++
		default:
			if o.Outcome != history.Fail {
				return nil // deletes, appends, adds: not a plain register
			}
		}
	}
	if ps == nil {
		ps = &prepassScratch{}
	}
	defer ps.reset()
	// Neither ws nor oks outgrows producers+1 (one writer per value).
	ws := reuse(ps.ws, producers+1)[:1]
	ps.ws = ws
	ws[0] = writer{call: minT, ret: minT, earliest: minT, definitely: true} // the initial state
	if ps.byValue == nil {
		ps.byValue = make(map[string]int32, producers)
	}
	byValue := ps.byValue
	absentWriter := int32(-1)
	if opts.HasInitial {
		byValue[opts.Initial] = 0
	} else {
		absentWriter = 0
	}
	unique := true
	oks := reuse(ps.oks, producers) // definitely-effective writers other than the initial state
	ps.oks = oks
	for _, o := range ops {
		if o.Outcome == history.Fail || o.Kind == history.Read {
			continue
		}
		if i, dup := byValue[o.Value]; dup {
			ws[i].earliest = min(ws[i].earliest, o.Call)
			unique = false // stale reads need unique values; future reads do not
			continue
		}
		byValue[o.Value] = int32(len(ws))
		if o.Outcome == history.OK {
			oks = append(oks, int32(len(ws)))
		}
		ws = append(ws, writer{op: o, call: o.Call, ret: o.Return, earliest: o.Call, definitely: o.Outcome == history.OK})
	}
	// Definitely-effective writers by call time, with the suffix minimum of
	// their return times: "does some ok writer begin after t and end
	// before u?" is then one binary search.
	slices.SortStableFunc(oks, func(a, b int32) int {
		switch {
		case ws[a].call < ws[b].call:
			return -1
		case ws[a].call > ws[b].call:
			return 1
		}
		return 0
	})
	sufMin := resize(ps.sufMin, len(oks)+1) // index into oks of the earliest return in oks[i:]
	ps.sufMin = sufMin
	sufMin[len(oks)] = -1
	for i := len(oks) - 1; i >= 0; i-- {
		sufMin[i] = i
		if j := sufMin[i+1]; j >= 0 && ws[oks[j]].ret < ws[oks[i]].ret {
			sufMin[i] = j
		}
	}
	for _, o := range ops {
		if o.Outcome != history.OK {
			continue
		}
		var value string // the value o saw, unless it saw the absent state
		wi := absentWriter
		switch {
		case o.Kind == history.Read && o.NotFound:
		case o.Kind == history.Read && len(o.Values) == 1:
			value = o.Values[0]
			wi = writerOf(byValue, value)
		case o.Kind == history.CAS:
			value = o.Expect
			wi = writerOf(byValue, value)
		default:
			continue
		}
		// seen describes the state o saw, for an explanation.
		seen := func() string {
			if o.Kind == history.Read && o.NotFound {
				return describeState(absent)
			}
			return describeValue(value)
		}
		verb := "read"
		if o.Kind == history.CAS {
			verb = "cas expected"
		}
		if wi < 0 {
			return &prepassViolation{
				detail: fmt.Sprintf("future read: %s %s, which no operation wrote (failed operations did not happen)", verb, seen()),
				ops:    []*history.Op{o},
			}
		}
		w := &ws[wi]
		if !unique {
			if o.Return < w.earliest {
				return &prepassViolation{
					detail: fmt.Sprintf("future read: %s %s, and returned before any of its writers was invoked", verb, seen()),
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
				detail: fmt.Sprintf("future read: %s %s, and returned before its only writer was invoked", verb, seen()),
				ops:    []*history.Op{w.op, o},
			}
		}
		// Stale: an ok writer of another value began after w ended and ended
		// before o began.
		k, _ := slices.BinarySearchFunc(oks, w.ret, func(x int32, t sim.Time) int {
			if ws[x].call <= t {
				return -1
			}
			return 1
		})
		if j := sufMin[k]; j >= 0 && ws[oks[j]].ret < o.Call && oks[j] != wi && ws[oks[j]].op != o {
			w2 := ws[oks[j]].op
			if w.op == nil {
				return &prepassViolation{
					detail: fmt.Sprintf("stale read: %s %s (the initial state) after another value was written", verb, seen()),
					ops:    []*history.Op{w2, o},
				}
			}
			return &prepassViolation{
				detail: fmt.Sprintf("stale read: %s %s after a later write of %s had ended", verb, seen(), describeValue(w2.Value)),
				ops:    []*history.Op{w.op, w2, o},
			}
		}
	}
	return nil
}

// writerOf is the index of value's writer in byValue, or -1.
func writerOf(byValue map[string]int32, value string) int32 {
	if i, ok := byValue[value]; ok {
		return i
	}
	return -1
}
