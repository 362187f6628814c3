package workloads

import (
	"errors"
	"time"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/node"
)

// Method is what a Request asks a coordinator to do: the node boundary's.
type Method = node.Method

// The request methods.
const (
	// Get reads every live version of Key.
	Get = node.Get
	// Put writes Value under Key, superseding what Context saw.
	Put = node.Put
	// Delete removes Key, superseding what Context saw.
	Delete = node.Delete
)

// Request is one client request to a coordinator.
type Request struct {
	// Method is get, put or delete.
	Method Method
	// Key is the key operated on.
	Key string
	// Value is the bytes a Put writes.
	Value []byte
	// Context is the opaque causal context (e.g. an encoded vector clock) a
	// Put or Delete supersedes, as a previous Get's Response returned it; nil
	// means none (a blind write). Stores resolving by last-writer-wins
	// ignore it.
	Context []byte
}

// Status is how a coordinator (or the client's timeout) answered a
// Request: the node boundary's, in the history's words.
type Status = node.Status

// The response statuses.
const (
	// OK: the request succeeded (a write was acknowledged by enough replicas).
	OK = node.OK
	// Fail: the request certainly took effect nowhere, e.g. it was rejected
	// before any replica was asked.
	Fail = node.Fail
	// Info: the outcome is unknown; the request may or may not have taken
	// effect (a client timeout, a write acknowledged by fewer replicas than
	// required, a coordinator crash mid-request).
	Info = node.Info
)

// Response is the answer to one Request.
type Response struct {
	// Status says whether the request succeeded, failed or has an unknown
	// outcome.
	Status Status
	// Values are the live versions a Get found (several siblings under
	// vector clocks, at most one under last-writer-wins); none means the key
	// was not found. Ignored for Put and Delete.
	Values [][]byte
	// Context is the opaque causal context of what a Get read, to pass to a
	// following Put or Delete; or, when the store returns one, the context
	// of the version a Put or Delete created. nil if the store has none.
	Context []byte
	// Err explains a Fail or Info status.
	Err string
}

// ErrDone is returned by Workload.Next when the workload has no further
// operation for the client (its operation budget is spent).
var ErrDone = errors.New("workloads: no more operations")

// Workload hands out the operations of a run's closed-loop clients.
// Clients are numbered 0..Clients()-1. It is driven from one event loop:
// the cluster asks for a client's next op only after that client's previous
// op completed.
type Workload interface {
	// Name is the workload's name: "register", "set" or "kv".
	Name() string
	// Clients is the number of closed-loop clients.
	Clients() int
	// Next returns client's next operation, ErrDone when the client has
	// none left, or an error for a client out of range. The op is valid
	// until the client's next call to Next, which may reuse it (the
	// built-in workloads do).
	Next(client int) (*Op, error)
	// WrittenKeys lists, sorted, every key some invoked operation may have
	// written (whatever its outcome): the keys the settle phase reads.
	WrittenKeys() []string
	// FinalRead returns the settle-phase read of key for the given client
	// id (any id the cluster chooses; final reads do not use the budget).
	// The op's invocation carries Final.
	FinalRead(client int, key string) (*Op, error)
}

// Op is one client operation as a small program: record Invocation, send
// Start, then feed each Response to Step and send the request it returns
// until it reports done, then record Completion. For example a set add
// sends a Get, and then a Put whose value is the union of what the Get
// read plus the new element.
type Op struct {
	// Delay is the client's think time: how long to wait before invoking
	// the op (the cluster records the invocation after the delay).
	Delay time.Duration

	inv   history.Event
	prog  program
	stage int
	first Request
	done  bool
	comp  history.Event
	// seen are the values the op's causal context had seen, known once the
	// op's own read returned (set adds).
	seen []string
	// cl and k are the workload client and key index whose state the op
	// updates when it completes (register and kv ops); cl is nil otherwise.
	cl *client
	k  int
	// element is the element a set add adds; key the op's key.
	element string
}

// program is what an Op does.
type program uint8

const (
	progRead program = iota + 1
	progWrite
	progDelete
	progSetAdd
	progSetRead
)

// Client is the client that issues the op.
func (o *Op) Client() int { return o.inv.Client }

// Kind is the operation's history kind: read, write, delete or add.
func (o *Op) Kind() history.Kind { return o.inv.Kind }

// Key is the key the op works on.
func (o *Op) Key() string { return o.inv.Key }

// Value is the unique value the op writes, or the element it adds; "" for
// reads and deletes.
func (o *Op) Value() string { return o.inv.Value }

// Final reports whether the op is a settle-phase final read.
func (o *Op) Final() bool { return o.inv.Final }

// Invocation returns the event to record when the op is invoked: Client,
// Kind, Key, Value, Context and Final are set; the cluster sets Time and
// Node. Its Context is shared with the workload and must not be modified
// (history.Recorder keeps its own copy).
func (o *Op) Invocation() history.Event { return o.inv }

// Start returns the op's first request.
func (o *Op) Start() Request { return o.first }

// Done reports whether the op has completed.
func (o *Op) Done() bool { return o.done }

// Completion returns the event to record when the op is done: Client, Type
// (ok, fail or info), Values/NotFound for an ok read, and Err are set; the
// cluster sets Time. Before the op is done it returns an Info completion
// saying so. Its Values are shared with the workload and must not be
// modified.
func (o *Op) Completion() history.Event {
	if !o.done {
		return history.Event{Client: o.inv.Client, Type: history.Info, Err: "operation not completed"}
	}
	return o.comp
}

// Seen returns the values the op's causal context had seen: for a write or
// delete, the values of the client's last read of the key (also in the
// invocation's Context); for a set add, the elements its own read returned,
// which are known only at completion.
func (o *Op) Seen() []string { return cloneStrings(o.seen) }

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}
