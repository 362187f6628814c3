package transport

import "github.com/faultline-sim/faultline/sim"

// EventKind says what an observed network event is.
type EventKind uint8

// The observed events.
const (
	// Sent: a message was put on a link (the original, not a duplicate).
	Sent EventKind = iota + 1
	// Duplicated: the network made a second copy of a message just sent.
	Duplicated
	// Dropped: a message was lost; Event.Cause says why.
	Dropped
)

// String returns "send", "dup" or "drop".
func (k EventKind) String() string {
	switch k {
	case Sent:
		return "send"
	case Duplicated:
		return "dup"
	case Dropped:
		return "drop"
	}
	return "?"
}

// Event is one network event an observer sees. Payload is the message's
// bytes, valid only during the call.
type Event struct {
	Kind     EventKind
	From, To sim.NodeID
	Payload  []byte
	// Cause is why a message was dropped: "loss", "partition", "down"
	// (an end is crashed or not a member), "capacity" (the link was full)
	// or "malformed".
	Cause string
}

var dropCauses = [...]string{
	dropLoss: "loss", dropPartition: "partition", dropDown: "down", dropCapacity: "capacity", dropMalformed: "malformed",
}

// SetObserver makes the network call fn for every send, duplicate and drop
// (deliveries go to the deliver function), in order; nil turns it off.
// Observing does not change the run.
func (n *Network[M]) SetObserver(fn func(Event)) { n.observe = fn }

func (n *Network[M]) observed(kind EventKind, from, to sim.NodeID, buf []byte, r dropReason) {
	ev := Event{Kind: kind, From: from, To: to, Payload: buf}
	if kind == Dropped {
		ev.Cause = dropCauses[r]
	}
	n.observe(ev)
}
