package checker

import (
	"slices"
	"time"
)

// This file is faultline's linearizability search: the algorithm of
// Wing & Gong as improved by Lowe (and as porcupine implements it), written
// so that it can be stopped at once and deterministically. It counts every
// call of the model's step function and every byte its cache keeps, and
// gives up (undecided) when either budget runs out; the wall clock is only
// an outer safety net. porcupine itself cannot be stopped from outside
// except by its own timer, and unwinding its search after a budget runs
// out can take quadratic time on a wide history.

// budget is what one Linearizable call may spend. Steps are summed over
// every key; memory is what one key's search holds at once (it is freed
// when the key is decided); localSteps bounds the current round of the
// current key (see Linearizable).
type budget struct {
	steps, maxSteps int64
	local, maxLocal int64
	mem, maxMem     int64
	deadline        time.Time // zero: none
	exhausted       string    // "", "local", "steps", "memory" or "wall-clock"
}

// begin starts one key's search with a round limit of maxLocal steps.
func (b *budget) begin(maxLocal int64) {
	b.local, b.maxLocal, b.mem = 0, maxLocal, 0
	if b.exhausted == "local" {
		b.exhausted = ""
	}
	if b.exhausted == "" && !b.deadline.IsZero() && time.Now().After(b.deadline) {
		b.exhausted = "wall-clock"
	}
}

func (b *budget) step() bool {
	if b.exhausted != "" {
		return false
	}
	if b.steps >= b.maxSteps {
		b.exhausted = "steps"
		return false
	}
	if b.local >= b.maxLocal {
		b.exhausted = "local"
		return false
	}
	b.steps++
	b.local++
	if b.steps&(1<<14-1) == 0 && !b.deadline.IsZero() && time.Now().After(b.deadline) {
		b.exhausted = "wall-clock"
		return false
	}
	return true
}

func (b *budget) alloc(n int64) bool {
	if b.exhausted != "" {
		return false
	}
	b.mem += n
	if b.mem > b.maxMem {
		b.exhausted = "memory"
		return false
	}
	return true
}

// sop is one operation of a key as the search sees it.
type sop struct {
	call, ret int64 // ret may be math.MaxInt64 (info)
	in        *linOp
}

type searchOutcome int

const (
	searchOK searchOutcome = iota
	searchIllegal
	searchUndecided
)

// searchResult is what search found. For an illegal key, best is the
// longest linearized prefix seen (operation indices in order) and
// bestState the state after it.
type searchResult struct {
	outcome   searchOutcome
	best      []int
	bestState string
}

// zobrist gives operation i a fixed pseudo-random 64-bit word, so that
// the hash of a set of linearized operations is the XOR of its words and
// is updated in O(1).
func zobrist(i int) uint64 {
	z := uint64(i+1) * 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

type cacheEntry struct {
	bits  []uint64
	state string
}

// search decides whether ops (one key) linearize from state init under
// stepFn, spending from b. keepBest records the longest prefix (for the
// explanation of an illegal key).
func search(ops []sop, init string, stepFn func(state string, in *linOp) (bool, string), b *budget, keepBest bool) searchResult {
	n := len(ops)
	if n == 0 {
		return searchResult{outcome: searchOK}
	}
	// Entries: 2n, sorted by time; a call before a return at the same time
	// (the operations overlap), then by operation index.
	type entry struct {
		t    int64
		ret  bool
		op   int32
		next int32
		prev int32
		mate int32 // a call's return entry
	}
	es := make([]entry, 0, 2*n+1)
	es = append(es, entry{op: -1}) // 0: head sentinel
	order := make([]int32, 0, 2*n)
	for i := range ops {
		order = append(order, int32(2*i), int32(2*i+1))
	}
	key := func(x int32) (int64, bool, int32) {
		o := &ops[x/2]
		if x%2 == 0 {
			return o.call, false, x / 2
		}
		return o.ret, true, x / 2
	}
	slices.SortFunc(order, func(a, c int32) int {
		ta, ra, ia := key(a)
		tc, rc, ic := key(c)
		switch {
		case ta != tc:
			if ta < tc {
				return -1
			}
			return 1
		case ra != rc:
			if !ra {
				return -1
			}
			return 1
		}
		return int(ia - ic)
	})
	callAt := make([]int32, n)
	retAt := make([]int32, n)
	for _, x := range order {
		t, r, i := key(x)
		pos := int32(len(es))
		es = append(es, entry{t: t, ret: r, op: i})
		if r {
			retAt[i] = pos
		} else {
			callAt[i] = pos
		}
	}
	for i := range es {
		es[i].prev = int32(i - 1)
		es[i].next = int32(i + 1)
	}
	es[len(es)-1].next = -1
	for i := 0; i < n; i++ {
		es[callAt[i]].mate = retAt[i]
	}
	if !b.alloc(int64(len(es))*24 + int64(n)*16) {
		return searchResult{outcome: searchUndecided}
	}
	lift := func(c int32) {
		e := &es[c]
		es[e.prev].next = e.next
		if e.next >= 0 {
			es[e.next].prev = e.prev
		}
		r := &es[e.mate]
		es[r.prev].next = r.next
		if r.next >= 0 {
			es[r.next].prev = r.prev
		}
	}
	unlift := func(c int32) {
		e := &es[c]
		r := &es[e.mate]
		es[r.prev].next = e.mate
		if r.next >= 0 {
			es[r.next].prev = e.mate
		}
		es[e.prev].next = c
		if e.next >= 0 {
			es[e.next].prev = c
		}
	}

	words := (n + 63) / 64
	bits := make([]uint64, words)
	var bitsHash uint64
	cache := make(map[uint64][]cacheEntry)
	entryBytes := int64(words*8 + 24 + 16 + 48)
	type frame struct {
		entry int32
		state string
	}
	var calls []frame
	var res searchResult
	state := init
	cur := es[0].next
	for es[0].next >= 0 {
		e := &es[cur]
		if !e.ret {
			if !b.step() {
				return searchResult{outcome: searchUndecided}
			}
			o := e.op
			ok, next := stepFn(state, ops[o].in)
			if ok {
				bits[o/64] |= 1 << (o % 64)
				h := (bitsHash ^ zobrist(int(o))) ^ hashString(next)
				bucket := cache[h]
				seen := false
				for _, ce := range bucket {
					if ce.state == next && slices.Equal(ce.bits, bits) {
						seen = true
						break
					}
				}
				if !seen {
					if !b.alloc(entryBytes + int64(len(next))) {
						return searchResult{outcome: searchUndecided}
					}
					cache[h] = append(bucket, cacheEntry{slices.Clone(bits), next})
					calls = append(calls, frame{cur, state})
					bitsHash ^= zobrist(int(o))
					state = next
					lift(cur)
					cur = es[0].next
					continue
				}
				bits[o/64] &^= 1 << (o % 64)
			}
			cur = e.next
			continue
		}
		// A return entry: the operation it ends cannot be linearized next.
		if len(calls) == 0 {
			res.outcome = searchIllegal
			return res
		}
		if keepBest && len(calls) > len(res.best) {
			if !b.alloc(int64(len(calls)-len(res.best)) * 8) {
				return searchResult{outcome: searchUndecided}
			}
			res.best = res.best[:0]
			for _, f := range calls {
				res.best = append(res.best, int(es[f.entry].op))
			}
			res.bestState = state
		}
		top := calls[len(calls)-1]
		calls = calls[:len(calls)-1]
		o := es[top.entry].op
		bits[o/64] &^= 1 << (o % 64)
		bitsHash ^= zobrist(int(o))
		state = top.state
		unlift(top.entry)
		cur = es[top.entry].next
	}
	res.outcome = searchOK
	res.best = nil
	return res
}
