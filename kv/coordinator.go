package kv

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/sim"
)

type opKind uint8

const (
	opWrite opKind = iota + 1
	opRead
	opForward
)

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

func (o *op) pending() int {
	c := 0
	for _, t := range o.targets {
		if t.state == tPending {
			c++
		}
	}
	return c
}

func (o *op) target(from sim.NodeID) int {
	for i := range o.targets {
		if o.targets[i].node == from {
			return i
		}
	}
	return -1
}

// Submit hands the node a client request to coordinate. Invalid requests
// are answered at once with a Fail reply whose Err says what to change.
func (n *Node) Submit(req Request) {
	n.stats.Submitted++
	if err := n.validateRequest(req); err != nil {
		n.emit(Reply{ID: req.ID, Status: Fail, Err: err.Error(), Coordinator: n.id})
		return
	}
	n.coordinate(req, false, 0, 0)
}

// validateRequest checks a request before anything is sent.
func (n *Node) validateRequest(req Request) error {
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
	if len(req.Key) > n.cfg.MaxKeyBytes {
		return bad("key of %d bytes exceeds MaxKeyBytes=%d", len(req.Key), n.cfg.MaxKeyBytes)
	}
	if len(req.Value) > n.cfg.MaxValueBytes {
		return bad("value of %d bytes exceeds MaxValueBytes=%d", len(req.Value), n.cfg.MaxValueBytes)
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
	nn, w, r := n.quorum(req)
	if err := checkNWR(nn, w, r, n.ring.Len()); err != nil {
		return bad("%v", err)
	}
	if _, err := DecodeContext(req.Key, req.Context); err != nil {
		return bad("%v", err)
	}
	return nil
}

// quorum returns the request's N, W, R with cluster defaults filled in.
func (n *Node) quorum(req Request) (int, int, int) {
	nn, w, r := n.cfg.N, n.cfg.W, n.cfg.R
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

func (n *Node) newOp(kind opKind, req Request) *op {
	nn, w, r := n.quorum(req)
	o := &op{
		id: n.next(), kind: kind, req: req, key: req.Key, n: nn, w: w, r: r,
		deadline: n.now + int64(n.cfg.RequestTimeoutTicks),
	}
	n.ops = append(n.ops, o)
	n.opIdx[o.id] = o
	return o
}

// coordinate starts a validated request. forwarded is true when another
// node (origin, its op originOp) forwarded it here; such a request is
// never forwarded again.
func (n *Node) coordinate(req Request, forwarded bool, origin sim.NodeID, originOp uint64) {
	nn, w, r := n.quorum(req)
	fail := func(err error) {
		n.emitTo(forwarded, origin, originOp, Reply{ID: req.ID, Status: Fail, Err: err.Error(), Coordinator: n.id})
	}
	pref, err := n.ring.PreferenceList(req.Key, nn, make([]sim.NodeID, 0, nn))
	if err != nil {
		fail(fmt.Errorf("%w: no preference list for N=%d: %v", ErrUnavailable, nn, err))
		return
	}
	targets := n.chooseTargets(req.Key, pref, nn)
	need, what := w, "W"
	if req.Op == Get {
		need, what = r, "R"
	}
	reachable := 0
	for _, t := range targets {
		if !n.believedDown(t.node) {
			reachable++
		}
	}
	if reachable < need {
		fail(fmt.Errorf("%w: %d of %d replicas of %q believed reachable (%v quorum), need %s=%d; nothing was sent",
			ErrUnavailable, reachable, nn, req.Key, n.cfg.Quorum, what, need))
		return
	}
	if !forwarded {
		if to, ok := n.forwardTarget(req, pref, targets); ok {
			o := n.newOp(opForward, req)
			o.forwardTo = to
			o.deadline = n.now + 2*int64(n.cfg.RequestTimeoutTicks)
			n.stats.Forwarded++
			n.send(to, Message{Type: MsgForward, Op: o.id, Key: req.Key, Req: req})
			return
		}
	}
	kind := opWrite
	if req.Op == Get {
		kind = opRead
	}
	o := n.newOp(kind, req)
	o.forwarded, o.origin, o.originOp = forwarded, origin, originOp
	o.targets = targets
	if kind == opRead {
		n.startRead(o)
	} else {
		n.startWrite(o)
	}
}

// chooseTargets returns the replicas an operation talks to. Strict: the N
// home replicas. Sloppy: each home replica believed reachable, and for each
// suspected one the next fallback believed reachable (or the suspected home
// replica itself when the ring has no fallback left).
func (n *Node) chooseTargets(key string, pref []sim.NodeID, nn int) []target {
	ts := make([]target, 0, len(pref))
	if n.cfg.Quorum == Strict {
		for _, p := range pref {
			ts = append(ts, target{node: p})
		}
		return ts
	}
	var fb []sim.NodeID
	fetched, fi := false, 0
	for _, p := range pref {
		if !n.believedDown(p) {
			ts = append(ts, target{node: p})
			continue
		}
		if !fetched {
			fetched = true
			fb, _ = n.ring.Fallbacks(key, nn, n.ring.Len()-nn, nil)
		}
		for fi < len(fb) && n.believedDown(fb[fi]) {
			fi++
		}
		if fi < len(fb) {
			ts = append(ts, target{node: fb[fi], hinted: true, hintFor: p})
			fi++
			continue
		}
		ts = append(ts, target{node: p})
	}
	return ts
}

// forwardTarget says whether to forward req and to whom: vector-clock
// writes go to a replica (the first target believed reachable) unless this
// node is one; with ForwardToPreferred, requests go to the first home
// replica believed reachable unless this node is a home replica.
func (n *Node) forwardTarget(req Request, pref []sim.NodeID, targets []target) (sim.NodeID, bool) {
	if n.cfg.Resolve == VectorClock && req.Op != Get {
		for _, t := range targets {
			if t.node == n.id {
				return 0, false
			}
		}
		for _, t := range targets {
			if !n.believedDown(t.node) {
				return t.node, true
			}
		}
		return 0, false
	}
	if n.cfg.ForwardToPreferred && !slices.Contains(pref, n.id) {
		for _, p := range pref {
			if !n.believedDown(p) {
				return p, true
			}
		}
	}
	return 0, false
}

// startWrite builds the new version and sends it to every target.
func (n *Node) startWrite(o *op) {
	ctx, _ := DecodeContext(o.key, o.req.Context) // validated already
	v := Version{
		Value:     o.req.Value,
		Tombstone: o.req.Op == Delete,
		Timestamp: n.wall(),
		Dot:       Dot{Node: n.id, Counter: n.next()},
	}
	if v.Tombstone {
		v.Value = nil
	}
	if n.cfg.Resolve == VectorClock {
		v.Context = ctx
		// The coordinator is a replica: its local versions travel with the
		// new one, so every replica that learns this dot also learns the
		// earlier dots of this node for the key (the DVV invariant).
		o.versions = reconcile(VectorClock, n.localVersions(o.key), []Version{v})
		if len(o.versions) > n.cfg.MaxSiblings {
			n.reply(o, Reply{Status: Fail, Err: fmt.Sprintf("%v: the write would leave %d versions of %q (MaxSiblings=%d); read it and write with its context to merge",
				ErrTooManySiblings, len(o.versions), o.key, n.cfg.MaxSiblings)})
			n.remove(o)
			return
		}
	} else {
		o.versions = []Version{v}
	}
	keptLocally := false
	for i := range o.targets {
		t := &o.targets[i]
		if t.node == n.id {
			err := n.applyWrite(o.key, o.versions, t.hinted, t.hintFor)
			keptLocally = err == nil
			n.onWriteResult(o, i, err)
			continue
		}
		n.send(t.node, Message{Type: MsgWrite, Op: o.id, Key: o.key, Versions: o.versions, Hinted: t.hinted, HintFor: t.hintFor})
	}
	if !keptLocally {
		// A coordinator that does not keep its own new dot (it is not a
		// replica in its own view, or its copy was refused) has forgotten it.
		n.forget(o.versions)
	}
}

// localVersions returns everything this node holds for key: its data and
// any hints for the key.
func (n *Node) localVersions(key string) []Version {
	vs, _ := n.state.Get(key)
	for _, owner := range n.nodes {
		if h, ok := n.state.Hint(owner, key); ok {
			vs = reconcile(n.cfg.Resolve, vs, h.Versions)
		}
	}
	return vs
}

// done reports whether the op was removed.
func (o *op) done() bool { return o.deadline < 0 }

// onWriteResult records a target's acknowledgement (err == nil) or
// refusal and answers the client once the outcome is decided.
func (n *Node) onWriteResult(o *op, i int, err error) {
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
			n.reply(o, Reply{Status: OK})
		case o.acks+pending < o.w && pending == 0 && o.acks == 0:
			n.reply(o, Reply{Status: Fail, Err: "every replica refused the write: " + o.refusals()})
		case o.acks+pending < o.w && o.acks > 0:
			n.reply(o, Reply{Status: Info, Err: fmt.Sprintf("only %d of W=%d replicas acknowledged (refused: %s); the write may survive on those %d",
				o.acks, o.w, o.refusals(), o.acks)})
		}
	}
	n.maybeFinish(o)
}

// maybeFinish ends an op once nothing more it waits for can arrive.
func (n *Node) maybeFinish(o *op) {
	if o.done() || o.pending() > 0 {
		return
	}
	if o.kind == opRead && (o.phase == phaseWriteBack || o.writeBacksPending()) {
		return
	}
	n.finish(o)
}

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
func (n *Node) startRead(o *op) {
	for i := range o.targets {
		t := &o.targets[i]
		if t.node == n.id {
			if !t.hinted || t.hintFor == n.id {
				if err := n.checkReplica(o.key, true); err != nil {
					n.onReadRefused(o, i, err.Error())
					if o.done() {
						return
					}
					continue
				}
			}
			n.onReadReply(o, i, n.readLocal(o.key, t.hinted, t.hintFor))
			if o.done() {
				return
			}
			continue
		}
		n.send(t.node, Message{Type: MsgRead, Op: o.id, Key: o.key, Hinted: t.hinted, HintFor: t.hintFor})
	}
}

// onReadReply records a target's versions and drives the read: reconcile
// after R replies, then reply (off, async) or write back (blocking).
func (n *Node) onReadReply(o *op, i int, vs []Version) {
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
				o.result = reconcile(n.cfg.Resolve, o.result, u.vs)
			}
		}
		// Nothing found needs no write-back: every replica "holds" it.
		if n.cfg.ReadRepair != RepairBlocking || len(o.result) == 0 {
			o.phase = phaseDone
			n.reply(o, n.readResult(o.key, o.result))
			break
		}
		o.phase = phaseWriteBack
		for j := range o.targets {
			u := &o.targets[j]
			if u.state == tReplied && covers(n.cfg.Resolve, u.vs, o.result) {
				u.holds = true
				o.holders++
			}
		}
		if o.holders >= o.w {
			o.phase = phaseDone
			n.reply(o, n.readResult(o.key, o.result))
			break
		}
		// Mark every write-back before sending any, so a local write-back
		// that completes the quorum cannot end the op half way.
		for j := range o.targets {
			o.targets[j].wbSent = !o.targets[j].holds
		}
		for j := range o.targets {
			if o.targets[j].wbSent {
				n.sendRepair(o, j, o.result, o.id)
			}
		}
	case phaseWriteBack:
		if !t.holds && covers(n.cfg.Resolve, vs, o.result) {
			t.holds = true
			n.onHolder(o)
		}
	}
	n.maybeFinish(o)
}

// onReadRefused records a target that refused a read (it is not a full
// replica of the key in its own ring). A read that can no longer collect R
// replies fails: a read has no effect, so nothing is unknown.
func (n *Node) onReadRefused(o *op, i int, reason string) {
	t := &o.targets[i]
	t.state, t.err = tRefused, reason
	o.refused++
	if o.phase == phaseCollect && !o.replied && o.replies+o.pending() < o.r {
		n.reply(o, Reply{Status: Fail, Err: fmt.Sprintf("only %d of R=%d replicas can answer (refused: %s)", o.replies+o.pending(), o.r, o.refusals())})
	}
	n.maybeFinish(o)
}

// onHolder counts one more replica known to hold a blocking read's result.
func (n *Node) onHolder(o *op) {
	o.holders++
	if o.phase == phaseWriteBack && o.holders >= o.w {
		o.phase = phaseDone
		n.reply(o, n.readResult(o.key, o.result))
	}
	n.maybeFinish(o)
}

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
func (n *Node) sendRepair(o *op, j int, vs []Version, opID uint64) {
	t := &o.targets[j]
	t.wbSent = true
	n.stats.ReadRepairs++
	if t.node == n.id {
		err := n.applyWrite(o.key, vs, t.hinted, t.hintFor)
		if opID != 0 && err == nil && !t.holds {
			t.holds = true
			n.onHolder(o)
		}
		return
	}
	n.send(t.node, Message{Type: MsgWrite, Op: opID, Key: o.key, Versions: vs, Hinted: t.hinted, HintFor: t.hintFor, Repair: true})
}

// onWriteBackAck records the acknowledgement of a blocking write-back.
func (n *Node) onWriteBackAck(o *op, i int, refused bool) {
	t := &o.targets[i]
	if refused || t.holds {
		return
	}
	t.holds = true
	n.onHolder(o)
}

// readResult turns reconciled versions into a client reply.
func (n *Node) readResult(key string, vs []Version) Reply {
	rep := Reply{Status: OK}
	for _, v := range vs {
		if !v.Tombstone {
			rep.Values = append(rep.Values, v.Value)
		}
	}
	rep.Found = len(rep.Values) > 0
	if n.cfg.Resolve == VectorClock && len(vs) > 0 {
		rep.Context = EncodeContext(key, joinClocks(vs))
	}
	return rep
}

// reply answers the op's client (or forwarding node) once.
func (n *Node) reply(o *op, rep Reply) {
	if o.replied {
		return
	}
	o.replied = true
	rep.ID = o.req.ID
	if o.kind != opForward {
		rep.Coordinator = n.id
	}
	n.emitTo(o.forwarded, o.origin, o.originOp, rep)
}

// emitTo sends a reply to the client, or back to the node that forwarded
// the request.
func (n *Node) emitTo(forwarded bool, origin sim.NodeID, originOp uint64, rep Reply) {
	if forwarded {
		n.send(origin, Message{Type: MsgForwardReply, Op: originOp, Reply: rep})
		return
	}
	n.emit(rep)
}

func (n *Node) emit(rep Reply) {
	switch rep.Status {
	case OK:
		n.stats.RepliesOK++
	case Fail:
		n.stats.RepliesFail++
	case Info:
		n.stats.RepliesInfo++
	}
	n.replies = append(n.replies, rep)
}

// finish ends an op: at its deadline or once nothing more can arrive. An
// unanswered op answers Info; an async read repairs stale replicas; a
// strict-quorum write with hinted handoff keeps hints for home replicas
// that did not acknowledge.
func (n *Node) finish(o *op) {
	if o.done() {
		return
	}
	switch o.kind {
	case opWrite:
		if !o.replied {
			n.reply(o, Reply{Status: Info, Err: fmt.Sprintf("deadline after %d ticks: %d of W=%d acks, %d refused, %d unanswered; the write may have been applied",
				n.cfg.RequestTimeoutTicks, o.acks, o.w, o.refused, o.pending())})
		}
		if n.cfg.Quorum == Strict && n.cfg.HintedHandoff {
			for _, t := range o.targets {
				if t.state == tPending && t.node != n.id {
					n.coordinatorHint(t.node, o.key, o.versions)
				}
			}
		}
	case opRead:
		if !o.replied {
			msg := fmt.Sprintf("deadline after %d ticks: %d of R=%d replies", n.cfg.RequestTimeoutTicks, o.replies, o.r)
			if o.phase == phaseWriteBack {
				msg = fmt.Sprintf("deadline after %d ticks: the write-back reached %d of W=%d replicas", n.cfg.RequestTimeoutTicks, o.holders, o.w)
			}
			n.reply(o, Reply{Status: Info, Err: msg})
		}
		if n.cfg.ReadRepair == RepairAsync && o.replies > 0 {
			var all []Version
			for _, t := range o.targets {
				if t.state == tReplied {
					all = reconcile(n.cfg.Resolve, all, t.vs)
				}
			}
			for j := range o.targets {
				if t := o.targets[j]; t.state == tReplied && !covers(n.cfg.Resolve, t.vs, all) {
					n.sendRepair(o, j, all, 0)
				}
			}
		}
	case opForward:
		if !o.replied {
			n.reply(o, Reply{Status: Info, Coordinator: n.id, Err: fmt.Sprintf("no reply from %v, which coordinates the request, within %d ticks",
				o.forwardTo, 2*n.cfg.RequestTimeoutTicks)})
		}
	}
	n.remove(o)
}

// remove drops a finished op.
func (n *Node) remove(o *op) {
	o.deadline = -1
	delete(n.opIdx, o.id)
	if i := slices.Index(n.ops, o); i >= 0 {
		n.ops = slices.Delete(n.ops, i, i+1)
	}
}

// Pending returns the number of operations this node is coordinating or
// waiting on.
func (n *Node) Pending() int { return len(n.ops) }
