package ring

import (
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// Range is the arc of the ring one token owns (its embedded Arc): the
// hashes in (Start, End], wrapping past 2^64-1 when Start >= End. End is the
// token itself; a ring with a single token has one range with Start == End
// covering every hash. Replicas is the range's preference list, Owner first.
type Range struct {
	Arc
	Token    uint64
	Owner    sim.NodeID
	Replicas []sim.NodeID
}

// Ranges lists the ring's ranges in token order, each with the preference
// list of n replicas that holds it: the partition table of the ring. The
// i-th range is the one RangeIndex returns i for.
func (r *Ring) Ranges(n int) ([]Range, error) {
	if err := r.checkN(n); err != nil {
		return nil, err
	}
	t := r.tokens
	out := make([]Range, len(t))
	reps := make([]sim.NodeID, 0, len(t)*n)
	for i := range t {
		// Walk into the free tail of reps (its capacity never runs out).
		reps = reps[:len(reps)+len(r.walk(i, n, reps[len(reps):]))]
		start := t[len(t)-1]
		if i > 0 {
			start = t[i-1]
		}
		out[i] = Range{Arc: Arc{Start: start, End: t[i]}, Token: t[i], Owner: r.owners[i], Replicas: reps[len(reps)-n : len(reps) : len(reps)]}
	}
	return out, nil
}

// Shares returns the fraction of the hash space each member owns, aligned
// with Nodes(). The fractions sum to 1 on a non-empty ring.
func (r *Ring) Shares() []float64 {
	if r == nil {
		return nil
	}
	if len(r.tokens) == 0 {
		return make([]float64, len(r.members))
	}
	out := make([]float64, len(r.members))
	// Sum exact arc lengths per member; a sum that wraps to 0 while the
	// member owns tokens is the whole ring.
	sums := make([]uint64, len(r.members))
	owns := make([]bool, len(r.members))
	prev := r.tokens[len(r.tokens)-1]
	for i, t := range r.tokens {
		m, _ := r.find(r.owners[i])
		sums[m] += t - prev // wraps correctly for i = 0
		owns[m] = true
		prev = t
	}
	for m, s := range sums {
		switch {
		case owns[m] && s == 0:
			out[m] = 1
		default:
			out[m] = float64(s) / (1 << 64)
		}
	}
	return out
}

// RangeIndex returns the index in Ranges of the range holding hash h, or -1
// on an empty ring.
func (r *Ring) RangeIndex(h uint64) int {
	if r == nil || len(r.tokens) == 0 {
		return -1
	}
	return r.search(h)
}

// RangeChange is an arc (Start, End] (its embedded Arc) whose
// owner or replica set differs between two rings: what a join, leave or
// reweighting must stream. Replica lists are in preference order.
type RangeChange struct {
	Arc
	OldOwner, NewOwner       sim.NodeID
	OldReplicas, NewReplicas []sim.NodeID
}

// Gained returns the nodes that hold the arc in the new ring but not the
// old one: the nodes that must receive its data.
func (c RangeChange) Gained() []sim.NodeID { return missing(c.NewReplicas, c.OldReplicas) }

// Lost returns the nodes that held the arc in the old ring but not the new
// one: the nodes that may drop its data once the transfer is done.
func (c RangeChange) Lost() []sim.NodeID { return missing(c.OldReplicas, c.NewReplicas) }

// OwnerChanged reports whether the arc's coordinator changed.
func (c RangeChange) OwnerChanged() bool { return c.OldOwner != c.NewOwner }

func missing(from, in []sim.NodeID) []sim.NodeID {
	var out []sim.NodeID
	for _, id := range from {
		if !slices.Contains(in, id) {
			out = append(out, id)
		}
	}
	return out
}

// Diff returns the arcs whose owner or preference list of n replicas
// differs between old and new, in ring order from hash 0, with adjacent
// arcs of identical change merged (also across the wrap point). The rings
// may differ in membership, weights and even configuration: the comparison
// is geometric. Both must be non-empty with at least n owning nodes.
func Diff(old, new *Ring, n int) ([]RangeChange, error) {
	if err := old.checkN(n); err != nil {
		return nil, fmt.Errorf("old ring: %w", err)
	}
	if err := new.checkN(n); err != nil {
		return nil, fmt.Errorf("new ring: %w", err)
	}
	// Every arc between consecutive tokens of the union lies inside one
	// range of each ring.
	bounds := make([]uint64, 0, len(old.tokens)+len(new.tokens))
	bounds = append(bounds, old.tokens...)
	bounds = append(bounds, new.tokens...)
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)

	var out []RangeChange
	oa, na := make([]sim.NodeID, 0, n), make([]sim.NodeID, 0, n)
	for i, end := range bounds {
		start := bounds[len(bounds)-1]
		if i > 0 {
			start = bounds[i-1]
		}
		oa = old.walk(old.search(end), n, oa[:0])
		na = new.walk(new.search(end), n, na[:0])
		if slices.Equal(oa, na) {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].End == start && slices.Equal(out[k].OldReplicas, oa) && slices.Equal(out[k].NewReplicas, na) {
			out[k].End = end
			continue
		}
		out = append(out, RangeChange{
			Arc:      Arc{Start: start, End: end},
			OldOwner: oa[0], NewOwner: na[0],
			OldReplicas: slices.Clone(oa), NewReplicas: slices.Clone(na),
		})
	}
	if k := len(out) - 1; k > 0 && out[k].End == out[0].Start &&
		slices.Equal(out[k].OldReplicas, out[0].OldReplicas) && slices.Equal(out[k].NewReplicas, out[0].NewReplicas) {
		out[0].Start = out[k].Start
		out = out[:k]
	}
	return out, nil
}
