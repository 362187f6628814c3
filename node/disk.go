package node

import (
	"slices"
	"strings"
)

// Disk is a node's durable storage, owned by the simulator: a sorted
// key-value store whose writes become durable only at Sync. A crash (the
// simulator's operation, not the node's) drops every write since the last
// Sync, so any node gets "a crash loses unsynced writes" without writing
// that logic.
type Disk interface {
	// Get returns the value of key, synced or not. The slice must not be
	// modified and is valid until the next write of key.
	Get(key string) ([]byte, bool)
	// Put stores a copy of value under key, unsynced until Sync.
	Put(key string, value []byte)
	// Delete removes key, unsynced until Sync.
	Delete(key string)
	// Keys returns every key that starts with prefix, synced or not,
	// sorted.
	Keys(prefix string) []string
	// PutDurable stores a copy of value under key durably at once, as a
	// small separately synced file would, without syncing anything else.
	PutDurable(key string, value []byte)
	// Sync makes every write so far durable.
	Sync()
}

// MemDisk is the simulator's in-memory Disk: a durable layer and an
// unsynced layer on top. Crash throws the unsynced layer away. Maps are
// only looked up; Keys sorts.
type MemDisk struct {
	// entries holds every key with a durable value or an unsynced write
	// (one lookup per operation, whatever layer it touches).
	entries map[string]*diskEntry
	// dirty lists the entries with an unsynced write, so Sync visits
	// them without a map lookup (an entry whose write was dropped since,
	// or listed twice, is skipped).
	dirty    []*diskEntry
	unsynced int // entries with an unsynced write
	syncs    uint64
}

// diskEntry is one key's layers.
type diskEntry struct {
	key     string
	durable []byte
	onDisk  bool // durable holds the synced value
	pending []byte
	write   pendingWrite
	// spare is the memory of a durable value a Sync replaced: no Get
	// result may still use it (a write of the key came between), so the
	// key's next Put copies into it.
	spare []byte
}

// pendingWrite is a key's unsynced write, if any.
type pendingWrite uint8

const (
	writeNone   pendingWrite = iota
	writePut                 // pending is the new value
	writeDelete              // the key is deleted
)

// NewMemDisk returns an empty disk.
func NewMemDisk() *MemDisk {
	return &MemDisk{entries: map[string]*diskEntry{}}
}

var _ Disk = (*MemDisk)(nil)

// Get returns the current value of key.
func (d *MemDisk) Get(key string) ([]byte, bool) {
	e := d.entries[key]
	switch {
	case e == nil || e.write == writeDelete:
		return nil, false
	case e.write == writePut:
		return e.pending, true
	}
	return e.durable, e.onDisk
}

// Put stores a copy of value under key in the unsynced layer. The copy
// reuses the memory of the key's unsynced value, or of a durable value
// the last Sync replaced, when it fits: Get's results are valid only until
// the next write of their key.
func (d *MemDisk) Put(key string, value []byte) {
	e := d.entries[key]
	if e == nil {
		e = &diskEntry{key: key}
		d.entries[key] = e
	}
	buf := e.pending
	if e.write != writePut {
		buf, e.spare = e.spare, nil
	}
	if buf == nil || cap(buf) < len(value) {
		buf = make([]byte, 0, len(value))
	}
	d.mark(e, writePut)
	e.pending = append(buf[:0], value...)
}

// Delete removes key in the unsynced layer.
func (d *MemDisk) Delete(key string) {
	e := d.entries[key]
	if e == nil {
		return
	}
	if e.onDisk {
		d.mark(e, writeDelete)
		e.pending = nil
		return
	}
	d.unmark(e) // an unsynced value only: nothing is left
}

// mark gives e the unsynced write w, listing it if it had none.
func (d *MemDisk) mark(e *diskEntry, w pendingWrite) {
	if e.write == writeNone {
		d.dirty = append(d.dirty, e)
		d.unsynced++
	}
	e.write = w
}

// unmark drops e's unsynced write, and e itself if nothing is left of it.
func (d *MemDisk) unmark(e *diskEntry) {
	if e.write != writeNone {
		d.unsynced--
	}
	e.write, e.pending = writeNone, nil
	if !e.onDisk && d.entries[e.key] == e {
		delete(d.entries, e.key)
	}
}

// Keys returns the current keys with prefix, sorted.
func (d *MemDisk) Keys(prefix string) []string {
	var out []string
	for k, e := range d.entries {
		if (e.write == writePut || e.write == writeNone && e.onDisk) && strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// PutDurable stores a copy of value under key durably at once.
func (d *MemDisk) PutDurable(key string, value []byte) {
	e := d.entries[key]
	if e == nil {
		e = &diskEntry{key: key}
		d.entries[key] = e
	}
	e.durable, e.onDisk, e.spare = append(make([]byte, 0, len(value)), value...), true, nil
	d.unmark(e)
}

// Sync makes every unsynced write durable.
func (d *MemDisk) Sync() {
	d.syncs++
	for _, e := range d.dirty {
		switch e.write {
		case writeDelete:
			e.durable, e.onDisk, e.spare = nil, false, nil
		case writePut:
			if e.onDisk {
				e.spare = e.durable
			}
			e.durable, e.onDisk, e.pending = e.pending, true, nil
		default:
			continue // dropped since, or listed twice
		}
		d.unmark(e)
	}
	clear(d.dirty)
	d.dirty = d.dirty[:0]
}

// Crash throws away every write since the last Sync, as a power loss does.
func (d *MemDisk) Crash() {
	for _, e := range d.dirty {
		d.unmark(e)
	}
	clear(d.dirty)
	d.dirty = d.dirty[:0]
}

// Unsynced returns the number of keys with unsynced writes.
func (d *MemDisk) Unsynced() int { return d.unsynced }

// Syncs returns how many times Sync was called.
func (d *MemDisk) Syncs() uint64 { return d.syncs }
