//go:generate go run github.com/hashicorp/go-msgpack/v2/codec/codecgen@v2.1.5 -o msg_codecgen.go msg.go

// Package benchwire holds a kv-like benchmark payload with a codecgen-generated
// msgpack codec, to measure the transport with generated rather than
// reflection-based encoding.
package benchwire

import "github.com/faultline-sim/faultline/sim"

// ClockEntry is one vector-clock entry.
type ClockEntry struct {
	Node    sim.NodeID
	Counter uint64
}

// Msg looks like a Dynamo-style replica write.
type Msg struct {
	Kind        uint8
	ReqID       uint64
	Coordinator sim.NodeID
	Key         string
	Value       []byte
	Timestamp   sim.Time
	Clock       []ClockEntry
	Hinted      bool
}
