package node

import (
	"github.com/faultline-sim/faultline/sim"
)

// Node is the system under test as the simulator sees it: one process of a
// distributed store, driven by method calls from a single goroutine. A node
// must be deterministic: the same calls in the same order produce the same
// outputs.
type Node interface {
	// Step hands the node one message from peer from. The payload is only
	// valid during the call: copy what you keep. An error means the
	// message cannot be understood (it does not decode); the simulator
	// stops the run and reports it against this node.
	Step(from sim.NodeID, payload []byte) error
	// Submit hands the node a client request it coordinates. The node
	// answers it, sooner or later, with a Reply carrying req.ID in Ready.
	Submit(req Request)
	// Tick advances the node's timers by one tick; timeouts count ticks,
	// never wall time.
	Tick()
	// Ready returns and clears the messages and client replies produced
	// since the last call. The simulator copies what it needs before the
	// node is called again, so the node may reuse the slices.
	Ready() Ready
}

// Envelope is one message a node sends.
type Envelope struct {
	// To is the destination node.
	To sim.NodeID
	// Payload is the encoded message.
	Payload []byte
}

// Ready is what a node produced since the last Ready: messages to send, in
// order, and replies to the clients whose requests it coordinates.
type Ready struct {
	// Messages are the messages to send.
	Messages []Envelope
	// Replies are the client replies.
	Replies []Reply
}

// Env is everything a node is started with. The simulator makes a new Env
// for every start of a node id: at the beginning of the run, at a restart
// after a crash (same Disk, crashed), and at a join.
type Env struct {
	// ID is the node's id.
	ID sim.NodeID
	// Seed is the run's seed, the same for every node: use it for what all
	// nodes must agree on (e.g. ring tokens), and Rand for everything else.
	Seed uint64
	// View is the cluster's membership when the node starts. A node that
	// is not a member of View is joining: it owns nothing until the
	// membership changes (oracle) or it announces itself (Member.Join).
	View View
	// Disk is the node's durable storage. It survives crashes and
	// restarts; a crash drops what was not synced.
	Disk Disk
	// WallClock returns the node's wall-clock time in nanoseconds, which
	// the nemesis may skew. Use it for timestamps only; timers count ticks.
	WallClock func() int64
	// Rand is the node's own seeded random stream (fork it by name).
	Rand *sim.RNG
}

// Factory starts a node. It returns an error, never a nil Node, when it
// cannot; the simulator reports the error naming the node, the seed and the
// virtual time.
type Factory func(env Env) (Node, error)

// Member is implemented by nodes that support membership changes. Without
// it, a run whose nemesis joins or removes nodes is refused.
type Member interface {
	// SetView tells the node the cluster's new membership (oracle
	// membership). A node with its own membership protocol (gossip) may
	// ignore it. An error stops the run.
	SetView(v View) error
	// Join is called on a node that was just started as a newcomer, after
	// SetView: a node with its own membership protocol announces itself
	// here; under oracle membership it may do nothing.
	Join() error
	// Leave starts a graceful departure: the node keeps running (e.g. to
	// hand its data to the new owners) until LeaveDone reports true, then
	// the simulator stops it.
	Leave() error
	// LeaveDone reports whether a leaving node has finished.
	LeaveDone() bool
}

// Sleeper is implemented by nodes that can say in advance that their
// next ticks have nothing to do. The simulator then does not call Tick for
// them: it counts them and hands them over with SkipTicks before its next
// call into the node. A node without it gets every tick.
type Sleeper interface {
	// IdleTicks returns how many of the next calls to Tick would certainly
	// put nothing in Ready, provided no other call reaches the node in
	// between; 0 when the next tick may have work.
	IdleTicks() int64
	// SkipTicks advances the node by k ticks (0 < k <= the last
	// IdleTicks), leaving it and its disk exactly as k calls to Tick
	// would.
	SkipTicks(k int64)
}

// Snapshotter is implemented by nodes that can show their replica state,
// which the convergence checker compares across the replicas of each key.
type Snapshotter interface {
	// Snapshot returns what the node stores, synced or not.
	Snapshot() Snapshot
}

// Snapshot is a node's replica state as plain sorted data.
type Snapshot struct {
	// Node is the node's id.
	Node sim.NodeID
	// Keys are the keys the node holds as a replica, sorted by Key.
	Keys []KeyState
	// Pending counts work the node still owes others, e.g. hints not yet
	// handed off to their home replicas. It is informational (reports);
	// the settle phase waits on node.Settler, not on it.
	Pending int
}

// KeyState is one key's stored versions on one replica.
type KeyState struct {
	// Key is the key.
	Key string
	// Versions are the stored versions, tombstones included, in the node's
	// own deterministic order.
	Versions []Version
}

// Version is one stored version of a key.
type Version struct {
	// ID names the write that produced the version (e.g. its dot and
	// timestamp); equal IDs on two replicas mean the same write.
	ID string
	// Value is the stored value (nil for a tombstone).
	Value []byte
	// Tombstone marks a deletion.
	Tombstone bool
}

// Counter is one named count a node reports, e.g. "read_repairs".
type Counter struct {
	// Name is the counter's name: lowercase words joined by '_' or '/'.
	Name string
	// Value is the count.
	Value uint64
}

// Counted is implemented by nodes that report counters; the simulator sums
// them by name over every node and every incarnation into the run's stats.
type Counted interface {
	// Counters returns the node's counters since it started, in any order.
	Counters() []Counter
}

// Describer is implemented by nodes that can describe their messages for a
// readable trace, which can then follow one key or one client operation
// through the run.
type Describer interface {
	// Describe describes an encoded message.
	Describe(payload []byte) Description
}

// Description is what a trace shows of one message.
type Description struct {
	// Kind is the message's type, e.g. "write" or "read-reply".
	Kind string
	// Keys are the keys the message concerns.
	Keys []string
	// Op identifies the operation the message belongs to at the node that
	// runs it (e.g. a coordinator's request id, carried by the replicas'
	// replies); 0 if none. The trace uses it to follow a client operation
	// through fan-out, replies and repairs.
	Op uint64
	// Reply says that Op is the receiver's operation (the message answers
	// one of its requests); otherwise Op is the sender's.
	Reply bool
	// Text is the rest, on one line: values, versions, flags, errors.
	Text string
}

// Traced is implemented by nodes that can say, in a readable trace, why
// they did what they did (e.g. why a message was ignored). The simulator
// sets the function only while tracing; it must not change what the node
// does.
type Traced interface {
	// SetTracer gives the node fn to describe its decisions with (nil:
	// off).
	SetTracer(fn func(line string))
}

// Settler is implemented by nodes with background repair work (handing
// off hints, pulling ranges, anti-entropy sweeps). After the workload the
// simulator heals every fault, calls Healed, and waits until every node
// reports Quiescent (at least Config.SettleTime, at most
// Config.SettleLimit) before the final reads; a node that does not
// quiesce in time is a liveness failure naming what it still owes.
// Without Settler the settle phase lasts exactly SettleTime.
type Settler interface {
	// Healed tells the node that the faults are undone: what it reports
	// from now on must cover work done after this moment (e.g. a full
	// anti-entropy sweep since the heal). excluded are the members left
	// faulty (liveness mode; nil after a full heal): work owed to them does
	// not count.
	Healed(excluded []sim.NodeID)
	// Quiescent reports whether the node's background work is done and,
	// if not, what is outstanding, e.g. "3 hints to hand off".
	Quiescent() (bool, string)
}
