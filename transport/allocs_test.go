//go:build !race

package transport

import (
	"testing"
	"time"
)

// TestRawHotPathAllocatesNothing: in steady state a NewRaw network
// allocates nothing at all over 100,000 delivered messages (observed, with
// losses and duplicates), nor over 500 cycles of a clog, a hold and a
// release of busy links (issue 15). These are allocation counts, exact
// and deterministic, not timings; the race detector's own allocations
// would count, so the file is left out of -race builds.
func TestRawHotPathAllocatesNothing(t *testing.T) {
	rb := newRawBench(t, true, true)
	if a := testing.AllocsPerRun(1, func() { rb.deliver(t, 100_000) }); a != 0 {
		t.Errorf("%v allocations over 100000 delivered messages, want 0", a)
	}
	cycle := func() {
		if err := rb.net.Clog(0, 1, rb.loop.Now().Add(2*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := rb.net.Hold(2, 3); err != nil {
			t.Fatal(err)
		}
		rb.deliver(t, 200)
		if err := rb.net.Release(2, 3); err != nil {
			t.Fatal(err)
		}
		rb.deliver(t, 200)
	}
	// Warm up the links' parked queues to their largest size.
	for range 2000 {
		cycle()
	}
	if a := testing.AllocsPerRun(1, func() {
		for range 500 {
			cycle()
		}
	}); a != 0 {
		t.Errorf("%v allocations over 500 clog, hold and release cycles, want 0", a)
	}
}
