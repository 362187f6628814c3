package checker

import (
	"cmp"
	"math/bits"
	"slices"
	"time"

	"github.com/faultline-sim/faultline/internal/freelist"
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
// every key; memory is what the searches in progress hold at once (a
// key's is returned when it is decided); local bounds the current round
// of the current key (see Linearizable).
type budget struct {
	steps, maxSteps int64
	local, maxLocal int64
	mem, maxMem     int64
	deadline        time.Time // zero: none
	exhausted       string    // "", "local", "steps", "memory" or "wall-clock"
}

// begin starts one key's search with a round limit of maxLocal steps.
func (b *budget) begin(maxLocal int64) {
	b.local, b.maxLocal = 0, maxLocal
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

// cacheEntry is one visited configuration: the state and the set of
// linearized operations. The set is kept compact: every word of the
// bitset before lo is full (all its operations linearized) and every word
// from lo+len(window) on is empty, so only the window is stored (in the
// searcher's arena, at off). A key's linearized set is nearly always a
// prefix plus the few operations concurrent with its end, so an entry
// costs O(concurrency) bits instead of O(operations): a key's cache grows
// linearly with its history, not quadratically. next chains the entries
// of one hash bucket (-1 ends it).
type cacheEntry struct {
	lo, off, n int32
	next       int32
	state      string
}

// search decides whether ops (one key) linearize from state init under
// stepFn, spending from b. keepBest records the longest prefix (for the
// explanation of an illegal key).
// Its searcher comes from pool (nil: a new one) and goes back to it.
func search(ops []sop, init string, stepFn func(state string, in *linOp) (bool, string), b *budget, keepBest bool, pool *searcherPool) searchResult {
	sr := pool.get(ops, init, stepFn, keepBest)
	r := sr.run(b)
	sr.release(b)
	return r
}

// sentry is one call or return entry of a searcher's doubly linked list.
type sentry struct {
	ret  bool
	op   int32
	next int32
	prev int32
	mate int32 // a call's return entry
}

// entryBytes is what one cache entry costs besides its window and state:
// the entry (32 bytes), the map slot (about 16) and the call frame the
// step pushes (24).
const entryBytes = 32 + 16 + 24

// The cache forgets configurations far behind the search's frontier: an
// entry whose window starts more than forgetWords words (64 operations
// each) before the current set's first non-full word is reached again only
// by undoing that many linearized operations, which a search that is
// making progress does not do. Compaction drops such entries once the
// cache holds compactAt of them and at least twice what the last
// compaction kept, so a key's cache is bounded by the concurrency near its
// frontier, not by its history. Forgetting never changes a verdict (the
// cache only prunes configurations already explored; one forgotten is
// explored again, counted in steps), only what a search may spend.
const forgetWords = 4

// minCompact is the cache size below which the cache is never compacted.
var minCompact = 1 << 16

type frame struct {
	entry int32
	state string
}

// searcher is one key's search, resumable: run continues where the last
// run stopped when a round's step limit ran out, so growing limits cost
// no repeated work. Its memory is counted in b.mem while it lives.
type searcher struct {
	ops       []sop
	stepFn    func(state string, in *linOp) (bool, string)
	keepBest  bool
	reserve   bool // reserve entries and the path for n operations at setup
	started   bool
	es        []sentry
	bits      []uint64
	bitsHash  uint64
	full      int32            // bits[:full] are all ones
	top       int32            // bits[top:] are all zero
	cache     map[uint64]int32 // hash -> the bucket's first entry in entries
	entries   []cacheEntry
	arena     []uint64 // the entries' windows
	compactAt int      // compact when entries reaches this many
	prefixZ   []uint64 // prefixZ[w]: the hash of a set whose first w words are full
	calls     []frame
	state     string
	cur       int32
	mem       int64 // bytes counted against the budget
	res       searchResult
	done      bool
	buf       searchBufs    // memory to reuse at setup
	pool      *searcherPool // where release puts the searcher back (nil: nowhere)
}

// searchBufs is the memory a searcher reuses: a released searcher's
// buffers, emptied, that the next search of the pool starts from. Those
// that hold strings are cleared, so no state stays alive through them.
type searchBufs struct {
	es      []sentry
	order   []point
	at      []int32 // setup's call and return positions
	bits    []uint64
	prefixZ []uint64
	entries []cacheEntry
	arena   []uint64
	calls   []frame
	best    []int
	cache   map[uint64]int32 // empty
	cacheN  int              // the most entries cache was made for or held
}

// bytes estimates the memory the buffers hold.
func (bf *searchBufs) bytes() int {
	return cap(bf.es)*20 + cap(bf.order)*16 + cap(bf.at)*4 + (cap(bf.bits)+cap(bf.prefixZ)+cap(bf.arena)+cap(bf.best))*8 +
		cap(bf.entries)*32 + cap(bf.calls)*24 + bf.cacheN*16
}

// searcherPool is a free list of released searchers, whose buffers the
// next searchers reuse. It belongs to one Linearizable call at a time.
type searcherPool struct{ free []*searcher }

func newSearcher(ops []sop, init string, stepFn func(string, *linOp) (bool, string), keepBest bool) *searcher {
	return &searcher{ops: ops, stepFn: stepFn, keepBest: keepBest, state: init}
}

// get is newSearcher, reusing a released searcher of p if there is one (p
// may be nil). release puts it back.
func (p *searcherPool) get(ops []sop, init string, stepFn func(string, *linOp) (bool, string), keepBest bool) *searcher {
	if p == nil {
		return newSearcher(ops, init, stepFn, keepBest)
	}
	s := freelist.Pop(&p.free)
	if s == nil {
		s = &searcher{}
	}
	s.ops, s.stepFn, s.keepBest, s.state, s.pool = ops, stepFn, keepBest, init, p
	return s
}

// release returns the searcher's memory to the budget and drops it; a
// searcher from a pool goes back to it, its buffers emptied.
func (s *searcher) release(b *budget) {
	b.mem -= s.mem
	s.mem = 0
	if s.pool == nil {
		s.es, s.bits, s.cache, s.calls, s.entries, s.arena, s.prefixZ = nil, nil, nil, nil, nil, nil, nil
		return
	}
	bf := s.buf
	if s.started {
		// Popped frames and compacted entries leave strings past the
		// length: clear up to the capacity.
		clear(s.entries[:cap(s.entries)])
		clear(s.calls[:cap(s.calls)])
		bf.cacheN = max(bf.cacheN, len(s.cache))
		clear(s.cache)
		bf.es, bf.bits, bf.prefixZ, bf.arena = s.es[:0], s.bits[:0], s.prefixZ[:0], s.arena[:0]
		bf.entries, bf.calls, bf.cache = s.entries[:0], s.calls[:0], s.cache
		if cap(s.res.best) > cap(bf.best) {
			bf.best = s.res.best[:0]
		}
	}
	p := s.pool
	*s = searcher{buf: bf}
	p.free = append(p.free, s)
}

// set adds operation o to the linearized set.
func (s *searcher) set(o int32) {
	w := o / 64
	s.bits[w] |= 1 << (o % 64)
	s.top = max(s.top, w+1)
	for s.full < int32(len(s.bits)) && s.bits[s.full] == ^uint64(0) {
		s.full++
	}
}

// clear removes operation o from the linearized set.
func (s *searcher) clear(o int32) {
	w := o / 64
	s.bits[w] &^= 1 << (o % 64)
	s.full = min(s.full, w)
	for s.top > 0 && s.bits[s.top-1] == 0 {
		s.top--
	}
}

// window is the part of the bitset an entry stores: from the first word
// that is not full to the last that is not empty.
func (s *searcher) window() (lo int32, w []uint64) {
	lo = s.full
	if s.top <= lo {
		return lo, nil
	}
	return lo, s.bits[lo:s.top]
}

// seen reports whether the current linearized set with state next is
// in the cache under hash h.
func (s *searcher) seen(h uint64, next string) bool {
	i, ok := s.cache[h]
	if !ok {
		return false
	}
	lo, w := s.window()
	for ; i >= 0; i = s.entries[i].next {
		ce := &s.entries[i]
		if ce.lo == lo && ce.state == next && slices.Equal(s.arena[ce.off:ce.off+ce.n], w) {
			return true
		}
	}
	return false
}

// remember adds the current linearized set with state next to the cache
// under hash h, compacting the cache first when it is due.
func (s *searcher) remember(b *budget, h uint64, next string) {
	if len(s.entries) >= s.compactAt {
		s.compact(b)
	}
	lo, w := s.window()
	chain, ok := s.cache[h]
	if !ok {
		chain = -1
	}
	s.cache[h] = int32(len(s.entries))
	s.entries = append(s.entries, cacheEntry{lo: lo, off: int32(len(s.arena)), n: int32(len(w)), next: chain, state: next})
	s.arena = append(s.arena, w...)
}

// compact drops the cache entries more than forgetWords words behind the
// current set's first non-full word, in place, keeping the others in their
// order, and returns their bytes to the budget.
func (s *searcher) compact(b *budget) {
	cut := s.full - forgetWords
	kept, words := 0, 0
	var freed int64
	if cut > 0 {
		s.buf.cacheN = max(s.buf.cacheN, len(s.cache))
		clear(s.cache)
		for i := range s.entries {
			ce := s.entries[i]
			if ce.lo < cut {
				freed += entryBytes + int64(ce.n)*8 + int64(len(ce.state))
				continue
			}
			w := s.arena[ce.off : ce.off+ce.n]
			h := s.prefixZ[ce.lo] ^ hashString(ce.state)
			for j, x := range w {
				for x != 0 {
					bit := int32(bits.TrailingZeros64(x))
					h ^= zobrist(int((ce.lo+int32(j))*64 + bit))
					x &= x - 1
				}
			}
			chain, ok := s.cache[h]
			if !ok {
				chain = -1
			}
			s.cache[h] = int32(kept)
			copy(s.arena[words:], w)
			s.entries[kept] = cacheEntry{lo: ce.lo, off: int32(words), n: ce.n, next: chain, state: ce.state}
			kept++
			words += len(w)
		}
		clear(s.entries[kept:])
		s.entries, s.arena = s.entries[:kept], s.arena[:words]
		s.mem -= freed
		b.mem -= freed
	} else {
		kept = len(s.entries)
	}
	s.compactAt = max(minCompact, 2*kept)
}

func (s *searcher) alloc(b *budget, n int64) bool {
	if !b.alloc(n) {
		return false
	}
	s.mem += n
	return true
}

// setup builds the entry list: 2n entries sorted by time; a call before a
// return at the same time (the operations overlap), then by operation
// index.
func (s *searcher) setup(b *budget) bool {
	ops := s.ops
	n := len(ops)
	if !s.alloc(b, int64(2*n+1)*(20+8)+int64(n)*16+int64(n/64+2)*8) { // entries, order, bits and prefixZ
		return false
	}
	bf := &s.buf
	order := entryOrderInto(bf.order, ops)
	bf.order = order
	es := reuse(bf.es, 2*n+1)
	es = append(es, sentry{op: -1}) // 0: head sentinel
	bf.at = resize(bf.at, 2*n)
	callAt, retAt := bf.at[:n], bf.at[n:]
	for _, x := range order {
		r, i := x.tie>>32 == 1, int32(x.tie)
		pos := int32(len(es))
		es = append(es, sentry{ret: r, op: i})
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
	s.es = es
	s.bits = resize(bf.bits, (n+63)/64)
	clear(s.bits)
	s.compactAt = minCompact
	s.prefixZ = resize(bf.prefixZ, len(s.bits)+1)
	s.prefixZ[0] = 0
	for w := range s.bits {
		z := s.prefixZ[w]
		for i := w * 64; i < min(n, (w+1)*64); i++ {
			z ^= zobrist(i)
		}
		s.prefixZ[w+1] = z
	}
	s.res.best = bf.best[:0]
	if s.reserve {
		// A decided linearizable key lifts every operation at least once,
		// and the path is at most n deep: reserve that much rather than
		// grow (it is counted as it is used, entry by entry).
		s.entries = reuse(bf.entries, n)
		s.calls = reuse(bf.calls, n)
		s.arena = reuse(bf.arena, n)
		if bf.cache == nil || bf.cacheN < n {
			bf.cache, bf.cacheN = make(map[uint64]int32, n), n
		}
	} else {
		s.entries, s.calls, s.arena = bf.entries[:0], bf.calls[:0], bf.arena[:0]
		if bf.cache == nil {
			bf.cache = make(map[uint64]int32)
		}
	}
	s.cache = bf.cache
	s.cur = es[0].next
	return true
}

// reuse is s emptied, with room for n elements: s's own memory if it has
// the room, else new.
func reuse[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// resize is s with length n: s's own memory if it has the room, else new
// (zeroed). The old elements are not cleared.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// point is a call or return entry to sort: by time, then calls before
// returns, then by operation index. No two entries tie, so the order is
// the same for any sort.
type point struct {
	t   int64
	tie int64 // 1<<32 for a return, plus the operation index
}

func comparePoints(a, c point) int {
	if a.t != c.t {
		return cmp.Compare(a.t, c.t)
	}
	return cmp.Compare(a.tie, c.tie)
}

// entryOrder is ops' 2n call and return entries in order. When the calls
// are already in order (a history lists operations as they are invoked),
// only the returns are sorted, and merged with the calls.
func entryOrder(ops []sop) []point { return entryOrderInto(make([]point, 2*len(ops)), ops) }

// entryOrderInto is entryOrder in buf's memory if it has room.
func entryOrderInto(buf []point, ops []sop) []point {
	n := len(ops)
	order := resize(buf, 2*n)
	callsSorted := true
	for i := range ops {
		callsSorted = callsSorted && (i == 0 || ops[i-1].call <= ops[i].call)
		order[n+i] = point{ops[i].ret, 1<<32 | int64(i)}
	}
	if !callsSorted {
		for i := range ops {
			order[i] = point{ops[i].call, int64(i)}
		}
		slices.SortFunc(order, comparePoints)
		return order
	}
	rets := order[n:]
	slices.SortFunc(rets, comparePoints)
	// Merge in place from the front: the next write, at i+j, never passes
	// the next unread return, at n+j.
	i, j := 0, 0
	for i < n {
		c := point{ops[i].call, int64(i)}
		if j < n && comparePoints(rets[j], c) < 0 {
			order[i+j] = rets[j]
			j++
			continue
		}
		order[i+j] = c
		i++
	}
	return order
}

func (s *searcher) lift(c int32) {
	es := s.es
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

func (s *searcher) unlift(c int32) {
	es := s.es
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

// run searches until the key is decided or b stops it (outcome
// searchUndecided; b.exhausted says why). After a "local" stop, run may be
// called again with a larger limit and continues.
func (s *searcher) run(b *budget) searchResult {
	if s.done {
		return s.res
	}
	if len(s.ops) == 0 {
		s.done, s.res = true, searchResult{outcome: searchOK}
		return s.res
	}
	if !s.started {
		if !s.setup(b) {
			return searchResult{outcome: searchUndecided}
		}
		s.started = true
	}
	undecided := searchResult{outcome: searchUndecided}
	es := s.es
	for es[0].next >= 0 {
		e := &es[s.cur]
		if !e.ret {
			if !b.step() {
				return undecided
			}
			o := e.op
			ok, next := s.stepFn(s.state, s.ops[o].in)
			if ok {
				s.set(o)
				h := (s.bitsHash ^ zobrist(int(o))) ^ hashString(next)
				if !s.seen(h, next) {
					// Counted: the entry, its window, the map slot and
					// the state's bytes.
					_, w := s.window()
					if !s.alloc(b, entryBytes+int64(len(w))*8+int64(len(next))) {
						s.clear(o)
						return undecided
					}
					s.remember(b, h, next)
					s.calls = append(s.calls, frame{s.cur, s.state})
					s.bitsHash ^= zobrist(int(o))
					s.state = next
					s.lift(s.cur)
					s.cur = es[0].next
					continue
				}
				s.clear(o)
			}
			s.cur = e.next
			continue
		}
		// A return entry: the operation it ends cannot be linearized next.
		if len(s.calls) == 0 {
			s.res.outcome = searchIllegal
			s.done = true
			return s.res
		}
		if s.keepBest && len(s.calls) > len(s.res.best) {
			if !s.alloc(b, int64(len(s.calls)-len(s.res.best))*8) {
				return undecided
			}
			s.res.best = s.res.best[:0]
			for _, f := range s.calls {
				s.res.best = append(s.res.best, int(es[f.entry].op))
			}
			s.res.bestState = s.state
		}
		top := s.calls[len(s.calls)-1]
		s.calls = s.calls[:len(s.calls)-1]
		o := es[top.entry].op
		s.clear(o)
		s.bitsHash ^= zobrist(int(o))
		s.state = top.state
		s.unlift(top.entry)
		s.cur = es[top.entry].next
	}
	s.done = true
	s.buf.best = s.res.best[:0] // kept for the next search of the pool
	s.res = searchResult{outcome: searchOK}
	return s.res
}
