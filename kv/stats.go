package kv

import (
	"fmt"

	"github.com/faultline-sim/faultline/sim"
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
	// ignoreDisabled: a message of a mechanism this node has turned off
	// (a tree request with anti-entropy off, gossip under oracle
	// membership, a stream request with range handoff off).
	ignoreDisabled
	// ignoreUnknownRange: a Merkle request for a range the node holds no
	// tree for (answered with a refusal, nothing else).
	ignoreUnknownRange
	// ignoreNotOwner: a handoff stream or anti-entropy repair carrying a
	// key the node does not replicate in its own ring.
	ignoreNotOwner
	// ignoreDuplicateForward: a second copy of a forwarded request this
	// node already coordinates (the network duplicated it).
	ignoreDuplicateForward
	// Gossip input the membership table rejected (see membership.Stats):
	// a bad sender, a malformed message, an unknown peer that does not
	// announce itself; and entries skipped: stale incarnations and
	// invalid entries.
	ignoreGossipBadSender
	ignoreGossipMalformed
	ignoreGossipUnknownPeer
	ignoreGossipStale
	ignoreGossipBadEntry
	numIgnoreReasons
)

// ignoreNames are the reasons in IgnoredCount, in ignoreReason order.
var ignoreNames = [numIgnoreReasons]string{
	ignoreNone:        "",
	ignoreUnknownType: "unknown-type",
	ignoreMalformed:   "malformed",
	ignoreUnknownOp:   "unknown-op",
	ignoreUnexpected:  "unexpected-sender",

	ignoreDisabled:          "disabled",
	ignoreUnknownRange:      "unknown-range",
	ignoreNotOwner:          "not-owner",
	ignoreDuplicateForward:  "duplicate-forward",
	ignoreGossipBadSender:   "gossip-bad-sender",
	ignoreGossipMalformed:   "gossip-malformed",
	ignoreGossipUnknownPeer: "gossip-unknown-peer",
	ignoreGossipStale:       "gossip-stale",
	ignoreGossipBadEntry:    "gossip-bad-entry",
}

func (n *Node) ignore(r ignoreReason) {
	n.ignored[r]++
	if n.tracer != nil {
		n.tracer(fmt.Sprintf("ignored %v from %v: %s: %s", n.input.typ, n.input.from, ignoreNames[r], ignoreWhy[r]))
	}
}

// ignoreWhy says in words why a message was ignored, for traces.
var ignoreWhy = [numIgnoreReasons]string{
	ignoreUnknownType:       "a message type this node does not know",
	ignoreMalformed:         "a required field is missing or out of bounds",
	ignoreUnknownOp:         "a reply to an operation no longer active here: its deadline passed, or it is from before a restart",
	ignoreUnexpected:        "a reply from a node the operation did not ask, or a duplicate",
	ignoreDisabled:          "the mechanism is turned off on this node",
	ignoreUnknownRange:      "a Merkle request for a range this node keeps no tree for",
	ignoreNotOwner:          "keys this node does not replicate in its own ring",
	ignoreDuplicateForward:  "a second copy of a forwarded request this node already coordinates (the network duplicated it)",
	ignoreGossipBadSender:   "gossip from a sender that is not who it claims",
	ignoreGossipMalformed:   "a malformed gossip message",
	ignoreGossipUnknownPeer: "gossip from an unknown peer that does not announce itself",
	ignoreGossipStale:       "a gossip entry of an older incarnation",
	ignoreGossipBadEntry:    "an invalid gossip entry",
}

// SetTracer makes the node describe, through fn, why it ignores a message
// (nil: off). Tracing does not change what the node does.
func (n *Node) SetTracer(fn func(string)) { n.tracer = fn }

// IgnoredCount is how many messages a node ignored for one reason.
type IgnoredCount struct {
	// Reason is "unknown-type", "malformed", "unknown-op" (a reply to an
	// operation, exchange or stream no longer active), "unexpected-sender"
	// (a reply from a node not asked, or a duplicate), "disabled" (input
	// for a mechanism turned off), "unknown-range" (a Merkle request for a
	// range not held), "not-owner" (streamed or repaired keys the node
	// does not replicate), "duplicate-forward" (a copy of a forwarded
	// request already coordinated), or a "gossip-" reason: "bad-sender",
	// "malformed", "unknown-peer" (messages), "stale" (entries with an
	// older incarnation) and "bad-entry" (invalid entries skipped).
	Reason string
	// Count is the number of messages.
	Count uint64
}

// Stats are a node's counters since it was built.
type Stats struct {
	// Submitted counts client requests; RepliesOK, RepliesFail and
	// RepliesInfo count the replies this node gave its clients.
	Submitted, RepliesOK, RepliesFail, RepliesInfo uint64
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

	// AntiEntropyExchanges counts Merkle exchanges this node started;
	// AntiEntropyCompleted those that ran to the end, AntiEntropyRefused
	// those the peer refused (it holds no such range) and
	// AntiEntropyTimeouts those abandoned after RequestTimeoutTicks
	// without an answer.
	AntiEntropyExchanges, AntiEntropyCompleted, AntiEntropyRefused, AntiEntropyTimeouts uint64
	// AntiEntropyMessages counts the anti-entropy messages this node sent
	// (tree requests and replies, repairs and repair replies).
	AntiEntropyMessages uint64
	// AntiEntropyTreeBytes is the exact msgpack size (kv/merkle Size) of
	// the tree requests and replies this node sent; AntiEntropyRepairBytes
	// the key and value bytes its repairs and repair replies carried.
	AntiEntropyTreeBytes, AntiEntropyRepairBytes uint64
	// AntiEntropyKeysDiffering counts keys the exchanges this node started
	// found differing; AntiEntropyKeysRepaired keys whose local versions an
	// anti-entropy repair changed (on either side of an exchange).
	AntiEntropyKeysDiffering, AntiEntropyKeysRepaired uint64

	// GossipRounds counts gossip rounds; GossipMessages and GossipBytes the
	// gossip messages sent and their exact msgpack size (membership Size).
	GossipRounds, GossipMessages, GossipBytes uint64
	// RingChanges counts changes of the ring the node routes with (from
	// SetRing or its own view); RingErrors views no ring could be built
	// from (e.g. fewer shards than members), which keep the old ring.
	RingChanges, RingErrors uint64

	// RangesGained counts arcs this node gained in ring changes and had to
	// pull; RangesReceived those fully streamed to it; RangesGivenUp those
	// it began to serve without a complete stream after trying every
	// source; HandoffRetries streams restarted from another source.
	RangesGained, RangesReceived, RangesGivenUp, HandoffRetries uint64
	// StreamsServed counts handoff streams this node served to the end;
	// HandoffKeysSent the keys it streamed; HandoffKeysReceived the
	// streamed keys that changed its store.
	StreamsServed, HandoffKeysSent, HandoffKeysReceived uint64
	// NotReplicaRefusals counts reads and writes this node refused because
	// it is not (yet) a full replica of the key in its own ring.
	NotReplicaRefusals uint64
	// LeaveTimeouts counts leaves that reported done at LeaveTimeoutTicks
	// without every range having been pulled.
	LeaveTimeouts uint64
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
	for _, k := range n.state.Keys() {
		vs, _ := n.state.Get(k)
		s.Keys = append(s.Keys, KeySnapshot{Key: k, Versions: cloneVersions(vs)})
	}
	for _, h := range n.state.Hints() {
		h.Versions = cloneVersions(h.Versions)
		s.Hints = append(s.Hints, h)
	}
	return s
}
