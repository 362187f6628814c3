package ring

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

// equalNodes returns n members with ids 1..n and weight 1.
func equalNodes(n int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = Member{ID: sim.NodeID(i + 1), Weight: 1}
	}
	return ms
}

func mustNew(t testing.TB, cfg Config, ms ...Member) *Ring {
	t.Helper()
	r, err := New(cfg, ms...)
	require.NoError(t, err)
	return r
}

func TestNewRejectsBadInput(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		members []Member
		want    error
	}{
		{"zero vnodes", Config{VNodes: 0}, equalNodes(2), ErrBadConfig},
		{"negative vnodes", Config{VNodes: -3}, equalNodes(2), ErrBadConfig},
		{"negative shards", Config{Shards: -1}, equalNodes(2), ErrBadConfig},
		{"too many shards", Config{Shards: MaxShards + 1}, equalNodes(2), ErrBadConfig},
		{"vnodes and shards", Config{VNodes: 10, Shards: 64}, equalNodes(2), ErrBadConfig},
		{"zero weight", Config{VNodes: 10}, []Member{{ID: 1, Weight: 0}}, ErrBadWeight},
		{"negative weight", Config{VNodes: 10}, []Member{{ID: 1, Weight: -1}}, ErrBadWeight},
		{"huge weight", Config{VNodes: 10}, []Member{{ID: 1, Weight: MaxWeight + 1}}, ErrBadWeight},
		{"duplicate id", Config{VNodes: 10}, []Member{{ID: 4, Weight: 1}, {ID: 2, Weight: 1}, {ID: 4, Weight: 2}}, ErrDuplicateNode},
		{"too many tokens", Config{VNodes: MaxTokens / 2}, equalNodes(3), ErrTooManyTokens},
		{"too few shards", Config{Shards: 4}, equalNodes(5), ErrTooFewShards},
		{"too few shards by weight", Config{Shards: 4}, []Member{{ID: 1, Weight: 3}, {ID: 2, Weight: 2}}, ErrTooFewShards},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := New(c.cfg, c.members...)
			require.ErrorIs(t, err, c.want)
			assert.Nil(t, r)
			assert.NotEmpty(t, err.Error())
		})
	}
}

func TestUpdatesRejectBadInput(t *testing.T) {
	for _, cfg := range []Config{{VNodes: 8}, {Shards: 6}} {
		r := mustNew(t, cfg, equalNodes(3)...)
		_, err := r.Add(Member{ID: 2, Weight: 1})
		require.ErrorIs(t, err, ErrDuplicateNode)
		_, err = r.Add(Member{ID: 9, Weight: 0})
		require.ErrorIs(t, err, ErrBadWeight)
		_, err = r.Remove(9)
		require.ErrorIs(t, err, ErrUnknownNode)
		_, err = r.SetWeight(9, 2)
		require.ErrorIs(t, err, ErrUnknownNode)
		_, err = r.SetWeight(2, 0)
		require.ErrorIs(t, err, ErrBadWeight)
		if cfg.Shards > 0 {
			_, err = r.SetWeight(2, 5)
			require.ErrorIs(t, err, ErrTooFewShards)
			_, err = r.Add(Member{ID: 9, Weight: 4})
			require.ErrorIs(t, err, ErrTooFewShards)
		}
		assert.Equal(t, []sim.NodeID{1, 2, 3}, r.Nodes(), "failed updates leave the ring untouched")
	}
	var zero Ring
	_, err := zero.Add(Member{ID: 1, Weight: 1})
	require.ErrorIs(t, err, ErrBadConfig)
	var nilRing *Ring
	_, err = nilRing.Add(Member{ID: 1, Weight: 1})
	require.ErrorIs(t, err, ErrBadConfig)
}

func TestEmptyRingLookupsFail(t *testing.T) {
	empty := mustNew(t, Config{VNodes: 10})
	emptied, err := mustNew(t, Config{Shards: 8}, equalNodes(1)...).Remove(1)
	require.NoError(t, err)
	var zero Ring
	for name, r := range map[string]*Ring{"new": empty, "emptied": emptied, "zero": &zero, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Owner("k")
			require.ErrorIs(t, err, ErrEmptyRing)
			_, err = r.OwnerHash(7)
			require.ErrorIs(t, err, ErrEmptyRing)
			_, err = r.PreferenceList("k", 1, nil)
			require.ErrorIs(t, err, ErrEmptyRing)
			_, err = r.Fallbacks("k", 1, 1, nil)
			require.ErrorIs(t, err, ErrEmptyRing)
			_, err = r.Ranges(1)
			require.ErrorIs(t, err, ErrEmptyRing)
			assert.Equal(t, -1, r.RangeIndex(3))
			assert.Empty(t, r.Nodes())
			assert.False(t, r.Contains(1))
			assert.Zero(t, r.Tokens())
		})
	}
	_, err = Diff(empty, mustNew(t, Config{VNodes: 10}, equalNodes(2)...), 1)
	require.ErrorIs(t, err, ErrEmptyRing)
}

func TestReplicaCountErrors(t *testing.T) {
	for _, cfg := range []Config{{VNodes: 8}, {Shards: 16}} {
		r := mustNew(t, cfg, equalNodes(3)...)
		for _, n := range []int{0, -1, 4} {
			_, err := r.PreferenceList("k", n, nil)
			require.ErrorIs(t, err, ErrBadReplicas, "n=%d", n)
			_, err = r.Fallbacks("k", n, 1, nil)
			require.ErrorIs(t, err, ErrBadReplicas, "n=%d", n)
			_, err = r.Ranges(n)
			require.ErrorIs(t, err, ErrBadReplicas, "n=%d", n)
			_, err = Diff(r, r, n)
			require.ErrorIs(t, err, ErrBadReplicas, "n=%d", n)
		}
		_, err := r.Fallbacks("k", 1, -1, nil)
		require.ErrorIs(t, err, ErrBadReplicas)
		pl, err := r.PreferenceList("k", 3, nil)
		require.NoError(t, err)
		assert.ElementsMatch(t, []sim.NodeID{1, 2, 3}, pl)
	}
}

func TestMembershipAccessors(t *testing.T) {
	r := mustNew(t, Config{Seed: 3, VNodes: 4}, Member{ID: 30, Weight: 2}, Member{ID: 10, Weight: 1}, Member{ID: 20, Weight: 3})
	assert.Equal(t, []sim.NodeID{10, 20, 30}, r.Nodes())
	assert.Equal(t, []Member{{10, 1}, {20, 3}, {30, 2}}, r.Members())
	assert.True(t, r.Contains(20))
	assert.False(t, r.Contains(25))
	assert.Equal(t, 3, r.Weight(20))
	assert.Zero(t, r.Weight(25))
	assert.Equal(t, 3, r.Len())
	assert.Equal(t, 24, r.Tokens())
	assert.Equal(t, Config{Seed: 3, VNodes: 4}, r.Config())
	sum := 0.0
	for _, s := range r.Shares() {
		sum += s
	}
	assert.InDelta(t, 1, sum, 1e-9)
}

func TestSingleNodeOwnsEverything(t *testing.T) {
	for _, cfg := range []Config{{VNodes: 1}, {VNodes: 5}, {Shards: 1}, {Shards: 7}} {
		r := mustNew(t, cfg, Member{ID: 42, Weight: 1})
		for _, k := range []string{"", "a", "zzz"} {
			o, err := r.Owner(k)
			require.NoError(t, err)
			assert.Equal(t, sim.NodeID(42), o)
		}
		rs, err := r.Ranges(1)
		require.NoError(t, err)
		total := 0.0
		for _, g := range rs {
			assert.True(t, g.Contains(g.End))
			total += float64(g.End - g.Start)
		}
		if len(rs) == 1 {
			assert.Equal(t, rs[0].Start, rs[0].End, "one token: the range is the whole ring")
			assert.True(t, rs[0].Contains(0) && rs[0].Contains(math.MaxUint64))
		}
		assert.Equal(t, []float64{1}, r.Shares())
	}
}

func TestTokenHashIsFixedWidth(t *testing.T) {
	// The string labels "node-1"+"10" and "node-11"+"0" collide; the
	// fixed-width encoding of (id, index) cannot.
	assert.NotEqual(t, TokenHash(0, 1, 10), TokenHash(0, 11, 0))
	assert.NotEqual(t, TokenHash(0, 1, 0), TokenHash(1, 1, 0), "the seed moves tokens")
	assert.NotEqual(t, TokenHash(0, 1<<16, 0), TokenHash(0, 0, 1))
	assert.Equal(t, TokenHash(9, 5, 5), TokenHash(9, 5, 5))
}

func TestSeedMovesTokens(t *testing.T) {
	a := mustNew(t, Config{Seed: 1, VNodes: 16}, equalNodes(4)...)
	b := mustNew(t, Config{Seed: 2, VNodes: 16}, equalNodes(4)...)
	assert.NotEqual(t, a.tokens, b.tokens)
	rev := equalNodes(4)
	slices.Reverse(rev)
	c := mustNew(t, Config{Seed: 1, VNodes: 16}, rev...)
	assert.Equal(t, a.tokens, c.tokens, "member order passed to New does not matter")
	assert.Equal(t, a.owners, c.owners)
}

// coarse places every token of every node on a grid of 8 positions, so
// tokens of different nodes (and of one node) collide.
func coarse(seed uint64, id sim.NodeID, index uint32) uint64 {
	return (TokenHash(seed, id, index) % 8) << 60
}

func TestCollisionsGoToTheLowestID(t *testing.T) {
	ms := []Member{{ID: 7, Weight: 1}, {ID: 3, Weight: 2}, {ID: 5, Weight: 1}}
	r, err := buildVNodes(Config{VNodes: 6}, sortedMembers(ms), coarse)
	require.NoError(t, err)
	require.NotEmpty(t, r.hidden, "the coarse placer must produce collisions")
	assert.True(t, slices.IsSorted(r.tokens))
	assert.Len(t, slices.Compact(slices.Clone(r.tokens)), len(r.tokens), "owning tokens are distinct")
	all := make([]placed, 0)
	for _, m := range r.members {
		all = memberTokens(all, r.cfg, m, coarse)
	}
	for i, tok := range r.tokens {
		lowest := sim.NodeID(math.MaxUint32)
		for _, p := range all {
			if p.token == tok && p.owner < lowest {
				lowest = p.owner
			}
		}
		assert.Equal(t, lowest, r.owners[i], "token %x", tok)
	}
	// Incremental updates over hidden tokens agree with rebuilding.
	for _, id := range []sim.NodeID{3, 5, 7} {
		got, err := r.Remove(id)
		require.NoError(t, err)
		want, err := buildVNodes(r.cfg, got.members, coarse)
		require.NoError(t, err)
		assertSameRing(t, want, got)
		back, err := got.Add(Member{ID: id, Weight: r.Weight(id)})
		require.NoError(t, err)
		assertSameRing(t, r, back)
	}
	// Adding into a collision-free ring that then collides rebuilds too.
	one, err := buildVNodes(Config{VNodes: 1}, []Member{{ID: 1, Weight: 1}}, coarse)
	require.NoError(t, err)
	for id := sim.NodeID(2); id < 40; id++ {
		next, err := one.Add(Member{ID: id, Weight: 1})
		require.NoError(t, err)
		want, err := buildVNodes(one.cfg, next.members, coarse)
		require.NoError(t, err)
		assertSameRing(t, want, next)
		one = next
	}
	require.NotEmpty(t, one.hidden)
	assert.Less(t, one.owning, one.Len(), "nodes whose every token is hidden own nothing")
	_, err = one.PreferenceList("k", one.Len(), nil)
	require.ErrorIs(t, err, ErrBadReplicas, "n counts owning nodes only")
	pl, err := one.PreferenceList("k", one.owning, nil)
	require.NoError(t, err)
	assert.Len(t, pl, one.owning)
}

func sortedMembers(ms []Member) []Member {
	out := slices.Clone(ms)
	slices.SortFunc(out, func(a, b Member) int { return cmpID(a.ID, b.ID) })
	return out
}

// helperT is what assertSameRing needs from *testing.T and *rapid.T.
type helperT interface {
	require.TestingT
	Helper()
}

func assertSameRing(t helperT, want, got *Ring) {
	t.Helper()
	require.Equal(t, want.members, got.members)
	require.Equal(t, want.tokens, got.tokens)
	require.Equal(t, want.owners, got.owners)
	require.Equal(t, want.prefix, got.prefix)
	require.Equal(t, want.hidden, got.hidden)
	require.Equal(t, want.owning, got.owning)
	require.Equal(t, want.weight, got.weight)
}

func TestUpdatesLeaveTheOldRingUntouched(t *testing.T) {
	for _, cfg := range []Config{{Seed: 4, VNodes: 20}, {Seed: 4, Shards: 64}} {
		r := mustNew(t, cfg, equalNodes(5)...)
		tokens, owners, prefix := slices.Clone(r.tokens), slices.Clone(r.owners), slices.Clone(r.prefix)
		a, err := r.Add(Member{ID: 9, Weight: 2})
		require.NoError(t, err)
		b, err := r.Remove(2)
		require.NoError(t, err)
		c, err := r.SetWeight(3, 3)
		require.NoError(t, err)
		assert.Equal(t, tokens, r.tokens)
		assert.Equal(t, owners, r.owners)
		assert.Equal(t, prefix, r.prefix)
		assert.Equal(t, []sim.NodeID{1, 2, 3, 4, 5}, r.Nodes())
		assert.True(t, a.Contains(9))
		assert.False(t, b.Contains(2))
		assert.Equal(t, 3, c.Weight(3))
		assert.Equal(t, 1, r.Weight(3))
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	r := mustNew(t, Config{Seed: 1, VNodes: 150}, equalNodes(10)...)
	buf := make([]sim.NodeID, 0, 8)
	keys := []string{"a", "user:42", "some longer key for hashing"}
	allocs := testing.AllocsPerRun(200, func() {
		for _, k := range keys {
			_, _ = r.Owner(k)
			buf, _ = r.PreferenceList(k, 3, buf)
			buf, _ = r.Fallbacks(k, 3, 2, buf)
		}
	})
	assert.Zero(t, allocs)
}

func TestFallbacksAreTheNextDistinctNodes(t *testing.T) {
	for _, cfg := range []Config{{Seed: 2, VNodes: 30}, {Seed: 2, Shards: 40}} {
		r := mustNew(t, cfg, equalNodes(6)...)
		for i := range 100 {
			k := fmt.Sprint("key-", i)
			all, err := r.PreferenceList(k, 6, nil)
			require.NoError(t, err)
			fb, err := r.Fallbacks(k, 3, 2, make([]sim.NodeID, 0, 1))
			require.NoError(t, err)
			assert.Equal(t, all[3:5], fb)
			fb, err = r.Fallbacks(k, 3, 10, nil)
			require.NoError(t, err)
			assert.Equal(t, all[3:], fb, "fewer fallbacks when the ring has fewer nodes")
			fb, err = r.Fallbacks(k, 6, 1, nil)
			require.NoError(t, err)
			assert.Empty(t, fb)
		}
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	all := []error{ErrEmptyRing, ErrBadConfig, ErrBadWeight, ErrDuplicateNode, ErrUnknownNode, ErrBadReplicas, ErrTooManyTokens, ErrTooFewShards}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b))
		}
	}
}
