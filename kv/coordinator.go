package kv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-sim/faultline/internal/freelist"
	"github.com/faultline-sim/faultline/internal/idtable"
	"github.com/faultline-sim/faultline/sim"
)

// coordinator is the coordination of operations as a state machine of its
// own: the operations a node has in flight (its clients', those forwarded
// to it, and those it forwarded on), their quorum counting, read repair
// and blocking write-back, and their deadlines. Its inputs are method
// calls: a request to coordinate (submit, stepForward), a replica's write
// ack (stepWriteAck), read reply (stepReadReply), the reply to a forwarded
// request (stepForwardReply), and a tick (tick). Its outputs are the
// messages and client replies it appends to out and replies, in the order
// it made them (the node takes them with take and sends them), the ignore
// reasons it returns for replies nobody waits for, and the local applies
// it asks of its host. It knows its node only through host (coordHost):
// the ring's preference lists and fallbacks, failure beliefs, the local
// replica, the wall clock and the node's counter.
type coordinator struct {
	self  sim.NodeID
	cfg   *Config
	stats *Stats
	host  coordHost
	now   int64 // the node's tick count, as of the last tick

	ops   []*op              // active operations in creation order
	opIdx idtable.Table[*op] // lookup only, never iterated

	// retired are ops removed during the current input; take moves them
	// to free, whose ops newOp reuses. An op is reused only once the input
	// that removed it is over, so no caller still holds it.
	retired, free []*op
	pref          []sim.NodeID // scratch for preference lists and fallbacks
	fb            []sim.NodeID
	ts            []target // scratch for chooseTargets
	expired       []*op    // scratch for tick
	mem           arena    // the versions ops write and the values reads reply with

	out     []Envelope // messages to send, in order
	replies []Reply    // client replies, in order
}

// coordHost is what a coordinator needs of its node.
type coordHost interface {
	// preferenceList appends key's n home replicas, coordinator first,
	// to dst[:0] and returns the result.
	preferenceList(key string, n int, dst []sim.NodeID) ([]sim.NodeID, error)
	// fallbacks appends the ring's other nodes after key's n home
	// replicas, in preference order, to dst[:0] and returns the result.
	fallbacks(key string, n int, dst []sim.NodeID) []sim.NodeID
	// ringLen returns the number of ring members.
	ringLen() int
	// believedDown reports whether a node is believed unreachable.
	believedDown(id sim.NodeID) bool
	// applyWrite merges vs into the local replica (or a local hint for
	// hintFor when hinted) and returns a refusal.
	applyWrite(key string, vs []Version, hinted bool, hintFor sim.NodeID) error
	// checkReplica returns why the local replica must refuse key.
	checkReplica(key string, read bool) error
	// readLocal returns the local replica's versions of key (or of the
	// local hint for hintFor when hinted).
	readLocal(key string, hinted bool, hintFor sim.NodeID) []Version
	// localVersions returns everything the node holds for key.
	localVersions(key string) []Version
	// wall returns the node's wall clock, for LWW timestamps.
	wall() int64
	// next returns a fresh counter (op ids, dots).
	next() uint64
	// forget reports versions the node no longer keeps.
	forget(vs []Version)
}

// newCoordinator returns a coordinator with no operations.
func newCoordinator(self sim.NodeID, cfg *Config, stats *Stats, host coordHost) coordinator {
	return coordinator{self: self, cfg: cfg, stats: stats, host: host, opIdx: idtable.New[*op](), mem: newArena(decodeChunk)}
}

// take returns and clears the messages and client replies made so far;
// the slices are the coordinator's buffers, valid until its next input.
// The input is over, so the ops it removed can be reused.
func (c *coordinator) take() ([]Envelope, []Reply) {
	out, replies := c.out, c.replies
	c.out, c.replies = c.out[:0], c.replies[:0]
	c.free = append(c.free, c.retired...)
	clear(c.retired)
	c.retired = c.retired[:0]
	return out, replies
}

// send queues a message.
func (c *coordinator) send(to sim.NodeID, m Message) {
	c.out = append(c.out, Envelope{To: to, Msg: m})
}

// pending returns the number of active operations.
func (c *coordinator) pending() int { return len(c.ops) }

// tick advances the coordinator's clock to now and finishes the
// operations whose deadline has come, in creation order.
func (c *coordinator) tick(now int64) {
	c.now = now
	expired := c.expired[:0]
	for _, o := range c.ops {
		if o.deadline <= c.now {
			expired = append(expired, o)
		}
	}
	for _, o := range expired {
		c.finish(o)
	}
	clear(expired)
	c.expired = expired[:0]
}

// nextDue returns the first tick at which tick would finish an
// operation: the earliest deadline in flight (never if none).
func (c *coordinator) nextDue() int64 {
	due := never
	for _, o := range c.ops {
		due = min(due, o.deadline)
	}
	return due
}

// opKind is what an operation does.
type opKind uint8

const (
	opWrite opKind = iota + 1
	opRead
	opForward
)

// targetState is where one target of an operation is.
type targetState uint8

const (
	tPending targetState = iota
	tAcked               // write acknowledged
	tRefused             // write explicitly refused
	tReplied             // read answered
)

// target is one replica an operation talks to: a home replica, or a
// fallback standing in for home replica hintFor.
type target struct {
	node    sim.NodeID
	hinted  bool
	hintFor sim.NodeID
	state   targetState
	err     string
	vs      []Version // a read's reply
	holds   bool      // a blocking read knows it holds the result
	wbSent  bool      // a write-back or repair was sent
}

// readPhase is where a read is.
type readPhase uint8

const (
	phaseCollect   readPhase = iota // waiting for R replies
	phaseWriteBack                  // blocking repair: waiting for W holders
	phaseDone                       // replied; collecting late replies for async repair
)

// op is one operation this node coordinates (or forwarded).
type op struct {
	id       uint64
	kind     opKind
	req      Request
	key      string
	n, w, r  int
	deadline int64
	replied  bool

	// origin is set when another node forwarded the request here: the
	// reply goes back to it as a MsgForwardReply for its op originOp.
	origin    sim.NodeID
	originOp  uint64
	forwarded bool

	forwardTo sim.NodeID // opForward: the node coordinating it

	targets []target

	// writes
	versions []Version
	acks     int
	refused  int

	// reads
	phase   readPhase
	replies int
	result  []Version
	holders int
}

// pending counts the targets that have not answered.
func (o *op) pending() int {
	c := 0
	for _, t := range o.targets {
		if t.state == tPending {
			c++
		}
	}
	return c
}

// target returns the index of from among the targets, or -1.
func (o *op) target(from sim.NodeID) int {
	for i := range o.targets {
		if o.targets[i].node == from {
			return i
		}
	}
	return -1
}

// submit takes a client request: an invalid one is answered at once with
// a Fail reply whose Err says what to change; a valid one is coordinated.
func (c *coordinator) submit(req Request) {
	if err := c.validateRequest(req); err != nil {
		c.emit(Reply{ID: req.ID, Status: Fail, Err: err.Error(), Coordinator: c.self})
		return
	}
	c.coordinate(req, false, 0, 0)
}

// stepForward takes a request node from forwarded here (m.Req, its op
// m.Op there), which the node has checked is not a duplicate: an invalid
// one is answered with a Fail MsgForwardReply, a valid one coordinated
// and never forwarded again.
func (c *coordinator) stepForward(from sim.NodeID, m Message) {
	var req Request // a forward without one is the invalid zero request
	if m.Req != nil {
		req = *m.Req
	}
	if err := c.validateRequest(req); err != nil {
		c.send(from, Message{Type: MsgForwardReply, Op: m.Op,
			Reply: &Reply{ID: req.ID, Status: Fail, Err: err.Error(), Coordinator: c.self}})
		return
	}
	c.stats.CoordinatedForOthers++
	c.coordinate(req, true, from, m.Op)
}

// validateRequest checks a request before anything is sent.
func (c *coordinator) validateRequest(req Request) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
	}
	switch req.Op {
	case Get, Put, Delete:
	default:
		return bad("op %v: use Get, Put or Delete", req.Op)
	}
	if req.Key == "" {
		return bad("empty key")
	}
	if len(req.Key) > c.cfg.MaxKeyBytes {
		return bad("key of %d bytes exceeds MaxKeyBytes=%d", len(req.Key), c.cfg.MaxKeyBytes)
	}
	if len(req.Value) > c.cfg.MaxValueBytes {
		return bad("value of %d bytes exceeds MaxValueBytes=%d", len(req.Value), c.cfg.MaxValueBytes)
	}
	if req.Op != Put && len(req.Value) > 0 {
		return bad("a %v carries no value (got %d bytes)", req.Op, len(req.Value))
	}
	if req.Op == Get && len(req.Context) > 0 {
		return bad("a get takes no context")
	}
	if req.N < 0 || req.W < 0 || req.R < 0 {
		return bad("negative N/W/R override (N=%d W=%d R=%d); use 0 for the cluster default", req.N, req.W, req.R)
	}
	nn, w, r := c.quorum(req)
	if err := checkNWR(nn, w, r, c.host.ringLen()); err != nil {
		return bad("%v", err)
	}
	if _, err := DecodeContext(req.Key, req.Context); err != nil {
		return bad("%v", err)
	}
	return nil
}

// quorum returns the request's N, W, R with cluster defaults filled in.
func (c *coordinator) quorum(req Request) (int, int, int) {
	nn, w, r := c.cfg.N, c.cfg.W, c.cfg.R
	if req.N != 0 {
		nn = req.N
	}
	if req.W != 0 {
		w = req.W
	}
	if req.R != 0 {
		r = req.R
	}
	return nn, w, r
}

// newOp registers a new operation, with a fresh id, its deadline and a
// copy of targets. It reuses a retired op (and its targets' memory) when
// there is one.
func (c *coordinator) newOp(kind opKind, req Request, targets []target) *op {
	nn, w, r := c.quorum(req)
	o := freelist.Pop(&c.free)
	if o == nil {
		o = new(op)
	}
	ts := o.targets[:0]
	clear(ts[:cap(ts)]) // keep no old read reply alive in spare memory
	*o = op{
		id: c.host.next(), kind: kind, req: req, key: req.Key, n: nn, w: w, r: r,
		deadline: c.now + int64(c.cfg.RequestTimeoutTicks),
		targets:  append(ts, targets...),
	}
	c.ops = append(c.ops, o)
	c.opIdx.Put(o.id, o)
	return o
}

// coordinate starts a validated request. forwarded is true when another
// node (origin, its op originOp) forwarded it here; such a request is
// never forwarded again.
func (c *coordinator) coordinate(req Request, forwarded bool, origin sim.NodeID, originOp uint64) {
	nn, w, r := c.quorum(req)
	fail := func(why string) {
		c.emitTo(forwarded, origin, originOp, Reply{ID: req.ID, Status: Fail, Err: why, Coordinator: c.self})
	}
	pref, err := c.host.preferenceList(req.Key, nn, c.pref)
	c.pref = pref
	if err != nil {
		fail(fmt.Sprintf("%v: no preference list for N=%d: %v", ErrUnavailable, nn, err))
		return
	}
	targets := c.chooseTargets(req.Key, pref, nn)
	need, what := w, "W"
	if req.Op == Get {
		need, what = r, "R"
	}
	reachable := 0
	for _, t := range targets {
		if !c.host.believedDown(t.node) {
			reachable++
		}
	}
	if reachable < need {
		fail(unreachableText(reachable, nn, req.Key, c.cfg.Quorum, what, need))
		return
	}
	if !forwarded {
		if to, ok := c.forwardTarget(req, pref, targets); ok {
			o := c.newOp(opForward, req, nil)
			o.forwardTo = to
			o.deadline = c.now + 2*int64(c.cfg.RequestTimeoutTicks)
			c.stats.Forwarded++
			c.send(to, Message{Type: MsgForward, Op: o.id, Key: req.Key, Req: new(req)}) // a copy: &req would move req to the heap on every call
			return
		}
	}
	kind := opWrite
	if req.Op == Get {
		kind = opRead
	}
	o := c.newOp(kind, req, targets)
	o.forwarded, o.origin, o.originOp = forwarded, origin, originOp
	if kind == opRead {
		c.startRead(o)
	} else {
		c.startWrite(o)
	}
}

// unreachableText is the error of a request refused because fewer than
// need of its key's nn replicas are believed reachable: the text of
//
//	fmt.Errorf("%w: %d of %d replicas of %q believed reachable (%v quorum), need %s=%d; nothing was sent",
//		ErrUnavailable, reachable, nn, key, quorum, what, need)
//
// built without fmt, in one allocation (the string; the bytes are built on
// the stack unless the key is long): under a partition most requests of a
// run may end here.
func unreachableText(reachable, nn int, key string, quorum QuorumMode, what string, need int) string {
	var buf [192]byte
	b := buf[:0]
	b = append(b, ErrUnavailable.Error()...)
	b = append(b, ": "...)
	b = strconv.AppendInt(b, int64(reachable), 10)
	b = append(b, " of "...)
	b = strconv.AppendInt(b, int64(nn), 10)
	b = append(b, " replicas of "...)
	b = strconv.AppendQuote(b, key)
	b = append(b, " believed reachable ("...)
	b = append(b, quorum.String()...)
	b = append(b, " quorum), need "...)
	b = append(b, what...)
	b = append(b, '=')
	b = strconv.AppendInt(b, int64(need), 10)
	b = append(b, "; nothing was sent"...)
	return string(b)
}

// chooseTargets returns the replicas an operation talks to. Strict: the N
// home replicas. Sloppy: each home replica believed reachable, and for each
// suspected one the next fallback believed reachable (or the suspected home
// replica itself when the ring has no fallback left). The result is the
// coordinator's scratch, valid until the next call.
func (c *coordinator) chooseTargets(key string, pref []sim.NodeID, nn int) []target {
	ts := c.ts[:0]
	if c.cfg.Quorum == Strict {
		for _, p := range pref {
			ts = append(ts, target{node: p})
		}
		c.ts = ts
		return ts
	}
	var fb []sim.NodeID
	fetched, fi := false, 0
	for _, p := range pref {
		if !c.host.believedDown(p) {
			ts = append(ts, target{node: p})
			continue
		}
		if !fetched {
			fetched = true
			fb = c.host.fallbacks(key, nn, c.fb)
			c.fb = fb
		}
		for fi < len(fb) && c.host.believedDown(fb[fi]) {
			fi++
		}
		if fi < len(fb) {
			ts = append(ts, target{node: fb[fi], hinted: true, hintFor: p})
			fi++
			continue
		}
		ts = append(ts, target{node: p})
	}
	c.ts = ts
	return ts
}

// forwardTarget says whether to forward req and to whom: vector-clock
// writes go to a replica (the first target believed reachable) unless this
// node is one; with ForwardToPreferred, requests go to the first home
// replica believed reachable unless this node is a home replica.
func (c *coordinator) forwardTarget(req Request, pref []sim.NodeID, targets []target) (sim.NodeID, bool) {
	if c.cfg.Resolve == VectorClock && req.Op != Get {
		for _, t := range targets {
			if t.node == c.self {
				return 0, false
			}
		}
		for _, t := range targets {
			if !c.host.believedDown(t.node) {
				return t.node, true
			}
		}
		return 0, false
	}
	if c.cfg.ForwardToPreferred && !slices.Contains(pref, c.self) {
		for _, p := range pref {
			if !c.host.believedDown(p) {
				return p, true
			}
		}
	}
	return 0, false
}

// startWrite builds the new version and sends it to every target.
func (c *coordinator) startWrite(o *op) {
	ctx, _ := DecodeContext(o.key, o.req.Context) // validated already
	v := Version{
		Value:     o.req.Value,
		Tombstone: o.req.Op == Delete,
		Timestamp: c.host.wall(),
		Dot:       Dot{Node: c.self, Counter: c.host.next()},
	}
	if v.Tombstone {
		v.Value = nil
	}
	if c.cfg.Resolve == VectorClock {
		v.Context = ctx
		// The coordinator is a replica: its local versions travel with the
		// new one, so every replica that learns this dot also learns the
		// earlier dots of this node for the key (the DVV invariant).
		o.versions = reconcile(VectorClock, c.host.localVersions(o.key), []Version{v})
		if len(o.versions) > c.cfg.MaxSiblings {
			c.reply(o, Reply{Status: Fail, Err: fmt.Sprintf("%v: the write would leave %d versions of %q (MaxSiblings=%d); read it and write with its context to merge",
				ErrTooManySiblings, len(o.versions), o.key, c.cfg.MaxSiblings)})
			c.remove(o)
			return
		}
	} else {
		o.versions = c.mem.newVersions(1)
		o.versions[0] = v
	}
	keptLocally := false
	for i := range o.targets {
		t := &o.targets[i]
		if t.node == c.self {
			err := c.host.applyWrite(o.key, o.versions, t.hinted, t.hintFor)
			keptLocally = err == nil
			c.onWriteResult(o, i, err)
			continue
		}
		c.send(t.node, Message{Type: MsgWrite, Op: o.id, Key: o.key, Versions: o.versions, Hinted: t.hinted, HintFor: t.hintFor})
	}
	if !keptLocally {
		// A coordinator that does not keep its own new dot (it is not a
		// replica in its own view, or its copy was refused) has forgotten it.
		c.host.forget(o.versions)
	}
}

// done reports whether the op was removed.
func (o *op) done() bool { return o.deadline < 0 }

// onWriteResult records a target's acknowledgement (err == nil) or
// refusal and answers the client once the outcome is decided.
func (c *coordinator) onWriteResult(o *op, i int, err error) {
	t := &o.targets[i]
	if err == nil {
		t.state = tAcked
		o.acks++
	} else {
		t.state, t.err = tRefused, err.Error()
		o.refused++
	}
	pending := o.pending()
	if !o.replied {
		switch {
		case o.acks >= o.w:
			c.reply(o, Reply{Status: OK})
		case o.acks+pending < o.w && pending == 0 && o.acks == 0:
			c.reply(o, Reply{Status: Fail, Err: "every replica refused the write: " + o.refusals()})
		case o.acks+pending < o.w && o.acks > 0:
			c.reply(o, Reply{Status: Info, Err: fmt.Sprintf("only %d of W=%d replicas acknowledged (refused: %s); the write may survive on those %d",
				o.acks, o.w, o.refusals(), o.acks)})
		}
	}
	c.maybeFinish(o)
}

// maybeFinish ends an op once nothing more it waits for can arrive.
func (c *coordinator) maybeFinish(o *op) {
	if o.done() || o.pending() > 0 {
		return
	}
	if o.kind == opRead && (o.phase == phaseWriteBack || o.writeBacksPending()) {
		return
	}
	c.finish(o)
}

// refusals lists the targets that refused, with their reasons.
func (o *op) refusals() string {
	var parts []string
	for _, t := range o.targets {
		if t.state == tRefused {
			parts = append(parts, fmt.Sprintf("%v: %s", t.node, t.err))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// startRead asks every target for its versions.
func (c *coordinator) startRead(o *op) {
	for i := range o.targets {
		t := &o.targets[i]
		if t.node == c.self {
			if !t.hinted || t.hintFor == c.self {
				if err := c.host.checkReplica(o.key, true); err != nil {
					c.onReadRefused(o, i, err.Error())
					if o.done() {
						return
					}
					continue
				}
			}
			c.onReadReply(o, i, c.host.readLocal(o.key, t.hinted, t.hintFor))
			if o.done() {
				return
			}
			continue
		}
		c.send(t.node, Message{Type: MsgRead, Op: o.id, Key: o.key, Hinted: t.hinted, HintFor: t.hintFor})
	}
}

// onReadReply records a target's versions and drives the read: reconcile
// after R replies, then reply (off, async) or write back (blocking).
func (c *coordinator) onReadReply(o *op, i int, vs []Version) {
	t := &o.targets[i]
	t.state, t.vs = tReplied, vs
	o.replies++
	switch o.phase {
	case phaseCollect:
		if o.replies < o.r {
			break
		}
		for _, u := range o.targets {
			if u.state == tReplied {
				o.result = reconcile(c.cfg.Resolve, o.result, u.vs)
			}
		}
		// Nothing found needs no write-back: every replica "holds" it.
		if c.cfg.ReadRepair != RepairBlocking || len(o.result) == 0 {
			o.phase = phaseDone
			c.reply(o, c.readResult(o.key, o.result))
			break
		}
		o.phase = phaseWriteBack
		for j := range o.targets {
			u := &o.targets[j]
			if u.state == tReplied && covers(c.cfg.Resolve, u.vs, o.result) {
				u.holds = true
				o.holders++
			}
		}
		if o.holders >= o.w {
			o.phase = phaseDone
			c.reply(o, c.readResult(o.key, o.result))
			break
		}
		// Mark every write-back before sending any, so a local write-back
		// that completes the quorum cannot end the op half way.
		for j := range o.targets {
			o.targets[j].wbSent = !o.targets[j].holds
		}
		for j := range o.targets {
			if o.targets[j].wbSent {
				c.sendRepair(o, j, o.result, o.id)
			}
		}
	case phaseWriteBack:
		if !t.holds && covers(c.cfg.Resolve, vs, o.result) {
			t.holds = true
			c.onHolder(o)
		}
	}
	c.maybeFinish(o)
}

// onReadRefused records a target that refused a read (it is not a full
// replica of the key in its own ring). A read that can no longer collect R
// replies fails: a read has no effect, so nothing is unknown.
func (c *coordinator) onReadRefused(o *op, i int, reason string) {
	t := &o.targets[i]
	t.state, t.err = tRefused, reason
	o.refused++
	if o.phase == phaseCollect && !o.replied && o.replies+o.pending() < o.r {
		c.reply(o, Reply{Status: Fail, Err: fmt.Sprintf("only %d of R=%d replicas can answer (refused: %s)", o.replies+o.pending(), o.r, o.refusals())})
	}
	c.maybeFinish(o)
}

// onHolder counts one more replica known to hold a blocking read's result.
func (c *coordinator) onHolder(o *op) {
	o.holders++
	if o.phase == phaseWriteBack && o.holders >= o.w {
		o.phase = phaseDone
		c.reply(o, c.readResult(o.key, o.result))
	}
	c.maybeFinish(o)
}

// writeBacksPending reports whether a write-back awaits its ack.
func (o *op) writeBacksPending() bool {
	for _, t := range o.targets {
		if t.wbSent && !t.holds {
			return true
		}
	}
	return false
}

// sendRepair writes vs to target j (a write-back for a blocking read when
// opID is the read's id, a fire-and-forget read repair when opID is 0).
func (c *coordinator) sendRepair(o *op, j int, vs []Version, opID uint64) {
	t := &o.targets[j]
	t.wbSent = true
	c.stats.ReadRepairs++
	if t.node == c.self {
		err := c.host.applyWrite(o.key, vs, t.hinted, t.hintFor)
		if opID != 0 && err == nil && !t.holds {
			t.holds = true
			c.onHolder(o)
		}
		return
	}
	c.send(t.node, Message{Type: MsgWrite, Op: opID, Key: o.key, Versions: vs, Hinted: t.hinted, HintFor: t.hintFor, Repair: true})
}

// onWriteBackAck records the acknowledgement of a blocking write-back.
func (c *coordinator) onWriteBackAck(o *op, i int, refused bool) {
	t := &o.targets[i]
	if refused || t.holds {
		return
	}
	t.holds = true
	c.onHolder(o)
}

// readResult turns reconciled versions into a client reply.
func (c *coordinator) readResult(key string, vs []Version) Reply {
	rep := Reply{Status: OK}
	live := 0
	for _, v := range vs {
		if !v.Tombstone {
			live++
		}
	}
	rep.Values = c.mem.newValues(live)
	for _, v := range vs {
		if !v.Tombstone {
			rep.Values = append(rep.Values, v.Value)
		}
	}
	rep.Found = len(rep.Values) > 0
	if c.cfg.Resolve == VectorClock && len(vs) > 0 {
		rep.Context = EncodeContext(key, joinClocks(vs))
	}
	return rep
}

// reply answers the op's client (or forwarding node) once.
func (c *coordinator) reply(o *op, rep Reply) {
	if o.replied {
		return
	}
	o.replied = true
	rep.ID = o.req.ID
	if o.kind != opForward {
		rep.Coordinator = c.self
	}
	c.emitTo(o.forwarded, o.origin, o.originOp, rep)
}

// emitTo sends a reply to the client, or back to the node that forwarded
// the request.
func (c *coordinator) emitTo(forwarded bool, origin sim.NodeID, originOp uint64, rep Reply) {
	if forwarded {
		c.send(origin, Message{Type: MsgForwardReply, Op: originOp, Reply: new(rep)}) // a copy, as in coordinate
		return
	}
	c.emit(rep)
}

func (c *coordinator) emit(rep Reply) {
	switch rep.Status {
	case OK:
		c.stats.RepliesOK++
	case Fail:
		c.stats.RepliesFail++
	case Info:
		c.stats.RepliesInfo++
	}
	c.replies = append(c.replies, rep)
}

// finish ends an op: at its deadline or once nothing more can arrive. An
// unanswered op answers Info; an async read repairs stale replicas; a
// strict-quorum write with hinted handoff keeps hints for home replicas
// that did not acknowledge.
func (c *coordinator) finish(o *op) {
	if o.done() {
		return
	}
	switch o.kind {
	case opWrite:
		if !o.replied {
			c.reply(o, Reply{Status: Info, Err: fmt.Sprintf("deadline after %d ticks: %d of W=%d acks, %d refused, %d unanswered; the write may have been applied",
				c.cfg.RequestTimeoutTicks, o.acks, o.w, o.refused, o.pending())})
		}
		if c.cfg.Quorum == Strict && c.cfg.HintedHandoff {
			for _, t := range o.targets {
				if t.state == tPending && t.node != c.self {
					c.coordinatorHint(t.node, o.key, o.versions)
				}
			}
		}
	case opRead:
		if !o.replied {
			msg := fmt.Sprintf("deadline after %d ticks: %d of R=%d replies", c.cfg.RequestTimeoutTicks, o.replies, o.r)
			if o.phase == phaseWriteBack {
				msg = fmt.Sprintf("deadline after %d ticks: the write-back reached %d of W=%d replicas", c.cfg.RequestTimeoutTicks, o.holders, o.w)
			}
			c.reply(o, Reply{Status: Info, Err: msg})
		}
		if c.cfg.ReadRepair == RepairAsync && o.replies > 0 {
			var all []Version
			for _, t := range o.targets {
				if t.state == tReplied {
					all = reconcile(c.cfg.Resolve, all, t.vs)
				}
			}
			for j := range o.targets {
				if t := o.targets[j]; t.state == tReplied && !covers(c.cfg.Resolve, t.vs, all) {
					c.sendRepair(o, j, all, 0)
				}
			}
		}
	case opForward:
		if !o.replied {
			c.reply(o, Reply{Status: Info, Coordinator: c.self, Err: fmt.Sprintf("no reply from %v, which coordinates the request, within %d ticks",
				o.forwardTo, 2*c.cfg.RequestTimeoutTicks)})
		}
	}
	c.remove(o)
}

// remove drops a finished op and retires it for reuse (see take).
func (c *coordinator) remove(o *op) {
	o.deadline = -1
	c.opIdx.Delete(o.id)
	if i := slices.Index(c.ops, o); i >= 0 {
		c.ops = slices.Delete(c.ops, i, i+1)
		c.retired = append(c.retired, o)
	}
}

// stepWriteAck routes a write acknowledgement (or refusal) to the op
// waiting for it: a write's ack, or a blocking read's write-back ack. It
// returns why the ack is ignored, or ignoreNone.
func (c *coordinator) stepWriteAck(from sim.NodeID, m Message) ignoreReason {
	if m.Op == 0 {
		return ignoreNone // an asynchronous read repair: nobody waits for it
	}
	o, _ := c.opIdx.Get(m.Op)
	if o == nil || o.kind == opForward {
		return ignoreUnknownOp
	}
	i := o.target(from)
	if i < 0 {
		return ignoreUnexpected
	}
	switch o.kind {
	case opWrite:
		if o.targets[i].state != tPending {
			return ignoreUnexpected
		}
		var err error
		if m.Refused {
			err = fmt.Errorf("%s", m.Err)
		}
		c.onWriteResult(o, i, err)
	case opRead:
		if !o.targets[i].wbSent {
			return ignoreUnexpected
		}
		c.onWriteBackAck(o, i, m.Refused)
	}
	return ignoreNone
}

// stepReadReply routes a read reply (or refusal) to the read waiting for
// it. It returns why the reply is ignored, or ignoreNone.
func (c *coordinator) stepReadReply(from sim.NodeID, m Message) ignoreReason {
	o, _ := c.opIdx.Get(m.Op)
	if o == nil || o.kind != opRead {
		return ignoreUnknownOp
	}
	i := o.target(from)
	if i < 0 || o.targets[i].state != tPending {
		return ignoreUnexpected
	}
	if m.Refused {
		c.onReadRefused(o, i, m.Err)
		return ignoreNone
	}
	c.onReadReply(o, i, m.Versions)
	return ignoreNone
}

// stepForwardReply takes the reply of the node a request was forwarded
// to, answers the client with it and ends the forwarding op. It returns
// why the reply is ignored, or ignoreNone.
func (c *coordinator) stepForwardReply(from sim.NodeID, m Message) ignoreReason {
	o, _ := c.opIdx.Get(m.Op)
	if o == nil || o.kind != opForward {
		return ignoreUnknownOp
	}
	if o.forwardTo != from {
		return ignoreUnexpected
	}
	var rep Reply // a reply without one is the zero reply, as a zero field decodes
	if m.Reply != nil {
		rep = *m.Reply
	}
	c.reply(o, rep)
	c.finish(o)
	return ignoreNone
}

// coordinatorHint keeps a hint for a home replica that did not
// acknowledge a strict-quorum write (HintedHandoff on).
func (c *coordinator) coordinatorHint(owner sim.NodeID, key string, vs []Version) {
	if err := c.host.applyWrite(key, vs, true, owner); err == nil {
		c.stats.CoordinatorHints++
	}
}
