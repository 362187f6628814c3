package node

import "fmt"

// Method is what a client Request asks its coordinator to do.
type Method uint8

// The request methods.
const (
	// Get reads every live version of Key.
	Get Method = iota + 1
	// Put writes Value under Key, superseding what Context saw.
	Put
	// Delete removes Key, superseding what Context saw.
	Delete
)

// String returns "get", "put" or "delete".
func (m Method) String() string {
	switch m {
	case Get:
		return "get"
	case Put:
		return "put"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Status is how a request ended, in the history's vocabulary.
type Status uint8

// The reply statuses.
const (
	// OK: the request succeeded.
	OK Status = iota + 1
	// Fail: the request certainly took effect nowhere (e.g. it was
	// rejected before any replica was asked).
	Fail
	// Info: the outcome is unknown; the request may or may not have taken
	// effect (a write acknowledged by fewer replicas than required, a
	// deadline passed).
	Info
)

// String returns "ok", "fail" or "info".
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Info:
		return "info"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Request is one client request to the node that coordinates it.
type Request struct {
	// ID identifies the request; the Reply carries it back.
	ID uint64
	// Method is Get, Put or Delete.
	Method Method
	// Key is the key.
	Key string
	// Value is the bytes a Put writes.
	Value []byte
	// Context is the opaque causal context of an earlier Get of the same
	// key, as its Reply returned it; nil means none (a blind write).
	Context []byte
	// ReadAll asks a Get to read every replica of the key, so it sees what
	// any holds; the simulator sets it on the final reads after the
	// settle phase. A store with one authoritative copy (a primary) may
	// ignore it: reading its backups would hide what the primary lost.
	ReadAll bool
}

// Reply is a node's answer to a Request.
type Reply struct {
	// ID is the Request.ID this answers.
	ID uint64
	// Status is OK, Fail or Info.
	Status Status
	// Values are the live values a Get found, in a deterministic order;
	// more than one means concurrent siblings, none means not found.
	Values [][]byte
	// Context is the causal context of what a Get read, to pass to a later
	// Put or Delete of the same key; nil if the store has none.
	Context []byte
	// Err explains a Fail or Info.
	Err string
}
