package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/faultline-sim/faultline/sim"
)

// benchKeys returns n distinct keys in a seeded shuffled order, so that
// consecutive lookups land at unrelated ring positions and the branch
// predictor cannot learn the search path (sequential keys flatter a
// lookup by about 4×).
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user:%d", i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys
}

// benchKeyCount is a power of two so the loop can mask the index.
const benchKeyCount = 1 << 13

var sinkID sim.NodeID

func BenchmarkOwner(b *testing.B) {
	keys := benchKeys(benchKeyCount)
	for _, c := range []struct {
		nodes int
		cfg   Config
	}{
		{10, Config{Seed: 1, VNodes: 150}},
		{100, Config{Seed: 1, VNodes: 150}},
		{10, Config{Seed: 1, Shards: 1024}},
	} {
		name := fmt.Sprintf("nodes=%d,vnodes=%d", c.nodes, c.cfg.VNodes)
		if c.cfg.Shards > 0 {
			name = fmt.Sprintf("nodes=%d,shards=%d", c.nodes, c.cfg.Shards)
		}
		b.Run(name, func(b *testing.B) {
			r := mustNew(b, c.cfg, equalNodes(c.nodes)...)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id, err := r.Owner(keys[i&(benchKeyCount-1)])
				if err != nil {
					b.Fatal(err)
				}
				sinkID = id
				i++
			}
		})
	}
}

func BenchmarkPreferenceList(b *testing.B) {
	keys := benchKeys(benchKeyCount)
	for _, nodes := range []int{10, 100} {
		b.Run(fmt.Sprintf("nodes=%d,vnodes=150,n=3", nodes), func(b *testing.B) {
			r := mustNew(b, Config{Seed: 1, VNodes: 150}, equalNodes(nodes)...)
			buf := make([]sim.NodeID, 0, 3)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var err error
				buf, err = r.PreferenceList(keys[i&(benchKeyCount-1)], 3, buf)
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
			sinkID = buf[0]
		})
	}
}

// BenchmarkAddNode measures growing a 99-node ring with 150 vnodes each to
// 100 nodes (the old ring stays valid, as every update returns a new ring).
func BenchmarkAddNode(b *testing.B) {
	for _, cfg := range []Config{{Seed: 1, VNodes: 150}, {Seed: 1, Shards: 4096}} {
		name := "to=100x150"
		if cfg.Shards > 0 {
			name = fmt.Sprintf("to=100,shards=%d", cfg.Shards)
		}
		b.Run(name, func(b *testing.B) {
			r := mustNew(b, cfg, equalNodes(99)...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Add(Member{ID: 100, Weight: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRemoveNode(b *testing.B) {
	r := mustNew(b, Config{Seed: 1, VNodes: 150}, equalNodes(100)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Remove(50); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	ms := equalNodes(100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Config{Seed: 1, VNodes: 150}, ms...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiff(b *testing.B) {
	old := mustNew(b, Config{Seed: 1, VNodes: 150}, equalNodes(99)...)
	grown, err := old.Add(Member{ID: 100, Weight: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diff(old, grown, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashKey(b *testing.B) {
	keys := benchKeys(benchKeyCount)
	var sink uint64
	i := 0
	for b.Loop() {
		sink += HashKey(keys[i&(benchKeyCount-1)])
		i++
	}
	_ = sink
}
