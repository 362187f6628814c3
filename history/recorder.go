package history

import "fmt"

// Recorder builds a history as a simulation runs: Invoke when a client
// sends an operation, Complete when it learns the outcome. It numbers the
// events, copies their slices, and keeps per-client state in a slice
// indexed by client, so recording is deterministic. The zero value is ready
// to use.
type Recorder struct {
	events []Event
	open   []int // client -> index of its open invocation in events, or -1
}

// Invoke records an invocation and returns its index. e supplies Client,
// Node, Kind, Key, Value, Expect, Context, Final and Time; Index and Type
// are set by the recorder. It returns an error (recording nothing) if the
// client already has an open operation, time went backwards, or e is
// malformed.
func (r *Recorder) Invoke(e Event) (int, error) {
	e.Type = Invoke
	e.Index = len(r.events)
	if err := r.admit(&e); err != nil {
		return -1, err
	}
	for len(r.open) <= e.Client {
		r.open = append(r.open, -1)
	}
	if j := r.open[e.Client]; j >= 0 {
		return -1, fmt.Errorf("history: client %d invokes %s at %s while its %s (index %d) is still open", e.Client, e.Kind, e.Time, r.events[j].Kind, j)
	}
	e.Context = cloneStrings(e.Context)
	r.open[e.Client] = e.Index
	r.events = append(r.events, e)
	return e.Index, nil
}

// Complete records the completion of e.Client's open operation and returns
// its index. e supplies Client, Type (OK, Fail or Info), Time and, for an
// ok read, Values or NotFound, and Err; Kind, Key and Node are copied from
// the invocation. It returns an error (recording nothing) if the client has
// no open operation, the type is not a completion, time went backwards, or
// a read result is attached to something other than an ok read.
func (r *Recorder) Complete(e Event) (int, error) {
	if e.Type != OK && e.Type != Fail && e.Type != Info {
		return -1, fmt.Errorf("history: completion type %q (want ok, fail or info)", e.Type)
	}
	if e.Client < 0 || e.Client >= len(r.open) || r.open[e.Client] < 0 {
		return -1, fmt.Errorf("history: %s completion at %s for client %d without an open invocation", e.Type, e.Time, e.Client)
	}
	inv := &r.events[r.open[e.Client]]
	e.Index = len(r.events)
	e.Kind, e.Key, e.Node = inv.Kind, inv.Key, inv.Node
	if err := r.admit(&e); err != nil {
		return -1, err
	}
	if e.Kind != Read && (len(e.Values) > 0 || e.NotFound) {
		return -1, fmt.Errorf("history: client %d: %s completion carries a read result", e.Client, e.Kind)
	}
	e.Values = cloneStrings(e.Values)
	e.Context = nil
	r.open[e.Client] = -1
	r.events = append(r.events, e)
	return e.Index, nil
}

func (r *Recorder) admit(e *Event) error {
	if err := e.check(); err != nil {
		return fmt.Errorf("history: client %d: %w", e.Client, err)
	}
	if n := len(r.events); n > 0 && e.Time < r.events[n-1].Time {
		return fmt.Errorf("history: client %d: time %s before the previous event's %s", e.Client, e.Time, r.events[n-1].Time)
	}
	return nil
}

// Open reports whether client has an operation in flight.
func (r *Recorder) Open(client int) bool {
	return client >= 0 && client < len(r.open) && r.open[client] >= 0
}

// Len returns the number of events recorded so far.
func (r *Recorder) Len() int { return len(r.events) }

// Events returns the recorded events. The slice is the recorder's own:
// callers must not modify it.
func (r *Recorder) Events() []Event { return r.events }

// Ops pairs the recorded events into operations (see Pair); operations
// still open become Info with Return sim.Never.
func (r *Recorder) Ops() ([]Op, error) { return Pair(r.events) }

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}
