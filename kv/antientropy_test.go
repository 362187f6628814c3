package kv

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// aeConfig is a configuration where only anti-entropy can repair: W=R=1,
// no read repair, no hinted handoff, tombstones kept for the whole test.
func aeConfig(resolve ResolveMode, interval int) Config {
	c := testConfig(resolve)
	c.W, c.R = 1, 1
	c.ReadRepair = RepairOff
	c.HintedHandoff = false
	c.TombstoneGraceTicks = 1 << 30
	c.AntiEntropyIntervalTicks = interval
	c.MerkleDepth, c.MerkleFanout = 2, 4
	return c
}

// divergent returns the keys held anywhere whose home replicas (the
// preference list of N in r) do not all hold the same versions; a replica
// without the key holds none.
func (c *simCluster) divergent(r *ring.Ring) []string {
	var keys []string
	for _, st := range c.stores {
		keys = append(keys, st.Keys()...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var out []string
	for _, k := range keys {
		pref, err := r.PreferenceList(k, c.cfg.N, nil)
		require.NoError(c.t, err)
		var fps []uint64
		for _, id := range pref {
			vs, _ := c.stores[id-1].Get(k)
			fps = append(fps, fingerprint(vs))
		}
		if slices.Min(fps) != slices.Max(fps) {
			out = append(out, k)
		}
	}
	return out
}

// quiesce delivers every message in flight (in random order, none lost).
func (c *simCluster) quiesce() {
	for c.step(0) {
	}
}

// diverge runs writes and deletes of keys k0..k<keys-1> at random
// coordinators while the cluster is split into two partitions, with 10%
// message loss, so that replicas miss writes; then it heals and delivers
// what is in flight.
func diverge(c *simCluster, ops, keys int, side []sim.NodeID) {
	c.partition(side)
	for i := 0; i < ops; i++ {
		id := sim.NodeID(1 + c.rng.IntN(len(c.nodes)))
		req := Request{ID: uint64(1_000_000 + i), Op: Put, Key: fmt.Sprintf("k%d", c.rng.IntN(keys)), Value: []byte(fmt.Sprint("v", i))}
		if c.rng.IntN(8) == 0 {
			req.Op, req.Value = Delete, nil
		}
		c.submit(id, req)
		for j := c.rng.IntN(6); j > 0; j-- {
			c.step(10)
		}
		if i%4 == 0 {
			c.tick()
		}
	}
	c.partition()
	c.quiesce()
}

// roundsToConverge runs rounds of AntiEntropyIntervalTicks ticks, each
// tick followed by full delivery, until no key diverges, and returns how
// many it took (limit+1 if it never did).
func roundsToConverge(c *simCluster, limit int) int {
	for r := 0; r <= limit; r++ {
		if len(c.divergent(c.ring)) == 0 {
			return r
		}
		for range max(1, c.cfg.AntiEntropyIntervalTicks) {
			c.tick()
			c.quiesce()
		}
	}
	return limit + 1
}

// maxOwned is the most ranges any node keeps a tree for.
func (c *simCluster) maxOwned() int {
	m := 0
	for _, n := range c.running() {
		m = max(m, len(n.Trees()))
	}
	return m
}

// After a partition with lost messages leaves replicas divergent and the
// network heals, Merkle anti-entropy alone (no read repair, no hinted
// handoff, W=R=1) brings every replica of every key to the same versions
// within a bounded number of rounds: each node visits its ranges in turn
// and a range's peers in turn, so 3·ranges·(N-1) intervals are ample.
func TestAntiEntropyConvergesAfterHeal(t *testing.T) {
	worst, worstBound, cases := 0, 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		resolve := rapid.SampledFrom([]ResolveMode{LWW, VectorClock}).Draw(rt, "resolve")
		seed := rapid.Uint64().Draw(rt, "seed")
		cfg := aeConfig(resolve, rapid.IntRange(2, 6).Draw(rt, "interval"))
		c := newSimClusterRing(t, cfg, 5, seed, ring.Config{Seed: seed, VNodes: 2})
		side := []sim.NodeID{1, 2}
		if rapid.Bool().Draw(rt, "side") {
			side = []sim.NodeID{3}
		}
		diverge(c, rapid.IntRange(10, 60).Draw(rt, "ops"), rapid.IntRange(1, 30).Draw(rt, "keys"), side)
		bound := 3 * c.maxOwned() * (cfg.N - 1)
		rounds := roundsToConverge(c, bound)
		require.LessOrEqual(t, rounds, bound, "%v: still divergent after %d rounds: %v", resolve, bound, c.divergent(c.ring))
		if rounds > worst {
			worst, worstBound = rounds, bound
		}
		cases++
	})
	t.Logf("%d histories: every replica converged; the slowest took %d anti-entropy intervals (its bound 3·ranges·(N-1) was %d; 5 nodes, 2 tokens each, N=3)", cases, worst, worstBound)
}

// The same divergence with anti-entropy off stays divergent however long
// the cluster runs, and no tree message is ever sent.
func TestAntiEntropyOffLeavesReplicasDivergent(t *testing.T) {
	for _, resolve := range []ResolveMode{LWW, VectorClock} {
		on := newSimClusterRing(t, aeConfig(resolve, 4), 5, 3, ring.Config{Seed: 3, VNodes: 2})
		diverge(on, 60, 20, []sim.NodeID{1, 2})
		off := newSimClusterRing(t, aeConfig(resolve, 0), 5, 3, ring.Config{Seed: 3, VNodes: 2})
		diverge(off, 60, 20, []sim.NodeID{1, 2})
		require.NotEmpty(t, off.divergent(off.ring), "%v: the partition must leave replicas divergent", resolve)
		before := len(off.divergent(off.ring))
		for range 400 {
			off.tick()
			off.quiesce()
		}
		assert.Len(t, off.divergent(off.ring), before, "%v: without anti-entropy nothing repairs", resolve)
		assert.Zero(t, off.wireMsgs[MsgTreeRequest]+off.wireMsgs[MsgTreeReply]+off.wireMsgs[MsgRepair], "off sends no anti-entropy traffic")
		for _, n := range off.running() {
			assert.Nil(t, n.Trees(), "off keeps no trees")
			assert.Zero(t, n.Stats().AntiEntropyExchanges)
		}
		// With anti-entropy on, the same history converges.
		assert.LessOrEqual(t, roundsToConverge(on, 100), 100, "%v", resolve)
		assert.Positive(t, on.wireMsgs[MsgTreeRequest])
	}
}

// Every node's trees always equal trees built from scratch over its store:
// writes, repairs, deletes, tombstone purges and restarts all keep them
// current.
func TestMerkleTreesFollowTheStore(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		resolve := rapid.SampledFrom([]ResolveMode{LWW, VectorClock}).Draw(rt, "resolve")
		cfg := aeConfig(resolve, 3)
		cfg.TombstoneGraceTicks = 4
		c := newSimClusterRing(t, cfg, 4, 9, ring.Config{Seed: 9, VNodes: 3})
		for i := rapid.IntRange(1, 150).Draw(rt, "steps"); i > 0; i-- {
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 1:
				req := Request{ID: uint64(i), Op: Put, Key: fmt.Sprintf("k%d", rapid.IntRange(0, 12).Draw(rt, "key")), Value: []byte{byte(i)}}
				if rapid.IntRange(0, 3).Draw(rt, "del") == 0 {
					req.Op, req.Value = Delete, nil
				}
				c.submit(sim.NodeID(rapid.IntRange(1, 4).Draw(rt, "node")), req)
			case 2:
				c.tick()
			case 3:
				if rapid.IntRange(0, 9).Draw(rt, "restart") == 0 {
					c.restart(sim.NodeID(rapid.IntRange(1, 4).Draw(rt, "who")))
				}
			default:
				c.step(10)
			}
		}
		for _, n := range c.running() {
			checkTrees(t, n)
		}
	})
}

// checkTrees compares n's trees with trees built from its store.
func checkTrees(t require.TestingT, n *Node) {
	for _, tr := range n.Trees() {
		r := merkle.Range{Start: tr.Start, End: tr.End}
		var entries []merkle.Entry
		for _, k := range n.state.Keys() {
			if r.Contains(ring.HashKey(k)) {
				vs, _ := n.state.Get(k)
				entries = append(entries, merkle.Entry{Key: k, Version: fingerprint(vs)})
			}
		}
		want, err := merkle.Build(n.cfg.merkleConfig(), r, entries)
		require.NoError(t, err)
		require.Equal(t, want.Root(), tr.Root, "%v tree %v", n.ID(), r)
		require.Equal(t, want.Len(), tr.Keys, "%v tree %v", n.ID(), r)
	}
}

// trafficRow is one measurement of an exchange over one differing key.
type trafficRow struct {
	keys, depth                      int
	treeMsgs, repairMsgs, equalMsgs  uint64
	treeBytes, repairBytes, allBytes uint64
	dataBytes                        uint64
}

// measureTraffic fills two replicas (N=2, every range on both) with the
// same keys, gives one of them an older version of one key, runs one
// exchange over the range holding it and one over the other range, and
// returns the wire traffic.
func measureTraffic(t *testing.T, stores [2]*MemStore, keys, depth int) trafficRow {
	cfg := aeConfig(LWW, 1<<20) // exchanges started by hand only
	cfg.N = 2
	cfg.MerkleDepth, cfg.MerkleFanout = depth, 16
	c := newSimClusterRing(t, cfg, 2, 1, ring.Config{Seed: 1, VNodes: 1})
	c.stores[0], c.stores[1] = stores[0], stores[1]
	c.start(1, c.ring)
	c.start(2, c.ring)
	const odd = "key0000042"
	require.Equal(t, keys, c.node(1).Trees()[0].Keys+c.node(1).Trees()[1].Keys)
	before := c.wireBytes
	h := ring.HashKey(odd)
	require.True(t, c.node(1).StartAntiEntropy(h, 2))
	c.collect(1)
	c.quiesce()
	row := trafficRow{keys: keys, depth: depth}
	for _, mt := range []MsgType{MsgTreeRequest, MsgTreeReply} {
		row.treeMsgs += c.wireMsgs[mt]
		row.treeBytes += c.wireBytes[mt] - before[mt]
	}
	for _, mt := range []MsgType{MsgRepair, MsgRepairReply} {
		row.repairMsgs += c.wireMsgs[mt]
		row.repairBytes += c.wireBytes[mt] - before[mt]
	}
	row.allBytes = row.treeBytes + row.repairBytes
	require.Empty(t, c.divergent(c.ring), "one exchange repairs the key")
	// The other range is equal: one request, one reply.
	msgs := c.wireMsgs[MsgTreeRequest] + c.wireMsgs[MsgTreeReply]
	var other uint64
	for _, tr := range c.node(1).Trees() {
		if r := (merkle.Range{Start: tr.Start, End: tr.End}); !r.Contains(h) {
			other = tr.End
		}
	}
	require.True(t, c.node(1).StartAntiEntropy(other, 2))
	c.collect(1)
	c.quiesce()
	row.equalMsgs = c.wireMsgs[MsgTreeRequest] + c.wireMsgs[MsgTreeReply] - msgs
	// What streaming every key once would cost.
	var items []KeySnapshot
	for _, k := range stores[1].Keys() {
		vs, _ := stores[1].Get(k)
		items = append(items, KeySnapshot{Key: k, Versions: vs})
	}
	row.dataBytes = uint64(c.size(Message{Type: MsgStreamData, Op: 1, Items: items}))
	return row
}

// fillStores returns two stores holding keys key0000000.. at the same
// version, except key0000042, which the first holds at an older version.
func fillStores(keys int) [2]*MemStore {
	s := [2]*MemStore{NewMemStore(), NewMemStore()}
	for i := range keys {
		k := fmt.Sprintf("key%07d", i)
		v := Version{Value: []byte("value-" + k[3:]), Timestamp: 1_000, Dot: Dot{Node: 1, Counter: 1<<32 | uint64(i+1)}}
		s[1].put(k, []Version{v})
		if i == 42 {
			v.Timestamp, v.Dot.Counter, v.Value = 500, 1<<32|uint64(keys+1), []byte("old")
		}
		s[0].put(k, []Version{v})
	}
	s[0].Sync()
	s[1].Sync()
	return s
}

// One differing key among up to 100k costs one walk down the tree —
// 2·(depth+1) tree messages — plus one repair and its reply, whatever the
// number of keys; an equal range costs one request and one reply. The
// bytes grow only with the keys per leaf (data/fanout^depth), never with
// the data: at 100k keys they are a tiny fraction of streaming the data.
func TestAntiEntropyTrafficIsProportionalToDivergence(t *testing.T) {
	sizes := []int{1_000, 10_000, 100_000}
	rows := []string{"| keys | depth | tree msgs | repair msgs | equal-range msgs | tree bytes | repair bytes | total bytes | data bytes | total/data |", "|---|---|---|---|---|---|---|---|---|---|"}
	byDepth := map[int][]trafficRow{}
	for _, keys := range sizes {
		for _, depth := range []int{3, 4} {
			r := measureTraffic(t, fillStores(keys), keys, depth)
			byDepth[depth] = append(byDepth[depth], r)
			rows = append(rows, fmt.Sprintf("| %d | %d | %d | %d | %d | %d | %d | %d | %d | %.5f |", r.keys, r.depth, r.treeMsgs, r.repairMsgs, r.equalMsgs,
				r.treeBytes, r.repairBytes, r.allBytes, r.dataBytes, float64(r.allBytes)/float64(r.dataBytes)))
			assert.Equal(t, uint64(2*(depth+1)), r.treeMsgs, "one differing key: one walk down a depth-%d tree", depth)
			assert.Equal(t, uint64(2), r.repairMsgs, "one repair, one repair reply")
			assert.Equal(t, uint64(2), r.equalMsgs, "an equal range costs one round trip")
		}
	}
	t.Logf("anti-entropy traffic for one differing key (fanout 16, wire bytes):\n%s", strings.Join(rows, "\n"))
	for _, depth := range []int{3, 4} {
		rs := byDepth[depth]
		small, big := rs[0], rs[len(rs)-1]
		assert.Less(t, float64(big.allBytes), 0.001*float64(big.dataBytes), "depth %d: 100k keys cost under 0.1%% of the data", depth)
		// 100x the data, at most 1.5x the traffic: what grows is only that
		// fewer subtree hashes are empty (0 encodes in 1 byte, a hash in 9)
		// and the one fetched leaf holds more keys.
		assert.Less(t, float64(big.allBytes), 1.5*float64(small.allBytes), "depth %d: traffic does not follow the data size", depth)
		assert.LessOrEqual(t, big.allBytes, uint64(450*(depth+1)), "depth %d: a small multiple of the depth", depth)
	}
}

// Bad anti-entropy input is ignored and counted, never a crash or a change
// of state: a tree request for a range the node does not hold (answered
// with a refusal), a malformed request, a reply nobody waits for or from
// the wrong peer, a repair carrying a key the node does not replicate, and
// any anti-entropy message at a node with anti-entropy off.
func TestAntiEntropyBadInputIsIgnoredAndCounted(t *testing.T) {
	cfg := aeConfig(LWW, 1<<20)
	c := newSimClusterRing(t, cfg, 4, 2, ring.Config{Seed: 2, VNodes: 2})
	c.submit(1, Request{ID: 1, Op: Put, Key: "a", Value: []byte("v")})
	c.settle()
	n := c.node(2)
	held := n.Trees()[0]
	tr, _ := n.tree(merkle.Range{Start: held.Start, End: held.End})
	good := merkle.NewSession(tr, 7).Start()
	var notOwned string
	for i := 0; notOwned == ""; i++ {
		if k := fmt.Sprint("x", i); !n.replicates(k) {
			notOwned = k
		}
	}
	unknownRange := good
	unknownRange.Range = merkle.Range{Start: 1, End: 2}
	badShape := good
	badShape.Depth = 9
	v := Version{Value: []byte("z"), Timestamp: 5, Dot: Dot{Node: 4, Counter: 9}}
	cases := []struct {
		m      Message
		reason string
		reply  bool
	}{
		{Message{Type: MsgTreeRequest, Op: 3, Tree: &unknownRange}, "unknown-range", true},
		{Message{Type: MsgTreeRequest, Op: 3, Tree: &badShape}, "malformed", true},
		{Message{Type: MsgTreeRequest, Op: 0, Tree: &good}, "malformed", false},
		{Message{Type: MsgTreeRequest, Op: 3}, "malformed", false},
		{Message{Type: MsgTreeReply, Op: 99}, "malformed", false},
		{Message{Type: MsgTreeReply, Op: 99, TreeReply: &merkle.Response{ID: 99}}, "unknown-op", false},
		{Message{Type: MsgRepair, Op: 5, Items: []KeySnapshot{{Key: notOwned, Versions: []Version{v}}}}, "not-owner", false},
		{Message{Type: MsgRepairReply, Op: 5, Items: []KeySnapshot{{Key: notOwned, Versions: []Version{v}}}}, "not-owner", false},
		{Message{Type: MsgRepair, Op: 5, Items: []KeySnapshot{{Key: "", Versions: []Version{v}}}}, "malformed", false},
		{Message{Type: MsgRepairReply, Op: 5, Items: []KeySnapshot{{Key: "a"}}}, "malformed", false},
	}
	before := n.Snapshot()
	for i, tc := range cases {
		requireIgnored(t, n, tc.reason, func() { n.Step(3, tc.m) }, "case %d", i)
		rd := n.Ready()
		if tc.reply {
			require.Len(t, rd.Messages, 1, "case %d", i)
			assert.True(t, rd.Messages[0].Msg.TreeReply.Refused, "case %d: the initiator is told at once", i)
		} else {
			assert.Empty(t, rd.Messages, "case %d", i)
		}
	}
	assert.Equal(t, before, n.Snapshot(), "ignored input changes nothing")
	checkTrees(t, n)

	// A reply from a node other than the session's peer.
	started := false
	for id := sim.NodeID(1); id <= 4 && !started; id++ {
		started = n.StartAntiEntropy(held.End, id)
	}
	require.True(t, started)
	req := n.Ready().Messages[0]
	p, err := tr.Respond(*req.Msg.Tree)
	require.NoError(t, err)
	wrong := req.To%4 + 1
	if wrong == n.ID() {
		wrong = wrong%4 + 1
	}
	requireIgnored(t, n, "unexpected-sender", func() { n.Step(wrong, Message{Type: MsgTreeReply, Op: req.Msg.Op, TreeReply: &p}) })

	// Anti-entropy off: everything is ignored as disabled, nothing answered.
	off := newSimClusterRing(t, aeConfig(LWW, 0), 3, 2, ring.Config{Seed: 2, VNodes: 2}).node(1)
	for _, m := range []Message{
		{Type: MsgTreeRequest, Op: 3, Tree: &good},
		{Type: MsgTreeReply, Op: 3, TreeReply: &merkle.Response{ID: 3}},
		{Type: MsgRepair, Op: 3, Items: []KeySnapshot{{Key: "a", Versions: []Version{v}}}},
		{Type: MsgRepairReply, Op: 3, Items: []KeySnapshot{{Key: "a", Versions: []Version{v}}}},
	} {
		requireIgnored(t, off, "disabled", func() { off.Step(2, m) })
		assert.Empty(t, off.Ready().Messages)
	}
	assert.Empty(t, off.Snapshot().Keys)
}

// requireIgnored runs step and requires that it was ignored once, for
// reason.
func requireIgnored(t *testing.T, n *Node, reason string, step func(), msgAndArgs ...any) {
	t.Helper()
	count := func() (uint64, uint64) {
		st := n.Stats()
		for _, ic := range st.Ignored {
			if ic.Reason == reason {
				return ic.Count, st.IgnoredTotal()
			}
		}
		require.FailNow(t, "no such ignore reason", reason)
		return 0, 0
	}
	c0, t0 := count()
	require.NotPanics(t, step)
	c1, t1 := count()
	require.Equal(t, c0+1, c1, msgAndArgs...)
	require.Equal(t, t0+1, t1, msgAndArgs...)
}
