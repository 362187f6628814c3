// Package node is the boundary between faultline's simulator and the
// system under test: the interface a node implements (Step, Submit, Tick,
// Ready), the optional interfaces that unlock membership changes, replica
// snapshots, counters and spared idle ticks, the factory the simulator starts nodes with, the
// client requests and replies every checker judges, and the durable Disk
// the harness owns and hands to a node at start and at restart.
//
// A node is a deterministic state machine in the etcd-io/raft style: it
// never sends, sleeps, reads a clock or starts a goroutine. Its inputs are
// method calls; its outputs are drained with Ready. Messages between nodes
// are bytes the node encodes (Codec is msgpack, the default), so the
// simulator counts every byte and no pointer crosses from one node to
// another.
//
// The built-in Dynamo store (package kv) is one implementation; a store in
// another module implements the same interface using only public packages.
//
// node imports the standard library, sim and go-msgpack only; every other
// faultline package may import it.
package node
