package kv

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

func testConfig(resolve ResolveMode) Config {
	c := DefaultConfig()
	c.Resolve = resolve
	c.RequestTimeoutTicks = 10
	return c
}

func TestNewNodeRejectsBadDependencies(t *testing.T) {
	r, err := ring.New(ring.Config{Seed: 1, VNodes: 4}, ring.Member{ID: 1, Weight: 1}, ring.Member{ID: 2, Weight: 1}, ring.Member{ID: 3, Weight: 1})
	require.NoError(t, err)
	wall := func() int64 { return 0 }
	rng := sim.NewRNG(1)
	cfg := DefaultConfig()
	_, err = NewNode(1, cfg, nil, NewMemStore(), wall, rng)
	assert.ErrorContains(t, err, "nil ring")
	_, err = NewNode(1, cfg, r, nil, wall, rng)
	assert.ErrorContains(t, err, "nil store")
	_, err = NewNode(1, cfg, r, NewMemStore(), nil, rng)
	assert.ErrorContains(t, err, "nil wall clock")
	_, err = NewNode(1, cfg, r, NewMemStore(), wall, nil)
	assert.ErrorContains(t, err, "nil rng")
	cfg.N = 5
	_, err = NewNode(1, cfg, r, NewMemStore(), wall, rng)
	require.ErrorIs(t, err, ErrBadConfig)
	assert.ErrorContains(t, err, "N=5: larger than the 3 nodes")
}

func TestSubmitRejectsBadRequests(t *testing.T) {
	c := newSimCluster(t, testConfig(VectorClock), 3, 1)
	c.cfg.MaxValueBytes = 8
	ctxA := EncodeContext("a", VClock{{Node: 1, Counter: 1}})
	cfg := testConfig(VectorClock)
	cfg.MaxValueBytes, cfg.MaxKeyBytes = 8, 4
	c = newSimCluster(t, cfg, 3, 1)
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Op: Put, Key: "", Value: []byte("v")}, "empty key"},
		{Request{Op: Put, Key: "toolong", Value: []byte("v")}, "MaxKeyBytes=4"},
		{Request{Op: Put, Key: "a", Value: []byte("123456789")}, "value of 9 bytes exceeds MaxValueBytes=8"},
		{Request{Op: 0, Key: "a"}, "use Get, Put or Delete"},
		{Request{Op: Get, Key: "a", Value: []byte("x")}, "a get carries no value"},
		{Request{Op: Delete, Key: "a", Value: []byte("x")}, "a delete carries no value"},
		{Request{Op: Get, Key: "a", Context: ctxA}, "a get takes no context"},
		{Request{Op: Put, Key: "b", Value: []byte("v"), Context: ctxA}, `context belongs to key "a", not "b"`},
		{Request{Op: Put, Key: "a", Value: []byte("v"), Context: []byte("junkjunkjunk")}, "wrong magic"},
		{Request{Op: Put, Key: "a", Value: []byte("v"), Context: append(ctxA[:len(ctxA)-1:len(ctxA)-1], 0)}, "checksum mismatch"},
		{Request{Op: Put, Key: "a", Value: []byte("v"), W: 4}, "W=4 > N=3"},
		{Request{Op: Get, Key: "a", R: 4}, "R=4 > N=3"},
		{Request{Op: Get, Key: "a", N: 4}, "N=4: larger than the 3 nodes"},
		{Request{Op: Get, Key: "a", N: 1}, "W=2 > N=1"},
		{Request{Op: Get, Key: "a", N: -1}, "negative N/W/R override"},
	}
	for i, tc := range cases {
		tc.req.ID = uint64(100 + i)
		c.submit(1, tc.req)
		rep, ok := c.takeReply(tc.req.ID)
		require.True(t, ok, "request %d got no immediate reply", i)
		assert.Equal(t, Fail, rep.Status, "case %d", i)
		assert.Contains(t, rep.Err, "kv: bad request", "case %d", i)
		assert.Contains(t, rep.Err, tc.want, "case %d", i)
	}
	assert.Empty(t, c.net, "a rejected request sends nothing")
	assert.Empty(t, c.node(1).Snapshot().Keys)
	assert.Equal(t, uint64(len(cases)), c.node(1).Stats().RepliesFail)
	// A valid override is accepted.
	c.submit(1, Request{ID: 1, Op: Put, Key: "a", Value: []byte("v"), N: 1, W: 1, R: 1})
	c.settle()
	rep, ok := c.takeReply(1)
	require.True(t, ok)
	assert.Equal(t, OK, rep.Status, rep.Err)
}

func TestStepIgnoresAndCountsBadMessages(t *testing.T) {
	c := newSimCluster(t, testConfig(LWW), 3, 1)
	c.submit(1, Request{ID: 1, Op: Put, Key: "a", Value: []byte("v")})
	c.settle()
	n := c.node(2)
	before := n.Snapshot()
	good := Version{Value: []byte("x"), Timestamp: 1, Dot: Dot{Node: 1, Counter: 99}}
	msgs := []struct {
		m      Message
		reason string
	}{
		{Message{Type: 0}, "unknown-type"},
		{Message{Type: 200}, "unknown-type"},
		{Message{Type: MsgWrite, Key: "", Versions: []Version{good}}, "malformed"},
		{Message{Type: MsgWrite, Key: "a"}, "malformed"},
		{Message{Type: MsgWrite, Key: "a", Versions: []Version{good, good}}, "malformed"},           // LWW: one version
		{Message{Type: MsgWrite, Key: "a", Versions: []Version{{Value: []byte("x")}}}, "malformed"}, // no dot
		{Message{Type: MsgWrite, Key: "a", Versions: []Version{{Tombstone: true, Value: []byte("x"), Dot: good.Dot}}}, "malformed"},
		{Message{Type: MsgWrite, Key: "a", Versions: []Version{{Value: make([]byte, 2<<20), Dot: good.Dot}}}, "malformed"},
		{Message{Type: MsgWrite, Key: "a", Versions: []Version{{Dot: good.Dot, Context: VClock{{Node: 2, Counter: 1}, {Node: 1, Counter: 1}}}}}, "malformed"},
		{Message{Type: MsgRead, Key: "a", Op: 0}, "malformed"},
		{Message{Type: MsgReadReply, Key: "a", Op: 12345}, "unknown-op"},
		{Message{Type: MsgWriteAck, Key: "a", Op: 12345}, "unknown-op"},
		{Message{Type: MsgForwardReply, Op: 12345}, "unknown-op"},
		{Message{Type: MsgHandoffAck, Key: ""}, "malformed"},
	}
	for i, tc := range msgs {
		st := n.Stats()
		require.NotPanics(t, func() { n.Step(3, tc.m) }, "message %d", i)
		after := n.Stats()
		for j, ic := range after.Ignored {
			if ic.Reason == tc.reason {
				assert.Equal(t, st.Ignored[j].Count+1, ic.Count, "message %d should count as %s", i, tc.reason)
			}
		}
		assert.Equal(t, st.IgnoredTotal()+1, after.IgnoredTotal(), "message %d", i)
	}
	assert.Equal(t, before, n.Snapshot(), "ignored messages change nothing")
	assert.Empty(t, n.Ready().Messages, "ignored messages are not answered")
}

// Random garbage from the network never panics and never leaves a node
// unable to serve a request.
func TestStepSurvivesArbitraryMessages(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		resolve := rapid.SampledFrom([]ResolveMode{LWW, VectorClock}).Draw(rt, "resolve")
		cfg := testConfig(resolve)
		cfg.AntiEntropyIntervalTicks = 3
		if rapid.Bool().Draw(rt, "gossip") {
			cfg.Membership, cfg.GossipIntervalTicks = MembershipGossip, 1
		}
		c := newSimCluster(t, cfg, 3, 1)
		n := c.node(1)
		for i := rapid.IntRange(1, 20).Draw(rt, "count"); i > 0; i-- {
			var vs []Version
			for j := rapid.IntRange(0, 3).Draw(rt, "nv"); j > 0; j-- {
				var ctx VClock
				for k := rapid.IntRange(0, 3).Draw(rt, "nctx"); k > 0; k-- {
					ctx = append(ctx, ClockEntry{Node: sim.NodeID(rapid.Uint32Range(0, 5).Draw(rt, "cn")), Counter: rapid.Uint64Range(0, 3).Draw(rt, "cc")})
				}
				vs = append(vs, Version{
					Value: []byte(rapid.StringN(0, 4, -1).Draw(rt, "v")), Tombstone: rapid.Bool().Draw(rt, "tomb"),
					Timestamp: rapid.Int64().Draw(rt, "ts"),
					Dot:       Dot{Node: sim.NodeID(rapid.Uint32Range(0, 5).Draw(rt, "dn")), Counter: rapid.Uint64Range(0, 3).Draw(rt, "dc")},
					Context:   ctx,
				})
			}
			m := Message{
				Type: MsgType(rapid.IntRange(0, int(msgTypeEnd)+1).Draw(rt, "type")), Op: rapid.Uint64Range(0, 3).Draw(rt, "op"),
				Key: rapid.SampledFrom([]string{"", "a", "b"}).Draw(rt, "key"), Versions: vs,
				Hinted: rapid.Bool().Draw(rt, "hinted"), HintFor: sim.NodeID(rapid.Uint32Range(0, 5).Draw(rt, "hf")),
				Refused: rapid.Bool().Draw(rt, "refused"), HintID: rapid.Uint64Range(0, 3).Draw(rt, "hid"),
				Req:      &Request{ID: 7, Op: OpKind(rapid.IntRange(0, 4).Draw(rt, "rop")), Key: rapid.SampledFrom([]string{"", "a"}).Draw(rt, "rkey")},
				ArcStart: rapid.Uint64().Draw(rt, "as"), ArcEnd: rapid.Uint64().Draw(rt, "ae"),
				Force: rapid.Bool().Draw(rt, "force"), Last: rapid.Bool().Draw(rt, "last"), Wait: rapid.Bool().Draw(rt, "wait"),
				Tree: &merkle.Request{ID: rapid.Uint64Range(0, 3).Draw(rt, "tid"), Kind: merkle.Kind(rapid.IntRange(0, 4).Draw(rt, "tkind")),
					Depth: uint8(rapid.IntRange(0, 4).Draw(rt, "tdepth")), Fanout: uint16(rapid.IntRange(0, 20).Draw(rt, "tfan")),
					Level: uint8(rapid.IntRange(0, 4).Draw(rt, "tlevel")), Indexes: []uint32{rapid.Uint32Range(0, 300).Draw(rt, "tidx")}},
				Gossip: &membership.Message{Kind: membership.Kind(rapid.IntRange(0, 3).Draw(rt, "gkind")), From: sim.NodeID(rapid.Uint32Range(0, 5).Draw(rt, "gfrom")),
					Entries: []membership.Entry{{ID: sim.NodeID(rapid.Uint32Range(0, 5).Draw(rt, "gid")), Status: membership.Status(rapid.IntRange(0, 5).Draw(rt, "gst")),
						Weight: rapid.Uint32Range(0, 2).Draw(rt, "gw"), Incarnation: rapid.Uint64Range(0, 3).Draw(rt, "ginc"), Claims: []uint64{1}}}},
			}
			if rapid.Bool().Draw(rt, "items") {
				m.Items = []KeySnapshot{{Key: m.Key, Versions: vs}}
			}
			if rapid.Bool().Draw(rt, "reply") {
				m.TreeReply = &merkle.Response{ID: m.Op, Kind: m.Tree.Kind, Level: m.Tree.Level, Equal: rapid.Bool().Draw(rt, "eq"),
					Hashes: []uint64{rapid.Uint64().Draw(rt, "h")}, Entries: []merkle.Entry{{Key: m.Key}}, Refused: rapid.Bool().Draw(rt, "ref")}
			}
			if rapid.Bool().Draw(rt, "nil") {
				m.Tree, m.Gossip = nil, nil
			}
			from := sim.NodeID(rapid.Uint32Range(0, 1<<31).Draw(rt, "from"))
			require.NotPanics(t, func() { n.Step(from, m) })
			n.Ready()
			n.Tick()
		}
		// Garbage may have made n1 send requests nobody answers, so it may
		// suspect its peers; its probes clear that within a few ticks.
		c.net = nil
		for i := 0; i < 2*c.cfg.ProbeIntervalTicks; i++ {
			c.tick()
			for c.step(0) {
			}
		}
		c.submit(1, Request{ID: 999, Op: Put, Key: "z", Value: []byte("ok")})
		c.settle()
		rep, ok := c.takeReply(999)
		require.True(t, ok)
		require.Equal(t, OK, rep.Status, rep.Err)
		checkTrees(t, n) // garbage never desynchronises a tree from the store
	})
}

// A write every replica explicitly refuses certainly took effect nowhere:
// fail, not timeout.
func TestWriteRefusedByEveryReplicaFails(t *testing.T) {
	cfg := testConfig(LWW)
	c := newSimCluster(t, cfg, 4, 1)
	pref, err := c.ring.PreferenceList("k", 3, nil)
	require.NoError(t, err)
	var outsider sim.NodeID
	for id := sim.NodeID(1); id <= 4; id++ {
		if !containsID(pref, id) {
			outsider = id
		}
	}
	n := c.node(outsider)
	n.Submit(Request{ID: 1, Op: Put, Key: "k", Value: []byte("v")})
	rd := n.Ready()
	require.Len(t, rd.Messages, 3)
	for _, e := range rd.Messages {
		n.Step(e.To, Message{Type: MsgWriteAck, Op: e.Msg.Op, Key: "k", Refused: true, Err: "disk full"})
	}
	rd = n.Ready()
	require.Len(t, rd.Replies, 1)
	assert.Equal(t, Fail, rd.Replies[0].Status)
	assert.Contains(t, rd.Replies[0].Err, "every replica refused the write")
	assert.Contains(t, rd.Replies[0].Err, "disk full")

	// One acknowledgement and two refusals: applied somewhere, fewer than
	// W: the outcome is unknown.
	n.Submit(Request{ID: 2, Op: Put, Key: "k", Value: []byte("v")})
	rd = n.Ready()
	for i, e := range rd.Messages {
		n.Step(e.To, Message{Type: MsgWriteAck, Op: e.Msg.Op, Key: "k", Refused: i > 0, Err: "disk full"})
	}
	rd = n.Ready()
	require.Len(t, rd.Replies, 1)
	assert.Equal(t, Info, rd.Replies[0].Status)
	assert.Contains(t, rd.Replies[0].Err, "only 1 of W=2")

	// Duplicate acknowledgements are ignored and counted.
	before := n.Stats().IgnoredTotal()
	n.Submit(Request{ID: 3, Op: Put, Key: "k", Value: []byte("v")})
	rd = n.Ready()
	e := rd.Messages[0]
	n.Step(e.To, Message{Type: MsgWriteAck, Op: e.Msg.Op, Key: "k"})
	n.Step(e.To, Message{Type: MsgWriteAck, Op: e.Msg.Op, Key: "k"})
	n.Step(outsider, Message{Type: MsgWriteAck, Op: e.Msg.Op, Key: "k"})
	assert.Empty(t, n.Ready().Replies, "one ack is not W=2")
	assert.Equal(t, before+2, n.Stats().IgnoredTotal())
}

func containsID(ids []sim.NodeID, id sim.NodeID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Every message type survives the msgpack wire unchanged.
func TestMessagesRoundTripThroughMsgpack(t *testing.T) {
	c := newSimCluster(t, testConfig(VectorClock), 3, 1)
	m := Message{
		Type: MsgForwardReply, Op: 1 << 40, Key: "k",
		Versions: []Version{{Value: []byte("v"), Tombstone: false, Timestamp: -5, Dot: Dot{Node: 3, Counter: 1<<32 | 7},
			Context: VClock{{Node: 1, Counter: 2}, {Node: 4, Counter: 9}}}},
		Hinted: true, HintFor: 4, Repair: true, Refused: true, Err: "e", HintID: 3, HintSeq: 4,
		Req:   &Request{ID: 9, Op: Put, Key: "k", Value: []byte("x"), Context: []byte{1, 2}, N: 3, W: 2, R: 1},
		Reply: &Reply{ID: 9, Status: Info, Values: [][]byte{[]byte("a"), []byte("b")}, Found: true, Context: []byte{3}, Err: "x", Coordinator: 2},
		Tree:  &merkle.Request{ID: 4, Range: merkle.Range{Start: 1, End: 1 << 63}, Depth: 3, Fanout: 16, Kind: merkle.KindHashes, Level: 1, Root: 77, Indexes: []uint32{0, 5}},
		TreeReply: &merkle.Response{ID: 4, Range: merkle.Range{Start: 1, End: 9}, Kind: merkle.KindLeaves, Level: 3, Hashes: []uint64{1, 2},
			Entries: []merkle.Entry{{Key: "k", Version: 1 << 60}}, Equal: true, Refused: true},
		Items: []KeySnapshot{{Key: "k", Versions: []Version{{Value: []byte("v"), Dot: Dot{Node: 1, Counter: 2}}}}},
		Gossip: &membership.Message{Kind: membership.Push, From: 3, Entries: []membership.Entry{
			{ID: 3, Incarnation: 2, Heartbeat: 99, Status: membership.Suspect, Weight: 1, Epoch: 4, Claims: []uint64{1}}}},
		ArcStart: 1 << 63, ArcEnd: 5, Force: true, Last: true, Wait: true,
	}
	assert.Equal(t, m, c.wire(m))
}

// The whole node is deterministic: the same seed gives the same trace,
// different seeds (almost always) different traces.
func TestDeterministicUnderSeed(t *testing.T) {
	cfg := testConfig(VectorClock)
	cfg.Quorum = Sloppy
	_, _, a := runSetWorkload(t, cfg, 4, 3, 400, 5, true, 42)
	_, _, b := runSetWorkload(t, cfg, 4, 3, 400, 5, true, 42)
	_, _, d := runSetWorkload(t, cfg, 4, 3, 400, 5, true, 43)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, d)
}

// DESIGN §6: concurrent read-modify-write of a set with vector clocks,
// siblings and a union merge loses no acknowledged element, under message
// loss, reordering and (with replicas syncing before they acknowledge)
// crash-restarts; the same workload under LWW does lose some.
func TestVectorClocksLoseNoAcknowledgedElement(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	for _, quorum := range []QuorumMode{Strict, Sloppy} {
		for _, restarts := range []bool{false, true} {
			cfg := testConfig(VectorClock)
			cfg.Quorum = quorum
			total := 0
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				lost, acked, _ := runSetWorkload(t, cfg, 4, 4, 600, 5, restarts, seed)
				require.Empty(t, lost, "%v quorum, restarts %v, seed %d: lost acknowledged elements", quorum, restarts, seed)
				total += acked
			}
			t.Logf("%v quorum, vector clocks, restarts %v: %d acknowledged elements over %d seeds, none lost", quorum, restarts, total, seeds)
			assert.Greater(t, total, seeds, "%v: the workload must acknowledge elements to mean anything", quorum)
		}
	}
	cfg := testConfig(LWW)
	lostTotal, ackedTotal := 0, 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		lost, acked, _ := runSetWorkload(t, cfg, 4, 4, 600, 5, false, seed)
		lostTotal += len(lost)
		ackedTotal += acked
	}
	t.Logf("LWW: %d of %d acknowledged elements lost", lostTotal, ackedTotal)
	assert.Positive(t, lostTotal, "LWW must lose acknowledged elements under concurrent RMW, or the check above proves nothing")
}

func TestSnapshotIsADeepSortedCopy(t *testing.T) {
	c := newSimCluster(t, testConfig(LWW), 3, 1)
	for i, k := range []string{"c", "a", "b"} {
		c.submit(1, Request{ID: uint64(i + 1), Op: Put, Key: k, Value: []byte(k)})
	}
	c.settle()
	s := c.node(2).Snapshot()
	require.Len(t, s.Keys, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{s.Keys[0].Key, s.Keys[1].Key, s.Keys[2].Key})
	s.Keys[0].Versions[0].Value[0] = 'X'
	assert.Equal(t, "a", string(c.node(2).Snapshot().Keys[0].Versions[0].Value))
}

func TestMemStoreCrashKeepsOnlySynced(t *testing.T) {
	s := NewMemStore()
	v := func(x string) []Version { return []Version{{Value: []byte(x), Dot: Dot{Node: 1, Counter: 1}}} }
	s.put("a", v("1"))
	s.putHint(Hint{ID: 1, Owner: 2, Key: "a", Versions: v("1")})
	s.Sync()
	s.put("a", v("2"))
	s.put("b", v("3"))
	s.delete("a")
	s.putHint(Hint{ID: 2, Owner: 3, Key: "b", Versions: v("3")})
	s.deleteHint(2, "a")
	assert.Equal(t, []string{"b"}, s.Keys())
	assert.Equal(t, 1, s.HintCount())
	assert.Equal(t, 4, s.Unsynced())
	s.Crash()
	assert.Equal(t, []string{"a"}, s.Keys())
	got, ok := s.Get("a")
	require.True(t, ok)
	assert.Equal(t, "1", string(got[0].Value))
	require.Len(t, s.Hints(), 1)
	assert.Equal(t, sim.NodeID(2), s.Hints()[0].Owner)
	assert.Equal(t, 1, s.HintCount())
	s.setMeta("m", 5)
	s.Crash()
	m, ok := s.Meta("m")
	assert.True(t, ok)
	assert.Equal(t, uint64(5), m, "metadata is durable at once")
	// The node's state copies what it is given, and its writes carry the
	// copy: a caller reusing its slice changes neither.
	st := loadState(s)
	in := v("9")
	st.Put("c", in)
	in[0].Value[0] = 'X'
	got, _ = st.Get("c")
	assert.Equal(t, "9", string(got[0].Value))
	require.Len(t, st.writes, 1)
	assert.Equal(t, "9", string(st.writes[0].Versions[0].Value))
}

// A node's writes leave in Ready, in order, for the driver to apply; the
// store holds nothing the driver did not apply, and MustSync asks for the
// sync that SyncBeforeAck promises before the acknowledgement leaves.
func TestReadyCarriesWritesAndTheSync(t *testing.T) {
	cfg := testConfig(LWW)
	cfg.SyncBeforeAck = true
	r, err := ring.New(ring.Config{Seed: 1, VNodes: 8}, ring.Member{ID: 1, Weight: 1}, ring.Member{ID: 2, Weight: 1}, ring.Member{ID: 3, Weight: 1})
	require.NoError(t, err)
	store := NewMemStore()
	n, err := NewNode(2, cfg, r, store, func() int64 { return 7 }, sim.NewRNG(1))
	require.NoError(t, err)
	rd := n.Ready()
	require.Len(t, rd.Writes, 1, "the new incarnation is the first write")
	assert.Equal(t, Write{Kind: WriteMeta, Key: metaIncarnation, Value: 1}, rd.Writes[0])
	rd.Apply(store)
	inc, ok := store.Meta(metaIncarnation)
	assert.True(t, ok)
	assert.Equal(t, uint64(1), inc)

	vs := []Version{{Value: []byte("v"), Timestamp: 7, Dot: Dot{Node: 1, Counter: 1<<32 | 1}}}
	n.Step(1, Message{Type: MsgWrite, Op: 5, Key: "k", Versions: vs})
	_, ok = store.Get("k")
	assert.False(t, ok, "the node never writes its store itself")
	rd = n.Ready()
	require.Len(t, rd.Writes, 1)
	assert.Equal(t, WriteData, rd.Writes[0].Kind)
	assert.Equal(t, "k", rd.Writes[0].Key)
	assert.True(t, rd.MustSync, "SyncBeforeAck: the ack waits for the sync")
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, MsgWriteAck, rd.Messages[0].Msg.Type)
	rd.Apply(store)
	assert.Equal(t, 0, store.Unsynced(), "applied and synced")
	assert.False(t, n.HasReady())

	cfg.SyncBeforeAck = false
	n, err = NewNode(2, cfg, r, store, func() int64 { return 7 }, sim.NewRNG(1))
	require.NoError(t, err)
	n.Ready().Apply(store)
	n.Step(1, Message{Type: MsgWrite, Op: 6, Key: "k2", Versions: vs})
	rd = n.Ready()
	assert.False(t, rd.MustSync, "without SyncBeforeAck the ack does not wait")
	rd.Apply(store)
	assert.Equal(t, 1, store.Unsynced())
	store.Crash()
	_, ok = store.Get("k2")
	assert.False(t, ok, "an unsynced write is lost in a crash")
	_, ok = store.Get("k")
	assert.True(t, ok)
}

func TestSetRingRoutesNewRequests(t *testing.T) {
	c := newSimCluster(t, testConfig(LWW), 3, 1)
	small, err := ring.New(ring.Config{Seed: 1, VNodes: 4}, ring.Member{ID: 1, Weight: 1})
	require.NoError(t, err)
	c.node(1).SetRing(small)
	c.submit(1, Request{ID: 1, Op: Put, Key: "a", Value: []byte("v")})
	rep, ok := c.takeReply(1)
	require.True(t, ok)
	assert.Equal(t, Fail, rep.Status)
	assert.True(t, strings.Contains(rep.Err, "R=2 > N=1") || strings.Contains(rep.Err, "larger than the 1 nodes"), rep.Err)
}

// A blocking read with R < W that finds nothing answers at once: there is
// nothing to write back. One that finds a value writes it back to W.
func TestBlockingReadWithSmallRWritesBackToW(t *testing.T) {
	cfg := testConfig(LWW)
	cfg.W, cfg.R = 3, 1
	c := newSimCluster(t, cfg, 3, 1)
	c.submit(1, Request{ID: 1, Op: Get, Key: "a"})
	rep, ok := c.takeReply(1)
	require.True(t, ok, "R=1 from the local replica")
	assert.Equal(t, OK, rep.Status)
	assert.False(t, rep.Found)

	// Put "v" on n1 only (W=1 override, drop the copies), then read at n1.
	c.submit(1, Request{ID: 2, Op: Put, Key: "a", Value: []byte("v"), W: 1})
	c.net = nil
	_, ok = c.takeReply(2)
	require.True(t, ok)
	c.submit(1, Request{ID: 3, Op: Get, Key: "a"})
	_, ok = c.takeReply(3)
	require.False(t, ok, "one holder of W=3: the read must write back before answering")
	c.settle()
	rep, ok = c.takeReply(3)
	require.True(t, ok)
	assert.Equal(t, OK, rep.Status, rep.Err)
	for id := sim.NodeID(1); id <= 3; id++ {
		s := c.node(id).Snapshot()
		require.Len(t, s.Keys, 1, "%v holds the written-back value", id)
		assert.Equal(t, "v", string(s.Keys[0].Versions[0].Value))
	}
}

// runSequential runs one client doing random puts and gets one at a time
// (a tick between operations, so LWW timestamps follow invocation order)
// under message loss and reordering, and returns the first read that
// returned an older write than one already acknowledged or already read.
func runSequential(t *testing.T, cfg Config, ops int, dropPct uint64, seed uint64) string {
	c := newSimCluster(t, cfg, 3, seed)
	floor := 0 // the newest write a read must now at least return
	for i := 1; i <= ops; i++ {
		coord := sim.NodeID(1 + c.rng.IntN(3))
		isPut := c.rng.Uint64N(2) == 0
		req := Request{ID: uint64(i), Op: Get, Key: "k"}
		if isPut {
			req = Request{ID: uint64(i), Op: Put, Key: "k", Value: []byte(fmt.Sprint(i))}
		}
		c.submit(coord, req)
		var rep Reply
		for done := false; !done; {
			if !c.step(dropPct) {
				c.tick()
			}
			rep, done = c.takeReply(req.ID)
		}
		if rep.Status == OK {
			switch {
			case isPut:
				floor = max(floor, i)
			case rep.Found:
				got, err := strconv.Atoi(string(rep.Values[0]))
				require.NoError(t, err)
				if got < floor {
					return fmt.Sprintf("seed %d: read #%d returned write #%d after write #%d was acknowledged or read", seed, i, got, floor)
				}
				floor = got
			case floor > 0:
				return fmt.Sprintf("seed %d: read #%d found nothing after write #%d", seed, i, floor)
			}
		}
		c.tick()
	}
	return ""
}

// DESIGN §6: strict quorum, W+R>N, blocking read repair, synchronised
// clocks: reads never go back in time, even with lost messages and failed
// writes. Without blocking repair they do (new-then-old reads).
func TestBlockingRepairReadsNeverGoBack(t *testing.T) {
	const seeds = 40
	cfg := testConfig(LWW)
	cfg.ReadRepair = RepairBlocking
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		require.Empty(t, runSequential(t, cfg, 200, 25, seed))
	}
	cfg.ReadRepair = RepairAsync
	var violations []string
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		if v := runSequential(t, cfg, 200, 25, seed); v != "" {
			violations = append(violations, v)
		}
	}
	require.NotEmpty(t, violations, "async read repair must show a new-then-old read, or the check above proves nothing")
	t.Logf("async repair: %d of %d seeds went back in time, e.g. %s", len(violations), seeds, violations[0])
}

// A node that deletes a handed-off hint holding its own dot moves to a
// new incarnation (vector clocks), so its next dots cannot be mistaken for
// covering the forgotten one. Under LWW nothing changes.
func TestForgettingOwnDotsStartsANewIncarnation(t *testing.T) {
	for _, resolve := range []ResolveMode{VectorClock, LWW} {
		c := newSimCluster(t, testConfig(resolve), 3, 1)
		n := c.node(2)
		inc := n.Incarnation()
		own := Version{Value: []byte("v"), Dot: Dot{Node: 2, Counter: inc<<32 | 99}}
		require.NoError(t, n.applyWrite("k", []Version{own}, true, 3))
		h := n.Snapshot().Hints
		require.Len(t, h, 1)
		n.Step(3, Message{Type: MsgHandoffAck, Key: "k", HintID: h[0].ID, HintSeq: h[0].Seq})
		assert.Empty(t, n.Snapshot().Hints, "%v: the acknowledged hint is deleted", resolve)
		if resolve == VectorClock {
			assert.Equal(t, inc+1, n.Incarnation())
			assert.Equal(t, uint64(1), n.Stats().Incarnations)
		} else {
			assert.Equal(t, inc, n.Incarnation())
		}
	}
}

// A stale handoff acknowledgement (the hint changed since it was sent)
// does not delete the hint.
func TestStaleHandoffAckKeepsTheHint(t *testing.T) {
	c := newSimCluster(t, testConfig(LWW), 3, 1)
	n := c.node(2)
	require.NoError(t, n.applyWrite("k", []Version{{Value: []byte("a"), Timestamp: 1, Dot: Dot{Node: 1, Counter: 5}}}, true, 3))
	h := n.Snapshot().Hints[0]
	require.NoError(t, n.applyWrite("k", []Version{{Value: []byte("b"), Timestamp: 2, Dot: Dot{Node: 1, Counter: 6}}}, true, 3))
	n.Step(3, Message{Type: MsgHandoffAck, Key: "k", HintID: h.ID, HintSeq: h.Seq})
	hs := n.Snapshot().Hints
	require.Len(t, hs, 1)
	assert.Equal(t, "b", string(hs[0].Versions[0].Value))
	assert.Equal(t, uint64(1), n.Stats().HandoffAcksStale)
}

// A forwarded request that the network delivers twice is coordinated once:
// coordinating the copy too would issue a second dot for the same client
// write, and under vector clocks both survive as siblings holding one value
// twice (found by vclock-register -w 1 -r 3 -quorum sloppy -nemesis
// partition,loss,pause -seed 2).
func TestDuplicatedForwardIsCoordinatedOnce(t *testing.T) {
	cfg := testConfig(VectorClock)
	cfg.W, cfg.R = 1, 3
	c := newSimCluster(t, cfg, 4, 1)
	key := ""
	for i := 0; key == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		pref, err := c.ring.PreferenceList(k, cfg.N, nil)
		require.NoError(t, err)
		if !containsID(pref, 4) {
			key = k
		}
	}
	c.submit(4, Request{ID: 1, Op: Put, Key: key, Value: []byte("v")})
	require.Len(t, c.net, 1)
	fwd := c.net[0]
	require.Equal(t, MsgForward, fwd.msg.Type)
	c.net = append(c.net, fwd) // the network duplicates it
	coord := c.node(fwd.to)
	c.settle()
	r, ok := c.takeReply(1)
	require.True(t, ok)
	require.Equal(t, OK, r.Status)
	for _, n := range c.running() {
		vs, _ := n.state.Get(key)
		if len(vs) > 0 {
			assert.Len(t, vs, 1, "%v holds one version of the one write: %s", n.ID(), fmtVersions(vs))
		}
	}
	assert.Equal(t, uint64(1), coord.Stats().CoordinatedForOthers)
	for _, ic := range coord.Stats().Ignored {
		if ic.Reason == "duplicate-forward" {
			assert.Equal(t, uint64(1), ic.Count, "the copy is counted as ignored")
		}
	}
}

// Local inputs enter through Step from the node's own id, as raft's
// MsgHup does; a peer's copy of one is an unknown type, ignored, and the
// local fields never reach the wire.
func TestLocalInputsEnterThroughStep(t *testing.T) {
	c := newSimCluster(t, testConfig(LWW), 3, 1)
	n := c.node(2)
	require.NoError(t, n.Step(1, Message{Type: MsgLeave}))
	assert.False(t, n.transfer.leaving, "a peer cannot make a node leave")
	assert.Equal(t, uint64(1), n.ignored[ignoreUnknownType])
	require.NoError(t, n.Step(2, Message{Type: MsgLeave}))
	assert.True(t, n.transfer.leaving)
	require.ErrorContains(t, n.Step(2, Message{Type: MsgLeave}), "already leaving")
	require.ErrorContains(t, n.Step(2, Message{Type: MsgJoin}), "joins by a ring change")
	require.ErrorContains(t, n.Step(2, Message{Type: MsgStartAntiEntropy, Point: 1, Peer: 1}), "anti-entropy is off")
	require.NoError(t, n.Step(2, Message{Type: msgLocalEnd}))
	assert.Equal(t, uint64(2), n.ignored[ignoreUnknownType], "a type past the local inputs is unknown")

	small, err := ring.New(ring.Config{Seed: 1, VNodes: 4}, ring.Member{ID: 1, Weight: 1}, ring.Member{ID: 3, Weight: 1})
	require.NoError(t, err)
	require.NoError(t, n.Step(2, Message{Type: MsgRingChange, Ring: small}))
	assert.Same(t, small, n.Ring())

	wire := node.NewCodec[Message]()
	plain, err := wire.Append(nil, &Message{Type: MsgRingChange})
	require.NoError(t, err)
	local, err := wire.Append(nil, &Message{Type: MsgRingChange, Ring: small, Point: 9, Peer: 3})
	require.NoError(t, err)
	assert.Equal(t, plain, local, "local fields are not encoded")
}

// The failure detector alone: a request that waits SuspectAfterTicks
// without the peer being heard makes it suspected; any valid message from
// it clears the suspicion and the clock.
func TestSuspicionAlone(t *testing.T) {
	s := newSuspicion(3)
	members := []sim.NodeID{1, 2, 3}
	s.sent(2, 10)
	s.sent(2, 11) // the oldest request keeps the clock
	assert.Equal(t, uint64(0), s.tick(members, 1, 12))
	assert.Equal(t, uint64(1), s.tick(members, 1, 13))
	assert.True(t, s.suspected(2))
	assert.Equal(t, uint64(0), s.tick(members, 1, 14), "suspected once")
	assert.False(t, s.suspected(3), "nothing was sent to n3")
	s.heard(2)
	assert.False(t, s.suspected(2))
	assert.Equal(t, uint64(0), s.tick(members, 1, 20), "heard: no request waits")
	s.sent(1, 20)
	assert.Equal(t, uint64(0), s.tick(members, 1, 30), "a node never suspects itself")

	// Ids past the dense table live in a map, with the same behaviour.
	far := sim.NodeID(denseIDs + 7)
	members = append(members, far)
	s.sent(far, 40)
	assert.Equal(t, uint64(1), s.tick(members, 1, 43))
	assert.True(t, s.suspected(far))
	assert.Equal(t, []sim.NodeID{1, 2, far}, s.peers(), "every peer sent to, in id order")
	s.heard(far)
	assert.False(t, s.suspected(far))
}

// The forward memory alone: a copy of a forwarded request is recognised
// until ttl ticks have passed; the memory is bounded in entries too.
func TestForwardMemoryAlone(t *testing.T) {
	f := newForwards(10)
	assert.True(t, f.remember(2, 7, 0))
	assert.False(t, f.remember(2, 7, 5), "a duplicate")
	assert.True(t, f.remember(3, 7, 5), "another origin's op 7")
	f.expire(9)
	assert.False(t, f.remember(2, 7, 9), "remembered for ttl ticks")
	f.expire(10)
	assert.True(t, f.remember(2, 7, 10), "forgotten after ttl")
	for i := range uint64(forwardMemory) {
		f.remember(4, i, 11)
	}
	assert.LessOrEqual(t, len(f.order), forwardMemory)
	assert.Len(t, f.seen, len(f.order))
	assert.True(t, f.remember(2, 7, 11), "the oldest is forgotten first when full")
}

// The tombstone schedule alone: a key is due once its current tombstone
// is older than the grace period; a value written over it, or a newer
// tombstone, takes it off the old schedule.
func TestTombstoneScheduleAlone(t *testing.T) {
	ts := newTombstones(10)
	ts.note("a", 0)
	ts.note("b", 2)
	ts.note("c", 3)
	ts.cleared("b") // a value replaced b's tombstone
	ts.note("c", 5) // deleted again: the newer tombstone counts
	assert.Empty(t, ts.due(9))
	assert.Equal(t, []string{"a"}, ts.due(10))
	assert.Empty(t, ts.due(14), "b was cleared, c's first schedule is stale")
	assert.Equal(t, []string{"c"}, ts.due(15))
	assert.Empty(t, ts.due(100))
	assert.Empty(t, ts.order)
}

// A durable counter the node does not list in metaNames would be written
// but never read back at a restart: setting one is a bug, refused loudly.
func TestUnlistedDurableCounterIsRefused(t *testing.T) {
	st := loadState(NewMemStore())
	st.SetMeta(metaIncarnation, 3)
	assert.PanicsWithValue(t, `kv: durable counter "other" is not in metaNames: a restart would not read it back`, func() { st.SetMeta("other", 1) })
	for _, name := range metaNames {
		st.SetMeta(name, 7)
	}
	s := NewMemStore()
	s.Apply(st.writes)
	back := loadState(s)
	for _, name := range metaNames {
		v, ok := back.Meta(name)
		assert.True(t, ok, name)
		assert.Equal(t, uint64(7), v, name)
	}
}
