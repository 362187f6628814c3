//go:build !race

package kv

import (
	"fmt"
	"testing"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// replicaStepper is one kv server (through NewFactory, as the cluster runs
// it) on a MemDisk, stepped with replica reads and writes from a peer for
// a few keys: the hot path of a replica, decoding, reconciling, keeping
// the versions, writing and syncing the disk, and encoding the ack or the
// read's reply.
type replicaStepper struct {
	srv   node.Node
	keys  []string
	value []byte
	buf   []byte
	next  int
}

func newReplicaStepper(t testing.TB, keys int) *replicaStepper {
	cfg := DefaultConfig()
	wall := int64(0)
	n, err := NewFactory(cfg)(node.Env{ID: 0, Seed: 1, View: node.View{Initial: []sim.NodeID{0, 1, 2}},
		Disk: node.NewMemDisk(), WallClock: func() int64 { wall++; return wall }, Rand: sim.NewRNG(1)})
	if err != nil {
		t.Fatal(err)
	}
	ws := &replicaStepper{srv: n, value: []byte("value")}
	for i := range keys {
		ws.keys = append(ws.keys, fmt.Sprint("k", i))
	}
	return ws
}

// step delivers k messages, reads and writes in turn, each write newer
// than every write before it (so each replaces its key's version),
// encoding them in a reused buffer.
func (ws *replicaStepper) step(t testing.TB, k int) {
	for range k {
		ws.next++
		i := ws.next
		m := Message{Type: MsgWrite, Op: uint64(i), Key: ws.keys[i%len(ws.keys)], Versions: []Version{{
			Value: ws.value, Timestamp: int64(1000 + i), Dot: Dot{Node: 1, Counter: 1<<32 | uint64(i)}}}}
		if i%2 == 0 {
			m = Message{Type: MsgRead, Op: uint64(i), Key: ws.keys[i%len(ws.keys)]}
		}
		var err error
		if ws.buf, err = m.AppendMsgpack(ws.buf[:0]); err != nil {
			t.Fatal(err)
		}
		if err := ws.srv.Step(1, ws.buf); err != nil {
			t.Fatal(err)
		}
		if rd := ws.srv.Ready(); len(rd.Messages) != 1 {
			t.Fatalf("message %d: %d messages, want its ack or reply", i, len(rd.Messages))
		}
	}
}

// TestReplicaPathAllocations reports the allocations of a replica's
// read and write path per message, with the arenas: each decoded message and each
// kept version come out of shared chunks, the disk reuses its buffers and
// the node its output slices. An allocation count, exact and
// deterministic, not a timing; it bounds the count so that a change that
// puts allocations back on this path fails here.
func TestReplicaPathAllocations(t *testing.T) {
	ws := newReplicaStepper(t, 5)
	ws.step(t, 10_000) // warm up: buffers grow to their size
	const n = 10_000
	a := testing.AllocsPerRun(1, func() { ws.step(t, n) })
	perMsg := a / n
	t.Logf("%.3f allocations per replica message (%v over %d)", perMsg, a, n)
	if perMsg > 0.25 {
		t.Errorf("%.3f allocations per replica message, want at most 0.25", perMsg)
	}
}

// TestCoordinatorPathAllocations reports the allocations per client
// request of a coordinating kv server (through NewFactory): Submit, the
// messages to the other replicas, their acknowledgements or read replies
// stepped back in, the client's reply, for puts and gets in turn. The
// replicas' answers are encoded in a reused buffer and the requests the
// server sends are decoded from an arena, so the harness adds next to
// nothing. An allocation count, not a timing.
func TestCoordinatorPathAllocations(t *testing.T) {
	cs := newReplicaStepper(t, 5)
	peer := newArena(decodeChunk)
	var buf []byte
	value := []byte("value")
	held := map[string][]Version{} // what the other replicas hold, as the server wrote it
	type out struct {
		to sim.NodeID
		m  Message
	}
	var queue []out
	take := func(rd node.Ready) int {
		for _, e := range rd.Messages {
			var m Message
			if err := m.decodeFrom(e.Payload, &peer); err != nil {
				t.Fatal(err)
			}
			queue = append(queue, out{e.To, m})
		}
		return len(rd.Replies)
	}
	request := func(i int) {
		key := cs.keys[i%len(cs.keys)]
		req := node.Request{ID: uint64(i), Method: node.Put, Key: key, Value: value}
		if i%2 == 0 {
			req = node.Request{ID: uint64(i), Method: node.Get, Key: key}
		}
		cs.srv.Submit(req)
		replied := take(cs.srv.Ready())
		for k := 0; k < len(queue); k++ { // the other replicas answer everything the server sends
			o := queue[k]
			ans := Message{Type: MsgWriteAck, Op: o.m.Op, Key: o.m.Key}
			switch o.m.Type {
			case MsgWrite:
				held[o.m.Key] = o.m.Versions
			case MsgRead:
				ans = Message{Type: MsgReadReply, Op: o.m.Op, Key: o.m.Key, Versions: held[o.m.Key]}
			default:
				t.Fatalf("request %d: the server sent a %v", i, o.m.Type)
			}
			var err error
			if buf, err = ans.AppendMsgpack(buf[:0]); err != nil {
				t.Fatal(err)
			}
			if err := cs.srv.Step(o.to, buf); err != nil {
				t.Fatal(err)
			}
			replied += take(cs.srv.Ready())
		}
		queue = queue[:0]
		if replied != 1 {
			t.Fatalf("request %d (%v): %d replies, want 1", i, req.Method, replied)
		}
	}
	for i := range 10_000 { // warm up
		request(i + 1)
	}
	const n = 10_000
	a := testing.AllocsPerRun(1, func() {
		for i := range n {
			request(10_001 + i)
		}
	})
	perReq := a / n
	t.Logf("%.3f allocations per client request (%v over %d)", perReq, a, n)
	if perReq > 0.25 {
		t.Errorf("%.3f allocations per client request, want at most 0.25", perReq)
	}
}
