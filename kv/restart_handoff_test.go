package kv

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// A node that crashes before the arcs it gained have arrived does not
// come back vouching for them: which arcs were pending is not on disk, so
// its restart pulls every arc it replicates again (from both other
// replicas) and refuses reads of them until they have arrived.
func TestRestartMidHandoffPullsItsArcsAgain(t *testing.T) {
	c, j := joinedCluster(t, true)
	require.Positive(t, c.node(j).HandoffPending())
	c.restart(j) // before a single pull
	jn := c.node(j)
	ranges := 0
	for _, g := range jn.route.ranges {
		if g.Replicas[0] == j || g.Replicas[1] == j || g.Replicas[2] == j {
			ranges++
		}
	}
	assert.Equal(t, ranges, jn.HandoffPending(), "every arc it replicates pends again")
	var mine string
	for i := range 20 {
		if k := fmt.Sprint("k", i); jn.replicates(k) {
			mine = k
			break
		}
	}
	require.NotEmpty(t, mine)
	jn.Step(1, Message{Type: MsgRead, Op: 77, Key: mine})
	assert.True(t, c.ready(j).Messages[0].Msg.Refused, "a restarted node that was mid-handoff serves no read of its arcs")
	c.runUntil(100, "received", func() bool { return jn.HandoffPending() == 0 })
	for i := range 20 {
		if k := fmt.Sprint("k", i); jn.replicates(k) {
			_, ok := c.stores[j-1].Get(k)
			assert.True(t, ok, k)
		}
	}
	// Its arcs have arrived, but it still vouches for no arc outside them
	// (it cannot know which it had received before the crash), so the flag
	// stays and any later restart pulls again.
	assert.True(t, jn.handoffIncomplete)
	assert.True(t, jn.transfer.incomplete())
}

// joinedCluster is a 3-node cluster holding k0..k19 that a fourth node
// has just joined under oracle membership (built with the ring before the
// join, then every node given the new ring); with collect, every node's
// Ready is applied, so what the ring change wrote is on disk.
func joinedCluster(t *testing.T, collect bool) (*simCluster, sim.NodeID) {
	t.Helper()
	c := newSimClusterRing(t, churnConfig(MembershipOracle), 3, 1, ring.Config{Seed: 1, VNodes: 4})
	for i := range 20 {
		c.submit(1, Request{ID: uint64(i + 1), Op: Put, Key: fmt.Sprint("k", i), Value: []byte("v")})
	}
	c.settle()
	j := c.addSlot()
	r, err := c.ring.Add(ring.Member{ID: j, Weight: 1})
	require.NoError(t, err)
	c.start(j, c.ring) // the ring before the join
	for _, n := range c.running() {
		n.SetRing(r) // the joiner too
		if collect {
			c.collect(n.ID())
		}
	}
	c.ring = r
	return c, j
}

// startServer starts the kv server of node id on disk with view v.
func startServer(t *testing.T, cfg Config, id sim.NodeID, disk *node.MemDisk, v node.View) *server {
	t.Helper()
	n, err := NewFactory(cfg)(node.Env{ID: id, Seed: 1, View: v, Disk: disk,
		WallClock: func() int64 { return 1 }, Rand: sim.NewRNG(1)})
	require.NoError(t, err)
	return n.(*server)
}

// A node restarted on another membership epoch may have gained arcs while
// it was down, even when the ring it comes back to has the same members
// as the one it left (a node joined and left again meanwhile, and took
// and gave back some of its arcs): it pulls its arcs again. A restart in
// the same epoch pulls nothing.
func TestRestartInALaterEpochPullsItsArcsAgain(t *testing.T) {
	cfg := DefaultConfig()
	v0 := node.View{Initial: []sim.NodeID{0, 1, 2, 3}}
	disk := node.NewMemDisk()
	s := startServer(t, cfg, 0, disk, v0)
	disk.Crash()
	s = startServer(t, cfg, 0, disk, v0)
	assert.Zero(t, s.n.HandoffPending(), "same epoch, same ring: nothing to pull")

	// The node sees n4 join and leave (epoch 2, its first ring again) and
	// receives what it regained.
	v1 := v0.With(node.Change{Node: 4, Join: true})
	v2 := v1.With(node.Change{Node: 4, Join: false})
	require.NoError(t, s.SetView(v1))
	require.NoError(t, s.SetView(v2))
	require.Positive(t, s.n.HandoffPending(), "it regained arcs from n4")
	s.n.transfer.pending = s.n.transfer.pending[:0] // as if received
	s.n.transfer.unreceived = arcSet{}
	s.n.noteHandoff()
	s.flush() // the flag's write reaches the disk
	disk.Crash()
	s = startServer(t, cfg, 0, disk, v2)
	assert.Zero(t, s.n.HandoffPending(), "back on the epoch it last routed with: nothing to pull")

	// n4 joins and leaves again while the node is down: the same members,
	// two epochs later.
	v4 := v2.With(node.Change{Node: 4, Join: true}).With(node.Change{Node: 4, Join: false})
	disk.Crash()
	s = startServer(t, cfg, 0, disk, v4)
	assert.Positive(t, s.n.HandoffPending(), "the same members two changes later: its arcs may have moved and come back")

	// A node that never changed rings and starts in a later epoch than the
	// first may have missed changes too.
	fresh := node.NewMemDisk()
	s = startServer(t, cfg, 1, fresh, v0)
	fresh.Crash()
	s = startServer(t, cfg, 1, fresh, v4)
	assert.Positive(t, s.n.HandoffPending())
}

// A departed node that joins again keeps what its disk holds, but vouches
// for none of it: a forced pull gets it as a partial stream, which a
// receiver merges without counting it as a full copy.
func TestRejoinKeepsDataButVouchesForNone(t *testing.T) {
	cfg := DefaultConfig()
	initial := node.View{Initial: []sim.NodeID{0, 1, 2, 3}}
	disk := node.NewMemDisk()
	s := startServer(t, cfg, 0, disk, initial)
	w := Message{Type: MsgWrite, Op: 5, Key: "k", Versions: []Version{{Value: []byte("v"), Timestamp: 1, Dot: Dot{Node: 1, Counter: 1<<32 | 1}}}}
	b, err := w.AppendMsgpack(nil)
	require.NoError(t, err)
	require.NoError(t, s.Step(1, b))
	s.Ready()
	left := initial.With(node.Change{Node: 0, Join: false})
	disk.Crash()
	s = startServer(t, cfg, 0, disk, left) // the view before its rejoin: without it
	_, kept := s.store.Get("k")
	assert.True(t, kept, "the earlier life's data is kept")
	assert.True(t, s.n.transfer.unreceived.covers(ring.Arc{}), "and vouched for nowhere")
	req := Message{Type: MsgStreamRequest, Op: 9, ArcStart: 0, ArcEnd: 0, Force: true}
	b, err = req.AppendMsgpack(nil)
	require.NoError(t, err)
	require.NoError(t, s.Step(1, b))
	out := s.Ready().Messages
	require.Len(t, out, 1)
	var data Message
	require.NoError(t, data.DecodeMsgpack(out[0].Payload))
	assert.True(t, data.Partial, "a partial stream")
	require.Len(t, data.Items, 1)
	assert.Equal(t, "k", data.Items[0].Key)
}

// The maxPulls slots go to the arcs due longest ago: arcs whose pulls
// keep timing out do not starve the others.
func TestPendingArcsDoNotStarve(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RangeHandoff = true
	cfg.HandoffTimeoutTicks = 5
	st := loadState(NewMemStore())
	var stats Stats
	seq := uint64(0)
	tr := rangeTransfer{self: 1, cfg: &cfg, st: st, stats: &stats,
		next: func() uint64 { seq++; return 1<<32 | seq },
		down: func(sim.NodeID) bool { return false }}
	const arcs = 3 * maxPulls
	var gained []gainedArc
	var ranges []ring.Range
	step := ^uint64(0) / arcs
	for i := range uint64(arcs) {
		a := ring.Arc{Start: i * step, End: (i + 1) * step}
		gained = append(gained, gainedArc{a: a, sources: []sim.NodeID{2}, need: 1})
		ranges = append(ranges, ring.Range{Arc: a, Replicas: []sim.NodeID{1, 2}})
	}
	tr.ringChanged(0, ranges, gained)
	// Nobody ever answers. Each pull times out after 5 ticks, so three
	// rounds of maxPulls give every arc a pull.
	for now := int64(1); now <= 3*5+1; now++ {
		tr.tick(now)
		tr.take()
	}
	for i, p := range tr.pending {
		assert.Positive(t, p.attempt, "arc %d never pulled", i)
	}
}

// Under gossip membership the ring follows the node's own view, not the
// driver's epochs: a node restarted on the view it started with pulls
// nothing, whatever the driver's epoch.
func TestGossipRestartIgnoresTheDriversEpoch(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Membership = MembershipGossip
	v1 := node.View{Initial: []sim.NodeID{0, 1, 2, 3}}.With(node.Change{Node: 4, Join: true})
	disk := node.NewMemDisk()
	startServer(t, cfg, 0, disk, v1)
	disk.Crash()
	s := startServer(t, cfg, 0, disk, v1)
	assert.Zero(t, s.n.HandoffPending())
	assert.False(t, s.n.transfer.incomplete())
}

// A spare that joins in a later epoch starts with an empty disk and
// vouches for its arcs once they arrive: nothing flags it as restarted.
func TestNewcomerStartsClean(t *testing.T) {
	cfg := DefaultConfig()
	v1 := node.View{Initial: []sim.NodeID{0, 1, 2, 3}}.With(node.Change{Node: 3, Join: false})
	s := startServer(t, cfg, 4, node.NewMemDisk(), v1) // the view before its join
	assert.False(t, s.n.transfer.incomplete())
	assert.False(t, s.n.handoffIncomplete)
}
