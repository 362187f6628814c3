package transport

import (
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport/internal/benchwire"
)

// ClockEntry is one vector-clock entry of kvMsg.
type ClockEntry struct {
	Node    sim.NodeID
	Counter uint64
}

// kvMsg looks like a Dynamo-style replica write with a vector clock: about
// 90 bytes encoded. It uses the reflection-based codec.
type kvMsg struct {
	Kind        uint8
	ReqID       uint64
	Coordinator sim.NodeID
	Key         string
	Value       []byte
	Timestamp   sim.Time
	Clock       []ClockEntry
	Hinted      bool
}

// lwwMsg is the same write without a vector clock (last-write-wins mode),
// with a larger value so it is about as large.
type lwwMsg struct {
	Kind        uint8
	ReqID       uint64
	Coordinator sim.NodeID
	Key         string
	Value       []byte
	Timestamp   sim.Time
	Hinted      bool
}

const benchValue = "0123456789abcdef0123456789abcdef01234567"

func newKVMsg(id uint64) kvMsg {
	return kvMsg{
		Kind: 3, ReqID: id, Coordinator: 2, Key: "user:00001234567", Value: []byte(benchValue),
		Timestamp: sim.Time(1_700_000_000_000),
		Clock:     []ClockEntry{{Node: 1, Counter: 17}, {Node: 2, Counter: 40000}, {Node: 4, Counter: 3}},
	}
}

func newLWWMsg(id uint64) lwwMsg {
	return lwwMsg{
		Kind: 3, ReqID: id, Coordinator: 2, Key: "user:00001234567", Value: []byte(benchValue + "0123456789ab"),
		Timestamp: sim.Time(1_700_000_000_000),
	}
}

func newGenMsg(id uint64) benchwire.Msg {
	return benchwire.Msg{
		Kind: 3, ReqID: id, Coordinator: 2, Key: "user:00001234567", Value: []byte(benchValue),
		Timestamp: sim.Time(1_700_000_000_000),
		Clock:     []benchwire.ClockEntry{{Node: 1, Counter: 17}, {Node: 2, Counter: 40000}, {Node: 4, Counter: 3}},
	}
}

// BenchmarkNetworkDeliver measures end-to-end simulated message throughput:
// Send (msgpack encode, RNG draws, scheduling) plus delivery (event loop,
// decode into a fresh value, trace hash, deliver callback), with 1000
// messages in flight among 5 nodes on uniform(1ms..3ms) links. Each delivery
// sends the next message. Sub-benchmarks by payload:
//
//   - kv-vclock: a ~90-byte replica write with a 3-entry vector clock,
//     reflection codec (the goal case);
//   - kv-lww: the same size without the nested clock slice;
//   - kv-vclock-codecgen: kv-vclock with a codecgen-generated codec;
//   - uint64: a 9-byte payload, the network's own overhead baseline.
//
// Each reports msgs/s and bytes/msg; the kv ones also report codec-share,
// the time a bare encode+decode of the same payload takes (measured right
// after the run) divided by the time per delivered message.
func BenchmarkNetworkDeliver(b *testing.B) {
	b.Run("kv-vclock", func(b *testing.B) { benchDeliver(b, newKVMsg, true) })
	b.Run("kv-lww", func(b *testing.B) { benchDeliver(b, newLWWMsg, true) })
	b.Run("kv-vclock-codecgen", func(b *testing.B) { benchDeliver(b, newGenMsg, true) })
	b.Run("uint64", func(b *testing.B) { benchDeliver(b, func(id uint64) uint64 { return id + 1<<40 }, false) })
}

func benchDeliver[M any](b *testing.B, mk func(id uint64) M, share bool) {
	const nodes, window = 5, 1000
	loop, err := sim.NewLoop(sim.Limits{MaxEvents: uint64(b.N) + 10*window, Horizon: sim.Never - 1})
	require.NoError(b, err)
	cfg := Config{Nodes: nodes, Link: plainLink(uniform(b, time.Millisecond, 3*time.Millisecond))}
	msg := mk(0)
	var net *Network[M]
	sent, delivered := 0, 0
	send := func(from, to sim.NodeID) {
		sent++
		if err := net.Send(from, to, msg); err != nil {
			b.Fatal(err)
		}
	}
	net, err = New(loop, sim.NewRNG(1).Fork("net"), cfg, func(from, to sim.NodeID, m M) {
		delivered++
		if sent < b.N {
			send(to, (to+1+sim.NodeID(delivered%(nodes-1)))%nodes)
		}
	})
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < window && sent < b.N; i++ {
		send(sim.NodeID(i%nodes), sim.NodeID((i+1)%nodes))
	}
	require.NoError(b, loop.Run())
	b.StopTimer()
	require.Equal(b, b.N, delivered)
	elapsed := b.Elapsed()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(net.Total().BytesSent)/float64(b.N), "bytes/msg")
	if share {
		b.ReportMetric(codecOnly(b, msg, b.N).Seconds()/elapsed.Seconds(), "codec-share")
	}
}

// codecOnly times n bare encode+decode round trips of m with the wire handle.
func codecOnly[M any](b *testing.B, m M, n int) time.Duration {
	var buf []byte
	enc := codec.NewEncoderBytes(&buf, wireHandle)
	dec := codec.NewDecoderBytes([]byte{0xc0}, wireHandle)
	var out M
	start := time.Now()
	for i := 0; i < n; i++ {
		buf = buf[:0]
		enc.ResetBytes(&buf)
		if err := enc.Encode(&m); err != nil {
			b.Fatal(err)
		}
		var zero M
		out = zero
		dec.ResetBytes(buf)
		if err := dec.Decode(&out); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
