package kv

import (
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// suspicion is a node's local failure detector, a plain state machine: a
// peer becomes suspected when a request sent to it (sent) has waited
// SuspectAfterTicks (tick) without a valid message from the peer (heard),
// which clears the suspicion at once.
type suspicion struct {
	after int64
	dense []peer               // peers by id, for ids below denseIDs
	far   map[sim.NodeID]*peer // peers with larger ids; lookup only
}

// denseIDs bounds the ids kept in a slice indexed by id (a lookup per
// message without hashing); larger ids go to a map.
const denseIDs = 1 << 12

// peer is the suspicion about one other node.
type peer struct {
	// waitingSince is the tick of the oldest request sent since the peer
	// was last heard from; -1 when none is waiting.
	waitingSince int64
	suspected    bool
	known        bool // something was sent to it (a dense entry in use)
}

func newSuspicion(afterTicks int) suspicion {
	return suspicion{after: int64(afterTicks)}
}

// lookup returns the peer id, nil if nothing was ever sent to it. The
// pointer is valid until the next add.
func (s *suspicion) lookup(id sim.NodeID) *peer {
	if id < denseIDs {
		if int(id) < len(s.dense) && s.dense[id].known {
			return &s.dense[id]
		}
		return nil
	}
	return s.far[id]
}

// add returns the peer id, made (waiting for nothing) if new. The
// pointer is valid until the next add.
func (s *suspicion) add(id sim.NodeID) *peer {
	if p := s.lookup(id); p != nil {
		return p
	}
	if id < denseIDs {
		if int(id) >= len(s.dense) {
			s.dense = append(s.dense, make([]peer, int(id)+1-len(s.dense))...)
		}
		s.dense[id] = peer{known: true, waitingSince: -1}
		return &s.dense[id]
	}
	if s.far == nil {
		s.far = map[sim.NodeID]*peer{}
	}
	p := &peer{waitingSince: -1}
	s.far[id] = p
	return p
}

// peers returns the ids of the peers ever sent to, in increasing order.
func (s *suspicion) peers() []sim.NodeID {
	var ids []sim.NodeID
	for id, p := range s.dense {
		if p.known {
			ids = append(ids, sim.NodeID(id))
		}
	}
	far := make([]sim.NodeID, 0, len(s.far))
	for id := range s.far {
		far = append(far, id)
	}
	slices.Sort(far)
	return append(ids, far...)
}

// sent starts the peer's clock at tick now unless a request already waits.
func (s *suspicion) sent(to sim.NodeID, now int64) {
	p := s.add(to)
	if p.waitingSince < 0 {
		p.waitingSince = now
	}
}

// heard clears the suspicion of a peer that just sent a valid message.
func (s *suspicion) heard(id sim.NodeID) {
	if p := s.lookup(id); p != nil {
		p.waitingSince = -1
		p.suspected = false
	}
}

// suspected reports whether the peer is suspected.
func (s *suspicion) suspected(id sim.NodeID) bool {
	p := s.lookup(id)
	return p != nil && p.suspected
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
		p := s.lookup(id)
		if p != nil && !p.suspected && p.waitingSince >= 0 && now-p.waitingSince >= s.after {
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
		if p := s.lookup(id); p != nil && !p.suspected && p.waitingSince >= 0 {
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
