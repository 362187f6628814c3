package node

import (
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// View is the cluster's membership as the simulator's oracle knows it: the
// initial members and every change since, in order. Stores whose placement
// depends on the order of changes (e.g. fixed shards) replay Changes; the
// others use Members.
type View struct {
	// Initial are the members the run started with, sorted.
	Initial []sim.NodeID
	// Changes are the joins and leaves since, in the order they happened.
	Changes []Change
}

// Change is one membership change.
type Change struct {
	// Node is the node that joined or left.
	Node sim.NodeID
	// Join is true for a join, false for a leave.
	Join bool
}

// Epoch numbers the view: the count of changes since the start.
func (v View) Epoch() int { return len(v.Changes) }

// Members returns the current members, sorted.
func (v View) Members() []sim.NodeID {
	out := slices.Clone(v.Initial)
	for _, c := range v.Changes {
		i, found := slices.BinarySearch(out, c.Node)
		switch {
		case c.Join && !found:
			out = slices.Insert(out, i, c.Node)
		case !c.Join && found:
			out = slices.Delete(out, i, i+1)
		}
	}
	return out
}

// Contains reports whether id is a current member.
func (v View) Contains(id sim.NodeID) bool {
	_, found := slices.BinarySearch(v.Members(), id)
	return found
}

// With returns a copy of v with one more change; v is unchanged.
func (v View) With(c Change) View {
	return View{Initial: v.Initial, Changes: append(slices.Clip(v.Changes), c)}
}
