package kv

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

// genClock draws a valid clock over nodes 1..4 with small counters, so
// equal and comparable clocks are common.
func genClock() *rapid.Generator[VClock] {
	return rapid.Custom(func(t *rapid.T) VClock {
		var c VClock
		for node := sim.NodeID(1); node <= 4; node++ {
			if ctr := rapid.Uint64Range(0, 3).Draw(t, "ctr"); ctr > 0 {
				c = append(c, ClockEntry{Node: node, Counter: ctr})
			}
		}
		return c
	})
}

func TestVClockDescendsIsAPartialOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genClock().Draw(t, "a"), genClock().Draw(t, "b"), genClock().Draw(t, "c")
		assert.True(t, a.Descends(a), "reflexive")
		assert.True(t, a.Descends(nil), "everything descends the empty clock")
		if a.Descends(b) && b.Descends(a) {
			assert.True(t, a.Equal(b), "antisymmetric: %v %v", a, b)
		}
		if a.Descends(b) && b.Descends(c) {
			assert.True(t, a.Descends(c), "transitive: %v %v %v", a, b, c)
		}
	})
}

func TestVClockConcurrentIsSymmetricAndIrreflexive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genClock().Draw(t, "a"), genClock().Draw(t, "b")
		assert.Equal(t, Concurrent(a, b), Concurrent(b, a))
		assert.False(t, Concurrent(a, a))
		// Exactly one of: a<b, a>b, a==b, concurrent.
		n := 0
		for _, ok := range []bool{a.Equal(b), a.Descends(b) && !a.Equal(b), b.Descends(a) && !a.Equal(b), Concurrent(a, b)} {
			if ok {
				n++
			}
		}
		assert.Equal(t, 1, n, "%v vs %v", a, b)
	})
}

func TestVClockMergeIsALeastUpperBound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genClock().Draw(t, "a"), genClock().Draw(t, "b"), genClock().Draw(t, "c")
		ab := a.Merge(b)
		require.NoError(t, ab.Validate())
		assert.True(t, ab.Equal(b.Merge(a)), "commutative")
		assert.True(t, ab.Merge(c).Equal(a.Merge(b.Merge(c))), "associative")
		assert.True(t, a.Merge(a).Equal(a), "idempotent")
		assert.True(t, ab.Descends(a) && ab.Descends(b), "dominates both")
		if c.Descends(a) && c.Descends(b) {
			assert.True(t, c.Descends(ab), "least: %v is above %v and %v but not above their merge %v", c, a, b, ab)
		}
	})
}

func TestVClockMergeDoesNotAlias(t *testing.T) {
	a := VClock{{Node: 1, Counter: 1}}
	b := VClock{{Node: 2, Counter: 1}}
	m := a.Merge(b)
	m[0].Counter = 9
	assert.Equal(t, uint64(1), a[0].Counter)
}

// Actors are (node, incarnation): a clock that saw a node's dots of a
// later incarnation has not seen its earlier, possibly forgotten, ones.
func TestVClockIncarnationsAreSeparateActors(t *testing.T) {
	old := Dot{Node: 1, Counter: 1<<32 | 7}
	newer := Dot{Node: 1, Counter: 2<<32 | 1}
	c := VClock(nil).WithDot(newer)
	assert.False(t, c.CoversDot(old), "%v must not cover %v", c, old)
	assert.True(t, c.CoversDot(newer))
	both := c.WithDot(old)
	require.NoError(t, both.Validate())
	assert.Len(t, both, 2)
	assert.True(t, both.CoversDot(Dot{Node: 1, Counter: 1<<32 | 3}))
	assert.True(t, Concurrent(VClock(nil).WithDot(old), c))
	assert.Equal(t, "{n1:1.7 n1:2.1}", both.String())
}

func TestVClockValidateRejectsBadClocks(t *testing.T) {
	require.NoError(t, VClock(nil).Validate())
	assert.ErrorContains(t, VClock{{Node: 2, Counter: 1}, {Node: 1, Counter: 1}}.Validate(), "not strictly sorted")
	assert.ErrorContains(t, VClock{{Node: 1, Counter: 1}, {Node: 1, Counter: 2}}.Validate(), "not strictly sorted")
	assert.ErrorContains(t, VClock{{Node: 1, Counter: 0}}.Validate(), "counter 0")
}

// genHistory draws a causally valid write history as the node produces
// it: each write gets a fresh dot from one of three coordinating replicas
// and a context that is the join of the clocks of a replica state its
// client read. Replica states are closed under the coordinator invariant
// (a coordinator sends its earlier versions of the key with every new
// one), so a state holding dot n:c also holds n's earlier dots.
func genHistory(t *rapid.T) []Version {
	var hist []Version
	ctr := map[sim.NodeID]uint64{}
	for i := rapid.IntRange(1, 8).Draw(t, "writes"); i > 0; i-- {
		node := sim.NodeID(rapid.IntRange(1, 3).Draw(t, "node"))
		ctr[node]++
		saw := pick(t, hist, "saw")
		d := Dot{Node: node, Counter: ctr[node]}
		hist = append(hist, Version{Value: []byte(d.String()), Dot: d, Context: joinClocks(saw), Timestamp: int64(len(hist))})
	}
	return hist
}

// pick returns the replica state holding a random subset of hist, closed
// under the coordinator invariant.
func pick(t *rapid.T, hist []Version, label string) []Version {
	in := make([]bool, len(hist))
	for i := range hist {
		in[i] = rapid.Bool().Draw(t, label)
	}
	var vs []Version
	for i, h := range hist {
		closed := in[i]
		for j := i + 1; j < len(hist) && !closed; j++ {
			closed = in[j] && hist[j].Dot.Node == h.Dot.Node
		}
		if closed {
			vs = append(vs, h)
		}
	}
	return reconcile(VectorClock, nil, vs)
}

func dots(vs []Version) []Dot {
	out := make([]Dot, len(vs))
	for i, v := range vs {
		out[i] = v.Dot
	}
	return out
}

// The replica merge is a join: replicas that exchange versions in any
// order and any number of times converge.
func TestReconcileIsCommutativeAssociativeIdempotent(t *testing.T) {
	for _, mode := range []ResolveMode{LWW, VectorClock} {
		t.Run(mode.String(), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				hist := genHistory(t)
				a, b, c := pick(t, hist, "a"), pick(t, hist, "b"), pick(t, hist, "c")
				if mode == LWW {
					a, b, c = reconcile(LWW, nil, a), reconcile(LWW, nil, b), reconcile(LWW, nil, c)
				}
				assert.Equal(t, dots(reconcile(mode, a, b)), dots(reconcile(mode, b, a)), "commutative")
				assert.Equal(t, dots(reconcile(mode, reconcile(mode, a, b), c)), dots(reconcile(mode, a, reconcile(mode, b, c))), "associative")
				assert.Equal(t, dots(a), dots(reconcile(mode, a, a)), "idempotent")
				ab := reconcile(mode, a, b)
				assert.True(t, covers(mode, ab, a) && covers(mode, ab, b), "the merge holds both inputs")
			})
		})
	}
}

// A write supersedes exactly the versions its context covers, and keeps
// every other version as a sibling. (That a context covers only what its
// client saw is the node-level property TestVectorClocksLoseNoAcknowledgedElement.)
func TestContextSupersedesExactlyWhatItCovers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stored := pick(t, genHistory(t), "stored")
		seen := rapid.SliceOfDistinct(rapid.IntRange(0, max(0, len(stored)-1)), rapid.ID[int]).Draw(t, "seen")
		var saw []Version
		for _, i := range seen {
			if i < len(stored) {
				saw = append(saw, stored[i])
			}
		}
		ctx := joinClocks(saw)
		w := Version{Value: []byte("new"), Dot: Dot{Node: 9, Counter: 1}, Context: ctx}
		after := reconcile(VectorClock, stored, []Version{w})
		require.Contains(t, dots(after), w.Dot)
		for _, v := range stored {
			if ctx.CoversDot(v.Dot) {
				assert.NotContains(t, dots(after), v.Dot, "superseded %v survived", v.Dot)
			} else {
				assert.Contains(t, dots(after), v.Dot, "unseen %v was lost", v.Dot)
			}
		}
	})
}

func TestLWWKeepsGreatestTimestampThenNodeThenCounter(t *testing.T) {
	old := Version{Value: []byte("old"), Timestamp: 5, Dot: Dot{Node: 3, Counter: 9}}
	later := Version{Value: []byte("later"), Timestamp: 6, Dot: Dot{Node: 1, Counter: 1}}
	tieHigherNode := Version{Value: []byte("n2"), Timestamp: 6, Dot: Dot{Node: 2, Counter: 1}}
	assert.Equal(t, "later", string(reconcile(LWW, []Version{old}, []Version{later})[0].Value))
	assert.Equal(t, "later", string(reconcile(LWW, []Version{later}, []Version{old})[0].Value))
	assert.Equal(t, "n2", string(reconcile(LWW, []Version{tieHigherNode}, []Version{later})[0].Value))
	assert.Len(t, reconcile(LWW, []Version{old, later}, []Version{tieHigherNode}), 1)
}

func TestContextRoundTripsAndRejectsForeignOrCorrupt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genClock().Draw(t, "c")
		key := rapid.StringN(1, 20, -1).Draw(t, "key")
		b := EncodeContext(key, c)
		got, err := DecodeContext(key, b)
		require.NoError(t, err)
		assert.True(t, got.Equal(c), "%v != %v", got, c)

		_, err = DecodeContext(key+"x", b)
		require.ErrorIs(t, err, ErrBadContext)
		assert.ErrorContains(t, err, "belongs to key")

		i := rapid.IntRange(0, len(b)-1).Draw(t, "flip")
		bad := slices.Clone(b)
		bad[i] ^= 1 << rapid.IntRange(0, 7).Draw(t, "bit")
		_, err = DecodeContext(key, bad)
		require.ErrorIs(t, err, ErrBadContext, "flipped byte %d", i)

		_, err = DecodeContext(key, b[:rapid.IntRange(1, len(b)-1).Draw(t, "cut")])
		require.ErrorIs(t, err, ErrBadContext)
	})
	c, err := DecodeContext("k", nil)
	require.NoError(t, err)
	assert.Nil(t, c)
	_, err = DecodeContext("k", []byte("garbage!"))
	assert.ErrorContains(t, err, "wrong magic")
}

// Under LWW, reconcile is the greatest version of the union (the first of
// equal ones), returned without allocating as a full-capacity subslice of
// an input: appending to it never writes into the input.
func TestReconcileLWWIsTheMaxOfTheUnion(t *testing.T) {
	genVs := rapid.Custom(func(t *rapid.T) []Version {
		n := rapid.IntRange(0, 3).Draw(t, "n")
		vs := make([]Version, n)
		for i := range vs {
			vs[i] = Version{Value: []byte{byte(i)}, Timestamp: rapid.Int64Range(0, 3).Draw(t, "ts"),
				Dot: Dot{Node: sim.NodeID(rapid.IntRange(1, 3).Draw(t, "node")), Counter: 1<<32 | rapid.Uint64Range(1, 3).Draw(t, "c")}}
		}
		return vs
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b := genVs.Draw(t, "a"), genVs.Draw(t, "b")
		got := reconcile(LWW, a, b)
		if len(a)+len(b) == 0 {
			require.Nil(t, got)
			return
		}
		want := lwwMax(append(append([]Version(nil), a...), b...))
		require.Len(t, got, 1)
		require.Equal(t, want, got[0])
		require.Equal(t, 1, cap(got))
	})
}
