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
	durable map[string][]byte
	dirty   map[string]dirtyValue
	// dirtyKeys lists every key of dirty (and maybe keys dropped from it
	// since), so Sync visits them without iterating a map.
	dirtyKeys []string
	// spare holds, per key, the memory of a durable value a Sync replaced:
	// no Get result may still use it (a write of the key came between), so
	// the key's next Put copies into it.
	spare map[string][]byte
	syncs uint64
}

// dirtyValue is an unsynced write: a new value or a deletion.
type dirtyValue struct {
	value   []byte
	deleted bool
}

// NewMemDisk returns an empty disk.
func NewMemDisk() *MemDisk {
	return &MemDisk{durable: map[string][]byte{}, dirty: map[string]dirtyValue{}, spare: map[string][]byte{}}
}

var _ Disk = (*MemDisk)(nil)

// Get returns the current value of key.
func (d *MemDisk) Get(key string) ([]byte, bool) {
	if w, ok := d.dirty[key]; ok {
		return w.value, !w.deleted
	}
	v, ok := d.durable[key]
	return v, ok
}

// Put stores a copy of value under key in the unsynced layer. The copy
// reuses the memory of the key's unsynced value, or of a durable value
// the last Sync replaced, when it fits: Get's results are valid only until
// the next write of their key.
func (d *MemDisk) Put(key string, value []byte) {
	w, ok := d.dirty[key]
	if !ok {
		d.dirtyKeys = append(d.dirtyKeys, key)
	}
	buf := w.value
	if buf == nil {
		buf = d.spare[key]
		delete(d.spare, key)
	}
	if buf == nil || cap(buf) < len(value) {
		buf = make([]byte, 0, len(value))
	}
	d.dirty[key] = dirtyValue{value: append(buf[:0], value...)}
}

// Delete removes key in the unsynced layer.
func (d *MemDisk) Delete(key string) {
	if _, ok := d.durable[key]; ok {
		if _, ok := d.dirty[key]; !ok {
			d.dirtyKeys = append(d.dirtyKeys, key)
		}
		d.dirty[key] = dirtyValue{deleted: true}
		return
	}
	delete(d.dirty, key)
}

// Keys returns the current keys with prefix, sorted.
func (d *MemDisk) Keys(prefix string) []string {
	var out []string
	for k := range d.durable {
		if _, ok := d.dirty[k]; !ok && strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	for k, w := range d.dirty {
		if !w.deleted && strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// PutDurable stores a copy of value under key durably at once.
func (d *MemDisk) PutDurable(key string, value []byte) {
	delete(d.dirty, key)
	d.durable[key] = append(make([]byte, 0, len(value)), value...)
}

// Sync makes every unsynced write durable.
func (d *MemDisk) Sync() {
	d.syncs++
	for _, k := range d.dirtyKeys {
		w, ok := d.dirty[k]
		if !ok {
			continue // dropped since, or listed twice
		}
		delete(d.dirty, k)
		if w.deleted {
			delete(d.durable, k)
			delete(d.spare, k)
			continue
		}
		if old, ok := d.durable[k]; ok {
			d.spare[k] = old
		}
		d.durable[k] = w.value
	}
	clear(d.dirtyKeys)
	d.dirtyKeys = d.dirtyKeys[:0]
}

// Crash throws away every write since the last Sync, as a power loss does.
func (d *MemDisk) Crash() {
	clear(d.dirty)
	clear(d.dirtyKeys)
	d.dirtyKeys = d.dirtyKeys[:0]
}

// Unsynced returns the number of keys with unsynced writes.
func (d *MemDisk) Unsynced() int { return len(d.dirty) }

// Syncs returns how many times Sync was called.
func (d *MemDisk) Syncs() uint64 { return d.syncs }
