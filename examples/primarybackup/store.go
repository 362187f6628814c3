package primarybackup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// Primary is the node that coordinates every request.
const Primary sim.NodeID = 0

// Mode says when the primary acknowledges a write.
type Mode uint8

// The replication modes.
const (
	// Sync acknowledges a write after the primary synced it and
	// Config.Acks backups acknowledged it.
	Sync Mode = iota + 1
	// Async acknowledges a write after the primary's local, unsynced
	// write; replication and syncing happen in the background.
	Async
)

// Config is the store's policy.
type Config struct {
	// Mode is Sync or Async.
	Mode Mode
	// Acks is how many backups must acknowledge a write before the primary
	// does, in Sync mode; 0 means all of them.
	Acks int
	// TimeoutTicks is how long a write waits for its backup acks (Sync),
	// and a backup for the answer to a request it forwarded.
	TimeoutTicks int
	// HeartbeatTicks is how often the primary sends every backup what it
	// has not acknowledged yet (an empty delta is a heartbeat).
	HeartbeatTicks int
	// SuspectTicks is how long a backup waits without hearing from the
	// primary before it holds requests back instead of forwarding them; a
	// held request is forwarded when the primary is heard from again, or
	// refused (Fail) after TimeoutTicks.
	SuspectTicks int
	// SyncEveryTicks is how often the primary syncs its disk in Async mode;
	// 0 means never.
	SyncEveryTicks int
	// ReadFromBackups makes a backup serve reads from its own copy instead
	// of forwarding them to the primary (stale reads).
	ReadFromBackups bool

	// bugAckEarly plants a bug for the tests: in Sync mode, acknowledge a
	// write right after the local write, before syncing and before any
	// backup acknowledged it.
	bugAckEarly bool
	// bugAssumeDelivered plants another: the primary counts a Replicate as
	// acknowledged when it sends it, so what a partition drops is never
	// resent.
	bugAssumeDelivered bool
}

// DefaultConfig returns synchronous replication to all backups, with a
// 100-tick write timeout, a heartbeat every 5 ticks, backups suspecting the
// primary after 50 silent ticks, and (for Async) a sync every 1000 ticks.
func DefaultConfig() Config {
	return Config{Mode: Sync, TimeoutTicks: 100, HeartbeatTicks: 5, SuspectTicks: 50, SyncEveryTicks: 1000}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Mode != Sync && c.Mode != Async:
		return fmt.Errorf("primarybackup: Mode is %d: want Sync or Async", c.Mode)
	case c.Acks < 0:
		return fmt.Errorf("primarybackup: Acks is %d: want >= 0", c.Acks)
	case c.TimeoutTicks < 1 || c.HeartbeatTicks < 1 || c.SuspectTicks < 1:
		return errors.New("primarybackup: TimeoutTicks, HeartbeatTicks and SuspectTicks must be >= 1")
	case c.SyncEveryTicks < 0:
		return fmt.Errorf("primarybackup: SyncEveryTicks is %d: want >= 0", c.SyncEveryTicks)
	}
	return nil
}

// NewFactory returns the factory that starts the store's nodes: node 0 as
// the primary, every other member as a backup.
func NewFactory(cfg Config) node.Factory {
	return func(env node.Env) (node.Node, error) {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return open(cfg, env)
	}
}

// Counter names.
const (
	CounterWrites    = "writes"     // writes the primary applied
	CounterReads     = "reads"      // reads served
	CounterForwarded = "forwarded"  // requests a backup forwarded
	CounterRefused   = "refused"    // requests a backup held back, then refused (primary suspected)
	CounterTimeouts  = "timeouts"   // requests that ended Info or Fail on a timeout
	CounterDeltas    = "deltas"     // delta Replicate messages sent
	CounterFull      = "full_syncs" // full-state Replicate messages sent
	CounterSyncs     = "disk_syncs" // disk syncs
)

// Disk layout: one record per key, the primary's epoch (durable at once)
// and a backup's newest applied version (synced with the records).
const (
	recordPrefix = "k/"
	epochKey     = "m/epoch"
	appliedKey   = "m/applied"
)

// store is one node of the store.
type store struct {
	cfg   Config
	id    sim.NodeID
	disk  node.Disk
	peers []sim.NodeID // the backups, on the primary
	codec *node.Codec[Message]
	rcod  *node.Codec[Record]

	data map[string]Record // the disk's records, in memory
	keys []string          // data's keys, sorted
	now  int               // ticks since this start

	// Primary.
	epoch   uint64
	last    Version                // newest write
	match   map[sim.NodeID]Version // newest version each backup acknowledged
	waiting []waitingWrite         // Sync writes waiting for acks
	served  map[uint64]bool        // forwarded request ids already served

	// Backup.
	applied   Version // newest version applied (durable)
	seen      uint64  // newest primary epoch heard of
	heard     int     // tick the primary was last heard from
	forwarded map[uint64]forward
	held      []heldRequest // requests not forwarded while the primary is suspected

	out      []node.Envelope
	replies  []node.Reply
	counters map[string]uint64
}

// waitingWrite is a Sync write the primary has not acknowledged yet.
type waitingWrite struct {
	from     sim.NodeID // the client's node: the primary or a forwarding backup
	id       uint64
	version  Version
	deadline int
}

// heldRequest is a request a backup holds back while it suspects the
// primary.
type heldRequest struct {
	req      node.Request
	deadline int
}

// forward is a request a backup forwarded to the primary.
type forward struct {
	write    bool
	deadline int
}

var (
	_ node.Node        = (*store)(nil)
	_ node.Snapshotter = (*store)(nil)
	_ node.Counted     = (*store)(nil)
	_ node.Describer   = (*store)(nil)
)

// open starts a node on env's disk, reloading what it holds durably.
func open(cfg Config, env node.Env) (*store, error) {
	s := &store{cfg: cfg, id: env.ID, disk: env.Disk, codec: node.NewCodec[Message](), rcod: node.NewCodec[Record](),
		data: map[string]Record{}, match: map[sim.NodeID]Version{}, forwarded: map[uint64]forward{}, served: map[uint64]bool{}, counters: map[string]uint64{}}
	for _, k := range env.Disk.Keys(recordPrefix) {
		b, _ := env.Disk.Get(k)
		var r Record
		if err := s.rcod.Decode(b, &r); err != nil {
			return nil, fmt.Errorf("primarybackup: %v: record %q: %w", env.ID, k, err)
		}
		s.data[k[len(recordPrefix):]] = r
		s.keys = append(s.keys, k[len(recordPrefix):]) // Keys is sorted
	}
	if env.ID == Primary {
		if b, ok := env.Disk.Get(epochKey); ok {
			s.epoch = binary.BigEndian.Uint64(b)
		}
		s.epoch++ // a new epoch orders every new write after every old one
		env.Disk.PutDurable(epochKey, binary.BigEndian.AppendUint64(nil, s.epoch))
		s.last = Version{Epoch: s.epoch}
		for _, id := range env.View.Members() {
			if id != Primary {
				s.peers = append(s.peers, id)
			}
		}
	} else if b, ok := env.Disk.Get(appliedKey); ok && len(b) == 16 {
		s.applied = Version{Epoch: binary.BigEndian.Uint64(b), Seq: binary.BigEndian.Uint64(b[8:])}
		s.seen = s.applied.Epoch
	}
	return s, nil
}

// Step handles a message from another node.
func (s *store) Step(from sim.NodeID, payload []byte) error {
	var m Message
	if err := s.codec.Decode(payload, &m); err != nil {
		return fmt.Errorf("primarybackup: %v: a message from %v does not decode: %w", s.id, from, err)
	}
	switch {
	case s.id == Primary && m.Kind == KindAck:
		if s.match[from].Less(m.Upto) {
			s.match[from] = m.Upto
		}
		s.ackWaiting()
	case s.id == Primary && m.Kind == KindForward:
		if !s.served[m.Request.ID] { // a duplicated message must not write twice (in one incarnation)
			s.served[m.Request.ID] = true
			s.serve(from, m.Request)
		}
	case s.id != Primary && from == Primary && m.Kind == KindReplicate:
		s.install(&m)
	case s.id != Primary && from == Primary && m.Kind == KindReply:
		if _, ok := s.forwarded[m.Reply.ID]; ok {
			delete(s.forwarded, m.Reply.ID)
			s.replies = append(s.replies, m.Reply)
		}
	default:
		return fmt.Errorf("primarybackup: %v: unexpected %v message from %v", s.id, m.Kind, from)
	}
	return nil
}

// Submit handles a client request: the primary serves it, a backup serves
// reads itself (ReadFromBackups), forwards the rest, or holds them back
// while it suspects the primary. (Refusing at once would send the client
// straight back with its next request: the simulator's clients back off
// only from a node that is down.)
func (s *store) Submit(req node.Request) {
	switch {
	case s.id == Primary:
		s.serve(Primary, req)
	case req.Method == node.Get && s.cfg.ReadFromBackups:
		s.replies = append(s.replies, s.read(req))
	case s.now-s.heard > s.cfg.SuspectTicks:
		s.held = append(s.held, heldRequest{req: req, deadline: s.now + s.cfg.TimeoutTicks})
	default:
		s.forward(req)
	}
}

// forward sends a client request to the primary.
func (s *store) forward(req node.Request) {
	s.counters[CounterForwarded]++
	s.forwarded[req.ID] = forward{write: req.Method != node.Get, deadline: s.now + s.cfg.TimeoutTicks}
	s.send(Primary, &Message{Kind: KindForward, Request: req})
}

// serve runs a request on the primary and answers the node it came from
// (the primary itself for its own clients).
func (s *store) serve(from sim.NodeID, req node.Request) {
	if req.Method == node.Get {
		s.answer(from, s.read(req))
		return
	}
	s.counters[CounterWrites]++
	s.last.Seq++
	s.put(req.Key, Record{Version: s.last, Value: req.Value, Tombstone: req.Method == node.Delete})
	if s.cfg.Mode == Async || s.cfg.bugAckEarly {
		s.answer(from, node.Reply{ID: req.ID, Status: node.OK}) // before any sync or backup ack
	} else {
		s.sync() // durable before any read can see it
		s.waiting = append(s.waiting, waitingWrite{from: from, id: req.ID, version: s.last, deadline: s.now + s.cfg.TimeoutTicks})
	}
	for _, b := range s.peers {
		s.replicate(b)
	}
	s.ackWaiting() // at once if there are no backups
}

// read answers a Get from this node's copy.
func (s *store) read(req node.Request) node.Reply {
	s.counters[CounterReads]++
	rep := node.Reply{ID: req.ID, Status: node.OK}
	if r, ok := s.data[req.Key]; ok && !r.Tombstone {
		rep.Values = [][]byte{r.Value}
	}
	return rep
}

// answer sends a reply to the client's node.
func (s *store) answer(to sim.NodeID, rep node.Reply) {
	if to == s.id {
		s.replies = append(s.replies, rep)
		return
	}
	s.send(to, &Message{Kind: KindReply, Reply: rep})
}

// ackWaiting acknowledges the Sync writes enough backups hold.
func (s *store) ackWaiting() {
	need := len(s.peers)
	if s.cfg.Acks > 0 && s.cfg.Acks < need {
		need = s.cfg.Acks
	}
	s.waiting = slices.DeleteFunc(s.waiting, func(w waitingWrite) bool {
		acks := 0
		for _, b := range s.peers {
			if !s.match[b].Less(w.version) {
				acks++
			}
		}
		if acks >= need {
			s.answer(w.from, node.Reply{ID: w.id, Status: node.OK})
			return true
		}
		return false
	})
}

// replicate sends backup b what it has not acknowledged: a delta of the
// keys newer than its acknowledged version, or the whole state if that
// version is from another epoch (or unknown).
func (s *store) replicate(b sim.NodeID) {
	base := s.match[b]
	m := &Message{Kind: KindReplicate, Epoch: s.epoch, Full: base.Epoch != s.epoch, Base: base, Upto: s.last}
	for _, k := range s.keys {
		if r := s.data[k]; m.Full || base.Less(r.Version) {
			m.Entries = append(m.Entries, Entry{Key: k, Record: r})
		}
	}
	if m.Full {
		s.counters[CounterFull]++
	} else {
		s.counters[CounterDeltas]++
	}
	s.send(b, m)
	if s.cfg.bugAssumeDelivered {
		s.match[b] = s.last
	}
}

// install applies a Replicate on a backup, syncs, and acknowledges.
func (s *store) install(m *Message) {
	if m.Epoch < s.seen {
		return // from a primary incarnation that has since restarted
	}
	s.seen, s.heard = m.Epoch, s.now
	for _, h := range s.held {
		s.forward(h.req)
	}
	s.held = s.held[:0]
	switch {
	case m.Full && !m.Upto.Less(s.applied):
		// The primary's whole state replaces ours.
		keep := map[string]bool{}
		for _, e := range m.Entries {
			keep[e.Key] = true
		}
		for _, k := range slices.Clone(s.keys) {
			if !keep[k] {
				s.remove(k)
			}
		}
		for _, e := range m.Entries {
			s.put(e.Key, e.Record)
		}
		s.applied = m.Upto
	case !m.Full:
		// A delta from Base, which we hold: apply what is newer.
		for _, e := range m.Entries {
			if s.data[e.Key].Version.Less(e.Record.Version) {
				s.put(e.Key, e.Record)
			}
		}
		if s.applied.Less(m.Upto) {
			s.applied = m.Upto
		}
	}
	s.disk.Put(appliedKey, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, s.applied.Epoch), s.applied.Seq))
	s.sync()
	s.send(Primary, &Message{Kind: KindAck, Epoch: m.Epoch, Upto: s.applied})
}

// put stores a record in memory and on disk (unsynced).
func (s *store) put(key string, r Record) {
	if i, found := slices.BinarySearch(s.keys, key); !found {
		s.keys = slices.Insert(s.keys, i, key)
	}
	s.data[key] = r
	b, err := s.rcod.Encode(&r)
	if err != nil {
		panic(err) // a Record always encodes
	}
	s.disk.Put(recordPrefix+key, b)
}

// remove deletes a key's record in memory and on disk (unsynced).
func (s *store) remove(key string) {
	if i, found := slices.BinarySearch(s.keys, key); found {
		s.keys = slices.Delete(s.keys, i, i+1)
	}
	delete(s.data, key)
	s.disk.Delete(recordPrefix + key)
}

func (s *store) sync() {
	s.counters[CounterSyncs]++
	s.disk.Sync()
}

// send encodes m for peer to.
func (s *store) send(to sim.NodeID, m *Message) {
	b, err := s.codec.Encode(m)
	if err != nil {
		panic(fmt.Sprintf("primarybackup: %v cannot encode a %v message: %v", s.id, m.Kind, err))
	}
	s.out = append(s.out, node.Envelope{To: to, Payload: b})
}

// Tick advances the timers: the primary's heartbeats, lazy syncs and write
// timeouts, a backup's forwarding timeouts.
func (s *store) Tick() {
	s.now++
	if s.id == Primary {
		if s.now%s.cfg.HeartbeatTicks == 0 {
			for _, b := range s.peers {
				s.replicate(b)
			}
		}
		if s.cfg.Mode == Async && s.cfg.SyncEveryTicks > 0 && s.now%s.cfg.SyncEveryTicks == 0 {
			s.sync()
		}
		s.waiting = slices.DeleteFunc(s.waiting, func(w waitingWrite) bool {
			if s.now < w.deadline {
				return false
			}
			s.counters[CounterTimeouts]++
			s.answer(w.from, node.Reply{ID: w.id, Status: node.Info, Err: "write applied on the primary, not acknowledged by enough backups in time"})
			return true
		})
		return
	}
	for _, id := range slices.Sorted(maps.Keys(s.forwarded)) {
		if f := s.forwarded[id]; s.now >= f.deadline {
			delete(s.forwarded, id)
			s.counters[CounterTimeouts]++
			rep := node.Reply{ID: id, Status: node.Fail, Err: "no answer from the primary"}
			if f.write {
				rep.Status = node.Info // the primary may have applied it
			}
			s.replies = append(s.replies, rep)
		}
	}
	s.held = slices.DeleteFunc(s.held, func(h heldRequest) bool {
		if s.now < h.deadline {
			return false
		}
		s.counters[CounterRefused]++
		s.replies = append(s.replies, node.Reply{ID: h.req.ID, Status: node.Fail,
			Err: fmt.Sprintf("primary %v unreachable for %d ticks: not forwarded", Primary, s.now-s.heard)})
		return true
	})
}

// Ready returns and clears what the node produced.
func (s *store) Ready() node.Ready {
	rd := node.Ready{Messages: s.out, Replies: s.replies}
	s.out, s.replies = nil, nil
	return rd
}

// Snapshot returns every record this node holds, synced or not; a
// primary's Pending counts the backups that have not caught up.
func (s *store) Snapshot() node.Snapshot {
	snap := node.Snapshot{Node: s.id}
	for _, k := range s.keys {
		r := s.data[k]
		snap.Keys = append(snap.Keys, node.KeyState{Key: k, Versions: []node.Version{
			{ID: r.Version.String(), Value: r.Value, Tombstone: r.Tombstone}}})
	}
	for _, b := range s.peers {
		if s.match[b] != s.last {
			snap.Pending++
		}
	}
	return snap
}

// Counters returns the node's counters since it started.
func (s *store) Counters() []node.Counter {
	out := make([]node.Counter, 0, len(s.counters))
	for _, name := range slices.Sorted(maps.Keys(s.counters)) {
		out = append(out, node.Counter{Name: name, Value: s.counters[name]})
	}
	return out
}

// Describe formats an encoded message for a trace.
func (s *store) Describe(payload []byte) node.Description {
	var m Message
	if err := node.NewCodec[Message]().Decode(payload, &m); err != nil {
		return node.Description{Kind: "undecodable", Text: fmt.Sprintf("%d bytes: %v", len(payload), err)}
	}
	return m.Describe()
}
