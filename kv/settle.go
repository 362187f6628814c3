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
// visits pairs the sweep still needs first (antiEntropy.tick).
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
func (n *Node) Healed(excluded []sim.NodeID) { n.ae.healed(n.now, excluded) }

// healed starts a new sweep at tick now; excluded are members left faulty
// by a liveness-mode settle, whom it need not compare with.
func (a *antiEntropy) healed(now int64, excluded []sim.NodeID) {
	a.sweep = sweep{healed: true, excluded: slices.Clone(excluded)}
	a.resetSweep(now)
}

// resetSweep makes every (range, other replica) pair pending again.
func (a *antiEntropy) resetSweep(now int64) {
	if !a.sweep.healed || !a.on {
		return
	}
	a.sweep.todo = map[sweepPair]bool{}
	a.sweep.done = false
	for _, o := range a.owned {
		for _, p := range o.replicas {
			if p != a.self && !slices.Contains(a.sweep.excluded, p) {
				a.sweep.todo[sweepPair{o.r.End, p}] = true
			}
		}
	}
	if len(a.sweep.todo) == 0 {
		a.sweep.done, a.sweep.doneAt = true, now // nothing to compare with
	}
}

// swept records a finished exchange of range end with peer at tick now.
func (a *antiEntropy) swept(now int64, end uint64, peer sim.NodeID) {
	if !a.sweep.healed || a.sweep.todo == nil {
		return
	}
	k := sweepPair{end, peer}
	if !a.sweep.todo[k] {
		return
	}
	delete(a.sweep.todo, k)
	if len(a.sweep.todo) == 0 {
		a.sweep.done, a.sweep.doneAt = true, now
	}
}

// sweepPeer returns the first live replica of range o that the sweep since
// the heal has not compared o with yet.
func (a *antiEntropy) sweepPeer(o ownedRange) (sim.NodeID, bool) {
	if !a.sweep.healed || a.sweep.done {
		return 0, false
	}
	for _, p := range o.replicas {
		if p != a.self && a.sweep.todo[sweepPair{o.r.End, p}] && !a.down(p) {
			return p, true
		}
	}
	return 0, false
}

// excluded reports whether the last heal left member id faulty.
func (a *antiEntropy) excluded(id sim.NodeID) bool { return slices.Contains(a.sweep.excluded, id) }

// outstanding says what anti-entropy still owes at tick now, for
// Quiescent: with trees to compare, a full sweep since the heal and time
// for its last repairs to land.
func (a *antiEntropy) outstanding(now int64) []string {
	if !a.on || len(a.owned) == 0 {
		return nil
	}
	switch {
	case !a.sweep.healed:
		return []string{"an anti-entropy sweep (not healed yet)"}
	case !a.sweep.done:
		return []string{fmt.Sprintf("an anti-entropy sweep since the heal (%d of its range/replica pairs not compared yet)", len(a.sweep.todo))}
	case now-a.sweep.doneAt < int64(a.cfg.RequestTimeoutTicks):
		return []string{"the repairs of its last anti-entropy exchange (in flight)"}
	}
	return nil
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
			return n.route.ring.Contains(owner) && !n.ae.excluded(owner)
		})
		if hints > 0 {
			owed = append(owed, fmt.Sprintf("%d hints to hand off", hints))
		}
	}
	owed = append(owed, n.transfer.outstanding()...)
	owed = append(owed, n.ae.outstanding(n.now)...)
	return len(owed) == 0, strings.Join(owed, ", ")
}
