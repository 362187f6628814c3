package kv

import (
	"fmt"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// Step hands the node a message from node from: a peer's message, or a
// local input (MsgJoin, MsgLeave, MsgRingChange, MsgStartAntiEntropy) from
// the node's own id. Malformed messages, unknown types (a local input from
// a peer among them) and replies nobody waits for are ignored and counted
// by reason in Stats; Step never panics on network input and returns an
// error only when it refuses a local input.
func (n *Node) Step(from sim.NodeID, m Message) error {
	n.input.from, n.input.typ = from, m.Type
	if from == n.id {
		if local, err := n.stepLocal(m); local {
			return err
		}
	}
	n.stepPeer(from, m)
	return nil
}

// stepLocal takes a local input; it reports false for any other type.
func (n *Node) stepLocal(m Message) (bool, error) {
	switch m.Type {
	case MsgJoin:
		return true, n.join()
	case MsgLeave:
		return true, n.leave()
	case MsgRingChange:
		if n.gossip.table == nil && m.Ring != nil && m.Ring != n.route.ring {
			n.changeRing(m.Ring)
		}
		return true, nil
	case MsgStartAntiEntropy:
		return true, n.startAntiEntropy(m.Point, m.Peer)
	}
	return false, nil
}

// stepPeer takes a message from a peer.
func (n *Node) stepPeer(from sim.NodeID, m Message) {
	n.stats.MessagesReceived++
	if reason := n.checkMessage(m); reason != ignoreNone {
		n.ignore(reason)
		return
	}
	n.suspicion.heard(from)
	switch m.Type {
	case MsgWrite:
		var err error
		if m.Hinted && m.HintFor != n.id {
			err = n.applyWrite(m.Key, m.Versions, true, m.HintFor)
		} else if err = n.checkReplica(m.Key, false); err == nil {
			err = n.applyWrite(m.Key, m.Versions, false, 0)
		}
		ack := Message{Type: MsgWriteAck, Op: m.Op, Key: m.Key, Repair: m.Repair}
		if err != nil {
			ack.Refused, ack.Err = true, err.Error()
		}
		n.send(from, &ack)
	case MsgWriteAck:
		n.coordinated(n.coord.stepWriteAck(from, m))
	case MsgRead:
		if !m.Hinted || m.HintFor == n.id {
			if err := n.checkReplica(m.Key, true); err != nil {
				n.send(from, &Message{Type: MsgReadReply, Op: m.Op, Key: m.Key, Refused: true, Err: err.Error()})
				return
			}
		}
		n.stats.ReadsServed++
		n.send(from, &Message{Type: MsgReadReply, Op: m.Op, Key: m.Key, Versions: n.readLocal(m.Key, m.Hinted, m.HintFor)})
	case MsgReadReply:
		n.coordinated(n.coord.stepReadReply(from, m))
	case MsgForward:
		if !n.forwards.remember(from, m.Op, n.now) {
			// Coordinating a copy again would issue a second dot for the
			// same client write: two versions of one value.
			n.ignore(ignoreDuplicateForward)
			return
		}
		n.coord.stepForward(from, m)
		n.deliver()
	case MsgForwardReply:
		n.coordinated(n.coord.stepForwardReply(from, m))
	case MsgHandoff:
		err := n.applyWrite(m.Key, m.Versions, false, 0)
		ack := Message{Type: MsgHandoffAck, Key: m.Key, HintID: m.HintID, HintSeq: m.HintSeq}
		if err != nil {
			ack.Refused, ack.Err = true, err.Error()
		}
		n.send(from, &ack)
	case MsgHandoffAck:
		n.hints.onAck(from, m)
	case MsgPing:
		n.send(from, &Message{Type: MsgPong})
	case MsgPong:
	case MsgTreeRequest:
		n.stepAE(from, m)
	case MsgTreeReply:
		n.stepAE(from, m)
	case MsgRepair:
		n.stepAE(from, m)
	case MsgRepairReply:
		n.stepAE(from, m)
	case MsgGossip:
		n.onGossip(from, m)
	case MsgStreamRequest:
		n.onStreamRequest(from, m)
	case MsgStreamData:
		n.onStreamData(from, m)
	case MsgStreamAck:
		n.onStreamAck(from, m)
	}
}

// checkReplica returns why this node must refuse a write (or, with read,
// a read) of key addressed to it as a home replica, or nil. With
// RangeHandoff on, a node refuses keys it does not replicate in its own
// ring (it lost the range, or the sender's view is ahead of its own) and
// reads of ranges it gained but has not received yet.
func (n *Node) checkReplica(key string, read bool) error {
	if !n.cfg.RangeHandoff {
		return nil
	}
	switch {
	case !n.replicates(key):
		n.stats.NotReplicaRefusals++
		return fmt.Errorf("%v does not replicate %q in its ring; ask the key's current replicas", n.id, key)
	case read && n.transfer.pendingAt(ring.HashKey(key)): // a replica, but its range has not arrived
		n.stats.NotReplicaRefusals++
		return fmt.Errorf("%v has not yet received the range of %q from its previous replicas", n.id, key)
	}
	return nil
}

// checkMessage returns why m must be ignored, or ignoreNone.
func (n *Node) checkMessage(m Message) ignoreReason {
	if m.Type == 0 || m.Type >= msgTypeEnd {
		return ignoreUnknownType
	}
	switch m.Type {
	case MsgWrite, MsgRead, MsgHandoff, MsgReadReply, MsgHandoffAck:
		if m.Key == "" || len(m.Key) > n.cfg.MaxKeyBytes {
			return ignoreMalformed
		}
	}
	switch m.Type {
	case MsgWrite, MsgHandoff, MsgReadReply:
		if (m.Type != MsgReadReply && len(m.Versions) == 0) || len(m.Versions) > n.cfg.MaxSiblings {
			return ignoreMalformed
		}
		if n.cfg.Resolve == LWW && len(m.Versions) > 1 {
			return ignoreMalformed
		}
		for _, v := range m.Versions {
			if v.validate(n.cfg.MaxValueBytes) != nil {
				return ignoreMalformed
			}
		}
	}
	switch m.Type {
	case MsgRead, MsgReadReply, MsgForward, MsgForwardReply,
		MsgTreeRequest, MsgTreeReply, MsgStreamRequest, MsgStreamData, MsgStreamAck:
		if m.Op == 0 {
			return ignoreMalformed
		}
	}
	switch {
	case m.Type == MsgTreeRequest && m.Tree == nil,
		m.Type == MsgTreeReply && m.TreeReply == nil,
		m.Type == MsgGossip && m.Gossip == nil:
		return ignoreMalformed
	}
	switch m.Type {
	case MsgRepair, MsgRepairReply, MsgStreamData:
		if len(m.Items) > maxItems {
			return ignoreMalformed
		}
		for _, it := range m.Items {
			if it.Key == "" || len(it.Key) > n.cfg.MaxKeyBytes || len(it.Versions) > n.cfg.MaxSiblings {
				return ignoreMalformed
			}
			if len(it.Versions) == 0 && m.Type != MsgRepair {
				return ignoreMalformed
			}
			if n.cfg.Resolve == LWW && len(it.Versions) > 1 {
				return ignoreMalformed
			}
			for _, v := range it.Versions {
				if v.validate(n.cfg.MaxValueBytes) != nil {
					return ignoreMalformed
				}
			}
		}
	}
	return ignoreNone
}

// applyWrite merges vs into key's versions, or into the hint for hintFor
// when hinted. It returns a refusal (sibling limit, full hint store) and
// syncs first when SyncBeforeAck is set.
func (n *Node) applyWrite(key string, vs []Version, hinted bool, hintFor sim.NodeID) error {
	if hinted && hintFor != n.id {
		if err := n.hints.store(hintFor, key, vs); err != nil {
			n.stats.WritesRefused++
			return err
		}
	} else if _, err := n.mergeData(key, vs); err != nil {
		n.stats.WritesRefused++
		return err
	}
	n.stats.WritesApplied++
	if n.cfg.SyncBeforeAck {
		n.sync()
	}
	return nil
}

// mergeData merges vs into key's stored versions by the conflict mode,
// keeping the key's Merkle tree and tombstone bookkeeping current. It
// reports whether the store changed, or a refusal (sibling limit).
func (n *Node) mergeData(key string, vs []Version) (bool, error) {
	cur, _ := n.state.Get(key)
	merged := reconcile(n.cfg.Resolve, cur, vs)
	if len(merged) > n.cfg.MaxSiblings {
		return false, fmt.Errorf("%w: %q would hold %d versions (MaxSiblings=%d); read it and write with its context to merge", ErrTooManySiblings, key, len(merged), n.cfg.MaxSiblings)
	}
	if sameDots(cur, merged) {
		return false, nil
	}
	n.state.Put(key, merged)
	n.treeSet(key, merged)
	if allTombstones(merged) {
		n.noteTombstone(key)
	} else {
		n.tombstones.cleared(key)
	}
	return true, nil
}

// sameDots reports whether two version sets hold the same writes.
func sameDots(a, b []Version) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Dot != b[i].Dot {
			return false
		}
	}
	return true
}

// readLocal returns this node's versions of key, or of its hint for
// hintFor when hinted.
func (n *Node) readLocal(key string, hinted bool, hintFor sim.NodeID) []Version {
	if hinted && hintFor != n.id {
		return n.hints.read(hintFor, key)
	}
	vs, _ := n.state.Get(key)
	return vs
}

// replayHints sends up to HintReplayBatch hints, oldest first, to owners
// believed reachable. Hints for nodes no longer on the ring are kept and
// not replayed.
func (n *Node) replayHints() {
	send, mine := n.hints.replay(func(owner sim.NodeID) bool { return n.route.ring.Contains(owner) && !n.believedDown(owner) })
	for _, h := range mine {
		// The ring now makes this node the owner: apply and drop.
		if n.applyWrite(h.Key, h.Versions, false, 0) == nil {
			n.hints.delivered(h)
		}
	}
	for _, r := range send {
		n.send(r.to, &r.msg)
	}
}

// noteTombstone starts the grace period of key's tombstone now.
func (n *Node) noteTombstone(key string) { n.tombstones.note(key, n.now) }

// purgeTombstones deletes keys whose tombstone is older than the grace
// period and was not superseded since.
func (n *Node) purgeTombstones() {
	for _, key := range n.tombstones.due(n.now) {
		if vs, ok := n.state.Get(key); ok && allTombstones(vs) {
			n.state.Delete(key)
			n.treeDelete(key)
			n.stats.TombstonesPurged++
			n.forget(vs)
		}
	}
}
