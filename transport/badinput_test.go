package transport

import (
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

func noop[M any](sim.NodeID, sim.NodeID, M) {}

func TestNewRejectsBadArguments(t *testing.T) {
	good := Config{Nodes: 3, Link: plainLink(constant(t, time.Millisecond))}
	loop, rng := newLoop(t), sim.NewRNG(1)

	_, err := New(nil, rng, good, noop[testMsg])
	assert.ErrorContains(t, err, "needs a *sim.Loop")
	_, err = New(loop, nil, good, noop[testMsg])
	assert.ErrorContains(t, err, "needs a *sim.RNG")
	_, err = New[testMsg](loop, rng, good, nil)
	assert.ErrorContains(t, err, "needs a deliver function")
	n, err := New(loop, rng, good, noop[testMsg])
	require.NoError(t, err)
	assert.Equal(t, []sim.NodeID{0, 1, 2}, n.Nodes())
}

func TestConfigValidation(t *testing.T) {
	link := plainLink(constant(t, time.Millisecond))
	negative := link
	negative.Latency = sim.Dist{Kind: sim.DistUniform, Lo: -time.Millisecond, Hi: time.Millisecond}
	inverted := link
	inverted.Latency = sim.Dist{Kind: sim.DistExponential, Lo: 5 * time.Millisecond, Hi: time.Millisecond}
	noLatency := link
	noLatency.Latency = sim.Dist{}
	noCapacity := link
	noCapacity.Capacity = 0
	negCapacity := link
	negCapacity.Capacity = -3

	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no nodes", Config{Link: link}, "no nodes"},
		{"negative nodes", Config{Nodes: -1, Link: link}, "Nodes -1 must be >= 0"},
		{"both nodes and ids", Config{Nodes: 2, IDs: []sim.NodeID{0, 1}, Link: link}, "not both"},
		{"too many nodes", Config{Nodes: MaxNodes + 1, Link: link}, "exceeds MaxNodes"},
		{"unsorted ids", Config{IDs: []sim.NodeID{3, 1}, Link: link}, "strictly increasing"},
		{"duplicate ids", Config{IDs: []sim.NodeID{1, 1}, Link: link}, "strictly increasing"},
		{"id too large", Config{IDs: []sim.NodeID{MaxNodes}, Link: link}, "below MaxNodes"},
		{"zero latency distribution", Config{Nodes: 2, Link: noLatency}, "build it with sim.Constant"},
		{"negative latency", Config{Nodes: 2, Link: negative}, "need 0 <= min"},
		{"mean below min", Config{Nodes: 2, Link: inverted}, "need 0 <= min"},
		{"zero capacity", Config{Nodes: 2, Link: noCapacity}, "Capacity 0 must be > 0"},
		{"negative capacity", Config{Nodes: 2, Link: negCapacity}, "Capacity -3 must be > 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.cfg.Validate(), tc.want)
			_, err := New(newLoop(t), sim.NewRNG(1), tc.cfg, noop[testMsg])
			require.ErrorContains(t, err, tc.want)
		})
	}
	require.NoError(t, Config{Nodes: 1, Link: link}.Validate())
	require.NoError(t, Config{IDs: []sim.NodeID{0, 5, MaxNodes - 1}, Link: link}.Validate())
}

func TestProbabilitiesOutsideUnitIntervalCannotReachALink(t *testing.T) {
	// LinkConfig takes sim.Prob, whose constructors are the only way to a
	// non-zero probability, so a bad ratio is an error before any link sees it.
	for _, f := range []float64{-0.1, 1.5} {
		_, err := sim.P(f)
		assert.ErrorContains(t, err, "must lie in [0,1]")
	}
	_, err := sim.Ratio(3, 2)
	assert.ErrorContains(t, err, "must lie in [0,1]")
	_, err = sim.Ratio(1, 0)
	assert.ErrorContains(t, err, "denominator must be > 0")
}

type withChan struct{ C chan int }
type withFunc struct{ F func() }
type withIface struct{ V any }
type withTime struct{ At time.Time }
type withPrivate struct {
	Public  int
	private int
}
type withSkippedPrivate struct {
	Public  int
	private int `codec:"-"`
}
type nested struct{ Inner []map[string]withTime }
type recursive struct {
	Children []recursive
	Name     string
}

// selfCoded has unexported state but encodes itself.
type selfCoded struct{ n int }

func (s *selfCoded) CodecEncodeSelf(e *codec.Encoder) { e.MustEncode(s.n) }
func (s *selfCoded) CodecDecodeSelf(d *codec.Decoder) { d.MustDecode(&s.n) }

func TestPayloadTypesThatCannotCrossTheWireAreRejected(t *testing.T) {
	cfg := Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))}
	loop, rng := newLoop(t), sim.NewRNG(1)
	check := func(err error, want string) {
		t.Helper()
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
	}
	_, err := New(loop, rng, cfg, noop[withChan])
	check(err, "withChan.C of kind chan")
	_, err = New(loop, rng, cfg, noop[withFunc])
	check(err, "of kind func")
	_, err = New(loop, rng, cfg, noop[withIface])
	check(err, "cannot restore the concrete type")
	_, err = New(loop, rng, cfg, noop[any])
	check(err, "interface type")
	_, err = New(loop, rng, cfg, noop[withTime])
	check(err, "send virtual time as sim.Time") // times travel as int64
	_, err = New(loop, rng, cfg, noop[*withTime])
	check(err, "time.Time")
	_, err = New(loop, rng, cfg, noop[nested])
	check(err, "nested.Inner[elem][value].At")
	_, err = New(loop, rng, cfg, noop[withPrivate])
	check(err, "withPrivate.private: unexported fields are not encoded")

	_, err = New(loop, rng, cfg, noop[withSkippedPrivate])
	assert.NoError(t, err, "an unexported field tagged codec:\"-\" is deliberately skipped")
	_, err = New(loop, rng, cfg, noop[recursive])
	assert.NoError(t, err)
	_, err = New(loop, rng, cfg, noop[selfCoded])
	assert.NoError(t, err, "types that encode themselves are trusted")
	_, err = New(loop, rng, cfg, noop[brittle])
	assert.NoError(t, err, "binary marshalers are trusted")
	_, err = New(loop, rng, cfg, noop[map[string][]uint64])
	assert.NoError(t, err)
	assert.ErrorContains(t, CheckWireType(nil), "nil type")
}

func TestSettersRejectUnknownNodesAndBadValues(t *testing.T) {
	link := plainLink(constant(t, time.Millisecond))
	bad := link
	bad.Capacity = 0
	r := newRecorder(t, 1, Config{Nodes: 3, Link: link})
	n := r.net
	const unknown = sim.NodeID(7)
	unknownNode := "unknown node n7"

	for name, err := range map[string]error{
		"Send from":    n.Send(unknown, 0, testMsg{}),
		"Send to":      n.Send(0, unknown, testMsg{}),
		"SetLink":      n.SetLink(0, unknown, link),
		"ResetLink":    n.ResetLink(unknown, 0),
		"Cut":          n.Cut(unknown, 1),
		"HealLink":     n.HealLink(1, unknown),
		"Hold":         n.Hold(unknown, 1),
		"Release":      n.Release(1, unknown),
		"Clog":         n.Clog(unknown, 1, ms(5)),
		"SetDown":      n.SetDown(unknown, true),
		"LinkConfigOf": second(n.LinkConfigOf(unknown, 0)),
		"LinkCounters": second(n.LinkCounters(0, unknown)),
	} {
		assert.ErrorContains(t, err, unknownNode, name)
		assert.ErrorContains(t, err, "AddNode", name)
	}
	assert.ErrorContains(t, n.Send(sim.NodeID(1<<31), 0, testMsg{}), "unknown node n2147483648")
	assert.ErrorContains(t, n.SetDown(MaxNodes+5, false), "unknown node n1029")

	assert.ErrorContains(t, n.SetLink(0, 1, bad), "SetLink n0->n1: link config: Capacity 0")
	assert.ErrorContains(t, n.SetDefaultLink(bad), "SetDefaultLink: link config: Capacity 0")
	assert.ErrorContains(t, n.Clog(0, 1, -1), "must be a virtual time >= 0")

	assert.ErrorContains(t, n.AddNode(2), "already present")
	assert.ErrorContains(t, n.AddNode(MaxNodes), "below MaxNodes")

	assert.Empty(t, n.Cuts(), "a rejected call must not change the network")
	assert.Zero(t, n.Total().Sent)
	lc, err := n.LinkConfigOf(0, 1)
	require.NoError(t, err)
	assert.Equal(t, link, lc)
	require.NoError(t, r.loop.Run())
	assert.Empty(t, r.log)
}

func second[T any](_ T, err error) error { return err }
