package checker

import (
	"fmt"
	"slices"
	"sync"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// facts indexes a history for the lost-write, durability and siblings
// checkers. Maps are only looked up; every iteration goes over slices.
// seen and supers serve only the vector-clock rules: they are built on
// first use (see causal), so a last-writer-wins check does not pay for them.
type facts struct {
	ops      []history.Op
	keys     []string              // sorted keys that have writes, adds or final reads
	setKey   map[string]bool       // keys with add operations
	finals   map[string][]int      // key -> ok final reads, in history order
	unfinal  map[string]int        // key -> final reads without an ok answer
	deletes  map[string][]int      // key -> deletes that did not fail
	producer map[keyValue]int      // (key, value) -> the write, cas or add producing it
	seen     map[keyValue]sim.Time // (key, value) -> earliest time it was certainly in the store; nil until causal
	supers   map[keyValue][]int    // (key, value) -> non-failed writes/deletes whose context includes it; nil until causal
	judges   []int                 // judging's result, reused
}

// gather builds the facts, rejecting histories whose written values are
// not unique per key (lost writes could not be attributed) and keys that
// mix set adds with writes.
func gather(ops []history.Op) (*facts, error) { return gatherIn(ops, nil) }

// gatherIn is gather in ls's memory (nil: new memory); the facts are ls's
// until putLostScratch(ls).
func gatherIn(ops []history.Op, ls *lostScratch) (*facts, error) {
	producers := 0
	for i := range ops {
		switch ops[i].Kind {
		case history.Write, history.CAS, history.Add:
			producers++
		}
	}
	if ls == nil {
		ls = &lostScratch{}
	}
	if ls.f.setKey == nil {
		ls.f.setKey, ls.f.finals, ls.f.unfinal, ls.f.deletes = make(map[string]bool), make(map[string][]int), make(map[string]int), make(map[string][]int)
		ls.known, ls.writeKey, ls.addKey = make(map[string]bool), make(map[string]int), make(map[string]int)
	}
	if ls.f.producer == nil || ls.producers < producers {
		ls.f.producer, ls.producers = make(map[keyValue]int, producers), producers
	}
	f := &ls.f
	f.ops = ops
	known, writeKey, addKey := ls.known, ls.writeKey, ls.addKey
	for i := range ops {
		o := &ops[i]
		switch o.Outcome {
		case history.OK, history.Fail, history.Info:
		default:
			return nil, fmt.Errorf("checker: operation %d (%s): outcome %q (want ok, fail or info)", i, o, o.Outcome)
		}
		if o.Return < o.Call {
			return nil, fmt.Errorf("checker: operation %d (%s): returns at %s, before its call at %s", i, o, o.Return, o.Call)
		}
		if (o.Kind != history.Read || o.Final) && !known[o.Key] {
			known[o.Key] = true
			f.keys = append(f.keys, o.Key)
		}
		switch o.Kind {
		case history.Write, history.CAS, history.Add:
			kv := keyValue{o.Key, o.Value}
			if j, dup := f.producer[kv]; dup {
				return nil, fmt.Errorf("checker: value %q is written twice on key %q (operations %d and %d); give every write a unique value", o.Value, o.Key, j, i)
			}
			f.producer[kv] = i
			if o.Kind == history.Add {
				f.setKey[o.Key] = true
				addKey[o.Key] = i
			} else if _, ok := writeKey[o.Key]; !ok {
				writeKey[o.Key] = i
			}
		case history.Delete:
			if _, ok := writeKey[o.Key]; !ok {
				writeKey[o.Key] = i
			}
			if o.Outcome != history.Fail {
				f.deletes[o.Key] = append(f.deletes[o.Key], i)
			}
		case history.Read:
			if o.Final {
				if o.Outcome == history.OK {
					f.finals[o.Key] = append(f.finals[o.Key], i)
				} else {
					f.unfinal[o.Key]++
				}
			}
		}
	}
	for _, k := range f.keys {
		w, hasW := writeKey[k]
		a, hasA := addKey[k]
		if hasW && hasA {
			return nil, fmt.Errorf("checker: key %q mixes set adds (operation %d) with writes or deletes (operation %d); use one key per set", k, a, w)
		}
	}
	slices.Sort(f.keys)
	return f, nil
}

// causal builds seen and supers, once.
func (f *facts) causal() {
	if f.seen != nil {
		return
	}
	f.seen = make(map[keyValue]sim.Time)
	f.supers = make(map[keyValue][]int)
	for i := range f.ops {
		o := &f.ops[i]
		switch {
		case o.Kind == history.Read && o.Outcome == history.OK:
			for _, v := range o.Values {
				f.see(keyValue{o.Key, v}, o.Return)
			}
		case o.Kind == history.CAS && o.Outcome == history.OK:
			f.see(keyValue{o.Key, o.Expect}, o.Return)
		}
		for _, c := range o.Context {
			kv := keyValue{o.Key, c}
			f.see(kv, o.Call) // the client had read c before it invoked o
			if o.Outcome != history.Fail && (o.Kind == history.Write || o.Kind == history.Delete) {
				f.supers[kv] = append(f.supers[kv], i)
			}
		}
	}
}

func (f *facts) see(kv keyValue, t sim.Time) {
	if s, ok := f.seen[kv]; !ok || t < s {
		f.seen[kv] = t
	}
}

// effective reports whether operation i certainly took effect: it is ok, or
// an info write whose value was observed.
func (f *facts) effective(i int) bool {
	f.causal()
	o := &f.ops[i]
	if o.Outcome == history.OK {
		return true
	}
	_, seen := f.seen[keyValue{o.Key, o.Value}]
	return o.Outcome == history.Info && o.Kind == history.Write && seen
}

// possiblySuperseded reports whether some write or delete that may have
// taken effect had v in its causal context: an ok write or delete, an info
// write whose value was observed, or an info delete (which cannot be
// observed, so it is given the benefit of the doubt). An info write nobody
// observed does not count: had it taken effect it would be visible, or
// superseded by a context that names it.
func (f *facts) possiblySuperseded(kv keyValue) bool {
	f.causal()
	for _, s := range f.supers[kv] {
		if f.effective(s) || f.ops[s].Kind == history.Delete {
			return true
		}
	}
	return false
}

// supersededBefore returns a write or delete that certainly took effect
// before time t and had kv in its context (an ok one that completed before
// t, or an info write observed before t), or -1.
func (f *facts) supersededBefore(kv keyValue, t sim.Time) int {
	f.causal()
	for _, s := range f.supers[kv] {
		o := &f.ops[s]
		if o.Outcome == history.OK && o.End < t {
			return s
		}
		if o.Outcome == history.Info && o.Kind == history.Write {
			if seen, ok := f.seen[keyValue{o.Key, o.Value}]; ok && seen < t {
				return s
			}
		}
	}
	return -1
}

// judging returns the ok final reads of key invoked after time t, in a
// slice that the next call reuses.
func (f *facts) judging(key string, t sim.Time) []int {
	out := f.judges[:0]
	for _, i := range f.finals[key] {
		if f.ops[i].Call > t {
			out = append(out, i)
		}
	}
	f.judges = out
	return out
}

func contains(vs []string, v string) bool { return slices.Contains(vs, v) }

// describeRead formats a read's answer for explanations.
func describeRead(o *history.Op) string {
	if o.NotFound || len(o.Values) == 0 {
		return "not found"
	}
	if len(o.Values) > 8 {
		return fmt.Sprintf("%d values", len(o.Values))
	}
	return fmt.Sprintf("%q", o.Values)
}

// lostScratch is the memory the lost-write and durability checkers index a
// history in, reused from call to call through lostPool.
type lostScratch struct {
	f                facts
	known            map[string]bool
	writeKey, addKey map[string]int
	producers        int // the most entries f.producer was made for
}

var lostPool = sync.Pool{New: func() any { return new(lostScratch) }}

func getLostScratch() *lostScratch { return lostPool.Get().(*lostScratch) }

// putLostScratch empties ls and puts it back in the pool, unless it grew
// past maxScratchBytes.
func putLostScratch(ls *lostScratch) {
	if ls.recycle() {
		lostPool.Put(ls)
	}
}

// recycle empties ls (no map or slice in it keeps a key, a value or an
// operation of the history) and reports whether it is small enough to
// keep.
func (ls *lostScratch) recycle() bool {
	f := &ls.f
	n := max(ls.producers, len(f.producer))
	clear(f.setKey)
	clear(f.finals)
	clear(f.unfinal)
	clear(f.deletes)
	clear(f.producer)
	clear(ls.known)
	clear(ls.writeKey)
	clear(ls.addKey)
	clear(f.keys[:cap(f.keys)])
	f.ops, f.keys, f.seen, f.supers, f.judges = nil, f.keys[:0], nil, nil, f.judges[:0]
	ls.producers = n
	return n*48+cap(f.keys)*16 <= maxScratchBytes
}
