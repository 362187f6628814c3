package sim

import (
	"fmt"
	"math"
)

// Prob is an exact-ratio probability num/den. The zero value is probability
// 0. Draws compare a uniform integer in [0, den) with num, so 1/3 is exactly
// one in three, with no floating-point rounding.
type Prob struct {
	num, den uint64
}

// probFloatDen is the denominator used to convert float probabilities.
const probFloatDen = 1 << 53

// Ratio returns the probability num/den. It is an error unless den > 0 and
// num <= den.
func Ratio(num, den uint64) (Prob, error) {
	if den == 0 {
		return Prob{}, fmt.Errorf("probability %d/%d: denominator must be > 0", num, den)
	}
	if num > den {
		return Prob{}, fmt.Errorf("probability %d/%d: must lie in [0,1]", num, den)
	}
	return Prob{num: num, den: den}, nil
}

// P converts a float probability in [0,1] to a Prob, rounding to the nearest
// multiple of 2^-53. NaN and values outside [0,1] are an error.
func P(f float64) (Prob, error) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		return Prob{}, fmt.Errorf("probability %v: must lie in [0,1]", f)
	}
	return Prob{num: uint64(math.Round(f * probFloatDen)), den: probFloatDen}, nil
}

// Never0 and Always1 are the probabilities 0 and 1.
var (
	Never0  = Prob{num: 0, den: 1}
	Always1 = Prob{num: 1, den: 1}
)

// Float64 returns p as a float64.
func (p Prob) Float64() float64 {
	if p.den == 0 {
		return 0
	}
	return float64(p.num) / float64(p.den)
}

// IsZero reports whether p is probability 0.
func (p Prob) IsZero() bool { return p.num == 0 }

// String formats p as "num/den", or as a decimal for converted floats.
func (p Prob) String() string {
	if p.den == 0 || p.num == 0 {
		return "0"
	}
	if p.den == probFloatDen {
		return fmt.Sprintf("%g", p.Float64())
	}
	return fmt.Sprintf("%d/%d", p.num, p.den)
}
