package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

type nemesisFault = nemesis.Fault

var (
	_ nemesis.Target      = (*Cluster)(nil)
	_ nemesis.LinkClogger = (*Cluster)(nil)
)

func (c *Cluster) nodeOf(id sim.NodeID) (*nodeState, error) {
	if int(id) >= len(c.nodes) {
		return nil, fmt.Errorf("cluster: node %v does not exist (nodes are n0..n%d)", id, len(c.nodes)-1)
	}
	return c.nodes[id], nil
}

// CutLink drops every message from one node to the other until Heal.
func (c *Cluster) CutLink(from, to sim.NodeID) error {
	c.traceFault(to, "cut link from %v", from)
	return c.net.Cut(from, to)
}

// Heal removes every cut link.
func (c *Cluster) Heal() error {
	c.traceFault(0, "heal all cut links")
	c.net.Heal()
	return nil
}

// Crash stops node id at once. With loseUnsynced its store keeps only what
// was synced; otherwise everything it wrote survives.
func (c *Cluster) Crash(id sim.NodeID, loseUnsynced bool) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "crash lose-unsynced=%v", loseUnsynced)
	if ns.node == nil {
		return fmt.Errorf("cluster: crash %v: node is not running", id)
	}
	c.wake(ns) // the ticks it was spared come before the crash
	if !loseUnsynced {
		ns.disk.Sync()
	}
	c.unsyncedLost += uint64(ns.disk.Unsynced())
	ns.disk.Crash()
	leaving := ns.leaving
	c.stopNode(ns)
	ns.crashed = !leaving // a node that crashes while leaving has left
	c.crashes = append(c.crashes, c.loop.Now())
	// A crashed node answers none of the requests it was given.
	c.submitted.DeleteIf(func(to sim.NodeID) bool { return to == ns.id })
	return nil
}

// Restart starts a crashed node from its durable state.
func (c *Cluster) Restart(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "restart")
	if !ns.crashed {
		return fmt.Errorf("cluster: restart %v: node is not crashed", id)
	}
	if err := c.startNode(ns, c.view); err != nil {
		c.fail(err)
		return err
	}
	ns.crashed = false
	return c.net.SetDown(id, false)
}

// Pause freezes a node: it handles nothing until Resume; its inputs wait.
func (c *Cluster) Pause(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "pause")
	if ns.node == nil || ns.paused {
		return fmt.Errorf("cluster: pause %v: node is not running", id)
	}
	ns.paused = true
	return nil
}

// Resume unfreezes a paused node and hands it what arrived meanwhile.
func (c *Cluster) Resume(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "resume")
	if !ns.paused {
		return fmt.Errorf("cluster: resume %v: node is not paused", id)
	}
	ns.paused = false
	inbox := ns.inbox
	ns.inbox = nil
	for _, fn := range inbox {
		if c.failure != nil {
			break
		}
		fn()
	}
	return nil
}

// SetClockOffset sets the node's wall-clock offset from true time.
func (c *Cluster) SetClockOffset(id sim.NodeID, offset time.Duration) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "clock offset=%v", offset)
	ns.clock = wallClock{offset: offset, ppm: ns.clock.ppm, anchor: c.loop.Now()}
	return nil
}

// BumpClock jumps the node's wall clock by delta from what it shows now.
func (c *Cluster) BumpClock(id sim.NodeID, delta time.Duration) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "clock bump delta=%v", delta)
	now := c.loop.Now()
	ns.clock = wallClock{offset: ns.clock.currentOffset(now) + delta, ppm: ns.clock.ppm, anchor: now}
	return nil
}

// SetClockDrift makes the node's clock gain ppm µs per second from now.
func (c *Cluster) SetClockDrift(id sim.NodeID, ppm int64) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "clock drift ppm=%d", ppm)
	now := c.loop.Now()
	ns.clock = wallClock{offset: ns.clock.currentOffset(now), ppm: ppm, anchor: now}
	return nil
}

// SetLinkFaults sets loss, duplication and extra delay on one link; the
// zero LinkFaults restores the configured link.
func (c *Cluster) SetLinkFaults(from, to sim.NodeID, f nemesis.LinkFaults) error {
	c.traceFault(to, "link faults from %v: loss=%v dup=%v delay=%v", from, f.Loss, f.Duplicate, f.Delay)
	if f.IsZero() {
		return c.net.ResetLink(from, to)
	}
	if f.Delay < 0 {
		return fmt.Errorf("cluster: link fault %v->%v: negative delay %v", from, to, f.Delay)
	}
	lc := c.cfg.Link
	lc.Loss, lc.Duplicate = f.Loss, f.Duplicate
	lc.Latency.Lo += f.Delay
	lc.Latency.Hi += f.Delay
	return c.net.SetLink(from, to, lc)
}

// HoldLink stalls one link: its messages wait until ReleaseLink.
func (c *Cluster) HoldLink(from, to sim.NodeID) error {
	c.traceFault(from, "hold link to %v", to)
	return c.net.Hold(from, to)
}

// ReleaseLink ends a stall: what waited is delivered in order.
func (c *Cluster) ReleaseLink(from, to sim.NodeID) error {
	c.traceFault(from, "release link to %v", to)
	return c.net.Release(from, to)
}

// ClogLink clogs one link until the virtual time until: what is due before
// then waits and is delivered then, in order; an until at or before now
// ends the clog.
func (c *Cluster) ClogLink(from, to sim.NodeID, until sim.Time) error {
	c.traceFault(from, "clog link to %v until %v", to, until)
	return c.net.Clog(from, to, until)
}

// Join makes a spare (or departed) node a member. Its node starts with the
// view before the join (a newcomer, outside it), then every running node,
// it too, gets the view with it (Member.SetView: oracle membership), and the
// newcomer's Member.Join runs (a node with its own membership protocol
// announces itself there). A departed node rejoins as a new life of its id
// on the same disk; what it keeps from its earlier life is the node's
// choice (kv keeps its data but vouches for none of it, or with range
// handoff off only its incarnation counter).
func (c *Cluster) Join(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "join")
	if ns.member {
		return fmt.Errorf("cluster: join %v: already a member", id)
	}
	if ns.node != nil {
		c.stopNode(ns) // still streaming a previous leave: it is over now
	}
	ns.member, ns.crashed = true, false
	old := c.view
	c.view = c.view.With(node.Change{Node: id, Join: true})
	if err := c.startNode(ns, old); err != nil {
		c.fail(err)
		return err
	}
	if ns.membership == nil {
		err := c.nodeError(ns, "Join", errors.New("the node does not implement node.Member, so it cannot join a running cluster"), false)
		c.fail(err)
		return err
	}
	if err := c.net.SetDown(id, false); err != nil {
		return err
	}
	c.spreadView()
	if ns.node == nil || c.phase == phaseDone {
		return nil
	}
	if !c.wake(ns) || !c.guard(ns, "Join", func() error { err := ns.membership.Join(); c.drain(ns); return err }) {
		return fmt.Errorf("cluster: join %v: the node failed", id)
	}
	return nil
}

// Leave starts a member's departure: every running node gets the view
// without it (Member.SetView), and it keeps running while it hands off its
// data, until Member.LeaveDone says so; then it stops. Clients stop using
// it at once.
func (c *Cluster) Leave(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.traceFault(id, "leave")
	if !ns.member {
		return fmt.Errorf("cluster: leave %v: not a member", id)
	}
	if len(c.view.Members())-1 < max(c.cfg.MinMembers, 1) {
		return fmt.Errorf("cluster: leave %v: would leave fewer than %d members (Config.MinMembers)", id, max(c.cfg.MinMembers, 1))
	}
	if ns.node != nil && ns.membership == nil {
		return fmt.Errorf("cluster: leave %v: the node does not implement node.Member", id)
	}
	c.view = c.view.With(node.Change{Node: id, Join: false})
	ns.member, ns.departed = false, true
	if ns.node == nil || ns.paused {
		// A crashed or frozen node cannot hand anything off: it is simply gone.
		ns.crashed = false
		c.stopNode(ns)
		c.spreadView()
		return nil
	}
	ns.leaving = true
	c.spreadView()
	if ns.node == nil || c.phase == phaseDone {
		return nil
	}
	if !c.wake(ns) || !c.guard(ns, "Leave", func() error { err := ns.membership.Leave(); c.drain(ns); return err }) {
		return fmt.Errorf("cluster: leave %v: the node failed", id)
	}
	return nil
}

// spreadView gives every running node that supports membership changes the
// current view.
func (c *Cluster) spreadView() {
	for _, ns := range c.nodes {
		if ns.node != nil && ns.membership != nil {
			if !c.wake(ns) || !c.guard(ns, "SetView", func() error { return ns.membership.SetView(c.view) }) {
				return
			}
		}
	}
	c.loop.Trace().Record("ring", uint64(len(c.view.Members())), uint64(c.loop.Now()))
}
