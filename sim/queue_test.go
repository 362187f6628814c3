package sim

import (
	"cmp"
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// TestQueuePopsInTimeThenSequenceOrder: whatever the pushes (times drawn
// with many ties, pops interleaved), the queue pops exactly what a sorted
// model holds first, by (time, sequence).
func TestQueuePopsInTimeThenSequenceOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		q := NewQueue[int](rapid.IntRange(0, 4).Draw(t, "capacity"))
		type item struct {
			at  Time
			seq uint64
		}
		var model []item
		var seq uint64
		for i := range rapid.IntRange(1, 200).Draw(t, "ops") {
			if len(model) > 0 && rapid.IntRange(0, 2).Draw(t, "pop?") == 0 {
				slices.SortFunc(model, func(a, b item) int {
					if c := cmp.Compare(a.at, b.at); c != 0 {
						return c
					}
					return cmp.Compare(a.seq, b.seq)
				})
				at, v := q.Pop()
				if at != model[0].at || uint64(v) != model[0].seq {
					t.Fatalf("op %d: popped (%v, %d), want (%v, %d)", i, at, v, model[0].at, model[0].seq)
				}
				model = model[1:]
				continue
			}
			seq++
			at := Time(rapid.IntRange(0, 5).Draw(t, "at"))
			q.Push(at, seq, int(seq))
			model = append(model, item{at, seq})
			if q.Len() != len(model) {
				t.Fatalf("Len %d, want %d", q.Len(), len(model))
			}
		}
	})
}

// BenchmarkQueue keeps size values queued, popping the first and pushing
// one at a random later time, as the event loop does (the standard seed
// averages ~36 queued events).
func BenchmarkQueue(b *testing.B) {
	for _, size := range []int{36, 1000} {
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			r := NewRNG(1)
			q := NewQueue[func()](size)
			fn := func() {}
			var seq uint64
			for range size {
				seq++
				q.Push(Time(r.Uint64()%1000), seq, fn)
			}
			b.ResetTimer()
			for range b.N {
				at, _ := q.Pop()
				seq++
				q.Push(at+Time(r.Uint64()%1000), seq, fn)
			}
		})
	}
}
