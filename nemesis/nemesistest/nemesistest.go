// Package nemesistest draws nemesis schedules with rapid
// (pgregory.net/rapid) for property-based tests and fuzzing. Each fault is
// drawn as its delay since the previous fault, its family, kind, victims
// and duration (never as an absolute time), so when a property fails rapid
// shrinks the schedule toward fewer, earlier, shorter and simpler faults on
// the first nodes.
//
// It is a separate package so that nemesis itself does not import rapid
// (which registers command-line flags). Layer: like nemesis, layer 2 of
// docs/design.md §2; it imports nemesis, sim, the standard library and
// rapid, and is meant for tests.
package nemesistest

import (
	"time"

	"github.com/faultline-sim/faultline/nemesis"
	"pgregory.net/rapid"
)

// MaxGapFactor bounds a drawn gap between fault starts: at most
// MaxGapFactor times GenOptions.Interval.
const MaxGapFactor = 4

// continueOdds is the number of equally likely outcomes of each "another
// fault?" draw; all but one say yes, so schedules hold about
// continueOdds-1 faults before shrinking (fewer when the run is short).
const continueOdds = 8

// Chooser makes nemesis.Plan's choices with rapid draws on t.
type Chooser struct {
	T *rapid.T
}

// More draws whether to add another fault (shrinks to no).
func (c Chooser) More(label string) bool {
	return rapid.IntRange(0, continueOdds-1).Draw(c.T, label) != 0
}

// Gap draws the delay since the previous fault's start, uniform in
// [0, MaxGapFactor*mean] (shrinks to 0).
func (c Chooser) Gap(mean time.Duration, label string) time.Duration {
	return time.Duration(rapid.Int64Range(0, MaxGapFactor*int64(mean)).Draw(c.T, label))
}

// Choose draws a choice in [0, n) (shrinks to 0).
func (c Chooser) Choose(n int, label string) int {
	if n <= 1 {
		return 0
	}
	return rapid.IntRange(0, n-1).Draw(c.T, label)
}

// Between draws a duration in [lo, hi] (shrinks to lo).
func (c Chooser) Between(lo, hi time.Duration, label string) time.Duration {
	if hi <= lo {
		return lo
	}
	return time.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(c.T, label))
}

// DrawSchedule draws one schedule for opts (see nemesis.Plan: every fault
// is undone, the schedule ends healed by opts.Duration). Bad options fail
// the test with the options' error.
func DrawSchedule(t *rapid.T, opts nemesis.GenOptions) nemesis.Schedule {
	s, err := nemesis.Plan(Chooser{T: t}, opts)
	if err != nil {
		t.Fatalf("nemesistest: %v", err)
	}
	return s
}

// Schedules returns a rapid generator of schedules for opts, for use with
// Draw, rapid.Check or rapid.MakeFuzz.
func Schedules(opts nemesis.GenOptions) *rapid.Generator[nemesis.Schedule] {
	return rapid.Custom(func(t *rapid.T) nemesis.Schedule { return DrawSchedule(t, opts) })
}
