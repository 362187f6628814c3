package merkle

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/ring"
)

// Limits that keep a tree's memory and a message's size bounded.
const (
	// MaxFanout bounds Config.Fanout.
	MaxFanout = 256
	// MaxLeaves bounds Fanout^Depth, the number of leaf buckets of a tree.
	MaxLeaves = 1 << 20
	// MaxBatch bounds Config.Batch and Config.LeafBatch: the node indexes
	// one request may carry.
	MaxBatch = 1 << 14
	// DefaultBatch is the Config.Batch used when it is 0.
	DefaultBatch = 256
	// DefaultLeafBatch is the Config.LeafBatch used when it is 0.
	DefaultLeafBatch = 32
)

// Errors returned by trees, forests and sessions. They are wrapped with
// details, so compare them with errors.Is.
var (
	// ErrBadConfig is returned for a Config that cannot describe a tree.
	ErrBadConfig = errors.New("merkle: bad config")
	// ErrOutOfRange is returned when a key's hash lies outside the tree's
	// range (or outside every range of a forest).
	ErrOutOfRange = errors.New("merkle: key outside the range")
	// ErrOverlap is returned when a forest is given a range that overlaps
	// one it holds.
	ErrOverlap = errors.New("merkle: overlapping ranges")
	// ErrUnknownRange is returned for a request naming a range the
	// responder holds no tree for.
	ErrUnknownRange = errors.New("merkle: unknown range")
	// ErrConfigMismatch is returned when the two replicas' trees differ in
	// depth or fanout, so their hashes cannot be compared.
	ErrConfigMismatch = errors.New("merkle: tree shape mismatch")
	// ErrBadRequest is returned for a malformed request: unknown kind, bad
	// level, an index out of range, unsorted or too many indexes.
	ErrBadRequest = errors.New("merkle: bad request")
	// ErrBadResponse is returned by Session.Step for a response that does
	// not answer the outstanding request or is malformed; the session is
	// unchanged.
	ErrBadResponse = errors.New("merkle: bad response")
	// ErrSessionDone is returned by Session.Step after the exchange ended.
	ErrSessionDone = errors.New("merkle: session already done")
	// ErrRefused is returned by Session.Step when the peer refused the
	// exchange (see Response.Refused); the session is then done, with no
	// diffs.
	ErrRefused = errors.New("merkle: the peer refused the exchange")
)

// Config fixes the shape of a tree and the batching of an exchange. Both
// replicas of a range must use the same Depth and Fanout.
type Config struct {
	// Depth is the number of levels below the root (>= 1); leaves are at
	// level Depth.
	Depth int
	// Fanout is the number of children of an inner node, in [2, MaxFanout].
	// Fanout^Depth must not exceed MaxLeaves.
	Fanout int
	// Batch is the most inner nodes whose children one request asks for
	// (0 means DefaultBatch).
	Batch int
	// LeafBatch is the most leaves whose key lists one request asks for
	// (0 means DefaultLeafBatch).
	LeafBatch int
}

// DefaultConfig returns a tree of 16^3 = 4096 leaves: about 64 KiB of
// hashes per range, fine for ranges of up to ~100k keys.
func DefaultConfig() Config { return Config{Depth: 3, Fanout: 16} }

// Validate reports what is wrong with c, or nil.
func (c Config) Validate() error {
	switch {
	case c.Depth < 1:
		return fmt.Errorf("%w: Depth=%d must be at least 1", ErrBadConfig, c.Depth)
	case c.Fanout < 2 || c.Fanout > MaxFanout:
		return fmt.Errorf("%w: Fanout=%d must be in [2, %d]", ErrBadConfig, c.Fanout, MaxFanout)
	case c.Batch < 0 || c.Batch > MaxBatch:
		return fmt.Errorf("%w: Batch=%d must be in [0, %d] (0 means %d)", ErrBadConfig, c.Batch, MaxBatch, DefaultBatch)
	case c.LeafBatch < 0 || c.LeafBatch > MaxBatch:
		return fmt.Errorf("%w: LeafBatch=%d must be in [0, %d] (0 means %d)", ErrBadConfig, c.LeafBatch, MaxBatch, DefaultLeafBatch)
	}
	n := 1
	for range c.Depth {
		n *= c.Fanout
		if n > MaxLeaves {
			return fmt.Errorf("%w: Fanout^Depth = %d^%d exceeds %d leaves; lower Depth or Fanout", ErrBadConfig, c.Fanout, c.Depth, MaxLeaves)
		}
	}
	return nil
}

// Leaves returns Fanout^Depth, the number of leaf buckets (for a valid c).
func (c Config) Leaves() int {
	n := 1
	for range c.Depth {
		n *= c.Fanout
	}
	return n
}

func (c Config) batch() int {
	if c.Batch == 0 {
		return DefaultBatch
	}
	return c.Batch
}

func (c Config) leafBatch() int {
	if c.LeafBatch == 0 {
		return DefaultLeafBatch
	}
	return c.LeafBatch
}

// Range is the ring arc a tree covers: hashes in (Start, End], wrapping
// past 2^64-1 when Start > End; Start == End is the whole ring. It is
// ring.Arc, so a ring.Range's Arc is the Range of its tree.
type Range = ring.Arc

// bucket returns the leaf of hash h (which must lie in r) among n leaves:
// floor(offset·n / width) with offset = h-Start-1 in [0, width).
func bucket(r Range, h uint64, n int) int {
	off := h - r.Start - 1
	hi, lo := bits.Mul64(off, uint64(n))
	if r.Full() {
		return int(hi) // width 2^64
	}
	q, _ := bits.Div64(hi, lo, r.End-r.Start) // hi < width since off < width
	return int(q)
}

// Entry is one key and its version fingerprint.
type Entry struct {
	Key     string `codec:"k"`
	Version uint64 `codec:"v"`
}

// Tree is the Merkle tree of one range. It stores each key's version
// fingerprint; Set and Delete keep every hash current in O(Depth). A Tree is
// not safe for concurrent use.
type Tree struct {
	cfg    Config
	rng    Range
	levels [][]uint64          // levels[l] has Fanout^l hashes; levels[0][0] is the root
	leaves []map[string]uint64 // per leaf bucket, allocated on first use
	n      int
	stats  ResponderStats
}

// New returns an empty tree over range r.
func New(cfg Config, r Range) (*Tree, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tree{cfg: cfg, rng: r, levels: make([][]uint64, cfg.Depth+1)}
	w := 1
	for l := range t.levels {
		t.levels[l] = make([]uint64, w)
		w *= cfg.Fanout
	}
	t.leaves = make([]map[string]uint64, len(t.levels[cfg.Depth]))
	return t, nil
}

// Build returns the tree over r holding entries, computed from scratch
// level by level: the reference an incrementally updated tree must equal.
// A repeated key keeps its last version.
func Build(cfg Config, r Range, entries []Entry) (*Tree, error) {
	t, err := New(cfg, r)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		h := ring.HashKey(e.Key)
		if !r.Contains(h) {
			return nil, fmt.Errorf("%w: key %q hashes to %#x, outside %v", ErrOutOfRange, e.Key, h, r)
		}
		b := bucket(r, h, len(t.leaves))
		if t.leaves[b] == nil {
			t.leaves[b] = map[string]uint64{}
		}
		if _, ok := t.leaves[b][e.Key]; !ok {
			t.n++
		}
		t.leaves[b][e.Key] = e.Version
	}
	d := cfg.Depth
	for b, m := range t.leaves {
		var s uint64
		for k, v := range m { // a wrapping sum: the order does not matter
			s += itemHash(ring.HashKey(k), v)
		}
		t.levels[d][b] = s
	}
	for l := d - 1; l >= 0; l-- {
		for i := range t.levels[l] {
			var s uint64
			for c := range cfg.Fanout {
				child := i*cfg.Fanout + c
				s += contrib(l+1, child, t.levels[l+1][child])
			}
			t.levels[l][i] = s
		}
	}
	return t, nil
}

// Config returns the tree's configuration.
func (t *Tree) Config() Config { return t.cfg }

// Range returns the arc the tree covers.
func (t *Tree) Range() Range { return t.rng }

// Len returns the number of keys in the tree.
func (t *Tree) Len() int { return t.n }

// Root returns the root hash. Equal roots mean, up to 64-bit hash
// collisions, equal (key, version) sets.
func (t *Tree) Root() uint64 { return t.levels[0][0] }

// Hash returns the hash of node index at level (0 is the root, Depth the
// leaves), or an error if there is no such node.
func (t *Tree) Hash(level, index int) (uint64, error) {
	if level < 0 || level >= len(t.levels) || index < 0 || index >= len(t.levels[level]) {
		return 0, fmt.Errorf("%w: no node %d at level %d of a tree with depth %d and fanout %d", ErrBadRequest, index, level, t.cfg.Depth, t.cfg.Fanout)
	}
	return t.levels[level][index], nil
}

// Get returns key's version fingerprint and whether the tree holds key.
func (t *Tree) Get(key string) (uint64, bool) {
	h := ring.HashKey(key)
	if !t.rng.Contains(h) {
		return 0, false
	}
	v, ok := t.leaves[bucket(t.rng, h, len(t.leaves))][key]
	return v, ok
}

// Set records that key is held at version fingerprint version (a write, or
// a tombstone's fingerprint for a delete that keeps one). It is an error if
// key's hash lies outside the tree's range.
func (t *Tree) Set(key string, version uint64) error {
	h := ring.HashKey(key)
	if !t.rng.Contains(h) {
		return fmt.Errorf("%w: key %q hashes to %#x, outside %v", ErrOutOfRange, key, h, t.rng)
	}
	b := bucket(t.rng, h, len(t.leaves))
	m := t.leaves[b]
	if m == nil {
		m = map[string]uint64{}
		t.leaves[b] = m
	}
	old, had := m[key]
	if had && old == version {
		return nil
	}
	m[key] = version
	leaf := t.levels[t.cfg.Depth][b]
	next := leaf + itemHash(h, version)
	if had {
		next -= itemHash(h, old)
	} else {
		t.n++
	}
	t.propagate(b, leaf, next)
	return nil
}

// Delete forgets key entirely (e.g. when a tombstone is garbage-collected)
// and reports whether the tree held it. A key outside the range is not held.
func (t *Tree) Delete(key string) bool {
	h := ring.HashKey(key)
	if !t.rng.Contains(h) {
		return false
	}
	b := bucket(t.rng, h, len(t.leaves))
	old, had := t.leaves[b][key]
	if !had {
		return false
	}
	delete(t.leaves[b], key)
	t.n--
	leaf := t.levels[t.cfg.Depth][b]
	t.propagate(b, leaf, leaf-itemHash(h, old))
	return true
}

// propagate sets leaf b's hash from old to next and adjusts its ancestors:
// each parent's sum loses the child's old contribution and gains the new.
func (t *Tree) propagate(b int, old, next uint64) {
	idx := b
	for l := t.cfg.Depth; ; l-- {
		t.levels[l][idx] = next
		if l == 0 || old == next {
			return
		}
		p := idx / t.cfg.Fanout
		po := t.levels[l-1][p]
		pn := po - contrib(l, idx, old) + contrib(l, idx, next)
		old, next, idx = po, pn, p
	}
}

// leafEntries returns leaf b's entries sorted by key.
func (t *Tree) leafEntries(b int) []Entry {
	m := t.leaves[b]
	if len(m) == 0 {
		return nil
	}
	out := make([]Entry, 0, len(m))
	for k, v := range m {
		out = append(out, Entry{Key: k, Version: v})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Entries returns every (key, version) the tree holds, sorted by key.
func (t *Tree) Entries() []Entry {
	out := make([]Entry, 0, t.n)
	for b := range t.leaves {
		out = append(out, t.leafEntries(b)...)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Equal reports whether two trees have the same shape, range and hashes at
// every node.
func (t *Tree) Equal(o *Tree) bool {
	if t.cfg.Depth != o.cfg.Depth || t.cfg.Fanout != o.cfg.Fanout || t.rng != o.rng || t.n != o.n {
		return false
	}
	for l := range t.levels {
		if !slices.Equal(t.levels[l], o.levels[l]) {
			return false
		}
	}
	return true
}

// mix is the SplitMix64 finaliser, a bijective 64-bit mixer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// itemHash is one (key hash, version) pair's share of its leaf's sum.
func itemHash(h, version uint64) uint64 { return mix(h ^ mix(version^0x5be0cd19137e2179)) }

// contrib is a child's share of its parent's sum: its hash mixed with its
// position, so moving a hash to another child changes the parent. An empty
// subtree (hash 0) contributes 0, so an empty tree has root 0.
func contrib(level, index int, h uint64) uint64 {
	if h == 0 {
		return 0
	}
	return mix(h ^ mix(uint64(level)<<48^uint64(index)))
}
