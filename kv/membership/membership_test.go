package membership

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/internal/tidy"
	"github.com/faultline-sim/faultline/sim"
)

func newTable(t require.TestingT, cfg Config, id sim.NodeID, seed uint64) *Table {
	tb, err := New(cfg, Self{ID: id, Weight: 1}, sim.NewRNG(seed).Fork(fmt.Sprintf("membership/%d", id)))
	require.NoError(t, err)
	return tb
}

func TestNewRejectsBadConfig(t *testing.T) {
	rng := sim.NewRNG(1)
	for _, c := range []struct {
		cfg  Config
		self Self
	}{
		{Config{MaxNodes: -1}, Self{Weight: 1}},
		{Config{MaxNodes: MaxNodesLimit + 1}, Self{Weight: 1}},
		{Config{Fanout: -1}, Self{Weight: 1}},
		{Config{SuspectTicks: -2}, Self{Weight: 1}},
		{Config{DeadTicks: -2}, Self{Weight: 1}},
		{Config{MaxClaims: -1}, Self{Weight: 1}},
		{Config{MaxEvents: -1}, Self{Weight: 1}},
		{Config{MaxNodes: 4, Seeds: []sim.NodeID{4}}, Self{Weight: 1}},
		{Config{MaxNodes: 4}, Self{ID: 4, Weight: 1}},
		{Config{}, Self{Weight: 0}},
		{Config{MaxClaims: 2}, Self{Weight: 1, Claims: []uint64{1, 2, 3}}},
	} {
		_, err := New(c.cfg, c.self, rng)
		assert.ErrorIs(t, err, ErrBadConfig, "%+v %+v", c.cfg, c.self)
	}
	_, err := New(Config{}, Self{Weight: 1}, nil)
	assert.ErrorIs(t, err, ErrBadConfig)

	tb := newTable(t, Config{MaxClaims: 2}, 0, 1)
	assert.ErrorIs(t, tb.SetClaims(0, nil), ErrBadConfig)
	assert.ErrorIs(t, tb.SetClaims(1, []uint64{1, 2, 3}), ErrBadConfig)
	v := tb.Version()
	require.NoError(t, tb.SetClaims(2, []uint64{5}))
	assert.Greater(t, tb.Version(), v)
}

// genEntry draws an entry about node id from small ranges, so that ties in
// incarnation and heartbeat are common.
func genEntry(id sim.NodeID) *rapid.Generator[Entry] {
	return rapid.Custom(func(rt *rapid.T) Entry {
		e := Entry{
			ID:          id,
			Incarnation: rapid.Uint64Range(0, 3).Draw(rt, "inc"),
			Heartbeat:   rapid.Uint64Range(0, 3).Draw(rt, "hb"),
			Status:      Status(rapid.IntRange(1, 4).Draw(rt, "status")),
			Weight:      uint32(rapid.IntRange(1, 2).Draw(rt, "weight")),
			Epoch:       rapid.Uint64Range(0, 2).Draw(rt, "epoch"),
		}
		if rapid.Bool().Draw(rt, "claims") {
			e.Claims = rapid.SliceOfN(rapid.Uint64Range(0, 3), 0, 2).Draw(rt, "c")
		}
		return e
	})
}

func TestMembershipMergeIsAJoin(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		g := genEntry(7)
		a, b, c := g.Draw(rt, "a"), g.Draw(rt, "b"), g.Draw(rt, "c")
		require.True(rt, Merge(a, b).Equal(Merge(b, a)), "commutative")
		require.True(rt, Merge(a, a).Equal(a), "idempotent")
		require.True(rt, Merge(Merge(a, b), c).Equal(Merge(a, Merge(b, c))), "associative")
		m := Merge(a, b)
		require.True(rt, Merge(m, a).Equal(m) && Merge(m, b).Equal(m), "an upper bound")
	})
	// Different ids never mix.
	a := Entry{ID: 1, Incarnation: 5, Status: Alive, Weight: 1}
	assert.True(t, Merge(a, Entry{ID: 2, Incarnation: 9, Status: Dead, Weight: 1}).Equal(a))
}

func TestMembershipMergePrecedence(t *testing.T) {
	alive := Entry{ID: 1, Incarnation: 2, Heartbeat: 10, Status: Alive, Weight: 1}
	suspect := Entry{ID: 1, Incarnation: 2, Heartbeat: 10, Status: Suspect, Weight: 1}
	assert.Equal(t, Suspect, Merge(alive, suspect).Status, "suspect overrides alive at equal incarnation and heartbeat")
	dead := Entry{ID: 1, Incarnation: 2, Heartbeat: 10, Status: Dead, Weight: 1}
	assert.Equal(t, Dead, Merge(suspect, dead).Status, "dead overrides suspect")
	later := Entry{ID: 1, Incarnation: 2, Heartbeat: 11, Status: Alive, Weight: 1}
	assert.Equal(t, Alive, Merge(dead, later).Status, "a later heartbeat is evidence of life")
	refuted := Entry{ID: 1, Incarnation: 3, Heartbeat: 0, Status: Alive, Weight: 1}
	assert.Equal(t, Alive, Merge(Entry{ID: 1, Incarnation: 2, Heartbeat: 99, Status: Dead, Weight: 1}, refuted).Status, "a higher incarnation refutes")
	left := Entry{ID: 1, Incarnation: 2, Heartbeat: 0, Status: Left, Weight: 1}
	assert.Equal(t, Left, Merge(Entry{ID: 1, Incarnation: 2, Heartbeat: 99, Status: Alive, Weight: 1}, left).Status, "left is final within its incarnation")
	assert.Equal(t, Left, Merge(Entry{ID: 1, Incarnation: 1, Heartbeat: 99, Status: Alive, Weight: 1}, left).Status, "an older life does not undo a leave")
	rejoined := Entry{ID: 1, Incarnation: 3, Status: Alive, Weight: 1}
	assert.True(t, Merge(left, rejoined).Equal(rejoined), "a higher incarnation is a new life: it rejoins")
	newer := Entry{ID: 1, Incarnation: 2, Heartbeat: 12, Status: Alive, Weight: 3, Epoch: 4, Claims: []uint64{9}}
	got := Merge(suspect, newer)
	assert.Equal(t, []uint64{9}, got.Claims, "claims come from the latest heartbeat")
	assert.Equal(t, uint32(3), got.Weight)
}

// Left is final unless a higher incarnation rejoins: merging a Left entry
// with anything of its incarnation or older keeps it Left at that
// incarnation, and an entry of a higher incarnation replaces it whole.
func TestMembershipLeftIsFinalUnlessAHigherIncarnationRejoins(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		l := genEntry(3).Draw(rt, "left")
		l.Status = Left
		others := rapid.SliceOfN(genEntry(3), 0, 8).Draw(rt, "others")
		m := l
		for _, e := range others {
			m = Merge(m, e)
		}
		top := l.Incarnation
		for _, e := range others {
			top = max(top, e.Incarnation)
		}
		require.Equal(rt, top, m.Incarnation, "the highest incarnation wins")
		if top == l.Incarnation {
			require.Equal(rt, Left, m.Status, "nothing of the leaving incarnation or older undoes the leave")
			return
		}
		// A new life: the result is the best entry of the highest
		// incarnation, as if the leave had never been merged.
		var best Entry
		found := false
		for _, e := range others {
			if e.Incarnation == top {
				if !found {
					best, found = e, true
				}
				best = Merge(best, e)
			}
		}
		require.True(rt, m.Equal(best), "a higher incarnation beats left: %+v vs %+v", m, best)
	})
}

// A dead node stays dead until there is new evidence from the node itself:
// a higher incarnation or a later heartbeat.
func TestMembershipDeadStaysDeadWithoutHigherIncarnation(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		inc := rapid.Uint64Range(0, 3).Draw(rt, "inc")
		hb := rapid.Uint64Range(0, 3).Draw(rt, "hb")
		d := Entry{ID: 3, Incarnation: inc, Heartbeat: hb, Status: Dead, Weight: 1}
		old := genEntry(3).Filter(func(e Entry) bool {
			return e.Status != Left && (e.Incarnation < inc || (e.Incarnation == inc && e.Heartbeat <= hb))
		})
		others := rapid.SliceOfN(old, 0, 8).Draw(rt, "others")
		tb := newTable(rt, Config{}, 0, 1)
		inject(tb, d)
		for _, e := range others {
			d = Merge(d, e)
			require.Equal(rt, Dead, d.Status)
			require.Equal(rt, inc, d.Incarnation)
			tb.Receive(3, Message{Kind: Push, From: 3, Entries: []Entry{e}})
			st, _ := tb.Status(3)
			require.Equal(rt, Dead, st)
		}
	})
}

// Receiving the same messages in any order yields the same view.
func TestMembershipReceiveOrderIndependent(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(rt, "messages")
		var msgs []Message
		for range n {
			from := sim.NodeID(rapid.IntRange(1, 5).Draw(rt, "from"))
			ids := rapid.SliceOfNDistinct(rapid.IntRange(1, 8), 0, 6, rapid.ID[int]).Draw(rt, "ids")
			if !slices.Contains(ids, int(from)) {
				ids = append(ids, int(from))
			}
			slices.Sort(ids)
			m := Message{Kind: Reply, From: from}
			for _, id := range ids {
				m.Entries = append(m.Entries, genEntry(sim.NodeID(id)).Draw(rt, "e"))
			}
			msgs = append(msgs, m)
		}
		perm := rapid.Permutation(msgs).Draw(rt, "perm")
		a, b := newTable(rt, Config{}, 0, 1), newTable(rt, Config{}, 0, 1)
		for _, m := range msgs {
			a.Receive(m.From, m)
		}
		for _, m := range perm {
			b.Receive(m.From, m)
		}
		// Duplicates change nothing.
		for _, m := range msgs {
			b.Receive(m.From, m)
		}
		require.Equal(rt, a.View(), b.View())
		require.Equal(rt, a.Digest(), b.Digest())
	})
}

// A live node told that it is suspect or dead clears the verdict: by
// incarnating above it when the verdict is as recent as its own heartbeat,
// or by its later heartbeat otherwise; either way the next push makes it
// alive again at the accuser.
func TestMembershipLiveNodeRefutesSuspicion(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		x := newTable(rt, Config{}, 1, 1)
		y := newTable(rt, Config{}, 2, 2)
		own := rapid.Uint64Range(0, 5).Draw(rt, "own")
		ownHB := rapid.Uint64Range(0, 5).Draw(rt, "ownHB")
		x.members[0].Incarnation, x.members[0].Heartbeat = own, ownHB
		claim := rapid.Uint64Range(own, own+2).Draw(rt, "claimed")
		claimHB := rapid.Uint64Range(0, 7).Draw(rt, "claimedHB")
		st := rapid.SampledFrom([]Status{Suspect, Dead}).Draw(rt, "status")
		inject(y, Entry{ID: 1, Incarnation: claim, Heartbeat: claimHB, Status: st, Weight: 1})
		y.TakeEvents()

		// y pushes its view (with the verdict) to x.
		x.Receive(2, Message{Kind: Push, From: 2, Entries: y.View()})
		mustRefute := claim > own || claimHB >= ownHB
		if mustRefute {
			require.Greater(rt, x.Incarnation(), claim)
			require.Equal(rt, uint64(1), x.Stats().Refutations)
		} else {
			require.Equal(rt, own, x.Incarnation())
			require.Zero(rt, x.Stats().Refutations)
		}
		e, _ := x.Entry(1)
		require.Equal(rt, Alive, e.Status)

		// x's next push clears the verdict at y.
		x.Tick()
		y.Receive(1, Message{Kind: Push, From: 1, Entries: x.View()})
		s, _ := y.Status(1)
		require.Equal(rt, Alive, s)
		require.True(rt, y.Alive(1))
		ev := y.TakeEvents()
		require.Len(rt, ev, 1)
		require.Equal(rt, EventAlive, ev[0].Kind)
	})
}

// Bad input is ignored and counted, each under its own counter.
func TestMembershipIgnoresBadInput(t *testing.T) {
	cfg := Config{MaxNodes: 8, MaxClaims: 2}
	tb := newTable(t, cfg, 0, 1)
	good := Entry{ID: 3, Incarnation: 1, Heartbeat: 1, Status: Alive, Weight: 1}
	tb.Receive(3, Message{Kind: Push, From: 3, Entries: []Entry{good}})
	require.True(t, tb.Alive(3))
	view, digest, version := tb.View(), tb.Digest(), tb.Version()

	cases := []struct {
		name  string
		from  sim.NodeID
		msg   Message
		count func(Stats) uint64
	}{
		{"sender out of range", 8, Message{Kind: Push, From: 8, Entries: []Entry{{ID: 8, Status: Alive, Weight: 1}}}, func(s Stats) uint64 { return s.BadSender }},
		{"sender is self", 0, Message{Kind: Push, From: 0}, func(s Stats) uint64 { return s.BadSender }},
		{"From mismatch", 3, Message{Kind: Push, From: 4, Entries: []Entry{good}}, func(s Stats) uint64 { return s.BadSender }},
		{"unknown kind", 3, Message{Kind: 9, From: 3, Entries: []Entry{good}}, func(s Stats) uint64 { return s.Malformed }},
		{"too many entries", 3, Message{Kind: Push, From: 3, Entries: make([]Entry, 9)}, func(s Stats) uint64 { return s.Malformed }},
		{"unsorted", 3, Message{Kind: Push, From: 3, Entries: []Entry{good, {ID: 1, Status: Dead, Weight: 1}}}, func(s Stats) uint64 { return s.Malformed }},
		{"duplicate", 3, Message{Kind: Push, From: 3, Entries: []Entry{good, good}}, func(s Stats) uint64 { return s.Malformed }},
		{"sender entry invalid", 3, Message{Kind: Push, From: 3, Entries: []Entry{{ID: 3, Incarnation: 9, Status: 7, Weight: 1}}}, func(s Stats) uint64 { return s.Malformed }},
		{"unknown silent peer", 5, Message{Kind: Push, From: 5, Entries: []Entry{{ID: 3, Incarnation: 9, Status: Dead, Weight: 1}}}, func(s Stats) uint64 { return s.UnknownPeer }},
		{"entry id out of range", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 100, Status: Alive, Weight: 1}}}, func(s Stats) uint64 { return s.BadEntries }},
		{"entry bad status", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 2, Status: 0, Weight: 1}}}, func(s Stats) uint64 { return s.BadEntries }},
		{"entry zero weight", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 2, Status: Alive}}}, func(s Stats) uint64 { return s.BadEntries }},
		{"entry too many claims", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 2, Status: Alive, Weight: 1, Claims: []uint64{1, 2, 3}}}}, func(s Stats) uint64 { return s.BadEntries }},
		{"saturated incarnation", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 0, Incarnation: math.MaxUint64, Status: Dead, Weight: 1}}}, func(s Stats) uint64 { return s.BadEntries }},
		{"saturated heartbeat", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 2, Heartbeat: math.MaxUint64, Status: Alive, Weight: 1}}}, func(s Stats) uint64 { return s.BadEntries }},
		{"stale incarnation", 3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 3, Incarnation: 0, Heartbeat: 50, Status: Dead, Weight: 1}}}, func(s Stats) uint64 { return s.Stale }},
	}
	for _, c := range cases {
		before := c.count(tb.Stats())
		out := tb.Receive(c.from, c.msg)
		assert.Empty(t, out, c.name)
		assert.Equal(t, before+1, c.count(tb.Stats()), c.name)
		assert.Equal(t, view, tb.View(), "%s: the view is unchanged", c.name)
		assert.Equal(t, digest, tb.Digest(), c.name)
		assert.Equal(t, version, tb.Version(), c.name)
	}
	assert.Equal(t, uint64(len(cases)+1), tb.Stats().Received)
	assert.Zero(t, tb.Stats().Refutations)
}

// A claim that this node left, when it has not, comes from an earlier
// life of the id: at or above its incarnation it is refuted by incarnating
// above it; below it, it is stale and changes nothing. A node that did
// leave stays left.
func TestMembershipRefutesALeftClaimOfAnEarlierLife(t *testing.T) {
	for _, c := range []struct {
		name        string
		own, leftAt uint64
		want        uint64
	}{
		{"same incarnation (its leave was not persisted)", 4, 4, 5},
		{"higher incarnation", 4, 6, 7},
		{"older life", 4, 3, 4},
	} {
		tb, err := New(Config{MaxNodes: 8}, Self{ID: 0, Weight: 1, Incarnation: c.own}, sim.NewRNG(1).Fork("membership/0"))
		require.NoError(t, err)
		inject(tb, Entry{ID: 3, Status: Alive, Weight: 1})
		tb.Receive(3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 0, Incarnation: c.leftAt, Heartbeat: 9, Status: Left, Weight: 1}}})
		assert.Equal(t, c.want, tb.Incarnation(), c.name)
		st, _ := tb.Status(0)
		assert.Equal(t, Alive, st, c.name)
		assert.Equal(t, uint64(0), tb.Stats().BadEntries, c.name)
		self, _ := tb.Entry(0)
		assert.True(t, Merge(self, Entry{ID: 0, Incarnation: c.leftAt, Heartbeat: 9, Status: Left, Weight: 1}).Equal(self),
			"%s: the node's entry beats the Left one everywhere", c.name)
	}
	tb := newTable(t, Config{MaxNodes: 8}, 0, 1)
	inject(tb, Entry{ID: 3, Status: Alive, Weight: 1})
	tb.Leave()
	tb.Receive(3, Message{Kind: Reply, From: 3, Entries: []Entry{{ID: 0, Incarnation: 7, Status: Alive, Weight: 1}}})
	st, _ := tb.Status(0)
	assert.Equal(t, Left, st, "a node that left does not refute its own leave")
	assert.Zero(t, tb.Incarnation())
}

// Random garbage never panics a table or breaks its invariants.
func TestMembershipGarbageNeverCorrupts(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{MaxNodes: 6, MaxClaims: 2}
		tb := newTable(rt, cfg, 1, 1)
		anyEntry := rapid.Custom(func(rt *rapid.T) Entry {
			return Entry{
				ID:          sim.NodeID(rapid.IntRange(0, 8).Draw(rt, "id")),
				Incarnation: rapid.Uint64Range(0, 4).Draw(rt, "inc"),
				Heartbeat:   rapid.Uint64Range(0, 4).Draw(rt, "hb"),
				Status:      Status(rapid.IntRange(0, 5).Draw(rt, "st")),
				Weight:      uint32(rapid.IntRange(0, 2).Draw(rt, "w")),
				Claims:      rapid.SliceOfN(rapid.Uint64(), 0, 3).Draw(rt, "c"),
			}
		})
		steps := rapid.IntRange(1, 30).Draw(rt, "steps")
		for range steps {
			if rapid.IntRange(0, 4).Draw(rt, "tick") == 0 {
				tb.Tick()
				continue
			}
			from := sim.NodeID(rapid.IntRange(0, 8).Draw(rt, "from"))
			msg := Message{
				Kind:    Kind(rapid.IntRange(0, 3).Draw(rt, "kind")),
				From:    sim.NodeID(rapid.IntRange(0, 8).Draw(rt, "msgFrom")),
				Entries: rapid.SliceOfN(anyEntry, 0, 8).Draw(rt, "entries"),
			}
			if rapid.Bool().Draw(rt, "sorted") {
				slices.SortFunc(msg.Entries, func(a, b Entry) int { return int(a.ID) - int(b.ID) })
			}
			for _, o := range tb.Receive(from, msg) {
				require.Equal(rt, from, o.To)
				require.Equal(rt, Reply, o.Msg.Kind)
			}
			view := tb.View()
			require.True(rt, slices.IsSortedFunc(view, func(a, b Entry) int { return int(a.ID) - int(b.ID) }))
			for i, e := range view {
				require.NoError(rt, cfg.withDefaults().checkEntry(e))
				if i > 0 {
					require.NotEqual(rt, view[i-1].ID, e.ID)
				}
			}
			self, ok := tb.Entry(1)
			require.True(rt, ok)
			require.Equal(rt, Alive, self.Status)
		}
	})
}

func TestMembershipEventsAreBounded(t *testing.T) {
	tb := newTable(t, Config{MaxEvents: 3}, 0, 1)
	for id := sim.NodeID(1); id <= 5; id++ {
		tb.Receive(id, Message{Kind: Reply, From: id, Entries: []Entry{{ID: id, Status: Alive, Weight: 1}}})
	}
	ev := tb.TakeEvents()
	require.Len(t, ev, 3)
	assert.Equal(t, sim.NodeID(3), ev[0].ID, "the oldest events are dropped")
	assert.Equal(t, uint64(2), tb.Stats().DroppedEvents)
	assert.Empty(t, tb.TakeEvents())
}

func TestMembershipClaimOwners(t *testing.T) {
	view := []Entry{
		{ID: 0, Status: Alive, Weight: 1, Epoch: 1, Claims: []uint64{0, 1, 2, 3}},
		{ID: 1, Status: Dead, Weight: 1, Epoch: 1, Claims: []uint64{4, 5}},
		{ID: 2, Status: Alive, Weight: 1, Epoch: 2, Claims: []uint64{1, 3, 99}},
		{ID: 3, Status: Left, Weight: 1, Epoch: 9, Claims: []uint64{0}},
		{ID: 4, Status: Alive, Weight: 1, Epoch: 1, Claims: []uint64{5}},
	}
	assert.Equal(t, []sim.NodeID{0, 2, 0, 2, 1, 4, NoOwner}, ClaimOwners(view, 7))
	assert.Nil(t, ClaimOwners(view, 0))
}

func TestMembershipMessageSizeIsExactMsgpack(t *testing.T) {
	anyUint := rapid.OneOf(rapid.Uint64Range(0, 300), rapid.Uint64Range(0, 1<<17), rapid.Uint64())
	rapid.Check(t, func(rt *rapid.T) {
		m := Message{Kind: Kind(rapid.Uint8().Draw(rt, "k")), From: sim.NodeID(rapid.Uint32().Draw(rt, "f"))}
		n := rapid.OneOf(rapid.IntRange(0, 3), rapid.IntRange(14, 18)).Draw(rt, "n")
		for range n {
			m.Entries = append(m.Entries, Entry{
				ID: sim.NodeID(rapid.Uint32().Draw(rt, "id")), Incarnation: anyUint.Draw(rt, "inc"), Heartbeat: anyUint.Draw(rt, "hb"),
				Status: Status(rapid.Uint8().Draw(rt, "s")), Weight: rapid.Uint32().Draw(rt, "w"), Epoch: anyUint.Draw(rt, "e"),
				Claims: rapid.SliceOfN(anyUint, 0, 20).Draw(rt, "c"),
			})
		}
		var b []byte
		require.NoError(rt, codec.NewEncoderBytes(&b, &codec.MsgpackHandle{}).Encode(m))
		require.Equal(rt, len(b), m.Size())
	})
}

func TestMembershipSourceIsDeterministic(t *testing.T) {
	vs, err := tidy.CheckDir(".")
	require.NoError(t, err)
	require.Empty(t, vs)
}

// inject merges e into tb's view directly, as if gossiped.
func inject(tb *Table, e Entry) {
	i, _ := tb.find(e.ID)
	tb.apply(e, i)
}
