package ringpeers

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	buraksezer "github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"
	"github.com/golang/groupcache/consistenthash"
	"github.com/serialx/hashring"
	stathat "github.com/stathat/consistent"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

const (
	vnodes   = 150
	keyCount = 1 << 13 // a power of two, so the loop masks the index
	// burakPartitions is buraksezer's partition count: a prime a little
	// above 10 partitions per vnode-node pair of the 10-node case.
	burakPartitions = 15013
)

var printBalance = flag.Bool("peers.balance", false, "print the balance of every library (TestBalance)")

// keys returns n keys in a seeded shuffled order, like the ring package's
// own benchmarks, so consecutive lookups land at unrelated positions.
func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = "user:" + strconv.Itoa(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(n, func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

func nodeName(i int) string { return "node-" + strconv.Itoa(i) }

// lib is one library under the same interface: a ring of nodes 1..n.
type lib struct {
	name string
	// build returns an owner lookup, a preference-list lookup (nil when the
	// library has none) and an operation adding node n+1 (which may mutate
	// the built ring, so it runs once per build).
	build func(n int) (owner func(string) string, prefs func(string, int) []string, add func())
}

// xxh64 is buraksezer's Hasher with the same hash faultline uses.
type xxh64 struct{}

func (xxh64) Sum64(b []byte) uint64 { return xxhash.Sum64(b) }

type burakMember string

func (m burakMember) String() string { return string(m) }

// u64Key is serialx's HashKey for a 64-bit hash.
type u64Key uint64

func (k u64Key) Less(o hashring.HashKey) bool { return k < o.(u64Key) }

func serialxHash(b []byte) hashring.HashKey { return u64Key(xxhash.Sum64(b)) }

var libs = []lib{
	{"faultline", func(n int) (func(string) string, func(string, int) []string, func()) {
		ms := make([]ring.Member, n)
		for i := range ms {
			ms[i] = ring.Member{ID: sim.NodeID(i + 1), Weight: 1}
		}
		r, err := ring.New(ring.Config{Seed: 1, VNodes: vnodes}, ms...)
		if err != nil {
			panic(err)
		}
		names := make([]string, n+2)
		for i := range names {
			names[i] = nodeName(i)
		}
		buf := make([]sim.NodeID, 0, 8)
		out := make([]string, 0, 8)
		return func(k string) string {
				id, _ := r.Owner(k)
				return names[id]
			}, func(k string, c int) []string {
				buf, _ = r.PreferenceList(k, c, buf)
				out = out[:0]
				for _, id := range buf {
					out = append(out, names[id])
				}
				return out
			}, func() {
				if _, err := r.Add(ring.Member{ID: sim.NodeID(n + 1), Weight: 1}); err != nil {
					panic(err)
				}
			}
	}},
	{"buraksezer", func(n int) (func(string) string, func(string, int) []string, func()) {
		cfg := buraksezer.Config{Hasher: xxh64{}, PartitionCount: burakPartitions, ReplicationFactor: vnodes, Load: 1.25}
		ms := make([]buraksezer.Member, n)
		for i := range ms {
			ms[i] = burakMember(nodeName(i + 1))
		}
		c := buraksezer.New(ms, cfg)
		return func(k string) string {
				return c.LocateKey([]byte(k)).String()
			}, func(k string, cnt int) []string {
				ms, err := c.GetClosestN([]byte(k), cnt)
				if err != nil {
					panic(err)
				}
				out := make([]string, len(ms))
				for i, m := range ms {
					out[i] = m.String()
				}
				return out
			}, func() {
				c.Add(burakMember(nodeName(n + 1)))
			}
	}},
	{"stathat", func(n int) (func(string) string, func(string, int) []string, func()) {
		c := stathat.New()
		c.NumberOfReplicas = vnodes
		for i := 1; i <= n; i++ {
			c.Add(nodeName(i))
		}
		return func(k string) string {
				s, _ := c.Get(k)
				return s
			}, func(k string, cnt int) []string {
				s, _ := c.GetN(k, cnt)
				return s
			}, func() {
				c.Add(nodeName(n + 1))
			}
	}},
	{"groupcache", func(n int) (func(string) string, func(string, int) []string, func()) {
		h := func(b []byte) uint32 { return uint32(xxhash.Sum64(b)) }
		m := consistenthash.New(vnodes, h)
		for i := 1; i <= n; i++ {
			m.Add(nodeName(i))
		}
		return m.Get, nil, func() { m.Add(nodeName(n + 1)) }
	}},
	{"serialx", func(n int) (func(string) string, func(string, int) []string, func()) {
		w := make(map[string]int, n)
		for i := 1; i <= n; i++ {
			w[nodeName(i)] = vnodes
		}
		r := hashring.NewWithHashAndWeights(w, serialxHash)
		return func(k string) string {
				s, _ := r.GetNode(k)
				return s
			}, func(k string, cnt int) []string {
				s, _ := r.GetNodes(k, cnt)
				return s
			}, func() {
				r.AddWeightedNode(nodeName(n+1), vnodes)
			}
	}},
}

var sink string

func BenchmarkOwner(b *testing.B) {
	ks := keys(keyCount)
	for _, n := range []int{10, 100} {
		for _, l := range libs {
			b.Run(fmt.Sprintf("nodes=%d,vnodes=%d/%s", n, vnodes, l.name), func(b *testing.B) {
				owner, _, _ := l.build(n)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					sink = owner(ks[i&(keyCount-1)])
					i++
				}
			})
		}
	}
}

func BenchmarkPreferenceList(b *testing.B) {
	ks := keys(keyCount)
	for _, n := range []int{10, 100} {
		for _, l := range libs {
			_, prefs, _ := l.build(n)
			if prefs == nil {
				continue
			}
			b.Run(fmt.Sprintf("nodes=%d,vnodes=%d,n=3/%s", n, vnodes, l.name), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					sink = prefs(ks[i&(keyCount-1)], 3)[2]
					i++
				}
			})
		}
	}
}

// BenchmarkAddNode grows a 99-node ring to 100 nodes. Most peers mutate
// in place, so every iteration builds a fresh 99-node ring with the timer
// stopped and times only the add.
func BenchmarkAddNode(b *testing.B) {
	for _, l := range libs {
		b.Run(fmt.Sprintf("to=100x%d/%s", vnodes, l.name), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				_, _, add := l.build(99)
				b.StartTimer()
				add()
			}
		})
	}
}

// TestPeersAgreeOnShape checks each library returns members of the ring
// and distinct replicas, so the benchmarks time working lookups.
func TestPeersAgreeOnShape(t *testing.T) {
	for _, l := range libs {
		owner, prefs, _ := l.build(10)
		for _, k := range keys(200) {
			o := owner(k)
			require.Regexp(t, `^node-([1-9]|10)$`, o, l.name)
			if prefs == nil {
				continue
			}
			p := prefs(k, 3)
			require.Len(t, p, 3, l.name)
			require.NotEqual(t, p[0], p[1], l.name)
			require.NotEqual(t, p[1], p[2], l.name)
			require.NotEqual(t, p[0], p[2], l.name)
		}
	}
}

// TestBalance prints the keys-per-node cv of each library at 10 nodes and
// 150 vnodes over 1M keys (with -peers.balance).
func TestBalance(t *testing.T) {
	if !*printBalance {
		t.Skip("run with -peers.balance")
	}
	const n, k = 10, 1_000_000
	ks := make([]string, k)
	for i := range ks {
		ks[i] = "key-" + strconv.Itoa(i)
	}
	for _, l := range libs {
		owner, _, _ := l.build(n)
		counts := map[string]float64{}
		for _, key := range ks {
			counts[owner(key)]++
		}
		mean, v, hi := float64(k)/n, 0.0, 0.0
		for i := 1; i <= n; i++ {
			c := counts[nodeName(i)]
			v += (c - mean) * (c - mean)
			hi = math.Max(hi, c)
		}
		t.Logf("| %s | %.4f | %.3f |", l.name, math.Sqrt(v/n)/mean, hi/mean)
	}
}
