package transport

import (
	"fmt"

	"github.com/faultline-sim/faultline/sim"
)

// Cut drops every message from->to that reaches its delivery time while the
// cut lasts, including messages already in flight when it starts.
func (n *Network[M]) Cut(from, to sim.NodeID) error {
	if err := n.checkLink("Cut", from, to); err != nil {
		return err
	}
	n.cut(from, to)
	return nil
}

func (n *Network[M]) cut(from, to sim.NodeID) {
	l := n.link(from, to)
	if !l.cut {
		l.cut = true
		n.loop.Trace().Record("net.cut", uint64(n.loop.Now()), linkKey(from, to))
	}
}

// HealLink removes the cut on from->to; messages still in flight on it are
// delivered again.
func (n *Network[M]) HealLink(from, to sim.NodeID) error {
	if err := n.checkLink("HealLink", from, to); err != nil {
		return err
	}
	if l := n.links[from][to]; l != nil && l.cut {
		l.cut = false
		n.loop.Trace().Record("net.heal-link", uint64(n.loop.Now()), linkKey(from, to))
	}
	return nil
}

// Heal removes every cut. It does not release held links, end clogs or bring
// nodes up.
func (n *Network[M]) Heal() {
	for _, row := range n.links {
		for _, l := range row {
			if l != nil {
				l.cut = false
			}
		}
	}
	n.loop.Trace().Record("net.heal", uint64(n.loop.Now()))
}

// Connected reports whether from->to is not cut. It does not look at held,
// clogged or down state. A pair with an unknown node is never connected.
func (n *Network[M]) Connected(from, to sim.NodeID) bool {
	if !n.known(from) || !n.known(to) {
		return false
	}
	l := n.links[from][to]
	return l == nil || !l.cut
}

// Cuts returns the links currently cut, sorted by (From, To).
func (n *Network[M]) Cuts() []Link {
	var cuts []Link
	for from, row := range n.links {
		for to, l := range row {
			if l != nil && l.cut {
				cuts = append(cuts, Link{From: sim.NodeID(from), To: sim.NodeID(to)})
			}
		}
	}
	return cuts
}

// Hold stops deliveries on from->to without losing anything: a message that
// reaches its delivery time while the link is held waits in the link's queue
// (still in flight, still counted against Capacity) until Release.
func (n *Network[M]) Hold(from, to sim.NodeID) error {
	if err := n.checkLink("Hold", from, to); err != nil {
		return err
	}
	l := n.link(from, to)
	if !l.held {
		l.held = true
		n.loop.Trace().Record("net.hold", uint64(n.loop.Now()), linkKey(from, to))
	}
	return nil
}

// Held reports whether from->to is held (false for unknown nodes).
func (n *Network[M]) Held(from, to sim.NodeID) bool {
	if !n.known(from) || !n.known(to) {
		return false
	}
	l := n.links[from][to]
	return l != nil && l.held
}

// Release ends a Hold on from->to. The messages that waited are delivered at
// the release time, in the order they reached their delivery time (their
// latency has already elapsed), unless the link is still clogged. Cuts and
// down nodes are checked as each one is delivered.
func (n *Network[M]) Release(from, to sim.NodeID) error {
	if err := n.checkLink("Release", from, to); err != nil {
		return err
	}
	l := n.links[from][to]
	if l == nil || !l.held {
		return nil
	}
	l.held = false
	n.loop.Trace().Record("net.release", uint64(n.loop.Now()), linkKey(from, to))
	n.scheduleFlush(from, to, n.loop.Now())
	return nil
}

// Clog delays from->to until the virtual time until: nothing on the link is
// delivered before until; a message due earlier waits and is delivered at
// until, in order. A later Clog replaces the time; until <= Now ends the clog.
func (n *Network[M]) Clog(from, to sim.NodeID, until sim.Time) error {
	if err := n.checkLink("Clog", from, to); err != nil {
		return err
	}
	if until < 0 {
		return fmt.Errorf("transport: Clog %v->%v: until %d must be a virtual time >= 0", from, to, int64(until))
	}
	l := n.link(from, to)
	l.clogUntil = until
	n.loop.Trace().Record("net.clog", uint64(n.loop.Now()), linkKey(from, to), uint64(until))
	n.scheduleFlush(from, to, max(until, n.loop.Now()))
	return nil
}

// Clogged reports whether from->to is clogged now, i.e. Clog set a time
// after Now (false for unknown nodes).
func (n *Network[M]) Clogged(from, to sim.NodeID) bool {
	if !n.known(from) || !n.known(to) {
		return false
	}
	l := n.links[from][to]
	return l != nil && n.loop.Now() < l.clogUntil
}

// scheduleFlush schedules a flush of from->to at at. Like packets, flushes
// wait in a (time, seq) queue of their own, with one loop event each pushed
// at the same moment, so the k-th flush event is always for the queue's
// minimum and no closure is allocated per flush.
func (n *Network[M]) scheduleFlush(from, to sim.NodeID, at sim.Time) {
	if at < n.loop.Now() {
		at = n.loop.Now()
	}
	n.seq++
	n.flushes.Push(at, n.seq, Link{From: from, To: to})
	n.loop.At(at, n.fireFlush)
}

// fireFlushNext runs for every flush event the network scheduled.
func (n *Network[M]) fireFlushNext() {
	_, lk := n.flushes.Pop()
	n.flush(n.links[lk.From][lk.To])
}

// SetDown marks node id down (crashed) or up again. While a node is down,
// every message it sends is dropped at once, and every message to or from it
// that reaches delivery is dropped, including messages already in flight.
// Messages still in flight when the node comes back up are delivered to it as
// usual, so a restarted node can receive traffic meant for its previous life.
func (n *Network[M]) SetDown(id sim.NodeID, down bool) error {
	if err := n.checkNode("SetDown", id); err != nil {
		return err
	}
	if n.down[id] != down {
		n.down[id] = down
		var v uint64
		if down {
			v = 1
		}
		n.loop.Trace().Record("net.down", uint64(n.loop.Now()), uint64(id), v)
	}
	return nil
}

// IsDown reports whether node id is down. An unknown node is not down.
func (n *Network[M]) IsDown(id sim.NodeID) bool {
	return n.known(id) && n.down[id]
}
