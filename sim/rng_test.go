package sim

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestForkIsIndependentOfParentDraws(t *testing.T) {
	a := NewRNG(42)
	b := NewRNG(42)
	for i := 0; i < 100; i++ {
		b.Uint64() // draws on the parent must not shift children
	}
	fa, fb := a.Fork("net"), b.Fork("net")
	for i := 0; i < 100; i++ {
		require.Equal(t, fa.Uint64(), fb.Uint64())
	}
	// Different names and different seeds give different streams.
	assert.NotEqual(t, a.Fork("net").Uint64(), a.Fork("nemesis").Uint64())
	assert.NotEqual(t, a.Fork("node/1").Uint64(), a.Fork("node/10").Uint64())
	assert.NotEqual(t, NewRNG(1).Fork("net").Uint64(), NewRNG(2).Fork("net").Uint64())
	// Nested forks are stable too.
	assert.Equal(t, NewRNG(7).Fork("a").Fork("b").Uint64(), NewRNG(7).Fork("a").Fork("b").Uint64())
}

// TestRNGGolden pins the stream so an accidental change to seeding, which
// would silently change every recorded seed's replay, fails loudly.
func TestRNGGolden(t *testing.T) {
	r := NewRNG(1)
	got := []uint64{r.Uint64(), r.Uint64N(1000), r.Fork("net").Uint64()}
	want := goldenRNG
	require.Equal(t, want, got, "the RNG stream changed: every recorded seed would replay differently")
}

var goldenRNG = []uint64{0xffeb7d7afcf0aba1, 0x36c, 0xfa17ef352238e375}

func TestUint64NUniformAndBounded(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Uint64Range(1, math.MaxUint64).Draw(t, "n")
		r := NewRNG(rapid.Uint64().Draw(t, "seed"))
		for i := 0; i < 20; i++ {
			require.Less(t, r.Uint64N(n), n)
		}
	})
	r := NewRNG(3)
	var counts [6]int
	const draws = 600_000
	for i := 0; i < draws; i++ {
		counts[r.Uint64N(6)]++
	}
	sd := math.Sqrt(draws * (1.0 / 6) * (5.0 / 6))
	for face, c := range counts {
		assert.InDelta(t, draws/6, c, 4*sd, "face %d", face)
	}
}

func TestChanceMatchesExactRatio(t *testing.T) {
	r := NewRNG(9)
	for _, tc := range []struct{ num, den uint64 }{{1, 3}, {1, 100}, {99, 100}, {1, 2}} {
		p, err := Ratio(tc.num, tc.den)
		require.NoError(t, err)
		const n = 200_000
		hits := 0
		for i := 0; i < n; i++ {
			if r.Chance(p) {
				hits++
			}
		}
		f := p.Float64()
		sd := math.Sqrt(n * f * (1 - f))
		assert.InDelta(t, n*f, float64(hits), 4*sd, "p=%v", p)
	}
	// 0 and 1 are exact and draw nothing.
	before := *r
	assert.False(t, r.Chance(Prob{}))
	assert.True(t, r.Chance(Always1))
	assert.Equal(t, before, *r)
}

func TestProbBadInput(t *testing.T) {
	_, err := Ratio(1, 0)
	require.ErrorContains(t, err, "denominator")
	_, err = Ratio(3, 2)
	require.ErrorContains(t, err, "[0,1]")
	for _, f := range []float64{-0.1, 1.1, math.NaN()} {
		_, err = P(f)
		require.Error(t, err, "P(%v)", f)
	}
	p, err := P(0.25)
	require.NoError(t, err)
	assert.Equal(t, 0.25, p.Float64())
	assert.Equal(t, "0.25", p.String())
	q, _ := Ratio(1, 3)
	assert.Equal(t, "1/3", q.String())
}

func TestDistributions(t *testing.T) {
	_, err := Constant(-1)
	require.Error(t, err)
	_, err = Uniform(5, 4)
	require.Error(t, err)
	_, err = Uniform(-1, 4)
	require.Error(t, err)
	_, err = Exponential(5*time.Millisecond, time.Millisecond)
	require.ErrorContains(t, err, "min <= mean")
	require.Error(t, Dist{}.Validate())

	r := NewRNG(5)
	c, _ := Constant(3 * time.Millisecond)
	assert.Equal(t, 3*time.Millisecond, c.Sample(r))
	u, _ := Uniform(time.Millisecond, 2*time.Millisecond)
	e, _ := Exponential(time.Millisecond, 3*time.Millisecond)
	require.NoError(t, u.Validate())
	require.NoError(t, e.Validate())
	const n = 100_000
	var sumU, sumE float64
	for i := 0; i < n; i++ {
		x := u.Sample(r)
		require.True(t, x >= time.Millisecond && x <= 2*time.Millisecond)
		sumU += float64(x)
		y := e.Sample(r)
		require.GreaterOrEqual(t, y, time.Millisecond, "exponential never below its minimum")
		sumE += float64(y)
	}
	// Means within 4 standard errors (uniform sd = span/sqrt(12), exp sd = mean-min).
	assert.InDelta(t, float64(u.Mean()), sumU/n, 4*float64(time.Millisecond)/math.Sqrt(12)/math.Sqrt(n))
	assert.InDelta(t, float64(e.Mean()), sumE/n, 4*float64(2*time.Millisecond)/math.Sqrt(n))
}

func TestDetLogMatchesMathLog(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Float64Range(1e-300, 1).Draw(t, "x")
		want := math.Log(x)
		got := detLog(x)
		require.InDelta(t, want, got, 1e-13*math.Max(1, math.Abs(want)), "x=%v", x)
	})
}

func TestHash(t *testing.T) {
	a, b := NewHash(), NewHash()
	a.Record("msg", 1, 2)
	b.Record("msg", 1, 2)
	assert.Equal(t, a.Sum64(), b.Sum64())
	b.Record("msg", 3)
	assert.NotEqual(t, a.Sum64(), b.Sum64())
	c := NewHash()
	c.Record("x", 2, 1)
	d := NewHash()
	d.Record("x", 1, 2)
	assert.NotEqual(t, c.Sum64(), d.Sum64(), "field order matters")
	assert.Equal(t, uint64(1), c.Records())
	e, f := NewHash(), NewHash()
	e.Record("ab")
	f.Record("ab\x00")
	assert.NotEqual(t, e.Sum64(), f.Sum64(), "a tag's length is mixed in")
	// The record mixing, pinned: changing it changes every trace hash, which
	// a change must say (docs/design.md, the determinism contract).
	g := NewHash()
	g.Record("net.deliver", 1, 2, 3)
	assert.Equal(t, uint64(0x3333f0783e659f2), g.Sum64())
	// Known FNV-64a vector: "a" -> 0xaf63dc4c8601ec8c.
	h := NewHash()
	h.WriteString("a")
	assert.Equal(t, uint64(0xaf63dc4c8601ec8c), h.Sum64())
}

// Two records that differ in one byte of the tag or in one field never
// hash the same, wherever the difference is and whatever came before.
func TestHashSeparatesOneDifference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prefix := rapid.SliceOfN(rapid.Uint64(), 0, 4).Draw(t, "before")
		tag := rapid.StringN(1, 20, -1).Draw(t, "tag")
		fields := rapid.SliceOfN(rapid.Uint64(), 1, 6).Draw(t, "fields")
		run := func(tag string, fields []uint64) uint64 {
			h := NewHash()
			h.Record("prefix", prefix...)
			h.Record(tag, fields...)
			return h.Sum64()
		}
		base := run(tag, fields)
		other := slices.Clone(fields)
		i := rapid.IntRange(0, len(other)-1).Draw(t, "field")
		other[i] ^= 1 << rapid.IntRange(0, 63).Draw(t, "bit")
		if run(tag, other) == base {
			t.Fatalf("fields %v and %v hash the same", fields, other)
		}
		b := []byte(tag)
		j := rapid.IntRange(0, len(b)-1).Draw(t, "byte")
		b[j] ^= byte(1 << rapid.IntRange(0, 7).Draw(t, "tag bit"))
		if run(string(b), fields) == base {
			t.Fatalf("tags %q and %q hash the same", tag, b)
		}
	})
}

// detLogFull is detLog without its early stop: every one of the 20 terms.
func detLogFull(x float64) float64 {
	frac, exp := math.Frexp(x)
	if frac < math.Sqrt2/2 {
		frac = float64(frac * 2)
		exp--
	}
	s := float64(frac-1) / float64(frac+1)
	s2 := float64(s * s)
	term := s
	sum := s
	for k := 3; k <= 41; k += 2 {
		term = float64(term * s2)
		sum = float64(sum + float64(term/float64(k)))
	}
	return float64(2*sum) + float64(float64(exp)*math.Ln2)
}

// detLog stops summing once a term rounds away; the result must be the
// full sum's, bit for bit, or every latency sample (and trace hash) moves.
func TestDetLogEarlyStopIsExact(t *testing.T) {
	r := NewRNG(7)
	check := func(x float64) {
		if got, want := detLog(x), detLogFull(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("detLog(%v) = %v, the full sum gives %v", x, got, want)
		}
	}
	for i := 0; i < 1_000_000; i++ {
		check(float64((r.Uint64()>>11)+1) * (1.0 / (1 << 53))) // the samples Dist draws
	}
	for _, x := range []float64{1, 0.5, math.Sqrt2 / 2, math.Nextafter(math.Sqrt2/2, 0), math.Nextafter(1, 0), 1.0 / (1 << 53), math.SmallestNonzeroFloat64} {
		check(x)
	}
	rapid.Check(t, func(t *rapid.T) { check(rapid.Float64Range(1e-300, 1).Draw(t, "x")) })
}

// An exponential sample takes math.Log's fast path only where the result
// is provably the portable one: over the draws Dist makes, and over draws
// placed where a sample sits on a nanosecond boundary (where the two
// logarithms' last bits decide the truncation), it is expExact's exactly.
func TestExpFastIsExact(t *testing.T) {
	check := func(u float64, span time.Duration) bool {
		got, ok := expFast(u, span)
		if want := expExact(u, span); ok && got != want {
			t.Fatalf("expFast(%v, %v) = %v, expExact gives %v", u, span, got, want)
		}
		return ok
	}
	r := NewRNG(11)
	fast := 0
	spans := []time.Duration{1, 999, time.Microsecond, 2 * time.Millisecond, 7 * time.Millisecond, time.Second, time.Hour}
	const draws = 300_000
	for i := 0; i < draws; i++ {
		span := spans[i%len(spans)]
		if check(float64((r.Uint64()>>11)+1)*(1.0/(1<<53)), span) || span > time.Second {
			fast++ // an hour's tolerance spans nanoseconds: exact, not counted
		}
	}
	require.Greater(t, fast, draws*999/1000, "the fast path should serve nearly every draw of a span up to a second")
	// On a boundary: u = exp(-k/span) makes the sample k ns, give or take
	// the logarithms' last bits; step u a few units in the last place.
	boundary := func(k int64, span time.Duration) {
		u := math.Exp(-float64(k) / float64(span))
		for range 8 {
			u = math.Nextafter(u, 0)
		}
		for range 16 {
			check(u, span)
			u = math.Nextafter(u, 2)
		}
	}
	for _, span := range spans[1:] {
		for k := int64(1); k < 3000; k += 7 {
			boundary(k*int64(span)/1000, span)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		span := time.Duration(rapid.Int64Range(1, int64(time.Hour)).Draw(t, "span"))
		boundary(rapid.Int64Range(0, 30*int64(span)).Draw(t, "k"), span)
		check(rapid.Float64Range(1.0/(1<<53), 1).Draw(t, "u"), span)
	})
}
