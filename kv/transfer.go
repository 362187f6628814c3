package kv

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// Bounds on handoff work in flight.
const (
	// maxPulls bounds the streams a node pulls at once.
	maxPulls = 8
	// maxServing bounds the streams a node serves at once; a request
	// beyond it is told to wait.
	maxServing = 64
	// pullRounds is how many times a receiver goes round a range's
	// sources before it gives the range up.
	pullRounds = 3
)

// rangeTransfer is range handoff as a state machine of its own: the arcs a
// node gained in ring changes and pulls from their previous replicas, the
// streams it serves to the nodes that gained its arcs, and its leave (done
// once every node that gained one of its arcs has pulled it, or after a
// timeout). Its inputs are method calls (a ring change as the node's new
// ranges and the arcs it gained, a tick, stream requests, data and acks, a
// leave, the leave check); its outputs are the messages it queues (take),
// the key batches it returns for the node to merge, the reasons it gives
// for ignoring a message and its decisions (HandoffPending, LeaveDone). It
// reads the node's keys (st) but never writes them, and knows nothing of
// rings beyond the ranges it is given: whether a key is replicated and
// whether a peer is believed down are the caller's to say. Its counter
// (next) is the node's, so that stream ids never repeat across
// incarnations.
type rangeTransfer struct {
	self  sim.NodeID
	cfg   *Config
	st    *state // read only: the keys a stream serves
	stats *Stats
	next  func() uint64
	down  func(sim.NodeID) bool // whether the node believes a peer down

	pending     []*pendingArc // gained arcs not yet received
	due         []*pendingArc // tick's scratch: pending arcs due to start a pull
	unreceived  arcSet        // gained arcs dropped or given up before they arrived
	serving     []*outStream  // handoff streams this node serves
	served      []servedArcs  // arcs fully streamed to each node after losing them
	leaving     bool
	leaveDone   bool
	leaveAt     int64
	leaveRounds uint64    // GossipRounds when Leave was called
	owed        []owedArc // what a leaving node must see pulled (nil until known)

	out []Envelope // messages queued for the node to send (take)
}

// pendingArc is an arc this node gained in a ring change (or held when it
// restarted in the middle of a handoff) and has not yet received from
// enough previous replicas: it takes writes for the arc's keys but refuses
// reads of them.
type pendingArc struct {
	a       ring.Arc
	sources []sim.NodeID // previous replicas: those that lost the arc first
	lost    int          // sources[:lost] lost the arc (they stop taking writes)
	// need is how many sources must stream the arc in full (fullSources)
	// before it counts as received; got are those that have.
	need    int
	got     []sim.NodeID
	attempt int // pulls started so far
	// excused counts the forced pulls a source could not serve in full
	// (it answered wait, or a partial stream of an arc it has not received
	// itself): they move on to the next source without using up the arc's
	// pullRounds (for a bounded time, see excuse).
	excused int
	// pulls are the streams asked for, the latest last. A pull that made
	// no progress for HandoffTimeoutTicks is followed by a new one (from
	// the next source) but not cancelled: on a slow network its data may
	// still come, and whichever pull ends first completes the arc.
	pulls []pull
	// deadline is the progress deadline of the latest pull, or the
	// earliest tick to start the next one when none is active.
	deadline int64
	active   bool  // the latest pull is in progress
	since    int64 // tick the arc became pending
	gaveUp   bool
}

// maxPullsPerArc bounds the pulls kept per arc (old ones are forgotten).
const maxPullsPerArc = 4

// pull is one stream a receiver asked for.
type pull struct {
	id    uint64
	from  sim.NodeID
	force bool // the request was forced: a Wait answer means the source cannot serve
}

// outStream is a handoff stream this node serves: the keys it held in the
// arc when asked, sent in batches, each after the previous one's ack.
type outStream struct {
	to       sim.NodeID
	id       uint64 // the receiver's stream id
	a        ring.Arc
	keys     []string
	next     int
	deadline int64
	// partial marks a stream of an arc the node has not received itself
	// (lacksArc): what it holds there may miss acknowledged writes.
	partial bool
}

// servedArcs is what one node has been fully streamed by this one after
// this one stopped replicating it.
type servedArcs struct {
	to  sim.NodeID
	set arcSet
}

// owedArc is an arc a leaving node must see pulled by node to.
type owedArc struct {
	to sim.NodeID
	a  ring.Arc
}

// gainedArc is an arc a node gained in a ring change, with the previous
// replicas to pull it from: sources[:lost] lost it, the others kept it;
// need of them must stream it in full.
type gainedArc struct {
	a       ring.Arc
	sources []sim.NodeID
	lost    int
	need    int
}

// fullSources returns how many of an arc's sources must stream it in full
// before a receiver holds every write acknowledged there: a write was
// acknowledged by w of the arc's old replicas, so at least one of any
// old-w+1 of them holds it (with old counting the receiver itself when it was one of them, as
// after a restart, and then not among sources), and never more than there
// are sources.
func fullSources(sources, old, w int) int { return min(sources, max(1, old-w+1)) }

// leaveCheck is what the leave decision reads of its node at one tick.
type leaveCheck struct {
	now    int64
	onRing bool   // the node's current ring still holds it
	rounds uint64 // the gossip rounds it has run (Stats.GossipRounds)
	// viewSize returns the size of its gossip view; nil under oracle
	// membership. Asked only when a leave is in progress.
	viewSize func() int
	hints    int // hints it holds
	// owed returns the arcs it lost since the last ring that held it, per
	// gaining node; asked once, at the first check off the ring.
	owed func() []owedArc
}

// take returns and clears the messages queued so far (valid until the
// next input).
func (t *rangeTransfer) take() []Envelope {
	out := t.out
	t.out = t.out[:0]
	return out
}

func (t *rangeTransfer) send(to sim.NodeID, m Message) {
	t.out = append(t.out, Envelope{To: to, Msg: m})
}

// replicatesArc reports whether self replicates any part of arc a in
// ranges (whether it may still take writes for keys of a).
func replicatesArc(ranges []ring.Range, self sim.NodeID, a ring.Arc) bool {
	for _, g := range ranges {
		if slices.Contains(g.Replicas, self) && a.Overlaps(g.Arc) {
			return true
		}
	}
	return false
}

// gainedArcs returns the arcs self gained between rings old and new (with
// replication factor nn, at most both rings' sizes, and write quorum w)
// that have a previous replica to pull them from.
func gainedArcs(self sim.NodeID, old, new *ring.Ring, nn, w int) []gainedArc {
	nn = min(nn, old.Len(), new.Len())
	if nn < 1 {
		return nil
	}
	changes, err := ring.Diff(old, new, nn)
	if err != nil {
		return nil // a ring too small to compare: nothing can be pulled
	}
	var out []gainedArc
	for _, c := range changes {
		if !slices.Contains(c.Gained(), self) {
			continue
		}
		var sources []sim.NodeID
		for _, id := range c.Lost() {
			if id != self {
				sources = append(sources, id)
			}
		}
		lost := len(sources)
		for _, id := range c.OldReplicas {
			if id != self && !slices.Contains(sources, id) {
				sources = append(sources, id)
			}
		}
		if len(sources) == 0 {
			continue
		}
		out = append(out, gainedArc{a: c.Arc, sources: sources, lost: lost, need: fullSources(len(sources), len(c.OldReplicas), w)})
	}
	return out
}

// owedArcs returns the arcs self lost between rings last (the last ring
// that held it, nil if none) and cur, per gaining node.
func owedArcs(self sim.NodeID, last, cur *ring.Ring, nn int) []owedArc {
	out := []owedArc{}
	if last == nil {
		return out
	}
	nn = min(nn, last.Len(), cur.Len())
	if nn < 1 {
		return out
	}
	changes, err := ring.Diff(last, cur, nn)
	if err != nil {
		return out
	}
	for _, c := range changes {
		if !slices.Contains(c.Lost(), self) {
			continue
		}
		for _, g := range c.Gained() {
			out = append(out, owedArc{to: g, a: c.Arc})
		}
	}
	return out
}

// ringChanged takes a ring change: ranges are the node's new ranges and
// gained the arcs it gained (none with RangeHandoff off), which become
// pending. Pending arcs the node no longer replicates need no pulling;
// what it holds of them is incomplete, so it is no source for them either.
func (t *rangeTransfer) ringChanged(now int64, ranges []ring.Range, gained []gainedArc) {
	keep := t.pending[:0]
	for _, p := range t.pending {
		if replicatesArc(ranges, t.self, p.a) {
			keep = append(keep, p)
		} else {
			t.unreceived.add(p.a)
		}
	}
	clear(t.pending[len(keep):])
	t.pending = keep
	for _, g := range gained {
		t.stats.RangesGained++
		t.pending = append(t.pending, &pendingArc{a: g.a, sources: g.sources, lost: g.lost, need: g.need, since: now, deadline: now})
	}
}

// restarted takes the node's ranges when it starts from a store that says
// it was in the middle of a handoff (incomplete), or on a ring it may have
// gained arcs in while it was down. Which arcs it had not received is not
// durable, so it vouches for none: the whole ring is unreceived (it serves
// only partial streams) and every arc it replicates becomes pending,
// pulled from the arc's other replicas, of which every write quorum that
// may have left the node out must be met (fullSources, counting the node).
func (t *rangeTransfer) restarted(now int64, ranges []ring.Range) {
	t.unreceived.add(ring.Arc{}) // Start == End: the whole ring
	for _, g := range ranges {
		if !slices.Contains(g.Replicas, t.self) {
			continue
		}
		var sources []sim.NodeID
		for _, id := range g.Replicas {
			if id != t.self {
				sources = append(sources, id)
			}
		}
		if len(sources) == 0 {
			continue
		}
		t.pending = append(t.pending, &pendingArc{a: g.Arc, sources: sources, need: fullSources(len(sources), len(g.Replicas), t.cfg.W), since: now, deadline: now})
	}
}

// incomplete reports whether the node may lack acknowledged writes of an
// arc it holds: one is pending, or was dropped or given up before it
// arrived. The node keeps this durable (metaHandoffIncomplete) so that a
// restart pulls its arcs again and serves no full stream (restarted).
func (t *rangeTransfer) incomplete() bool {
	return len(t.pending) > 0 || len(t.unreceived.spans) > 0
}

// pendingAt reports whether hash h is in an arc gained and not yet
// received.
func (t *rangeTransfer) pendingAt(h uint64) bool {
	for _, p := range t.pending {
		if p.a.Contains(h) {
			return true
		}
	}
	return false
}

// leave starts the node's departure at tick now, after rounds gossip
// rounds.
func (t *rangeTransfer) leave(now int64, rounds uint64) error {
	if t.leaving {
		return fmt.Errorf("%w: %v is already leaving", ErrBadNode, t.self)
	}
	t.leaving, t.leaveAt, t.leaveRounds = true, now, rounds
	return nil
}

// tickLeave decides LeaveDone.
func (t *rangeTransfer) tickLeave(lc leaveCheck) {
	if !t.leaving || t.leaveDone || lc.onRing {
		return
	}
	settled := true
	if lc.viewSize != nil {
		linger := 2*uint64(bits.Len(uint(lc.viewSize()))) + 2
		settled = lc.rounds-t.leaveRounds >= linger
	}
	if t.cfg.RangeHandoff {
		if t.owed == nil {
			t.owed = lc.owed()
		}
		settled = settled && len(t.serving) == 0 && t.allServed()
		if t.cfg.HintedHandoff {
			settled = settled && lc.hints == 0
		}
	}
	switch {
	case settled:
		t.leaveDone = true
	case lc.now-t.leaveAt >= int64(t.cfg.LeaveTimeoutTicks):
		t.stats.LeaveTimeouts++
		t.leaveDone = true
	}
}

// allServed reports whether every gaining node has pulled what it is owed.
// A node believed down cannot pull and does not hold the leave up: it
// catches up by anti-entropy or read repair once it is back.
func (t *rangeTransfer) allServed() bool {
	for _, o := range t.owed {
		if t.down(o.to) {
			continue
		}
		i := slices.IndexFunc(t.served, func(s servedArcs) bool { return s.to == o.to })
		if i < 0 || !t.served[i].set.covers(o.a) {
			return false
		}
	}
	return true
}

// tick drops served streams without progress, restarts stalled pulls and
// starts pending ones (at most maxPulls at once).
func (t *rangeTransfer) tick(now int64) {
	keep := t.serving[:0]
	for _, st := range t.serving {
		if st.deadline > now {
			keep = append(keep, st)
		}
	}
	clear(t.serving[len(keep):])
	t.serving = keep

	active := 0
	for _, p := range t.pending {
		if p.active && p.deadline <= now {
			t.stats.HandoffRetries++
			p.active = false
		}
		if p.active {
			active++
		}
	}
	// The arcs due longest ago go first, so that arcs whose pulls keep
	// timing out do not starve the others of the maxPulls slots.
	due := t.due[:0]
	for _, p := range t.pending {
		if !p.active && p.deadline <= now {
			due = append(due, p)
		}
	}
	slices.SortStableFunc(due, func(a, b *pendingArc) int { return cmp.Compare(a.deadline, b.deadline) })
	for _, p := range due {
		if active >= maxPulls {
			break
		}
		t.startPull(now, p)
		if p.active {
			active++
		}
	}
	clear(due)
	t.due = due[:0]
	keepP := t.pending[:0]
	for _, p := range t.pending {
		if p.gaveUp {
			t.stats.RangesGivenUp++
			t.unreceived.add(p.a)
			continue
		}
		keepP = append(keepP, p)
	}
	clear(t.pending[len(keepP):])
	t.pending = keepP
}

// nextDue returns the first tick at which tick would do anything: the
// earliest deadline of a stream served or of a pending arc (a pull's
// progress deadline, or when to start the next); never if there is none.
func (t *rangeTransfer) nextDue() int64 {
	due := never
	for _, st := range t.serving {
		due = min(due, st.deadline)
	}
	for _, p := range t.pending {
		due = min(due, p.deadline)
	}
	return due
}

// leavePending reports whether a leave is in progress, which the leave
// check (tickLeave) decides at every tick.
func (t *rangeTransfer) leavePending() bool { return t.leaving && !t.leaveDone }

// startPull asks the next source of p for the arc: sources that have not
// streamed it in full, in rotation from the attempt count, preferring one
// not believed down. After pullRounds rounds over the sources the arc is
// given up: the node keeps the union of what the full and partial streams
// brought, the best it can do without need full streams.
func (t *rangeTransfer) startPull(now int64, p *pendingArc) {
	if p.attempt-p.excused >= pullRounds*len(p.sources) {
		p.gaveUp = true
		return
	}
	i := -1
	for k := range p.sources {
		j := (p.attempt + k) % len(p.sources)
		if slices.Contains(p.got, p.sources[j]) {
			continue
		}
		if i < 0 {
			i = j
		}
		if !t.down(p.sources[j]) {
			i = j
			break
		}
	}
	p.attempt++
	// A previous replica that did not lose the arc never stops taking
	// writes for it, and one that lost it is waited for only so long.
	force := i >= p.lost || now-p.since >= int64(t.cfg.HandoffTimeoutTicks)
	q := pull{id: t.next(), from: p.sources[i], force: force}
	if len(p.pulls) == maxPullsPerArc {
		p.pulls = slices.Delete(p.pulls, 0, 1)
	}
	p.pulls = append(p.pulls, q)
	p.active = true
	p.deadline = now + int64(t.cfg.HandoffTimeoutTicks)
	t.send(q.from, Message{Type: MsgStreamRequest, Op: q.id, ArcStart: p.a.Start, ArcEnd: p.a.End, Force: force})
}

// onRequest serves a pull; ranges are the node's ranges. Unless forced, a
// node that still replicates part of the arc says wait (it may still take
// writes there), as does one serving maxServing streams. A node that has
// not itself received part of the arc (lacksArc) may miss acknowledged
// writes there, so it serves what it holds as a partial stream (Partial):
// the receiver merges it, for it may hold the only copy of a write the
// node took before it had received the arc, but does not count it as a
// full one, and asks its next source.
func (t *rangeTransfer) onRequest(now int64, from sim.NodeID, m Message, ranges []ring.Range) ignoreReason {
	if !t.cfg.RangeHandoff {
		return ignoreDisabled
	}
	a := ring.Arc{Start: m.ArcStart, End: m.ArcEnd}
	wait := Message{Type: MsgStreamData, Op: m.Op, ArcStart: a.Start, ArcEnd: a.End, Wait: true}
	t.serving = slices.DeleteFunc(t.serving, func(st *outStream) bool { return st.to == from && st.id == m.Op })
	if (!m.Force && replicatesArc(ranges, t.self, a)) || len(t.serving) >= maxServing {
		t.send(from, wait)
		return ignoreNone
	}
	st := &outStream{to: from, id: m.Op, a: a, partial: t.lacksArc(a)}
	for _, k := range t.st.Keys() {
		if a.Contains(ring.HashKey(k)) {
			st.keys = append(st.keys, k)
		}
	}
	t.serving = append(t.serving, st)
	t.sendBatch(now, st)
	return ignoreNone
}

// lacksArc reports whether part of arc a is one the node gained and has
// not received: still pending, or dropped from pending by a later ring
// change (or given up) before it arrived, or anything after a restart
// that vouches for nothing (restarted). Then its copy of a may miss
// acknowledged writes: it streams it only as a partial source.
func (t *rangeTransfer) lacksArc(a ring.Arc) bool {
	if t.unreceived.overlaps(a) {
		return true
	}
	for _, p := range t.pending {
		if p.a.Overlaps(a) {
			return true
		}
	}
	return false
}

// sendBatch sends a stream's next batch.
func (t *rangeTransfer) sendBatch(now int64, st *outStream) {
	end := min(len(st.keys), st.next+t.cfg.TransferBatchKeys)
	var items []KeySnapshot
	for _, k := range st.keys[st.next:end] {
		if vs, ok := t.st.Get(k); ok {
			items = append(items, KeySnapshot{Key: k, Versions: cloneVersions(vs)})
		}
	}
	st.next = end
	st.deadline = now + int64(t.cfg.HandoffTimeoutTicks)
	t.stats.HandoffKeysSent += uint64(len(items))
	t.send(st.to, Message{Type: MsgStreamData, Op: st.id, ArcStart: st.a.Start, ArcEnd: st.a.End, Items: items, Last: end == len(st.keys), Partial: st.partial})
}

// onAck sends the next batch, or ends the stream after the last; ranges
// are the node's ranges.
func (t *rangeTransfer) onAck(now int64, from sim.NodeID, m Message, ranges []ring.Range) ignoreReason {
	if !t.cfg.RangeHandoff {
		return ignoreDisabled
	}
	i := slices.IndexFunc(t.serving, func(st *outStream) bool { return st.to == from && st.id == m.Op })
	if i < 0 {
		return ignoreUnknownOp
	}
	st := t.serving[i]
	if st.next < len(st.keys) {
		t.sendBatch(now, st)
		return ignoreNone
	}
	t.serving = slices.Delete(t.serving, i, i+1)
	t.stats.StreamsServed++
	if replicatesArc(ranges, t.self, st.a) {
		return ignoreNone // forced while still a replica: not a handoff of the arc
	}
	j := slices.IndexFunc(t.served, func(s servedArcs) bool { return s.to == from })
	if j < 0 {
		t.served = append(t.served, servedArcs{to: from})
		j = len(t.served) - 1
	}
	t.served[j].set.add(st.a)
	return ignoreNone
}

// onData takes one batch of a pull and acknowledges it; replicates says
// whether the node replicates a key. It returns the batch for the node to
// merge (and sync, under SyncBeforeAck) before the ack leaves. A batch
// with a key outside the arc or not replicated by this node is ignored.
func (t *rangeTransfer) onData(now int64, from sim.NodeID, m Message, replicates func(string) bool) ([]KeySnapshot, ignoreReason) {
	if !t.cfg.RangeHandoff {
		return nil, ignoreDisabled
	}
	a := ring.Arc{Start: m.ArcStart, End: m.ArcEnd}
	for _, it := range m.Items {
		if !a.Contains(ring.HashKey(it.Key)) || !replicates(it.Key) {
			return nil, ignoreNotOwner
		}
	}
	i, k := -1, -1
	for pi, p := range t.pending {
		if k = slices.IndexFunc(p.pulls, func(q pull) bool { return q.id == m.Op }); k >= 0 {
			i = pi
			break
		}
	}
	if i < 0 {
		return nil, ignoreUnknownOp
	}
	p := t.pending[i]
	latest := k == len(p.pulls)-1
	switch {
	case p.pulls[k].from != from:
		return nil, ignoreUnexpected
	case p.a != a || (m.Wait && (len(m.Items) > 0 || m.Last)):
		return nil, ignoreMalformed
	case m.Wait && p.pulls[k].force:
		// A forced pull is declined only by a source that serves too
		// many streams: ask the next source.
		t.moveOn(now, p, k, latest)
		return nil, ignoreNone
	case m.Wait:
		// The source still replicates the arc in its view: ask again once
		// gossip (or the oracle) has had time to tell it; after
		// HandoffTimeoutTicks the pull is forced.
		p.pulls = slices.Delete(p.pulls, k, k+1)
		if latest {
			p.active, p.attempt = false, max(0, p.attempt-1)
			p.deadline = now + t.waitTicks()
		}
		return nil, ignoreNone
	}
	if latest {
		p.deadline = now + int64(t.cfg.HandoffTimeoutTicks)
	}
	t.send(from, Message{Type: MsgStreamAck, Op: m.Op, ArcStart: a.Start, ArcEnd: a.End})
	if !m.Last {
		return m.Items, ignoreNone
	}
	if m.Partial {
		// A partial stream, from a source that has not received the arc
		// itself: merged, but like a declined forced pull it moves on to
		// the next source (two joiners pulling the arc from each other
		// thus both move on to a source that has it).
		t.moveOn(now, p, k, latest)
		return m.Items, ignoreNone
	}
	if !slices.Contains(p.got, from) {
		p.got = append(p.got, from)
	}
	if len(p.got) >= p.need {
		t.pending = slices.Delete(t.pending, i, i+1)
		t.unreceived.remove(a)
		t.stats.RangesReceived++
		return m.Items, ignoreNone
	}
	// More full streams are needed: the next pull starts at the next
	// tick.
	p.pulls = slices.Delete(p.pulls, k, k+1)
	if latest {
		p.active = false
		p.deadline = now + 1
	}
	return m.Items, ignoreNone
}

// moveOn ends pull k of p, which its source could not serve in full, and
// if it was the latest starts the next source's after the wait, excused.
func (t *rangeTransfer) moveOn(now int64, p *pendingArc, k int, latest bool) {
	p.pulls = slices.Delete(p.pulls, k, k+1)
	if latest {
		t.stats.HandoffRetries++
		p.active = false
		t.excuse(now, p)
		p.deadline = now + t.waitTicks()
	}
}

// excuse lets a pull a source declined not count towards p's pullRounds,
// for as long as pulls timing out at every source in turn would have
// taken: sources that all lack the arc (joiners each waiting for the
// other) cannot hold it pending forever, it is given up in bounded time.
func (t *rangeTransfer) excuse(now int64, p *pendingArc) {
	if now-p.since < int64(pullRounds*len(p.sources)*t.cfg.HandoffTimeoutTicks) {
		p.excused++
	}
}

// waitTicks is how long a receiver waits before asking a source that
// still replicates the arc again.
func (t *rangeTransfer) waitTicks() int64 {
	if t.cfg.Membership == MembershipGossip {
		return int64(t.cfg.GossipIntervalTicks)
	}
	return max(1, int64(t.cfg.HandoffTimeoutTicks/10))
}

// outstanding says what handoff work is still owed, for Quiescent.
func (t *rangeTransfer) outstanding() []string {
	var owed []string
	if len(t.pending) > 0 {
		owed = append(owed, fmt.Sprintf("%d ranges to pull", len(t.pending)))
	}
	if len(t.serving) > 0 {
		owed = append(owed, fmt.Sprintf("%d handoff streams to serve", len(t.serving)))
	}
	if t.leaving && !t.leaveDone {
		owed = append(owed, "a leave to finish")
	}
	return owed
}
