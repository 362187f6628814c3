package kv

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// Disk layout of a node behind the boundary: one disk key per data key
// ("d/" + key, a KeySnapshot), per hint ("h/" + owner + "/" + key, a Hint)
// and per metadata counter ("m/" + name, 8 bytes big-endian).
const (
	diskData = "d/"
	diskHint = "h/"
	diskMeta = "m/"
)

// diskStore is the Store of a node behind the boundary: it keeps the
// decoded state in memory for reads and writes every change through to the
// harness's node.Disk, which decides what a crash keeps. Maps are only
// looked up; Keys and Hints sort.
type diskStore struct {
	disk  node.Disk
	data  map[string][]Version
	hints map[hintKey]Hint
	meta  map[string]uint64
	kc    *node.Codec[KeySnapshot]
	hc    *node.Codec[Hint]
	buf   []byte
	ks    KeySnapshot // the snapshot being encoded, reused
}

var _ Store = (*diskStore)(nil)

// openDiskStore reads what disk holds (a new disk, or one a crash left).
func openDiskStore(disk node.Disk) (*diskStore, error) {
	s := &diskStore{
		disk: disk, data: map[string][]Version{}, hints: map[hintKey]Hint{}, meta: map[string]uint64{},
		kc: node.NewCodec[KeySnapshot](), hc: node.NewCodec[Hint](),
	}
	for _, k := range disk.Keys(diskData) {
		b, _ := disk.Get(k)
		var ks KeySnapshot
		if err := s.kc.Decode(b, &ks); err != nil {
			return nil, fmt.Errorf("%w: disk key %q: %v", ErrBadNode, k, err)
		}
		s.data[ks.Key] = ks.Versions
	}
	for _, k := range disk.Keys(diskHint) {
		b, _ := disk.Get(k)
		var h Hint
		if err := s.hc.Decode(b, &h); err != nil {
			return nil, fmt.Errorf("%w: disk key %q: %v", ErrBadNode, k, err)
		}
		s.hints[hintKey{h.Owner, h.Key}] = h
	}
	for _, k := range disk.Keys(diskMeta) {
		b, _ := disk.Get(k)
		if len(b) != 8 {
			return nil, fmt.Errorf("%w: disk key %q: %d bytes, want 8", ErrBadNode, k, len(b))
		}
		s.meta[strings.TrimPrefix(k, diskMeta)] = binary.BigEndian.Uint64(b)
	}
	return s, nil
}

// wipe forgets every key and hint, synced or not, and keeps the metadata,
// as when an operator re-adds a node id with an empty data directory: the
// incarnation counter survives, so no dot is ever reissued.
func (s *diskStore) wipe() {
	for _, k := range s.disk.Keys(diskData) {
		s.disk.Delete(k)
	}
	for _, k := range s.disk.Keys(diskHint) {
		s.disk.Delete(k)
	}
	s.disk.Sync()
	clear(s.data)
	clear(s.hints)
}

func hintDiskKey(owner sim.NodeID, key string) string {
	return diskHint + strconv.FormatUint(uint64(owner), 10) + "/" + key
}

// Get returns the versions of key, or false.
func (s *diskStore) Get(key string) ([]Version, bool) {
	vs, ok := s.data[key]
	return vs, ok
}

// put replaces the versions of key; an empty vs is a Delete.
func (s *diskStore) put(key string, vs []Version) {
	if len(vs) == 0 {
		s.delete(key)
		return
	}
	s.data[key] = vs
	s.ks = KeySnapshot{Key: key, Versions: vs}
	var err error
	s.buf, err = s.kc.Append(s.buf[:0], &s.ks)
	s.ks = KeySnapshot{}
	if err != nil {
		panic(fmt.Sprintf("kv: encoding versions of %q for the disk: %v", key, err)) // a bug in the generated codec
	}
	s.disk.Put(diskData+key, s.buf)
}

// delete removes key.
func (s *diskStore) delete(key string) {
	if _, ok := s.data[key]; !ok {
		return
	}
	delete(s.data, key)
	s.disk.Delete(diskData + key)
}

// Keys returns every key holding versions, sorted.
func (s *diskStore) Keys() []string {
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// putHint stores or replaces the hint for (h.Owner, h.Key).
func (s *diskStore) putHint(h Hint) {
	s.hints[hintKey{h.Owner, h.Key}] = h
	var err error
	s.buf, err = s.hc.Append(s.buf[:0], &h)
	if err != nil {
		panic(fmt.Sprintf("kv: encoding a hint for the disk: %v", err))
	}
	s.disk.Put(hintDiskKey(h.Owner, h.Key), s.buf)
}

// deleteHint removes the hint for (owner, key), if any.
func (s *diskStore) deleteHint(owner sim.NodeID, key string) {
	hk := hintKey{owner, key}
	if _, ok := s.hints[hk]; !ok {
		return
	}
	delete(s.hints, hk)
	s.disk.Delete(hintDiskKey(owner, key))
}

// Hints returns every hint, sorted by ID.
func (s *diskStore) Hints() []Hint {
	out := make([]Hint, 0, len(s.hints))
	for _, h := range s.hints {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Hint) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Apply applies writes in order (see Store.Apply), writing each through
// to the disk.
func (s *diskStore) Apply(writes []Write) { applyWrites(s, writes) }

// Meta returns a durable counter.
func (s *diskStore) Meta(name string) (uint64, bool) {
	v, ok := s.meta[name]
	return v, ok
}

// setMeta stores a counter durably at once.
func (s *diskStore) setMeta(name string, v uint64) {
	s.meta[name] = v
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	s.disk.PutDurable(diskMeta+name, b[:])
}

// Sync makes every write so far durable.
func (s *diskStore) Sync() { s.disk.Sync() }
