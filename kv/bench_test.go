package kv

import (
	"strconv"
	"testing"

	"github.com/faultline-sim/faultline/internal/sim"
	"github.com/faultline-sim/faultline/ring"
)

// benchCluster is three in-memory nodes whose messages are handed over
// directly (no encoding), FIFO.
type benchCluster struct {
	nodes []*Node
	queue []flight
	msgs  int
}

func newBenchCluster(b *testing.B, cfg Config) *benchCluster {
	members := []ring.Member{{ID: 1, Weight: 1}, {ID: 2, Weight: 1}, {ID: 3, Weight: 1}}
	r, err := ring.New(ring.Config{Seed: 1, VNodes: 16}, members...)
	if err != nil {
		b.Fatal(err)
	}
	bc := &benchCluster{}
	for _, m := range members {
		n, err := NewNode(m.ID, cfg, r, NewMemStore(), func() int64 { return 0 }, sim.NewRNG(1).Fork(m.ID.String()))
		if err != nil {
			b.Fatal(err)
		}
		bc.nodes = append(bc.nodes, n)
	}
	return bc
}

// run submits req at node 1 and delivers until the reply arrives and the
// network is quiet.
func (bc *benchCluster) run(b *testing.B, req Request) Reply {
	var got *Reply
	bc.nodes[0].Submit(req)
	bc.drain(0, &got)
	for i := 0; i < len(bc.queue); i++ {
		f := bc.queue[i]
		bc.nodes[f.to-1].Step(f.from, f.msg)
		bc.drain(int(f.to-1), &got)
	}
	bc.msgs += len(bc.queue)
	bc.queue = bc.queue[:0]
	if got == nil {
		b.Fatalf("no reply to %v", req.Op)
	}
	return *got
}

func (bc *benchCluster) drain(i int, got **Reply) {
	rd := bc.nodes[i].Ready()
	for _, e := range rd.Messages {
		bc.queue = append(bc.queue, flight{from: bc.nodes[i].ID(), to: e.To, msg: e.Msg})
	}
	for j := range rd.Replies {
		*got = &rd.Replies[j]
	}
}

// BenchmarkPutGetRound measures one Put and one Get (N=3 W=2 R=2, blocking
// read repair) through three in-memory nodes, delivering every message by
// hand. It reports the messages each round exchanges.
func BenchmarkPutGetRound(b *testing.B) {
	for _, resolve := range []ResolveMode{LWW, VectorClock} {
		b.Run(resolve.String(), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Resolve = resolve
			bc := newBenchCluster(b, cfg)
			keys := make([]string, 64)
			for i := range keys {
				keys[i] = "key" + strconv.Itoa(i)
			}
			val := []byte("value")
			ctxs := make([][]byte, len(keys)) // each key's last read context
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := keys[i%len(keys)]
				if rep := bc.run(b, Request{ID: uint64(2 * i), Op: Put, Key: k, Value: val, Context: ctxs[i%len(keys)]}); rep.Status != OK {
					b.Fatal(rep.Err)
				}
				rep := bc.run(b, Request{ID: uint64(2*i + 1), Op: Get, Key: k})
				if rep.Status != OK || !rep.Found {
					b.Fatalf("get: %v %s", rep.Status, rep.Err)
				}
				if len(rep.Values) != 1 {
					b.Fatalf("read-modify-write left %d siblings", len(rep.Values))
				}
				ctxs[i%len(keys)] = rep.Context
			}
			b.ReportMetric(float64(bc.msgs)/float64(b.N), "msgs/round")
		})
	}
}
