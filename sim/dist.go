package sim

import (
	"fmt"
	"math"
	"time"
)

// DistKind names a latency distribution family.
type DistKind uint8

// The latency distribution families.
const (
	DistConstant DistKind = iota + 1
	DistUniform
	DistExponential
)

// Dist is a latency distribution. It is a plain comparable value: build one
// with Constant, Uniform or Exponential, which validate their arguments.
// The zero Dist is invalid and samples as 0.
type Dist struct {
	Kind DistKind
	Lo   time.Duration // minimum
	Hi   time.Duration // maximum (uniform) or mean (exponential)
}

// expCap bounds an exponential sample at min + expCap*(mean-min) so a
// pathological draw cannot overflow virtual time (P(exceed) = e^-40).
const expCap = 40

// Constant returns the distribution that always yields d (d >= 0).
func Constant(d time.Duration) (Dist, error) {
	if d < 0 {
		return Dist{}, fmt.Errorf("constant latency %v: must be >= 0", d)
	}
	return Dist{Kind: DistConstant, Lo: d, Hi: d}, nil
}

// Uniform returns the uniform distribution over [min, max] (0 <= min <= max).
func Uniform(min, max time.Duration) (Dist, error) {
	if min < 0 || max < min {
		return Dist{}, fmt.Errorf("uniform latency [%v, %v]: need 0 <= min <= max", min, max)
	}
	return Dist{Kind: DistUniform, Lo: min, Hi: max}, nil
}

// Exponential returns min plus an exponential with mean (mean-min), so the
// minimum is a hard floor and the overall mean is mean (0 <= min <= mean).
// Samples are capped at min + 40*(mean-min).
func Exponential(min, mean time.Duration) (Dist, error) {
	if min < 0 || mean < min {
		return Dist{}, fmt.Errorf("exponential latency min %v mean %v: need 0 <= min <= mean", min, mean)
	}
	return Dist{Kind: DistExponential, Lo: min, Hi: mean}, nil
}

// Validate reports whether d was built by one of the constructors' rules.
func (d Dist) Validate() error {
	switch d.Kind {
	case DistConstant, DistUniform, DistExponential:
	default:
		return fmt.Errorf("latency distribution: unknown kind %d (build it with sim.Constant, sim.Uniform or sim.Exponential)", d.Kind)
	}
	if d.Lo < 0 || d.Hi < d.Lo {
		return fmt.Errorf("latency distribution %v: need 0 <= min <= max/mean", d)
	}
	return nil
}

// Min returns the smallest value d can yield.
func (d Dist) Min() time.Duration { return d.Lo }

// Mean returns the expected value of d (ignoring the exponential cap).
func (d Dist) Mean() time.Duration {
	if d.Kind == DistUniform {
		return d.Lo + (d.Hi-d.Lo)/2
	}
	return d.Hi
}

// Sample draws one value. Constant distributions consume no draw.
func (d Dist) Sample(r *RNG) time.Duration {
	switch d.Kind {
	case DistConstant:
		return d.Lo
	case DistUniform:
		return time.Duration(r.Int64Range(int64(d.Lo), int64(d.Hi)))
	case DistExponential:
		span := d.Hi - d.Lo
		if span == 0 {
			return d.Lo
		}
		// Inverse CDF with a portable logarithm: -ln(U), U in (0,1].
		u := float64((r.Uint64()>>11)+1) * (1.0 / (1 << 53))
		if ns, ok := expFast(u, span); ok {
			return d.Lo + ns
		}
		return d.Lo + expExact(u, span)
	}
	return 0
}

// expExact is the exponential sample of span for the uniform draw u: the
// definition, with the portable logarithm.
func expExact(u float64, span time.Duration) time.Duration {
	x := -detLog(u)
	if x > expCap {
		x = expCap
	}
	return time.Duration(float64(x * float64(span)))
}

// expTolerance bounds, relative to the sample, how far math.Log's
// logarithm may be from detLog's: both are within a few units in the last
// place of the true value (measured: 4, about 1e-15), so 1e-12 leaves a
// margin of a thousand.
const expTolerance = 1e-12

// expFast computes expExact's sample with the platform's math.Log, which
// is four times faster than detLog but not the same bits everywhere. A
// sample is whole nanoseconds, so the fast value is returned only when
// every value within expTolerance of it truncates to the same nanosecond
// (false otherwise, about one draw in 10^6): then expExact would return
// it too, and runs stay identical on every platform.
func expFast(u float64, span time.Duration) (time.Duration, bool) {
	x := -math.Log(u)
	if !(x <= expCap-1) { // the cap is exact's business (and NaN fails here)
		return 0, false
	}
	y := x * float64(span)
	tol := y*expTolerance + 1e-9
	lo, hi := y-tol, y+tol
	if lo < 0 {
		lo = 0
	}
	if hi >= 1<<62 || time.Duration(lo) != time.Duration(hi) {
		return 0, false
	}
	return time.Duration(hi), true
}

// String formats d, e.g. "exp(min=1ms, mean=3ms)".
func (d Dist) String() string {
	switch d.Kind {
	case DistConstant:
		return fmt.Sprintf("const(%v)", d.Lo)
	case DistUniform:
		return fmt.Sprintf("uniform(%v..%v)", d.Lo, d.Hi)
	case DistExponential:
		return fmt.Sprintf("exp(min=%v, mean=%v)", d.Lo, d.Hi)
	}
	return "invalid"
}

// detLog is a natural logarithm for x in (0, 1] computed with basic IEEE
// operations only (every product is rounded explicitly, so no fused
// multiply-add can change it), which makes latency samples identical on
// every architecture, unlike math.Log whose implementation varies.
func detLog(x float64) float64 {
	frac, exp := math.Frexp(x) // x = frac * 2^exp, frac in [0.5, 1)
	if frac < math.Sqrt2/2 {
		frac = float64(frac * 2)
		exp--
	}
	// ln(f) = 2 atanh(s), s = (f-1)/(f+1), |s| <= 0.1716.
	s := float64(frac-1) / float64(frac+1)
	s2 := float64(s * s)
	term := s
	sum := s
	for k := 3; k <= 41; k += 2 {
		term = float64(term * s2)
		next := float64(sum + float64(term/float64(k)))
		if next == sum {
			// Every later term has the same sign and is smaller, so it
			// rounds away too: stopping here changes no bit of the sum.
			break
		}
		sum = next
	}
	return float64(2*sum) + float64(float64(exp)*math.Ln2)
}
