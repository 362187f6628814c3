package ring

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/internal/sim"
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

// memberTokens appends member m's tokens to dst.
func memberTokens(dst []placed, cfg Config, m Member) []placed {
	n := uint32(cfg.VNodes * m.Weight)
	for i := uint32(0); i < n; i++ {
		dst = append(dst, placed{TokenHash(cfg.Seed, m.ID, i), m.ID})
	}
	return dst
}

// buildVNodes builds a virtual-node ring from scratch. It is the reference
// every incremental update must agree with.
func buildVNodes(cfg Config, ms []Member) (*Ring, error) {
	total, err := tokenCount(cfg, ms)
	if err != nil {
		return nil, err
	}
	all := make([]placed, 0, total)
	for _, m := range ms {
		all = memberTokens(all, cfg, m)
	}
	slices.SortFunc(all, cmpPlaced)
	r := &Ring{cfg: cfg, members: ms}
	r.tokens = make([]uint64, 0, total)
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

// vnodeAdd adds member m (already inserted into ms) by merging its sorted
// tokens into r's. A collision falls back to a full rebuild.
func (r *Ring) vnodeAdd(ms []Member, m Member) (*Ring, error) {
	total, err := tokenCount(r.cfg, ms)
	if err != nil {
		return nil, err
	}
	if len(r.hidden) > 0 {
		return buildVNodes(r.cfg, ms)
	}
	mine := memberTokens(make([]placed, 0, r.cfg.VNodes*m.Weight), r.cfg, m)
	slices.SortFunc(mine, cmpPlaced)
	out := &Ring{cfg: r.cfg, members: ms}
	out.tokens = make([]uint64, total)
	out.owners = make([]sim.NodeID, total)
	i, j := 0, 0
	for k := range out.tokens {
		if j < len(mine) && j > 0 && mine[j-1].token == mine[j].token {
			return buildVNodes(r.cfg, ms)
		}
		switch {
		case j == len(mine) || (i < len(r.tokens) && r.tokens[i] < mine[j].token):
			out.tokens[k], out.owners[k] = r.tokens[i], r.owners[i]
			i++
		case i < len(r.tokens) && r.tokens[i] == mine[j].token:
			return buildVNodes(r.cfg, ms)
		default:
			out.tokens[k], out.owners[k] = mine[j].token, m.ID
			j++
		}
	}
	out.finish()
	return out, nil
}

// vnodeRemove drops node id's tokens. If some token was hidden by a
// collision it may now own a range, so that case rebuilds from scratch.
func (r *Ring) vnodeRemove(ms []Member, id sim.NodeID) (*Ring, error) {
	if len(r.hidden) > 0 {
		return buildVNodes(r.cfg, ms)
	}
	keep := len(r.tokens)
	for _, o := range r.owners {
		if o == id {
			keep--
		}
	}
	out := &Ring{cfg: r.cfg, members: ms}
	out.tokens = make([]uint64, 0, keep)
	out.owners = make([]sim.NodeID, 0, keep)
	for i, o := range r.owners {
		if o != id {
			out.tokens = append(out.tokens, r.tokens[i])
			out.owners = append(out.owners, o)
		}
	}
	out.finish()
	return out, nil
}

// finish computes the derived fields: the total weight, the prefix table
// and the number of owning nodes.
func (r *Ring) finish() {
	r.weight = 0
	for _, m := range r.members {
		r.weight += m.Weight
	}
	if r.prefix == nil {
		r.shift = 64 - prefixBits
		r.prefix = buildPrefix(r.tokens, prefixBits)
	}
	if len(r.hidden) == 0 {
		// Every member places at least one token (or, in fixed-shard mode,
		// claims at least one shard) and no token is hidden.
		r.owning = len(r.members)
	} else {
		r.owning = countOwning(r.members, r.owners)
	}
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
