package sim

import (
	"cmp"
	"slices"
	"testing"
	"time"

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
// one at a random later time, as the event loop does: the standard seed
// averages ~36 queued events, due within a few ms; "far" pushes a tenth
// of them 200 ms on (client timeouts).
func BenchmarkQueue(b *testing.B) {
	for _, tc := range []struct {
		name string
		size int
		far  bool
	}{{"size=36", 36, false}, {"size=36,far", 36, true}, {"size=1000", 1000, false}} {
		b.Run(tc.name, func(b *testing.B) {
			r := NewRNG(1)
			q := NewQueue[func()](tc.size)
			fn := func() {}
			var seq uint64
			delay := func() Time {
				if tc.far && r.Uint64()%10 == 0 {
					return Time(200 * time.Millisecond)
				}
				return Time(r.Uint64() % uint64(5*time.Millisecond))
			}
			for range tc.size {
				seq++
				q.Push(delay(), seq, fn)
			}
			b.ResetTimer()
			for range b.N {
				at, _ := q.Pop()
				seq++
				q.Push(at+delay(), seq, fn)
			}
		})
	}
}
