package transport

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

// TestRawNetworkCarriesBytesAsTheyAre: a network made by NewRaw copies the
// payload at SendBytes (the sender may reuse its buffer), delivers exactly
// those bytes, counts their exact size, and still cuts and duplicates.
func TestRawNetworkCarriesBytesAsTheyAre(t *testing.T) {
	loop := newLoop(t)
	var got []string
	net, err := NewRaw(loop, sim.NewRNG(1), Config{IDs: []sim.NodeID{0, 1, 2}, Link: LinkConfig{Latency: constant(t, time.Millisecond), Capacity: 16}},
		func(from, to sim.NodeID, p []byte) { got = append(got, from.String()+">"+to.String()+":"+string(p)) })
	require.NoError(t, err)
	buf := []byte("hello")
	require.NoError(t, net.SendBytes(0, 1, buf))
	copy(buf, "XXXXX") // the network kept its own copy
	require.NoError(t, net.Cut(0, 2))
	require.NoError(t, net.SendBytes(0, 2, []byte("lost")))
	require.NoError(t, net.SendBytes(2, 1, nil))
	require.NoError(t, loop.Run())
	require.Equal(t, []string{"n0>n1:hello", "n2>n1:"}, got)
	tot := net.Total()
	require.Equal(t, uint64(3), tot.Sent)
	require.Equal(t, uint64(2), tot.Delivered)
	require.Equal(t, uint64(9), tot.BytesSent, "exactly the payload bytes: no codec framing")
	require.Equal(t, uint64(5), tot.BytesDelivered)
	require.Error(t, net.SendBytes(0, 7, []byte("x")), "unknown node")
	encoding, err := New[testMsg](loop, sim.NewRNG(1), Config{IDs: []sim.NodeID{0, 1}, Link: LinkConfig{Latency: constant(t, time.Millisecond), Capacity: 16}},
		func(sim.NodeID, sim.NodeID, testMsg) {})
	require.NoError(t, err)
	require.ErrorContains(t, encoding.SendBytes(0, 1, []byte("x")), "NewRaw", "an encoding network refuses raw bytes")
	_, err = NewRaw(loop, sim.NewRNG(1), Config{IDs: []sim.NodeID{0}}, nil)
	require.Error(t, err)
}
