// Package kv is the system under test: one Dynamo-style quorum key-value
// node written as a deterministic state machine in the style of etcd-io/raft.
//
// A Node never sends, sleeps or reads a clock. It takes its inputs as method
// calls — Step for a network message, Submit for a client request it
// coordinates, Tick to advance its timers — and returns what it produced
// through Ready: messages to send and replies to clients. Its wall clock
// (used only for last-write-wins timestamps) is injected so a simulator can
// skew it; every timeout counts ticks. Its disk is an injected Store with an
// explicit Sync: a crash loses what was not synced, and a restart is a new
// Node over the same Store.
//
// Every policy the Dynamo family argues about is a switch in Config: strict
// or sloppy quorums, last-write-wins or vector clocks, read repair off,
// asynchronous or blocking (the ABD write-back), hinted handoff with a
// bounded hint store, syncing before acknowledging, forwarding to the
// preferred coordinator, and the tombstone grace period whose being too
// short resurrects deleted data.
//
// Outcomes follow DESIGN.md §5: Fail only when the operation certainly took
// effect nowhere (rejected before any replica was asked, or refused by
// every replica); a write acknowledged by some replicas but fewer than W,
// and any deadline, is Timeout (unknown outcome).
//
// Vector clocks are dotted version vectors, as in Riak 2: every version
// carries its write event (a dot) and the causal context its client had
// seen, and a version supersedes exactly the versions whose dots its
// context covers. Writes are coordinated by a replica of the key (a
// non-replica forwards them), which folds its own versions of the key into
// every write it sends, so any replica that learns a dot also learns the
// coordinator's earlier dots for the key; clock actors are (node,
// incarnation) pairs, and a node that forgets dots it issued (restart,
// handed-off or evicted hint, purged tombstone) moves to a new incarnation.
// Together these make a context cover only versions its client saw.
//
// Failure suspicion is local and simple: a peer that leaves a request
// unanswered for SuspectAfterTicks, with nothing else heard from it, is
// suspected until any message arrives from it; suspected peers are pinged
// every ProbeIntervalTicks. Issue 5 replaces it with gossip.
//
// Layer L2 (DESIGN.md §2): kv imports only the standard library,
// internal/sim and ring. It never imports transport, cluster, nemesis,
// workloads or checker; internal/tidy proves it with go list -deps.
package kv
