package cluster

import (
	"testing"

	"pgregory.net/rapid"
)

// An idTable holds exactly what a map would, whatever the ids: near one
// another as the cluster's are, or idTableSlots apart so that they share
// a slot, put again after a delete of the id holding their slot, and
// dropped in bulk.
func TestIDTableIsAMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tab := newIDTable[int]()
		model := map[uint64]int{}
		id := func() uint64 {
			return uint64(rapid.IntRange(0, 6).Draw(t, "near")) + uint64(rapid.IntRange(0, 3).Draw(t, "lap"))*idTableSlots
		}
		for i := range rapid.IntRange(1, 300).Draw(t, "ops") {
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0, 1:
				k, v := id(), rapid.IntRange(0, 9).Draw(t, "v")
				tab.put(k, v)
				model[k] = v
			case 2:
				k := id()
				tab.delete(k)
				delete(model, k)
			case 3:
				odd := func(v int) bool { return v%2 == 1 }
				tab.deleteIf(odd)
				for k, v := range model {
					if odd(v) {
						delete(model, k)
					}
				}
			}
			for k := uint64(0); k < 7+3*idTableSlots; k++ {
				got, ok := tab.get(k)
				want, wok := model[k]
				if ok != wok || got != want || tab.has(k) != wok {
					t.Fatalf("op %d: get(%d) = %d, %v; the map holds %d, %v", i, k, got, ok, want, wok)
				}
			}
		}
	})
}
