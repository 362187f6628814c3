package kv

import (
	"errors"
	"fmt"

	"github.com/faultline-sim/faultline/kv/merkle"
)

// QuorumMode says which replicas count towards W and R.
type QuorumMode uint8

const (
	// Strict counts only the N home replicas of the preference list.
	Strict QuorumMode = iota + 1
	// Sloppy replaces home replicas the coordinator believes unreachable
	// by the next fallback nodes on the ring; fallbacks store the write as
	// a hint naming the home replica and count towards W and R.
	Sloppy
)

// String returns "strict" or "sloppy".
func (q QuorumMode) String() string {
	if n, ok := quorumNames[q]; ok {
		return n
	}
	return fmt.Sprintf("QuorumMode(%d)", uint8(q))
}

// ResolveMode says how a replica reconciles versions of one key.
type ResolveMode uint8

const (
	// LWW keeps the version with the greatest (timestamp, writer, counter):
	// the coordinator's wall-clock timestamp decides, so clock skew can make
	// a later write lose.
	LWW ResolveMode = iota + 1
	// VectorClock keeps every version not causally superseded as a
	// sibling; Get returns them all with an opaque causal context and a Put
	// with that context supersedes exactly the versions it saw.
	VectorClock
)

// String returns "lww" or "vclock".
func (r ResolveMode) String() string {
	if n, ok := resolveNames[r]; ok {
		return n
	}
	return fmt.Sprintf("ResolveMode(%d)", uint8(r))
}

// ReadRepairMode says what a coordinator does with stale replicas it meets
// while reading.
type ReadRepairMode uint8

const (
	// RepairOff leaves stale replicas alone.
	RepairOff ReadRepairMode = iota + 1
	// RepairAsync replies first, then pushes the newest version to every
	// replica that answered with an older one (including late answers).
	RepairAsync
	// RepairBlocking writes the newest version back until at least W
	// replicas are known to hold it before replying: the ABD write-back that
	// makes strict-quorum reads linearizable.
	RepairBlocking
)

// String returns "off", "async" or "blocking".
func (m ReadRepairMode) String() string {
	if n, ok := repairNames[m]; ok {
		return n
	}
	return fmt.Sprintf("ReadRepairMode(%d)", uint8(m))
}

// HintPolicy says what a node does with a new hint when its hint store
// already holds MaxHints hints.
type HintPolicy uint8

const (
	// HintRejectWhenFull refuses the hinted write explicitly: the
	// coordinator counts a refusal, never an acknowledgement, so no
	// acknowledged write depends on a hint that was not kept.
	HintRejectWhenFull HintPolicy = iota + 1
	// HintEvictOldest accepts the new hint and evicts the oldest one (by
	// creation). The evicted write reaches its owner only through read
	// repair or anti-entropy, so acknowledged writes can be lost.
	HintEvictOldest
)

// String returns "reject" or "evict-oldest".
func (p HintPolicy) String() string {
	if n, ok := hintPolicyNames[p]; ok {
		return n
	}
	return fmt.Sprintf("HintPolicy(%d)", uint8(p))
}

// MembershipMode says where a node's ring comes from.
type MembershipMode uint8

const (
	// MembershipOracle: the ring is whatever NewNode and SetRing give the
	// node; an outside oracle (the simulator) keeps every node's ring
	// current. No gossip is sent.
	MembershipOracle MembershipMode = iota + 1
	// MembershipGossip: each node keeps a gossip membership table
	// (kv/membership) with heartbeat failure detection and routes with the
	// ring built from its own view, so views (and rings) can differ, as in
	// production. SetRing is then refused.
	MembershipGossip
)

// String returns "oracle" or "gossip".
func (m MembershipMode) String() string {
	if n, ok := membershipNames[m]; ok {
		return n
	}
	return fmt.Sprintf("MembershipMode(%d)", uint8(m))
}

// Config is the cluster-wide policy of a node. Every field must be set:
// Validate rejects zero modes and non-positive limits instead of guessing.
// DefaultConfig returns a complete configuration to start from.
type Config struct {
	// VNodes is the number of ring tokens per node (vnode mode) and Shards,
	// when > 0, selects fixed-shard mode with that many shards: the shape
	// of the ring a node behind the boundary (NewFactory) builds from the
	// cluster's view, seeded by the run's seed. NewNode takes its ring
	// ready-made and ignores both.
	VNodes, Shards int
	// N is the replication factor; W and R are the acknowledgements a
	// write and the replies a read wait for. Requests may override them.
	N, W, R int
	// Quorum chooses strict or sloppy quorums.
	Quorum QuorumMode
	// Resolve chooses last-write-wins or vector clocks.
	Resolve ResolveMode
	// ReadRepair chooses off, async or blocking read repair.
	ReadRepair ReadRepairMode
	// HintedHandoff replays hints to their owners once they are believed
	// reachable. Under a sloppy quorum the fallbacks hold the hints; under a
	// strict quorum the coordinator keeps a hint for every home replica that
	// did not acknowledge by the deadline (Cassandra style; such hints never
	// count towards W). Off, hinted writes stay on the fallbacks.
	HintedHandoff bool
	// SyncBeforeAck makes replicas Sync their store before acknowledging a
	// write (data or hint). Off, writes become durable at the next periodic
	// sync, so a crash can lose acknowledged writes.
	SyncBeforeAck bool
	// ForwardToPreferred makes a coordinator that is not in the key's
	// preference list forward the request to the first preference-list node
	// it believes reachable. Vector-clock writes are always coordinated by a
	// replica (as in Riak), whatever this says.
	ForwardToPreferred bool
	// RequestTimeoutTicks is how long a coordinator waits for W acks or R
	// replies (and a forwarder for the forwarded reply) before answering
	// Info.
	RequestTimeoutTicks int
	// SuspectAfterTicks is how long a request to a peer may stay unanswered,
	// with nothing heard from that peer, before the node suspects it.
	SuspectAfterTicks int
	// ProbeIntervalTicks is how often a node pings the peers it suspects;
	// any message from a peer clears the suspicion.
	ProbeIntervalTicks int
	// HintReplayIntervalTicks is how often a node replays its hints to
	// owners it believes reachable.
	HintReplayIntervalTicks int
	// HintReplayBatch is the most hints replayed per interval.
	HintReplayBatch int
	// MaxHints bounds the hint store of each node; HintPolicy says what
	// happens beyond it.
	MaxHints int
	// HintPolicy is the policy when the hint store is full.
	HintPolicy HintPolicy
	// MaxSiblings bounds the versions kept for one key (Riak's default is
	// 100). A write that would exceed it fails with ErrTooManySiblings.
	MaxSiblings int
	// MaxKeyBytes and MaxValueBytes bound keys and values.
	MaxKeyBytes, MaxValueBytes int
	// TombstoneGraceTicks is how long a replica keeps a tombstone before
	// purging it. Too short a grace resurrects deleted data ("zombies") when
	// a replica that missed the delete later repairs the others.
	TombstoneGraceTicks int
	// SyncIntervalTicks is how often a node Syncs its store in the
	// background (like a periodic commit-log fsync).
	SyncIntervalTicks int

	// AntiEntropyIntervalTicks is the mean time between two Merkle
	// anti-entropy exchanges started by a node (jittered by ±50% from the
	// node's own stream); each exchange compares one range the node
	// replicates (round robin) with one other replica of it (round robin)
	// and repairs the differing keys both ways. 0 turns anti-entropy off:
	// no trees are kept and tree requests from peers are ignored.
	AntiEntropyIntervalTicks int
	// MerkleDepth and MerkleFanout shape every range's Merkle tree:
	// MerkleFanout^MerkleDepth leaf buckets (see kv/merkle.Config).
	MerkleDepth, MerkleFanout int

	// Membership chooses oracle rings (SetRing) or gossip membership.
	Membership MembershipMode
	// GossipIntervalTicks is the time between two gossip rounds; each
	// round pushes the node's view to GossipFanout random live peers.
	GossipIntervalTicks int
	// GossipFanout is the number of peers gossiped to per round.
	GossipFanout int
	// GossipSuspectRounds is how many gossip rounds without heartbeat
	// progress make a node suspect; GossipDeadRounds how many more make it
	// dead. Suspect and dead nodes count as unreachable for coordinators
	// (combined with local suspicion) but stay on the ring.
	GossipSuspectRounds, GossipDeadRounds int

	// RangeHandoff turns ownership handoff on: after a ring change a node
	// that gained a range pulls it from the range's previous replicas
	// (those that lost it first) and answers reads of it as a full replica
	// only once a stream from a previous replica that has stopped taking
	// writes for it has completed; a node refuses reads and writes of keys
	// it does not replicate in its own ring. Off, a ring change only
	// reroutes new requests.
	RangeHandoff bool
	// TransferBatchKeys bounds the keys in one handoff-stream or
	// anti-entropy repair message.
	TransferBatchKeys int
	// HandoffTimeoutTicks is how long a handoff stream may make no
	// progress before the receiver asks the next previous replica; a range
	// still not received after 3 rounds over its sources is given up (and
	// counted). It is also how long a receiver waits for a previous
	// replica to stop taking writes before it accepts its data anyway.
	HandoffTimeoutTicks int
	// LeaveTimeoutTicks bounds how long a leaving node waits for its
	// ranges to be pulled and its hints to drain before LeaveDone reports
	// true anyway (counted in Stats.LeaveTimeouts).
	LeaveTimeoutTicks int
}

// DefaultConfig returns a complete configuration: N=3, W=2, R=2, strict
// quorum, LWW, blocking read repair, hinted handoff on, sync before ack, a
// 20-tick request timeout, Riak's sibling limit of 100, anti-entropy off
// (as in Cassandra, where repair is an operator's decision; set
// AntiEntropyIntervalTicks, e.g. to 10, to turn it on) with trees of 8^3
// leaves ready, oracle membership (gossip settings ready for
// MembershipGossip: a round every 5 ticks to 3 peers) and range handoff on.
func DefaultConfig() Config {
	return Config{
		VNodes: 16,
		N:      3, W: 2, R: 2,
		Quorum:                  Strict,
		Resolve:                 LWW,
		ReadRepair:              RepairBlocking,
		HintedHandoff:           true,
		SyncBeforeAck:           true,
		RequestTimeoutTicks:     20,
		SuspectAfterTicks:       5,
		ProbeIntervalTicks:      5,
		HintReplayIntervalTicks: 10,
		HintReplayBatch:         64,
		MaxHints:                10_000,
		HintPolicy:              HintRejectWhenFull,
		MaxSiblings:             100,
		MaxKeyBytes:             1 << 10,
		MaxValueBytes:           1 << 20,
		TombstoneGraceTicks:     1000,
		SyncIntervalTicks:       10,

		AntiEntropyIntervalTicks: 0,
		MerkleDepth:              3,
		MerkleFanout:             8,

		Membership:          MembershipOracle,
		GossipIntervalTicks: 5,
		GossipFanout:        3,
		GossipSuspectRounds: 4,
		GossipDeadRounds:    8,

		RangeHandoff:        true,
		TransferBatchKeys:   64,
		HandoffTimeoutTicks: 100,
		LeaveTimeoutTicks:   2000,
	}
}

// ValidateRing checks the ring shape (VNodes, Shards) NewFactory builds
// rings with, saying what to change.
func (c Config) ValidateRing() error {
	switch {
	case c.Shards < 0:
		return fmt.Errorf("%w: Shards is %d: use 0 for vnode mode or a positive shard count", ErrBadConfig, c.Shards)
	case c.Shards == 0 && c.VNodes < 1:
		return fmt.Errorf("%w: VNodes is %d: each node needs at least 1 token", ErrBadConfig, c.VNodes)
	}
	return nil
}

// ErrBadConfig is wrapped by every Config validation error.
var ErrBadConfig = errors.New("kv: bad config")

// Validate reports the first problem with c for a cluster of clusterSize
// nodes: W or R outside [1, N], N outside [1, clusterSize], unset modes and
// non-positive ticks or limits. Errors wrap ErrBadConfig and say what to
// change.
func (c Config) Validate(clusterSize int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...)
	}
	if clusterSize < 1 {
		return bad("cluster size %d: a cluster needs at least one node", clusterSize)
	}
	if err := checkNWR(c.N, c.W, c.R, clusterSize); err != nil {
		return fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	switch c.Quorum {
	case Strict, Sloppy:
	default:
		return bad("Quorum %v: set Strict or Sloppy", c.Quorum)
	}
	switch c.Resolve {
	case LWW, VectorClock:
	default:
		return bad("Resolve %v: set LWW or VectorClock", c.Resolve)
	}
	switch c.ReadRepair {
	case RepairOff, RepairAsync, RepairBlocking:
	default:
		return bad("ReadRepair %v: set RepairOff, RepairAsync or RepairBlocking", c.ReadRepair)
	}
	switch c.HintPolicy {
	case HintRejectWhenFull, HintEvictOldest:
	default:
		return bad("HintPolicy %v: set HintRejectWhenFull or HintEvictOldest", c.HintPolicy)
	}
	switch c.Membership {
	case MembershipOracle, MembershipGossip:
	default:
		return bad("Membership %v: set MembershipOracle or MembershipGossip", c.Membership)
	}
	if c.AntiEntropyIntervalTicks < 0 {
		return bad("AntiEntropyIntervalTicks=%d: use 0 to turn anti-entropy off or a positive interval", c.AntiEntropyIntervalTicks)
	}
	if err := c.merkleConfig().Validate(); err != nil {
		return bad("MerkleDepth=%d MerkleFanout=%d: %v", c.MerkleDepth, c.MerkleFanout, err)
	}
	positive := []struct {
		name string
		v    int
	}{
		{"RequestTimeoutTicks", c.RequestTimeoutTicks},
		{"SuspectAfterTicks", c.SuspectAfterTicks},
		{"ProbeIntervalTicks", c.ProbeIntervalTicks},
		{"HintReplayIntervalTicks", c.HintReplayIntervalTicks},
		{"HintReplayBatch", c.HintReplayBatch},
		{"MaxHints", c.MaxHints},
		{"MaxSiblings", c.MaxSiblings},
		{"MaxKeyBytes", c.MaxKeyBytes},
		{"MaxValueBytes", c.MaxValueBytes},
		{"TombstoneGraceTicks", c.TombstoneGraceTicks},
		{"SyncIntervalTicks", c.SyncIntervalTicks},
		{"GossipIntervalTicks", c.GossipIntervalTicks},
		{"GossipFanout", c.GossipFanout},
		{"GossipSuspectRounds", c.GossipSuspectRounds},
		{"GossipDeadRounds", c.GossipDeadRounds},
		{"TransferBatchKeys", c.TransferBatchKeys},
		{"HandoffTimeoutTicks", c.HandoffTimeoutTicks},
		{"LeaveTimeoutTicks", c.LeaveTimeoutTicks},
	}
	for _, p := range positive {
		if p.v < 1 {
			return bad("%s=%d: must be at least 1", p.name, p.v)
		}
	}
	if c.TransferBatchKeys > maxItems {
		return bad("TransferBatchKeys=%d: at most %d", c.TransferBatchKeys, maxItems)
	}
	return nil
}

// merkleConfig is the shape of every range's tree.
func (c Config) merkleConfig() merkle.Config {
	return merkle.Config{Depth: c.MerkleDepth, Fanout: c.MerkleFanout}
}

// checkNWR validates a replication factor and quorum sizes against the
// number of nodes able to hold replicas.
func checkNWR(n, w, r, nodes int) error {
	switch {
	case n < 1:
		return fmt.Errorf("N=%d: the replication factor must be at least 1", n)
	case n > nodes:
		return fmt.Errorf("N=%d: larger than the %d nodes that can hold replicas; lower N or add nodes", n, nodes)
	case w < 1:
		return fmt.Errorf("W=%d: a write must wait for at least 1 acknowledgement", w)
	case w > n:
		return fmt.Errorf("W=%d > N=%d: a write cannot wait for more acknowledgements than replicas; lower W or raise N", w, n)
	case r < 1:
		return fmt.Errorf("R=%d: a read must wait for at least 1 reply", r)
	case r > n:
		return fmt.Errorf("R=%d > N=%d: a read cannot wait for more replies than replicas; lower R or raise N", r, n)
	}
	return nil
}
