package transport

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

// The chaos scenario drives every feature of the network at once: lossy,
// duplicating, reordering and FIFO links, small capacities, cuts,
// partitions, holds, clogs and crashes, and replies sent from inside the
// deliver callback. Its model checks the safety rules at every delivery.

const chaosNodes = 5

type opKind uint8

const (
	opSend opKind = iota
	opCut
	opHealLink
	opPartition
	opHeal
	opHold
	opRelease
	opClog
	opDown
	opUp
)

// faultKinds weights the faults: crashes are rarer than recoveries so that
// nodes are mostly up, and cuts and holds are healed often.
var faultKinds = []opKind{
	opCut, opCut, opCut, opHealLink, opHealLink, opHealLink, opPartition, opHeal, opHeal,
	opHold, opHold, opRelease, opRelease, opRelease, opClog, opClog, opDown, opUp, opUp, opUp,
}

// chaosOp is one scheduled action. Sends dominate; the rest are faults.
type chaosOp struct {
	At   sim.Time
	Kind opKind
	A, B sim.NodeID
	Mask uint8         // opPartition: nodes with their bit set form one side
	Dur  time.Duration // opClog: how long
}

// chaosOpsFromRNG generates a schedule from a seeded stream.
func chaosOpsFromRNG(rng *sim.RNG, count int) []chaosOp {
	ops := make([]chaosOp, count)
	var at sim.Time
	for i := range ops {
		at += sim.Time(rng.Uint64N(uint64(300 * time.Microsecond)))
		kind := opSend
		if rng.Uint64N(100) < 12 {
			kind = faultKinds[rng.Uint64N(uint64(len(faultKinds)))]
		}
		ops[i] = chaosOp{
			At: at, Kind: kind,
			A:    sim.NodeID(rng.Uint64N(chaosNodes)),
			B:    sim.NodeID(rng.Uint64N(chaosNodes)),
			Mask: uint8(1 + rng.Uint64N(1<<chaosNodes-2)),
			Dur:  time.Duration(rng.Uint64N(uint64(8 * time.Millisecond))),
		}
	}
	return ops
}

// chaosOpsFromRapid draws a schedule with rapid, so failures shrink.
func chaosOpsFromRapid(t *rapid.T) []chaosOp {
	count := rapid.IntRange(0, 400).Draw(t, "ops")
	ops := make([]chaosOp, count)
	var at sim.Time
	node := rapid.IntRange(0, chaosNodes-1)
	for i := range ops {
		at += sim.Time(rapid.Int64Range(0, int64(300*time.Microsecond)).Draw(t, "gap"))
		kind := opSend
		if rapid.IntRange(0, 99).Draw(t, "fault") < 15 {
			kind = rapid.SampledFrom(faultKinds).Draw(t, "kind")
		}
		ops[i] = chaosOp{
			At: at, Kind: kind,
			A:    sim.NodeID(node.Draw(t, "a")),
			B:    sim.NodeID(node.Draw(t, "b")),
			Mask: uint8(rapid.IntRange(1, 1<<chaosNodes-2).Draw(t, "mask")),
			Dur:  time.Duration(rapid.Int64Range(0, int64(8*time.Millisecond)).Draw(t, "dur")),
		}
	}
	return ops
}

type chaosResult struct {
	hash    uint64
	records uint64
	log     []delivery
	stats   Stats
}

// chaosModel is the test's own view of the fault state, updated in the same
// loop events that apply each fault.
type chaosModel struct {
	cut, held [chaosNodes][chaosNodes]bool
	clog      [chaosNodes][chaosNodes]sim.Time
	down      [chaosNodes]bool
	// linkSeq[id] is the message's position in its link's send order;
	// lastSeq is the latest position delivered per FIFO link.
	linkSeq   map[uint64]uint64
	nextSeq   [chaosNodes][chaosNodes]uint64
	lastSeq   [chaosNodes][chaosNodes]uint64
	delivered [chaosNodes][chaosNodes]bool
}

type linkOverride struct {
	Link
	cfg LinkConfig
}

func chaosConfig(t require.TestingT) (Config, []linkOverride) {
	cfg := Config{Nodes: chaosNodes, Link: LinkConfig{
		Latency:   exponential(t, 300*time.Microsecond, 2*time.Millisecond),
		Loss:      ratio(t, 1, 20),
		Duplicate: ratio(t, 1, 25),
		Capacity:  24,
	}}
	overrides := []linkOverride{
		{Link{0, 1}, LinkConfig{Latency: uniform(t, time.Millisecond, 6*time.Millisecond), FIFO: true, Duplicate: ratio(t, 1, 5), Capacity: 16}},
		{Link{1, 0}, LinkConfig{Latency: uniform(t, time.Millisecond, 6*time.Millisecond), FIFO: true, Loss: ratio(t, 1, 10), Capacity: 16}},
		{Link{2, 3}, LinkConfig{Latency: constant(t, time.Millisecond), Capacity: 4}},
		{Link{4, 4}, LinkConfig{Latency: constant(t, 0), Capacity: 8}},
	}
	return cfg, overrides
}

// runChaos runs ops on a fresh network seeded with seed, checking the safety
// rules at every delivery, then heals everything, lets the network drain and
// checks the accounting.
func runChaos(t require.TestingT, seed uint64, ops []chaosOp) chaosResult {
	loop := newLoop(t)
	cfg, overrides := chaosConfig(t)
	var links [chaosNodes][chaosNodes]LinkConfig
	for a := range links {
		for b := range links[a] {
			links[a][b] = cfg.Link
		}
	}
	for _, o := range overrides {
		links[o.From][o.To] = o.cfg
	}
	m := &chaosModel{linkSeq: map[uint64]uint64{}}
	var (
		net     *Network[testMsg]
		res     chaosResult
		nextID  uint64
		errorsN int
	)
	fail := func(format string, args ...any) {
		if errorsN < 10 {
			t.Errorf("at %v: "+format, append([]any{loop.Now()}, args...)...)
		}
		errorsN++
	}
	send := func(from, to sim.NodeID, reply bool) {
		id := nextID
		nextID++
		msg := testMsg{
			ID: id, SentAt: loop.Now(), Body: fmt.Sprintf("op-%d", id),
			Tags: map[string]uint32{"from": uint32(from), "to": uint32(to), "id": uint32(id), "x": 7},
		}
		if reply {
			msg.Data = []byte("reply")
		}
		m.linkSeq[id] = m.nextSeq[from][to]
		m.nextSeq[from][to]++
		if err := net.Send(from, to, msg); err != nil {
			fail("send: %v", err)
		}
	}
	net, err := New(loop, sim.NewRNG(seed).Fork("net"), cfg, func(from, to sim.NodeID, msg testMsg) {
		now := loop.Now()
		switch {
		case m.cut[from][to]:
			fail("message %d crossed the cut %v->%v", msg.ID, from, to)
		case m.down[from] || m.down[to]:
			fail("message %d %v->%v delivered with a node down", msg.ID, from, to)
		case m.held[from][to]:
			fail("message %d delivered on held link %v->%v", msg.ID, from, to)
		case now < m.clog[from][to]:
			fail("message %d delivered on %v->%v clogged until %v", msg.ID, from, to, m.clog[from][to])
		case now.Sub(msg.SentAt) < links[from][to].Latency.Min():
			fail("message %d delivered before the minimum latency", msg.ID)
		}
		if links[from][to].FIFO {
			seq := m.linkSeq[msg.ID]
			if m.delivered[from][to] && seq < m.lastSeq[from][to] {
				fail("FIFO link %v->%v delivered #%d after #%d", from, to, seq, m.lastSeq[from][to])
			}
			m.lastSeq[from][to], m.delivered[from][to] = seq, true
		}
		res.log = append(res.log, delivery{At: now, From: from, To: to, Msg: msg})
		if msg.Data == nil && msg.ID%3 == 0 {
			send(to, from, true)
		}
	})
	require.NoError(t, err)
	for _, o := range overrides {
		require.NoError(t, net.SetLink(o.From, o.To, o.cfg))
	}

	apply := func(op chaosOp) {
		a, b := op.A, op.B
		var err error
		switch op.Kind {
		case opSend:
			send(a, b, false)
		case opCut:
			m.cut[a][b] = true
			err = net.Cut(a, b)
		case opHealLink:
			m.cut[a][b] = false
			err = net.HealLink(a, b)
		case opPartition:
			var g1, g2 []sim.NodeID
			for i := sim.NodeID(0); i < chaosNodes; i++ {
				if op.Mask&(1<<i) != 0 {
					g1 = append(g1, i)
				} else {
					g2 = append(g2, i)
				}
			}
			for _, x := range g1 {
				for _, y := range g2 {
					m.cut[x][y], m.cut[y][x] = true, true
				}
			}
			err = cutBetween(net, g1, g2)
		case opHeal:
			m.cut = [chaosNodes][chaosNodes]bool{}
			net.Heal()
		case opHold:
			m.held[a][b] = true
			err = net.Hold(a, b)
		case opRelease:
			m.held[a][b] = false
			err = net.Release(a, b)
		case opClog:
			m.clog[a][b] = loop.Now().Add(op.Dur)
			err = net.Clog(a, b, m.clog[a][b])
		case opDown:
			m.down[a] = true
			err = net.SetDown(a, true)
		case opUp:
			m.down[a] = false
			err = net.SetDown(a, false)
		}
		if err != nil {
			fail("op %+v: %v", op, err)
		}
	}
	var end sim.Time
	for _, op := range ops {
		loop.At(op.At, func() { apply(op) })
		end = op.At
	}
	loop.At(end+ms(1), func() {
		net.Heal()
		m.cut = [chaosNodes][chaosNodes]bool{}
		for a := sim.NodeID(0); a < chaosNodes; a++ {
			require.NoError(t, net.SetDown(a, false))
			m.down[a] = false
			for b := sim.NodeID(0); b < chaosNodes; b++ {
				require.NoError(t, net.Release(a, b))
				require.NoError(t, net.Clog(a, b, 0))
				m.held[a][b], m.clog[a][b] = false, 0
			}
		}
	})
	require.NoError(t, loop.Run())

	res.stats = net.Stats()
	res.hash = loop.Trace().Sum64()
	res.records = loop.Trace().Records()
	total := res.stats.Total
	require.Zero(t, total.InFlight, "messages left in flight after the network drained")
	requireBalanced(t, total)
	var sum Counters
	for _, ls := range res.stats.Links {
		requireBalanced(t, ls.Counters)
		sum.Sent += ls.Sent
		sum.Delivered += ls.Delivered
		sum.BytesDelivered += ls.BytesDelivered
	}
	require.Equal(t, total.Sent, sum.Sent)
	require.Equal(t, total.Delivered, sum.Delivered)
	require.Equal(t, total.BytesDelivered, sum.BytesDelivered)
	require.Equal(t, total.Delivered, uint64(len(res.log)))
	return res
}

// Every safety rule at once, on schedules rapid draws and shrinks.
func TestPropChaosSafetyAndAccounting(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		runChaos(t, rapid.Uint64().Draw(t, "seed"), chaosOpsFromRapid(t))
	})
}

func TestChaosScenarioExercisesEveryOutcome(t *testing.T) {
	res := runChaos(t, 7, chaosOpsFromRNG(sim.NewRNG(7).Fork("ops"), 3000))
	c := res.stats.Total
	t.Logf("chaos totals: %+v", c)
	assert.Positive(t, c.Delivered)
	assert.Positive(t, c.Duplicated)
	assert.Positive(t, c.DroppedLoss)
	assert.Positive(t, c.DroppedPartition)
	assert.Positive(t, c.DroppedDown)
	assert.Positive(t, c.DroppedCapacity)
}

// TestDeterminismNetwork: the same seed gives the same trace hash and the
// same delivery log, twice and under GOMAXPROCS 1 and 2; different seeds
// give different hashes. Payloads carry maps, so a non-canonical encoding
// (Go randomises map iteration) would break it.
func TestDeterminismNetwork(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	run := func(seed uint64) chaosResult {
		return runChaos(t, seed, chaosOpsFromRNG(sim.NewRNG(seed).Fork("ops"), 2000))
	}
	hashes := map[uint64]uint64{}
	for _, seed := range []uint64{0, 1, 2, 3, 0xdeadbeef} {
		runtime.GOMAXPROCS(1)
		a := run(seed)
		runtime.GOMAXPROCS(2)
		b := run(seed)
		c := run(seed)
		require.NotEmpty(t, a.log)
		require.Equal(t, a.hash, b.hash, "seed %d: GOMAXPROCS changed the trace hash", seed)
		require.Equal(t, a.hash, c.hash, "seed %d: the same seed gave a different trace hash", seed)
		require.Equal(t, a.records, c.records)
		require.Equal(t, a.log, b.log, "seed %d: delivery logs differ", seed)
		require.Equal(t, a.log, c.log, "seed %d: delivery logs differ", seed)
		require.Equal(t, a.stats, c.stats)
		if other, dup := hashes[a.hash]; dup {
			t.Fatalf("seeds %d and %d gave the same trace hash %#x", other, seed, a.hash)
		}
		hashes[a.hash] = seed
	}
}

// The network's own draws must depend on the seed, not only the schedule.
func TestDeterminismNetworkSeedAloneChangesTheHash(t *testing.T) {
	ops := chaosOpsFromRNG(sim.NewRNG(1).Fork("ops"), 1000)
	a, b := runChaos(t, 1, ops), runChaos(t, 2, ops)
	assert.NotEqual(t, a.hash, b.hash)
	assert.NotEqual(t, a.log, b.log)
}
