package transport_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport"
)

// netTarget drives a network's links from a nemesis schedule, as the
// cluster does: ClogLink is Network.Clog, the method a cluster adds to be a
// nemesis.LinkClogger. Other Target methods are not used here.
type netTarget struct {
	nemesis.Target
	net *transport.Network[[]byte]
}

func (t netTarget) ClogLink(from, to sim.NodeID, until sim.Time) error {
	return t.net.Clog(from, to, until)
}
func (t netTarget) HoldLink(from, to sim.NodeID) error    { return t.net.Hold(from, to) }
func (t netTarget) ReleaseLink(from, to sim.NodeID) error { return t.net.Release(from, to) }

// TestNemesisClogOverNetwork: a link-clog installed through ClogLink =
// Network.Clog delays a link's messages to the clog's end and then
// delivers them in order; a hold that outlasts the clog keeps them until
// its release; the reverse link and other links flow.
func TestNemesisClogOverNetwork(t *testing.T) {
	ms := func(x int) sim.Time { return sim.Time(time.Duration(x) * time.Millisecond) }
	for _, tc := range []struct {
		schedule string
		want     []string
	}{
		{"10ms link-clog n0>n1 for=20ms\n", []string{"n0>n1 a 6ms", "n1>n0 d 13ms", "n0>n2 e 13ms", "n0>n1 b 30ms", "n0>n1 c 30ms"}},
		{"10ms link-clog n0>n1 for=20ms\n15ms link-hold n0>n1\n40ms link-release n0>n1\n", []string{"n0>n1 a 6ms", "n1>n0 d 13ms", "n0>n2 e 13ms", "n0>n1 b 40ms", "n0>n1 c 40ms"}},
		{"10ms link-clog n0>n1 for=20ms\n25ms link-unclog n0>n1\n", []string{"n0>n1 a 6ms", "n1>n0 d 13ms", "n0>n2 e 13ms", "n0>n1 b 25ms", "n0>n1 c 25ms"}},
	} {
		loop, err := sim.NewLoop(sim.Limits{MaxEvents: 1 << 20, Horizon: sim.Time(time.Hour)})
		require.NoError(t, err)
		lat, err := sim.Constant(time.Millisecond)
		require.NoError(t, err)
		var got []string
		net, err := transport.NewRaw(loop, sim.NewRNG(1), transport.Config{Nodes: 3, Link: transport.LinkConfig{Latency: lat, Capacity: 16}},
			func(from, to sim.NodeID, p []byte) {
				got = append(got, from.String()+">"+to.String()+" "+string(p)+" "+time.Duration(loop.Now()).String())
			})
		require.NoError(t, err)
		s, err := nemesis.Parse(tc.schedule)
		require.NoError(t, err)
		require.NoError(t, s.Install(loop, netTarget{net: net}, func(f nemesis.Fault, err error) { t.Errorf("%s: %v", f, err) }))
		send := func(at sim.Time, from, to sim.NodeID, p string) {
			loop.At(at, func() { require.NoError(t, net.SendBytes(from, to, []byte(p))) })
		}
		send(ms(5), 0, 1, "a")
		send(ms(12), 0, 1, "b")
		send(ms(12), 1, 0, "d")
		send(ms(12), 0, 2, "e")
		send(ms(20), 0, 1, "c")
		require.NoError(t, loop.Run())
		require.Equal(t, tc.want, got, "schedule:\n%s", tc.schedule)
		require.False(t, net.Clogged(0, 1))
	}
}
