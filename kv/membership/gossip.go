package membership

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/internal/wiresize"
	"github.com/faultline-sim/faultline/sim"
)

// Kind says whether a gossip message asks for a reply.
type Kind uint8

// The kinds of Message.
const (
	// Push carries the sender's whole view; the receiver answers with a
	// Reply holding the entries the sender is missing, if any.
	Push Kind = 1
	// Reply carries entries the receiver of a Push knew better; it is
	// never answered.
	Reply Kind = 2
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Push:
		return "push"
	case Reply:
		return "reply"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Message is one gossip message: plain data, entries sorted by id.
type Message struct {
	Kind    Kind       `codec:"k"`
	From    sim.NodeID `codec:"f"`
	Entries []Entry    `codec:"e"`
}

// Outgoing is a message for the node to send.
type Outgoing struct {
	To  sim.NodeID
	Msg Message
}

// Size returns the exact length of the msgpack encoding of m under
// hashicorp/go-msgpack/v2's default MsgpackHandle.
func (m Message) Size() int {
	n := hdr(3) + 3*2 + uintSize(uint64(m.Kind)) + uintSize(uint64(m.From)) + hdr(len(m.Entries))
	for _, e := range m.Entries {
		n += e.size()
	}
	return n
}

func (e Entry) size() int {
	n := hdr(7) + 7*2 + uintSize(uint64(e.ID)) + uintSize(e.Incarnation) + uintSize(e.Heartbeat) +
		uintSize(uint64(e.Status)) + uintSize(uint64(e.Weight)) + uintSize(e.Epoch) + hdr(len(e.Claims))
	for _, c := range e.Claims {
		n += uintSize(c)
	}
	return n
}

func uintSize(x uint64) int { return wiresize.Uint(x) }
func hdr(n int) int         { return wiresize.Container(n) }

// Tick advances this node by one gossip round: it raises its own heartbeat,
// runs the failure detector over the other entries and returns its whole
// view pushed to up to Fanout random live peers, plus, with probability
// dead/(live+1), one random dead node (so partitions heal) and, while it
// knows fewer live peers than Fanout, one seed (so a new node joins).
func (t *Table) Tick() []Outgoing {
	t.now++
	t.stats.Ticks++
	s := &t.members[t.selfIndex()]
	s.Heartbeat++
	s.progress = t.now
	t.detect()
	peers := t.pickPeers()
	if len(peers) == 0 {
		return nil
	}
	// The pushes of one tick share one copy of the view: messages are
	// read-only values (encoded on send in a simulated run).
	msg := Message{Kind: Push, From: t.self, Entries: t.View()}
	size := uint64(msg.Size())
	out := make([]Outgoing, len(peers))
	for i, p := range peers {
		out[i] = Outgoing{To: p, Msg: msg}
		t.stats.PushesSent++
		t.stats.BytesSent += size
	}
	return out
}

// detect moves alive nodes without heartbeat progress for SuspectTicks to
// suspect, and suspect nodes without progress for DeadTicks more to dead.
func (t *Table) detect() {
	for i := range t.members {
		m := &t.members[i]
		if m.ID == t.self {
			continue
		}
		switch m.Status {
		case Alive:
			if t.now-m.progress >= uint64(t.cfg.SuspectTicks) {
				m.Status = Suspect
				m.suspectAt = t.now
				t.version++
				t.emit(EventSuspect, m)
			}
		case Suspect:
			if t.now-max(m.progress, m.suspectAt) >= uint64(t.cfg.DeadTicks) {
				m.Status = Dead
				t.version++
				t.emit(EventDead, m)
			}
		}
	}
}

// pickPeers draws this tick's gossip targets from the table's RNG.
func (t *Table) pickPeers() []sim.NodeID {
	live := t.scratch[:0]
	var dead []sim.NodeID
	for _, m := range t.members {
		switch {
		case m.ID == t.self:
		case m.Status == Alive || m.Status == Suspect:
			live = append(live, m.ID)
		case m.Status == Dead:
			dead = append(dead, m.ID)
		}
	}
	t.scratch = live
	k := min(t.cfg.Fanout, len(live))
	out := make([]sim.NodeID, 0, k+2)
	for i := range k { // partial Fisher-Yates
		j := i + t.rng.IntN(len(live)-i)
		live[i], live[j] = live[j], live[i]
		out = append(out, live[i])
	}
	if len(dead) > 0 && t.rng.Uint64N(uint64(len(live)+1)) < uint64(len(dead)) {
		out = append(out, dead[t.rng.IntN(len(dead))])
	}
	if len(live) < t.cfg.Fanout {
		var seeds []sim.NodeID
		for _, id := range t.cfg.Seeds {
			if st, ok := t.Status(id); id == t.self || slices.Contains(out, id) || slices.Contains(seeds, id) || (ok && st == Left) {
				continue
			}
			seeds = append(seeds, id)
		}
		if len(seeds) > 0 {
			out = append(out, seeds[t.rng.IntN(len(seeds))])
		}
	}
	return out
}

// Receive merges a gossip message that arrived from node from and returns
// the reply to send, if any (only a Push is answered, with the entries the
// sender lacks or knows worse). Bad input is ignored and counted in Stats:
// a bad sender, a malformed message, an unknown sender that does not
// announce itself, invalid entries (skipped one by one).
func (t *Table) Receive(from sim.NodeID, msg Message) []Outgoing {
	t.stats.Received++
	if int64(from) >= int64(t.cfg.MaxNodes) || from == t.self || msg.From != from {
		t.stats.BadSender++
		return nil
	}
	if (msg.Kind != Push && msg.Kind != Reply) || len(msg.Entries) > t.cfg.MaxNodes {
		t.stats.Malformed++
		return nil
	}
	for i := 1; i < len(msg.Entries); i++ {
		if msg.Entries[i-1].ID >= msg.Entries[i].ID {
			t.stats.Malformed++
			return nil
		}
	}
	k, announced := findEntry(msg.Entries, from)
	if announced && t.cfg.checkEntry(msg.Entries[k]) != nil {
		t.stats.Malformed++
		return nil
	}
	if _, known := t.find(from); !known && !announced {
		t.stats.UnknownPeer++
		return nil
	}
	// Both lists are sorted by id: merge them in one pass.
	i := 0
	for _, e := range msg.Entries {
		if t.cfg.checkEntry(e) != nil {
			t.stats.BadEntries++
			continue
		}
		for i < len(t.members) && t.members[i].ID < e.ID {
			i++
		}
		t.apply(e, i)
	}
	if msg.Kind != Push {
		return nil
	}
	// Reply with every entry the sender lacks or holds older.
	var delta []Entry
	j := 0
	for _, m := range t.members {
		for j < len(msg.Entries) && msg.Entries[j].ID < m.ID {
			j++
		}
		if j < len(msg.Entries) && msg.Entries[j].ID == m.ID && t.cfg.checkEntry(msg.Entries[j]) == nil && order(msg.Entries[j], m.Entry) >= 0 {
			continue
		}
		delta = append(delta, m.Entry.Clone())
	}
	if len(delta) == 0 {
		return nil
	}
	reply := Message{Kind: Reply, From: t.self, Entries: delta}
	t.stats.RepliesSent++
	t.stats.BytesSent += uint64(reply.Size())
	return []Outgoing{{To: from, Msg: reply}}
}

func findEntry(es []Entry, id sim.NodeID) (int, bool) {
	return slices.BinarySearchFunc(es, id, func(e Entry, id sim.NodeID) int { return cmp.Compare(e.ID, id) })
}

// apply merges one valid entry into the view; i is its index in members,
// or where it would be inserted.
func (t *Table) apply(e Entry, i int) {
	if e.ID == t.self {
		t.applySelf(e)
		return
	}
	if i >= len(t.members) || t.members[i].ID != e.ID {
		m := member{Entry: e.Clone(), progress: t.now, suspectAt: t.now}
		t.members = slices.Insert(t.members, i, m)
		t.stats.Merged++
		t.version++
		if e.Status != Left {
			t.ringVer++
		}
		t.emit(EventJoined, &m)
		return
	}
	old := t.members[i].Entry
	if order(e, old) <= 0 { // Merge(old, e) == old: nothing new
		if e.Incarnation < old.Incarnation {
			t.stats.Stale++
		}
		return
	}
	merged := e.Clone()
	t.stats.Merged++
	m := &t.members[i]
	if merged.Incarnation > old.Incarnation || merged.Heartbeat > old.Heartbeat {
		m.progress = t.now
	}
	m.Entry = merged
	if merged.Incarnation != old.Incarnation || merged.Status != old.Status || !sameClaims(merged, old) {
		t.version++
	}
	if !sameClaims(merged, old) || (merged.Status == Left) != (old.Status == Left) {
		t.ringVer++
	}
	if merged.Status == old.Status {
		return
	}
	if merged.Status == Suspect {
		m.suspectAt = t.now
	}
	switch {
	case old.Status == Left:
		// A new life of a node that left: it rejoined.
		t.emit(EventJoined, m)
	case merged.Status == Alive:
		t.emit(EventAlive, m)
	case merged.Status == Suspect:
		t.emit(EventSuspect, m)
	case merged.Status == Dead:
		t.emit(EventDead, m)
	case merged.Status == Left:
		t.emit(EventLeft, m)
	}
}

func sameClaims(a, b Entry) bool {
	return a.Weight == b.Weight && a.Epoch == b.Epoch && slices.Equal(a.Claims, b.Claims)
}

// applySelf handles gossip about this node. A verdict (suspect or dead) at
// its own incarnation and at least its own heartbeat, or any entry with a
// higher incarnation (e.g. from before a restart), is refuted by
// incarnating above it; a verdict at an older heartbeat is already beaten
// by the node's current entry. A higher heartbeat of its own incarnation
// (lost in a restart) is adopted. A claim that this node left, when it has
// not, comes from an earlier life of this node id (only a node itself
// leaves): at this node's incarnation or above it is refuted like a
// verdict, by incarnating above it, so the rejoined node's entry beats the
// Left one everywhere; below it, it is already beaten.
func (t *Table) applySelf(e Entry) {
	s := &t.members[t.selfIndex()]
	switch {
	case s.Status == Left:
	case e.Incarnation > s.Incarnation || (e.Incarnation == s.Incarnation && e.Status != Alive && e.Heartbeat >= s.Heartbeat) ||
		(e.Incarnation == s.Incarnation && e.Status == Left):
		s.Incarnation = e.Incarnation + 1
		s.progress = t.now
		t.stats.Refutations++
		t.version++
	case e.Incarnation == s.Incarnation && e.Heartbeat > s.Heartbeat:
		s.Heartbeat = e.Heartbeat
	}
}
