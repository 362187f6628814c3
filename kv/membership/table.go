package membership

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// Defaults for a zero Config field.
const (
	DefaultMaxNodes     = 1024
	DefaultFanout       = 3
	DefaultSuspectTicks = 8
	DefaultDeadTicks    = 8
	DefaultMaxClaims    = 4096
	DefaultMaxEvents    = 4096
)

// Limits on a Config.
const (
	// MaxNodesLimit bounds Config.MaxNodes.
	MaxNodesLimit = 1 << 20
	// MaxClaimsLimit bounds Config.MaxClaims.
	MaxClaimsLimit = 1 << 20
)

// ErrBadConfig is returned by New for a configuration or self entry that
// cannot work; the message says what to change.
var ErrBadConfig = errors.New("membership: bad config")

// Config tunes a Table. A zero field takes its default.
type Config struct {
	// MaxNodes bounds node ids to [0, MaxNodes); gossip about other ids is
	// ignored. It also bounds the table's size.
	MaxNodes int
	// Fanout is the number of live peers gossiped to per tick.
	Fanout int
	// SuspectTicks is how many ticks without heartbeat progress make a
	// live node suspect.
	SuspectTicks int
	// DeadTicks is how many more ticks without progress make a suspect
	// node dead.
	DeadTicks int
	// MaxClaims bounds an entry's Claims.
	MaxClaims int
	// MaxEvents bounds the undrained event queue; the oldest events are
	// dropped (and counted) beyond it.
	MaxEvents int
	// Seeds are contact nodes for joining: a node that knows fewer live
	// peers than Fanout also gossips to one seed per tick.
	Seeds []sim.NodeID
}

func (c Config) withDefaults() Config {
	c.MaxNodes = cmp.Or(c.MaxNodes, DefaultMaxNodes)
	c.Fanout = cmp.Or(c.Fanout, DefaultFanout)
	c.SuspectTicks = cmp.Or(c.SuspectTicks, DefaultSuspectTicks)
	c.DeadTicks = cmp.Or(c.DeadTicks, DefaultDeadTicks)
	c.MaxClaims = cmp.Or(c.MaxClaims, DefaultMaxClaims)
	c.MaxEvents = cmp.Or(c.MaxEvents, DefaultMaxEvents)
	c.Seeds = slices.Clone(c.Seeds)
	return c
}

func (c Config) validate() error {
	switch {
	case c.MaxNodes < 1 || c.MaxNodes > MaxNodesLimit:
		return fmt.Errorf("%w: MaxNodes=%d must be in [1, %d]", ErrBadConfig, c.MaxNodes, MaxNodesLimit)
	case c.Fanout < 1:
		return fmt.Errorf("%w: Fanout=%d must be at least 1", ErrBadConfig, c.Fanout)
	case c.SuspectTicks < 1:
		return fmt.Errorf("%w: SuspectTicks=%d must be at least 1", ErrBadConfig, c.SuspectTicks)
	case c.DeadTicks < 1:
		return fmt.Errorf("%w: DeadTicks=%d must be at least 1", ErrBadConfig, c.DeadTicks)
	case c.MaxClaims < 0 || c.MaxClaims > MaxClaimsLimit:
		return fmt.Errorf("%w: MaxClaims=%d must be in [0, %d]", ErrBadConfig, c.MaxClaims, MaxClaimsLimit)
	case c.MaxEvents < 1:
		return fmt.Errorf("%w: MaxEvents=%d must be at least 1", ErrBadConfig, c.MaxEvents)
	}
	for _, s := range c.Seeds {
		if int64(s) >= int64(c.MaxNodes) {
			return fmt.Errorf("%w: seed %v is outside [0, MaxNodes=%d)", ErrBadConfig, s, c.MaxNodes)
		}
	}
	return nil
}

// Self describes the node a Table belongs to.
type Self struct {
	ID     sim.NodeID
	Weight uint32
	Claims []uint64
	// Incarnation to start from: 0 for a new node, or a durable value
	// after a restart (a restarted node also learns its old incarnation
	// from gossip and incarnates above it).
	Incarnation uint64
}

// EventKind says what happened to a node.
type EventKind uint8

// The kinds of Event.
const (
	// EventJoined: a node appeared in the view (Status says in which
	// state it was first heard of).
	EventJoined EventKind = 1
	// EventAlive: a suspect or dead node is alive again.
	EventAlive EventKind = 2
	// EventSuspect: a node became suspect.
	EventSuspect EventKind = 3
	// EventDead: a node became dead.
	EventDead EventKind = 4
	// EventLeft: a node left.
	EventLeft EventKind = 5
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case EventJoined:
		return "joined"
	case EventAlive:
		return "alive"
	case EventSuspect:
		return "suspect"
	case EventDead:
		return "dead"
	case EventLeft:
		return "left"
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is a change in another node's status as seen by this table.
type Event struct {
	Tick        uint64
	Kind        EventKind
	ID          sim.NodeID
	Status      Status
	Incarnation uint64
}

// Stats counts a table's traffic and the input it ignored.
type Stats struct {
	Ticks uint64
	// PushesSent and RepliesSent count produced messages; BytesSent is
	// their exact msgpack size.
	PushesSent  uint64
	RepliesSent uint64
	BytesSent   uint64
	// Received counts messages passed to Receive, accepted or not.
	Received uint64
	// Merged counts entries that changed the view.
	Merged uint64
	// Stale counts entries with a lower incarnation than the view's.
	Stale uint64
	// Refutations counts raises of the own incarnation.
	Refutations uint64
	// BadSender counts messages whose sender id is out of range, is this
	// node, or does not match the message's From.
	BadSender uint64
	// Malformed counts messages with an unknown kind, too many entries,
	// unsorted or duplicate entries, or an invalid entry about the sender.
	Malformed uint64
	// UnknownPeer counts messages from a node the view does not hold that
	// do not announce the sender's own entry.
	UnknownPeer uint64
	// BadEntries counts entries skipped: id out of range, bad status or
	// weight, too many claims, a saturated incarnation or heartbeat, or a
	// claim that this node has left.
	BadEntries uint64
	// DroppedEvents counts events dropped because the queue was full.
	DroppedEvents uint64
}

// member is an entry with this table's local failure-detector state.
type member struct {
	Entry
	progress  uint64 // tick of the last heartbeat or incarnation progress
	suspectAt uint64 // tick at which it became suspect here
}

// Table is one node's membership view and failure detector. It is a pure
// state machine: inputs are Tick, Receive, Leave and SetClaims; outputs are
// the returned messages, the view and the events. It is not safe for
// concurrent use.
type Table struct {
	cfg     Config
	self    sim.NodeID
	rng     *sim.RNG
	now     uint64
	members []member // sorted by ID; always holds self
	version uint64
	ringVer uint64
	events  []Event
	stats   Stats
	scratch []sim.NodeID
}

// New returns the table of node self. rng must be the node's own stream
// (e.g. root.Fork("membership/3")); it decides peer selection.
func New(cfg Config, self Self, rng *sim.RNG) (*Table, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("%w: a nil RNG; pass the node's own stream, e.g. root.Fork(\"membership/<id>\")", ErrBadConfig)
	}
	e := Entry{ID: self.ID, Incarnation: self.Incarnation, Status: Alive, Weight: self.Weight, Claims: self.Claims}.Clone()
	if len(e.Claims) > 0 {
		e.Epoch = 1
	}
	if err := cfg.checkEntry(e); err != nil {
		return nil, fmt.Errorf("%w: self: %v", ErrBadConfig, err)
	}
	return &Table{cfg: cfg, self: self.ID, rng: rng, members: []member{{Entry: e}}, version: 1, ringVer: 1}, nil
}

// checkEntry reports why e cannot be in a table, or nil.
func (c Config) checkEntry(e Entry) error {
	switch {
	case int64(e.ID) >= int64(c.MaxNodes):
		return fmt.Errorf("node id %v is outside [0, MaxNodes=%d)", e.ID, c.MaxNodes)
	case !e.Status.valid():
		return fmt.Errorf("node %v has invalid status %d", e.ID, uint8(e.Status))
	case e.Weight < 1 || e.Weight > ring.MaxWeight:
		return fmt.Errorf("node %v has weight %d outside [1, %d]", e.ID, e.Weight, ring.MaxWeight)
	case len(e.Claims) > c.MaxClaims:
		return fmt.Errorf("node %v has %d claims, more than MaxClaims=%d", e.ID, len(e.Claims), c.MaxClaims)
	case e.Incarnation == math.MaxUint64 || e.Heartbeat == math.MaxUint64:
		return fmt.Errorf("node %v has a saturated incarnation or heartbeat, which could not be refuted or advanced", e.ID)
	}
	return nil
}

// Self returns this node's id.
func (t *Table) Self() sim.NodeID { return t.self }

// Now returns the number of ticks so far.
func (t *Table) Now() uint64 { return t.now }

// Incarnation returns this node's current incarnation (worth persisting).
func (t *Table) Incarnation() uint64 { return t.members[t.selfIndex()].Incarnation }

// Stats returns the counters.
func (t *Table) Stats() Stats { return t.stats }

// Version increases whenever the view changes in anything but heartbeats:
// a node appears, changes status, incarnation, weight or claims.
func (t *Table) Version() uint64 { return t.version }

// RingVersion increases whenever the ring this view implies may change: a
// node appears or leaves, or changes weight or claims. Rebuild the ring when
// it differs from the version the ring was built at.
func (t *Table) RingVersion() uint64 { return t.ringVer }

func (t *Table) find(id sim.NodeID) (int, bool) {
	return slices.BinarySearchFunc(t.members, id, func(m member, id sim.NodeID) int { return cmp.Compare(m.ID, id) })
}

func (t *Table) selfIndex() int {
	i, _ := t.find(t.self)
	return i
}

// Entry returns the view's entry for id.
func (t *Table) Entry(id sim.NodeID) (Entry, bool) {
	i, ok := t.find(id)
	if !ok {
		return Entry{}, false
	}
	return t.members[i].Entry.Clone(), true
}

// Status returns id's status in this view, or false if the view does not
// know id.
func (t *Table) Status(id sim.NodeID) (Status, bool) {
	i, ok := t.find(id)
	if !ok {
		return 0, false
	}
	return t.members[i].Status, true
}

// Alive reports whether id is known and Alive (not suspect, dead or left)
// in this view: whether a coordinator should count on it rather than use a
// fallback.
func (t *Table) Alive(id sim.NodeID) bool {
	s, ok := t.Status(id)
	return ok && s == Alive
}

// View returns a copy of every entry, sorted by id.
func (t *Table) View() []Entry {
	out := make([]Entry, len(t.members))
	for i, m := range t.members {
		out[i] = m.Entry.Clone()
	}
	return out
}

// Members returns the ids of the nodes that have not left, sorted: the ring
// membership (failure detection does not remove a node from the ring).
func (t *Table) Members() []sim.NodeID {
	var out []sim.NodeID
	for _, m := range t.members {
		if m.Status != Left {
			out = append(out, m.ID)
		}
	}
	return out
}

// Digest is a hash of the view without heartbeats: two tables with equal
// digests agree on every node's incarnation, status, weight and claims.
func (t *Table) Digest() uint64 {
	h := sim.NewHash()
	put := h.WriteUint64
	for _, m := range t.members {
		put(uint64(m.ID))
		put(m.Incarnation)
		put(uint64(m.Status))
		put(uint64(m.Weight))
		put(m.Epoch)
		put(uint64(len(m.Claims)))
		for _, c := range m.Claims {
			put(c)
		}
	}
	return h.Sum64()
}

// TakeEvents returns the events since the last call and clears them.
func (t *Table) TakeEvents() []Event {
	ev := t.events
	t.events = nil
	return ev
}

func (t *Table) emit(kind EventKind, m *member) {
	if len(t.events) >= t.cfg.MaxEvents {
		t.events = t.events[1:]
		t.stats.DroppedEvents++
	}
	t.events = append(t.events, Event{Tick: t.now, Kind: kind, ID: m.ID, Status: m.Status, Incarnation: m.Incarnation})
}

// Leave marks this node as left, for good; the next ticks spread it. The
// node should keep ticking for a few rounds (about log2 of the cluster
// size times a small factor) before it stops.
func (t *Table) Leave() {
	s := &t.members[t.selfIndex()]
	if s.Status == Left {
		return
	}
	s.Status = Left
	s.Heartbeat++
	t.version++
	t.ringVer++
}

// SetClaims changes this node's weight and claims. The claims' Epoch
// becomes one more than the highest epoch in the view, so ClaimOwners
// prefers them over older claims of other nodes.
func (t *Table) SetClaims(weight uint32, claims []uint64) error {
	s := &t.members[t.selfIndex()]
	e := s.Entry
	e.Weight, e.Claims = weight, claims
	e = e.Clone()
	if err := t.cfg.checkEntry(e); err != nil {
		return fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	var top uint64
	for _, m := range t.members {
		top = max(top, m.Epoch)
	}
	e.Epoch = top + 1
	e.Heartbeat++
	s.Entry = e
	t.version++
	t.ringVer++
	return nil
}
