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

// diskStore is the Store of a node behind the boundary: it writes every
// change through to the harness's node.Disk, which decides what a crash
// keeps, and reads what the disk holds by decoding it. It keeps no copy of
// the data: the node does (its state), and the store is read only when a
// node starts.
type diskStore struct {
	disk node.Disk
	kc   *node.Codec[KeySnapshot]
	hc   *node.Codec[Hint]
	buf  []byte
	ks   KeySnapshot // the snapshot being encoded, reused
	// dataKeys maps a key to its disk key (diskData+key), made once per
	// key held rather than once per write; hintKeys does the same for the
	// hints written since the store opened.
	dataKeys map[string]string
	hintKeys map[hintKey]string
	hint     Hint // the hint being encoded, reused
}

var _ Store = (*diskStore)(nil)

// openDiskStore opens what disk holds (a new disk, or one a crash left),
// checking that every entry decodes.
func openDiskStore(disk node.Disk) (*diskStore, error) {
	s := &diskStore{disk: disk, kc: node.NewCodec[KeySnapshot](), hc: node.NewCodec[Hint](), dataKeys: map[string]string{}, hintKeys: map[hintKey]string{}}
	for _, k := range disk.Keys(diskData) {
		if _, err := s.decodeKey(k); err != nil {
			return nil, err
		}
	}
	if _, err := s.decodeHints(); err != nil {
		return nil, err
	}
	for _, k := range disk.Keys(diskMeta) {
		if b, _ := disk.Get(k); len(b) != 8 {
			return nil, fmt.Errorf("%w: disk key %q: %d bytes, want 8", ErrBadNode, k, len(b))
		}
	}
	return s, nil
}

// decodeKey decodes the versions under disk key k.
func (s *diskStore) decodeKey(k string) ([]Version, error) {
	b, _ := s.disk.Get(k)
	var ks KeySnapshot
	if err := s.kc.Decode(b, &ks); err != nil {
		return nil, fmt.Errorf("%w: disk key %q: %v", ErrBadNode, k, err)
	}
	return ks.Versions, nil
}

// decodeHints decodes every hint, sorted by ID.
func (s *diskStore) decodeHints() ([]Hint, error) {
	var out []Hint
	for _, k := range s.disk.Keys(diskHint) {
		b, _ := s.disk.Get(k)
		var h Hint
		if err := s.hc.Decode(b, &h); err != nil {
			return nil, fmt.Errorf("%w: disk key %q: %v", ErrBadNode, k, err)
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Hint) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
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
}

func hintDiskKey(owner sim.NodeID, key string) string {
	return diskHint + strconv.FormatUint(uint64(owner), 10) + "/" + key
}

// Get returns the versions of key, or false. The disk was checked at open,
// so it decodes.
func (s *diskStore) Get(key string) ([]Version, bool) {
	if _, ok := s.disk.Get(diskData + key); !ok {
		return nil, false
	}
	vs, err := s.decodeKey(diskData + key)
	if err != nil {
		panic(err) // written by this store after the check at open: a bug
	}
	return vs, true
}

// put replaces the versions of key; an empty vs is a Delete.
func (s *diskStore) put(key string, vs []Version) {
	if len(vs) == 0 {
		s.disk.Delete(diskData + key)
		delete(s.dataKeys, key)
		return
	}
	dk, ok := s.dataKeys[key]
	if !ok {
		dk = diskData + key
		s.dataKeys[key] = dk
	}
	s.ks = KeySnapshot{Key: key, Versions: vs}
	var err error
	s.buf, err = s.kc.Append(s.buf[:0], &s.ks)
	s.ks = KeySnapshot{}
	if err != nil {
		panic(fmt.Sprintf("kv: encoding versions of %q for the disk: %v", key, err)) // the codec (codec.go) never fails
	}
	s.disk.Put(dk, s.buf)
}

// Keys returns every key holding versions, sorted.
func (s *diskStore) Keys() []string {
	keys := s.disk.Keys(diskData) // sorted, one prefix: sorted by key
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, diskData)
	}
	return keys
}

// putHint stores or replaces the hint for (h.Owner, h.Key).
func (s *diskStore) putHint(h Hint) {
	k := hintKey{h.Owner, h.Key}
	dk, ok := s.hintKeys[k]
	if !ok {
		dk = hintDiskKey(h.Owner, h.Key)
		s.hintKeys[k] = dk
	}
	s.hint = h
	var err error
	s.buf, err = s.hc.Append(s.buf[:0], &s.hint)
	s.hint = Hint{}
	if err != nil {
		panic(fmt.Sprintf("kv: encoding a hint for the disk: %v", err))
	}
	s.disk.Put(dk, s.buf)
}

// deleteHint removes the hint for (owner, key), if any.
func (s *diskStore) deleteHint(owner sim.NodeID, key string) {
	k := hintKey{owner, key}
	dk, ok := s.hintKeys[k]
	if !ok {
		dk = hintDiskKey(owner, key) // a hint from before the store opened, or none
	}
	delete(s.hintKeys, k)
	s.disk.Delete(dk)
}

// Hints returns every hint, sorted by ID.
func (s *diskStore) Hints() []Hint {
	hs, err := s.decodeHints()
	if err != nil {
		panic(err) // written by this store after the check at open: a bug
	}
	return hs
}

// Apply applies writes in order (see Store.Apply), writing each through
// to the disk.
func (s *diskStore) Apply(writes []Write) { applyWrites(s, writes) }

// Meta returns a durable counter.
func (s *diskStore) Meta(name string) (uint64, bool) {
	b, ok := s.disk.Get(diskMeta + name)
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// setMeta stores a counter durably at once.
func (s *diskStore) setMeta(name string, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	s.disk.PutDurable(diskMeta+name, b[:])
}

// Sync makes every write so far durable.
func (s *diskStore) Sync() { s.disk.Sync() }
