// Package workloads generates the client operations of a simulated run:
// seeded, closed-loop programs that the cluster drives one request at a
// time. A workload hands each client its next Op; the op says what to
// record as the invocation, which Request to send first, how to react to
// each Response (a set add is a Get followed by a Put), and what to record
// as the completion. Workloads: register (single-key reads and writes with
// unique values, at most MaxClientsPerKey clients per key so
// linearizability stays checkable), set (Jepsen's Riak set: adds by
// read-modify-write with a sibling union) and kv (many keys; get, put,
// delete).
//
// Workloads speak the node boundary's request vocabulary (node.Method,
// node.Status: ok, fail, info), which the cluster hands to whatever nodes
// run under it.
//
// Layer: workloads is at layer 2 of docs/design.md §2. It imports the standard
// library, sim, history and node only.
package workloads
