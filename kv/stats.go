package kv

import (
	"github.com/faultline-sim/faultline/internal/sim"
)

// ignoreReason says why Step ignored a message.
type ignoreReason uint8

const (
	ignoreNone ignoreReason = iota
	// ignoreUnknownType: the message type is not one this node knows.
	ignoreUnknownType
	// ignoreMalformed: a required field is missing or out of bounds.
	ignoreMalformed
	// ignoreUnknownOp: a reply to an operation that is no longer (or was
	// never) active here, e.g. after its deadline or a restart.
	ignoreUnknownOp
	// ignoreUnexpected: a reply from a node the operation did not ask, or a
	// duplicate.
	ignoreUnexpected
	numIgnoreReasons
)

// ignoreNames are the reasons in IgnoredCount, in ignoreReason order.
var ignoreNames = [numIgnoreReasons]string{
	ignoreNone:        "",
	ignoreUnknownType: "unknown-type",
	ignoreMalformed:   "malformed",
	ignoreUnknownOp:   "unknown-op",
	ignoreUnexpected:  "unexpected-sender",
}

func (n *Node) ignore(r ignoreReason) { n.ignored[r]++ }

// IgnoredCount is how many messages a node ignored for one reason.
type IgnoredCount struct {
	// Reason is "unknown-type", "malformed", "unknown-op" (a reply to an
	// operation no longer active) or "unexpected-sender" (a reply from a
	// node not asked, or a duplicate).
	Reason string
	// Count is the number of messages.
	Count uint64
}

// Stats are a node's counters since it was built.
type Stats struct {
	// Submitted counts client requests; RepliesOK, RepliesFail and
	// RepliesTimeout count the replies this node gave its clients.
	Submitted, RepliesOK, RepliesFail, RepliesTimeout uint64
	// Forwarded counts requests sent to another coordinator;
	// CoordinatedForOthers counts forwarded requests this node ran.
	Forwarded, CoordinatedForOthers uint64
	// MessagesSent and MessagesReceived count network messages.
	MessagesSent, MessagesReceived uint64
	// WritesApplied and WritesRefused count replica writes (data or hint).
	WritesApplied, WritesRefused uint64
	// ReadsServed counts replica reads.
	ReadsServed uint64
	// ReadRepairs counts repair and write-back writes sent.
	ReadRepairs uint64
	// HintsStored counts new hints; CoordinatorHints those kept by a
	// strict-quorum coordinator; HintsReplayed handoffs sent;
	// HintsDelivered hints deleted after the owner's ack; HintsEvicted and
	// HintsRejected hints lost or refused because the store was full.
	HintsStored, CoordinatorHints, HintsReplayed, HintsDelivered, HintsEvicted, HintsRejected uint64
	// HandoffsRefused counts owners refusing a handoff; HandoffAcksStale
	// acks for hints that changed since they were sent.
	HandoffsRefused, HandoffAcksStale uint64
	// TombstonesPurged counts keys deleted after their grace period.
	TombstonesPurged uint64
	// Syncs counts store syncs; Suspicions peers that became suspected.
	Syncs, Suspicions uint64
	// Incarnations counts moves to a new incarnation after forgetting own
	// dots (restarts are not counted here; see Node.Incarnation).
	Incarnations uint64
	// Ignored counts ignored messages by reason, in a fixed order.
	Ignored []IgnoredCount
}

// IgnoredTotal returns the number of ignored messages.
func (s Stats) IgnoredTotal() uint64 {
	var t uint64
	for _, c := range s.Ignored {
		t += c.Count
	}
	return t
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	s := n.stats
	s.Ignored = make([]IgnoredCount, 0, numIgnoreReasons-1)
	for r := ignoreNone + 1; r < numIgnoreReasons; r++ {
		s.Ignored = append(s.Ignored, IgnoredCount{Reason: ignoreNames[r], Count: n.ignored[r]})
	}
	return s
}

// KeySnapshot is the versions one node holds for one key.
type KeySnapshot struct {
	// Key is the key.
	Key string
	// Versions are the stored versions (tombstones included), sorted by
	// dot under vector clocks; one version under LWW.
	Versions []Version
}

// Snapshot is a node's current state (synced or not) as plain sorted
// data, for convergence checkers: its keys in order and its hints.
type Snapshot struct {
	// Node is the node's id.
	Node sim.NodeID
	// Keys are the keys held, sorted.
	Keys []KeySnapshot
	// Hints are the hints held, oldest first.
	Hints []Hint
}

// Snapshot returns a deep copy of the node's data and hints.
func (n *Node) Snapshot() Snapshot {
	s := Snapshot{Node: n.id}
	for _, k := range n.store.Keys() {
		vs, _ := n.store.Get(k)
		s.Keys = append(s.Keys, KeySnapshot{Key: k, Versions: cloneVersions(vs)})
	}
	for _, h := range n.store.Hints() {
		h.Versions = cloneVersions(h.Versions)
		s.Hints = append(s.Hints, h)
	}
	return s
}
