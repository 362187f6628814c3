package kv

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// maxItems bounds the keys one repair or stream message may carry.
const maxItems = 4096

// antiEntropy is Merkle anti-entropy as a state machine of its own: one
// tree per ring range the node replicates, kept current on every change of
// its data, at most one exchange it initiated, the jittered schedule of
// exchanges and the sweep since the last heal (settle.go). Its inputs are
// method calls (a tick, a ring change as the node's new ranges, a key's
// versions changed or deleted, the four messages of the protocol, a start
// on demand, a heal); its outputs are the messages it queues (take), the
// repairs it hands to the node's merge, the reasons it gives for ignoring
// a message, its counters and what it says is outstanding. It reads the
// node's keys (st) but never writes them: repairs go through merge, which
// keeps the trees current by calling set. Whether a peer is believed down
// and whether the node replicates a key are the caller's to say. Its
// counter (next) is the node's, so that exchange ids never repeat across
// incarnations. The Merkle protocol itself is kv/merkle's.
type antiEntropy struct {
	self       sim.NodeID
	cfg        *Config
	st         *state // read only: the keys the trees hold and repairs send
	stats      *Stats
	next       func() uint64
	down       func(sim.NodeID) bool                 // whether the node believes a peer down
	replicates func(string) bool                     // whether the node replicates a key
	merge      func(string, []Version) (bool, error) // merges repaired versions into the node's data
	on         bool                                  // AntiEntropyIntervalTicks > 0

	forest *merkle.Forest
	owned  []ownedRange // the forest's ranges with their replicas, sorted by End
	rng    *sim.RNG     // jitter of the exchange schedule
	due    int64        // tick of the next exchange
	cursor int          // round robin over owned
	sess   *aeSession   // the exchange in progress, if any
	sweep  sweep        // the sweep since the last heal

	out []Envelope // messages queued for the node to send (take)
}

// ownedRange is a range this node replicates and its replicas.
type ownedRange struct {
	r        merkle.Range
	replicas []sim.NodeID
}

// aeSession is one exchange this node initiated.
type aeSession struct {
	s        *merkle.Session
	peer     sim.NodeID
	deadline int64
}

// fingerprint is the version summary the Merkle trees hold for a key: a
// hash of its versions' dots (a dot names one write, so equal dot sets are
// equal version sets).
func fingerprint(vs []Version) uint64 {
	h := sim.NewHash()
	for _, v := range vs {
		h.WriteUint64(uint64(v.Dot.Node))
		h.WriteUint64(v.Dot.Counter)
	}
	return h.Sum64()
}

// init sets the machine up with rng, the stream of its schedule's
// jitter: it is off (no trees, every message ignored) when
// AntiEntropyIntervalTicks is 0; otherwise the first exchange is due at a
// jittered tick.
func (a *antiEntropy) init(rng *sim.RNG) {
	a.rng = rng
	if a.cfg.AntiEntropyIntervalTicks == 0 {
		return
	}
	a.on = true
	a.due = 1 + int64(rng.IntN(a.cfg.AntiEntropyIntervalTicks))
}

// take returns and clears the messages queued so far (valid until the
// next input).
func (a *antiEntropy) take() []Envelope {
	out := a.out
	a.out = a.out[:0]
	return out
}

// send queues an anti-entropy message and counts it.
func (a *antiEntropy) send(to sim.NodeID, m Message) {
	a.stats.AntiEntropyMessages++
	switch m.Type {
	case MsgTreeRequest:
		a.stats.AntiEntropyTreeBytes += uint64(m.Tree.Size())
	case MsgTreeReply:
		a.stats.AntiEntropyTreeBytes += uint64(m.TreeReply.Size())
	default:
		a.stats.AntiEntropyRepairBytes += itemBytes(m.Items)
	}
	a.out = append(a.out, Envelope{To: to, Msg: m})
}

// ringChanged makes one tree per range of ranges (the node's ranges) that
// the node replicates and fills them from the store. It abandons any
// exchange in progress (its tree is gone) and starts the sweep since the
// heal over.
func (a *antiEntropy) ringChanged(now int64, ranges []ring.Range) {
	if !a.on {
		return
	}
	a.endSession()
	a.forest, a.owned = nil, nil
	f, err := merkle.NewForest(a.cfg.merkleConfig())
	if err != nil {
		return // unreachable: Validate checked the shape
	}
	a.forest = f
	for _, g := range ranges {
		if !slices.Contains(g.Replicas, a.self) {
			continue
		}
		r := g.Arc
		if _, err := f.Add(r); err != nil {
			continue // ring ranges are disjoint; nothing to do if not
		}
		a.owned = append(a.owned, ownedRange{r: r, replicas: slices.Clone(g.Replicas)})
	}
	slices.SortFunc(a.owned, func(x, y ownedRange) int { return cmp.Compare(x.r.End, y.r.End) })
	a.resetSweep(now) // the ranges changed: a sweep since the heal starts over
	if len(a.owned) == 0 {
		return
	}
	for _, k := range a.st.Keys() {
		if t, ok := f.Find(ring.HashKey(k)); ok {
			vs, _ := a.st.Get(k)
			_ = t.Set(k, fingerprint(vs)) // Find chose the tree holding k
		}
	}
}

// set and delete keep the tree of key's range current: key's versions
// are now vs, or key is gone.
func (a *antiEntropy) set(key string, vs []Version) {
	if !a.on || a.forest == nil {
		return
	}
	if t, ok := a.forest.Find(ring.HashKey(key)); ok {
		_ = t.Set(key, fingerprint(vs))
	}
}

func (a *antiEntropy) delete(key string) {
	if a.on && a.forest != nil {
		a.forest.Delete(key)
	}
}

// tree returns the tree for range r.
func (a *antiEntropy) tree(r merkle.Range) (*merkle.Tree, bool) {
	if !a.on || a.forest == nil {
		return nil, false
	}
	return a.forest.Tree(r)
}

// roots returns the trees' ranges and root hashes in ring order (nil when
// off).
func (a *antiEntropy) roots() []TreeRoot {
	if !a.on || a.forest == nil {
		return nil
	}
	var out []TreeRoot
	for _, o := range a.owned {
		t, _ := a.forest.Tree(o.r)
		out = append(out, TreeRoot{Start: o.r.Start, End: o.r.End, Root: t.Root(), Keys: t.Len()})
	}
	return out
}

// tick abandons an exchange past its deadline and, when the jittered
// interval has passed, starts the next one.
func (a *antiEntropy) tick(now int64) {
	if !a.on {
		return
	}
	if s := a.sess; s != nil && s.deadline <= now {
		a.stats.AntiEntropyTimeouts++
		a.endSession()
	}
	if now < a.due {
		return
	}
	iv := a.cfg.AntiEntropyIntervalTicks
	a.due = now + max(1, int64(iv/2+a.rng.IntN(iv)))
	if a.sess != nil || len(a.owned) == 0 {
		return
	}
	// After a heal, exchanges go first to the pairs the sweep since the
	// heal has not compared (see Quiescent).
	if a.sweep.healed && !a.sweep.done {
		for range a.owned {
			i := a.cursor % len(a.owned)
			a.cursor++
			if p, ok := a.sweepPeer(a.owned[i]); ok {
				t, _ := a.forest.Tree(a.owned[i].r)
				a.startExchange(now, t, p)
				return
			}
		}
	}
	// Round robin over the ranges; the k-th visit of a range picks its
	// k-th live peer (round robin too), skipping ranges with none.
	for range a.owned {
		i := a.cursor % len(a.owned)
		visit := a.cursor / len(a.owned)
		a.cursor++
		o := a.owned[i]
		var peers []sim.NodeID
		for _, p := range o.replicas {
			if p != a.self && !a.down(p) {
				peers = append(peers, p)
			}
		}
		if len(peers) == 0 {
			continue
		}
		t, _ := a.forest.Tree(o.r)
		a.startExchange(now, t, peers[visit%len(peers)])
		return
	}
}

// nextDue returns the first tick at which tick would do anything: the
// next exchange, or the deadline of the one in progress if sooner; never
// when anti-entropy is off.
func (a *antiEntropy) nextDue() int64 {
	if !a.on {
		return never
	}
	if a.sess != nil {
		return min(a.due, a.sess.deadline)
	}
	return a.due
}

// start starts an exchange of the range holding hash h with peer now,
// regardless of the schedule; it refuses if anti-entropy is off, an
// exchange is in progress, or it keeps no tree for h or peer does not
// replicate that range.
func (a *antiEntropy) start(now int64, h uint64, peer sim.NodeID) error {
	switch {
	case !a.on || a.forest == nil:
		return fmt.Errorf("%w: %v keeps no Merkle trees (anti-entropy is off)", ErrBadRequest, a.self)
	case a.sess != nil:
		return fmt.Errorf("%w: %v has an exchange in progress", ErrBadRequest, a.self)
	}
	t, ok := a.forest.Find(h)
	if !ok {
		return fmt.Errorf("%w: %v keeps no tree for ring position %#x", ErrBadRequest, a.self, h)
	}
	for _, o := range a.owned {
		if o.r == t.Range() && peer != a.self && slices.Contains(o.replicas, peer) {
			a.startExchange(now, t, peer)
			return nil
		}
	}
	return fmt.Errorf("%w: %v does not replicate the range at %#x with %v", ErrBadRequest, a.self, h, peer)
}

func (a *antiEntropy) startExchange(now int64, t *merkle.Tree, peer sim.NodeID) {
	s := merkle.NewSession(t, a.next())
	a.sess = &aeSession{s: s, peer: peer, deadline: now + int64(a.cfg.RequestTimeoutTicks)}
	a.stats.AntiEntropyExchanges++
	q := s.Start()
	a.send(peer, Message{Type: MsgTreeRequest, Op: s.ID(), Tree: &q})
}

// endSession drops the exchange in progress.
func (a *antiEntropy) endSession() {
	a.sess = nil
}

// itemBytes is the key and value bytes of repair or stream items.
func itemBytes(items []KeySnapshot) uint64 {
	var b uint64
	for _, it := range items {
		b += uint64(len(it.Key))
		for _, v := range it.Versions {
			b += uint64(len(v.Value))
		}
	}
	return b
}

// onTreeRequest answers one step of a peer's exchange from the tree of the
// requested range, or with a refusal if the node holds none (then it also
// says why it ignored the request).
func (a *antiEntropy) onTreeRequest(from sim.NodeID, m Message) ignoreReason {
	if !a.on || a.forest == nil {
		return ignoreDisabled
	}
	why := ignoreNone
	p, err := a.forest.Respond(*m.Tree)
	switch {
	case errors.Is(err, merkle.ErrUnknownRange):
		why = ignoreUnknownRange
	case err != nil:
		why = ignoreMalformed
	}
	a.send(from, Message{Type: MsgTreeReply, Op: m.Op, TreeReply: &p})
	return why
}

// onTreeReply advances the exchange in progress; at its end, it repairs
// the differing keys.
func (a *antiEntropy) onTreeReply(now int64, from sim.NodeID, m Message) ignoreReason {
	if !a.on {
		return ignoreDisabled
	}
	s := a.sess
	if s == nil || s.s.ID() != m.Op {
		return ignoreUnknownOp
	}
	if s.peer != from {
		return ignoreUnexpected
	}
	q, more, err := s.s.Step(*m.TreeReply)
	switch {
	case errors.Is(err, merkle.ErrRefused):
		a.stats.AntiEntropyRefused++
		a.swept(now, s.s.Range().End, from) // the peer holds no such range: nothing to compare
		a.endSession()
	case err != nil:
		return ignoreMalformed // the session is unchanged, still waiting
	case more:
		s.deadline = now + int64(a.cfg.RequestTimeoutTicks)
		a.send(from, Message{Type: MsgTreeRequest, Op: m.Op, Tree: &q})
	default:
		a.stats.AntiEntropyCompleted++
		a.endSession()
		a.swept(now, s.s.Range().End, from)
		a.repair(from, m.Op, s.s.Diffs())
	}
	return ignoreNone
}

// repair sends the peer this node's versions of every differing key (none
// if it lacks the key), in batches; the peer merges them and answers with
// its own where they were not covered.
func (a *antiEntropy) repair(peer sim.NodeID, op uint64, diffs []merkle.Diff) {
	a.stats.AntiEntropyKeysDiffering += uint64(len(diffs))
	for len(diffs) > 0 {
		b := min(len(diffs), a.cfg.TransferBatchKeys)
		items := make([]KeySnapshot, 0, b)
		for _, d := range diffs[:b] {
			vs, _ := a.st.Get(d.Key)
			items = append(items, KeySnapshot{Key: d.Key, Versions: cloneVersions(vs)})
		}
		diffs = diffs[b:]
		a.send(peer, Message{Type: MsgRepair, Op: op, Items: items})
	}
}

// ownsAll reports whether the node replicates every key of items.
func (a *antiEntropy) ownsAll(items []KeySnapshot) bool {
	for _, it := range items {
		if !a.replicates(it.Key) {
			return false
		}
	}
	return true
}

// onRepair merges a peer's versions of differing keys and answers with
// this node's merged versions of those the peer's did not cover.
func (a *antiEntropy) onRepair(from sim.NodeID, m Message) ignoreReason {
	if !a.on {
		return ignoreDisabled
	}
	if !a.ownsAll(m.Items) {
		return ignoreNotOwner
	}
	var back []KeySnapshot
	for _, it := range m.Items {
		if len(it.Versions) > 0 {
			a.repairKey(it.Key, it.Versions)
		}
		cur, _ := a.st.Get(it.Key)
		if !covers(a.cfg.Resolve, it.Versions, cur) {
			back = append(back, KeySnapshot{Key: it.Key, Versions: cloneVersions(cur)})
		}
	}
	if len(back) > 0 {
		a.send(from, Message{Type: MsgRepairReply, Op: m.Op, Items: back})
	}
	return ignoreNone
}

// onRepairReply merges the versions a peer sent back.
func (a *antiEntropy) onRepairReply(m Message) ignoreReason {
	if !a.on {
		return ignoreDisabled
	}
	if !a.ownsAll(m.Items) {
		return ignoreNotOwner
	}
	for _, it := range m.Items {
		a.repairKey(it.Key, it.Versions)
	}
	return ignoreNone
}

// repairKey merges repaired versions into the node's data.
func (a *antiEntropy) repairKey(key string, vs []Version) {
	if changed, err := a.merge(key, vs); err == nil && changed {
		a.stats.AntiEntropyKeysRepaired++
	}
}

// The node's glue: it feeds the machine its inputs and sends what it
// queued.

// rebuildTrees follows the node's ranges after a ring change (or at start).
func (n *Node) rebuildTrees() { n.ae.ringChanged(n.now, n.route.ranges) }

// treeSet and treeDelete keep the tree of key's range current.
func (n *Node) treeSet(key string, vs []Version) { n.ae.set(key, vs) }

func (n *Node) treeDelete(key string) { n.ae.delete(key) }

// Trees returns the ranges this node keeps Merkle trees for and their root
// hashes, in ring order (nil when anti-entropy is off).
func (n *Node) Trees() []TreeRoot { return n.ae.roots() }

// TreeRoot describes one Merkle tree of a node.
type TreeRoot struct {
	// Start and End are the range (Start, End].
	Start, End uint64
	// Root is the tree's root hash; Keys the number of keys it holds.
	Root uint64
	Keys int
}

// tree returns the node's tree for range r.
func (n *Node) tree(r merkle.Range) (*merkle.Tree, bool) { return n.ae.tree(r) }

// tickAntiEntropy runs the exchange schedule.
func (n *Node) tickAntiEntropy() {
	n.ae.tick(n.now)
	n.sendAE()
}

// StartAntiEntropy starts an exchange of the range holding hash h with
// peer now, regardless of the schedule (for tests and transcripts): it
// steps the node with the local input MsgStartAntiEntropy. It reports
// false if anti-entropy is off, an exchange is in progress, or the node
// keeps no tree for h or peer does not replicate that range (Step's error
// says which).
func (n *Node) StartAntiEntropy(h uint64, peer sim.NodeID) bool {
	return n.Step(n.id, Message{Type: MsgStartAntiEntropy, Point: h, Peer: peer}) == nil
}

func (n *Node) startAntiEntropy(h uint64, peer sim.NodeID) error {
	err := n.ae.start(n.now, h, peer)
	n.sendAE()
	return err
}

// sendAE sends the messages anti-entropy queued.
func (n *Node) sendAE() {
	out := n.ae.take()
	for i := range out {
		n.send(out[i].To, &out[i].Msg)
	}
}

// stepAE hands one of the protocol's messages to anti-entropy.
func (n *Node) stepAE(from sim.NodeID, m Message) {
	var why ignoreReason
	switch m.Type {
	case MsgTreeRequest:
		why = n.ae.onTreeRequest(from, m)
	case MsgTreeReply:
		why = n.ae.onTreeReply(n.now, from, m)
	case MsgRepair:
		why = n.ae.onRepair(from, m)
	case MsgRepairReply:
		why = n.ae.onRepairReply(m)
	}
	if why != ignoreNone {
		n.ignore(why)
	}
	n.sendAE()
}
