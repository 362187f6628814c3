package merkle

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

var long = flag.Bool("long", false, "also measure traffic at 1M keys")

func encodedLen(t require.TestingT, v any) int {
	var b []byte
	require.NoError(t, codec.NewEncoderBytes(&b, &codec.MsgpackHandle{}).Encode(v))
	return len(b)
}

// Size is the exact length of the msgpack encoding, and messages survive a
// round trip through the codec.
func TestMerkleMessageSizeIsExactMsgpack(t *testing.T) {
	anyUint := rapid.OneOf(rapid.Uint64Range(0, 300), rapid.Uint64Range(0, 1<<17), rapid.Uint64())
	rapid.Check(t, func(rt *rapid.T) {
		q := Request{
			ID:      anyUint.Draw(rt, "id"),
			Range:   Range{Start: anyUint.Draw(rt, "s"), End: anyUint.Draw(rt, "e")},
			Depth:   rapid.Uint8().Draw(rt, "d"),
			Fanout:  rapid.Uint16().Draw(rt, "f"),
			Kind:    Kind(rapid.Uint8().Draw(rt, "k")),
			Level:   rapid.Uint8().Draw(rt, "l"),
			Root:    anyUint.Draw(rt, "root"),
			Indexes: rapid.SliceOfN(rapid.Uint32(), 0, 40).Draw(rt, "x"),
		}
		require.Equal(rt, encodedLen(rt, q), q.Size())
		var q2 Request
		var b []byte
		require.NoError(rt, codec.NewEncoderBytes(&b, &codec.MsgpackHandle{}).Encode(q))
		require.NoError(rt, codec.NewDecoderBytes(b, &codec.MsgpackHandle{}).Decode(&q2))
		if len(q.Indexes) == 0 {
			q.Indexes = nil
			q2.Indexes = nil
		}
		require.Equal(rt, q, q2)

		keyLen := rapid.OneOf(rapid.IntRange(0, 40), rapid.IntRange(250, 300), rapid.IntRange(65530, 65540)).Draw(rt, "keylen")
		p := Response{
			ID:     anyUint.Draw(rt, "id"),
			Range:  Range{Start: anyUint.Draw(rt, "s"), End: anyUint.Draw(rt, "e")},
			Kind:   Kind(rapid.Uint8().Draw(rt, "k")),
			Level:  rapid.Uint8().Draw(rt, "l"),
			Equal:  rapid.Bool().Draw(rt, "q"),
			Hashes: rapid.SliceOfN(anyUint, 0, 20).Draw(rt, "h"),
			Entries: rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) Entry {
				return Entry{Key: strings.Repeat("k", keyLen), Version: anyUint.Draw(rt, "v")}
			}), 0, 3).Draw(rt, "n"),
			Refused: rapid.Bool().Draw(rt, "x"),
		}
		require.Equal(rt, encodedLen(rt, p), p.Size())
	})
	// Array headers beyond 16 and 65535 elements.
	for _, n := range []int{15, 16, 65535, 65536} {
		q := Request{Indexes: make([]uint32, n)}
		assert.Equal(t, encodedLen(t, q), q.Size(), "n=%d", n)
	}
}

var keyCache = map[int][]string{}

// keyList returns size distinct keys, built once per size.
func keyList(size int) []string {
	if ks, ok := keyCache[size]; ok {
		return ks
	}
	ks := make([]string, size)
	for i := range ks {
		ks[i] = fmt.Sprintf("user:%08d", i)
	}
	keyCache[size] = ks
	return ks
}

// divergent returns two replicas of size keys that differ in diff keys
// chosen at random: a third have a newer version on b, a third are missing
// on a, a third are missing on b. It also returns the number of differences.
func divergent(t require.TestingT, cfg Config, size, diff int, seed uint64) (*Tree, *Tree, int) {
	rng := sim.NewRNG(seed).Fork("divergent")
	keys := keyList(size)
	fate := make([]uint8, size)
	for n := 0; n < diff; {
		i := rng.IntN(size)
		if fate[i] == 0 {
			fate[i] = uint8(1 + n%3)
			n++
		}
	}
	a, err := New(cfg, full)
	require.NoError(t, err)
	b, err := New(cfg, full)
	require.NoError(t, err)
	for i, k := range keys {
		v := rng.Uint64()
		if fate[i] != 2 {
			require.NoError(t, a.Set(k, v))
		}
		switch fate[i] {
		case 1:
			require.NoError(t, b.Set(k, v+1))
		case 0, 2:
			require.NoError(t, b.Set(k, v))
		}
	}
	return a, b, diff
}

// TestMerkleAntiEntropyTrafficOneKeyIn100k: finding 1 differing key among
// 100k costs a small multiple of the tree depth in messages and well under a
// kilobyte or two, for several tree shapes.
func TestMerkleAntiEntropyTrafficOneKeyIn100k(t *testing.T) {
	for _, cfg := range []Config{{Depth: 3, Fanout: 16}, {Depth: 4, Fanout: 16}, {Depth: 8, Fanout: 4}} {
		a, b, n := divergent(t, cfg, 100_000, 1, 1)
		require.Equal(t, 1, n)
		diffs, st := exchange(t, a, b)
		require.Len(t, diffs, 1)
		t.Logf("depth=%d fanout=%d leaves=%d: 1 diff in 100k keys: %d messages, %d bytes, %d hashes compared",
			cfg.Depth, cfg.Fanout, cfg.Leaves(), st.Messages, st.Bytes, st.HashesCompared)
		assert.LessOrEqual(t, st.Messages, 2*cfg.Depth+2)
		// Hash descent: Fanout hashes of at most 9 bytes per level, plus
		// one leaf of about 100k/leaves keys of ~30 bytes, plus headers.
		perLeaf := 100_000/cfg.Leaves() + 1
		bound := cfg.Depth*(cfg.Fanout*9+60) + 4*perLeaf*30 + 200
		assert.LessOrEqual(t, st.Bytes, bound)
		assert.Less(t, st.Bytes, 4000, "1 differing key must cost kilobytes at most, not the data size")
	}
}

// TestMerkleAntiEntropyTrafficGrowsWithDivergenceNotSize measures the
// exchange at 1k, 10k and 100k keys with 1 and 100 differing keys on one
// fixed tree shape and checks that traffic follows the divergence.
func TestMerkleAntiEntropyTrafficGrowsWithDivergenceNotSize(t *testing.T) {
	cfg := Config{Depth: 4, Fanout: 16}
	sizes := []int{1_000, 10_000, 100_000}
	if *long {
		sizes = append(sizes, 1_000_000)
	}
	type cell struct{ msgs, bytes int }
	got := map[[2]int]cell{}
	var rows []string
	for _, size := range sizes {
		for _, diff := range []int{1, 100} {
			a, b, n := divergent(t, cfg, size, diff, uint64(size+diff))
			diffs, st := exchange(t, a, b)
			require.Len(t, diffs, n)
			got[[2]int{size, diff}] = cell{st.Messages, st.Bytes}
			rows = append(rows, fmt.Sprintf("| %7d | %4d | %8d | %8d | %9d | %13d |", size, diff, st.Messages, st.Bytes, st.HashesCompared, st.LeavesFetched))
		}
	}
	t.Logf("depth=%d fanout=%d (%d leaves)\n| keys    | diff | messages | bytes    | hashes cmp | leaves fetched |\n%s",
		cfg.Depth, cfg.Fanout, cfg.Leaves(), strings.Join(rows, "\n"))
	for _, size := range sizes {
		one, hundred := got[[2]int{size, 1}], got[[2]int{size, 100}]
		assert.Equal(t, 2*cfg.Depth+2, one.msgs, "1 diff at %d keys", size)
		assert.Less(t, one.bytes, 1500, "1 diff at %d keys", size)
		// Each differing key costs at most one path of hash lists (Fanout
		// 9-byte hashes per level) and its leaf's entries (~30 bytes per
		// key): a bound set by the divergence and the tree shape.
		perLeaf := size/cfg.Leaves() + 2
		assert.LessOrEqual(t, hundred.bytes, 100*(cfg.Depth*(9*cfg.Fanout+6)+perLeaf*30)+1000, "100 diffs at %d keys", size)
		assert.Greater(t, hundred.bytes, 10*one.bytes, "100 diffs must cost far more than 1 at %d keys", size)
		// The full key/version list would be about 30 bytes per key.
		assert.Less(t, float64(hundred.bytes), 0.5*float64(30*size), "100 diffs at %d keys", size)
	}
	// A hundredfold more data costs a small factor more (empty subtrees
	// hash to a 1-byte zero and leaves hold more keys), never a hundredfold.
	assert.Less(t, got[[2]int{100_000, 1}].bytes, 2*got[[2]int{1_000, 1}].bytes)
	assert.Less(t, got[[2]int{100_000, 100}].bytes, 4*got[[2]int{1_000, 100}].bytes)
	assert.Less(t, float64(got[[2]int{100_000, 100}].bytes), 0.02*float64(30*100_000), "100 diffs among 100k keys cost under 2% of the key list")
}

// Two trees built in different insertion orders are identical.
func TestMerkleOrderIndependent(t *testing.T) {
	cfg := Config{Depth: 3, Fanout: 8}
	keys := make([]string, 5000)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	a, _ := New(cfg, full)
	b, _ := New(cfg, full)
	for i, k := range keys {
		require.NoError(t, a.Set(k, uint64(i)))
	}
	for i := len(keys) - 1; i >= 0; i-- {
		require.NoError(t, b.Set(keys[i], 0))
		require.NoError(t, b.Set(keys[i], uint64(i)))
	}
	require.True(t, a.Equal(b))
	require.NoError(t, b.Set(keys[10], 1))
	require.False(t, a.Equal(b))
}

// BenchmarkMerkleSet measures one incremental update of a 100k-key tree.
func BenchmarkMerkleSet(b *testing.B) {
	for _, cfg := range []Config{{Depth: 3, Fanout: 16}, {Depth: 4, Fanout: 16}} {
		b.Run(fmt.Sprintf("depth=%d/fanout=%d", cfg.Depth, cfg.Fanout), func(b *testing.B) {
			tr, _, _ := divergent(b, cfg, 100_000, 0, 1)
			keys := make([]string, 4096)
			for i := range keys {
				keys[i] = fmt.Sprintf("user:%08d", i*24)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := tr.Set(keys[i&4095], uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMerkleExchange100k1Diff measures a whole exchange (both sides)
// finding 1 differing key among 100k.
func BenchmarkMerkleExchange100k1Diff(b *testing.B) {
	cfg := Config{Depth: 4, Fanout: 16}
	ta, tb, _ := divergent(b, cfg, 100_000, 1, 1)
	var st Stats
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := NewSession(ta, uint64(i))
		q := s.Start()
		for {
			p, err := tb.Respond(q)
			if err != nil {
				b.Fatal(err)
			}
			next, more, err := s.Step(p)
			if err != nil {
				b.Fatal(err)
			}
			if !more {
				break
			}
			q = next
		}
		st = s.Stats()
	}
	b.ReportMetric(float64(st.Messages), "msgs/exchange")
	b.ReportMetric(float64(st.Bytes), "bytes/exchange")
}
