package nemesis

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// Check reports the first fault that is malformed on its own (unknown kind,
// missing or stray fields, bad parameters) or out of time order. It does
// not know the cluster's nodes; Validate does.
func (s Schedule) Check() error {
	for i := range s {
		f := &s[i]
		if err := f.check(); err != nil {
			return fmt.Errorf("nemesis schedule fault %d (%s): %w", i+1, time.Duration(f.At), err)
		}
		if i > 0 && f.At < s[i-1].At {
			return fmt.Errorf("nemesis schedule fault %d (%s): time is before fault %d's %v (faults must be sorted by time)", i+1, f, i, time.Duration(s[i-1].At))
		}
	}
	return nil
}

// Validate checks the schedule (as Check does) and that every node it names
// is one of nodes, the cluster's node ids (members and spares).
func (s Schedule) Validate(nodes []sim.NodeID) error {
	if err := s.Check(); err != nil {
		return err
	}
	known := append([]sim.NodeID(nil), nodes...)
	sort.Slice(known, func(i, j int) bool { return known[i] < known[j] })
	for i := range s {
		for _, n := range s[i].nodesOf() {
			k := sort.Search(len(known), func(j int) bool { return known[j] >= n })
			if k == len(known) || known[k] != n {
				return fmt.Errorf("nemesis schedule fault %d (%s): names node %s, which is not a node of this cluster (nodes: %s)", i+1, s[i], n, nodeList(known))
			}
		}
	}
	return nil
}

// Cuts returns the directed links a partition fault cuts, sorted by (From,
// To); nil for any other kind. Two nodes listed in a partition's groups can
// talk iff some group holds both (isolate, halves, bridge); a one-way
// partition cuts only links from the first group to the second; a ring cuts
// the links between nodes farther apart around the ring than half a
// majority. Nodes the fault does not list keep all their links.
func (f Fault) Cuts() []Link {
	var out []Link
	switch f.Kind {
	case PartitionIsolate, PartitionHalves, PartitionBridge:
		all := sortedUnion(f.Groups...)
		for _, u := range all {
			for _, v := range all {
				if u != v && !shareGroup(f.Groups, u, v) {
					out = append(out, Link{From: u, To: v})
				}
			}
		}
	case PartitionOneWay:
		if len(f.Groups) != 2 {
			return nil
		}
		for _, u := range sortedUnion(f.Groups[0]) {
			for _, v := range sortedUnion(f.Groups[1]) {
				if u != v {
					out = append(out, Link{From: u, To: v})
				}
			}
		}
	case PartitionRing:
		n := len(f.Nodes)
		majority := n/2 + 1
		reach := majority / 2 // each node sees itself and reach neighbours on each side
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				d := i - j
				if d < 0 {
					d = -d
				}
				if n-d < d {
					d = n - d
				}
				if d > reach {
					out = append(out, Link{From: f.Nodes[i], To: f.Nodes[j]})
				}
			}
		}
	}
	sortLinks(out)
	return out
}

func shareGroup(groups [][]sim.NodeID, u, v sim.NodeID) bool {
	for _, g := range groups {
		hu, hv := false, false
		for _, x := range g {
			hu = hu || x == u
			hv = hv || x == v
		}
		if hu && hv {
			return true
		}
	}
	return false
}

func sortedUnion(groups ...[]sim.NodeID) []sim.NodeID {
	var all []sim.NodeID
	for _, g := range groups {
		all = append(all, g...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := all[:0]
	for i, x := range all {
		if i == 0 || x != all[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func sortLinks(ls []Link) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].From != ls[j].From {
			return ls[i].From < ls[j].From
		}
		return ls[i].To < ls[j].To
	})
}

// End returns the time of the schedule's last action (a strobe's last flip
// and the end of a clog count), or 0 for the empty schedule.
func (s Schedule) End() sim.Time {
	var end sim.Time
	for i := range s {
		t := s[i].At
		if s[i].Kind == ClockStrobe && s[i].Cycles >= 1 && s[i].Period > 0 {
			t = s[i].strobeEnd()
		}
		if s[i].Kind == LinkClog && s[i].clogEnd() != sim.Never {
			t = s[i].clogEnd()
		}
		if t > end {
			end = t
		}
	}
	return end
}

// Faults returns how many faults the schedule holds, counted as windows
// (undos are not faults; a join and the leave that undoes it are one).
func (s Schedule) Faults() int { return len(s.Windows()) }

// Windows returns the span of every fault, from the fault to its undo,
// sorted by start (then schedule order): a partition lasts until the next
// heal; a crash, pause, clock or link fault until each of its nodes or links
// has been undone (restart, resume, clock-reset, link-clear, link-release);
// a clog at its own end or when each of its links is unclogged (or clogged
// anew), if earlier; a join or a leave until the opposite churn of the same
// node. A fault never undone ends at sim.Never.
func (s Schedule) Windows() []Window {
	var wins []Window
	var partitions []int
	// Per-node / per-link open windows, keyed by a small string, looked up
	// only (never iterated).
	opened := map[string][]int{}
	pending := map[int]int{}
	start := func(f *Fault, fam Family, keys []string) {
		w := len(wins)
		wins = append(wins, Window{Start: f.At, End: sim.Never, Family: fam, Kind: f.Kind, Label: f.Label()})
		pending[w] = len(keys)
		for _, k := range keys {
			opened[k] = append(opened[k], w)
		}
	}
	undo := func(at sim.Time, keys []string) {
		for _, k := range keys {
			for _, w := range opened[k] {
				pending[w]--
				if pending[w] == 0 && at < wins[w].End {
					wins[w].End = at
				}
			}
			delete(opened, k)
		}
	}
	for i := range s {
		f := &s[i]
		fam, _ := f.Kind.Family()
		switch f.Kind {
		case PartitionIsolate, PartitionHalves, PartitionOneWay, PartitionBridge, PartitionRing:
			partitions = append(partitions, len(wins))
			wins = append(wins, Window{Start: f.At, End: sim.Never, Family: fam, Kind: f.Kind, Label: f.Label()})
		case Heal:
			for _, w := range partitions {
				wins[w].End = f.At
			}
			partitions = partitions[:0]
		case Crash, Restart:
			if f.Kind == Crash {
				start(f, fam, nodeKeys("crash", f.Nodes))
			} else {
				undo(f.At, nodeKeys("crash", f.Nodes))
			}
		case Pause, Resume:
			if f.Kind == Pause {
				start(f, fam, nodeKeys("pause", f.Nodes))
			} else {
				undo(f.At, nodeKeys("pause", f.Nodes))
			}
		case ClockSkew, ClockBump, ClockStrobe, ClockDrift:
			start(f, fam, nodeKeys("clock", f.Nodes))
		case ClockReset:
			undo(f.At, nodeKeys("clock", f.Nodes))
		case LinkFault:
			start(f, fam, linkKeys(f.Links))
		case LinkClear:
			undo(f.At, linkKeys(f.Links))
		case LinkHold:
			start(f, fam, linkKeys(f.Links, "hold"))
		case LinkRelease:
			undo(f.At, linkKeys(f.Links, "hold"))
		case LinkClog:
			// A new clog replaces the time of one in force on its links.
			keys := linkKeys(f.Links, "clog")
			undo(f.At, keys)
			start(f, fam, keys)
			wins[len(wins)-1].End = f.clogEnd()
		case LinkUnclog:
			undo(f.At, linkKeys(f.Links, "clog"))
		case Join, Leave:
			// Whichever of join/leave comes first for a node opens its
			// window; the opposite closes it.
			var opens []sim.NodeID
			for _, n := range f.Nodes {
				k := "churn/" + n.String()
				if ws := opened[k]; len(ws) > 0 && wins[ws[0]].Kind != f.Kind {
					undo(f.At, []string{k})
				} else {
					opens = append(opens, n)
				}
			}
			if len(opens) > 0 {
				g := *f
				g.Nodes = opens
				start(&g, fam, nodeKeys("churn", opens))
			}
		}
	}
	sort.SliceStable(wins, func(i, j int) bool { return wins[i].Start < wins[j].Start })
	return wins
}

func nodeKeys(prefix string, ns []sim.NodeID) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = prefix + "/" + n.String()
	}
	return out
}

func linkKeys(ls []Link, prefix ...string) []string {
	p := "link/"
	if len(prefix) > 0 {
		p = prefix[0] + "/"
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = p + l.String()
	}
	return out
}

// Healed reports whether the schedule undoes everything it does: it ends
// with no partition, crashed or paused node, clock fault, link fault, or
// membership change (a node's joins and leaves cancel out) in effect. The
// error lists what is left.
func (s Schedule) Healed() error {
	var left []string
	for _, w := range s.Windows() {
		if w.End == sim.Never {
			left = append(left, fmt.Sprintf("%s at %v", w.Label, time.Duration(w.Start)))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("nemesis schedule does not end healed: never undone: %s", strings.Join(left, "; "))
	}
	return nil
}

// ValidateFor checks the schedule (as Validate does, with members and
// spares as the cluster's nodes) and replays it against the Target
// contract for a cluster whose initial members are members: only an up
// member crashes, pauses or leaves; only a crashed node restarts, a paused
// one resumes; only a non-member joins. The error names the first fault
// that breaks the contract. It does not check membership sizes.
func (s Schedule) ValidateFor(members, spares []sim.NodeID) error {
	all := append(append([]sim.NodeID(nil), members...), spares...)
	if err := distinct(all); err != nil {
		return fmt.Errorf("nemesis: members and spares: %w", err)
	}
	if err := s.Validate(all); err != nil {
		return err
	}
	const (
		up = iota
		crashed
		paused
	)
	// Per-node state, looked up only.
	member := map[sim.NodeID]bool{}
	for _, n := range members {
		member[n] = true
	}
	state := map[sim.NodeID]int{}
	for i := range s {
		f := &s[i]
		for _, n := range f.Nodes {
			var bad string
			switch f.Kind {
			case Crash, Pause, Leave:
				switch {
				case !member[n]:
					bad = "is not a member"
				case state[n] == crashed:
					bad = "is crashed"
				case state[n] == paused:
					bad = "is paused"
				}
			case Restart:
				if state[n] != crashed {
					bad = "is not crashed"
				}
			case Resume:
				if state[n] != paused {
					bad = "is not paused"
				}
			case Join:
				if member[n] {
					bad = "is already a member"
				}
			}
			if bad != "" {
				return fmt.Errorf("nemesis schedule fault %d (%s): %s %s then", i+1, f, n, bad)
			}
			switch f.Kind {
			case Crash:
				state[n] = crashed
			case Pause:
				state[n] = paused
			case Restart, Resume:
				state[n] = up
			case Join:
				member[n] = true
			case Leave:
				member[n] = false
			}
		}
	}
	return nil
}
