package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// progressEvery is the longest a non-terminal progress log stays silent.
const progressEvery = 30 * time.Second

// progress reports finished seeds on w with the rate and an ETA: on a
// terminal one line rewritten in place after every seed; otherwise a line
// about every tenth of the work (and at least every progressEvery, and for
// every failing seed), so logs stay short.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	now   func() time.Time
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	now := time.Now()
	return &progress{w: w, tty: tty, start: now, last: now, now: time.Now}
}

// rateETA formats the rate of done seeds over elapsed and the time the
// remaining ones should take at that rate.
func rateETA(done, total int, elapsed time.Duration) string {
	if done == 0 || elapsed <= 0 {
		return "rate -, ETA -"
	}
	rate := float64(done) / elapsed.Seconds()
	eta := time.Duration(float64(total-done) / rate * float64(time.Second))
	return fmt.Sprintf("%.1f seeds/s, ETA %s", rate, eta.Round(time.Second))
}

func (p *progress) seed(r *seedResult, done, total int) {
	now := p.now()
	elapsed := now.Sub(p.start)
	line := fmt.Sprintf("[%d/%d] %s  %s  %s seed %d: %s", done, total, elapsed.Round(100*time.Millisecond),
		rateETA(done, total, elapsed), r.out.Scenario, r.out.Seed, r.out.Class)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if done == total {
			fmt.Fprintln(p.w)
		}
		return
	}
	step := max(1, total/10)
	if done%step == 0 || done == total || r.failing() || now.Sub(p.last) >= progressEvery {
		p.last = now
		fmt.Fprintln(p.w, line)
	}
}

// interruptSignals are the signals that stop a run gracefully.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// interrupt is the state SIGINT and SIGTERM change.
type interrupt struct {
	// stopped is set by the first signal: no new seed starts.
	stopped atomic.Bool
	// first is closed once the first signal has been acknowledged.
	first chan struct{}
}

// onInterrupt arranges for SIGINT and SIGTERM to stop a run gracefully: the
// first signal is acknowledged on stderr and then sets stopped (so the
// acknowledgement is out before any effect of it), the seeds in flight
// finish, no new seed starts, and the caller prints the summary of what
// ran. A second signal calls exit(130) at once. stop undoes the
// arrangement.
func onInterrupt(stderr io.Writer, exit func(int)) (in *interrupt, stop func()) {
	in = &interrupt{first: make(chan struct{})}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, interruptSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			fmt.Fprintf(stderr, "\nfaultline: %v: finishing the seeds in flight, then the summary (again to quit at once)\n", sig)
			in.stopped.Store(true)
			close(in.first)
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			fmt.Fprintf(stderr, "faultline: %v again: quitting without a summary\n", sig)
			exit(130)
		case <-done:
		}
	}()
	return in, func() {
		signal.Stop(ch)
		close(done)
	}
}
