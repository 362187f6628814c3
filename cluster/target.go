package cluster

import (
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

type nemesisFault = nemesis.Fault

var _ nemesis.Target = (*Cluster)(nil)

func (c *Cluster) nodeOf(id sim.NodeID) (*nodeState, error) {
	if int(id) >= len(c.nodes) {
		return nil, fmt.Errorf("cluster: node %v does not exist (nodes are n0..n%d)", id, len(c.nodes)-1)
	}
	return c.nodes[id], nil
}

// CutLink drops every message from one node to the other until Heal.
func (c *Cluster) CutLink(from, to sim.NodeID) error {
	c.trace(to, "cut link from %v", from)
	return c.net.Cut(from, to)
}

// Heal removes every cut link.
func (c *Cluster) Heal() error {
	c.trace(0, "heal all cut links")
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
	c.trace(id, "crash lose-unsynced=%v", loseUnsynced)
	if ns.node == nil {
		return fmt.Errorf("cluster: crash %v: node is not running", id)
	}
	if !loseUnsynced {
		ns.store.Sync()
	}
	ns.store.Crash()
	leaving := ns.leaving
	c.stopNode(ns)
	ns.crashed = !leaving // a node that crashes while leaving has left
	c.crashes = append(c.crashes, c.loop.Now())
	return nil
}

// Restart starts a crashed node from its durable state.
func (c *Cluster) Restart(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.trace(id, "restart")
	if !ns.crashed {
		return fmt.Errorf("cluster: restart %v: node is not crashed", id)
	}
	if err := c.startNode(ns); err != nil {
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
	c.trace(id, "pause")
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
	c.trace(id, "resume")
	if !ns.paused {
		return fmt.Errorf("cluster: resume %v: node is not paused", id)
	}
	ns.paused = false
	inbox := ns.inbox
	ns.inbox = nil
	for _, fn := range inbox {
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
	c.trace(id, "clock offset=%v", offset)
	ns.clock = wallClock{offset: offset, ppm: ns.clock.ppm, anchor: c.loop.Now()}
	return nil
}

// BumpClock jumps the node's wall clock by delta from what it shows now.
func (c *Cluster) BumpClock(id sim.NodeID, delta time.Duration) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.trace(id, "clock bump delta=%v", delta)
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
	c.trace(id, "clock drift ppm=%d", ppm)
	now := c.loop.Now()
	ns.clock = wallClock{offset: ns.clock.currentOffset(now), ppm: ppm, anchor: now}
	return nil
}

// SetLinkFaults sets loss, duplication and extra delay on one link; the
// zero LinkFaults restores the configured link.
func (c *Cluster) SetLinkFaults(from, to sim.NodeID, f nemesis.LinkFaults) error {
	c.trace(to, "link faults from %v: loss=%v dup=%v delay=%v", from, f.Loss, f.Duplicate, f.Delay)
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

// Join makes a spare (or departed) node a member with an empty store. Under
// oracle membership every node, the joiner too, gets the ring with it; under
// gossip membership the joiner claims its tokens and the news spreads by
// gossip; a departed node rejoins as a new life of its id, at a membership
// incarnation above its earlier life's, which overrides the "left" entries
// in other views. With range handoff the joiner pulls the ranges it gains before it
// serves them.
func (c *Cluster) Join(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.trace(id, "join")
	if ns.member {
		return fmt.Errorf("cluster: join %v: already a member", id)
	}
	if ns.node != nil {
		c.stopNode(ns) // still streaming a previous leave: it is over now
	}
	r, err := c.ring.Add(ring.Member{ID: id, Weight: 1})
	if err != nil {
		return fmt.Errorf("cluster: join %v: %w", id, err)
	}
	ns.store.Wipe() // empty data, same incarnation counter: no dot is reused
	ns.member, ns.crashed = true, false
	old := c.ring
	c.ring = r
	if err := c.startNodeWith(ns, old); err != nil {
		return err
	}
	if err := c.net.SetDown(id, false); err != nil {
		return err
	}
	if c.cfg.KV.Membership == kv.MembershipGossip {
		if err := ns.node.Join(); err != nil {
			return fmt.Errorf("cluster: join %v: %w", id, err)
		}
		c.drain(ns)
		return nil
	}
	c.spreadRing()
	return nil
}

// Leave starts a member's departure: it leaves the ring (oracle: every
// node gets the ring without it; gossip: it announces it), keeps running
// while it streams its ranges to their new owners, and stops once
// kv.Node.LeaveDone says so. Clients stop using it at once.
func (c *Cluster) Leave(id sim.NodeID) error {
	ns, err := c.nodeOf(id)
	if err != nil {
		return err
	}
	c.trace(id, "leave")
	if !ns.member {
		return fmt.Errorf("cluster: leave %v: not a member", id)
	}
	if len(c.ring.Nodes())-1 < c.cfg.KV.N {
		return fmt.Errorf("cluster: leave %v: would leave fewer than N=%d members", id, c.cfg.KV.N)
	}
	r, err := c.ring.Remove(id)
	if err != nil {
		return fmt.Errorf("cluster: leave %v: %w", id, err)
	}
	c.ring = r
	ns.member, ns.departed = false, true
	if ns.node == nil || ns.paused {
		// A crashed or frozen node cannot stream anything: it is simply gone.
		ns.crashed = false
		c.stopNode(ns)
		if c.cfg.KV.Membership != kv.MembershipGossip {
			c.spreadRing()
		}
		return nil
	}
	ns.leaving = true
	if c.cfg.KV.Membership != kv.MembershipGossip {
		c.spreadRing()
	}
	if err := ns.node.Leave(); err != nil {
		return fmt.Errorf("cluster: leave %v: %w", id, err)
	}
	c.drain(ns)
	return nil
}

// spreadRing gives every running member the current ring.
func (c *Cluster) spreadRing() {
	for _, ns := range c.nodes {
		if ns.node != nil {
			ns.node.SetRing(c.ring)
		}
	}
	c.loop.Trace().Record("ring", uint64(len(c.ring.Nodes())), uint64(c.loop.Now()))
}
