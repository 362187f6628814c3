package kv

import (
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// replN is the replication factor the ring supports: N, or fewer nodes.
func (n *Node) replN() int { return min(n.cfg.N, n.route.ring.Len()) }

// computeRanges returns the ring's ranges with their preference lists, or
// nil for an empty ring.
func computeRanges(r *ring.Ring, nn int) []ring.Range {
	if nn < 1 {
		return nil
	}
	rs, err := r.Ranges(nn)
	if err != nil {
		return nil
	}
	return rs
}

// replicates reports whether key's preference list in the node's ring
// holds the node.
func (n *Node) replicates(key string) bool {
	nn := n.replN()
	if nn < 1 {
		return false
	}
	pref, err := n.route.ring.PreferenceList(key, nn, n.route.prefBuf[:0])
	n.route.prefBuf = pref
	return err == nil && slices.Contains(pref, n.id)
}

// changeRing makes r the ring the node routes with. With RangeHandoff on,
// the arcs the node gained become pending and are pulled from their
// previous replicas; the trees follow the new ranges.
func (n *Node) changeRing(r *ring.Ring) {
	old := n.route.ring
	n.route.ring, n.route.nodes = r, r.Nodes()
	n.route.ranges = computeRanges(r, n.replN())
	n.stats.RingChanges++
	if r.Contains(n.id) {
		n.route.lastWithSelf = r
	}
	var gained []gainedArc
	if n.cfg.RangeHandoff {
		gained = gainedArcs(n.id, old, r, n.cfg.N, n.cfg.W)
	}
	n.transfer.ringChanged(n.now, n.route.ranges, gained)
	n.state.SetMeta(metaRing, ringIdentity(r, n.route.epoch))
	n.noteHandoff()
	n.rebuildTrees()
}

// ringIdentity identifies a ring of membership epoch epoch by the epoch
// and the ring's members and their weights (the ring configuration is the
// cluster's, the same for every ring a node sees): FNV-1a over them.
func ringIdentity(r *ring.Ring, epoch uint64) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < 8; i++ {
		h ^= epoch >> (8 * i) & 0xff
		h *= 1099511628211
	}
	for _, m := range r.Members() {
		for _, x := range [2]uint64{uint64(m.ID), uint64(m.Weight)} {
			for i := 0; i < 8; i++ {
				h ^= x >> (8 * i) & 0xff
				h *= 1099511628211
			}
		}
	}
	return h
}

// noteHandoff keeps metaHandoffIncomplete equal to whether the node may
// lack acknowledged writes of an arc it holds; it writes the flag only
// when it changes.
func (n *Node) noteHandoff() {
	if inc := n.transfer.incomplete(); inc != n.handoffIncomplete {
		n.handoffIncomplete = inc
		v := uint64(0)
		if inc {
			v = 1
		}
		n.state.SetMeta(metaHandoffIncomplete, v)
	}
}

// HandoffPending returns the number of arcs this node has gained and not
// yet received: while it is non-zero the node refuses reads of those arcs.
func (n *Node) HandoffPending() int { return len(n.transfer.pending) }

// Join makes this node a member under gossip membership: build it with
// the current ring (without it) as its bootstrap view, then Join claims its
// tokens, which spreads by gossip. The ranges it gains are pulled from
// their previous replicas, and it answers reads of them only once they
// have arrived (HandoffPending). Under oracle membership a node joins by a
// ring change instead: build it with the ring before the join, then give
// every node, it too, the ring with it by SetRing; Join then returns an
// error saying so. It steps the node with the local input MsgJoin.
func (n *Node) Join() error { return n.Step(n.id, Message{Type: MsgJoin}) }

func (n *Node) join() error {
	if n.gossip.table == nil {
		return fmt.Errorf("%w: %v: under oracle membership a node joins by a ring change: build it with the ring before the join and give every node, it too, the new ring with SetRing", ErrBadNode, n.id)
	}
	e, _ := n.gossip.table.Entry(n.id)
	if e.Status == membership.Left {
		return fmt.Errorf("%w: %v has left; a node that left cannot join again under the same id", ErrBadNode, n.id)
	}
	if len(e.Claims) > 0 {
		return fmt.Errorf("%w: %v is already a member of its view", ErrBadNode, n.id)
	}
	if err := n.gossip.table.SetClaims(e.Weight, []uint64{claimMember}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadNode, err)
	}
	n.viewChanged()
	return nil
}

// Leave starts this node's departure. Under gossip membership it marks
// itself left, which spreads by gossip and takes it off every ring; under
// oracle membership give it (and every other node) the ring without it
// with SetRing. Either way it keeps running, refuses reads and writes of
// keys it no longer replicates and streams its ranges to the nodes that
// gained them, until LeaveDone reports true; then stop it. It steps the
// node with the local input MsgLeave.
func (n *Node) Leave() error { return n.Step(n.id, Message{Type: MsgLeave}) }

func (n *Node) leave() error {
	if err := n.transfer.leave(n.now, n.stats.GossipRounds); err != nil {
		return err
	}
	if n.gossip.table != nil {
		n.gossip.table.Leave()
		n.viewChanged()
	}
	return nil
}

// LeaveDone reports whether a leaving node may stop: it is off its own
// ring and, with RangeHandoff on, every node that gained one of its ranges
// (and is not believed down) has pulled it in full and its hints are
// delivered (or LeaveTimeoutTicks passed since Leave); under gossip
// membership it has also gossiped its departure for about 2·log2(N)+2
// rounds.
func (n *Node) LeaveDone() bool { return n.transfer.leaveDone }

// tickLeave decides LeaveDone.
func (n *Node) tickLeave() {
	lc := leaveCheck{now: n.now, onRing: n.route.ring.Contains(n.id), rounds: n.stats.GossipRounds, hints: n.hints.len(), owed: n.owedArcs}
	if n.gossip.table != nil {
		lc.viewSize = n.viewSize
	}
	n.transfer.tickLeave(lc)
}

// owedArcs returns the arcs a leaving node must see pulled: those it lost
// between the last ring it was on and its current ring, per gaining node.
func (n *Node) owedArcs() []owedArc {
	return owedArcs(n.id, n.route.lastWithSelf, n.route.ring, n.cfg.N)
}

// viewSize returns the size of the node's gossip view.
func (n *Node) viewSize() int { return len(n.gossip.table.View()) }

// tickHandoff runs the range transfer's tick and sends what it asked for.
func (n *Node) tickHandoff() {
	n.transfer.tick(n.now)
	n.noteHandoff()
	n.sendTransfer()
}

// sendTransfer sends the messages the range transfer queued.
func (n *Node) sendTransfer() {
	out := n.transfer.take()
	for i := range out {
		n.send(out[i].To, &out[i].Msg)
	}
}

// onStreamRequest hands a pull to the range transfer.
func (n *Node) onStreamRequest(from sim.NodeID, m Message) {
	if why := n.transfer.onRequest(n.now, from, m, n.route.ranges); why != ignoreNone {
		n.ignore(why)
	}
	n.sendTransfer()
}

// onStreamAck hands a stream ack to the range transfer.
func (n *Node) onStreamAck(from sim.NodeID, m Message) {
	if why := n.transfer.onAck(n.now, from, m, n.route.ranges); why != ignoreNone {
		n.ignore(why)
	}
	n.sendTransfer()
}

// onStreamData hands a batch of a pull to the range transfer, merges what
// it returns (synced first under SyncBeforeAck) and sends its ack.
func (n *Node) onStreamData(from sim.NodeID, m Message) {
	items, why := n.transfer.onData(n.now, from, m, n.replicates)
	if why != ignoreNone {
		n.ignore(why)
	}
	for _, it := range items {
		if changed, err := n.mergeData(it.Key, it.Versions); err == nil && changed {
			n.stats.HandoffKeysReceived++
		}
	}
	if n.cfg.SyncBeforeAck && len(items) > 0 {
		n.sync()
	}
	n.noteHandoff()
	n.sendTransfer()
}
