package kv

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// NewFactory returns the factory that starts kv nodes configured by cfg
// behind faultline's node boundary: each node stores on the harness's
// disk, builds its ring from the cluster's view (shaped by cfg.VNodes and
// cfg.Shards, seeded by the run's seed) and exchanges msgpack-encoded
// Messages. A node started on a disk a crash left restarts from its
// durable data with a new incarnation; a node started outside the view is
// a newcomer and starts with an empty data directory (its incarnation
// counter survives, so it never reissues a dot).
func NewFactory(cfg Config) node.Factory {
	return func(env node.Env) (node.Node, error) { return newServer(cfg, env) }
}

// Placement returns, for a run's seed and the cluster's final view, each
// key's home replicas: its preference list of cfg.N nodes on the ring the
// nodes build from that view. The convergence checker compares them.
func Placement(cfg Config) func(seed uint64, v node.View) (func(key string) ([]sim.NodeID, error), error) {
	return func(seed uint64, v node.View) (func(key string) ([]sim.NodeID, error), error) {
		r, err := ringOf(cfg, seed, v)
		if err != nil {
			return nil, err
		}
		return func(key string) ([]sim.NodeID, error) {
			return r.PreferenceList(key, cfg.N, make([]sim.NodeID, 0, cfg.N))
		}, nil
	}
}

// The counters the simulator and the scenarios read by name (see
// Stats.Counters for the rest).
const (
	CounterReadRepairs             = "read_repairs"
	CounterHintsStored             = "hints_stored"
	CounterHintsDelivered          = "hints_delivered"
	CounterIgnored                 = "ignored"
	CounterAntiEntropyExchanges    = "anti_entropy_exchanges"
	CounterAntiEntropyMessages     = "anti_entropy_messages"
	CounterAntiEntropyTreeBytes    = "anti_entropy_tree_bytes"
	CounterAntiEntropyRepairBytes  = "anti_entropy_repair_bytes"
	CounterAntiEntropyKeysRepaired = "anti_entropy_keys_repaired"
	CounterHandoffKeysSent         = "handoff_keys_sent"
	CounterGossipRounds            = "gossip_rounds"
	CounterSuspicions              = "suspicions"
	CounterTombstonesPurged        = "tombstones_purged"
)

// ringOf builds the ring of view v: the initial members, then every
// change in order (fixed-shard rings depend on the order).
func ringOf(cfg Config, seed uint64, v node.View) (*ring.Ring, error) {
	if err := cfg.ValidateRing(); err != nil {
		return nil, err
	}
	members := make([]ring.Member, len(v.Initial))
	for i, id := range v.Initial {
		members[i] = ring.Member{ID: id, Weight: 1}
	}
	r, err := ring.New(ring.Config{Seed: seed, VNodes: cfg.VNodes, Shards: cfg.Shards}, members...)
	if err != nil {
		return nil, fmt.Errorf("%w: ring: %v", ErrBadConfig, err)
	}
	return applyChanges(r, v.Changes)
}

func applyChanges(r *ring.Ring, changes []node.Change) (*ring.Ring, error) {
	var err error
	for _, c := range changes {
		if c.Join {
			r, err = r.Add(ring.Member{ID: c.Node, Weight: 1})
		} else {
			r, err = r.Remove(c.Node)
		}
		if err != nil {
			return nil, fmt.Errorf("ring: %s %v: %w", map[bool]string{true: "join", false: "leave"}[c.Join], c.Node, err)
		}
	}
	return r, nil
}

// server is a kv Node behind the node boundary. The Node encodes the
// messages it sends into the server's outbox; after every call into the
// Node the server applies the writes the Node's Ready carries to the
// harness's disk (syncing it when the Ready says so). The messages wait
// for node.Ready: what a message promises is on disk before it leaves.
type server struct {
	n     *Node
	store *diskStore
	cfg   Config
	seed  uint64
	view  node.View
	ring  *ring.Ring // the ring of view
	dec   arena      // what decoded messages are made of
	box   outbox
}

// outbox is what a server hands out with Ready: its node's messages,
// encoded into one buffer (message i is arena[ends[i-1]:ends[i]], to
// tos[i]), and client replies. The node encodes each message into it as
// it sends it (Node.wire), so a message is built once and never queued as
// a struct; what Ready handed out is dropped before the first output of
// the next call into the node.
type outbox struct {
	self    sim.NodeID
	arena   []byte
	tos     []sim.NodeID
	ends    []int
	out     []node.Envelope
	replies []node.Reply
	handed  bool // out and replies were handed out: the next output reuses them
}

// reuse drops what Ready handed out, if it did.
func (o *outbox) reuse() {
	if o.handed {
		o.arena, o.tos, o.ends, o.out, o.replies = o.arena[:0], o.tos[:0], o.ends[:0], o.out[:0], o.replies[:0]
		o.handed = false
	}
}

// encode appends message m to to.
func (o *outbox) encode(to sim.NodeID, m *Message) {
	o.reuse()
	var err error
	if o.arena, err = m.AppendMsgpack(o.arena); err != nil {
		panic(fmt.Sprintf("kv: %v cannot encode a %v message: %v", o.self, m.Type, err))
	}
	o.tos = append(o.tos, to)
	o.ends = append(o.ends, len(o.arena))
}

var (
	_ node.Node        = (*server)(nil)
	_ node.Member      = (*server)(nil)
	_ node.Snapshotter = (*server)(nil)
	_ node.Counted     = (*server)(nil)
	_ node.Describer   = (*server)(nil)
	_ node.Settler     = (*server)(nil)
	_ node.Traced      = (*server)(nil)
	_ node.Sleeper     = (*server)(nil)
)

func newServer(cfg Config, env node.Env) (*server, error) {
	if env.Disk == nil {
		return nil, fmt.Errorf("%w: nil disk", ErrBadNode)
	}
	store, err := openDiskStore(env.Disk)
	if err != nil {
		return nil, err
	}
	r, err := ringOf(cfg, env.Seed, env.View)
	if err != nil {
		return nil, err
	}
	if !r.Contains(env.ID) {
		rejoined(cfg, store)
	}
	n, err := newNode(env.ID, cfg, r, uint64(env.View.Epoch()), store, env.WallClock, env.Rand)
	if err != nil {
		return nil, err
	}
	s := &server{n: n, store: store, cfg: cfg, seed: env.Seed, view: env.View, ring: r, dec: newArena(decodeChunk)}
	s.box.self = env.ID
	s.flush()
	n.wire = &s.box
	return s, nil
}

// rejoined prepares the disk of a node that starts outside its ring: a
// spare, or a departed node joining again as a new life of its id. With
// RangeHandoff on it keeps what an earlier life left there, but marks the
// handoff incomplete, so the node vouches for none of it (it serves it only
// as partial streams, see rangeTransfer.restarted): a leave cut short by
// the rejoin may have left the only copy of some acknowledged write there.
// With RangeHandoff off the node would serve that stale data as its own,
// so the disk is wiped as an operator would empty it, keeping the
// durable counters (the incarnation among them).
func rejoined(cfg Config, store *diskStore) {
	switch {
	case !cfg.RangeHandoff:
		store.wipe()
	case len(store.Keys()) > 0 || len(store.Hints()) > 0:
		store.setMeta(metaHandoffIncomplete, 1)
	}
}

// Step decodes a message and steps the node with it.
func (s *server) Step(from sim.NodeID, payload []byte) error {
	var m Message // on the stack: zeroing it needs no write barriers
	if err := m.decodeFrom(payload, &s.dec); err != nil {
		return fmt.Errorf("kv: a message from %v does not decode (%d bytes): %w", from, len(payload), err)
	}
	s.n.Step(from, m)
	s.flush()
	return nil
}

// Submit hands the node a client request; ReadAll reads all N replicas.
func (s *server) Submit(req node.Request) {
	kreq := Request{ID: req.ID, Op: req.Method, Key: req.Key, Value: req.Value, Context: req.Context}
	if req.ReadAll {
		kreq.R = s.cfg.N
	}
	s.n.Submit(kreq)
	s.flush()
}

// Tick advances the node's timers.
func (s *server) Tick() {
	s.n.Tick()
	s.flush()
}

// IdleTicks returns how many of the next ticks have nothing to do (see
// Node.IdleTicks).
func (s *server) IdleTicks() int64 { return s.n.IdleTicks() }

// SkipTicks takes k idle ticks at once. The periodic syncs among them
// find nothing unsynced; the disk is synced as often as k Ticks would.
func (s *server) SkipTicks(k int64) {
	for range s.n.skipTicks(k) {
		s.store.Sync()
	}
}

// flush takes what the node produced: it applies the writes to the disk,
// syncs it if the node asked, and encodes the messages and replies for
// Ready.
func (s *server) flush() {
	if !s.n.HasReady() {
		return
	}
	rd := s.n.Ready()
	rd.Apply(s.store)
	s.box.reuse()
	for i := range rd.Messages { // only those sent before the node had its outbox
		s.box.encode(rd.Messages[i].To, &rd.Messages[i].Msg)
	}
	for _, r := range rd.Replies {
		s.box.replies = append(s.box.replies, node.Reply{ID: r.ID, Status: r.Status, Values: r.Values, Context: r.Context, Err: r.Err})
	}
}

// Ready hands out the encoded messages and replies. The payloads share one
// buffer, reused after the next call into the node.
func (s *server) Ready() node.Ready {
	o := &s.box
	if o.handed || (len(o.ends) == 0 && len(o.replies) == 0) {
		return node.Ready{}
	}
	start := 0
	for i, end := range o.ends {
		o.out = append(o.out, node.Envelope{To: o.tos[i], Payload: o.arena[start:end:end]})
		start = end
	}
	o.handed = true
	return node.Ready{Messages: o.out, Replies: o.replies}
}

// SetView gives the node the ring of the cluster's new view (oracle
// membership; under gossip the node follows its own view).
func (s *server) SetView(v node.View) error {
	if s.cfg.Membership == MembershipGossip {
		s.view = v
		return nil
	}
	var r *ring.Ring
	var err error
	if len(v.Changes) >= len(s.view.Changes) && slices.Equal(v.Initial, s.view.Initial) &&
		slices.Equal(v.Changes[:len(s.view.Changes)], s.view.Changes) {
		r, err = applyChanges(s.ring, v.Changes[len(s.view.Changes):])
	} else {
		r, err = ringOf(s.cfg, s.seed, v)
	}
	if err != nil {
		return fmt.Errorf("kv: %v: %w", s.n.id, err)
	}
	s.view, s.ring = v, r
	s.n.setRingAt(r, uint64(v.Epoch()))
	s.flush()
	return nil
}

// Join announces a newcomer under gossip membership; under oracle
// membership the view change (SetView) was the join.
func (s *server) Join() error {
	if s.cfg.Membership != MembershipGossip {
		return nil
	}
	err := s.n.Join()
	s.flush()
	return err
}

// Leave starts the node's departure.
func (s *server) Leave() error {
	err := s.n.Leave()
	s.flush()
	return err
}

// LeaveDone reports whether a leaving node has handed off its ranges.
func (s *server) LeaveDone() bool { return s.n.LeaveDone() }

// Snapshot returns the node's replicas (synced or not); Pending counts
// its hints.
func (s *server) Snapshot() node.Snapshot {
	snap := s.n.Snapshot()
	out := node.Snapshot{Node: snap.Node, Keys: make([]node.KeyState, 0, len(snap.Keys)), Pending: len(snap.Hints)}
	for _, k := range snap.Keys {
		ks := node.KeyState{Key: k.Key, Versions: make([]node.Version, 0, len(k.Versions))}
		for _, v := range k.Versions {
			ks.Versions = append(ks.Versions, node.Version{
				ID: v.Dot.String() + "@" + strconv.FormatInt(v.Timestamp, 10), Value: v.Value, Tombstone: v.Tombstone})
		}
		out.Keys = append(out.Keys, ks)
	}
	return out
}

// Counters returns the node's Stats as named counters.
func (s *server) Counters() []node.Counter { return s.n.Stats().Counters() }

// Describe describes an encoded message for a trace.
func (s *server) Describe(payload []byte) node.Description {
	var m Message
	if err := m.DecodeMsgpack(payload); err != nil {
		return node.Description{Kind: "undecodable", Text: fmt.Sprintf("%d bytes: %v", len(payload), err)}
	}
	return m.Describe()
}

// Describe describes the message for a trace: its type, keys and
// operation, then its versions (value, dot and timestamp), the hint's
// owner, a refusal and an error when set.
func (m Message) Describe() node.Description {
	d := node.Description{Kind: m.Type.String(), Op: m.Op}
	switch m.Type {
	case MsgWriteAck, MsgReadReply, MsgForwardReply, MsgHandoffAck, MsgPong, MsgTreeReply, MsgRepairReply, MsgStreamData:
		d.Reply = true
	}
	var b strings.Builder
	if m.Key != "" {
		d.Keys = append(d.Keys, m.Key)
		fmt.Fprintf(&b, " key=%q", m.Key)
	}
	if m.Op != 0 {
		fmt.Fprintf(&b, " op=%d", m.Op)
	}
	if len(m.Versions) > 0 {
		b.WriteString(" versions=" + describeVersions(m.Versions))
	}
	for _, it := range m.Items {
		d.Keys = append(d.Keys, it.Key)
	}
	if len(m.Items) > 0 {
		fmt.Fprintf(&b, " items=%d", len(m.Items))
		for i, it := range m.Items {
			if i == 8 {
				b.WriteString(" ...")
				break
			}
			fmt.Fprintf(&b, " %q:%s", it.Key, describeVersions(it.Versions))
		}
	}
	if m.Hinted {
		fmt.Fprintf(&b, " hint-for=%v", m.HintFor)
	}
	if m.Refused {
		b.WriteString(" refused")
	}
	if m.Err != "" {
		b.WriteString(" err=" + m.Err)
	}
	if r := m.Reply; m.Type == MsgForwardReply && r != nil {
		fmt.Fprintf(&b, " reply=%v", r.Status)
		for _, v := range r.Values {
			fmt.Fprintf(&b, " %q", v)
		}
	}
	d.Text = strings.TrimPrefix(b.String(), " ")
	return d
}

// describeVersions formats versions as [value@dot/ts ...].
func describeVersions(vs []Version) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if v.Tombstone {
			b.WriteString("tombstone")
		} else {
			fmt.Fprintf(&b, "%q", v.Value)
		}
		fmt.Fprintf(&b, "@%v/%d", v.Dot, v.Timestamp)
	}
	b.WriteByte(']')
	return b.String()
}

// Counters returns every counter of s by name: each uint64 field in
// snake_case (ReadRepairs is "read_repairs"), the ignored messages in all
// ("ignored") and by reason ("ignored/<reason>").
func (s Stats) Counters() []node.Counter {
	v := reflect.ValueOf(s)
	out := make([]node.Counter, 0, len(statsCounters)+1+len(s.Ignored))
	for _, f := range statsCounters {
		out = append(out, node.Counter{Name: f.name, Value: v.Field(f.index).Uint()})
	}
	out = append(out, node.Counter{Name: CounterIgnored, Value: s.IgnoredTotal()})
	for _, ig := range s.Ignored {
		out = append(out, node.Counter{Name: CounterIgnored + "/" + ig.Reason, Value: ig.Count})
	}
	return out
}

// statsCounter is one uint64 field of Stats and its counter name.
type statsCounter struct {
	index int
	name  string
}

// statsCounters are Stats' uint64 fields, in order, named once.
var statsCounters = func() []statsCounter {
	t := reflect.TypeFor[Stats]()
	var fs []statsCounter
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Type.Kind() == reflect.Uint64 {
			fs = append(fs, statsCounter{i, snake(f.Name)})
		}
	}
	return fs
}()

// snake turns a Go field name into snake_case.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Unwrap returns the kv Node behind a node made by NewFactory's factory,
// for tests and tools that inspect its state; false for any other node.
func Unwrap(n node.Node) (*Node, bool) {
	s, ok := n.(*server)
	if !ok {
		return nil, false
	}
	return s.n, true
}

// SetTracer forwards the node's reasons to the trace (see Node.SetTracer).
func (s *server) SetTracer(fn func(string)) { s.n.SetTracer(fn) }

// Healed starts the node's post-heal bookkeeping (see Node.Healed).
func (s *server) Healed(excluded []sim.NodeID) {
	s.n.Healed(excluded)
	s.flush()
}

// Quiescent reports whether the node owes background work (see
// Node.Quiescent).
func (s *server) Quiescent() (bool, string) { return s.n.Quiescent() }
