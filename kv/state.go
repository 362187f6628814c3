package kv

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// WriteKind says what a Write changes.
type WriteKind uint8

// The kinds of Write.
const (
	// WriteData sets a key's versions (none deletes the key).
	WriteData WriteKind = iota + 1
	// WriteHint sets the hint for (Hint.Owner, Hint.Key) (no versions
	// deletes it).
	WriteHint
	// WriteMeta sets a small counter, durably at once (a tiny separately
	// synced file): the driver does not wait for a sync to keep it.
	WriteMeta
)

// Write is one change to a node's durable state, carried by Ready for the
// driver to apply to the node's Store in order.
type Write struct {
	// Kind says which of the fields below the write uses.
	Kind WriteKind
	// Key is a WriteData's key or a WriteMeta's counter name.
	Key string
	// Versions are a WriteData key's versions after the write; none
	// deletes the key. The slice must not be modified.
	Versions []Version
	// Hint is a WriteHint's hint after the write (Owner and Key name it);
	// a hint without versions deletes it. Its slice must not be modified.
	Hint Hint
	// Value is a WriteMeta counter's value.
	Value uint64
}

// writeTarget is a store that takes a node's writes one by one.
type writeTarget interface {
	put(key string, vs []Version) // none deletes the key
	putHint(h Hint)
	deleteHint(owner sim.NodeID, key string)
	setMeta(name string, v uint64)
}

// applyWrites applies writes to s in order (Store.Apply's work for the
// stores of this package).
func applyWrites(s writeTarget, writes []Write) {
	for _, w := range writes {
		switch w.Kind {
		case WriteData:
			s.put(w.Key, w.Versions)
		case WriteHint:
			if len(w.Hint.Versions) == 0 {
				s.deleteHint(w.Hint.Owner, w.Hint.Key)
			} else {
				s.putHint(w.Hint)
			}
		case WriteMeta:
			s.setMeta(w.Key, w.Value)
		default:
			panic(fmt.Sprintf("kv: unknown write kind %d", w.Kind))
		}
	}
}

// state is a node's durable state as the node last wrote it (synced or
// not): the data, the hints and the counters it reads, and the writes and
// the sync it has not yet handed out in a Ready. The node never touches
// its Store after NewNode: persistence is output, applied by the driver.
// Maps are only looked up; Keys and Hints sort.
type state struct {
	data   map[string][]Version
	hints  map[hintKey]Hint
	meta   map[string]uint64
	writes []Write
	// sorted holds the hints sorted by ID while sortedOK; a hint change
	// clears sortedOK and the next Hints sorts again into the same memory.
	sorted   []Hint
	sortedOK bool
	mem      arena // the versions the state keeps are copied into it
	mustSync bool
	// unsynced: a write was made since the last Sync (or since the node
	// started, whatever the store held), so a sync now is not empty.
	unsynced bool
}

// loadState reads what s holds (everything a restart recovers).
func loadState(s Store) *state {
	st := &state{data: map[string][]Version{}, hints: map[hintKey]Hint{}, meta: map[string]uint64{}, unsynced: true, mem: newArena(stateChunk)}
	for _, k := range s.Keys() {
		if vs, ok := s.Get(k); ok && len(vs) > 0 {
			st.data[k] = st.mem.cloneVersions(vs)
		}
	}
	for _, h := range s.Hints() {
		h.Versions = st.mem.cloneVersions(h.Versions)
		st.hints[hintKey{h.Owner, h.Key}] = h
	}
	for _, name := range metaNames {
		if v, ok := s.Meta(name); ok {
			st.meta[name] = v
		}
	}
	return st
}

// Get returns the versions of key, or false if it has none.
func (s *state) Get(key string) ([]Version, bool) {
	vs, ok := s.data[key]
	return vs, ok
}

// Put replaces the versions of key; an empty vs is a Delete.
func (s *state) Put(key string, vs []Version) {
	if len(vs) == 0 {
		s.Delete(key)
		return
	}
	vs = s.mem.cloneVersions(vs)
	s.data[key] = vs
	s.write(Write{Kind: WriteData, Key: key, Versions: vs})
}

// Delete removes key and its versions.
func (s *state) Delete(key string) {
	if _, ok := s.data[key]; !ok {
		return
	}
	delete(s.data, key)
	s.write(Write{Kind: WriteData, Key: key})
}

// Keys returns every key holding versions, sorted.
func (s *state) Keys() []string {
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Hint returns the hint for (owner, key), or false.
func (s *state) Hint(owner sim.NodeID, key string) (Hint, bool) {
	h, ok := s.hints[hintKey{owner, key}]
	return h, ok
}

// PutHint stores or replaces the hint for (h.Owner, h.Key).
func (s *state) PutHint(h Hint) {
	h.Versions = s.mem.cloneVersions(h.Versions)
	s.hints[hintKey{h.Owner, h.Key}] = h
	s.sortedOK = false
	s.write(Write{Kind: WriteHint, Hint: h})
}

// DeleteHint removes the hint for (owner, key), if any.
func (s *state) DeleteHint(owner sim.NodeID, key string) {
	hk := hintKey{owner, key}
	if _, ok := s.hints[hk]; !ok {
		return
	}
	delete(s.hints, hk)
	s.sortedOK = false
	s.write(Write{Kind: WriteHint, Hint: Hint{Owner: owner, Key: key}})
}

// Hints returns every hint, sorted by ID (oldest first). The slice is the
// state's: it is valid until the next hint change and must not be
// modified.
func (s *state) Hints() []Hint {
	if s.sortedOK {
		return s.sorted
	}
	out := s.sorted[:0]
	for _, h := range s.hints {
		out = append(out, h)
	}
	clear(out[len(out):cap(out)]) // no deleted hint's versions stay alive
	slices.SortFunc(out, func(a, b Hint) int { return cmp.Compare(a.ID, b.ID) })
	s.sorted, s.sortedOK = out, true
	return out
}

// HintCount returns the number of hints.
func (s *state) HintCount() int { return len(s.hints) }

// Meta returns a durable counter.
func (s *state) Meta(name string) (uint64, bool) {
	v, ok := s.meta[name]
	return v, ok
}

// metaNames are the durable counters a node keeps: loadState reads these,
// so a counter missing here would not survive a restart (SetMeta refuses
// it).
var metaNames = []string{metaIncarnation, metaMembershipIncarnation, metaHandoffIncomplete, metaRing}

// SetMeta sets a counter, durably at once.
func (s *state) SetMeta(name string, v uint64) {
	if !slices.Contains(metaNames, name) {
		panic(fmt.Sprintf("kv: durable counter %q is not in metaNames: a restart would not read it back", name)) // a bug in kv
	}
	s.meta[name] = v
	s.write(Write{Kind: WriteMeta, Key: name, Value: v})
}

// write queues w for the driver.
func (s *state) write(w Write) {
	s.writes = append(s.writes, w)
	s.unsynced = true
}

// Sync asks the driver to make every write so far durable before it
// releases the Ready that carries them.
func (s *state) Sync() { s.mustSync, s.unsynced = true, false }

// Apply applies the writes rd carries to s, in order, then syncs s if
// rd.MustSync: what a driver does with every Ready before it sends the
// Ready's messages and replies.
func (rd Ready) Apply(s Store) {
	s.Apply(rd.Writes)
	if rd.MustSync {
		s.Sync()
	}
}
