package kv

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// gossipConfig is a gossip-membership configuration with a round every
// tick.
func gossipConfig() Config {
	c := testConfig(LWW)
	c.Membership = MembershipGossip
	c.GossipIntervalTicks = 1
	c.GossipFanout = 3
	c.GossipSuspectRounds, c.GossipDeadRounds = 4, 4
	return c
}

// round runs one gossip round: GossipIntervalTicks ticks, each followed by
// the delivery of everything in flight.
func (c *simCluster) round() {
	for range c.cfg.GossipIntervalTicks {
		c.tick()
		c.quiesce()
	}
}

// runUntil runs rounds until cond holds and returns how many it took, or
// fails after limit rounds.
func (c *simCluster) runUntil(limit int, what string, cond func() bool) int {
	c.t.Helper()
	for r := 0; r <= limit; r++ {
		if cond() {
			return r
		}
		c.round()
	}
	require.FailNow(c.t, "no convergence", "%s: not reached within %d rounds", what, limit)
	return limit
}

// ringKey describes a ring by its members and weights (a virtual-node ring
// is a pure function of them and its configuration).
func ringKey(r *ring.Ring) string { return fmt.Sprint(r.Config(), r.Members()) }

// agreed reports whether every running node has the same view digest and
// the same ring.
func (c *simCluster) agreed() bool {
	ns := c.running()
	for _, n := range ns[1:] {
		if n.ViewDigest() != ns[0].ViewDigest() || ringKey(n.Ring()) != ringKey(ns[0].Ring()) {
			return false
		}
	}
	return true
}

// statusIn returns id's status in n's view.
func statusIn(n *Node, id sim.NodeID) membership.Status {
	for _, e := range n.View() {
		if e.ID == id {
			return e.Status
		}
	}
	return 0
}

type gossipRounds struct {
	boot, join, leave, dead []int
}

func stat(xs []int) string {
	s := 0
	for _, x := range xs {
		s += x
	}
	return fmt.Sprintf("%.1f / %d", float64(s)/float64(len(xs)), slices.Max(xs))
}

// measureGossip runs one cluster of size nodes and returns the rounds (a
// round = every node gossips once to 3 peers, push-pull) until every node
// agrees on the view and the ring: after boot (bootstrap entries carry
// incarnation 0 until the nodes' own entries spread), after a new node
// joins, and after a member leaves; and until every node holds a stopped
// node dead (failure detection: 4 rounds to suspect, 4 more to dead, then
// spread).
func measureGossip(t *testing.T, size int, seed uint64) (boot, join, leave, dead int) {
	c := newSimClusterRing(t, gossipConfig(), size, seed, ring.Config{Seed: seed, VNodes: 4})
	limit := 10 * int(math.Ceil(math.Log2(float64(size+1))))
	boot = c.runUntil(limit, "boot", c.agreed)
	id := c.addSlot()
	require.NoError(t, c.start(id, c.ring).Join())
	join = c.runUntil(limit, "join", func() bool { return c.agreed() && c.node(1).Ring().Contains(id) })
	require.NoError(t, c.node(2).Leave())
	leave = c.runUntil(limit, "leave", func() bool { return c.agreed() && !c.node(1).Ring().Contains(2) })
	for _, n := range c.running() {
		for _, e := range n.View() {
			require.NotContains(t, []membership.Status{membership.Suspect, membership.Dead}, e.Status, "%v falsely suspects %v in a healthy cluster", n.ID(), e.ID)
		}
	}
	c.stop(3)
	dead = c.runUntil(limit+10, "dead", func() bool {
		for _, n := range c.running() {
			if statusIn(n, 3) != membership.Dead {
				return false
			}
		}
		return true
	})
	return boot, join, leave, dead
}

// Gossip spreads a change to every node of a healthy cluster in O(log N)
// rounds, and every node then routes with the same ring: measured for 5,
// 20 and 100 nodes and held to 2·log2(N)+3 rounds for a join or a leave.
func TestGossipConvergesInLogRounds(t *testing.T) {
	rows := []string{"| N | log2 N | boot mean / max | join mean / max | leave mean / max | crash -> dead everywhere mean / max |", "|---|---|---|---|---|---|"}
	for _, size := range []int{5, 20, 100} {
		seeds := 4
		if size == 100 {
			seeds = 2
		}
		var m gossipRounds
		for s := 1; s <= seeds; s++ {
			b, j, l, d := measureGossip(t, size, uint64(s))
			m.boot, m.join, m.leave, m.dead = append(m.boot, b), append(m.join, j), append(m.leave, l), append(m.dead, d)
		}
		lg := math.Log2(float64(size))
		rows = append(rows, fmt.Sprintf("| %d | %.1f | %s | %s | %s | %s |", size, lg, stat(m.boot), stat(m.join), stat(m.leave), stat(m.dead)))
		bound := int(2*lg) + 3
		assert.LessOrEqual(t, slices.Max(m.join), bound, "N=%d: a join spreads in O(log N) rounds", size)
		assert.LessOrEqual(t, slices.Max(m.leave), bound, "N=%d: a leave spreads in O(log N) rounds", size)
	}
	t.Logf("gossip rounds until every node agrees on the view and the ring (fanout 3, push-pull):\n%s", strings.Join(rows, "\n"))
}

// Under gossip membership a coordinator takes a home replica that its view
// holds dead as unreachable at once (no request has to time out first) and
// writes to a fallback under a sloppy quorum; when the node comes back its
// view entry turns alive again and the fallback hands the hint over at the
// next tick instead of waiting for its replay interval.
func TestMembershipDrivesFallbacksAndHintReplay(t *testing.T) {
	cfg := gossipConfig()
	cfg.Quorum = Sloppy
	cfg.HintReplayIntervalTicks = 1_000
	c := newSimClusterRing(t, cfg, 5, 4, ring.Config{Seed: 4, VNodes: 4})
	c.runUntil(20, "boot", c.agreed)
	pref, err := c.ring.PreferenceList("k", 3, nil)
	require.NoError(t, err)
	coord, down := pref[0], pref[2]
	c.stop(down)
	c.runUntil(30, "dead", func() bool { return statusIn(c.node(coord), down) == membership.Dead })
	require.Contains(t, c.node(coord).Suspects(), down)
	c.node(coord).Submit(Request{ID: 1, Op: Put, Key: "k", Value: []byte("v")})
	rd := c.node(coord).Ready()
	var fallback sim.NodeID
	for _, e := range rd.Messages {
		require.NotEqual(t, down, e.To, "no write is sent to a node the view holds dead")
		if e.Msg.Hinted {
			assert.Equal(t, down, e.Msg.HintFor)
			fallback = e.To
		}
		c.net = append(c.net, flight{from: coord, to: e.To, msg: c.wire(e.Msg)})
	}
	c.replies = append(c.replies, rd.Replies...)
	require.NotZero(t, fallback, "a fallback stands in for the dead replica")
	c.quiesce()
	rep, ok := c.takeReply(1)
	require.True(t, ok)
	require.Equal(t, OK, rep.Status, rep.Err)
	require.Len(t, c.node(fallback).Snapshot().Hints, 1)

	// The node restarts over its store; its higher incarnation spreads,
	// the fallback sees it alive and replays at once.
	c.start(down, c.ring)
	rounds := c.runUntil(20, "hint delivered", func() bool {
		vs, ok := c.stores[down-1].Get("k")
		return ok && string(vs[0].Value) == "v" && len(c.node(fallback).Snapshot().Hints) == 0
	})
	assert.Less(t, rounds, cfg.HintReplayIntervalTicks, "replayed on the alive event, not at the replay interval")
}

// Each node routes with the ring of its own view, so views and rings
// differ while a partition keeps a join from spreading, and agree again
// after the heal.
func TestGossipRingsFollowEachNodesOwnView(t *testing.T) {
	c := newSimClusterRing(t, gossipConfig(), 5, 6, ring.Config{Seed: 6, VNodes: 4})
	c.runUntil(20, "boot", c.agreed)
	j := c.addSlot()
	c.partition([]sim.NodeID{1, 2})
	require.NoError(t, c.start(j, c.ring).Join())
	for range 15 {
		c.round()
	}
	assert.False(t, c.node(1).Ring().Contains(j), "the partitioned side has not heard of the join")
	assert.True(t, c.node(3).Ring().Contains(j), "the joiner's side routes with it")
	assert.Equal(t, ringKey(c.node(1).Ring()), ringKey(c.node(2).Ring()))
	assert.Equal(t, ringKey(c.node(3).Ring()), ringKey(c.node(j).Ring()))
	// Some key is routed differently by the two sides.
	differs := false
	for i := 0; i < 100 && !differs; i++ {
		k := fmt.Sprint("key", i)
		a, _ := c.node(1).Ring().PreferenceList(k, 3, nil)
		b, _ := c.node(3).Ring().PreferenceList(k, 3, nil)
		differs = !slices.Equal(a, b)
	}
	assert.True(t, differs, "different views, different preference lists")
	c.partition()
	c.runUntil(20, "heal", c.agreed)
	assert.True(t, c.node(1).Ring().Contains(j))
}

// Bad gossip is ignored and counted, never a crash and never a changed
// view: a sender that does not match the message, an unknown peer that
// does not announce itself, unsorted entries, an entry with a stale
// incarnation, an invalid entry; and gossip at a node under oracle
// membership.
func TestGossipBadInputIsIgnoredAndCounted(t *testing.T) {
	c := newSimClusterRing(t, gossipConfig(), 3, 1, ring.Config{Seed: 1, VNodes: 4})
	c.runUntil(20, "boot", c.agreed)
	n := c.node(1)
	e2, ok := n.gossip.table.Entry(2)
	require.True(t, ok)
	stale := e2
	stale.Incarnation--
	badStatus := e2
	badStatus.Status = 9
	gossip := func(from sim.NodeID, entries ...membership.Entry) Message {
		return Message{Type: MsgGossip, Gossip: &membership.Message{Kind: membership.Reply, From: from, Entries: entries}}
	}
	cases := []struct {
		from   sim.NodeID
		m      Message
		reason string
	}{
		{2, gossip(3, e2), "gossip-bad-sender"},
		{7, gossip(7), "gossip-unknown-peer"},
		{2, gossip(2, e2, n.View()[0]), "gossip-malformed"},
		{3, gossip(3, stale), "gossip-stale"},
		{3, gossip(3, badStatus), "gossip-bad-entry"},
	}
	view, digest, rk := n.View(), n.ViewDigest(), ringKey(n.Ring())
	requireIgnored(t, n, "malformed", func() { n.Step(2, Message{Type: MsgGossip}) }, "no payload")
	for i, tc := range cases {
		requireIgnored(t, n, tc.reason, func() { n.Step(tc.from, tc.m) }, "case %d", i)
		assert.Empty(t, n.Ready().Messages, "case %d: a reply carries nothing new", i)
	}
	assert.Equal(t, digest, n.ViewDigest())
	assert.Equal(t, view, n.View())
	assert.Equal(t, rk, ringKey(n.Ring()))

	oracle := newSimCluster(t, testConfig(LWW), 3, 1).node(1)
	requireIgnored(t, oracle, "disabled", func() { oracle.Step(2, gossip(2, e2)) })
	assert.Nil(t, oracle.View())
}

// SetRing does nothing under gossip membership: the ring is the view's.
func TestGossipIgnoresSetRing(t *testing.T) {
	c := newSimClusterRing(t, gossipConfig(), 3, 1, ring.Config{Seed: 1, VNodes: 4})
	n := c.node(1)
	before := n.Ring()
	small, err := ring.New(ring.Config{Seed: 1, VNodes: 4}, ring.Member{ID: 1, Weight: 1})
	require.NoError(t, err)
	n.SetRing(small)
	assert.Same(t, before, n.Ring())
}

// A membership incarnation raised by refutation above the node's own
// incarnation is persisted, so the node's next life (a restart, or a
// rejoin over its wiped store) starts above it: otherwise the verdict or
// leave of the earlier life would outrank the new entry in other views.
func TestGossipRaisedIncarnationIsPersistedForTheNextLife(t *testing.T) {
	c := newSimClusterRing(t, gossipConfig(), 3, 1, ring.Config{Seed: 1, VNodes: 4})
	c.runUntil(20, "boot", c.agreed)
	n := c.node(2)
	require.Equal(t, n.Incarnation(), n.gossip.table.Incarnation(), "the entry starts at the node's incarnation")
	dead := membership.Entry{ID: 2, Incarnation: 40, Heartbeat: 3, Status: membership.Dead, Weight: 1, Epoch: 1, Claims: []uint64{claimMember}}
	n.Step(3, Message{Type: MsgGossip, Gossip: &membership.Message{Kind: membership.Reply, From: 3, Entries: []membership.Entry{dead}}})
	require.Equal(t, uint64(41), n.gossip.table.Incarnation(), "refuted above the verdict")
	c.collect(2)
	got, ok := c.stores[1].Meta(metaMembershipIncarnation)
	require.True(t, ok)
	assert.Equal(t, uint64(41), got, "the raised incarnation is durable")

	c.restart(2)
	n = c.node(2)
	assert.Less(t, n.Incarnation(), uint64(41), "the kv incarnation did not follow the refutation")
	assert.Equal(t, uint64(42), n.gossip.table.Incarnation(), "the next life starts above the earlier one's")
	// A rejoin over the wiped store (data gone, metadata kept) starts
	// above it again.
	c.stores[1].Wipe()
	c.restart(2)
	assert.Equal(t, uint64(43), c.node(2).gossip.table.Incarnation())
}
