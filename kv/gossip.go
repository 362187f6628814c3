package kv

import (
	"fmt"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// claimMember is the claim a node gossips once it is a member: its tokens
// (virtual-node mode) or its share of the shards (fixed-shard mode) follow
// from (ring seed, id, weight) and the claiming membership, so one claim
// value says "my tokens are on the ring". A node without it (a node that
// has not called Join yet) is known but owns nothing.
const claimMember = 1

// gossipMaxNodes bounds node ids under gossip membership.
const gossipMaxNodes = 1 << 16

// metaMembershipIncarnation names the durable record of the highest
// incarnation the node's membership entry reached. The entry starts at the
// node's incarnation but refutations raise it past it; a later life of the
// node (a restart or a rejoin after a leave) must start above every
// incarnation an earlier life reached in other views, or their suspect,
// dead or left entries about it would outrank its new entry.
const metaMembershipIncarnation = "membership-incarnation"

// initGossip builds the node's membership table. Its bootstrap view is the
// ring it was given: every member of r is entered as alive and claimed (as
// if it had announced itself), so a founding cluster routes at once and
// every node's failure detector watches every member from the start; the
// members are also the seeds a node gossips to while it knows too few live
// peers. The node itself is claimed if r holds it.
func (n *Node) initGossip(r *ring.Ring) error {
	for _, m := range r.Members() {
		if m.ID >= gossipMaxNodes {
			return fmt.Errorf("%w: node id %v: gossip membership supports ids below %d", ErrBadNode, m.ID, gossipMaxNodes)
		}
	}
	if n.id >= gossipMaxNodes {
		return fmt.Errorf("%w: node id %v: gossip membership supports ids below %d", ErrBadNode, n.id, gossipMaxNodes)
	}
	inc := n.incarnation
	if reached, ok := n.state.Meta(metaMembershipIncarnation); ok && reached >= inc {
		inc = reached + 1
	}
	self := membership.Self{ID: n.id, Weight: 1, Incarnation: inc}
	if w := r.Weight(n.id); w > 0 {
		self.Weight, self.Claims = uint32(w), []uint64{claimMember}
	}
	t, err := membership.New(membership.Config{
		MaxNodes:     gossipMaxNodes,
		Fanout:       n.cfg.GossipFanout,
		SuspectTicks: n.cfg.GossipSuspectRounds,
		DeadTicks:    n.cfg.GossipDeadRounds,
		Seeds:        r.Nodes(),
	}, self, n.rng.Fork("membership"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadNode, err)
	}
	for _, m := range r.Members() {
		if m.ID == n.id {
			continue
		}
		t.Receive(m.ID, membership.Message{Kind: membership.Reply, From: m.ID, Entries: []membership.Entry{{
			ID: m.ID, Status: membership.Alive, Weight: uint32(m.Weight), Epoch: 1, Claims: []uint64{claimMember},
		}}})
	}
	t.TakeEvents()
	n.gossip.table = t
	n.persistMembershipIncarnation()
	n.gossip.next = 1 + int64(n.rng.Fork("gossip").IntN(n.cfg.GossipIntervalTicks))
	return nil
}

// viewRing builds the ring of the node's own view: every claimed node
// that has not left, with its weight, under the node's ring configuration.
// Views that agree give identical rings.
func (n *Node) viewRing() (*ring.Ring, error) {
	var ms []ring.Member
	for _, e := range n.gossip.table.View() {
		if e.Status != membership.Left && len(e.Claims) > 0 {
			ms = append(ms, ring.Member{ID: e.ID, Weight: int(e.Weight)})
		}
	}
	return ring.New(n.route.cfg, ms...)
}

// persistMembershipIncarnation durably records the membership entry's
// incarnation when it exceeds the recorded one (see
// metaMembershipIncarnation).
func (n *Node) persistMembershipIncarnation() {
	inc := n.gossip.table.Incarnation()
	if reached, ok := n.state.Meta(metaMembershipIncarnation); !ok || inc > reached {
		n.state.SetMeta(metaMembershipIncarnation, inc)
	}
}

// viewChanged persists a raised membership incarnation, drains membership
// events and rebuilds the ring when the view's ring inputs changed.
func (n *Node) viewChanged() {
	n.persistMembershipIncarnation()
	for _, e := range n.gossip.table.TakeEvents() {
		if e.Kind == membership.EventAlive || e.Kind == membership.EventJoined {
			// A node is back: hints for it need not wait a full interval.
			n.timers.replay = min(n.timers.replay, n.now+1)
		}
	}
	if v := n.gossip.table.RingVersion(); v != n.gossip.ringVer {
		n.gossip.ringVer = v
		r, err := n.viewRing()
		if err != nil {
			n.stats.RingErrors++
			return
		}
		n.changeRing(r)
	}
}

// tickGossip runs a gossip round every GossipIntervalTicks.
func (n *Node) tickGossip() {
	if n.gossip.table == nil || n.now < n.gossip.next {
		return
	}
	n.gossip.next = n.now + int64(n.cfg.GossipIntervalTicks)
	n.stats.GossipRounds++
	n.sendGossip(n.gossip.table.Tick())
	n.viewChanged()
}

func (n *Node) sendGossip(outs []membership.Outgoing) {
	for _, o := range outs {
		n.stats.GossipMessages++
		n.stats.GossipBytes += uint64(o.Msg.Size())
		g := o.Msg
		n.send(o.To, &Message{Type: MsgGossip, Gossip: &g})
	}
}

// onGossip merges a peer's gossip, answers it, and counts what the table
// rejected.
func (n *Node) onGossip(from sim.NodeID, m Message) {
	if n.gossip.table == nil {
		n.ignore(ignoreDisabled)
		return
	}
	before := n.gossip.table.Stats()
	outs := n.gossip.table.Receive(from, *m.Gossip)
	after := n.gossip.table.Stats()
	n.ignored[ignoreGossipBadSender] += after.BadSender - before.BadSender
	n.ignored[ignoreGossipMalformed] += after.Malformed - before.Malformed
	n.ignored[ignoreGossipUnknownPeer] += after.UnknownPeer - before.UnknownPeer
	n.ignored[ignoreGossipStale] += after.Stale - before.Stale
	n.ignored[ignoreGossipBadEntry] += after.BadEntries - before.BadEntries
	n.sendGossip(outs)
	n.viewChanged()
}

// View returns the node's membership view, sorted by id (nil under oracle
// membership).
func (n *Node) View() []membership.Entry {
	if n.gossip.table == nil {
		return nil
	}
	return n.gossip.table.View()
}

// ViewDigest is a hash of the node's membership view without heartbeats:
// equal digests mean the views agree on every node's incarnation, status,
// weight and claims (0 under oracle membership).
func (n *Node) ViewDigest() uint64 {
	if n.gossip.table == nil {
		return 0
	}
	return n.gossip.table.Digest()
}

// believedDown reports whether the node believes id unreachable: it
// suspects id locally (an unanswered request) or, under gossip
// membership, its view holds id suspect or dead. A node never suspects
// itself.
func (n *Node) believedDown(id sim.NodeID) bool {
	if id == n.id {
		return false
	}
	if n.suspicion.suspected(id) {
		return true
	}
	if n.gossip.table != nil {
		if st, ok := n.gossip.table.Status(id); ok && (st == membership.Suspect || st == membership.Dead) {
			return true
		}
	}
	return false
}
