package history

import (
	"fmt"

	"github.com/faultline-sim/faultline/sim"
)

// Type says whether an Event is an invocation or a completion, and how the
// operation completed.
type Type string

// The event types. A completion is OK when the operation certainly took
// effect, Fail when it certainly took effect nowhere, and Info when its
// outcome is unknown (it may or may not have taken effect).
const (
	Invoke Type = "invoke"
	OK     Type = "ok"
	Fail   Type = "fail"
	Info   Type = "info"
)

// Valid reports whether t is one of the four event types.
func (t Type) Valid() bool {
	switch t {
	case Invoke, OK, Fail, Info:
		return true
	}
	return false
}

// Kind is what an operation does.
type Kind string

// The operation kinds.
const (
	// Read returns the key's current versions in Values (several under vector
	// clocks: siblings), or NotFound. For a set key, Values are the elements.
	Read Kind = "read"
	// Write stores the unique Value under Key. Under vector clocks Context
	// lists the values the write's causal context had seen (it supersedes them).
	Write Kind = "write"
	// Delete removes Key. Under vector clocks Context lists the values it
	// supersedes.
	Delete Kind = "delete"
	// CAS sets Key to Value if its current value is Expect.
	CAS Kind = "cas"
	// Add adds the element Value to the set stored under Key (by
	// read-modify-write in the set workload; Jepsen's :add maps here).
	Add Kind = "add"
	// Append concatenates Value to the string stored under Key (porcupine's
	// and the MIT 6.5840 lab's kv append; Jepsen's :append maps here).
	Append Kind = "append"
	// Acquire and Release take and give back the lock named Key (Knossos's
	// mutex model).
	Acquire Kind = "acquire"
	Release Kind = "release"
)

// Valid reports whether k is one of the operation kinds.
func (k Kind) Valid() bool {
	switch k {
	case Read, Write, Delete, CAS, Add, Append, Acquire, Release:
		return true
	}
	return false
}

// Event is one line of a history: the invocation or the completion of one
// client operation. Invocations carry what the client asked (Kind, Key,
// Value, Expect, Context, Final); completions carry what it got back
// (Values, NotFound, Err) and may repeat Kind and Key.
type Event struct {
	// Index is the event's position in its history, strictly increasing.
	Index int `json:"index"`
	// Type is invoke, ok, fail or info.
	Type Type `json:"type"`
	// Client is the closed-loop client (Jepsen: process) issuing the
	// operation; a client has at most one operation open at a time.
	Client int `json:"client"`
	// Kind is read, write, delete, cas or add.
	Kind Kind `json:"kind"`
	// Key is the key operated on.
	Key string `json:"key"`
	// Value is the unique value written (write, and cas's new value) or the
	// element added (add).
	Value string `json:"value,omitempty"`
	// Expect is the value a cas requires the key to hold.
	Expect string `json:"expect,omitempty"`
	// Values are the versions a read returned (siblings under vector clocks;
	// the elements for a set key). Order carries no meaning.
	Values []string `json:"values,omitempty"`
	// NotFound marks a read that found no live version of the key.
	NotFound bool `json:"not_found,omitempty"`
	// Context lists the values a vector-clock write's (or delete's) causal
	// context had seen: the versions it supersedes. Nil under LWW.
	Context []string `json:"context,omitempty"`
	// Final marks a settle-phase final read (only on reads).
	Final bool `json:"final,omitempty"`
	// Time is the virtual time of the event.
	Time sim.Time `json:"time"`
	// Node is the coordinator the client sent the operation to.
	Node sim.NodeID `json:"node"`
	// Err describes why a fail or info completion failed.
	Err string `json:"err,omitempty"`
}

// String formats e on one line for traces and error messages.
func (e Event) String() string {
	s := fmt.Sprintf("#%d %s c%d %s %q", e.Index, e.Type, e.Client, e.Kind, e.Key)
	switch {
	case e.Kind == CAS && e.Type == Invoke:
		s += fmt.Sprintf(" %q->%q", e.Expect, e.Value)
	case e.Value != "":
		s += fmt.Sprintf(" %q", e.Value)
	}
	if e.NotFound {
		s += " not-found"
	}
	if len(e.Values) > 0 {
		s += fmt.Sprintf(" %q", e.Values)
	}
	if len(e.Context) > 0 {
		s += fmt.Sprintf(" ctx=%q", e.Context)
	}
	if e.Final {
		s += " final"
	}
	s += " @" + e.Time.String() + " " + e.Node.String()
	if e.Err != "" {
		s += " err=" + e.Err
	}
	return s
}

// check reports what is wrong with e on its own, or nil.
func (e *Event) check() error {
	if !e.Type.Valid() {
		return fmt.Errorf("unknown type %q (want invoke, ok, fail or info)", e.Type)
	}
	if e.Client < 0 {
		return fmt.Errorf("negative client %d", e.Client)
	}
	if e.Time < 0 {
		return fmt.Errorf("negative time %d", e.Time)
	}
	if e.Type == Invoke || e.Kind != "" {
		if !e.Kind.Valid() {
			return fmt.Errorf("unknown kind %q (want read, write, delete, cas, add, append, acquire or release)", e.Kind)
		}
	}
	if e.Type == Invoke {
		if e.Final && e.Kind != Read {
			return fmt.Errorf("final flag on a %s (only reads can be final)", e.Kind)
		}
		if len(e.Values) > 0 || e.NotFound {
			return fmt.Errorf("invocation carries a read result (values or not_found belong on the completion)")
		}
	}
	if e.Type != Invoke && e.Type != OK && (len(e.Values) > 0 || e.NotFound) {
		return fmt.Errorf("%s completion carries a read result (only ok reads return values)", e.Type)
	}
	if e.NotFound && len(e.Values) > 0 {
		return fmt.Errorf("read both not_found and returned values %q", e.Values)
	}
	return nil
}
