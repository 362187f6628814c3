package history

import (
	"fmt"

	"github.com/faultline-sim/faultline/sim"
)

// Op is one client operation: an invocation paired with its completion.
// Fields from the invocation say what was asked, fields from the completion
// what came back.
type Op struct {
	// Invoked is the index of the invocation event; Completed the index of the
	// completion event, or -1 if the operation never completed.
	Invoked, Completed int
	// Client issued the operation; Node coordinated it.
	Client int
	Node   sim.NodeID
	// Kind, Key, Value, Expect, Context and Final are as in Event.
	Kind    Kind
	Key     string
	Value   string
	Expect  string
	Context []string
	Final   bool
	// Outcome is OK, Fail or Info (an operation that never completed is Info).
	Outcome Type
	// Values and NotFound are an ok read's result; Err a fail or info reason.
	Values   []string
	NotFound bool
	Err      string
	// Call is when the operation was invoked. Return is the latest time it
	// can have taken effect: the completion time for ok and fail, sim.Never
	// for info (an info operation may take effect at any later time).
	Call, Return sim.Time
	// End is when the client saw the completion (sim.Never if it never
	// did); unlike Return it is the real end of an info operation, for
	// timelines and latency.
	End sim.Time
}

// String formats o on one line for explanations and witnesses.
func (o Op) String() string {
	s := fmt.Sprintf("c%d %s %q", o.Client, o.Kind, o.Key)
	switch o.Kind {
	case CAS:
		s += fmt.Sprintf(" %q->%q", o.Expect, o.Value)
	case Write, Add:
		s += fmt.Sprintf(" %q", o.Value)
	}
	s += " " + string(o.Outcome)
	if o.Kind == Read && o.Outcome == OK {
		if o.NotFound {
			s += " not-found"
		} else {
			s += fmt.Sprintf(" %q", o.Values)
		}
	}
	if o.Final {
		s += " (final)"
	}
	end := "?"
	if o.End != sim.Never {
		end = o.End.String()
	}
	return s + fmt.Sprintf(" [%s, %s]", o.Call, end)
}

// Pair matches every invocation in events with its client's next
// completion and returns the operations in invocation order. An invocation
// that never completes becomes an Info operation. Pair returns an error
// naming the offending event for: an unknown type or kind, a completion
// without an open invocation, a second invocation by a client whose
// previous operation is still open, a completion whose kind or key differs
// from its invocation, a read result on a non-read, indices that do not
// increase, or time that goes backwards.
func Pair(events []Event) ([]Op, error) {
	p := NewPairer(len(events)/2 + 1)
	for i := range events {
		if err := p.Add(&events[i]); err != nil {
			return nil, err
		}
	}
	return p.Ops(), nil
}

// PairError is ReadPaired's error for a history that reads but does not
// pair into operations (Pair's error).
type PairError struct{ Err error }

func (e *PairError) Error() string { return e.Err.Error() }

// Unwrap returns Pair's error.
func (e *PairError) Unwrap() error { return e.Err }

// Pairer is Pair one event at a time, so a reader can pair a history as it
// reads it without keeping its events: Add the events in order, then take
// Ops. It keeps the operations and one open invocation per client.
type Pairer struct {
	ops  opList
	open map[int]int // client -> index into ops; looked up, never iterated
	n    int         // events added
	prev struct {
		index int
		time  sim.Time
	}
}

// NewPairer returns a Pairer with room for ops operations in one
// allocation (0 if unknown: it then grows in chunks, never copying what it
// holds until Ops).
func NewPairer(ops int) *Pairer {
	p := &Pairer{open: make(map[int]int)}
	p.ops.reserve(ops)
	return p
}

// Add pairs the next event; its error is Pair's for the same event. After
// an error the Pairer must not be used.
func (p *Pairer) Add(e *Event) error {
	i := p.n
	p.n++
	if err := e.check(); err != nil {
		return fmt.Errorf("history: event %d (index %d): %w", i, e.Index, err)
	}
	if i > 0 {
		if e.Index <= p.prev.index {
			return fmt.Errorf("history: event %d: index %d does not increase (previous %d)", i, e.Index, p.prev.index)
		}
		if e.Time < p.prev.time {
			return fmt.Errorf("history: event %d (index %d): time %s goes backwards (previous event at %s)", i, e.Index, e.Time, p.prev.time)
		}
	}
	p.prev.index, p.prev.time = e.Index, e.Time
	if e.Type == Invoke {
		if j, busy := p.open[e.Client]; busy {
			return fmt.Errorf("history: event %d (index %d): client %d invokes %s while its %s invoked at index %d is still open (a client has one operation at a time)",
				i, e.Index, e.Client, e.Kind, p.ops.op(j).Kind, p.ops.op(j).Invoked)
		}
		p.open[e.Client] = p.ops.count
		p.ops.add(invoked(*e))
		return nil
	}
	j, busy := p.open[e.Client]
	if !busy {
		return fmt.Errorf("history: event %d (index %d): %s completion for client %d without an open invocation", i, e.Index, e.Type, e.Client)
	}
	delete(p.open, e.Client)
	o := p.ops.op(j)
	if e.Kind != "" && e.Kind != o.Kind {
		return fmt.Errorf("history: event %d (index %d): completion kind %s differs from its invocation's %s (index %d)", i, e.Index, e.Kind, o.Kind, o.Invoked)
	}
	if e.Kind != "" && e.Key != o.Key {
		return fmt.Errorf("history: event %d (index %d): completion key %q differs from its invocation's %q (index %d)", i, e.Index, e.Key, o.Key, o.Invoked)
	}
	if o.Kind != Read && (len(e.Values) > 0 || e.NotFound) {
		return fmt.Errorf("history: event %d (index %d): %s completion carries a read result", i, e.Index, o.Kind)
	}
	o.complete(*e)
	return nil
}

// Events reports how many events were added.
func (p *Pairer) Events() int { return p.n }

// Ops returns the operations in invocation order; an invocation that never
// completed is an Info operation.
func (p *Pairer) Ops() []Op { return p.ops.join() }

// invoked returns the operation invocation e starts: outcome info, no
// return yet.
func invoked(e Event) Op {
	return Op{
		Invoked: e.Index, Completed: -1, Client: e.Client, Node: e.Node,
		Kind: e.Kind, Key: e.Key, Value: e.Value, Expect: e.Expect,
		Context: e.Context, Final: e.Final, Outcome: Info,
		Call: e.Time, Return: sim.Never, End: sim.Never,
	}
}

// complete records completion e on o: its outcome, read result and error,
// and its end (a return time only for ok and fail: an info operation may
// take effect at any later time).
func (o *Op) complete(e Event) {
	o.Completed = e.Index
	o.Outcome = e.Type
	o.Values = e.Values
	o.NotFound = e.NotFound
	o.Err = e.Err
	o.End = e.Time
	if e.Type != Info {
		o.Return = e.Time
	}
}

// Unpair lays ops out as the events Pair made them from: each operation's
// invocation at its Invoked index and, if it completed, its completion at
// Completed (Type its Outcome, Time its End; Kind, Key and Node repeated
// from the invocation, as a Recorder records them). The indices must
// number the events densely from 0; Unpair returns an error naming the
// operation otherwise.
func Unpair(ops []Op) ([]Event, error) {
	n := 0
	for i := range ops {
		n++
		if ops[i].Completed >= 0 {
			n++
		}
	}
	events := make([]Event, n)
	filled := 0
	put := func(i, at int, e Event) error {
		if at < 0 || at >= n || events[at].Type != "" {
			return fmt.Errorf("history: operation %d (%s): event index %d is not one of a dense 0..%d", i, ops[i], at, n-1)
		}
		e.Index = at
		events[at] = e
		filled++
		return nil
	}
	for i := range ops {
		o := &ops[i]
		if err := put(i, o.Invoked, Event{Type: Invoke, Client: o.Client, Kind: o.Kind, Key: o.Key, Value: o.Value, Expect: o.Expect,
			Context: o.Context, Final: o.Final, Time: o.Call, Node: o.Node}); err != nil {
			return nil, err
		}
		if o.Completed >= 0 {
			if err := put(i, o.Completed, Event{Type: o.Outcome, Client: o.Client, Kind: o.Kind, Key: o.Key, Values: o.Values,
				NotFound: o.NotFound, Time: o.End, Node: o.Node, Err: o.Err}); err != nil {
				return nil, err
			}
		}
	}
	return events, nil
}
