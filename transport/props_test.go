package transport

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

// drawDist draws a latency distribution with a positive minimum.
func drawDist(t *rapid.T, label string) sim.Dist {
	lo := time.Duration(rapid.Int64Range(1, 5_000).Draw(t, label+"-min-us")) * time.Microsecond
	spread := time.Duration(rapid.Int64Range(0, 20_000).Draw(t, label+"-spread-us")) * time.Microsecond
	var (
		d   sim.Dist
		err error
	)
	switch rapid.IntRange(0, 2).Draw(t, label+"-kind") {
	case 0:
		d, err = sim.Constant(lo)
	case 1:
		d, err = sim.Uniform(lo, lo+spread)
	default:
		d, err = sim.Exponential(lo, lo+spread)
	}
	require.NoError(t, err)
	return d
}

// Property (a): without faults every message is delivered exactly once, never
// before its link's minimum latency, and FIFO links keep send order.
func TestPropNoFaultsDeliversExactlyOnceAfterMinLatency(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := rapid.IntRange(1, 5).Draw(t, "nodes")
		cfg := Config{Nodes: nodes, Link: plainLink(drawDist(t, "default"))}
		cfg.Link.FIFO = rapid.Bool().Draw(t, "default-fifo")
		r := newRecorder(t, rapid.Uint64().Draw(t, "seed"), cfg)
		links := make([][]LinkConfig, nodes)
		for from := range links {
			links[from] = make([]LinkConfig, nodes)
			for to := range links[from] {
				links[from][to] = cfg.Link
				if rapid.IntRange(0, 3).Draw(t, "override") == 0 {
					lc := plainLink(drawDist(t, "link"))
					lc.FIFO = rapid.Bool().Draw(t, "link-fifo")
					require.NoError(t, r.net.SetLink(sim.NodeID(from), sim.NodeID(to), lc))
					links[from][to] = lc
				}
			}
		}
		count := rapid.IntRange(0, 300).Draw(t, "messages")
		type sent struct{ from, to sim.NodeID }
		sends := make([]sent, count)
		for i := range sends {
			from := sim.NodeID(rapid.IntRange(0, nodes-1).Draw(t, "from"))
			to := sim.NodeID(rapid.IntRange(0, nodes-1).Draw(t, "to"))
			at := sim.Time(rapid.Int64Range(0, int64(50*time.Millisecond)).Draw(t, "at"))
			sends[i] = sent{from, to}
			r.sendAt(t, at, from, to, testMsg{ID: uint64(i), Body: "m"})
		}
		require.NoError(t, r.loop.Run())

		seen := make([]int, count)
		lastSendTime := map[Link]sim.Time{}
		for _, d := range r.log {
			id := d.Msg.ID
			require.Less(t, id, uint64(count))
			seen[id]++
			require.Equal(t, sends[id].from, d.From)
			require.Equal(t, sends[id].to, d.To)
			lc := links[d.From][d.To]
			require.GreaterOrEqual(t, d.At.Sub(d.Msg.SentAt), lc.Latency.Min(), "delivered before the link's minimum latency")
			if lc.FIFO {
				l := Link{d.From, d.To}
				require.GreaterOrEqual(t, d.Msg.SentAt, lastSendTime[l], "FIFO link %v reordered", l)
				lastSendTime[l] = d.Msg.SentAt
			}
		}
		for id, n := range seen {
			require.Equal(t, 1, n, "message %d delivered %d times", id, n)
		}
		c := r.net.Total()
		require.Equal(t, uint64(count), c.Sent)
		require.Equal(t, uint64(count), c.Delivered)
		require.Equal(t, c.BytesSent, c.BytesDelivered)
		require.Zero(t, c.InFlight)
		requireBalanced(t, c)
	})
}

// Property (b): nothing crosses a cut, and cuts are judged at delivery time.
// Latencies are whole milliseconds plus 500µs and faults happen on whole
// milliseconds, so every message's delivery time is known and never ties
// with a fault; the test's own connectivity model then predicts exactly
// which messages arrive.
func TestPropNothingCrossesACut(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := rapid.IntRange(2, 5).Draw(t, "nodes")
		lat := make([][]time.Duration, nodes)
		cfg := Config{Nodes: nodes, Link: plainLink(constant(t, 1500*time.Microsecond))}
		r := newRecorder(t, 1, cfg)
		for from := range lat {
			lat[from] = make([]time.Duration, nodes)
			for to := range lat[from] {
				lat[from][to] = time.Duration(rapid.IntRange(0, 9).Draw(t, "lat-ms"))*time.Millisecond + 500*time.Microsecond
				require.NoError(t, r.net.SetLink(sim.NodeID(from), sim.NodeID(to), plainLink(constant(t, lat[from][to]))))
			}
		}
		// timeline[ms][from][to]: the link is cut during millisecond ms.
		const horizonMs = 60
		cut := make([][]bool, nodes)
		for i := range cut {
			cut[i] = make([]bool, nodes)
		}
		timeline := make([][][]bool, 0, horizonMs+20)
		snapshot := func() {
			s := make([][]bool, nodes)
			for i := range s {
				s[i] = append([]bool(nil), cut[i]...)
			}
			timeline = append(timeline, s)
		}
		type sent struct {
			from, to sim.NodeID
			due      sim.Time
		}
		var sends []sent
		node := rapid.IntRange(0, nodes-1)
		for msNow := 0; msNow < horizonMs; msNow++ {
			at := ms(int64(msNow))
			switch rapid.IntRange(0, 9).Draw(t, "fault") {
			case 0:
				from, to := sim.NodeID(node.Draw(t, "from")), sim.NodeID(node.Draw(t, "to"))
				cut[from][to] = true
				r.do(t, at, func() error { return r.net.Cut(from, to) })
			case 1:
				from, to := sim.NodeID(node.Draw(t, "from")), sim.NodeID(node.Draw(t, "to"))
				cut[from][to] = false
				r.do(t, at, func() error { return r.net.HealLink(from, to) })
			case 2:
				mask := rapid.IntRange(1, 1<<nodes-2).Draw(t, "mask")
				var a, b []sim.NodeID
				for i := 0; i < nodes; i++ {
					if mask&(1<<i) != 0 {
						a = append(a, sim.NodeID(i))
					} else {
						b = append(b, sim.NodeID(i))
					}
				}
				for _, x := range a {
					for _, y := range b {
						cut[x][y], cut[y][x] = true, true
					}
				}
				r.do(t, at, func() error { return cutBetween(r.net, a, b) })
			case 3:
				for i := range cut {
					clear(cut[i])
				}
				r.loop.At(at, r.net.Heal)
			}
			snapshot()
			for k := rapid.IntRange(0, 3).Draw(t, "sends"); k > 0; k-- {
				from, to := sim.NodeID(node.Draw(t, "from")), sim.NodeID(node.Draw(t, "to"))
				sendAt := at + sim.Time(rapid.IntRange(0, 999).Draw(t, "us"))*sim.Time(time.Microsecond)
				sends = append(sends, sent{from, to, sendAt.Add(lat[from][to])})
				r.sendAt(t, sendAt, from, to, testMsg{ID: uint64(len(sends) - 1)})
			}
		}
		for len(timeline) < cap(timeline) {
			snapshot() // no faults after the horizon
		}
		require.NoError(t, r.loop.Run())

		delivered := make([]bool, len(sends))
		for _, d := range r.log {
			s := sends[d.Msg.ID]
			require.Equal(t, s.due, d.At)
			require.False(t, timeline[int(d.At/ms(1))][d.From][d.To], "message %d crossed the cut %v->%v at %v", d.Msg.ID, d.From, d.To, d.At)
			delivered[d.Msg.ID] = true
		}
		var dropped uint64
		for id, s := range sends {
			if timeline[int(s.due/ms(1))][s.from][s.to] {
				dropped++
			} else {
				require.True(t, delivered[id], "message %d %v->%v due %v on an open link was not delivered", id, s.from, s.to, s.due)
			}
		}
		c := r.net.Total()
		require.Equal(t, dropped, c.DroppedPartition)
		require.Equal(t, uint64(len(sends))-dropped, c.Delivered)
		requireBalanced(t, c)
	})
}

// Property (c): over 100k messages the measured loss and duplication rates
// lie within 4 standard deviations of the configured probabilities.
func TestLossAndDuplicationRates(t *testing.T) {
	const msgs = 100_000
	cases := []struct {
		name      string
		loss, dup sim.Prob
	}{
		{"1/10-loss-1/20-dup", ratio(t, 1, 10), ratio(t, 1, 20)},
		{"1/2-loss-1/3-dup", ratio(t, 1, 2), ratio(t, 1, 3)},
		{"float-0.01-loss-0.25-dup", mustP(t, 0.01), mustP(t, 0.25)},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Nodes: 4, Link: plainLink(exponential(t, time.Millisecond, 2*time.Millisecond))}
			cfg.Link.Loss, cfg.Link.Duplicate = tc.loss, tc.dup
			loop := newLoop(t)
			net, err := New(loop, sim.NewRNG(uint64(100+i)).Fork("net"), cfg, func(sim.NodeID, sim.NodeID, uint64) {})
			require.NoError(t, err)
			// 1000 messages per millisecond over every link for 100ms.
			var tick func()
			sent := 0
			tick = func() {
				for k := 0; k < 1000; k++ {
					require.NoError(t, net.Send(sim.NodeID(sent%4), sim.NodeID(sent/4%4), uint64(sent)))
					sent++
				}
				if sent < msgs {
					loop.After(time.Millisecond, tick)
				}
			}
			loop.At(0, tick)
			require.NoError(t, loop.Run())

			c := net.Total()
			require.Equal(t, uint64(msgs), c.Sent)
			require.Zero(t, c.DroppedCapacity+c.DroppedPartition+c.DroppedDown, "only loss may drop here")
			within4Sigma(t, "loss", c.DroppedLoss, c.Sent, tc.loss.Float64())
			within4Sigma(t, "duplication", c.Duplicated, c.Sent-c.DroppedLoss, tc.dup.Float64())
			require.Equal(t, c.Sent-c.DroppedLoss+c.Duplicated, c.Delivered)
			requireBalanced(t, c)
		})
	}
}

func mustP(t require.TestingT, f float64) sim.Prob {
	p, err := sim.P(f)
	require.NoError(t, err)
	return p
}

// sigmasOff returns how many binomial standard deviations hits out of n
// trials lies from the expected n*p.
func sigmasOff(hits, n uint64, p float64) float64 {
	mean := float64(n) * p
	sigma := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(hits)-mean) / sigma
}

func within4Sigma(t *testing.T, what string, hits, n uint64, p float64) {
	t.Helper()
	off := sigmasOff(hits, n, p)
	assert.LessOrEqual(t, off, 4.0, "%s: %d of %d, configured %v: %.2fσ off", what, hits, n, p, off)
	t.Logf("%s: %d of %d = %.5f (configured %.5f, %.2fσ off)", what, hits, n, float64(hits)/float64(n), p, off)
}

func TestSigmaCheckRejectsAWrongRate(t *testing.T) {
	// The rate check must be able to fail: 11% measured against 10% over
	// 100k trials is about 10.5σ off; 10.1% is within.
	assert.Greater(t, sigmasOff(11_000, 100_000, 0.10), 4.0)
	assert.Less(t, sigmasOff(10_100, 100_000, 0.10), 4.0)
}
