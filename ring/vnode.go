package ring

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// cmpPlaced orders tokens by position, then by owner id, so that of two
// equal tokens the lower node id owns the range.
func cmpPlaced(a, b placed) int {
	if c := cmp.Compare(a.token, b.token); c != 0 {
		return c
	}
	return cmpID(a.owner, b.owner)
}

// tokenCount returns the number of tokens members place under cfg, or an
// error if it exceeds MaxTokens.
func tokenCount(cfg Config, ms []Member) (int, error) {
	total := 0
	for _, m := range ms {
		total += cfg.VNodes * m.Weight
		if total > MaxTokens {
			return 0, fmt.Errorf("%w: VNodes=%d over these weights places more than %d tokens", ErrTooManyTokens, cfg.VNodes, MaxTokens)
		}
	}
	return total, nil
}

// placer positions token number index of node id; production rings use
// TokenHash, tests substitute coarse placers to force collisions.
type placer func(seed uint64, id sim.NodeID, index uint32) uint64

// memberTokens appends member m's tokens to dst.
func memberTokens(dst []placed, cfg Config, m Member, place placer) []placed {
	n := uint32(cfg.VNodes * m.Weight)
	for i := uint32(0); i < n; i++ {
		dst = append(dst, placed{place(cfg.Seed, m.ID, i), m.ID})
	}
	return dst
}

// buildVNodes builds a virtual-node ring from scratch. It is the reference
// every incremental update must agree with.
func buildVNodes(cfg Config, ms []Member, place placer) (*Ring, error) {
	total, err := tokenCount(cfg, ms)
	if err != nil {
		return nil, err
	}
	all := make([]placed, 0, total)
	for _, m := range ms {
		all = memberTokens(all, cfg, m, place)
	}
	slices.SortFunc(all, cmpPlaced)
	r := &Ring{cfg: cfg, members: ms, place: place}
	r.tokens = make([]uint64, 0, total+1)
	r.owners = make([]sim.NodeID, 0, total)
	for i, p := range all {
		if i > 0 && all[i-1].token == p.token {
			r.hidden = append(r.hidden, p)
			continue
		}
		r.tokens = append(r.tokens, p.token)
		r.owners = append(r.owners, p.owner)
	}
	r.finish()
	return r, nil
}

// vnodeAdd adds member m (already inserted into ms): it finds where each of
// m's sorted tokens falls, moves the runs of old tokens between them in
// bulk and shifts the prefix table. A collision falls back to a rebuild.
func (r *Ring) vnodeAdd(ms []Member, m Member) (*Ring, error) {
	total, err := tokenCount(r.cfg, ms)
	if err != nil {
		return nil, err
	}
	if len(r.hidden) > 0 || len(r.tokens) == 0 {
		return buildVNodes(r.cfg, ms, r.place)
	}
	mine := memberTokens(make([]placed, 0, r.cfg.VNodes*m.Weight), r.cfg, m, r.place)
	slices.SortFunc(mine, cmpPlaced)
	out := &Ring{cfg: r.cfg, members: ms, place: r.place, shift: prefixShift(total)}
	out.tokens = make([]uint64, total, total+1)
	out.owners = make([]sim.NodeID, total)
	tops := make([]uint64, len(mine))
	i, k := 0, 0 // next old token, next output slot
	for j, p := range mine {
		if j > 0 && mine[j-1].token == p.token {
			return buildVNodes(r.cfg, ms, r.place)
		}
		at := r.lowerBound(p.token)
		if at < len(r.tokens) && r.tokens[at] == p.token {
			return buildVNodes(r.cfg, ms, r.place)
		}
		k += copy(out.tokens[k:], r.tokens[i:at])
		copy(out.owners[k-(at-i):], r.owners[i:at])
		out.tokens[k], out.owners[k] = p.token, m.ID
		k++
		i = at
		tops[j] = p.token >> r.shift
	}
	copy(out.tokens[k:], r.tokens[i:])
	copy(out.owners[k:], r.owners[i:])
	if out.shift == r.shift {
		out.prefix = shiftPrefix(r.prefix, tops, 1)
	}
	out.finish()
	return out, nil
}

// lowerBound returns the index of the first token >= h, or len(tokens).
func (r *Ring) lowerBound(h uint64) int {
	p := h >> r.shift
	lo, hi := int(r.prefix[p]), int(r.prefix[p+1])
	i, _ := slices.BinarySearch(r.tokens[lo:hi], h)
	return lo + i
}

// shiftPrefix returns a copy of the prefix table p adjusted for tokens
// added (sign 1) or removed (sign -1) whose top bits are tops, in
// ascending order: every entry above a token's top moves by one.
func shiftPrefix(p []uint32, tops []uint64, sign int32) []uint32 {
	out := make([]uint32, len(p))
	x, d := 0, int32(0)
	for _, top := range tops {
		end := int(top) + 1
		addTo(out[x:end], p[x:end], d)
		x, d = end, d+sign
	}
	addTo(out[x:], p[x:], d)
	return out
}

// addTo sets dst[i] = src[i] + d.
func addTo(dst, src []uint32, d int32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = uint32(int32(v) + d)
	}
}

// vnodeRemove drops node id's tokens, moving the runs between them in bulk
// and shifting the prefix table. If some token was hidden by a collision it
// may now own a range, so that case rebuilds from scratch.
func (r *Ring) vnodeRemove(ms []Member, id sim.NodeID) (*Ring, error) {
	if len(r.hidden) > 0 {
		return buildVNodes(r.cfg, ms, r.place)
	}
	var gone []int
	for i, o := range r.owners {
		if o == id {
			gone = append(gone, i)
		}
	}
	keep := len(r.tokens) - len(gone)
	out := &Ring{cfg: r.cfg, members: ms, place: r.place, shift: prefixShift(keep)}
	out.tokens = make([]uint64, keep, keep+1)
	out.owners = make([]sim.NodeID, keep)
	tops := make([]uint64, len(gone))
	i, k := 0, 0
	for j, at := range gone {
		k += copy(out.tokens[k:], r.tokens[i:at])
		copy(out.owners[k-(at-i):], r.owners[i:at])
		i = at + 1
		tops[j] = r.tokens[at] >> r.shift
	}
	copy(out.tokens[k:], r.tokens[i:])
	copy(out.owners[k:], r.owners[i:])
	if out.shift == r.shift {
		out.prefix = shiftPrefix(r.prefix, tops, -1)
	}
	out.finish()
	return out, nil
}

// finish computes the derived fields: the total weight, the prefix table
// and the number of owning nodes.
func (r *Ring) finish() {
	r.tokens = withSentinel(r.tokens)
	r.weight = 0
	for _, m := range r.members {
		r.weight += m.Weight
	}
	if r.prefix == nil {
		r.shift = prefixShift(len(r.tokens))
		r.prefix = buildPrefix(r.tokens, uint(64-r.shift))
	}
	if len(r.hidden) == 0 {
		// Every member places at least one token (or, in fixed-shard mode,
		// claims at least one shard) and no token is hidden.
		r.owning = len(r.members)
	} else {
		r.owning = countOwning(r.members, r.owners)
	}
}

// withSentinel makes sure t[:len(t)+1] ends with math.MaxUint64, a
// sentinel search relies on, reallocating only if t has no spare capacity.
// Shared token slices already carry it and are not written to.
func withSentinel(t []uint64) []uint64 {
	if cap(t) == len(t) {
		t = append(t, 0)[:len(t)]
	}
	if s := t[:len(t)+1]; s[len(t)] != math.MaxUint64 {
		s[len(t)] = math.MaxUint64
	}
	return t
}

// buildPrefix returns the table p with p[x] = the first index whose token's
// top bits are >= x, for x in [0, 1<<bits].
func buildPrefix(tokens []uint64, bits uint) []uint32 {
	size := 1 << bits
	p := make([]uint32, size+1)
	shift := 64 - bits
	x := 0
	for i, t := range tokens {
		top := int(t >> shift)
		for x <= top {
			p[x] = uint32(i)
			x++
		}
	}
	for ; x <= size; x++ {
		p[x] = uint32(len(tokens))
	}
	return p
}

// countOwning returns how many members own at least one token.
func countOwning(ms []Member, owners []sim.NodeID) int {
	if len(ms) == 0 {
		return 0
	}
	seen := make([]bool, len(ms))
	n := 0
	for _, o := range owners {
		i, _ := slices.BinarySearchFunc(ms, o, func(m Member, id sim.NodeID) int { return cmpID(m.ID, id) })
		if !seen[i] {
			seen[i] = true
			n++
			if n == len(ms) {
				break
			}
		}
	}
	return n
}
