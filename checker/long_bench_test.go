package checker

import (
	"fmt"
	"testing"
)

// BenchmarkLinearizableLong checks one long linearizable history per
// size (10 clients on 5 keys, 5% of the writes info), the shape of a long
// faultline run, and reports the heap it allocates (-benchmem): the search
// cache must grow linearly with a key's history, not quadratically.
func BenchmarkLinearizableLong(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		ops := generate(genConfig{ops: n, clients: 10, keys: 5, infoWrites: 0.05, seed: 1})
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			for b.Loop() {
				res, err := Linearizable(ops, LinearOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if res.Verdict != Valid {
					b.Fatalf("verdict %s: %s", res.Verdict, res.Explanation)
				}
			}
		})
	}
}

// TestLongKeyWindowedCache: on one key with thousands of operations (so a
// linearized set spans many bitset words and the cache stores windows of
// it), a linearizable history is Valid and the same history with one stale
// read is Invalid, named by the search (the pre-pass off) with a witness.
func TestLongKeyWindowedCache(t *testing.T) {
	ops := generate(genConfig{ops: 2000, clients: 10, keys: 1, infoWrites: 0.05, slow: 0.03, seed: 7})
	res, err := Linearizable(ops, LinearOptions{NoPrepass: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Valid {
		t.Fatalf("linearizable history: %s: %s", res.Verdict, res.Explanation)
	}
	injectStaleRead(ops)
	res, err = Linearizable(ops, LinearOptions{NoPrepass: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Invalid || len(res.Witness) != 1 || res.Witness[0].Key != "k0" {
		t.Fatalf("stale read: %s (%d witnesses): %s", res.Verdict, len(res.Witness), res.Explanation)
	}
}

// TestLongKeyFitsSmallMemoryBudget: a 40 000-operation key with 10
// concurrent clients (about 400 000 cache entries, 38 MB counted) is
// decided within a 64 MiB memory budget. With a full bitset copied into
// every cache entry (5 KB each) it came back Unknown.
func TestLongKeyFitsSmallMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("a 40 000-operation history")
	}
	ops := generate(genConfig{ops: 40000, clients: 10, keys: 1, infoWrites: 0.05, seed: 3})
	res, err := Linearizable(ops, LinearOptions{MemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Valid {
		t.Fatalf("%s: %s", res.Verdict, res.Explanation)
	}
}
