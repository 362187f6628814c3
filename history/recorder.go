package history

import (
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/internal/chunk"
)

// Recorder builds a history as a simulation runs: Invoke when a client
// sends an operation, Complete when it learns the outcome. It numbers the
// events, copies their slices, and keeps per-client state in a slice
// indexed by client, so recording is deterministic. It keeps one Op per
// operation (the invocation paired with its completion as it arrives), not
// the events, so a run's history costs one record per operation; Events
// lays them out as events again. The zero value is ready to use.
type Recorder struct {
	ops  opList
	n    int                  // events recorded
	last Event                // the event recorded last
	open []int                // client -> index of its open operation, or -1
	strs chunk.Chunks[string] // the events' Context and Values copies are carved from it
}

// opList holds operations in order: flat, then chunks (each of chunkOps
// operations, the last one filling), so a long history is never copied to
// grow it; join lays them out flat once, at the end.
type opList struct {
	flat   []Op
	chunks [][]Op
	count  int // operations held
}

// chunkOps is the size of an opList's chunks (about 1.7 MB of Ops).
const chunkOps = 8192

// op returns operation i.
func (l *opList) op(i int) *Op {
	if i < len(l.flat) {
		return &l.flat[i]
	}
	i -= len(l.flat)
	return &l.chunks[i/chunkOps][i%chunkOps]
}

// reserve makes room for n operations in one allocation; it has no effect
// once operations have been added.
func (l *opList) reserve(n int) {
	if l.count == 0 && n > 0 {
		l.flat = make([]Op, 0, n)
	}
}

// add appends o.
func (l *opList) add(o Op) {
	if len(l.chunks) == 0 && len(l.flat) < cap(l.flat) {
		l.flat = append(l.flat, o)
		l.count++
		return
	}
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1]) == chunkOps {
		l.chunks = append(l.chunks, make([]Op, 0, chunkOps))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, o)
	l.count++
}

// join returns the operations as one slice, the list's own. Joining the
// chunks releases each as it is copied, so the operations are never held
// twice.
func (l *opList) join() []Op {
	if len(l.chunks) == 0 {
		return l.flat
	}
	flat := make([]Op, l.count)
	n := copy(flat, l.flat)
	l.flat = nil
	for i, c := range l.chunks {
		n += copy(flat[n:], c)
		l.chunks[i] = nil
	}
	l.flat, l.chunks = flat, nil
	return l.flat
}

// op returns operation i.
func (r *Recorder) op(i int) *Op { return r.ops.op(i) }

// Reserve makes room for n operations in one allocation (a simulator that
// knows its run's operation count avoids both growing and joining chunks).
// It has no effect once operations have been recorded.
func (r *Recorder) Reserve(n int) { r.ops.reserve(n) }

// Invoke records an invocation and returns its index. e supplies Client,
// Node, Kind, Key, Value, Expect, Context, Final and Time; Index and Type
// are set by the recorder. It returns an error (recording nothing) if the
// client already has an open operation, time went backwards, or e is
// malformed.
func (r *Recorder) Invoke(e Event) (int, error) {
	e.Type = Invoke
	e.Index = r.n
	if err := r.admit(&e); err != nil {
		return -1, err
	}
	for len(r.open) <= e.Client {
		r.open = append(r.open, -1)
	}
	if j := r.open[e.Client]; j >= 0 {
		return -1, fmt.Errorf("history: client %d invokes %s at %s while its %s (index %d) is still open", e.Client, e.Kind, e.Time, r.op(j).Kind, r.op(j).Invoked)
	}
	e.Context = r.cloneStrings(e.Context)
	r.open[e.Client] = r.ops.count
	r.ops.add(invoked(e))
	r.n++
	r.last = e
	return e.Index, nil
}

// Complete records the completion of e.Client's open operation and returns
// its index. e supplies Client, Type (OK, Fail or Info), Time and, for an
// ok read, Values or NotFound, and Err; Kind, Key and Node are copied from
// the invocation (a completion's Value, Expect, Context and Final are not
// kept). It returns an error (recording nothing) if the client has
// no open operation, the type is not a completion, time went backwards, or
// a read result is attached to something other than an ok read.
func (r *Recorder) Complete(e Event) (int, error) {
	if e.Type != OK && e.Type != Fail && e.Type != Info {
		return -1, fmt.Errorf("history: completion type %q (want ok, fail or info)", e.Type)
	}
	if e.Client < 0 || e.Client >= len(r.open) || r.open[e.Client] < 0 {
		return -1, fmt.Errorf("history: %s completion at %s for client %d without an open invocation", e.Type, e.Time, e.Client)
	}
	o := r.op(r.open[e.Client])
	e.Index = r.n
	e.Kind, e.Key, e.Node = o.Kind, o.Key, o.Node
	if err := r.admit(&e); err != nil {
		return -1, err
	}
	if e.Kind != Read && (len(e.Values) > 0 || e.NotFound) {
		return -1, fmt.Errorf("history: client %d: %s completion carries a read result", e.Client, e.Kind)
	}
	e.Values = r.cloneStrings(e.Values)
	e.Context, e.Value, e.Expect, e.Final = nil, "", "", false
	o.complete(e)
	r.open[e.Client] = -1
	r.n++
	r.last = e
	return e.Index, nil
}

func (r *Recorder) admit(e *Event) error {
	if err := e.check(); err != nil {
		return fmt.Errorf("history: client %d: %w", e.Client, err)
	}
	if r.n > 0 && e.Time < r.last.Time {
		return fmt.Errorf("history: client %d: time %s before the previous event's %s", e.Client, e.Time, r.last.Time)
	}
	return nil
}

// Open reports whether client has an operation in flight.
func (r *Recorder) Open(client int) bool {
	return client >= 0 && client < len(r.open) && r.open[client] >= 0
}

// Len returns the number of events recorded so far.
func (r *Recorder) Len() int { return r.n }

// Last returns the event recorded last, as recorded (index and copied
// fields filled in); the zero Event before the first.
func (r *Recorder) Last() Event { return r.last }

// Events returns the recorded events, built afresh from the operations
// (one allocation per call, O(events)).
func (r *Recorder) Events() []Event {
	events, err := Unpair(r.Operations())
	if err != nil {
		panic("history: a recorder's operations do not unpair: " + err.Error()) // cannot happen: the recorder numbers the events densely
	}
	return events
}

// Operations returns the recorded operations in invocation order, those
// still open as Info with Return sim.Never. The slice is the recorder's
// own: callers must not modify it. Joining the chunks releases each as it
// is copied, so the history is never held twice.
func (r *Recorder) Operations() []Op { return r.ops.join() }

// Ops returns a copy of the recorded operations (see Operations).
func (r *Recorder) Ops() ([]Op, error) { return slices.Clone(r.Operations()), nil }

// stringChunk is the number of strings in one of the Recorder's chunks.
const stringChunk = 256

// cloneStrings copies s (nil for an empty s), carving the copy out of the
// recorder's chunks (internal/chunk): a fresh slice no other copy
// overlaps, its capacity cut to its length, exactly as with one
// allocation per copy. The history keeps every copy for the whole run, so
// chunks waste nothing.
func (r *Recorder) cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	r.strs.Size = stringChunk
	return r.strs.Copy(s)
}
