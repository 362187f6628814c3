package checker

import (
	"slices"
	"strings"
	"sync"

	"github.com/faultline-sim/faultline/history"
)

// The checkers' scratch memory is reused from call to call through
// sync.Pools: a call takes a scratch, works in it and puts it back emptied,
// with every buffer that held a pointer into the history cleared, so a
// pooled scratch keeps no history alive. Nothing a checker returns points
// into a scratch. A scratch that grew past maxScratchBytes keeps only
// the buffers that fit, so one huge check does not pin its memory.

// maxScratchBytes bounds (roughly) the memory one pooled scratch keeps.
const maxScratchBytes = 4 << 20

// maxFreeSearchers bounds the released searchers a pooled scratch keeps.
const maxFreeSearchers = 8

// keyPart is one key of a Linearizable call.
type keyPart struct {
	key string
	raw []*history.Op // the key's operations, unpatched, in history order
	ops []sop         // what the search sees
}

// linScratch is the memory one Linearizable call works in.
type linScratch struct {
	keyID     map[string]int32 // key -> its id, in order of first appearance
	keyOf     []int32          // each operation's key id, -1 if dropped
	names     []string         // key names by id
	cursor    []int32          // id -> the key's count, then where its next operation goes in raw
	byName    []int32          // ids in key order
	raw       []*history.Op    // every key's operations, grouped by key
	groups    [][]*history.Op  // key position -> its operations
	keys      []string         // sorted key names
	parts     []keyPart
	patch     patchScratch
	prepass   prepassScratch
	arena     opArena
	searchers searcherPool
	keyN      int // the most entries keyID held
}

var linPool = sync.Pool{New: func() any { return new(linScratch) }}

func getLinScratch() *linScratch { return linPool.Get().(*linScratch) }

// putLinScratch empties sc and puts it back in the pool.
func putLinScratch(sc *linScratch) {
	sc.recycle()
	linPool.Put(sc)
}

// recycle empties sc for the next call: no buffer keeps a pointer into the
// history (or any string), and buffers past maxScratchBytes are dropped.
func (sc *linScratch) recycle() {
	sc.keyN = max(sc.keyN, len(sc.keyID))
	clear(sc.keyID)
	clear(sc.names[:cap(sc.names)])
	clear(sc.raw[:cap(sc.raw)])
	clear(sc.groups[:cap(sc.groups)])
	clear(sc.keys[:cap(sc.keys)])
	clear(sc.parts[:cap(sc.parts)])
	sc.arena.clear()
	sc.patch.reset()
	sc.prepass.reset()

	room := maxScratchBytes
	sc.keyOf = keep(&room, sc.keyOf, 4)
	sc.names = keep(&room, sc.names, 16)
	sc.byName = keep(&room, sc.byName, 4)
	sc.cursor = keep(&room, sc.cursor, 4)
	sc.raw = keep(&room, sc.raw, 8)
	sc.groups = keep(&room, sc.groups, 24)
	sc.keys = keep(&room, sc.keys, 16)
	sc.parts = keep(&room, sc.parts, 64)
	sc.arena.lin = keep(&room, sc.arena.lin, 64)
	sc.arena.sops = keep(&room, sc.arena.sops, 24)
	sc.patch.vals = keep(&room, sc.patch.vals, 24)
	sc.patch.ret = keep(&room, sc.patch.ret, 8)
	sc.patch.drop = keep(&room, sc.patch.drop, 1)
	sc.prepass.ws = keep(&room, sc.prepass.ws, 40)
	sc.prepass.oks = keep(&room, sc.prepass.oks, 4)
	sc.prepass.sufMin = keep(&room, sc.prepass.sufMin, 8)
	sc.keyID, sc.keyN = keepMap(&room, sc.keyID, sc.keyN, 32)
	sc.patch.index, sc.patch.values = keepMap(&room, sc.patch.index, sc.patch.values, 32)
	sc.prepass.byValue, sc.prepass.values = keepMap(&room, sc.prepass.byValue, sc.prepass.values, 32)
	free := sc.searchers.free[:0]
	for _, s := range sc.searchers.free {
		if n := s.buf.bytes(); n <= room && len(free) < maxFreeSearchers {
			room -= n
			free = append(free, s)
		}
	}
	clear(sc.searchers.free[len(free):])
	sc.searchers.free = free
}

// keep returns s emptied if its capacity, at size bytes an element, fits
// in what *room has left (and takes it from *room), or nil.
func keep[T any](room *int, s []T, size int) []T {
	n := cap(s) * size
	if n > *room {
		return nil
	}
	*room -= n
	return s[:0]
}

// keepMap is keep for an emptied map that held at most n entries of
// about size bytes each.
func keepMap[K comparable, V any](room *int, m map[K]V, n, size int) (map[K]V, int) {
	if n*size > *room {
		return nil, 0
	}
	*room -= n * size
	return m, n
}

// group groups ops by key, keys in sorted order, each group in history
// order, leaving out (and counting as nilReads) the ok reads of nothing
// when dropNilReads. The groups point at ops, in sc's memory.
func (sc *linScratch) group(ops []history.Op, dropNilReads bool) (keys []string, groups [][]*history.Op, nilReads int) {
	if sc.keyID == nil {
		sc.keyID = make(map[string]int32)
	}
	keyOf := resize(sc.keyOf, len(ops))
	names, count := sc.names[:0], sc.cursor[:0]
	for i := range ops {
		o := &ops[i]
		if dropNilReads && o.Kind == history.Read && o.Outcome == history.OK && o.NotFound {
			nilReads++
			keyOf[i] = -1
			continue
		}
		id, ok := sc.keyID[o.Key]
		if !ok {
			id = int32(len(names))
			sc.keyID[o.Key] = id
			names = append(names, o.Key)
			count = append(count, 0)
		}
		keyOf[i] = id
		count[id]++
	}
	n := len(names)
	byName := resize(sc.byName, n)
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
	// Lay the groups out in key order; count becomes each key's cursor.
	raw := resize(sc.raw, len(ops)-nilReads)
	keys, groups = resize(sc.keys, n), resize(sc.groups, n)
	pos := int32(0)
	for r, id := range byName {
		c := count[id]
		keys[r], groups[r] = names[id], raw[pos:pos+c:pos+c]
		count[id] = pos
		pos += c
	}
	for i, id := range keyOf {
		if id >= 0 {
			raw[count[id]] = &ops[i]
			count[id]++
		}
	}
	sc.keyOf, sc.names, sc.cursor, sc.byName, sc.raw, sc.keys, sc.groups = keyOf, names, count, byName, raw, keys, groups
	return keys, groups, nilReads
}

// opArena is the memory toSearchKey takes each key's operations from:
// room reserved once for all the keys of a call.
type opArena struct {
	lin  []linOp
	sops []sop
}

// reserve empties a with room for n operations.
func (a *opArena) reserve(n int) {
	a.lin, a.sops = reuse(a.lin, n), reuse(a.sops, n)
}

// take returns n linOps and an empty slice with room for n sops, from a
// if it has room, else new.
func (a *opArena) take(n int) ([]linOp, []sop) {
	if a == nil || cap(a.lin)-len(a.lin) < n || cap(a.sops)-len(a.sops) < n {
		return make([]linOp, n), make([]sop, 0, n)
	}
	l, s := len(a.lin), len(a.sops)
	a.lin, a.sops = a.lin[:l+n], a.sops[:s+n]
	return a.lin[l : l+n : l+n], a.sops[s : s : s+n]
}

// clear drops what a points at.
func (a *opArena) clear() {
	clear(a.lin[:cap(a.lin)])
	clear(a.sops[:cap(a.sops)])
}
