package membership

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// Status is what the cluster believes about a node. The values are ordered
// by precedence: at equal incarnations a later status overrides an earlier.
type Status uint8

// The statuses of a node.
const (
	// Alive: the node's heartbeat progresses.
	Alive Status = 1
	// Suspect: some node saw no heartbeat progress for SuspectTicks; the
	// node can refute it by raising its incarnation.
	Suspect Status = 2
	// Dead: suspected for DeadTicks more without a refutation.
	Dead Status = 3
	// Left: the node left the cluster. It is final within its
	// incarnation: only a new life of the id, at a higher incarnation,
	// overrides it (a rejoin).
	Left Status = 4
)

// String names the status.
func (s Status) String() string {
	switch s {
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Dead:
		return "dead"
	case Left:
		return "left"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

func (s Status) valid() bool { return s >= Alive && s <= Left }

// Entry is one node's row of the membership table, as gossiped.
type Entry struct {
	ID sim.NodeID `codec:"i"`
	// Incarnation is raised only by the node itself, to refute suspicion
	// or death, when it restarts and learns of an older self, and when it
	// rejoins after leaving (a new life of the id).
	Incarnation uint64 `codec:"n"`
	// Heartbeat is raised by the node on every tick.
	Heartbeat uint64 `codec:"h"`
	Status    Status `codec:"s"`
	// Weight is the node's ring weight (>= 1).
	Weight uint32 `codec:"w"`
	// Epoch is the Lamport time at which the node last set its Claims:
	// one more than the highest epoch in its view then. ClaimOwners lets
	// the highest epoch win a contested claim.
	Epoch uint64 `codec:"e"`
	// Claims are opaque ring claims (shard numbers in fixed-shard mode,
	// or explicit tokens); empty in virtual-node mode, where tokens follow
	// from (ring seed, id, weight).
	Claims []uint64 `codec:"c"`
}

// Clone returns a copy of e that shares no memory with it; empty Claims
// become nil, so equal entries are also deeply equal.
func (e Entry) Clone() Entry {
	if len(e.Claims) == 0 {
		e.Claims = nil
	} else {
		e.Claims = slices.Clone(e.Claims)
	}
	return e
}

// Equal reports whether two entries are identical.
func (e Entry) Equal(o Entry) bool {
	return e.ID == o.ID && e.Incarnation == o.Incarnation && e.Heartbeat == o.Heartbeat &&
		e.Status == o.Status && e.Weight == o.Weight && e.Epoch == o.Epoch && slices.Equal(e.Claims, o.Claims)
}

// Merge returns the join of two entries about the same node, the rule every
// table applies to gossip. Entries are totally ordered and Merge keeps the
// greater: the higher incarnation wins; at equal incarnations a Left entry
// beats any other (left is final within an incarnation, and only a new life
// of the id, rejoining at a higher incarnation, overrides it); then the
// higher heartbeat wins; at equal heartbeats the stronger status wins
// (dead > suspect > alive, as in SWIM); remaining ties, which no honest
// node produces, go to the higher (epoch, weight, claims).
//
// A suspect or dead verdict thus names the heartbeat it was reached at, and
// any later heartbeat of the same incarnation — evidence the node lived on —
// overrides it. A crashed node emits no later heartbeat, so it stays dead
// until it restarts and incarnates above the verdict; a node told it is
// suspect or dead at its own heartbeat refutes by raising its incarnation.
// (Plain SWIM precedence, where a verdict beats any heartbeat of its
// incarnation, made the stale verdicts of a node cut off by a partition
// declare the whole majority dead after the heal.)
//
// Merge is commutative, associative and idempotent, so views converge
// whatever the order, loss or duplication of messages. For different ids
// it returns a.
func Merge(a, b Entry) Entry {
	if a.ID != b.ID || order(a, b) >= 0 {
		return a.Clone()
	}
	return b.Clone()
}

func isLeft(e Entry) int {
	if e.Status == Left {
		return 1
	}
	return 0
}

// order is the total order Merge takes the maximum of.
func order(a, b Entry) int {
	return cmp.Or(
		cmp.Compare(a.Incarnation, b.Incarnation),
		cmp.Compare(isLeft(a), isLeft(b)),
		cmp.Compare(a.Heartbeat, b.Heartbeat),
		cmp.Compare(a.Status, b.Status),
		cmp.Compare(a.Epoch, b.Epoch),
		cmp.Compare(a.Weight, b.Weight),
		slices.Compare(a.Claims, b.Claims),
	)
}

// NoOwner marks an unclaimed shard in ClaimOwners' result.
const NoOwner = ^sim.NodeID(0)

// ClaimOwners resolves the shard claims of a view into an owner per shard
// of q: among the entries that are not Left and claim shard s, the one with
// the highest (Epoch, ID) wins, so a joiner's newer claim takes effect
// everywhere as soon as its entry arrives, before the previous owner
// updates its own claims. Unclaimed shards get NoOwner; claims outside
// [0, q) are ignored.
func ClaimOwners(view []Entry, q int) []sim.NodeID {
	if q <= 0 {
		return nil
	}
	owners := make([]sim.NodeID, q)
	epochs := make([]uint64, q)
	for i := range owners {
		owners[i] = NoOwner
	}
	for _, e := range view {
		if e.Status == Left {
			continue
		}
		for _, c := range e.Claims {
			if c >= uint64(q) {
				continue
			}
			if owners[c] == NoOwner || e.Epoch > epochs[c] || (e.Epoch == epochs[c] && e.ID > owners[c]) {
				owners[c], epochs[c] = e.ID, e.Epoch
			}
		}
	}
	return owners
}
