package kv

import "github.com/faultline-sim/faultline/sim"

// suspicion is a node's local failure detector, a plain state machine: a
// peer becomes suspected when a request sent to it (sent) has waited
// SuspectAfterTicks (tick) without a valid message from the peer (heard),
// which clears the suspicion at once.
type suspicion struct {
	after int64
	peers map[sim.NodeID]*peer // lookup only; iteration goes over the caller's members
}

// peer is the suspicion about one other node.
type peer struct {
	// waitingSince is the tick of the oldest request sent since the peer
	// was last heard from; -1 when none is waiting.
	waitingSince int64
	suspected    bool
}

func newSuspicion(afterTicks int) suspicion {
	return suspicion{after: int64(afterTicks), peers: map[sim.NodeID]*peer{}}
}

// sent starts the peer's clock at tick now unless a request already waits.
func (s *suspicion) sent(to sim.NodeID, now int64) {
	p, ok := s.peers[to]
	if !ok {
		p = &peer{waitingSince: -1}
		s.peers[to] = p
	}
	if p.waitingSince < 0 {
		p.waitingSince = now
	}
}

// heard clears the suspicion of a peer that just sent a valid message.
func (s *suspicion) heard(id sim.NodeID) {
	if p, ok := s.peers[id]; ok {
		p.waitingSince = -1
		p.suspected = false
	}
}

// suspected reports whether the peer is suspected.
func (s *suspicion) suspected(id sim.NodeID) bool {
	p, ok := s.peers[id]
	return ok && p.suspected
}

// tick suspects, at tick now, every member but self whose oldest request
// has waited long enough, in members' order, and returns how many it
// newly suspected.
func (s *suspicion) tick(members []sim.NodeID, self sim.NodeID, now int64) uint64 {
	newly := uint64(0)
	for _, id := range members {
		if id == self {
			continue
		}
		p, ok := s.peers[id]
		if ok && !p.suspected && p.waitingSince >= 0 && now-p.waitingSince >= s.after {
			p.suspected = true
			newly++
		}
	}
	return newly
}

// nextDue returns the first tick at which tick would suspect one of
// members (self aside): the oldest unanswered request's tick plus the
// wait; never if no unsuspected member is waited for.
func (s *suspicion) nextDue(members []sim.NodeID, self sim.NodeID) int64 {
	due := never
	for _, id := range members {
		if id == self {
			continue
		}
		if p, ok := s.peers[id]; ok && !p.suspected && p.waitingSince >= 0 {
			due = min(due, p.waitingSince+s.after)
		}
	}
	return due
}

// anySuspected reports whether one of ids is suspected.
func (s *suspicion) anySuspected(ids []sim.NodeID) bool {
	for _, id := range ids {
		if s.suspected(id) {
			return true
		}
	}
	return false
}
