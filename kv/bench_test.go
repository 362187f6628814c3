package kv

import (
	"strconv"
	"testing"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
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
//
// The "+trees" variants keep Merkle trees (anti-entropy on, no exchange
// due during the benchmark): the cost of updating a tree on every write.
func BenchmarkPutGetRound(b *testing.B) {
	for _, v := range []struct {
		name    string
		resolve ResolveMode
		trees   bool
	}{{"lww", LWW, false}, {"vclock", VectorClock, false}, {"lww+trees", LWW, true}} {
		resolve := v.resolve
		b.Run(v.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Resolve = resolve
			if v.trees {
				cfg.AntiEntropyIntervalTicks = 1 << 30
			}
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

// BenchmarkAntiEntropyExchange measures one Merkle exchange between two
// replicas of 100k keys that differ in one key (depth 3, fanout 16),
// repair included; it reports the messages and the wire bytes of each.
func BenchmarkAntiEntropyExchange(b *testing.B) {
	stores := fillStores(100_000)
	cfg := aeConfig(LWW, 1<<30)
	cfg.N, cfg.MerkleDepth, cfg.MerkleFanout = 2, 3, 16
	c := newSimClusterRing(b, cfg, 2, 1, ring.Config{Seed: 1, VNodes: 1})
	c.stores[0], c.stores[1] = stores[0], stores[1]
	n1, n2 := c.start(1, c.ring), c.start(2, c.ring)
	const odd = "key0000042"
	h := ring.HashKey(odd)
	var msgs, bytes uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// n2 takes a newer write of the key, so every exchange has one diff.
		if _, err := n2.mergeData(odd, []Version{{Value: []byte("x"), Timestamp: int64(2_000 + i), Dot: Dot{Node: 2, Counter: 1<<32 | uint64(i+1)}}}); err != nil {
			b.Fatal(err)
		}
		m0, b0 := c.totalWire()
		if !n1.StartAntiEntropy(h, 2) {
			b.Fatal("no exchange started")
		}
		c.collect(1)
		c.quiesce()
		m1, b1 := c.totalWire()
		msgs, bytes = msgs+m1-m0, bytes+b1-b0
	}
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs/exchange")
	b.ReportMetric(float64(bytes)/float64(b.N), "wire-bytes/exchange")
}
