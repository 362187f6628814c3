package transport

import (
	"slices"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

// testMsg is the payload most tests send.
type testMsg struct {
	ID     uint64
	SentAt sim.Time
	Body   string
	Data   []byte
	Tags   map[string]uint32
}

// delivery is one entry of a test's delivery log.
type delivery struct {
	At       sim.Time
	From, To sim.NodeID
	Msg      testMsg
}

func testLimits() sim.Limits {
	return sim.Limits{MaxEvents: 10_000_000, Horizon: sim.Time(time.Hour)}
}

func newLoop(t require.TestingT) *sim.Loop {
	loop, err := sim.NewLoop(testLimits())
	require.NoError(t, err)
	return loop
}

func constant(t require.TestingT, d time.Duration) sim.Dist {
	dist, err := sim.Constant(d)
	require.NoError(t, err)
	return dist
}

func uniform(t require.TestingT, lo, hi time.Duration) sim.Dist {
	dist, err := sim.Uniform(lo, hi)
	require.NoError(t, err)
	return dist
}

func exponential(t require.TestingT, lo, mean time.Duration) sim.Dist {
	dist, err := sim.Exponential(lo, mean)
	require.NoError(t, err)
	return dist
}

func ratio(t require.TestingT, num, den uint64) sim.Prob {
	p, err := sim.Ratio(num, den)
	require.NoError(t, err)
	return p
}

// link returns a fault-free link config with the given latency.
func plainLink(lat sim.Dist) LinkConfig {
	return LinkConfig{Latency: lat, Capacity: DefaultCapacity}
}

// recorder builds a network of testMsg whose deliveries are logged.
type recorder struct {
	loop *sim.Loop
	net  *Network[testMsg]
	log  []delivery
}

func newRecorder(t require.TestingT, seed uint64, cfg Config) *recorder {
	r := &recorder{loop: newLoop(t)}
	net, err := New(r.loop, sim.NewRNG(seed).Fork("net"), cfg, func(from, to sim.NodeID, m testMsg) {
		r.log = append(r.log, delivery{At: r.loop.Now(), From: from, To: to, Msg: m})
	})
	require.NoError(t, err)
	r.net = net
	return r
}

// sendAt schedules a Send at virtual time at and fails the test on error.
func (r *recorder) sendAt(t require.TestingT, at sim.Time, from, to sim.NodeID, m testMsg) {
	r.loop.At(at, func() {
		m.SentAt = r.loop.Now()
		if err := r.net.Send(from, to, m); err != nil {
			t.Errorf("send %v->%v: %v", from, to, err)
		}
	})
}

// do schedules fn at virtual time at; fn's error fails the test.
func (r *recorder) do(t require.TestingT, at sim.Time, fn func() error) {
	r.loop.At(at, func() {
		if err := fn(); err != nil {
			t.Errorf("at %v: %v", at, err)
		}
	})
}

func ms(n int64) sim.Time { return sim.Time(n * int64(time.Millisecond)) }

// cutBetween cuts every link, both ways, between a node of a and a node of
// b, as a partition into the two groups does: from the lower id to the
// higher first, in increasing (from, to) order.
func cutBetween[M any](net *Network[M], a, b []sim.NodeID) error {
	in := func(g []sim.NodeID, id sim.NodeID) bool { return slices.Contains(g, id) }
	for _, from := range net.Nodes() {
		for _, to := range net.Nodes() {
			if (in(a, from) && in(b, to)) || (in(b, from) && in(a, to)) {
				if err := net.Cut(from, to); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
