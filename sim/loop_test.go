package sim

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func newLoop(t testing.TB) *Loop {
	l, err := NewLoop(Limits{MaxEvents: 1 << 40, Horizon: Time(time.Hour)})
	require.NoError(t, err)
	return l
}

func TestLoopEqualTimesRunFIFO(t *testing.T) {
	l := newLoop(t)
	var got []int
	for i := 0; i < 10; i++ {
		i := i
		l.At(5, func() { got = append(got, i) })
	}
	require.NoError(t, l.Run())
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, got)
	assert.Equal(t, Time(5), l.Now())
	assert.Equal(t, uint64(10), l.Events())
}

func TestLoopPastTimeRunsNowAfterQueued(t *testing.T) {
	l := newLoop(t)
	var got []string
	l.At(10, func() {
		l.At(3, func() { got = append(got, "past") })
		got = append(got, "first")
	})
	l.At(10, func() { got = append(got, "second") })
	require.NoError(t, l.Run())
	assert.Equal(t, []string{"first", "second", "past"}, got)
	assert.Equal(t, Time(10), l.Now())
}

// TestLoopOrderProperty: whatever times events are scheduled at (including
// from inside events), they run sorted by (time, insertion sequence).
func TestLoopOrderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l, err := NewLoop(Limits{MaxEvents: 1 << 20, Horizon: Never})
		require.NoError(t, err)
		type rec struct {
			at  Time
			seq int
		}
		var ran []rec
		seq := 0
		times := rapid.SliceOfN(rapid.Int64Range(0, 50), 1, 200).Draw(t, "times")
		children := rapid.SliceOfN(rapid.Int64Range(0, 20), len(times), len(times)).Draw(t, "children")
		for i, at := range times {
			seq++
			s := seq
			d := children[i]
			l.At(Time(at), func() {
				ran = append(ran, rec{l.Now(), s})
				if d%3 == 0 {
					seq++
					cs := seq
					l.After(time.Duration(d), func() { ran = append(ran, rec{l.Now(), cs}) })
				}
			})
		}
		require.NoError(t, l.Run())
		ok := sort.SliceIsSorted(ran, func(i, j int) bool {
			if ran[i].at != ran[j].at {
				return ran[i].at < ran[j].at
			}
			return ran[i].seq < ran[j].seq
		})
		require.True(t, ok, "events ran out of (time, seq) order: %v", ran)
		require.Equal(t, seq, len(ran), "every scheduled event runs exactly once")
	})
}

func TestLoopLimits(t *testing.T) {
	_, err := NewLoop(Limits{})
	require.ErrorContains(t, err, "MaxEvents must be > 0")
	_, err = NewLoop(Limits{MaxEvents: 1})
	require.ErrorContains(t, err, "Horizon")

	// An event that reschedules itself forever hits max-events, not a hang.
	l, err := NewLoop(Limits{MaxEvents: 1000, Horizon: Never - 1})
	require.NoError(t, err)
	var tick func()
	tick = func() { l.After(time.Millisecond, tick) }
	l.At(0, tick)
	err = l.Run()
	var le *LimitError
	require.True(t, errors.As(err, &le), "got %v", err)
	assert.Equal(t, "max-events", le.Limit)
	assert.Equal(t, uint64(1000), le.Events)
	assert.Contains(t, err.Error(), "did not settle")

	// The same loop against a horizon.
	l, err = NewLoop(Limits{MaxEvents: 1 << 30, Horizon: Time(time.Second)})
	require.NoError(t, err)
	tick = func() { l.After(time.Millisecond, tick) }
	l.At(0, tick)
	err = l.Run()
	require.True(t, errors.As(err, &le), "got %v", err)
	assert.Equal(t, "horizon", le.Limit)
	assert.LessOrEqual(t, l.Now(), Time(time.Second))
}

func TestLoopRunUntilAndStop(t *testing.T) {
	l := newLoop(t)
	n := 0
	for i := 1; i <= 10; i++ {
		l.At(Time(i*10), func() { n++ })
	}
	require.NoError(t, l.RunUntil(55))
	assert.Equal(t, 5, n)
	assert.Equal(t, Time(55), l.Now())
	assert.Equal(t, 5, l.Pending())
	l.At(60, func() { l.Stop() })
	err := l.Run()
	require.ErrorIs(t, err, ErrStopped)
	assert.Equal(t, 6, n, "the event at 60 inserted before Stop's event runs first")
	require.NoError(t, l.Run())
	assert.Equal(t, 10, n)
	assert.False(t, l.Step())
}

// TestDeterminismLoop runs a randomised self-scheduling workload twice per
// seed and under two GOMAXPROCS values: the trace hash must match.
func TestDeterminismLoop(t *testing.T) {
	run := func(seed uint64) uint64 {
		l := newLoop(t)
		rng := NewRNG(seed)
		for i := 0; i < 8; i++ {
			r := rng.Fork("actor/" + string(rune('a'+i)))
			id := uint64(i)
			var act func()
			count := 0
			act = func() {
				l.Trace().Record("act", id, uint64(l.Now()), r.Uint64())
				count++
				if count < 200 {
					d, _ := Exponential(time.Microsecond, 50*time.Microsecond)
					l.After(d.Sample(r), act)
				}
			}
			l.At(0, act)
		}
		require.NoError(t, l.Run())
		return l.Trace().Sum64()
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	for seed := uint64(0); seed < 5; seed++ {
		runtime.GOMAXPROCS(1)
		a := run(seed)
		runtime.GOMAXPROCS(2)
		b := run(seed)
		c := run(seed)
		require.Equal(t, a, b, "seed %d: hash differs across GOMAXPROCS", seed)
		require.Equal(t, b, c, "seed %d: hash differs across runs", seed)
		require.NotEqual(t, a, run(seed+1000), "seed %d: a different seed gave the same hash", seed)
	}
}

func BenchmarkEventLoop(b *testing.B) {
	l, err := NewLoop(Limits{MaxEvents: 1 << 62, Horizon: Never - 1})
	require.NoError(b, err)
	// 1000 self-rescheduling actors keep ~1000 events queued, like a busy
	// simulated cluster; each event reschedules itself with a varying delay.
	remaining := b.N
	const actors = 1000
	for i := 0; i < actors; i++ {
		d := time.Duration(1 + i%97)
		var fn func()
		fn = func() {
			remaining--
			if remaining > 0 {
				l.After(d, fn)
			}
		}
		l.At(Time(i), fn)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for remaining > 0 && l.Step() {
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// A chain of timers that come due in the order they were set, kept as
// Slots with only the next one queued (as the cluster keeps a client's
// request timeouts), runs in exactly the order of one At per timer,
// interleaved with other events at the same and other times.
func TestSlotRunsWhereAtWould(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 20).Draw(t, "timers")
		due := make([]Time, n)
		for i := range due {
			due[i] = Time(rapid.IntRange(0, 5).Draw(t, "gap"))
			if i > 0 {
				due[i] += due[i-1]
			}
		}
		others := rapid.SliceOfN(rapid.IntRange(0, 5*n), 0, 30).Draw(t, "others")
		// order[k] says whether the k-th scheduling call is the next timer
		// (true) or the next other event.
		order := make([]bool, n+len(others))
		for i := range n {
			order[i] = true
		}
		order = rapid.Permutation(order).Draw(t, "interleaving")
		run := func(slots bool) []string {
			l, err := NewLoop(Limits{MaxEvents: 1 << 20, Horizon: Time(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			var log []string
			reserved := make([]Slot, 0, n)
			var fire func(i int) func()
			fire = func(i int) func() {
				return func() {
					log = append(log, fmt.Sprintf("timer %d at %d", i, l.Now()))
					if slots && i+1 < len(reserved) {
						l.AtSlot(reserved[i+1], fire(i+1))
					}
				}
			}
			ti, oi := 0, 0
			for _, timer := range order {
				if timer {
					if slots {
						reserved = append(reserved, l.Reserve(due[ti]))
						if ti == 0 {
							l.AtSlot(reserved[0], fire(0))
						}
					} else {
						l.At(due[ti], fire(ti))
					}
					ti++
					continue
				}
				k, at := oi, Time(others[oi])
				l.At(at, func() { log = append(log, fmt.Sprintf("other %d at %d", k, l.Now())) })
				oi++
			}
			if err := l.Run(); err != nil {
				t.Fatal(err)
			}
			return log
		}
		want, got := run(false), run(true)
		if !slices.Equal(want, got) {
			t.Fatalf("with slots:\n%v\nwith At:\n%v", got, want)
		}
	})
}

// NodeID formats as "n<id>", as fmt's "n%d" did, for every id.
func TestNodeIDString(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id := rapid.Uint32().Draw(t, "id")
		if got, want := NodeID(id).String(), fmt.Sprintf("n%d", id); got != want {
			t.Fatalf("NodeID(%d) = %q, want %q", id, got, want)
		}
	})
}
