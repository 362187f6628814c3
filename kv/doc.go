// Package kv is the system under test: one Dynamo-style quorum key-value
// node written as a deterministic state machine in the style of etcd-io/raft.
//
// A Node never sends, sleeps or reads a clock. It takes its inputs as method
// calls — Step for a network message, Submit for a client request it
// coordinates, Tick to advance its timers — and returns what it produced
// through Ready: writes to its durable state, whether they must be synced
// before anything else leaves (raft's MustSync), messages to send and
// replies to clients. Its wall clock (used only for last-write-wins
// timestamps) is injected so a simulator can skew it; every timeout counts
// ticks, and IdleTicks says how many of the next ticks have nothing to do
// (a driver may then take them at once with SkipTicks). Persistence is output: the node reads its Store once, at NewNode,
// and from then on the driver applies the writes each Ready carries
// (Ready.Apply). A crash is the driver's operation on the Store and loses
// what was not synced; a restart is a new Node over the same Store.
//
// Every policy the Dynamo family argues about is a switch in Config: strict
// or sloppy quorums, last-write-wins or vector clocks, read repair off,
// asynchronous or blocking (the ABD write-back), hinted handoff with a
// bounded hint store, syncing before acknowledging, forwarding to the
// preferred coordinator, and the tombstone grace period whose being too
// short resurrects deleted data.
//
// Outcomes follow docs/design.md §5: Fail only when the operation certainly took
// effect nowhere (rejected before any replica was asked, or refused by
// every replica); a write acknowledged by some replicas but fewer than W,
// and any deadline, is Info (unknown outcome: the history's info).
//
// Vector clocks are dotted version vectors, as in Riak 2: every version
// carries its write event (a dot) and the causal context its client had
// seen, and a version supersedes exactly the versions whose dots its
// context covers. Writes are coordinated by a replica of the key (a
// non-replica forwards them, and a forwarded request the network duplicates
// is coordinated once), which folds its own versions of the key into
// every write it sends, so any replica that learns a dot also learns the
// coordinator's earlier dots for the key; clock actors are (node,
// incarnation) pairs, and a node that forgets dots it issued (restart,
// handed-off or evicted hint, purged tombstone) moves to a new incarnation.
// Together these make a context cover only versions its client saw.
//
// Failure suspicion is local: a peer that leaves a request unanswered for
// SuspectAfterTicks, with nothing else heard from it, is suspected until
// any message arrives from it; suspected peers are pinged every
// ProbeIntervalTicks. Under gossip membership (MembershipGossip) each node
// also keeps a membership table (kv/membership: heartbeats, suspect and
// dead verdicts, join and leave, gossiped push-pull to GossipFanout peers
// every GossipIntervalTicks) and believes a peer down if either says so;
// that decides sloppy-quorum fallbacks and hint replay. Each node then
// routes with the ring built from its own view — every claimed member not
// left, under the ring configuration it was built with — so views that
// agree give identical rings and views that differ (a partition) route
// differently, as in production. Under oracle membership the ring is
// whatever SetRing gives.
//
// Merkle anti-entropy (AntiEntropyIntervalTicks > 0) keeps one tree per
// ring range the node replicates (kv/merkle), updated on every change of
// its data; every interval, jittered from the node's own stream, it
// compares one range (round robin) with one other replica of it (round
// robin), descending only into differing subtrees, and repairs exactly the
// differing keys both ways, merged by the conflict mode. Off, no tree is
// kept and nothing is sent.
//
// Range handoff (RangeHandoff) moves data when the ring changes: a node
// that gained an arc (ring.Diff between its old and new ring) pulls it in
// batches from the previous replicas, those that lost the arc first, and
// answers reads of it only once a pull completed; it takes writes for it
// at once. A node refuses reads and writes of keys it does not replicate
// in its own ring, and a previous replica streams an arc only once it no
// longer replicates it (unless forced after HandoffTimeoutTicks), so a
// stream holds every write it acknowledged there. A leaving node keeps
// serving pulls until LeaveDone.
//
// Layer L2 (docs/design.md §2): kv imports only the standard library,
// sim, ring and its own sub-packages kv/merkle and
// kv/membership. It never imports transport, cluster, nemesis, workloads
// or checker; internal/tidy proves it with go list -deps.
package kv
