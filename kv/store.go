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

// Store is a node's disk: key versions and hints, in an unsynced layer
// that Sync makes durable and a crash (the harness's operation, e.g.
// MemStore.Crash or node.MemDisk.Crash) throws away. Durable state is data plus
// hints plus metadata. Slices returned by a Store must not be modified;
// slices passed to it may be reused by the caller after the call returns.
// Implementations must be deterministic (no iteration order from maps).
type Store interface {
	// Get returns the versions of key, or false if it has none.
	Get(key string) ([]Version, bool)
	// Put replaces the versions of key (unsynced until Sync).
	Put(key string, vs []Version)
	// Delete removes key and its versions entirely (unsynced until Sync).
	Delete(key string)
	// Keys returns every key holding versions, sorted.
	Keys() []string
	// Hint returns the hint for (owner, key), or false.
	Hint(owner sim.NodeID, key string) (Hint, bool)
	// PutHint stores or replaces the hint for (h.Owner, h.Key).
	PutHint(h Hint)
	// DeleteHint removes the hint for (owner, key), if any.
	DeleteHint(owner sim.NodeID, key string)
	// Hints returns every hint, sorted by ID (oldest first).
	Hints() []Hint
	// HintCount returns the number of hints.
	HintCount() int
	// Meta returns a small durable counter, e.g. the node's incarnation.
	Meta(name string) (uint64, bool)
	// SetMeta stores a counter durably at once (a tiny separately synced
	// file); it does not sync anything else.
	SetMeta(name string, v uint64)
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

// Put replaces the versions of key in the unsynced layer. An empty vs is
// a Delete.
func (s *MemStore) Put(key string, vs []Version) {
	if len(vs) == 0 {
		s.Delete(key)
		return
	}
	s.dirty[key] = dirtyData{vs: cloneVersions(vs)}
}

// Delete removes key in the unsynced layer.
func (s *MemStore) Delete(key string) {
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

// PutHint stores or replaces the hint for (h.Owner, h.Key) unsynced.
func (s *MemStore) PutHint(h Hint) {
	hk := hintKey{h.Owner, h.Key}
	if _, ok := s.Hint(h.Owner, h.Key); !ok {
		s.hintCount++
	}
	h.Versions = cloneVersions(h.Versions)
	s.dirtyHint[hk] = dirtyHint{h: h}
}

// DeleteHint removes the hint for (owner, key) unsynced.
func (s *MemStore) DeleteHint(owner sim.NodeID, key string) {
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

// Meta returns a durable counter.
func (s *MemStore) Meta(name string) (uint64, bool) {
	v, ok := s.meta[name]
	return v, ok
}

// SetMeta stores a counter durably at once.
func (s *MemStore) SetMeta(name string, v uint64) { s.meta[name] = v }

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
