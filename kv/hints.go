package kv

import (
	"fmt"

	"github.com/faultline-sim/faultline/sim"
)

// hints is hinted handoff as a state machine of its own: the hints a node
// keeps for home replicas that could not take a write (at most one per
// (owner, key); later writes merge into it), their replay to owners and
// the owners' acknowledgements. Its inputs are method calls, its outputs
// the writes it makes to the node's durable state, the messages it returns
// and the versions it reports forgotten. It knows nothing of rings,
// quorums or suspicion: what is reachable is the caller's to say. Its
// counter (next) and its forgetting (forget) are the node's, so that hint
// ids never repeat across incarnations and a forgotten dot moves the node
// to a new incarnation.
type hints struct {
	self   sim.NodeID
	cfg    *Config
	st     *state
	stats  *Stats
	next   func() uint64
	forget func([]Version)

	send []hintReplay // replay's results, reused by the next replay
	mine []Hint
}

// hintReplay is one hint to hand off: MsgHandoff to its owner.
type hintReplay struct {
	to  sim.NodeID
	msg Message
}

// store merges vs into the hint for (owner, key), creating it if needed;
// a full hint store evicts its oldest hint or refuses, by HintPolicy. It
// returns a refusal (sibling limit, full store).
func (h *hints) store(owner sim.NodeID, key string, vs []Version) error {
	cur, ok := h.st.Hint(owner, key)
	merged := reconcile(h.cfg.Resolve, cur.Versions, vs)
	if len(merged) > h.cfg.MaxSiblings {
		return fmt.Errorf("%w: hint for %v would hold %d versions of %q (MaxSiblings=%d)", ErrTooManySiblings, owner, len(merged), key, h.cfg.MaxSiblings)
	}
	if !ok && h.st.HintCount() >= h.cfg.MaxHints {
		if h.cfg.HintPolicy == HintRejectWhenFull {
			h.stats.HintsRejected++
			return fmt.Errorf("%w: %v holds MaxHints=%d hints", ErrHintStoreFull, h.self, h.cfg.MaxHints)
		}
		oldest := h.st.Hints()[0]
		h.st.DeleteHint(oldest.Owner, oldest.Key)
		h.stats.HintsEvicted++
		h.forget(oldest.Versions)
	}
	if !ok || !sameDots(cur.Versions, merged) {
		id := cur.ID
		if !ok {
			id = h.next()
			h.stats.HintsStored++
		}
		h.st.PutHint(Hint{ID: id, Seq: h.next(), Owner: owner, Key: key, Versions: merged})
	}
	return nil
}

// read returns the versions of the hint for (owner, key), if any.
func (h *hints) read(owner sim.NodeID, key string) []Version {
	cur, _ := h.st.Hint(owner, key)
	return cur.Versions
}

// replay picks up to HintReplayBatch hints, oldest first, to hand off to
// owners reachable says are reachable; a hint whose owner is self (the
// ring made this node the owner) is returned in mine instead, for the
// node to apply and then settle with delivered. Hints for owners that are
// not reachable are kept. The slices are valid until the next replay.
func (h *hints) replay(reachable func(sim.NodeID) bool) (send []hintReplay, mine []Hint) {
	clear(h.send)
	clear(h.mine)
	send, mine = h.send[:0], h.mine[:0]
	defer func() { h.send, h.mine = send, mine }()
	for _, hint := range h.st.Hints() {
		if len(send) >= h.cfg.HintReplayBatch {
			break
		}
		if hint.Owner == h.self {
			mine = append(mine, hint)
			continue
		}
		if !reachable(hint.Owner) {
			continue
		}
		h.stats.HintsReplayed++
		send = append(send, hintReplay{to: hint.Owner, msg: Message{Type: MsgHandoff, Key: hint.Key, Versions: hint.Versions, HintID: hint.ID, HintSeq: hint.Seq}})
	}
	return send, mine
}

// delivered deletes a hint the node applied as its own owner.
func (h *hints) delivered(hint Hint) {
	h.st.DeleteHint(hint.Owner, hint.Key)
	h.stats.HintsDelivered++
}

// onAck takes an owner's MsgHandoffAck: the hint is deleted only if it
// has not changed since the replay (same id and sequence); a newer write
// merged into it is kept for the next replay.
func (h *hints) onAck(from sim.NodeID, m Message) {
	cur, ok := h.st.Hint(from, m.Key)
	switch {
	case m.Refused:
		h.stats.HandoffsRefused++
	case ok && cur.ID == m.HintID && cur.Seq == m.HintSeq:
		h.st.DeleteHint(from, m.Key)
		h.stats.HintsDelivered++
		h.forget(cur.Versions)
	default:
		h.stats.HandoffAcksStale++
	}
}

// owed counts the hints whose owner counts says still await them.
func (h *hints) owed(counts func(sim.NodeID) bool) int {
	owed := 0
	for _, hint := range h.st.Hints() {
		if counts(hint.Owner) {
			owed++
		}
	}
	return owed
}

// len returns the number of hints held.
func (h *hints) len() int { return h.st.HintCount() }
