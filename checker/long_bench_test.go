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
