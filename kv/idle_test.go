package kv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// twin is one randomized script, played on two clusters from the same
// seed: a ticks every node at every tick and checks that each tick
// IdleTicks promised idle produces nothing; b spares those ticks and hands
// them over with SkipTicks before the node's next input. The two must not
// differ in anything: every message's bytes, every reply, every node's
// state.
type twin struct {
	t    *testing.T
	a, b *simCluster
	drv  *sim.RNG // the script's choices, shared by both
	req  uint64
}

// twinScript is what a script does besides requests, deliveries and ticks.
type twinScript struct {
	steps   int
	dropPct uint64
	churn   string // "", "join" or "leave": a membership change a third of the way in
}

func newTwin(t *testing.T, cfg Config, size int, seed uint64) *twin {
	rc := ring.Config{Seed: seed, VNodes: 4}
	a, b := newSimClusterRing(t, cfg, size, seed, rc), newSimClusterRing(t, cfg, size, seed, rc)
	a.checkIdle, b.spare = true, true
	return &twin{t: t, a: a, b: b, drv: sim.NewRNG(seed).Fork("script")}
}

// do runs fn on both clusters.
func (w *twin) do(fn func(c *simCluster)) {
	fn(w.a)
	fn(w.b)
}

// pick returns a running node, drawn by the script.
func (w *twin) pick() sim.NodeID {
	running := w.a.running()
	return running[w.drv.IntN(len(running))].ID()
}

// request submits a random put, get or delete of one of a few keys.
func (w *twin) request() {
	w.req++
	req := Request{ID: w.req, Key: fmt.Sprint("k", w.drv.IntN(6))}
	switch r := w.drv.IntN(10); {
	case r < 5:
		req.Op, req.Value = Put, []byte(fmt.Sprint("v", w.req))
	case r < 8:
		req.Op = Get
	default:
		req.Op = Delete
	}
	id := w.pick()
	w.do(func(c *simCluster) { c.submit(id, req) })
}

// change joins a new node or makes node 2 leave, as cluster does it.
func (w *twin) change(how string) {
	gossip := w.a.cfg.Membership == MembershipGossip
	w.do(func(c *simCluster) {
		switch {
		case how == "join" && gossip:
			id := c.addSlot()
			c.start(id, c.ring)
			c.call(id, func(n *Node) { require.NoError(w.t, n.Join()) })
		case how == "join":
			id := c.addSlot()
			r, err := c.ring.Add(ring.Member{ID: id, Weight: 1})
			require.NoError(w.t, err)
			c.start(id, c.ring)
			for _, n := range c.running() {
				c.call(n.ID(), func(n *Node) { n.SetRing(r) })
			}
			c.ring = r
		default:
			if !gossip {
				r, err := c.ring.Remove(2)
				require.NoError(w.t, err)
				for _, n := range c.running() {
					c.call(n.ID(), func(n *Node) { n.SetRing(r) })
				}
				c.ring = r
			}
			c.call(2, func(n *Node) { require.NoError(w.t, n.Leave()) })
		}
	})
}

// run plays the script, then heals, delivers everything and ticks on for
// a while (long idle spans), and compares the two clusters.
func (w *twin) run(s twinScript) {
	for step := 0; step < s.steps; step++ {
		if s.churn != "" && step == s.steps/3 {
			w.change(s.churn)
		}
		switch r := w.drv.IntN(100); {
		case r < 10:
			w.request()
		case r < 40:
			w.do((*simCluster).tick)
		case r < 42:
			if w.drv.IntN(2) == 0 {
				w.do(func(c *simCluster) { c.partition() })
			} else {
				cut := w.pick()
				w.do(func(c *simCluster) { c.partition([]sim.NodeID{cut}) })
			}
		case r < 43:
			id := w.pick()
			if id != 2 || s.churn != "leave" {
				w.do(func(c *simCluster) { c.restart(id) })
			}
		case r < 44:
			w.do(func(c *simCluster) {
				for _, n := range c.running() {
					c.call(n.ID(), func(n *Node) { n.Healed(nil) })
				}
			})
		default:
			// About a quarter of what is in flight, in random order:
			// latency is geometric, never a backlog.
			w.do(func(c *simCluster) {
				for range len(c.net)/4 + 1 {
					c.step(s.dropPct)
				}
			})
		}
		if n := w.a.node(2); n != nil && n.LeaveDone() {
			require.True(w.t, w.b.node(2).LeaveDone(), "step %d: LeaveDone differs", step)
			w.do(func(c *simCluster) { c.stop(2) })
		}
	}
	w.do(func(c *simCluster) { c.partition() })
	for range 600 {
		w.do(func(c *simCluster) {
			c.tick()
			c.quiesce()
		})
	}
	w.compare()
}

// compare hands b's nodes their spared ticks and requires the clusters
// to be the same: trace (every message's bytes, every delivery and
// reply), and every node's clock, timers, counters, data, hints and
// stores.
func (w *twin) compare() {
	t, a, b := w.t, w.a, w.b
	for _, n := range b.running() {
		b.wake(n.ID())
	}
	if a.trace != b.trace {
		i := 0
		for i < len(a.lines) && i < len(b.lines) && a.lines[i] == b.lines[i] {
			i++
		}
		lo := max(0, i-5)
		t.Fatalf("the runs part at line %d:\nticked every tick:\n%s\nspared:\n%s", i,
			strings.Join(a.lines[lo:min(len(a.lines), i+3)], "\n"), strings.Join(b.lines[lo:min(len(b.lines), i+3)], "\n"))
	}
	require.Equal(t, a.spared, b.spared, "a checked as many promised ticks as b spared")
	require.Greater(t, b.spared, 0, "no tick was spared")
	require.Equal(t, len(a.nodes), len(b.nodes))
	for i, na := range a.nodes {
		nb := b.nodes[i]
		require.Equal(t, na == nil, nb == nil, "slot %d", i)
		if na != nil {
			require.Equal(t, na.Now(), nb.Now(), "%v: ticks", na.ID())
			require.Equal(t, idleState(na), idleState(nb), "%v: machines", na.ID())
			require.Equal(t, na.timers, nb.timers, "%v: timers", na.ID())
			require.Equal(t, na.coord.now, nb.coord.now, "%v: coordinator clock", na.ID())
			require.Equal(t, na.gossip.next, nb.gossip.next, "%v: gossip round", na.ID())
			require.Equal(t, na.ae.due, nb.ae.due, "%v: anti-entropy exchange", na.ID())
			require.Equal(t, na.ViewDigest(), nb.ViewDigest(), "%v: view", na.ID())
			require.Equal(t, na.Stats(), nb.Stats(), "%v: counters", na.ID())
			require.Equal(t, na.Snapshot(), nb.Snapshot(), "%v: data and hints", na.ID())
			require.Equal(t, na.HasReady(), nb.HasReady(), "%v: pending output", na.ID())
		}
		require.Equal(t, a.stores[i].Unsynced(), b.stores[i].Unsynced(), "slot %d: unsynced writes", i)
		require.Equal(t, a.stores[i].Keys(), b.stores[i].Keys(), "slot %d: stored keys", i)
	}
}

// idleState describes what a tick IdleTicks promised idle must not
// change: everything of the node's machines but its tick count and the
// periodic timers that only re-arm (and the syncs they count).
func idleState(n *Node) string {
	var b strings.Builder
	for _, id := range n.suspicion.peers() {
		p := n.suspicion.lookup(id)
		fmt.Fprintf(&b, "suspicion %v %d %v\n", id, p.waitingSince, p.suspected)
	}
	for _, o := range n.coord.ops {
		fmt.Fprintf(&b, "op %d %d %v %d %d %d\n", o.id, o.deadline, o.replied, o.acks, o.refused, o.replies)
	}
	fmt.Fprintf(&b, "coordinator out %d replies %d\n", len(n.coord.out), len(n.coord.replies))
	fmt.Fprintf(&b, "forwards %d %d\n", len(n.forwards.order), len(n.forwards.seen))
	fmt.Fprintf(&b, "tombstones %d %d\n", len(n.tombstones.order), len(n.tombstones.at))
	t := &n.transfer
	for _, p := range t.pending {
		fmt.Fprintf(&b, "pending %v %d %v %d %d %d %v\n", p.a, p.deadline, p.active, p.attempt, p.excused, len(p.pulls), p.gaveUp)
	}
	for _, st := range t.serving {
		fmt.Fprintf(&b, "serving %v %d %v %d %d\n", st.to, st.id, st.a, st.next, st.deadline)
	}
	fmt.Fprintf(&b, "leave %v %v %d owed %d served %d out %d\n", t.leaving, t.leaveDone, t.leaveAt, len(t.owed), len(t.served), len(t.out))
	fmt.Fprintf(&b, "ae due %d cursor %d session %v out %d\n", n.ae.due, n.ae.cursor, n.ae.sess != nil, len(n.ae.out))
	if n.ae.sess != nil {
		fmt.Fprintf(&b, "ae session %v %d\n", n.ae.sess.peer, n.ae.sess.deadline)
	}
	fmt.Fprintf(&b, "gossip %d %x\n", n.gossip.next, n.ViewDigest())
	st := n.stats
	st.Syncs = 0
	fmt.Fprintf(&b, "stats %+v ignored %v\n", st, n.ignored)
	fmt.Fprintf(&b, "incarnation %d seq %d keys %d hints %d out %d replies %d writes %d\n", n.incarnation, n.seq,
		len(n.state.data), len(n.state.hints), len(n.out), len(n.replies), len(n.state.writes))
	return b.String()
}

// TestIdleTicksAreIdle: whenever a node's IdleTicks promises k idle
// ticks, its next k Ticks (without input between) produce no message,
// reply or write, and a node that is spared them and handed them with
// SkipTicks before its next input behaves exactly like one ticked every
// tick: under partitions, loss, restarts, heals, deletes with tombstone
// purges, sloppy quorums and hints, anti-entropy, gossip, and joins and
// leaves with range handoff.
func TestIdleTicksAreIdle(t *testing.T) {
	unsynced := testConfig(LWW)
	unsynced.SyncBeforeAck = false // the periodic sync has work
	unsynced.TombstoneGraceTicks = 40
	sloppy := testConfig(VectorClock)
	sloppy.Quorum, sloppy.ReadRepair, sloppy.TombstoneGraceTicks = Sloppy, RepairAsync, 25
	ae := aeConfig(LWW, 15)
	ae.SyncBeforeAck = false
	gossip := gossipConfig()
	gossip.GossipIntervalTicks = 4
	cases := []struct {
		name   string
		cfg    Config
		script twinScript
	}{
		{"strict-lww-unsynced", unsynced, twinScript{steps: 3000, dropPct: 5}},
		{"sloppy-vclock-tombstones", sloppy, twinScript{steps: 3000, dropPct: 10}},
		{"anti-entropy", ae, twinScript{steps: 3000, dropPct: 10}},
		{"gossip-join", gossip, twinScript{steps: 2000, dropPct: 5, churn: "join"}},
		{"handoff-join", churnConfig(MembershipOracle), twinScript{steps: 3000, churn: "join"}},
		{"handoff-leave", churnConfig(MembershipOracle), twinScript{steps: 3000, dropPct: 5, churn: "leave"}},
		{"gossip-leave", churnConfig(MembershipGossip), twinScript{steps: 3000, churn: "leave"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				newTwin(t, tc.cfg, 5, seed).run(tc.script)
			}
		})
	}
}
