package merkle

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/ring"
)

// Forest is a node's set of trees, one per range it replicates (one per
// shard in fixed-shard mode), all with one Config. The ranges are disjoint;
// Set and Delete route a key to the tree whose range holds its hash in
// O(log ranges). A Forest is not safe for concurrent use.
type Forest struct {
	cfg   Config
	trees []*Tree // sorted by Range.End
	stats ResponderStats
}

// NewForest returns an empty forest whose trees will have configuration cfg.
func NewForest(cfg Config) (*Forest, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Forest{cfg: cfg}, nil
}

// Config returns the forest's tree configuration.
func (f *Forest) Config() Config { return f.cfg }

// Add creates an empty tree for range r. It is an error if r overlaps a
// range the forest already holds.
func (f *Forest) Add(r Range) (*Tree, error) {
	for _, t := range f.trees {
		if t.rng.Overlaps(r) {
			return nil, fmt.Errorf("%w: %v overlaps %v; remove that range first", ErrOverlap, r, t.rng)
		}
	}
	t, err := New(f.cfg, r)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearchFunc(f.trees, r.End, func(t *Tree, e uint64) int { return cmp.Compare(t.rng.End, e) })
	f.trees = slices.Insert(f.trees, i, t)
	return t, nil
}

// Remove drops the tree of range r and reports whether there was one.
func (f *Forest) Remove(r Range) bool {
	i, ok := f.index(r)
	if ok {
		f.trees = slices.Delete(f.trees, i, i+1)
	}
	return ok
}

// Tree returns the tree of exactly range r.
func (f *Forest) Tree(r Range) (*Tree, bool) {
	i, ok := f.index(r)
	if !ok {
		return nil, false
	}
	return f.trees[i], true
}

func (f *Forest) index(r Range) (int, bool) {
	i, ok := slices.BinarySearchFunc(f.trees, r.End, func(t *Tree, e uint64) int { return cmp.Compare(t.rng.End, e) })
	if !ok || f.trees[i].rng != r {
		return 0, false
	}
	return i, true
}

// Ranges returns the ranges held, sorted by End.
func (f *Forest) Ranges() []Range {
	out := make([]Range, len(f.trees))
	for i, t := range f.trees {
		out[i] = t.rng
	}
	return out
}

// Find returns the tree whose range holds hash h. Because the ranges are
// disjoint, it is the one with the smallest End >= h, or else (a range
// wrapping past 2^64-1) the one with the smallest End.
func (f *Forest) Find(h uint64) (*Tree, bool) {
	if len(f.trees) == 0 {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(f.trees, h, func(t *Tree, e uint64) int { return cmp.Compare(t.rng.End, e) })
	if i == len(f.trees) {
		i = 0
	}
	if t := f.trees[i]; t.rng.Contains(h) {
		return t, true
	}
	return nil, false
}

// Set records key at version in the tree holding it. It is ErrOutOfRange
// if the forest holds no range containing the key.
func (f *Forest) Set(key string, version uint64) error {
	t, ok := f.Find(ring.HashKey(key))
	if !ok {
		return fmt.Errorf("%w: key %q is in none of the %d ranges held", ErrOutOfRange, key, len(f.trees))
	}
	return t.Set(key, version)
}

// Delete forgets key and reports whether a tree held it.
func (f *Forest) Delete(key string) bool {
	t, ok := f.Find(ring.HashKey(key))
	return ok && t.Delete(key)
}

// Respond answers a request with the tree of its range, or
// ErrUnknownRange if the forest holds none; see Tree.Respond. Rejections
// are counted in the forest's Stats and come with a refusal to send back.
func (f *Forest) Respond(q Request) (Response, error) {
	t, ok := f.Tree(q.Range)
	if !ok {
		f.stats.UnknownRange++
		return refusal(q), fmt.Errorf("%w: no tree for %v among the %d ranges held", ErrUnknownRange, q.Range, len(f.trees))
	}
	p, err := t.respond(q)
	if err != nil {
		f.stats.BadRequest++
		return refusal(q), err
	}
	f.stats.Served++
	f.stats.Bytes += p.Size()
	return p, nil
}

// Stats returns what Respond has served and rejected.
func (f *Forest) Stats() ResponderStats { return f.stats }
