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

// antiEntropy is a node's Merkle anti-entropy state: one tree per ring
// range it replicates, kept current on every change of its data, and at
// most one exchange it initiated.
type antiEntropy struct {
	forest *merkle.Forest
	owned  []ownedRange // the forest's ranges with their replicas, sorted by End
	rng    *sim.RNG     // jitter of the exchange schedule
	next   int64        // tick of the next exchange
	cursor int          // round robin over owned
	sess   *aeSession   // the exchange in progress, if any
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

// newAntiEntropy returns the anti-entropy state, or nil when it is off.
func newAntiEntropy(cfg Config, rng *sim.RNG) *antiEntropy {
	if cfg.AntiEntropyIntervalTicks == 0 {
		return nil
	}
	ae := &antiEntropy{rng: rng}
	ae.next = 1 + int64(rng.IntN(cfg.AntiEntropyIntervalTicks))
	return ae
}

// rebuildTrees makes one tree per range the node replicates in its ring
// and fills them from the store. It abandons any exchange in progress
// (its tree is gone).
func (n *Node) rebuildTrees() {
	ae := n.ae
	if ae == nil {
		return
	}
	n.endSession()
	ae.forest, ae.owned = nil, nil
	f, err := merkle.NewForest(n.cfg.merkleConfig())
	if err != nil {
		return // unreachable: Validate checked the shape
	}
	ae.forest = f
	for _, g := range n.route.ranges {
		if !slices.Contains(g.Replicas, n.id) {
			continue
		}
		r := g.Arc
		if _, err := f.Add(r); err != nil {
			continue // ring ranges are disjoint; nothing to do if not
		}
		ae.owned = append(ae.owned, ownedRange{r: r, replicas: slices.Clone(g.Replicas)})
	}
	slices.SortFunc(ae.owned, func(a, b ownedRange) int { return cmp.Compare(a.r.End, b.r.End) })
	n.resetSweep() // the ranges changed: a sweep since the heal starts over
	if len(ae.owned) == 0 {
		return
	}
	for _, k := range n.state.Keys() {
		if t, ok := f.Find(ring.HashKey(k)); ok {
			vs, _ := n.state.Get(k)
			_ = t.Set(k, fingerprint(vs)) // Find chose the tree holding k
		}
	}
}

// treeSet and treeDelete keep the tree of key's range current.
func (n *Node) treeSet(key string, vs []Version) {
	if n.ae == nil || n.ae.forest == nil {
		return
	}
	if t, ok := n.ae.forest.Find(ring.HashKey(key)); ok {
		_ = t.Set(key, fingerprint(vs))
	}
}

func (n *Node) treeDelete(key string) {
	if n.ae != nil && n.ae.forest != nil {
		n.ae.forest.Delete(key)
	}
}

// Trees returns the ranges this node keeps Merkle trees for and their root
// hashes, in ring order (nil when anti-entropy is off).
func (n *Node) Trees() []TreeRoot {
	if n.ae == nil || n.ae.forest == nil {
		return nil
	}
	var out []TreeRoot
	for _, o := range n.ae.owned {
		t, _ := n.ae.forest.Tree(o.r)
		out = append(out, TreeRoot{Start: o.r.Start, End: o.r.End, Root: t.Root(), Keys: t.Len()})
	}
	return out
}

// TreeRoot describes one Merkle tree of a node.
type TreeRoot struct {
	// Start and End are the range (Start, End].
	Start, End uint64
	// Root is the tree's root hash; Keys the number of keys it holds.
	Root uint64
	Keys int
}

// tree returns the node's tree for range r.
func (n *Node) tree(r merkle.Range) (*merkle.Tree, bool) {
	if n.ae == nil || n.ae.forest == nil {
		return nil, false
	}
	return n.ae.forest.Tree(r)
}

// tickAntiEntropy abandons an exchange past its deadline and, when the
// jittered interval has passed, starts the next one.
func (n *Node) tickAntiEntropy() {
	ae := n.ae
	if ae == nil {
		return
	}
	if s := ae.sess; s != nil && s.deadline <= n.now {
		n.stats.AntiEntropyTimeouts++
		n.endSession()
	}
	if n.now < ae.next {
		return
	}
	iv := n.cfg.AntiEntropyIntervalTicks
	ae.next = n.now + max(1, int64(iv/2+ae.rng.IntN(iv)))
	if ae.sess != nil || len(ae.owned) == 0 {
		return
	}
	// After a heal, exchanges go first to the pairs the sweep since the
	// heal has not compared (see Quiescent).
	if n.sweep.healed && !n.sweep.done {
		for range ae.owned {
			i := ae.cursor % len(ae.owned)
			ae.cursor++
			if p, ok := n.sweepPeer(ae.owned[i]); ok {
				t, _ := ae.forest.Tree(ae.owned[i].r)
				n.startExchange(t, p)
				return
			}
		}
	}
	// Round robin over the ranges; the k-th visit of a range picks its
	// k-th live peer (round robin too), skipping ranges with none.
	for range ae.owned {
		i := ae.cursor % len(ae.owned)
		visit := ae.cursor / len(ae.owned)
		ae.cursor++
		o := ae.owned[i]
		var peers []sim.NodeID
		for _, p := range o.replicas {
			if p != n.id && !n.believedDown(p) {
				peers = append(peers, p)
			}
		}
		if len(peers) == 0 {
			continue
		}
		t, _ := ae.forest.Tree(o.r)
		n.startExchange(t, peers[visit%len(peers)])
		return
	}
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
	switch {
	case n.ae == nil || n.ae.forest == nil:
		return fmt.Errorf("%w: %v keeps no Merkle trees (anti-entropy is off)", ErrBadRequest, n.id)
	case n.ae.sess != nil:
		return fmt.Errorf("%w: %v has an exchange in progress", ErrBadRequest, n.id)
	}
	t, ok := n.ae.forest.Find(h)
	if !ok {
		return fmt.Errorf("%w: %v keeps no tree for ring position %#x", ErrBadRequest, n.id, h)
	}
	for _, o := range n.ae.owned {
		if o.r == t.Range() && peer != n.id && slices.Contains(o.replicas, peer) {
			n.startExchange(t, peer)
			return nil
		}
	}
	return fmt.Errorf("%w: %v does not replicate the range at %#x with %v", ErrBadRequest, n.id, h, peer)
}

func (n *Node) startExchange(t *merkle.Tree, peer sim.NodeID) {
	s := merkle.NewSession(t, n.next())
	n.ae.sess = &aeSession{s: s, peer: peer, deadline: n.now + int64(n.cfg.RequestTimeoutTicks)}
	n.stats.AntiEntropyExchanges++
	q := s.Start()
	n.sendAE(peer, Message{Type: MsgTreeRequest, Op: s.ID(), Tree: &q})
}

// endSession drops the exchange in progress.
func (n *Node) endSession() {
	if n.ae != nil {
		n.ae.sess = nil
	}
}

// sendAE sends an anti-entropy message and counts it.
func (n *Node) sendAE(to sim.NodeID, m Message) {
	n.stats.AntiEntropyMessages++
	switch m.Type {
	case MsgTreeRequest:
		n.stats.AntiEntropyTreeBytes += uint64(m.Tree.Size())
	case MsgTreeReply:
		n.stats.AntiEntropyTreeBytes += uint64(m.TreeReply.Size())
	default:
		n.stats.AntiEntropyRepairBytes += itemBytes(m.Items)
	}
	n.send(to, m)
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
// requested range, or with a refusal if the node holds none.
func (n *Node) onTreeRequest(from sim.NodeID, m Message) {
	if n.ae == nil || n.ae.forest == nil {
		n.ignore(ignoreDisabled)
		return
	}
	p, err := n.ae.forest.Respond(*m.Tree)
	switch {
	case errors.Is(err, merkle.ErrUnknownRange):
		n.ignore(ignoreUnknownRange)
	case err != nil:
		n.ignore(ignoreMalformed)
	}
	n.sendAE(from, Message{Type: MsgTreeReply, Op: m.Op, TreeReply: &p})
}

// onTreeReply advances the node's exchange; at its end, it repairs the
// differing keys.
func (n *Node) onTreeReply(from sim.NodeID, m Message) {
	if n.ae == nil {
		n.ignore(ignoreDisabled)
		return
	}
	s := n.ae.sess
	if s == nil || s.s.ID() != m.Op {
		n.ignore(ignoreUnknownOp)
		return
	}
	if s.peer != from {
		n.ignore(ignoreUnexpected)
		return
	}
	q, more, err := s.s.Step(*m.TreeReply)
	switch {
	case errors.Is(err, merkle.ErrRefused):
		n.stats.AntiEntropyRefused++
		n.swept(s.s.Range().End, from) // the peer holds no such range: nothing to compare
		n.endSession()
	case err != nil:
		n.ignore(ignoreMalformed) // the session is unchanged, still waiting
	case more:
		s.deadline = n.now + int64(n.cfg.RequestTimeoutTicks)
		n.sendAE(from, Message{Type: MsgTreeRequest, Op: m.Op, Tree: &q})
	default:
		n.stats.AntiEntropyCompleted++
		n.endSession()
		n.swept(s.s.Range().End, from)
		n.repair(from, m.Op, s.s.Diffs())
	}
}

// repair sends the peer this node's versions of every differing key (none
// if it lacks the key), in batches; the peer merges them and answers with
// its own where they were not covered.
func (n *Node) repair(peer sim.NodeID, op uint64, diffs []merkle.Diff) {
	n.stats.AntiEntropyKeysDiffering += uint64(len(diffs))
	for len(diffs) > 0 {
		b := min(len(diffs), n.cfg.TransferBatchKeys)
		items := make([]KeySnapshot, 0, b)
		for _, d := range diffs[:b] {
			vs, _ := n.state.Get(d.Key)
			items = append(items, KeySnapshot{Key: d.Key, Versions: cloneVersions(vs)})
		}
		diffs = diffs[b:]
		n.sendAE(peer, Message{Type: MsgRepair, Op: op, Items: items})
	}
}

// ownsAll reports whether the node replicates every key of items.
func (n *Node) ownsAll(items []KeySnapshot) bool {
	for _, it := range items {
		if !n.replicates(it.Key) {
			return false
		}
	}
	return true
}

// onRepair merges a peer's versions of differing keys and answers with
// this node's merged versions of those the peer's did not cover.
func (n *Node) onRepair(from sim.NodeID, m Message) {
	if n.ae == nil {
		n.ignore(ignoreDisabled)
		return
	}
	if !n.ownsAll(m.Items) {
		n.ignore(ignoreNotOwner)
		return
	}
	var back []KeySnapshot
	for _, it := range m.Items {
		if len(it.Versions) > 0 {
			n.repairKey(it.Key, it.Versions)
		}
		cur, _ := n.state.Get(it.Key)
		if !covers(n.cfg.Resolve, it.Versions, cur) {
			back = append(back, KeySnapshot{Key: it.Key, Versions: cloneVersions(cur)})
		}
	}
	if len(back) > 0 {
		n.sendAE(from, Message{Type: MsgRepairReply, Op: m.Op, Items: back})
	}
}

// onRepairReply merges the versions a peer sent back.
func (n *Node) onRepairReply(m Message) {
	if n.ae == nil {
		n.ignore(ignoreDisabled)
		return
	}
	if !n.ownsAll(m.Items) {
		n.ignore(ignoreNotOwner)
		return
	}
	for _, it := range m.Items {
		n.repairKey(it.Key, it.Versions)
	}
}

// repairKey merges repaired versions into the store.
func (n *Node) repairKey(key string, vs []Version) {
	if changed, err := n.mergeData(key, vs); err == nil && changed {
		n.stats.AntiEntropyKeysRepaired++
	}
}
