package sim

import (
	"math/rand/v2"
)

// RNG is one seeded random stream. Streams are forked by name from a root
// seed, so a new draw in one component never shifts the draws of another.
// An RNG is not safe for concurrent use; a simulated run has one goroutine.
type RNG struct {
	seed uint64
	pcg  rand.PCG
}

// NewRNG returns the root stream for a run seed. Every seed, including 0, is
// an ordinary seed.
func NewRNG(seed uint64) *RNG {
	r := &RNG{seed: seed}
	r.pcg.Seed(splitmix(seed), splitmix(seed^0x9e3779b97f4a7c15))
	return r
}

// Seed returns the seed this stream was derived from (for a forked stream,
// the derived seed, not the run seed).
func (r *RNG) Seed() uint64 { return r.seed }

// Fork returns the child stream named name. The child depends only on this
// stream's seed and the name, never on how many values were drawn here, so
// Fork("net") is the same stream whenever it is taken. Forking the same name
// twice yields two identical streams: give each consumer its own name, e.g.
// "node/3".
func (r *RNG) Fork(name string) *RNG {
	h := uint64(fnvOffset)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= fnvPrime
	}
	return NewRNG(splitmix(r.seed) ^ splitmix(h+0x632be59bd9b4e019))
}

// Uint64 returns a uniformly distributed 64-bit value.
func (r *RNG) Uint64() uint64 { return r.pcg.Uint64() }

// Uint64N returns a uniform value in [0, n). It returns 0 when n is 0.
func (r *RNG) Uint64N(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	// Lemire's nearly-divisionless method, as math/rand/v2 does, written out
	// so the stream is defined by this file alone.
	hi, lo := mul64(r.pcg.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = mul64(r.pcg.Uint64(), n)
		}
	}
	return hi
}

// IntN returns a uniform int in [0, n). It returns 0 when n <= 0.
func (r *RNG) IntN(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.Uint64N(uint64(n)))
}

// Int64Range returns a uniform value in [lo, hi]. It returns lo when hi <= lo.
func (r *RNG) Int64Range(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(r.Uint64N(uint64(hi-lo)+1))
}

// Float64 returns a uniform float64 in [0, 1) built from 53 random bits.
func (r *RNG) Float64() float64 {
	return float64(r.pcg.Uint64()>>11) * (1.0 / (1 << 53))
}

// Chance reports true with probability p. Probability 0 and 1 consume no
// draw, so switching a fault off does not shift the stream's later draws.
func (r *RNG) Chance(p Prob) bool {
	if p.num == 0 {
		return false
	}
	if p.num >= p.den {
		return true
	}
	return r.Uint64N(p.den) < p.num
}

// Shuffle pseudo-randomly permutes n elements using swap (Fisher-Yates).
func (r *RNG) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		swap(i, j)
	}
}

func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t & mask32
	w2 := t >> 32
	w1 += a0 * b1
	hi = a1*b1 + w2 + w1>>32
	lo = a * b
	return
}

// splitmix is the SplitMix64 finaliser: a bijective 64-bit mixer.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
