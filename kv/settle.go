package kv

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/sim"
)

// sweep tracks, after a heal, which (range, peer) pairs this node's own
// anti-entropy exchanges have compared: the sweep is done when every range
// it replicates was compared with every other replica of that range. Data
// does not vanish while the healed cluster settles, so once every node's
// sweep is done every replica holds what any replica of its range held at
// the heal (each pair's repair runs both ways). The exchange schedule
// visits pairs the sweep still needs first (tickAntiEntropy).
type sweep struct {
	healed   bool
	excluded []sim.NodeID       // members left faulty by a liveness-mode settle
	todo     map[sweepPair]bool // pairs not compared yet (looked up, counted)
	doneAt   int64              // tick the sweep was done; repairs it sent may still be in flight
	done     bool
}

type sweepPair struct {
	end  uint64 // the range's End
	peer sim.NodeID
}

// Healed starts a new anti-entropy sweep: quiescence from now on requires
// every range to have been compared with every other replica since the
// heal.
func (n *Node) Healed(excluded []sim.NodeID) {
	n.sweep = sweep{healed: true, excluded: slices.Clone(excluded)}
	n.resetSweep()
}

// resetSweep makes every (range, other replica) pair pending again.
func (n *Node) resetSweep() {
	if !n.sweep.healed || n.ae == nil {
		return
	}
	n.sweep.todo = map[sweepPair]bool{}
	n.sweep.done = false
	for _, o := range n.ae.owned {
		for _, p := range o.replicas {
			if p != n.id && !slices.Contains(n.sweep.excluded, p) {
				n.sweep.todo[sweepPair{o.r.End, p}] = true
			}
		}
	}
	if len(n.sweep.todo) == 0 {
		n.sweep.done, n.sweep.doneAt = true, n.now // nothing to compare with
	}
}

// swept records a finished exchange of range end with peer.
func (n *Node) swept(end uint64, peer sim.NodeID) {
	if !n.sweep.healed || n.sweep.todo == nil {
		return
	}
	k := sweepPair{end, peer}
	if !n.sweep.todo[k] {
		return
	}
	delete(n.sweep.todo, k)
	if len(n.sweep.todo) == 0 {
		n.sweep.done, n.sweep.doneAt = true, n.now
	}
}

// sweepPeer returns the first live replica of range o that the sweep since
// the heal has not compared o with yet.
func (n *Node) sweepPeer(o ownedRange) (sim.NodeID, bool) {
	if !n.sweep.healed || n.sweep.done {
		return 0, false
	}
	for _, p := range o.replicas {
		if p != n.id && n.sweep.todo[sweepPair{o.r.End, p}] && !n.believedDown(p) {
			return p, true
		}
	}
	return 0, false
}

// Quiescent reports whether the node owes no background work: no hint to
// hand off to a member (with hinted handoff on), no range to pull or
// stream, no leave in progress, and with anti-entropy on, a full sweep
// since Healed that found nothing to repair. Otherwise it says what is
// outstanding.
func (n *Node) Quiescent() (bool, string) {
	var owed []string
	if n.cfg.HintedHandoff {
		hints := n.hints.owed(func(owner sim.NodeID) bool {
			return n.route.ring.Contains(owner) && !slices.Contains(n.sweep.excluded, owner)
		})
		if hints > 0 {
			owed = append(owed, fmt.Sprintf("%d hints to hand off", hints))
		}
	}
	owed = append(owed, n.transfer.outstanding()...)
	if n.ae != nil && len(n.ae.owned) > 0 {
		switch {
		case !n.sweep.healed:
			owed = append(owed, "an anti-entropy sweep (not healed yet)")
		case !n.sweep.done:
			owed = append(owed, fmt.Sprintf("an anti-entropy sweep since the heal (%d of its range/replica pairs not compared yet)", len(n.sweep.todo)))
		case n.now-n.sweep.doneAt < int64(n.cfg.RequestTimeoutTicks):
			owed = append(owed, "the repairs of its last anti-entropy exchange (in flight)")
		}
	}
	return len(owed) == 0, strings.Join(owed, ", ")
}
