package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// segment maps the virtual times [t0, t1] linearly onto the pixels
// [x0, x1].
type segment struct {
	t0, t1 sim.Time
	x0, x1 float64
}

// axis is a piecewise-linear time axis: the workload phase, and, when the
// settle phase separates them by a long quiet stretch, the final reads in a
// narrower segment of their own (the break between them is drawn).
type axis struct {
	segs []segment
}

// newAxis lays out [0, workEnd] and, if finalStart > workEnd, the final
// reads [finalStart, finalEnd] between x0 and x1. A final segment is split
// off only when the quiet stretch before it is long compared with the
// workload; otherwise one segment covers everything.
func newAxis(workEnd, finalStart, finalEnd sim.Time, x0, x1 float64) axis {
	workEnd = max(workEnd, 1)
	if finalEnd <= finalStart || finalStart <= workEnd || finalStart-workEnd < workEnd/4 {
		end := max(workEnd, finalEnd)
		return axis{segs: []segment{{0, end, x0, x1}}}
	}
	finalEnd = max(finalEnd, finalStart+1)
	gap := (x1 - x0) * 0.029
	w := x1 - x0 - gap
	split := x0 + w*0.84
	return axis{segs: []segment{
		{0, workEnd, x0, split},
		{finalStart, finalEnd, split + gap, x1},
	}}
}

// x returns the pixel of time t. Times between two segments map to the
// middle of the break; times beyond the ends clamp.
func (a axis) x(t sim.Time) float64 {
	for i, s := range a.segs {
		if t <= s.t1 {
			if t < s.t0 {
				if i == 0 {
					return s.x0
				}
				return (a.segs[i-1].x1 + s.x0) / 2
			}
			return s.x0 + float64(t-s.t0)/float64(s.t1-s.t0)*(s.x1-s.x0)
		}
	}
	return a.segs[len(a.segs)-1].x1
}

// workEnd returns the pixel of the workload segment's end (where operations
// that never completed are drawn to).
func (a axis) workEnd() float64 { return a.segs[0].x1 }

// tick is one labelled mark on the axis.
type tick struct {
	x     float64
	label string
}

// ticks returns nicely spaced marks for every segment, about one per
// spacing pixels. A segment after the first (the final reads) is labelled
// with its start time, then offsets from it ("+2ms").
func (a axis) ticks(spacing float64) []tick {
	var out []tick
	for i, s := range a.segs {
		n := max(1, int((s.x1-s.x0)/spacing))
		if i > 0 {
			n = max(2, int((s.x1-s.x0)/(spacing/2)))
		}
		step := niceStep(time.Duration(s.t1-s.t0) / time.Duration(n))
		if i == 0 {
			for t := sim.Time(0); t <= s.t1; t += sim.Time(step) {
				out = append(out, tick{a.x(t), fmtDur(time.Duration(t))})
			}
			continue
		}
		out = append(out, tick{s.x0, fmtDur(time.Duration(s.t0))})
		for d := step; s.t0.Add(d) <= s.t1; d += step {
			if x := a.x(s.t0.Add(d)); x-s.x0 >= spacing/3 {
				out = append(out, tick{x, "+" + fmtDur(d)})
			}
		}
	}
	return out
}

// niceStep rounds d up to 1, 2 or 5 times a power of ten nanoseconds.
func niceStep(d time.Duration) time.Duration {
	if d < 1 {
		return 1
	}
	p := time.Duration(1)
	for p*10 <= d {
		p *= 10
	}
	for _, m := range []time.Duration{1, 2, 5, 10} {
		if p*m >= d {
			return p * m
		}
	}
	return p * 10
}

// fmtDur formats a duration compactly with at most four significant
// digits: "0", "250µs", "1.5ms", "2.344s".
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	switch {
	case d < time.Microsecond && d > -time.Microsecond:
		return d.String()
	case d < time.Millisecond && d > -time.Millisecond:
		return trimFloat(float64(d)/1e3) + "µs"
	case d < time.Second && d > -time.Second:
		return trimFloat(float64(d)/1e6) + "ms"
	}
	return trimFloat(float64(d)/1e9) + "s"
}

// trimFloat prints v with four significant digits and no trailing zeros.
func trimFloat(v float64) string {
	digits := max(0, 3-int(math.Floor(math.Log10(math.Abs(v)))))
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
