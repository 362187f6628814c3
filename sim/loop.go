package sim

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Limits bound a run so that it ends with a reported liveness failure rather
// than a hang. Both limits are required.
type Limits struct {
	// MaxEvents is the most events the loop may execute.
	MaxEvents uint64
	// Horizon is the latest virtual time an event may run at.
	Horizon Time
}

// DefaultLimits is a generous bound for ordinary scenario runs: 50 million
// events or one simulated hour.
var DefaultLimits = Limits{MaxEvents: 50_000_000, Horizon: Time(time.Hour)}

// Validate reports an error unless both limits are positive.
func (l Limits) Validate() error {
	if l.MaxEvents == 0 {
		return errors.New("sim limits: MaxEvents must be > 0 (every run needs an event budget)")
	}
	if l.Horizon <= 0 {
		return fmt.Errorf("sim limits: Horizon %v must be > 0 (every run needs a time horizon)", l.Horizon)
	}
	return nil
}

// LimitError reports that a run hit one of its Limits. It is a liveness
// failure: the run did not finish within its budget.
type LimitError struct {
	// Limit is "max-events" or "horizon".
	Limit string
	// At is the virtual time when the limit was hit.
	At Time
	// Events is the number of events executed.
	Events uint64
	// Pending is the number of events still queued.
	Pending int
}

// Error says which limit was hit, when, and how much work was left.
func (e *LimitError) Error() string {
	return fmt.Sprintf("sim: %s limit hit at %v after %d events (%d still queued): the run did not settle", e.Limit, e.At, e.Events, e.Pending)
}

// ErrStopped is returned by Run when Stop was called.
var ErrStopped = errors.New("sim: stopped")

// Loop is the single-threaded discrete-event loop of a simulated run. Events
// run in (virtual time, insertion sequence) order, so events scheduled for
// the same time run first-in first-out. Nothing else decides order.
type Loop struct {
	now     Time
	seq     uint64
	events  uint64
	limits  Limits
	queue   Queue[func()]
	stopped bool
	trace   Hash
}

// NewLoop returns an empty loop at time 0 bounded by lim.
func NewLoop(lim Limits) (*Loop, error) {
	if err := lim.Validate(); err != nil {
		return nil, err
	}
	return &Loop{limits: lim, queue: NewQueue[func()](1024), trace: NewHash()}, nil
}

// Now returns the current virtual time.
func (l *Loop) Now() Time { return l.now }

// Events returns how many events have run.
func (l *Loop) Events() uint64 { return l.events }

// Pending returns how many events are queued.
func (l *Loop) Pending() int { return l.queue.Len() }

// Limits returns the loop's limits.
func (l *Loop) Limits() Limits { return l.limits }

// Trace returns the run's trace hash, which components feed as they observe.
func (l *Loop) Trace() *Hash { return &l.trace }

// At schedules fn to run at virtual time t. A time before Now runs at Now,
// after the events already queued for Now.
func (l *Loop) At(t Time, fn func()) {
	if t < l.now {
		t = l.now
	}
	l.seq++
	l.queue.Push(t, l.seq, fn)
}

// After schedules fn to run d after Now; a negative d counts as 0.
func (l *Loop) After(d time.Duration, fn func()) {
	if d < 0 {
		d = 0
	}
	l.At(l.now.Add(d), fn)
}

// Slot is a place in the loop's event order, taken with Reserve and filled
// with AtSlot: the event runs exactly where one scheduled with At at the
// time of the Reserve would have. A component with many timers that come
// due in the order it set them (a client's request timeouts) keeps only
// the first in the queue, and leaves out those that no longer matter,
// without changing the order of anything that runs.
type Slot struct {
	at  Time
	seq uint64
}

// Reserve takes the slot an event scheduled now with At(t, ...) would
// have: time t (Now if earlier), after everything scheduled so far.
func (l *Loop) Reserve(t Time) Slot {
	if t < l.now {
		t = l.now
	}
	l.seq++
	return Slot{at: t, seq: l.seq}
}

// AtSlot schedules fn in slot s, taken with Reserve and filled at most
// once. A slot whose time has passed runs at Now, before the events queued
// for Now after it was taken.
func (l *Loop) AtSlot(s Slot, fn func()) {
	l.queue.Push(max(s.at, l.now), s.seq, fn)
}

// Stop makes Run and RunUntil return ErrStopped before the next event.
func (l *Loop) Stop() { l.stopped = true }

// Step runs the next event, if any, and reports whether one ran. It ignores
// the limits; Run and RunUntil enforce them.
func (l *Loop) Step() bool {
	if l.queue.Len() == 0 {
		return false
	}
	at, fn := l.queue.Pop()
	l.now = at
	l.events++
	fn()
	return true
}

// Run executes events until the queue is empty. It returns a *LimitError if
// a limit is hit first and ErrStopped if Stop was called.
func (l *Loop) Run() error { return l.run(Never) }

// RunUntil executes every event at or before t, then advances Now to t. It
// returns a *LimitError if a limit is hit first and ErrStopped if Stop was
// called.
func (l *Loop) RunUntil(t Time) error {
	if err := l.run(t); err != nil {
		return err
	}
	if t > l.now {
		if t > l.limits.Horizon {
			return l.limitErr("horizon", l.limits.Horizon)
		}
		l.now = t
	}
	return nil
}

func (l *Loop) run(until Time) error {
	l.stopped = false
	yield := runtime.GOMAXPROCS(0) == 1
	for l.queue.Len() > 0 {
		if l.stopped {
			return ErrStopped
		}
		next, _ := l.queue.Peek()
		if next > until {
			return nil
		}
		if next > l.limits.Horizon {
			return l.limitErr("horizon", l.limits.Horizon)
		}
		if l.events >= l.limits.MaxEvents {
			return l.limitErr("max-events", l.now)
		}
		at, fn := l.queue.Pop()
		l.now = at
		l.events++
		if yield && l.events%yieldEvery == 0 {
			runtime.Gosched()
		}
		fn()
	}
	if l.stopped {
		return ErrStopped
	}
	return nil
}

func (l *Loop) limitErr(which string, at Time) error {
	return &LimitError{Limit: which, At: at, Events: l.events, Pending: l.queue.Len()}
}

// yieldEvery is how many events the loop runs between yields of its
// processor (runtime.Gosched) when GOMAXPROCS is 1. A run never blocks,
// so with one processor the runtime's garbage-collection worker would
// otherwise wait for a forced preemption, about 10ms, with the
// collector's write barriers on all that time; yielding lets it finish
// its short mark phase (docs/performance.md: the standard run is ~15%
// faster). With more processors the worker has its own, and a yield
// costs a move between them, so the loop does not yield. Yielding cannot
// change the run: the loop is the run's only goroutine.
const yieldEvery = 256
