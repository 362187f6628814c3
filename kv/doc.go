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
// or sloppy quorums, last-write-wins or vector clocks (dotted version
// vectors with siblings and an opaque causal context), read repair off,
// asynchronous or blocking (the ABD write-back), hinted handoff with a
// bounded hint store, syncing before acknowledging, forwarding to the
// preferred coordinator, and the tombstone grace period whose being too
// short resurrects deleted data.
//
// Layer L2 (DESIGN.md §2): kv imports only the standard library,
// internal/sim and ring. It never imports transport, cluster, nemesis,
// workloads or checker; internal/tidy proves it with go list -deps.
package kv
