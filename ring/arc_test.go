package ring

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// A small ring has 256 positions; position p is the hash p<<56 + off, with
// one offset for every position of a draw so the order is kept. off = 2^56-1
// puts position 255 on 2^64-1, the wrap point.
const smallShift = 56

// smallContains is the brute-force definition on the small ring: walk from
// s+1 forwards to e, all 256 positions when s == e.
func smallContains(s, e, p uint8) bool {
	x := s
	for {
		x++
		if x == p {
			return true
		}
		if x == e {
			return false
		}
	}
}

// smallOverlaps reports whether the small arcs share a position. Arcs with
// ends on positions are unions of the unit arcs (k-1, k], so they share a
// hash exactly when they share a position.
func smallOverlaps(s1, e1, s2, e2 uint8) bool {
	for p := range 256 {
		if smallContains(s1, e1, uint8(p)) && smallContains(s2, e2, uint8(p)) {
			return true
		}
	}
	return false
}

func genSmall(t *rapid.T) (pos func(uint8) uint64) {
	off := rapid.SampledFrom([]uint64{0, 1<<smallShift - 1, 12345}).Draw(t, "off")
	return func(p uint8) uint64 { return uint64(p)<<smallShift + off }
}

func TestPropArcContainsMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pos := genSmall(t)
		s, e := rapid.Uint8().Draw(t, "s"), rapid.Uint8().Draw(t, "e")
		a := Arc{Start: pos(s), End: pos(e)}
		require.Equal(t, s == e, a.Full())
		for p := range 256 {
			want := smallContains(s, e, uint8(p))
			require.Equal(t, want, a.Contains(pos(uint8(p))), "%v holds position %d", a, p)
			// A hash strictly between positions p and p+1 lies in the
			// unit arc (p, p+1], so in a exactly when p+1 is.
			between := pos(uint8(p)) + rapid.Uint64Range(1, 1<<smallShift-1).Draw(t, "between")
			require.Equal(t, smallContains(s, e, uint8(p+1)), a.Contains(between), "%v holds %#x", a, between)
		}
	})
}

func TestPropArcOverlapsMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pos := genSmall(t)
		s1, e1 := rapid.Uint8().Draw(t, "s1"), rapid.Uint8().Draw(t, "e1")
		s2, e2 := rapid.Uint8().Draw(t, "s2"), rapid.Uint8().Draw(t, "e2")
		a, b := Arc{Start: pos(s1), End: pos(e1)}, Arc{Start: pos(s2), End: pos(e2)}
		want := smallOverlaps(s1, e1, s2, e2)
		require.Equal(t, want, a.Overlaps(b), "%v overlaps %v", a, b)
		require.Equal(t, want, b.Overlaps(a), "symmetric")
	})
}

// TestPropArcComplement checks arcs anywhere in the 64-bit ring: a non-full
// arc and its complement (End, Start] split the ring, and a full arc holds
// and overlaps everything.
func TestPropArcComplement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Arc{Start: rapid.Uint64().Draw(t, "start"), End: rapid.Uint64().Draw(t, "end")}
		h := rapid.OneOf(rapid.Uint64(), rapid.SampledFrom([]uint64{0, 1, ^uint64(0), a.Start, a.Start + 1, a.End, a.End + 1})).Draw(t, "h")
		require.True(t, a.Contains(a.End))
		require.True(t, a.Overlaps(a))
		if a.Full() {
			require.True(t, a.Contains(h))
			require.True(t, a.Overlaps(Arc{Start: h, End: h + 1}))
			return
		}
		c := Arc{Start: a.End, End: a.Start}
		require.False(t, a.Contains(a.Start))
		require.NotEqual(t, a.Contains(h), c.Contains(h), "%#x is in exactly one of %v and %v", h, a, c)
		require.False(t, a.Overlaps(c))
	})
}

func TestArcStringAndPromotion(t *testing.T) {
	require.Equal(t, "(0x0,0x0]", Arc{}.String())
	require.Equal(t, "(0xffffffffffffffff,0x10]", Arc{Start: ^uint64(0), End: 16}.String())
	// Range and RangeChange embed Arc: Start, End and the methods promote.
	g := Range{Arc: Arc{Start: 10, End: 20}, Token: 20, Owner: 1}
	require.True(t, g.Contains(20))
	require.False(t, g.Contains(10))
	c := RangeChange{Arc: Arc{Start: 20, End: 10}}
	require.True(t, c.Contains(5) && c.Contains(25) && !c.Contains(15))
	require.False(t, g.Overlaps(c.Arc))
	// The codec tags are the wire format of merkle requests and responses.
	at := reflect.TypeFor[Arc]()
	require.Equal(t, "s", at.Field(0).Tag.Get("codec"))
	require.Equal(t, "e", at.Field(1).Tag.Get("codec"))
}
