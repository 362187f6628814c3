package kv

import (
	"cmp"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// Hint is a write a fallback (or, under a strict quorum with hinted
// handoff, a coordinator) holds for a home replica that could not take it.
// A node keeps at most one hint per (Owner, Key); later writes merge into
// it.
type Hint struct {
	// ID orders hints by creation; it is unique within a node.
	ID uint64
	// Seq changes on every update of the hint; a handoff acknowledgement
	// deletes the hint only if Seq still matches.
	Seq uint64
	// Owner is the home replica the hint is for.
	Owner sim.NodeID
	// Key is the key.
	Key string
	// Versions are the versions to hand off.
	Versions []Version
}

// Store is a node's disk as its driver keeps it. NewNode reads it once
// to recover the node's durable data, hints and counters; from then on
// the node never touches it: every Ready carries the writes the node made
// (Ready.Writes), and the driver applies them in order (Ready.Apply),
// syncing the store when Ready.MustSync says so, before it releases that
// Ready's messages and replies. A crash (the driver's operation, e.g.
// MemStore.Crash or node.MemDisk.Crash) throws away what was not synced.
// Implementations must be deterministic (no iteration order from maps).
type Store interface {
	// Get returns the versions of key, or false if it has none.
	Get(key string) ([]Version, bool)
	// Keys returns every key holding versions, sorted.
	Keys() []string
	// Hints returns every hint, sorted by ID (oldest first).
	Hints() []Hint
	// Meta returns a small durable counter, e.g. the node's incarnation.
	Meta(name string) (uint64, bool)
	// Apply applies writes in order: data and hint writes unsynced until
	// Sync, counter writes (WriteMeta) durably at once. The slices the
	// writes carry are never modified, so the store may keep them.
	Apply(writes []Write)
	// Sync makes every write so far durable.
	Sync()
}

type hintKey struct {
	owner sim.NodeID
	key   string
}

// dirtyData is an unsynced data write: new versions or a deletion.
type dirtyData struct {
	vs      []Version
	deleted bool
}

// dirtyHint is an unsynced hint write: a new hint or a deletion.
type dirtyHint struct {
	h       Hint
	deleted bool
}

// MemStore is an in-memory Store with a durable layer and an unsynced
// layer on top. Maps are only looked up, never iterated into results
// without sorting.
type MemStore struct {
	data      map[string][]Version
	dirty     map[string]dirtyData
	hints     map[hintKey]Hint
	dirtyHint map[hintKey]dirtyHint
	hintCount int
	meta      map[string]uint64
	syncs     uint64
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		data:      map[string][]Version{},
		dirty:     map[string]dirtyData{},
		hints:     map[hintKey]Hint{},
		dirtyHint: map[hintKey]dirtyHint{},
		meta:      map[string]uint64{},
	}
}

// Get returns the versions of key, or false.
func (s *MemStore) Get(key string) ([]Version, bool) {
	if d, ok := s.dirty[key]; ok {
		if d.deleted {
			return nil, false
		}
		return d.vs, true
	}
	vs, ok := s.data[key]
	return vs, ok
}

// put replaces the versions of key in the unsynced layer. An empty vs is
// a Delete.
func (s *MemStore) put(key string, vs []Version) {
	if len(vs) == 0 {
		s.delete(key)
		return
	}
	s.dirty[key] = dirtyData{vs: vs}
}

// delete removes key in the unsynced layer.
func (s *MemStore) delete(key string) {
	if _, ok := s.data[key]; ok {
		s.dirty[key] = dirtyData{deleted: true}
		return
	}
	delete(s.dirty, key)
}

// Keys returns every key holding versions, sorted.
func (s *MemStore) Keys() []string {
	keys := make([]string, 0, len(s.data)+len(s.dirty))
	for k := range s.data {
		if _, ok := s.dirty[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k, d := range s.dirty {
		if !d.deleted {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Hint returns the hint for (owner, key), or false.
func (s *MemStore) Hint(owner sim.NodeID, key string) (Hint, bool) {
	hk := hintKey{owner, key}
	if d, ok := s.dirtyHint[hk]; ok {
		return d.h, !d.deleted
	}
	h, ok := s.hints[hk]
	return h, ok
}

// putHint stores or replaces the hint for (h.Owner, h.Key) unsynced.
func (s *MemStore) putHint(h Hint) {
	hk := hintKey{h.Owner, h.Key}
	if _, ok := s.Hint(h.Owner, h.Key); !ok {
		s.hintCount++
	}
	s.dirtyHint[hk] = dirtyHint{h: h}
}

// deleteHint removes the hint for (owner, key) unsynced.
func (s *MemStore) deleteHint(owner sim.NodeID, key string) {
	hk := hintKey{owner, key}
	if _, ok := s.Hint(owner, key); !ok {
		return
	}
	s.hintCount--
	if _, ok := s.hints[hk]; ok {
		s.dirtyHint[hk] = dirtyHint{deleted: true}
		return
	}
	delete(s.dirtyHint, hk)
}

// Hints returns every hint sorted by ID.
func (s *MemStore) Hints() []Hint {
	out := make([]Hint, 0, s.hintCount)
	for hk, h := range s.hints {
		if _, ok := s.dirtyHint[hk]; !ok {
			out = append(out, h)
		}
	}
	for _, d := range s.dirtyHint {
		if !d.deleted {
			out = append(out, d.h)
		}
	}
	slices.SortFunc(out, func(a, b Hint) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// HintCount returns the number of hints.
func (s *MemStore) HintCount() int { return s.hintCount }

// Wipe throws away the store's data and hints (synced or not) and keeps
// its metadata, as when an operator re-adds a node id with an empty data
// directory: the node's incarnation counter survives, so the node never
// reissues a dot it used in an earlier membership (vector clocks would
// otherwise treat its new writes as already seen).
func (s *MemStore) Wipe() {
	meta := s.meta
	*s = *NewMemStore()
	s.meta = meta
}

// Apply applies writes in order (see Store.Apply).
func (s *MemStore) Apply(writes []Write) { applyWrites(s, writes) }

// Meta returns a durable counter.
func (s *MemStore) Meta(name string) (uint64, bool) {
	v, ok := s.meta[name]
	return v, ok
}

// setMeta stores a counter durably at once.
func (s *MemStore) setMeta(name string, v uint64) { s.meta[name] = v }

// Sync makes every unsynced write durable.
func (s *MemStore) Sync() {
	s.syncs++
	for k, d := range s.dirty {
		if d.deleted {
			delete(s.data, k)
		} else {
			s.data[k] = d.vs
		}
	}
	clear(s.dirty)
	for hk, d := range s.dirtyHint {
		if d.deleted {
			delete(s.hints, hk)
		} else {
			s.hints[hk] = d.h
		}
	}
	clear(s.dirtyHint)
}

// Crash throws away every unsynced write.
func (s *MemStore) Crash() {
	clear(s.dirty)
	clear(s.dirtyHint)
	s.hintCount = len(s.hints)
}

// Unsynced returns the number of unsynced data and hint writes.
func (s *MemStore) Unsynced() int { return len(s.dirty) + len(s.dirtyHint) }

// Syncs returns how many times Sync was called.
func (s *MemStore) Syncs() uint64 { return s.syncs }
