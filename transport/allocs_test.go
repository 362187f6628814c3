//go:build !race

package transport

import (
	"testing"
	"time"
)

// TestRawHotPathAllocatesNothing: in steady state a NewRaw network
// allocates nothing per delivered message (observed, with losses and
// duplicates), nor per clog, hold and release (issue 15). Allocation
// counts, not timings: the race detector's own allocations would count, so
// the file is left out of -race builds.
func TestRawHotPathAllocatesNothing(t *testing.T) {
	rb := newRawBench(t, true, true)
	if a := testing.AllocsPerRun(20, func() { rb.deliver(t, 1000) }); a != 0 {
		t.Errorf("%v allocations per 1000 delivered messages, want 0", a)
	}
	if a := testing.AllocsPerRun(20, func() {
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
	}); a != 0 {
		t.Errorf("%v allocations per clog, hold and release cycle, want 0", a)
	}
}
