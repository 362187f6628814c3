package transport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

// rawBench is a NewRaw network as the cluster runs one: ~90-byte payloads,
// 5 nodes on uniform(1ms..3ms) links, about window messages in flight; each
// delivery sends messages while fewer than window are in flight (so losses
// are replaced and duplicates do not grow the window).
type rawBench struct {
	loop      *sim.Loop
	net       *Network[[]byte]
	payload   []byte
	delivered int
	seen      int
}

const rawNodes, rawWindow = 5, 1000

func newRawBench(tb testing.TB, observe, faulty bool) *rawBench {
	loop, err := sim.NewLoop(sim.Limits{MaxEvents: 1 << 62, Horizon: sim.Never - 1})
	require.NoError(tb, err)
	link := plainLink(uniform(tb, time.Millisecond, 3*time.Millisecond))
	if faulty {
		link.Duplicate = ratio(tb, 1, 10)
		link.Loss = ratio(tb, 1, 10)
	}
	rb := &rawBench{loop: loop, payload: make([]byte, 90)}
	for i := range rb.payload {
		rb.payload[i] = byte(i)
	}
	rb.net, err = NewRaw(loop, sim.NewRNG(1).Fork("net"), Config{Nodes: rawNodes, Link: link}, func(from, to sim.NodeID, p []byte) {
		rb.delivered++
		next := (to + 1 + sim.NodeID(rb.delivered%(rawNodes-1))) % rawNodes
		for k := sim.NodeID(0); rb.net.Total().InFlight < rawWindow; k++ {
			rb.send(tb, to, (next+k)%rawNodes)
		}
	})
	require.NoError(tb, err)
	if observe {
		rb.net.SetObserver(func(ev Event) { rb.seen += len(ev.Payload) })
	}
	for i := 0; i < rawWindow; i++ {
		rb.send(tb, sim.NodeID(i%rawNodes), sim.NodeID((i+1)%rawNodes))
	}
	// Warm up: fill the buffer pool and the queues to their steady size.
	rb.deliver(tb, 20*rawWindow)
	return rb
}

func (rb *rawBench) send(tb testing.TB, from, to sim.NodeID) {
	if from == to {
		to = (to + 1) % rawNodes
	}
	if err := rb.net.SendBytes(from, to, rb.payload); err != nil {
		tb.Fatal(err)
	}
}

// deliver runs the loop until n more messages are delivered.
func (rb *rawBench) deliver(tb testing.TB, n int) {
	want := rb.delivered + n
	for rb.delivered < want {
		if !rb.loop.Step() {
			tb.Fatal("the loop ran dry")
		}
	}
}

// BenchmarkRawDeliver measures the hot path the cluster uses, per delivered
// message (one op): SendBytes (copy into a pooled buffer, RNG draws,
// scheduling) and delivery (event loop, trace hash, deliver callback,
// buffer back to the pool), in steady state after a warm-up. Variants:
// plain; observed (SetObserver on, as the cluster's tracer sets it); and
// faulty (observed, every link loses and duplicates 1 in 10).
//
//	go test ./transport -run '^$' -bench BenchmarkRawDeliver -benchmem
func BenchmarkRawDeliver(b *testing.B) {
	for _, v := range []struct {
		name            string
		observe, faulty bool
	}{{"plain", false, false}, {"observed", true, false}, {"faulty", true, true}} {
		b.Run(v.name, func(b *testing.B) {
			rb := newRawBench(b, v.observe, v.faulty)
			b.ReportAllocs()
			b.ResetTimer()
			rb.deliver(b, b.N)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkClogCycle measures one clog of a busy link and its end (Clog,
// the messages parked meanwhile, the flush that delivers them in order),
// plus a hold and release of another link, per op.
//
//	go test ./transport -run '^$' -bench BenchmarkClogCycle -benchmem
func BenchmarkClogCycle(b *testing.B) {
	rb := newRawBench(b, true, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := rb.loop.Now()
		if err := rb.net.Clog(0, 1, now.Add(2*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		if err := rb.net.Hold(2, 3); err != nil {
			b.Fatal(err)
		}
		rb.deliver(b, 200)
		if err := rb.net.Release(2, 3); err != nil {
			b.Fatal(err)
		}
		rb.deliver(b, 200)
	}
}
