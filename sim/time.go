package sim

import (
	"strconv"
	"time"
)

// Time is a point in virtual time: nanoseconds since the start of a run.
// It never comes from the wall clock.
type Time int64

// Never is a time later than any event; it marks "no deadline" and the
// return time of operations whose outcome is unknown.
const Never Time = 1<<63 - 1

// Add returns t advanced by d. It saturates at Never instead of overflowing.
func (t Time) Add(d time.Duration) Time {
	s := t + Time(d)
	if d > 0 && s < t {
		return Never
	}
	return s
}

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// String formats t as a duration since the start of the run, e.g. "1.5ms".
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	return time.Duration(t).String()
}

// NodeID names one physical node of a simulated cluster. IDs are small
// integers so per-node state lives in slices indexed by ID, never in maps
// whose iteration order could leak into a run.
type NodeID uint32

// String formats the id as "n<id>".
func (id NodeID) String() string { return "n" + strconv.FormatUint(uint64(id), 10) }
