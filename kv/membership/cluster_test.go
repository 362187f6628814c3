package membership

import (
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

var long = flag.Bool("long", false, "measure convergence over more seeds and sizes")

// cluster is a tiny in-test gossip loop. A round: every running node ticks;
// then the pushes are delivered in order, then the replies they caused.
// A message is lost if either end is down, the ends are in different
// partition groups, or the loss stream says so.
type cluster struct {
	t      require.TestingT
	cfg    Config
	seed   uint64
	nodes  []*Table
	down   []bool
	group  []int
	loss   sim.Prob
	net    *sim.RNG
	encode bool // round-trip every message through msgpack
	msgs   int
	bytes  int
}

func newCluster(t require.TestingT, n int, cfg Config, seed uint64) *cluster {
	c := &cluster{t: t, cfg: cfg, seed: seed, net: sim.NewRNG(seed).Fork("net")}
	for range n {
		c.add()
	}
	return c
}

// add starts a new node that knows only the seeds in cfg.
func (c *cluster) add() sim.NodeID {
	id := sim.NodeID(len(c.nodes))
	c.nodes = append(c.nodes, newTable(c.t, c.cfg, id, c.seed))
	c.down = append(c.down, false)
	c.group = append(c.group, 0)
	return id
}

func (c *cluster) deliverable(from, to sim.NodeID) bool {
	if int(to) >= len(c.nodes) || c.down[from] || c.down[to] || c.group[from] != c.group[to] {
		return false
	}
	return !c.net.Chance(c.loss)
}

func (c *cluster) send(from sim.NodeID, o Outgoing) []Outgoing {
	c.msgs++
	c.bytes += o.Msg.Size()
	if !c.deliverable(from, o.To) {
		return nil
	}
	msg := o.Msg
	if c.encode {
		var b []byte
		h := &codec.MsgpackHandle{}
		require.NoError(c.t, codec.NewEncoderBytes(&b, h).Encode(o.Msg))
		require.Equal(c.t, len(b), o.Msg.Size())
		msg = Message{}
		require.NoError(c.t, codec.NewDecoderBytes(b, h).Decode(&msg))
	}
	return c.nodes[o.To].Receive(from, msg)
}

func (c *cluster) round() {
	type sent struct {
		from sim.NodeID
		out  Outgoing
	}
	var pushes, replies []sent
	for id, n := range c.nodes {
		if c.down[id] {
			continue
		}
		for _, o := range n.Tick() {
			pushes = append(pushes, sent{sim.NodeID(id), o})
		}
	}
	for _, p := range pushes {
		for _, r := range c.send(p.from, p.out) {
			replies = append(replies, sent{p.out.To, r})
		}
	}
	for _, r := range replies {
		require.Empty(c.t, c.send(r.from, r.out), "replies are never answered")
	}
}

// converged reports whether every running node holds the same view with
// every running node alive.
func (c *cluster) converged() bool {
	var d uint64
	first := true
	for id, n := range c.nodes {
		if c.down[id] {
			continue
		}
		for other := range c.nodes {
			if !c.down[other] && !n.Alive(sim.NodeID(other)) && other != id {
				return false
			}
		}
		if first {
			d, first = n.Digest(), false
		} else if n.Digest() != d {
			return false
		}
	}
	return true
}

// runUntil runs rounds until cond holds and returns how many it took, or
// fails after limit rounds.
func (c *cluster) runUntil(limit int, cond func() bool) int {
	for r := 1; r <= limit; r++ {
		c.round()
		if cond() {
			return r
		}
	}
	require.FailNow(c.t, "no convergence", "condition not reached within %d rounds", limit)
	return limit
}

func (c *cluster) events(id sim.NodeID) []Event { return c.nodes[id].TakeEvents() }

type measured struct {
	n               int
	boot, join, upd []int
}

func (m measured) row(loss string) string {
	stat := func(xs []int) string {
		s := 0
		for _, x := range xs {
			s += x
		}
		return fmt.Sprintf("%5.2f / %2d", float64(s)/float64(len(xs)), slices.Max(xs))
	}
	return fmt.Sprintf("| %3d | %4s | %5.2f | %s | %s | %s |", m.n, loss, math.Log2(float64(m.n)), stat(m.boot), stat(m.join), stat(m.upd))
}

// measure returns, for one cluster size and loss rate, the rounds to
// converge (a) from a cold start where every node knows only seed 0, (b)
// after a new node joins a converged cluster through seed 0, and (c) after
// one node changes its claims.
func measure(t *testing.T, n int, loss sim.Prob, seeds int) measured {
	m := measured{n: n}
	for s := 1; s <= seeds; s++ {
		c := newCluster(t, n, Config{Seeds: []sim.NodeID{0}}, uint64(s))
		c.loss = loss
		m.boot = append(m.boot, c.runUntil(100, c.converged))
		for range 3 {
			c.round()
		}
		c.add()
		m.join = append(m.join, c.runUntil(100, c.converged))
		for range 3 {
			c.round()
		}
		require.NoError(t, c.nodes[n/2].SetClaims(2, []uint64{uint64(s)}))
		m.upd = append(m.upd, c.runUntil(100, c.converged))
		for id := range c.nodes {
			for _, e := range c.events(sim.NodeID(id)) {
				require.NotEqual(t, EventSuspect, e.Kind, "false suspicion of %v at %v in a healthy cluster", e.ID, id)
			}
		}
	}
	return m
}

// TestGossipConvergesInLogRounds measures convergence of healthy clusters
// of 5, 20 and 100 nodes, with and without 10% message loss, and checks it
// against c·log2(N)+k.
func TestGossipConvergesInLogRounds(t *testing.T) {
	seeds := 8
	sizes := []int{5, 20, 100}
	if *long {
		seeds = 30
		sizes = append(sizes, 300)
	}
	loss10, err := sim.Ratio(1, 10)
	require.NoError(t, err)
	rows := []string{
		"| N   | loss | log2N | cold start mean / max | join mean / max | update mean / max |",
	}
	for _, loss := range []sim.Prob{sim.Never0, loss10} {
		for _, n := range sizes {
			m := measure(t, n, loss, seeds)
			rows = append(rows, m.row(loss.String()))
			bound := int(math.Ceil(2*math.Log2(float64(n)))) + 4
			if !loss.IsZero() {
				bound += 3
			}
			for _, xs := range [][]int{m.boot, m.join, m.upd} {
				assert.LessOrEqual(t, slices.Max(xs), bound, "N=%d loss=%v: %v exceeds 2*log2(N)+4(+3 with loss)", n, loss, xs)
			}
		}
	}
	t.Logf("rounds to one view on all nodes (Fanout=3, push-pull, %d seeds each)\n%s", seeds, strings.Join(rows, "\n"))
}

// A crashed node is declared dead by every other node within bounded
// rounds, and hinted-handoff events follow (suspect, then dead).
func TestGossipFailureDetectionCrashedNodeDeadEverywhere(t *testing.T) {
	cfg := Config{Seeds: []sim.NodeID{0}}
	for seed := uint64(1); seed <= 4; seed++ {
		c := newCluster(t, 20, cfg, seed)
		c.runUntil(50, c.converged)
		for id := range c.nodes {
			c.events(sim.NodeID(id))
		}
		const victim = 7
		c.down[victim] = true
		deadEverywhere := func() bool {
			for id, n := range c.nodes {
				if st, _ := n.Status(victim); id != victim && st != Dead {
					return false
				}
			}
			return true
		}
		// Suspect after SuspectTicks without progress, dead DeadTicks
		// later; the last heartbeat spreads for a few rounds first.
		bound := DefaultSuspectTicks + DefaultDeadTicks + int(math.Ceil(math.Log2(20))) + 2
		r := c.runUntil(bound, deadEverywhere)
		t.Logf("seed %d: crashed node dead on all 19 others after %d rounds (bound %d)", seed, r, bound)
		for id := range c.nodes {
			if id == victim {
				continue
			}
			assert.False(t, c.nodes[id].Alive(victim))
			var kinds []EventKind
			for _, e := range c.events(sim.NodeID(id)) {
				require.Equal(t, sim.NodeID(victim), e.ID, "only the victim changes")
				kinds = append(kinds, e.Kind)
			}
			assert.Contains(t, kinds, EventDead)
			assert.Equal(t, EventDead, kinds[len(kinds)-1])
		}
		// It stays dead: nobody resurrects it without a new incarnation.
		for range 30 {
			c.round()
		}
		assert.True(t, deadEverywhere())
		assert.Equal(t, 20, len(c.nodes[0].Members()), "failure detection does not remove a node from the ring")
	}
}

// A node cut off by a partition is dead on the majority side and sees the
// others dead; after the heal it refutes, and everyone is alive again with
// one view.
func TestGossipPartitionedNodeAliveAgainAfterHeal(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		c := newCluster(t, 10, Config{Seeds: []sim.NodeID{0}}, seed)
		c.runUntil(50, c.converged)
		const x = 3
		inc := c.nodes[x].Incarnation()
		c.group[x] = 1
		for range 40 {
			c.round()
		}
		for id, n := range c.nodes {
			if id == x {
				continue
			}
			st, _ := n.Status(x)
			require.Equal(t, Dead, st, "majority node %d sees the isolated node dead", id)
			st, _ = c.nodes[x].Status(sim.NodeID(id))
			require.Equal(t, Dead, st, "the isolated node sees %d dead", id)
		}
		for id := range c.nodes {
			c.events(sim.NodeID(id))
		}
		c.group[x] = 0
		r := c.runUntil(20, c.converged)
		t.Logf("seed %d: one view again %d rounds after the heal", seed, r)
		// The isolated node's later heartbeats override the verdicts
		// against it, and the majority's override its stale verdicts:
		// nobody needs to refute, and no majority node is declared dead.
		for id, n := range c.nodes {
			assert.Zero(t, n.Stats().Refutations, "node %d", id)
			alive := false
			for _, e := range c.events(sim.NodeID(id)) {
				assert.NotEqual(t, EventDead, e.Kind, "node %d after the heal: %+v", id, e)
				assert.NotEqual(t, EventSuspect, e.Kind, "node %d after the heal: %+v", id, e)
				alive = alive || (e.Kind == EventAlive && (e.ID == x || id == x))
			}
			assert.True(t, alive, "node %d saw the other side come back", id)
		}
		assert.Equal(t, inc, c.nodes[x].Incarnation())
	}
}

// A crashed node that restarts without its old state learns its old
// incarnation from gossip and incarnates above it.
func TestGossipRestartedNodeRejoins(t *testing.T) {
	c := newCluster(t, 8, Config{Seeds: []sim.NodeID{0}}, 9)
	c.runUntil(50, c.converged)
	c.down[5] = true
	for range 25 {
		c.round()
	}
	st, _ := c.nodes[0].Status(5)
	require.Equal(t, Dead, st)
	c.nodes[5] = newTable(t, c.cfg, 5, 99) // fresh state, incarnation 0
	c.down[5] = false
	r := c.runUntil(20, c.converged)
	t.Logf("restarted node alive everywhere after %d rounds", r)
	assert.Positive(t, c.nodes[5].Incarnation())
}

// A leaving node is left everywhere, stays left, and leaves the ring.
func TestGossipLeaveSpreadsAndIsFinal(t *testing.T) {
	c := newCluster(t, 12, Config{Seeds: []sim.NodeID{0}}, 3)
	c.runUntil(50, c.converged)
	for id := range c.nodes {
		c.events(sim.NodeID(id))
	}
	rv := c.nodes[0].RingVersion()
	c.nodes[2].Leave()
	c.nodes[2].Leave() // idempotent
	leftEverywhere := func() bool {
		for _, n := range c.nodes {
			if st, _ := n.Status(2); st != Left {
				return false
			}
		}
		return true
	}
	r := c.runUntil(20, leftEverywhere)
	t.Logf("leave known everywhere after %d rounds", r)
	c.down[2] = true
	for range 40 {
		c.round()
	}
	require.True(t, leftEverywhere(), "left is final: no suspicion or death overrides it")
	assert.NotContains(t, c.nodes[0].Members(), sim.NodeID(2))
	assert.Len(t, c.nodes[0].Members(), 11)
	assert.Greater(t, c.nodes[0].RingVersion(), rv)
	for id := range c.nodes {
		if id == 2 {
			continue
		}
		ev := c.events(sim.NodeID(id))
		require.Len(t, ev, 1, "node %d: exactly one event, the leave", id)
		assert.Equal(t, Event{Tick: ev[0].Tick, Kind: EventLeft, ID: 2, Status: Left}, ev[0])
	}
	// A stale alive entry of the leaving incarnation, even at a later
	// heartbeat, does not bring it back.
	c.nodes[0].Receive(1, Message{Kind: Reply, From: 1, Entries: []Entry{{ID: 2, Incarnation: 0, Heartbeat: 500, Status: Alive, Weight: 1}}})
	st, _ := c.nodes[0].Status(2)
	assert.Equal(t, Left, st)
}

// Left is final within an incarnation, not for the id: a node that left
// and comes back with a fresh table (here even at the same incarnation, as
// if its leave had not been persisted) learns of its leave from gossip,
// incarnates above it and is a live member in every view again.
func TestGossipLeftNodeRejoinsAtAHigherIncarnation(t *testing.T) {
	for _, startInc := range []uint64{0, 1} {
		c := newCluster(t, 10, Config{Seeds: []sim.NodeID{0}}, 13)
		c.runUntil(50, c.converged)
		c.nodes[4].Leave()
		leftEverywhere := func() bool {
			for _, n := range c.nodes {
				if st, _ := n.Status(4); st != Left {
					return false
				}
			}
			return true
		}
		c.runUntil(20, leftEverywhere)
		require.True(t, leftEverywhere())
		c.down[4] = true
		for range 10 {
			c.round()
		}
		for id := range c.nodes {
			c.events(sim.NodeID(id))
		}
		tb, err := New(c.cfg, Self{ID: 4, Weight: 1, Incarnation: startInc}, sim.NewRNG(77).Fork("membership/4"))
		require.NoError(t, err)
		c.nodes[4], c.down[4] = tb, false
		r := c.runUntil(40, c.converged)
		t.Logf("start incarnation %d: rejoined everywhere after %d rounds", startInc, r)
		require.True(t, c.converged())
		assert.Greater(t, c.nodes[4].Incarnation(), uint64(0))
		for id, n := range c.nodes {
			assert.True(t, n.Alive(4), "node %d", id)
			assert.Contains(t, n.Members(), sim.NodeID(4), "node %d", id)
			if id == 4 {
				continue
			}
			ev := c.events(sim.NodeID(id))
			require.NotEmpty(t, ev, "node %d", id)
			assert.Equal(t, EventJoined, ev[0].Kind, "node %d: the new life is announced as a join: %+v", id, ev)
			assert.Equal(t, sim.NodeID(4), ev[0].ID)
		}
	}
}

// A joining node's shard claims spread and win over the older claims of
// the previous owner in every view.
func TestGossipJoinWithClaims(t *testing.T) {
	const q = 8
	cfg := Config{Seeds: []sim.NodeID{0}}
	c := &cluster{t: t, cfg: cfg, seed: 5, net: sim.NewRNG(5).Fork("net"), encode: true}
	for id := range 4 {
		var claims []uint64
		for s := id; s < q; s += 4 {
			claims = append(claims, uint64(s))
		}
		tb, err := New(cfg, Self{ID: sim.NodeID(id), Weight: 1, Claims: claims}, sim.NewRNG(5).Fork(fmt.Sprint("membership/", id)))
		require.NoError(t, err)
		c.nodes = append(c.nodes, tb)
		c.down = append(c.down, false)
		c.group = append(c.group, 0)
	}
	c.runUntil(30, c.converged)
	before := ClaimOwners(c.nodes[0].View(), q)
	assert.Equal(t, []sim.NodeID{0, 1, 2, 3, 0, 1, 2, 3}, before)
	rv := c.nodes[1].RingVersion()

	// Node 4 joins and steals shards 4 and 5 (still claimed by 0 and 1).
	tb, err := New(cfg, Self{ID: 4, Weight: 1}, sim.NewRNG(5).Fork("membership/4"))
	require.NoError(t, err)
	require.NoError(t, tb.SetClaims(1, []uint64{4, 5}))
	c.nodes = append(c.nodes, tb)
	c.down = append(c.down, false)
	c.group = append(c.group, 0)
	c.runUntil(30, c.converged)
	want := []sim.NodeID{0, 1, 2, 3, 4, 4, 2, 3}
	for id, n := range c.nodes {
		assert.Equal(t, want, ClaimOwners(n.View(), q), "view of node %d", id)
		if id < 4 {
			joined := false
			for _, e := range n.TakeEvents() {
				joined = joined || (e.Kind == EventJoined && e.ID == 4)
			}
			assert.True(t, joined, "node %d saw the join", id)
		}
	}
	assert.Greater(t, c.nodes[1].RingVersion(), rv)
	// The previous owners drop their claims later; the result is the same.
	require.NoError(t, c.nodes[0].SetClaims(1, []uint64{0}))
	require.NoError(t, c.nodes[1].SetClaims(1, []uint64{1}))
	c.runUntil(30, c.converged)
	assert.Equal(t, want, ClaimOwners(c.nodes[2].View(), q))
}

// A healthy cluster under 10% loss never suspects anyone.
func TestGossipNoFalseSuspicionUnderLoss(t *testing.T) {
	loss, err := sim.Ratio(1, 10)
	require.NoError(t, err)
	c := newCluster(t, 30, Config{Seeds: []sim.NodeID{0}}, 11)
	c.loss = loss
	for range 150 {
		c.round()
	}
	require.True(t, c.converged())
	for id := range c.nodes {
		for _, e := range c.events(sim.NodeID(id)) {
			require.Equal(t, EventJoined, e.Kind, "node %d: %+v", id, e)
		}
	}
	t.Logf("30 nodes, 150 rounds, 10%% loss: %d messages, %d bytes (%.0f bytes per node per round)",
		c.msgs, c.bytes, float64(c.bytes)/30/150)
}

// The same seed gives the same run, message for message.
func TestGossipDeterministic(t *testing.T) {
	run := func() (uint64, []uint64) {
		c := newCluster(t, 15, Config{Seeds: []sim.NodeID{0}}, 21)
		c.loss, _ = sim.Ratio(1, 5)
		var digests []uint64
		for r := range 40 {
			if r == 10 {
				c.down[4] = true
			}
			c.round()
			digests = append(digests, c.nodes[0].Digest())
		}
		return uint64(c.bytes), digests
	}
	b1, d1 := run()
	b2, d2 := run()
	require.Equal(t, b1, b2)
	require.Equal(t, d1, d2)
}

// BenchmarkGossipRound measures one round of a 100-node cluster.
func BenchmarkGossipRound(b *testing.B) {
	c := newCluster(b, 100, Config{Seeds: []sim.NodeID{0}}, 1)
	for range 20 {
		c.round()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.round()
	}
	b.ReportMetric(float64(c.bytes)/float64(b.N+20)/100, "bytes/node/round")
}
