package ring

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// stealSalt separates the scores that pick which shards move from the
// token positions of virtual-node mode.
const stealSalt = 0x5348415244535445 // "SHARDSTE"

// shardEnd returns the last hash position of shard s of q equal shards: the
// shard holds (shardEnd(s-1), shardEnd(s)], and shardEnd(q-1) = 2^64-1. It
// is the shard's token.
func shardEnd(s, q int) uint64 {
	end, _ := bits.Div64(uint64(s), ^uint64(0), uint64(q))
	return end
}

// shardOf returns the shard of q equal shards that holds hash h.
func shardOf(h uint64, q int) int {
	hi, _ := bits.Mul64(h, uint64(q))
	return int(hi)
}

// shardTokens returns the q shard ends in ascending order.
func shardTokens(q int) []uint64 {
	t := make([]uint64, q, q+1)
	for s := range t {
		t[s] = shardEnd(s, q)
	}
	return t
}

// checkShards rejects a membership the shards cannot serve.
func checkShards(q int, ms []Member) (int, error) {
	w := 0
	for _, m := range ms {
		w += m.Weight
	}
	if w > q {
		return 0, fmt.Errorf("%w: Shards=%d cannot give %d members their total weight %d; use at least %d shards", ErrTooFewShards, q, len(ms), w, w)
	}
	return w, nil
}

// newSharded builds a fixed-shard ring: a smooth weighted round robin over
// the members in id order claims the shards in ring order, so with equal
// weights consecutive shards belong to consecutive members.
func newSharded(cfg Config, ms []Member) (*Ring, error) {
	w, err := checkShards(cfg.Shards, ms)
	if err != nil {
		return nil, err
	}
	r := &Ring{cfg: cfg, members: ms}
	if len(ms) > 0 {
		q := cfg.Shards
		r.tokens = shardTokens(q)
		r.owners = make([]sim.NodeID, q)
		cur := make([]int, len(ms))
		for s := range q {
			best := 0
			for i, m := range ms {
				cur[i] += m.Weight
				if cur[i] > cur[best] {
					best = i
				}
			}
			cur[best] -= w
			r.owners[s] = ms[best].ID
		}
	}
	r.finish()
	return r, nil
}

// sharedShape makes out reuse r's shard tokens and prefix table (they
// depend only on Q), building them if r had none.
func (r *Ring) sharedShape(out *Ring) {
	if len(r.tokens) > 0 {
		out.tokens, out.prefix, out.shift = r.tokens, r.prefix, r.shift
		return
	}
	out.tokens = shardTokens(r.cfg.Shards)
}

// claim tracks shard counts per member during a fixed-shard update.
type claim struct {
	q      int
	w      int // total weight of ms
	ms     []Member
	counts []int
	owners []sim.NodeID
	// idx[s] is the index in ms of shard s's owner, or -1 when the owner
	// is leaving.
	idx []int32
}

func newClaim(q, w int, ms []Member, owners []sim.NodeID) *claim {
	c := &claim{q: q, w: w, ms: ms, counts: make([]int, len(ms)), owners: owners, idx: make([]int32, len(owners))}
	lookup := newIDIndex(ms)
	for s, o := range owners {
		i := lookup.get(o)
		c.idx[s] = i
		if i >= 0 {
			c.counts[i]++
		}
	}
	return c
}

// move gives shard s to member i.
func (c *claim) move(s, i int) {
	if from := c.idx[s]; from >= 0 {
		c.counts[from]--
	}
	c.owners[s], c.idx[s] = c.ms[i].ID, int32(i)
	c.counts[i]++
}

// idIndex maps node ids to their index in a sorted member slice: a dense
// table when the ids are small, else binary search.
type idIndex struct {
	dense []int32
	ms    []Member
}

func newIDIndex(ms []Member) idIndex {
	x := idIndex{ms: ms}
	if len(ms) > 0 && ms[len(ms)-1].ID < 1<<16 {
		x.dense = make([]int32, ms[len(ms)-1].ID+1)
		for i := range x.dense {
			x.dense[i] = -1
		}
		for i, m := range ms {
			x.dense[m.ID] = int32(i)
		}
	}
	return x
}

// get returns the index of id, or -1 if it is not a member.
func (x idIndex) get(id sim.NodeID) int32 {
	if x.dense != nil {
		if int(id) < len(x.dense) {
			return x.dense[id]
		}
		return -1
	}
	lo, hi := 0, len(x.ms)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if x.ms[mid].ID < id {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(x.ms) && x.ms[lo].ID == id {
		return int32(lo)
	}
	return -1
}

// excess compares member i's load to its share, scaled by W to stay exact:
// counts[i]·W − Q·weight.
func (c *claim) excess(i int) int64 {
	return int64(c.counts[i])*int64(c.w) - int64(c.q)*int64(c.ms[i].Weight)
}

// target is member i's share Q·weight/W rounded half up (>= 1 when Q >= W).
func (c *claim) target(i int) int {
	return (2*c.q*c.ms[i].Weight + c.w) / (2 * c.w)
}

// adjacent reports whether shard s borders a shard of id.
func (c *claim) adjacent(s int, id sim.NodeID) bool {
	return c.owners[(s+c.q-1)%c.q] == id || c.owners[(s+1)%c.q] == id
}

// steal moves k shards to member t, each from the member with the largest
// excess that keeps at least one shard. Of a victim's shards it takes the
// one with the lowest seeded score that does not border a shard of t, if
// any, so stolen shards spread around the ring.
func (c *claim) steal(seed uint64, t, k int) {
	taker := c.ms[t].ID
	// Bucket the shards by owner (a counting sort): mine[v] lists v's.
	start := make([]int, len(c.ms)+1)
	for _, i := range c.idx {
		start[i+1]++
	}
	for i := range c.ms {
		start[i+1] += start[i]
	}
	order := make([]int, start[len(c.ms)])
	next := slices.Clone(start[:len(c.ms)])
	for s, i := range c.idx {
		if i >= 0 {
			order[next[i]] = s
			next[i]++
		}
	}
	for range k {
		v := -1
		for i := range c.ms {
			if i == t || c.counts[i] < 2 {
				continue
			}
			if v < 0 || c.excess(i) > c.excess(v) {
				v = i
			}
		}
		if v < 0 {
			return // unreachable when Q >= W: someone always has two shards
		}
		pick, pickAdj, pickScore := -1, false, uint64(0)
		for _, s := range order[start[v]:start[v+1]] {
			if c.idx[s] != int32(v) {
				continue // already stolen
			}
			adj := c.adjacent(s, taker)
			score := TokenHash(seed^stealSalt, taker, uint32(s))
			if pick < 0 || (pickAdj && !adj) || (adj == pickAdj && score < pickScore) {
				pick, pickAdj, pickScore = s, adj, score
			}
		}
		c.move(pick, t)
	}
}

// give hands each shard in order to a member other than skip: one whose
// deficit is within a shard of the largest deficit, preferring one that does
// not border the shard, then the larger deficit, then the lower id.
func (c *claim) give(shards []int, skip int) {
	for _, s := range shards {
		most := -1
		for i := range c.ms {
			if i != skip && (most < 0 || c.excess(i) < c.excess(most)) {
				most = i
			}
		}
		best := most
		if c.adjacent(s, c.ms[most].ID) {
			limit := c.excess(most) + int64(c.w) // within one shard of the most deficient
			for i, m := range c.ms {
				if i == skip || c.excess(i) >= limit || c.adjacent(s, m.ID) {
					continue
				}
				if best == most || c.excess(i) < c.excess(best) {
					best = i
				}
			}
		}
		c.move(s, best)
	}
}

// shardAdd adds ms[t] (already inserted) by stealing its rounded share.
func (r *Ring) shardAdd(ms []Member, t int) (*Ring, error) {
	w, err := checkShards(r.cfg.Shards, ms)
	if err != nil {
		return nil, err
	}
	if len(r.members) == 0 {
		return newSharded(r.cfg, ms)
	}
	out := &Ring{cfg: r.cfg, members: ms, owners: slices.Clone(r.owners)}
	r.sharedShape(out)
	c := newClaim(r.cfg.Shards, w, ms, out.owners)
	c.steal(r.cfg.Seed, t, c.target(t))
	out.finish()
	return out, nil
}

// shardRemove hands every shard of id, in ring order, to the most
// under-loaded remaining member.
func (r *Ring) shardRemove(ms []Member, id sim.NodeID) (*Ring, error) {
	out := &Ring{cfg: r.cfg, members: ms}
	if len(ms) == 0 {
		out.finish()
		return out, nil
	}
	w, err := checkShards(r.cfg.Shards, ms)
	if err != nil {
		return nil, err
	}
	out.owners = slices.Clone(r.owners)
	r.sharedShape(out)
	c := newClaim(r.cfg.Shards, w, ms, out.owners)
	var mine []int
	for s, o := range out.owners {
		if o == id {
			mine = append(mine, s)
		}
	}
	c.give(mine, -1)
	out.finish()
	return out, nil
}

// shardSetWeight moves shards to or from ms[t] until it holds its rounded
// share under the new weights.
func (r *Ring) shardSetWeight(ms []Member, t int) (*Ring, error) {
	w, err := checkShards(r.cfg.Shards, ms)
	if err != nil {
		return nil, err
	}
	out := &Ring{cfg: r.cfg, members: ms, owners: slices.Clone(r.owners)}
	r.sharedShape(out)
	c := newClaim(r.cfg.Shards, w, ms, out.owners)
	switch want := c.target(t); {
	case want > c.counts[t]:
		c.steal(r.cfg.Seed, t, want-c.counts[t])
	case want < c.counts[t]:
		id := ms[t].ID
		var mine []int
		for s, o := range out.owners {
			if o == id {
				mine = append(mine, s)
			}
		}
		slices.SortFunc(mine, func(a, b int) int {
			return cmp.Compare(TokenHash(r.cfg.Seed^stealSalt, id, uint32(a)), TokenHash(r.cfg.Seed^stealSalt, id, uint32(b)))
		})
		c.give(mine[:c.counts[t]-want], t)
	}
	out.finish()
	return out, nil
}
