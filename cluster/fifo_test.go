package cluster

import (
	"testing"

	"pgregory.net/rapid"
)

// TestFifo: the fifo pops what was pushed, oldest first (dropLast drops
// the newest), and its memory
// follows what it holds: a queue that always holds a few items however
// many went through stays small.
func TestFifo(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q fifo[int]
		var model []int
		next, most := 0, 0
		for range rapid.IntRange(1, 2000).Draw(t, "steps") {
			op := rapid.IntRange(0, 3).Draw(t, "op")
			switch {
			case len(model) == 0 || op > 1 && len(model) < 40:
				q.push(next)
				model = append(model, next)
				next++
			case op == 1:
				if got := q.last(); got != model[len(model)-1] {
					t.Fatalf("last = %d, want %d", got, model[len(model)-1])
				}
				q.dropLast()
				model = model[:len(model)-1]
			default:
				if got := q.peek(); got != model[0] {
					t.Fatalf("peek = %d, want %d", got, model[0])
				}
				if got := q.pop(); got != model[0] {
					t.Fatalf("pop = %d, want %d", got, model[0])
				}
				model = model[1:]
			}
			if q.len() != len(model) {
				t.Fatalf("len = %d, want %d", q.len(), len(model))
			}
			most = max(most, len(model))
			if len(q.items) > 2*max(most, 64)+1 {
				t.Fatalf("%d items pushed, at most %d held at once, but %d slots in use", next, most, len(q.items))
			}
		}
	})
}
