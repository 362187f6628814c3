package idtable

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

// A Table holds exactly what a map would, whatever the ids: near one
// another as the cluster's are, the largest id, or Slots apart so that they share
// a slot, put again after a delete of the id holding their slot, and
// dropped in bulk.
func TestTableIsAMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tab := New[int]()
		model := map[uint64]int{}
		id := func() uint64 {
			if rapid.IntRange(0, 20).Draw(t, "last?") == 0 {
				return math.MaxUint64 // the one id without a key: always in the map
			}
			return uint64(rapid.IntRange(0, 6).Draw(t, "near")) + uint64(rapid.IntRange(0, 3).Draw(t, "lap"))*Slots
		}
		for op := range rapid.IntRange(1, 300).Draw(t, "ops") {
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0, 1:
				k, v := id(), rapid.IntRange(0, 9).Draw(t, "v")
				tab.Put(k, v)
				model[k] = v
			case 2:
				k := id()
				tab.Delete(k)
				delete(model, k)
			case 3:
				odd := func(v int) bool { return v%2 == 1 }
				tab.DeleteIf(odd)
				for k, v := range model {
					if odd(v) {
						delete(model, k)
					}
				}
			}
			for i := uint64(0); i <= 7+3*Slots; i++ {
				k := i
				if i == 7+3*Slots {
					k = math.MaxUint64
				}
				got, ok := tab.Get(k)
				want, wok := model[k]
				if ok != wok || got != want || tab.Has(k) != wok {
					t.Fatalf("op %d: get(%d) = %d, %v; the map holds %d, %v", op, k, got, ok, want, wok)
				}
			}
		}
	})
}
