package kv

import (
	"errors"
	"fmt"
	"math"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// Errors a Reply.Err can start with, and that NewNode returns. Compare
// with errors.Is where an error value is available.
var (
	// ErrBadRequest: the request itself is invalid (empty key, oversize
	// value, bad N/W/R override, context of another key...).
	ErrBadRequest = errors.New("kv: bad request")
	// ErrUnavailable: the coordinator believes fewer replicas reachable
	// than the request needs, so it asked none.
	ErrUnavailable = errors.New("kv: not enough replicas reachable")
	// ErrTooManySiblings: the write would leave more than MaxSiblings
	// versions of the key. Read the key and write with its context to
	// merge the siblings.
	ErrTooManySiblings = errors.New("kv: too many siblings")
	// ErrHintStoreFull: a fallback refused a hinted write because its hint
	// store is full under HintRejectWhenFull.
	ErrHintStoreFull = errors.New("kv: hint store full")
	// ErrBadNode: NewNode got a nil dependency.
	ErrBadNode = errors.New("kv: bad node")
)

// metaIncarnation names the durable incarnation counter in the Store.
const metaIncarnation = "incarnation"

// metaHandoffIncomplete names the durable flag (1 or 0) that says the
// node may lack acknowledged writes of an arc it holds
// (rangeTransfer.incomplete): a node that starts with it set pulls its
// arcs again.
const metaHandoffIncomplete = "handoff-incomplete"

// metaRing names the durable identity of the last ring the node routed
// with (ringIdentity): a node that starts on another ring, or on the same
// ring in a later membership epoch, may have gained arcs while it was
// down, and pulls its arcs again.
const metaRing = "ring"

// seqMask keeps the sequence half of a counter.
const seqMask = 1<<32 - 1

// Node is one Dynamo-style replica and coordinator, driven entirely by
// method calls (Step, Submit, Tick) and drained with Ready. A Node is not
// safe for concurrent use; a simulated run calls it from one goroutine.
type Node struct {
	// Who it is, and what it is given.
	id   sim.NodeID
	cfg  Config
	wall func() int64 // the (possibly skewed) wall clock, for LWW timestamps
	rng  *sim.RNG

	// Its counters: ticks, and the incarnation and sequence every dot, op
	// id and hint id is drawn from.
	now         int64  // ticks since this incarnation started
	incarnation uint64 // durable, bumped at every NewNode
	seq         uint64 // within the incarnation

	// Its durable state, and the machines it composes; each reads and
	// writes the state and hands its messages back to the node.
	state      *state        // durable state as last written; writes leave in Ready
	route      routing       // the ring the node routes with, and what it caches of it
	coord      coordinator   // the operations this node coordinates
	hints      hints         // hinted handoff
	transfer   rangeTransfer // range handoff: pulls, streams served, the leave
	suspicion  suspicion     // local failure suspicion of peers
	gossip     gossiping     // gossip membership (table nil under oracle membership)
	ae         antiEntropy   // Merkle anti-entropy and its sweeps since the last heal
	forwards   forwards      // forwarded requests taken, to recognise duplicates
	tombstones tombstones    // the purge schedule of tombstones
	timers     timers        // the periodic probe, replay and sync
	// handoffIncomplete is the value of metaHandoffIncomplete on disk.
	handoffIncomplete bool

	// What it produced since the last Ready.
	out     []Envelope
	wire    *outbox // set by the server the node runs behind: send encodes into it, out stays empty
	replies []Reply

	// What it counts, and whom it tells why it ignored a message (input
	// is the message being stepped, for those lines).
	stats   Stats
	ignored [numIgnoreReasons]uint64
	tracer  func(string)
	input   struct {
		from sim.NodeID
		typ  MsgType
	}
}

// routing is the ring a node routes with and what it caches of it.
type routing struct {
	ring         *ring.Ring
	nodes        []sim.NodeID // ring.Nodes(), cached
	cfg          ring.Config  // the configuration every ring of this node uses
	ranges       []ring.Range // ring.Ranges(replN()), cached per ring
	prefBuf      []sim.NodeID // scratch for preference lists
	lastWithSelf *ring.Ring   // the last ring that held this node
	// epoch is the membership epoch of ring as its driver numbers it
	// under oracle membership (node.View.Epoch; 0 for a driver that does
	// not, and under gossip membership, where the ring follows the node's
	// own view): with the ring's members it makes the ring identity the
	// node keeps durable (metaRing).
	epoch uint64
}

// gossiping is a node's gossip membership: its table (nil under oracle
// membership), the table's ring version the ring was built at, and the
// tick of the next gossip round.
type gossiping struct {
	table   *membership.Table
	ringVer uint64
	next    int64
}

// timers are the ticks of the node's next probe of suspected peers, hint
// replay and periodic sync.
type timers struct {
	probe, replay, sync int64
}

// NewNode returns node id of a cluster whose ring is r, recovering its
// durable state from store (read once: from then on the node's writes
// leave in Ready, for the driver to apply). For a restart, crash the store
// (e.g. MemStore.Crash) and pass it again: the new node starts from the
// durable data and hints with a new incarnation, so it never reissues a
// dot or an operation id. The new incarnation is the first Ready's first
// write. wallClock gives the node's (possibly
// skewed) wall-clock time in nanoseconds for LWW timestamps; rng is the
// node's own stream (fork it by name, e.g. "node/3").
//
// Under gossip membership r is the node's bootstrap view (its members are
// entered as alive members) and fixes the ring configuration (seed, vnodes,
// shards) every ring the node builds from its view uses; a node not on r
// is a newcomer that owns nothing until Join.
func NewNode(id sim.NodeID, cfg Config, r *ring.Ring, store Store, wallClock func() int64, rng *sim.RNG) (*Node, error) {
	return newNode(id, cfg, r, 0, store, wallClock, rng)
}

// newNode is NewNode on ring r of membership epoch epoch (see
// routing.epoch; ignored under gossip membership).
func newNode(id sim.NodeID, cfg Config, r *ring.Ring, epoch uint64, store Store, wallClock func() int64, rng *sim.RNG) (*Node, error) {
	if cfg.Membership == MembershipGossip {
		epoch = 0
	}
	switch {
	case r == nil:
		return nil, fmt.Errorf("%w: nil ring", ErrBadNode)
	case store == nil:
		return nil, fmt.Errorf("%w: nil store", ErrBadNode)
	case wallClock == nil:
		return nil, fmt.Errorf("%w: nil wall clock", ErrBadNode)
	case rng == nil:
		return nil, fmt.Errorf("%w: nil rng", ErrBadNode)
	}
	if err := cfg.Validate(r.Len()); err != nil {
		return nil, err
	}
	st := loadState(store)
	inc, _ := st.Meta(metaIncarnation)
	inc++
	if inc >= 1<<32 {
		return nil, fmt.Errorf("%w: incarnation counter exhausted", ErrBadNode)
	}
	st.SetMeta(metaIncarnation, inc)
	n := &Node{
		id: id, cfg: cfg, route: routing{ring: r, nodes: r.Nodes(), epoch: epoch}, state: st, wall: wallClock, rng: rng,
		incarnation: inc,
		suspicion:   newSuspicion(cfg.SuspectAfterTicks),
		tombstones:  newTombstones(cfg.TombstoneGraceTicks),
		forwards:    newForwards(4 * int64(cfg.RequestTimeoutTicks)),
	}
	n.hints = hints{self: id, cfg: &n.cfg, st: st, stats: &n.stats, next: n.next, forget: n.forget}
	n.transfer = rangeTransfer{self: id, cfg: &n.cfg, st: st, stats: &n.stats, next: n.next, down: n.believedDown}
	n.coord = newCoordinator(id, &n.cfg, &n.stats, nodeHost{n})
	n.route.cfg = r.Config()
	if r.Contains(id) {
		n.route.lastWithSelf = r
	}
	n.ae = antiEntropy{self: id, cfg: &n.cfg, st: st, stats: &n.stats, next: n.next, down: n.believedDown, replicates: n.replicates, merge: n.mergeData}
	n.ae.init(rng.Fork("anti-entropy"))
	if cfg.Membership == MembershipGossip {
		if err := n.initGossip(r); err != nil {
			return nil, err
		}
		vr, err := n.viewRing()
		if err != nil {
			return nil, fmt.Errorf("%w: ring of the bootstrap view: %v", ErrBadNode, err)
		}
		n.gossip.ringVer = n.gossip.table.RingVersion()
		n.route.ring, n.route.nodes = vr, vr.Nodes()
	}
	n.route.ranges = computeRanges(n.route.ring, n.replN())
	// A node that starts on a ring other than the last it routed with
	// (or, having never changed rings, in a later epoch than the first)
	// may have gained arcs while it was down. A node that starts outside
	// its ring (a newcomer) gains its arcs by the ring change of its join;
	// what an earlier life left on its disk is flagged by its driver
	// (rejoined).
	last, known := st.Meta(metaRing)
	moved := false
	if n.route.ring.Contains(id) && (known || epoch > 0) {
		fp := ringIdentity(n.route.ring, epoch)
		if moved = !known || last != fp; moved {
			st.SetMeta(metaRing, fp)
		}
	}
	if v, _ := st.Meta(metaHandoffIncomplete); cfg.RangeHandoff && (v == 1 || moved) {
		n.handoffIncomplete = v == 1
		n.transfer.restarted(n.now, n.route.ranges)
		n.noteHandoff()
	}
	n.timers.probe = 1 + int64(rng.Fork("probe").IntN(cfg.ProbeIntervalTicks))
	n.timers.replay = 1 + int64(rng.Fork("replay").IntN(cfg.HintReplayIntervalTicks))
	n.timers.sync = 1 + int64(rng.Fork("sync").IntN(cfg.SyncIntervalTicks))
	// Tombstones found on disk start their grace period now: a restart
	// can lengthen a grace period, never shorten it.
	for _, k := range st.Keys() {
		if vs, _ := st.Get(k); allTombstones(vs) {
			n.noteTombstone(k)
		}
	}
	n.rebuildTrees()
	return n, nil
}

// ID returns the node's id.
func (n *Node) ID() sim.NodeID { return n.id }

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Incarnation returns the node's current incarnation: bumped durably by
// every NewNode over the same store and whenever the node forgets dots it
// issued (see VClock).
func (n *Node) Incarnation() uint64 { return n.incarnation }

// Ring returns the ring the node currently routes with.
func (n *Node) Ring() *ring.Ring { return n.route.ring }

// SetRing replaces the ring the node routes new requests with (oracle
// membership). Operations in flight keep their replicas. Requests that the
// new ring cannot serve (e.g. N larger than its membership) fail with a
// clear error. With RangeHandoff on, the arcs the node gained become
// pending and are pulled from their previous replicas (see Join and
// Leave). Under gossip membership the ring follows the node's own view and
// SetRing does nothing. It steps the node with the local input
// MsgRingChange.
func (n *Node) SetRing(r *ring.Ring) {
	_ = n.Step(n.id, Message{Type: MsgRingChange, Ring: r}) // never refused
}

// setRingAt is SetRing for a ring of membership epoch epoch (see
// routing.epoch).
func (n *Node) setRingAt(r *ring.Ring, epoch uint64) {
	n.route.epoch = epoch
	n.SetRing(r)
}

// Ready returns and clears the writes, messages and replies produced so
// far. The driver applies the writes to the node's Store (and syncs it if
// MustSync) before it sends the messages and replies: Ready.Apply. The
// Writes, Messages and Replies slices are the node's buffers, valid until
// the next call into the node (what their elements point to stays valid).
func (n *Node) Ready() Ready {
	rd := Ready{Writes: n.state.writes, MustSync: n.state.mustSync, Messages: n.out, Replies: n.replies}
	n.out, n.replies = n.out[:0], n.replies[:0]
	n.state.writes, n.state.mustSync = n.state.writes[:0], false
	return rd
}

// HasReady reports whether Ready would return anything.
func (n *Node) HasReady() bool {
	return len(n.out) > 0 || len(n.replies) > 0 || len(n.state.writes) > 0 || n.state.mustSync
}

// forget is called whenever the node deletes versions without keeping
// anything that covers them (a handed-off or evicted hint, a purged
// tombstone). If any of them is a dot this node issued, it moves to a new
// incarnation: a vector-clock coordinator must hold (or cover) every dot
// it issued for a key, or a client context naming its next dot would
// claim the forgotten ones too.
func (n *Node) forget(vs []Version) {
	if n.cfg.Resolve != VectorClock {
		return // LWW never reads contexts
	}
	for _, v := range vs {
		if v.Dot.Node == n.id && epoch(v.Dot.Counter) == n.incarnation {
			n.newIncarnation()
			return
		}
	}
}

// newIncarnation durably moves the node to its next incarnation.
func (n *Node) newIncarnation() {
	n.incarnation++
	n.state.SetMeta(metaIncarnation, n.incarnation)
	n.seq = 0
	n.stats.Incarnations++
}

// next returns a fresh counter: incarnation in the high half, sequence in
// the low half. It never repeats: at 2^32-1 sequences the node moves to a
// new incarnation durably.
func (n *Node) next() uint64 {
	if n.seq == seqMask {
		n.newIncarnation()
	}
	n.seq++
	return n.incarnation<<32 | n.seq
}

// send queues a message (behind a server, encodes it into the server's
// outbox at once); requests start the peer's suspicion clock. m is not
// kept.
func (n *Node) send(to sim.NodeID, m *Message) {
	switch m.Type {
	case MsgWrite, MsgRead, MsgForward, MsgHandoff, MsgPing:
		n.suspicion.sent(to, n.now)
	}
	n.stats.MessagesSent++
	if n.wire != nil {
		n.wire.encode(to, m)
		return
	}
	n.out = append(n.out, Envelope{To: to, Msg: *m})
}

// Suspects returns the ring members this node believes unreachable
// (local suspicion, or suspect or dead in its gossip view), sorted.
func (n *Node) Suspects() []sim.NodeID {
	var out []sim.NodeID
	for _, id := range n.route.nodes {
		if n.believedDown(id) {
			out = append(out, id)
		}
	}
	return out
}

// Tick advances the node's timers by one tick: failure suspicion, request
// deadlines, probes of suspected peers, hint replay, the periodic sync,
// tombstone purging, forgetting old forwarded requests, a gossip round, handoff streams, the leave check and
// anti-entropy, in that order.
func (n *Node) Tick() {
	n.now++
	n.stats.Suspicions += n.suspicion.tick(n.route.nodes, n.id, n.now)
	n.coord.tick(n.now)
	n.deliver()
	if n.now >= n.timers.probe {
		n.timers.probe = n.now + int64(n.cfg.ProbeIntervalTicks)
		for _, id := range n.route.nodes {
			if n.suspicion.suspected(id) {
				n.send(id, &Message{Type: MsgPing})
			}
		}
	}
	if n.now >= n.timers.replay {
		n.timers.replay = n.now + int64(n.cfg.HintReplayIntervalTicks)
		if n.cfg.HintedHandoff {
			n.replayHints()
		}
	}
	if n.now >= n.timers.sync {
		n.timers.sync = n.now + int64(n.cfg.SyncIntervalTicks)
		n.sync()
	}
	n.purgeTombstones()
	n.forwards.expire(n.now)
	n.tickGossip()
	if n.cfg.RangeHandoff {
		n.tickHandoff()
	}
	n.tickLeave()
	n.tickAntiEntropy()
}

// never is the due tick of a timer that is not set.
const never int64 = math.MaxInt64

// IdleTicks returns how many of the next calls to Tick would certainly
// produce no message, reply or write (at most a sync with nothing to
// sync), provided no other input reaches the node in between, so that
// SkipTicks can take them at once; 0 when the next tick may have work. A
// periodic timer that would only re-arm itself (a probe with no peer
// suspected, a hint replay with no hint, a sync with nothing written
// since the last) does not end the span.
func (n *Node) IdleTicks() int64 {
	if n.transfer.leavePending() {
		return 0
	}
	due := min(n.suspicion.nextDue(n.route.nodes, n.id), n.coord.nextDue(),
		n.tombstones.nextDue(n.now), n.forwards.nextDue(), n.ae.nextDue())
	if n.suspicion.anySuspected(n.route.nodes) {
		due = min(due, n.timers.probe)
	}
	if n.cfg.HintedHandoff && n.hints.len() > 0 {
		due = min(due, n.timers.replay)
	}
	if n.state.unsynced {
		due = min(due, n.timers.sync)
	}
	if n.gossip.table != nil {
		due = min(due, n.gossip.next)
	}
	if n.cfg.RangeHandoff {
		due = min(due, n.transfer.nextDue())
	}
	return max(0, due-n.now-1)
}

// SkipTicks advances the node by k ticks at once, exactly as k calls to
// Tick would (the periodic syncs among them ask for one sync in Ready);
// k must not exceed IdleTicks.
func (n *Node) SkipTicks(k int64) {
	if n.skipTicks(k) > 0 {
		n.state.Sync()
	}
}

// skipTicks advances the node by k idle ticks and returns how many
// periodic syncs fell among them (each of them a sync of a store with
// nothing unsynced, which it leaves to the caller).
func (n *Node) skipTicks(k int64) int64 {
	if k <= 0 {
		return 0
	}
	end := n.now + k
	n.timers.probe, _ = rearm(n.timers.probe, end, n.cfg.ProbeIntervalTicks)
	n.timers.replay, _ = rearm(n.timers.replay, end, n.cfg.HintReplayIntervalTicks)
	var syncs int64
	n.timers.sync, syncs = rearm(n.timers.sync, end, n.cfg.SyncIntervalTicks)
	n.stats.Syncs += uint64(syncs)
	n.now = end
	n.coord.now = end
	return syncs
}

// rearm returns a periodic timer due at tick at, every iv ticks, as Tick
// leaves it after firing it at every due tick up to end, and how many
// times it fired.
func rearm(at, end int64, iv int) (int64, int64) {
	if at > end {
		return at, 0
	}
	fired := (end-at)/int64(iv) + 1
	return at + fired*int64(iv), fired
}

func (n *Node) sync() {
	n.state.Sync()
	n.stats.Syncs++
}

// Now returns the node's tick count in this incarnation.
func (n *Node) Now() int64 { return n.now }
