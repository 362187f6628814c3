package kv

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/faultline-sim/faultline/kv/membership"
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

// pendingArc is an arc this node gained in a ring change and has not yet
// received from a previous replica: it takes writes for the arc's keys but
// refuses reads of them.
type pendingArc struct {
	a       ring.Arc
	sources []sim.NodeID // previous replicas: those that lost the arc first
	lost    int          // sources[:lost] lost the arc (they stop taking writes)
	attempt int          // pulls started so far
	// excused counts the pulls a source declined because it had not
	// received the arc itself: they move on to the next source without
	// using up the arc's pullRounds (for a bounded time, see excuse).
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

// replN is the replication factor the ring supports: N, or fewer nodes.
func (n *Node) replN() int { return min(n.cfg.N, n.ring.Len()) }

// computeRanges returns the ring's ranges with their preference lists, or
// nil for an empty ring.
func computeRanges(r *ring.Ring, nn int) []ring.Range {
	if nn < 1 {
		return nil
	}
	rs, err := r.Ranges(nn)
	if err != nil {
		return nil
	}
	return rs
}

// replicates reports whether key's preference list in the node's ring
// holds the node.
func (n *Node) replicates(key string) bool {
	nn := n.replN()
	if nn < 1 {
		return false
	}
	pref, err := n.ring.PreferenceList(key, nn, n.prefBuf[:0])
	n.prefBuf = pref
	return err == nil && slices.Contains(pref, n.id)
}

// fullReplica reports whether the node replicates key and has received
// its range: whether it may answer reads of key.
func (n *Node) fullReplica(key string) bool {
	if !n.replicates(key) {
		return false
	}
	h := ring.HashKey(key)
	for _, p := range n.pending {
		if p.a.Contains(h) {
			return false
		}
	}
	return true
}

// replicatesArc reports whether the node replicates any part of arc a in
// its ring (whether it may still take writes for keys of a).
func (n *Node) replicatesArc(a ring.Arc) bool {
	for _, g := range n.ranges {
		if slices.Contains(g.Replicas, n.id) && a.Overlaps(g.Arc) {
			return true
		}
	}
	return false
}

// changeRing makes r the ring the node routes with. With RangeHandoff on,
// the arcs the node gained become pending and are pulled from their
// previous replicas; the trees follow the new ranges.
func (n *Node) changeRing(r *ring.Ring) {
	old := n.ring
	n.ring, n.nodes = r, r.Nodes()
	n.ranges = computeRanges(r, n.replN())
	n.stats.RingChanges++
	if r.Contains(n.id) {
		n.lastWithSelf = r
	}
	// Arcs the node no longer replicates need no pulling; what it holds
	// of them is incomplete, so it is no source for them either.
	keep := n.pending[:0]
	for _, p := range n.pending {
		if n.replicatesArc(p.a) {
			keep = append(keep, p)
		} else {
			n.unreceived.add(p.a)
		}
	}
	clear(n.pending[len(keep):])
	n.pending = keep
	if n.cfg.RangeHandoff {
		n.planPulls(old, r)
	}
	n.rebuildTrees()
}

// planPulls makes every arc this node gained between rings old and new
// pending, to be pulled from the arc's previous replicas.
func (n *Node) planPulls(old, new *ring.Ring) {
	nn := min(n.cfg.N, old.Len(), new.Len())
	if nn < 1 {
		return
	}
	changes, err := ring.Diff(old, new, nn)
	if err != nil {
		return // a ring too small to compare: nothing can be pulled
	}
	for _, c := range changes {
		if !slices.Contains(c.Gained(), n.id) {
			continue
		}
		var sources []sim.NodeID
		for _, id := range c.Lost() {
			if id != n.id {
				sources = append(sources, id)
			}
		}
		lost := len(sources)
		for _, id := range c.OldReplicas {
			if id != n.id && !slices.Contains(sources, id) {
				sources = append(sources, id)
			}
		}
		if len(sources) == 0 {
			continue
		}
		n.stats.RangesGained++
		n.pending = append(n.pending, &pendingArc{a: c.Arc, sources: sources, lost: lost, since: n.now, deadline: n.now})
	}
}

// HandoffPending returns the number of arcs this node has gained and not
// yet received: while it is non-zero the node refuses reads of those arcs.
func (n *Node) HandoffPending() int { return len(n.pending) }

// Join makes this node a member under gossip membership: build it with
// the current ring (without it) as its bootstrap view, then Join claims its
// tokens, which spreads by gossip. The ranges it gains are pulled from
// their previous replicas, and it answers reads of them only once they
// have arrived (HandoffPending). Under oracle membership a node joins by a
// ring change instead: build it with the ring before the join, then give
// every node, it too, the ring with it by SetRing; Join then returns an
// error saying so. It steps the node with the local input MsgJoin.
func (n *Node) Join() error { return n.Step(n.id, Message{Type: MsgJoin}) }

func (n *Node) join() error {
	if n.table == nil {
		return fmt.Errorf("%w: %v: under oracle membership a node joins by a ring change: build it with the ring before the join and give every node, it too, the new ring with SetRing", ErrBadNode, n.id)
	}
	e, _ := n.table.Entry(n.id)
	if e.Status == membership.Left {
		return fmt.Errorf("%w: %v has left; a node that left cannot join again under the same id", ErrBadNode, n.id)
	}
	if len(e.Claims) > 0 {
		return fmt.Errorf("%w: %v is already a member of its view", ErrBadNode, n.id)
	}
	if err := n.table.SetClaims(e.Weight, []uint64{claimMember}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadNode, err)
	}
	n.viewChanged()
	return nil
}

// Leave starts this node's departure. Under gossip membership it marks
// itself left, which spreads by gossip and takes it off every ring; under
// oracle membership give it (and every other node) the ring without it
// with SetRing. Either way it keeps running, refuses reads and writes of
// keys it no longer replicates and streams its ranges to the nodes that
// gained them, until LeaveDone reports true; then stop it. It steps the
// node with the local input MsgLeave.
func (n *Node) Leave() error { return n.Step(n.id, Message{Type: MsgLeave}) }

func (n *Node) leave() error {
	if n.leaving {
		return fmt.Errorf("%w: %v is already leaving", ErrBadNode, n.id)
	}
	n.leaving, n.leaveAt, n.leaveRounds = true, n.now, n.stats.GossipRounds
	if n.table != nil {
		n.table.Leave()
		n.viewChanged()
	}
	return nil
}

// LeaveDone reports whether a leaving node may stop: it is off its own
// ring and, with RangeHandoff on, every node that gained one of its ranges
// (and is not believed down) has pulled it in full and its hints are
// delivered (or LeaveTimeoutTicks passed since Leave); under gossip
// membership it has also gossiped its departure for about 2·log2(N)+2
// rounds.
func (n *Node) LeaveDone() bool { return n.leaveDone }

// tickLeave decides LeaveDone.
func (n *Node) tickLeave() {
	if !n.leaving || n.leaveDone || n.ring.Contains(n.id) {
		return
	}
	settled := true
	if n.table != nil {
		linger := 2*uint64(bits.Len(uint(len(n.table.View())))) + 2
		settled = n.stats.GossipRounds-n.leaveRounds >= linger
	}
	if n.cfg.RangeHandoff {
		if n.owed == nil {
			n.owed = n.owedArcs()
		}
		settled = settled && len(n.serving) == 0 && n.allServed()
		if n.cfg.HintedHandoff {
			settled = settled && n.hints.len() == 0
		}
	}
	switch {
	case settled:
		n.leaveDone = true
	case n.now-n.leaveAt >= int64(n.cfg.LeaveTimeoutTicks):
		n.stats.LeaveTimeouts++
		n.leaveDone = true
	}
}

// owedArcs returns the arcs a leaving node must see pulled: those it lost
// between the last ring it was on and its current ring, per gaining node.
func (n *Node) owedArcs() []owedArc {
	out := []owedArc{}
	if n.lastWithSelf == nil {
		return out
	}
	nn := min(n.cfg.N, n.lastWithSelf.Len(), n.ring.Len())
	if nn < 1 {
		return out
	}
	changes, err := ring.Diff(n.lastWithSelf, n.ring, nn)
	if err != nil {
		return out
	}
	for _, c := range changes {
		if !slices.Contains(c.Lost(), n.id) {
			continue
		}
		for _, g := range c.Gained() {
			out = append(out, owedArc{to: g, a: c.Arc})
		}
	}
	return out
}

// allServed reports whether every gaining node has pulled what it is owed.
// A node believed down cannot pull and does not hold the leave up: it
// catches up by anti-entropy or read repair once it is back.
func (n *Node) allServed() bool {
	for _, o := range n.owed {
		if n.believedDown(o.to) {
			continue
		}
		i := slices.IndexFunc(n.served, func(s servedArcs) bool { return s.to == o.to })
		if i < 0 || !n.served[i].set.covers(o.a) {
			return false
		}
	}
	return true
}

// tickHandoff drops served streams without progress, restarts stalled
// pulls and starts pending ones (at most maxPulls at once).
func (n *Node) tickHandoff() {
	keep := n.serving[:0]
	for _, st := range n.serving {
		if st.deadline > n.now {
			keep = append(keep, st)
		}
	}
	clear(n.serving[len(keep):])
	n.serving = keep

	active := 0
	for _, p := range n.pending {
		if p.active && p.deadline <= n.now {
			n.stats.HandoffRetries++
			p.active = false
		}
		if p.active {
			active++
		}
	}
	for _, p := range n.pending {
		if active >= maxPulls {
			break
		}
		if !p.active && p.deadline <= n.now {
			n.startPull(p)
			if p.active {
				active++
			}
		}
	}
	keepP := n.pending[:0]
	for _, p := range n.pending {
		if p.gaveUp {
			n.stats.RangesGivenUp++
			n.unreceived.add(p.a)
			continue
		}
		keepP = append(keepP, p)
	}
	clear(n.pending[len(keepP):])
	n.pending = keepP
}

// startPull asks the next source of p for the arc: sources in rotation
// from the attempt count, preferring one not believed down. After
// pullRounds rounds over the sources the arc is given up.
func (n *Node) startPull(p *pendingArc) {
	if p.attempt-p.excused >= pullRounds*len(p.sources) {
		p.gaveUp = true
		return
	}
	i := p.attempt % len(p.sources)
	for k := range p.sources {
		j := (p.attempt + k) % len(p.sources)
		if !n.believedDown(p.sources[j]) {
			i = j
			break
		}
	}
	p.attempt++
	// A previous replica that did not lose the arc never stops taking
	// writes for it, and one that lost it is waited for only so long.
	force := i >= p.lost || n.now-p.since >= int64(n.cfg.HandoffTimeoutTicks)
	q := pull{id: n.next(), from: p.sources[i], force: force}
	if len(p.pulls) == maxPullsPerArc {
		p.pulls = slices.Delete(p.pulls, 0, 1)
	}
	p.pulls = append(p.pulls, q)
	p.active = true
	p.deadline = n.now + int64(n.cfg.HandoffTimeoutTicks)
	n.send(q.from, Message{Type: MsgStreamRequest, Op: q.id, ArcStart: p.a.Start, ArcEnd: p.a.End, Force: force})
}

// onStreamRequest serves a pull: unless forced, a node that still
// replicates part of the arc says wait (it may still take writes there).
// A node that has not itself received part of the arc (lacksArc) says
// wait even to a forced pull: what it holds there may be
// missing acknowledged writes, and the receiver would take the stream as
// the whole arc. A forced receiver then asks its next source.
func (n *Node) onStreamRequest(from sim.NodeID, m Message) {
	if !n.cfg.RangeHandoff {
		n.ignore(ignoreDisabled)
		return
	}
	a := ring.Arc{Start: m.ArcStart, End: m.ArcEnd}
	wait := Message{Type: MsgStreamData, Op: m.Op, ArcStart: a.Start, ArcEnd: a.End, Wait: true}
	n.serving = slices.DeleteFunc(n.serving, func(st *outStream) bool { return st.to == from && st.id == m.Op })
	if (!m.Force && n.replicatesArc(a)) || n.lacksArc(a) || len(n.serving) >= maxServing {
		n.send(from, wait)
		return
	}
	st := &outStream{to: from, id: m.Op, a: a}
	for _, k := range n.state.Keys() {
		if a.Contains(ring.HashKey(k)) {
			st.keys = append(st.keys, k)
		}
	}
	n.serving = append(n.serving, st)
	n.sendBatch(st)
}

// lacksArc reports whether part of arc a is one the node gained and has
// not received: still pending, or dropped from pending by a later ring
// change (or given up) before it arrived. Then its copy of a may miss
// acknowledged writes and it is no source for anyone.
func (n *Node) lacksArc(a ring.Arc) bool {
	if n.unreceived.overlaps(a) {
		return true
	}
	for _, p := range n.pending {
		if p.a.Overlaps(a) {
			return true
		}
	}
	return false
}

// sendBatch sends a stream's next batch.
func (n *Node) sendBatch(st *outStream) {
	end := min(len(st.keys), st.next+n.cfg.TransferBatchKeys)
	var items []KeySnapshot
	for _, k := range st.keys[st.next:end] {
		if vs, ok := n.state.Get(k); ok {
			items = append(items, KeySnapshot{Key: k, Versions: cloneVersions(vs)})
		}
	}
	st.next = end
	st.deadline = n.now + int64(n.cfg.HandoffTimeoutTicks)
	n.stats.HandoffKeysSent += uint64(len(items))
	n.send(st.to, Message{Type: MsgStreamData, Op: st.id, ArcStart: st.a.Start, ArcEnd: st.a.End, Items: items, Last: end == len(st.keys)})
}

// onStreamAck sends the next batch, or ends the stream after the last.
func (n *Node) onStreamAck(from sim.NodeID, m Message) {
	if !n.cfg.RangeHandoff {
		n.ignore(ignoreDisabled)
		return
	}
	i := slices.IndexFunc(n.serving, func(st *outStream) bool { return st.to == from && st.id == m.Op })
	if i < 0 {
		n.ignore(ignoreUnknownOp)
		return
	}
	st := n.serving[i]
	if st.next < len(st.keys) {
		n.sendBatch(st)
		return
	}
	n.serving = slices.Delete(n.serving, i, i+1)
	n.stats.StreamsServed++
	if n.replicatesArc(st.a) {
		return // forced while still a replica: not a handoff of the arc
	}
	j := slices.IndexFunc(n.served, func(s servedArcs) bool { return s.to == from })
	if j < 0 {
		n.served = append(n.served, servedArcs{to: from})
		j = len(n.served) - 1
	}
	n.served[j].set.add(st.a)
}

// onStreamData merges one batch of a pull and acknowledges it. A batch
// with a key outside the arc or not replicated by this node is ignored.
func (n *Node) onStreamData(from sim.NodeID, m Message) {
	if !n.cfg.RangeHandoff {
		n.ignore(ignoreDisabled)
		return
	}
	a := ring.Arc{Start: m.ArcStart, End: m.ArcEnd}
	for _, it := range m.Items {
		if !a.Contains(ring.HashKey(it.Key)) || !n.replicates(it.Key) {
			n.ignore(ignoreNotOwner)
			return
		}
	}
	i, k := -1, -1
	for pi, p := range n.pending {
		if k = slices.IndexFunc(p.pulls, func(q pull) bool { return q.id == m.Op }); k >= 0 {
			i = pi
			break
		}
	}
	if i < 0 {
		n.ignore(ignoreUnknownOp)
		return
	}
	p := n.pending[i]
	latest := k == len(p.pulls)-1
	switch {
	case p.pulls[k].from != from:
		n.ignore(ignoreUnexpected)
		return
	case p.a != a || (m.Wait && (len(m.Items) > 0 || m.Last)):
		n.ignore(ignoreMalformed)
		return
	case m.Wait && p.pulls[k].force:
		// A forced pull is declined only by a source that cannot serve
		// the arc now (it has not received it itself, or serves too
		// many streams): ask the next source. Two joiners pulling the
		// arc from each other thus both move on to a source that has it.
		p.pulls = slices.Delete(p.pulls, k, k+1)
		if latest {
			n.stats.HandoffRetries++
			p.active = false
			n.excuse(p)
			p.deadline = n.now + n.waitTicks()
		}
		return
	case m.Wait:
		// The source still replicates the arc in its view (or has not
		// received it yet): ask again once gossip (or the oracle) has had
		// time to tell it; after HandoffTimeoutTicks the pull is forced.
		p.pulls = slices.Delete(p.pulls, k, k+1)
		if latest {
			p.active, p.attempt = false, max(0, p.attempt-1)
			p.deadline = n.now + n.waitTicks()
		}
		return
	}
	for _, it := range m.Items {
		if changed, err := n.mergeData(it.Key, it.Versions); err == nil && changed {
			n.stats.HandoffKeysReceived++
		}
	}
	if n.cfg.SyncBeforeAck && len(m.Items) > 0 {
		n.sync()
	}
	if latest {
		p.deadline = n.now + int64(n.cfg.HandoffTimeoutTicks)
	}
	n.send(from, Message{Type: MsgStreamAck, Op: m.Op, ArcStart: a.Start, ArcEnd: a.End})
	if m.Last {
		n.pending = slices.Delete(n.pending, i, i+1)
		n.unreceived.remove(a)
		n.stats.RangesReceived++
	}
}

// excuse lets a pull a source declined not count towards p's pullRounds,
// for as long as pulls timing out at every source in turn would have
// taken: sources that all lack the arc (joiners each waiting for the
// other) cannot hold it pending forever, it is given up in bounded time.
func (n *Node) excuse(p *pendingArc) {
	if n.now-p.since < int64(pullRounds*len(p.sources)*n.cfg.HandoffTimeoutTicks) {
		p.excused++
	}
}

// waitTicks is how long a receiver waits before asking a source that
// still replicates the arc again.
func (n *Node) waitTicks() int64 {
	if n.table != nil {
		return int64(n.cfg.GossipIntervalTicks)
	}
	return max(1, int64(n.cfg.HandoffTimeoutTicks/10))
}
