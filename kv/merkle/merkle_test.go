package merkle

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/internal/tidy"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

var full = Range{}

// exchange runs a whole exchange of a (initiator) against b (responder).
func exchange(t require.TestingT, a, b *Tree) ([]Diff, Stats) {
	s := NewSession(a, 7)
	q := s.Start()
	for i := 0; ; i++ {
		require.Less(t, i, 1<<20, "exchange does not terminate")
		p, err := b.Respond(q)
		require.NoError(t, err)
		next, more, err := s.Step(p)
		require.NoError(t, err)
		if !more {
			break
		}
		q = next
	}
	require.True(t, s.Done())
	return s.Diffs(), s.Stats()
}

// wantDiffs computes the symmetric difference of two key -> version maps
// directly, sorted by key.
func wantDiffs(a, b map[string]uint64) []Diff {
	var out []Diff
	for k, va := range a {
		vb, ok := b[k]
		switch {
		case !ok:
			out = append(out, Diff{Key: k, Local: va, HasLocal: true})
		case va != vb:
			out = append(out, Diff{Key: k, Local: va, HasLocal: true, Remote: vb, HasRemote: true})
		}
	}
	for k, vb := range b {
		if _, ok := a[k]; !ok {
			out = append(out, Diff{Key: k, Remote: vb, HasRemote: true})
		}
	}
	slices.SortFunc(out, func(x, y Diff) int { return strings.Compare(x.Key, y.Key) })
	return out
}

func build(t require.TestingT, cfg Config, r Range, m map[string]uint64) *Tree {
	tr, err := New(cfg, r)
	require.NoError(t, err)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		require.NoError(t, tr.Set(k, m[k]))
	}
	return tr
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	assert.Equal(t, 4096, DefaultConfig().Leaves())
	for _, c := range []Config{
		{Depth: 0, Fanout: 16},
		{Depth: 2, Fanout: 1},
		{Depth: 2, Fanout: MaxFanout + 1},
		{Depth: 6, Fanout: 16}, // 2^24 leaves
		{Depth: 21, Fanout: 2},
		{Depth: 2, Fanout: 4, Batch: -1},
		{Depth: 2, Fanout: 4, LeafBatch: MaxBatch + 1},
	} {
		err := c.Validate()
		assert.ErrorIs(t, err, ErrBadConfig, "%+v", c)
		_, err = New(c, full)
		assert.ErrorIs(t, err, ErrBadConfig)
		_, err = NewForest(c)
		assert.ErrorIs(t, err, ErrBadConfig)
	}
	require.NoError(t, Config{Depth: 20, Fanout: 2}.Validate())
}

func TestRangeContainsAndBuckets(t *testing.T) {
	plain := Range{Start: 10, End: 20}
	assert.False(t, plain.Contains(10))
	assert.True(t, plain.Contains(11))
	assert.True(t, plain.Contains(20))
	assert.False(t, plain.Contains(21))
	wrap := Range{Start: ^uint64(0) - 5, End: 4}
	assert.True(t, wrap.Contains(^uint64(0)))
	assert.True(t, wrap.Contains(0))
	assert.True(t, wrap.Contains(4))
	assert.False(t, wrap.Contains(5))
	assert.False(t, wrap.Contains(^uint64(0)-5))
	assert.True(t, full.Contains(12345))
	assert.True(t, full.Full())
	g := ring.Range{Arc: Range{Start: 3, End: 9}, Owner: 1}
	assert.Equal(t, "(0x3,0x9]", g.Arc.String(), "a ring range's Arc is the Range of its tree")

	// Buckets cut a range into equal sub-arcs in hash order.
	assert.Equal(t, 0, bucket(plain, 11, 10))
	assert.Equal(t, 9, bucket(plain, 20, 10))
	assert.Equal(t, 4, bucket(plain, 15, 10))
	assert.Equal(t, 0, bucket(wrap, ^uint64(0)-4, 10))
	assert.Equal(t, 9, bucket(wrap, 4, 10))
	assert.Equal(t, 0, bucket(full, 1, 16))
	assert.Equal(t, 15, bucket(full, 0, 16))
	rapid.Check(t, func(rt *rapid.T) {
		r := Range{Start: rapid.Uint64().Draw(rt, "start"), End: rapid.Uint64().Draw(rt, "end")}
		n := rapid.IntRange(1, MaxLeaves).Draw(rt, "n")
		h1, h2 := rapid.Uint64().Draw(rt, "h1"), rapid.Uint64().Draw(rt, "h2")
		if !r.Contains(h1) || !r.Contains(h2) {
			return
		}
		b1, b2 := bucket(r, h1, n), bucket(r, h2, n)
		require.GreaterOrEqual(rt, b1, 0)
		require.Less(rt, b1, n)
		// Monotone in the offset from Start (the first hash after Start
		// has offset 0, End the largest).
		if h1-r.Start-1 <= h2-r.Start-1 {
			require.LessOrEqual(rt, b1, b2)
		}
	})
}

func TestTreeSetGetDelete(t *testing.T) {
	tr, err := New(Config{Depth: 2, Fanout: 4}, full)
	require.NoError(t, err)
	assert.Zero(t, tr.Root(), "an empty tree has root 0")
	require.NoError(t, tr.Set("a", 1))
	r1 := tr.Root()
	assert.NotZero(t, r1)
	require.NoError(t, tr.Set("a", 1))
	assert.Equal(t, r1, tr.Root(), "rewriting the same version changes nothing")
	require.NoError(t, tr.Set("a", 2))
	assert.NotEqual(t, r1, tr.Root())
	v, ok := tr.Get("a")
	assert.True(t, ok)
	assert.Equal(t, uint64(2), v)
	assert.Equal(t, 1, tr.Len())
	assert.True(t, tr.Delete("a"))
	assert.False(t, tr.Delete("a"))
	assert.Zero(t, tr.Root(), "deleting the last key restores the empty root")
	assert.Zero(t, tr.Len())
	_, ok = tr.Get("a")
	assert.False(t, ok)

	// A key outside the range is refused, not silently placed.
	h := ring.HashKey("k")
	narrow := Range{Start: h, End: h + 1000}
	nt, err := New(Config{Depth: 1, Fanout: 2}, narrow)
	require.NoError(t, err)
	require.ErrorIs(t, nt.Set("k", 1), ErrOutOfRange)
	assert.False(t, nt.Delete("k"))
	_, ok = nt.Get("k")
	assert.False(t, ok)
	_, err = Build(Config{Depth: 1, Fanout: 2}, narrow, []Entry{{Key: "k", Version: 1}})
	require.ErrorIs(t, err, ErrOutOfRange)

	_, err = tr.Hash(3, 0)
	require.ErrorIs(t, err, ErrBadRequest)
	_, err = tr.Hash(1, 4)
	require.ErrorIs(t, err, ErrBadRequest)
	_, err = tr.Hash(-1, 0)
	require.ErrorIs(t, err, ErrBadRequest)
}

// genConfig draws a small tree shape so that leaves hold several keys.
func genConfig(rt *rapid.T) Config {
	return Config{
		Depth:     rapid.IntRange(1, 4).Draw(rt, "depth"),
		Fanout:    rapid.IntRange(2, 6).Draw(rt, "fanout"),
		Batch:     rapid.IntRange(0, 5).Draw(rt, "batch"),
		LeafBatch: rapid.IntRange(0, 5).Draw(rt, "leafBatch"),
	}
}

// genRange draws the whole ring or a wide arc (so random keys fall in it).
func genRange(rt *rapid.T) Range {
	if rapid.Bool().Draw(rt, "full") {
		return full
	}
	s := rapid.Uint64().Draw(rt, "start")
	w := rapid.Uint64Range(1<<62, ^uint64(0)).Draw(rt, "width")
	return Range{Start: s, End: s + w}
}

// genKeys draws between lo and hi distinct keys: a prefix and a count, so
// that large key sets are as likely as small ones.
func genKeys(rt *rapid.T, lo, hi int) []string {
	n := rapid.IntRange(lo, hi).Draw(rt, "nkeys")
	prefix := rapid.StringMatching(`[a-z]{0,3}`).Draw(rt, "prefix")
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(prefix, i)
	}
	return keys
}

func keysIn(r Range, keys []string) []string {
	var out []string
	for _, k := range keys {
		if r.Contains(ring.HashKey(k)) {
			out = append(out, k)
		}
	}
	return out
}

// TestMerkleIncrementalEqualsRebuild: any sequence of Set and Delete yields
// the tree Build computes from scratch over the final contents.
func TestMerkleIncrementalEqualsRebuild(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg, r := genConfig(rt), genRange(rt)
		tr, err := New(cfg, r)
		require.NoError(rt, err)
		keys := keysIn(r, genKeys(rt, 1, 60))
		if len(keys) == 0 {
			return
		}
		model := map[string]uint64{}
		ops := rapid.IntRange(0, 300).Draw(rt, "ops")
		for range ops {
			k := rapid.SampledFrom(keys).Draw(rt, "key")
			if rapid.IntRange(0, 3).Draw(rt, "op") == 0 {
				_, had := model[k]
				require.Equal(rt, had, tr.Delete(k))
				delete(model, k)
			} else {
				v := rapid.Uint64Range(0, 4).Draw(rt, "version")
				require.NoError(rt, tr.Set(k, v))
				model[k] = v
			}
		}
		var entries []Entry
		for _, k := range slices.Sorted(maps.Keys(model)) {
			entries = append(entries, Entry{Key: k, Version: model[k]})
		}
		ref, err := Build(cfg, r, entries)
		require.NoError(rt, err)
		require.True(rt, tr.Equal(ref), "incremental tree differs from rebuild")
		require.Equal(rt, entries, nilIfEmpty(tr.Entries()))
		require.Equal(rt, len(model), tr.Len())
	})
}

func nilIfEmpty(e []Entry) []Entry {
	if len(e) == 0 {
		return nil
	}
	return e
}

// TestMerkleExchangeFindsExactlyTheSymmetricDifference: for two replicas
// built from random maps with random differences, the exchange reports
// exactly the keys missing on one side or held at different versions.
func TestMerkleExchangeFindsExactlyTheSymmetricDifference(t *testing.T) {
	runs, keysSeen, diffsSeen := 0, 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		cfg, r := genConfig(rt), genRange(rt)
		keys := keysIn(r, genKeys(rt, 0, 1000))
		fates := rapid.SliceOfN(rapid.IntRange(0, 9), len(keys), len(keys)).Draw(rt, "fates")
		a, b := map[string]uint64{}, map[string]uint64{}
		for i, k := range keys {
			v := uint64(i) * 7
			switch fates[i] {
			case 0: // only on a
				a[k] = v
			case 1: // only on b
				b[k] = v
			case 2: // different versions
				a[k] = v
				b[k] = v + 1
			default: // equal
				a[k], b[k] = v, v
			}
		}
		ta, tb := build(rt, cfg, r, a), build(rt, cfg, r, b)
		diffs, st := exchange(rt, ta, tb)
		want := wantDiffs(a, b)
		runs, keysSeen, diffsSeen = runs+1, keysSeen+len(keys), diffsSeen+len(want)
		require.Equal(rt, want, diffs)
		if len(want) == 0 {
			require.Equal(rt, 2, st.Messages, "equal replicas exchange one round trip")
		}
		require.Equal(rt, st.Requests, st.Responses)
		require.Equal(rt, st.Messages, st.Requests+st.Responses)
		require.Equal(rt, st.Bytes, st.RequestBytes+st.ResponseBytes)
		require.Zero(rt, st.Rejected)

		// Repairing exactly the reported keys in both directions makes
		// the replicas identical.
		for _, d := range diffs {
			switch {
			case !d.HasRemote:
				require.NoError(rt, tb.Set(d.Key, d.Local))
			case !d.HasLocal:
				require.NoError(rt, ta.Set(d.Key, d.Remote))
			default:
				w := max(d.Local, d.Remote)
				require.NoError(rt, ta.Set(d.Key, w))
				require.NoError(rt, tb.Set(d.Key, w))
			}
		}
		require.True(rt, ta.Equal(tb), "after repair the trees are equal")
		again, _ := exchange(rt, ta, tb)
		require.Empty(rt, again)
	})
	t.Logf("%d runs, on average %.1f keys and %.1f differing keys", runs, float64(keysSeen)/float64(runs), float64(diffsSeen)/float64(runs))
	require.Greater(t, diffsSeen, 10*runs, "the property must exercise real divergence")
}

// Bad input to the responder is an error value and is counted.
func TestMerkleRespondRejectsBadRequests(t *testing.T) {
	cfg := Config{Depth: 3, Fanout: 4}
	tr := build(t, cfg, full, map[string]uint64{"a": 1, "b": 2, "c": 3})
	ok := Request{ID: 1, Range: full, Depth: 3, Fanout: 4}
	with := func(f func(*Request)) Request { q := ok; f(&q); return q }
	cases := []struct {
		name string
		q    Request
		err  error
	}{
		{"other range", with(func(q *Request) { q.Kind = KindRoot; q.Range = Range{Start: 1, End: 2} }), ErrUnknownRange},
		{"depth mismatch", with(func(q *Request) { q.Kind = KindRoot; q.Depth = 2 }), ErrConfigMismatch},
		{"fanout mismatch", with(func(q *Request) { q.Kind = KindRoot; q.Fanout = 16 }), ErrConfigMismatch},
		{"unknown kind", with(func(q *Request) { q.Kind = 9 }), ErrBadRequest},
		{"zero kind", ok, ErrBadRequest},
		{"root with indexes", with(func(q *Request) { q.Kind = KindRoot; q.Indexes = []uint32{0} }), ErrBadRequest},
		{"root with level", with(func(q *Request) { q.Kind = KindRoot; q.Level = 1 }), ErrBadRequest},
		{"hashes at level 0", with(func(q *Request) { q.Kind = KindHashes; q.Level = 0; q.Indexes = []uint32{0} }), ErrBadRequest},
		{"hashes at leaf level", with(func(q *Request) { q.Kind = KindHashes; q.Level = 3; q.Indexes = []uint32{0} }), ErrBadRequest},
		{"hashes level beyond depth", with(func(q *Request) { q.Kind = KindHashes; q.Level = 200; q.Indexes = []uint32{0} }), ErrBadRequest},
		{"index out of level", with(func(q *Request) { q.Kind = KindHashes; q.Level = 1; q.Indexes = []uint32{4} }), ErrBadRequest},
		{"huge index", with(func(q *Request) { q.Kind = KindHashes; q.Level = 2; q.Indexes = []uint32{^uint32(0)} }), ErrBadRequest},
		{"no indexes", with(func(q *Request) { q.Kind = KindHashes; q.Level = 1 }), ErrBadRequest},
		{"unsorted indexes", with(func(q *Request) { q.Kind = KindHashes; q.Level = 2; q.Indexes = []uint32{3, 1} }), ErrBadRequest},
		{"duplicate indexes", with(func(q *Request) { q.Kind = KindHashes; q.Level = 2; q.Indexes = []uint32{1, 1} }), ErrBadRequest},
		{"too many indexes", with(func(q *Request) { q.Kind = KindLeaves; q.Level = 3; q.Indexes = make([]uint32, MaxBatch+1) }), ErrBadRequest},
		{"leaves at inner level", with(func(q *Request) { q.Kind = KindLeaves; q.Level = 2; q.Indexes = []uint32{0} }), ErrBadRequest},
		{"leaf out of range", with(func(q *Request) { q.Kind = KindLeaves; q.Level = 3; q.Indexes = []uint32{64} }), ErrBadRequest},
	}
	before := tr.Root()
	for i, c := range cases {
		p, err := tr.Respond(c.q)
		assert.ErrorIs(t, err, c.err, c.name)
		assert.Equal(t, Response{ID: c.q.ID, Range: c.q.Range, Kind: c.q.Kind, Refused: true}, p, c.name)
		assert.Equal(t, i+1, tr.Stats().UnknownRange+tr.Stats().BadRequest, c.name)
	}
	assert.Equal(t, 1, tr.Stats().UnknownRange)
	assert.Zero(t, tr.Stats().Served)
	assert.Equal(t, before, tr.Root(), "rejected requests change nothing")

	// Well-formed requests are served.
	p, err := tr.Respond(with(func(q *Request) { q.Kind = KindLeaves; q.Level = 3; q.Indexes = []uint32{0, 5, 63} }))
	require.NoError(t, err)
	assert.Equal(t, uint8(3), p.Level)
	p, err = tr.Respond(with(func(q *Request) { q.Kind = KindHashes; q.Level = 2; q.Indexes = []uint32{1, 15} }))
	require.NoError(t, err)
	assert.Len(t, p.Hashes, 8)
	p, err = tr.Respond(with(func(q *Request) { q.Kind = KindRoot; q.Root = tr.Root() }))
	require.NoError(t, err)
	assert.True(t, p.Equal)
	assert.Equal(t, 3, tr.Stats().Served)
	assert.Positive(t, tr.Stats().Bytes)
}

// A random request never panics the responder.
func TestMerkleRespondNeverPanics(t *testing.T) {
	tr := build(t, Config{Depth: 2, Fanout: 3}, full, map[string]uint64{"a": 1, "b": 2, "c": 3, "d": 4})
	rapid.Check(t, func(rt *rapid.T) {
		q := Request{
			ID:      rapid.Uint64().Draw(rt, "id"),
			Depth:   rapid.Uint8Range(0, 4).Draw(rt, "depth"),
			Fanout:  rapid.Uint16Range(0, 5).Draw(rt, "fanout"),
			Kind:    Kind(rapid.Uint8Range(0, 4).Draw(rt, "kind")),
			Level:   rapid.Uint8Range(0, 4).Draw(rt, "level"),
			Root:    rapid.Uint64().Draw(rt, "root"),
			Indexes: rapid.SliceOfN(rapid.Uint32Range(0, 12), 0, 12).Draw(rt, "indexes"),
		}
		p, err := tr.Respond(q)
		if err == nil {
			require.Equal(rt, q.ID, p.ID)
			require.Equal(rt, q.Kind, p.Kind)
		}
	})
}

// A response that does not answer the outstanding request is rejected,
// counted, and leaves the session unchanged.
func TestMerkleSessionRejectsBadResponses(t *testing.T) {
	cfg := Config{Depth: 2, Fanout: 4}
	a := map[string]uint64{}
	for i := range 64 {
		a[fmt.Sprint("k", i)] = uint64(i)
	}
	b := maps.Clone(a)
	b["k3"] = 99
	ta, tb := build(t, cfg, full, a), build(t, cfg, full, b)

	s := NewSession(ta, 5)
	_, _, err := s.Step(Response{ID: 5, Range: full})
	require.ErrorIs(t, err, ErrBadResponse, "a step before Start")
	require.False(t, s.Done())
	s = NewSession(ta, 5)
	q := s.Start()
	good, err := tb.Respond(q)
	require.NoError(t, err)
	bad := []Response{
		{ID: 6, Range: full, Kind: KindRoot, Level: 1, Hashes: good.Hashes},
		{ID: 5, Range: Range{Start: 1, End: 2}, Kind: KindRoot, Level: 1, Hashes: good.Hashes},
		{ID: 5, Range: full, Kind: KindHashes, Level: 1, Hashes: good.Hashes},
		{ID: 5, Range: full, Kind: KindRoot, Level: 2, Hashes: good.Hashes},
		{ID: 5, Range: full, Kind: KindRoot, Level: 1, Hashes: good.Hashes[:3]},
		{ID: 5, Range: full, Kind: KindRoot, Equal: true, Hashes: good.Hashes},
		{ID: 5, Range: full, Kind: KindRoot, Level: 1, Hashes: good.Hashes, Entries: []Entry{{Key: "x"}}},
	}
	for i, p := range bad {
		_, more, err := s.Step(p)
		require.ErrorIs(t, err, ErrBadResponse, "case %d", i)
		assert.False(t, more)
		assert.Equal(t, i+1, s.Stats().Rejected)
	}
	assert.Equal(t, 1, s.Stats().Messages, "rejected responses are not traffic")
	assert.Zero(t, s.Stats().Responses)
	q, more, err := s.Step(good)
	require.NoError(t, err)
	require.True(t, more)
	require.Equal(t, KindHashes, q.Kind)
	good, err = tb.Respond(q)
	require.NoError(t, err)
	q, more, err = s.Step(good)
	require.NoError(t, err)
	require.True(t, more)
	require.Equal(t, KindLeaves, q.Kind)

	good, err = tb.Respond(q)
	require.NoError(t, err)
	require.NotEmpty(t, good.Entries)
	// Entries from a leaf that was not requested, out of order, or
	// duplicated are rejected.
	other := Entry{Key: "zz-not-requested", Version: 1}
	for ring.HashKey(other.Key) != 0 && slices.Contains(q.Indexes, uint32(bucket(full, ring.HashKey(other.Key), 16))) {
		other.Key += "x"
	}
	badEntries := [][]Entry{
		append(slices.Clone(good.Entries), other),
		append(slices.Clone(good.Entries), good.Entries[0]),
	}
	if len(good.Entries) > 1 {
		rev := slices.Clone(good.Entries)
		slices.Reverse(rev)
		badEntries = append(badEntries, rev)
	}
	for _, es := range badEntries {
		p := good
		p.Entries = es
		_, _, err := s.Step(p)
		require.ErrorIs(t, err, ErrBadResponse)
	}
	p := good
	p.Hashes = []uint64{1}
	_, _, err = s.Step(p)
	require.ErrorIs(t, err, ErrBadResponse)

	_, more, err = s.Step(good)
	require.NoError(t, err)
	require.False(t, more)
	require.Equal(t, []Diff{{Key: "k3", Local: 3, HasLocal: true, Remote: 99, HasRemote: true}}, s.Diffs())
	_, _, err = s.Step(good)
	require.ErrorIs(t, err, ErrSessionDone)
}

// A refusal ends the exchange at once, with no diffs.
func TestMerkleSessionEndsOnRefusal(t *testing.T) {
	cfg := Config{Depth: 2, Fanout: 4}
	ta := build(t, cfg, full, map[string]uint64{"a": 1})
	other := build(t, cfg, Range{Start: 1, End: 1 << 63}, nil)
	f, err := NewForest(cfg)
	require.NoError(t, err)
	for _, responder := range []func(Request) (Response, error){other.Respond, f.Respond} {
		s := NewSession(ta, 3)
		p, err := responder(s.Start())
		require.ErrorIs(t, err, ErrUnknownRange)
		require.True(t, p.Refused)
		// A refusal that carries data is malformed, not a refusal.
		bad := p
		bad.Hashes = []uint64{1}
		_, _, err = s.Step(bad)
		require.ErrorIs(t, err, ErrBadResponse)
		require.False(t, s.Done())
		_, more, err := s.Step(p)
		require.ErrorIs(t, err, ErrRefused)
		require.False(t, more)
		require.True(t, s.Done())
		require.True(t, s.Refused())
		require.Empty(t, s.Diffs())
		require.Equal(t, 2, s.Stats().Messages)
	}
	// A shape mismatch is refused too.
	tb := build(t, Config{Depth: 3, Fanout: 4}, full, nil)
	s := NewSession(ta, 4)
	p, err := tb.Respond(s.Start())
	require.ErrorIs(t, err, ErrConfigMismatch)
	_, _, err = s.Step(p)
	require.ErrorIs(t, err, ErrRefused)
}

// A random response never panics a session, and a rejected one leaves it
// exactly as it was.
func TestMerkleSessionNeverPanics(t *testing.T) {
	cfg := Config{Depth: 2, Fanout: 3}
	ta := build(t, cfg, full, map[string]uint64{"a": 1, "b": 2, "c": 3})
	rapid.Check(t, func(rt *rapid.T) {
		s := NewSession(ta, 1)
		s.Start()
		p := Response{
			ID:      rapid.Uint64Range(0, 2).Draw(rt, "id"),
			Kind:    Kind(rapid.Uint8Range(0, 4).Draw(rt, "kind")),
			Level:   rapid.Uint8Range(0, 3).Draw(rt, "level"),
			Equal:   rapid.Bool().Draw(rt, "equal"),
			Hashes:  rapid.SliceOfN(rapid.Uint64(), 0, 10).Draw(rt, "hashes"),
			Entries: rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) Entry { return Entry{Key: rapid.String().Draw(rt, "k")} }), 0, 4).Draw(rt, "entries"),
			Refused: rapid.Bool().Draw(rt, "refused"),
		}
		before := *s
		_, _, err := s.Step(p)
		if err != nil && !errors.Is(err, ErrRefused) {
			after := *s
			after.stats.Rejected--
			require.Equal(rt, before, after)
		}
	})
}

// TestForest holds all but one range of a real ring, in fixed-shard and in
// virtual-node mode, and routes keys to them.
func TestForest(t *testing.T) {
	for _, rc := range []ring.Config{{Shards: 8}, {VNodes: 3, Seed: 5}} {
		testForest(t, rc)
	}
}

func testForest(t *testing.T, rc ring.Config) {
	rg, err := ring.New(rc, ring.Member{ID: 1, Weight: 1}, ring.Member{ID: 2, Weight: 1}, ring.Member{ID: 3, Weight: 1})
	require.NoError(t, err)
	ranges, err := rg.Ranges(1)
	require.NoError(t, err)
	q := len(ranges)
	f, err := NewForest(Config{Depth: 2, Fanout: 4})
	require.NoError(t, err)
	for i := q - 1; i >= 0; i-- {
		if i == 3 {
			continue // the forest does not hold range 3
		}
		_, err := f.Add(ranges[i].Arc)
		require.NoError(t, err)
	}
	_, err = f.Add(full)
	require.ErrorIs(t, err, ErrOverlap)
	_, err = f.Add(Range{Start: ranges[1].End - 5, End: ranges[1].End + 5})
	require.ErrorIs(t, err, ErrOverlap)
	rs := f.Ranges()
	require.Len(t, rs, q-1)
	assert.True(t, slices.IsSortedFunc(rs, func(a, b Range) int {
		if a.End < b.End {
			return -1
		}
		return 1
	}))

	hole := ranges[3].Arc
	held, missed := 0, 0
	for i := range 2000 {
		k := fmt.Sprint("key", i)
		h := ring.HashKey(k)
		tr, ok := f.Find(h)
		if hole.Contains(h) {
			require.False(t, ok)
			require.ErrorIs(t, f.Set(k, 1), ErrOutOfRange)
			missed++
			continue
		}
		require.True(t, ok)
		require.True(t, tr.Range().Contains(h))
		require.Equal(t, ranges[rg.RangeIndex(h)].Arc, tr.Range(), "the forest agrees with the ring")
		require.NoError(t, f.Set(k, uint64(i)))
		v, ok := tr.Get(k)
		require.True(t, ok)
		require.Equal(t, uint64(i), v)
		held++
	}
	assert.Positive(t, missed)
	total := 0
	for _, r := range f.Ranges() {
		tr, ok := f.Tree(r)
		require.True(t, ok)
		total += tr.Len()
	}
	assert.Equal(t, held, total)
	assert.Equal(t, !hole.Contains(ring.HashKey("key1")), f.Delete("key1"))

	// Respond finds the tree by range; unknown ranges are counted.
	r0 := f.Ranges()[0]
	tr, _ := f.Tree(r0)
	s := NewSession(tr, 1)
	p, err := f.Respond(s.Start())
	require.NoError(t, err)
	assert.True(t, p.Equal)
	_, err = f.Respond(Request{Range: Range{Start: 1, End: 2}, Kind: KindRoot, Depth: 2, Fanout: 4})
	require.ErrorIs(t, err, ErrUnknownRange)
	_, err = f.Respond(Request{Range: r0, Kind: KindRoot, Depth: 3, Fanout: 4})
	require.ErrorIs(t, err, ErrConfigMismatch)
	assert.Equal(t, ResponderStats{Served: 1, UnknownRange: 1, BadRequest: 1, Bytes: p.Size()}, f.Stats())

	require.True(t, f.Remove(r0))
	require.False(t, f.Remove(r0))
	_, ok := f.Tree(r0)
	require.False(t, ok)
	_, ok = (&Forest{}).Find(1)
	require.False(t, ok)

	// A single whole-ring range.
	g, err := NewForest(Config{Depth: 1, Fanout: 2})
	require.NoError(t, err)
	_, err = g.Add(full)
	require.NoError(t, err)
	require.NoError(t, g.Set("anything", 1))
	_, err = g.Add(Range{Start: 5, End: 6})
	require.ErrorIs(t, err, ErrOverlap)
}

// The exchange and the trees are pure functions of their inputs: two runs
// produce identical requests, diffs and stats.
func TestMerkleDeterministic(t *testing.T) {
	run := func() ([]Request, []Diff, Stats) {
		rng := sim.NewRNG(42).Fork("merkle")
		a, b := map[string]uint64{}, map[string]uint64{}
		for i := range 3000 {
			k := fmt.Sprint("k", i)
			v := rng.Uint64()
			a[k], b[k] = v, v
			if rng.IntN(50) == 0 {
				b[k] = v + 1
			}
		}
		ta, tb := build(t, Config{Depth: 3, Fanout: 8, Batch: 7, LeafBatch: 3}, full, a), build(t, Config{Depth: 3, Fanout: 8}, full, b)
		s := NewSession(ta, 1)
		var reqs []Request
		q := s.Start()
		for {
			reqs = append(reqs, q)
			p, err := tb.Respond(q)
			require.NoError(t, err)
			next, more, err := s.Step(p)
			require.NoError(t, err)
			if !more {
				break
			}
			q = next
		}
		return reqs, s.Diffs(), s.Stats()
	}
	r1, d1, s1 := run()
	r2, d2, s2 := run()
	require.Equal(t, r1, r2)
	require.Equal(t, d1, d2)
	require.Equal(t, s1, s2)
	require.NotEmpty(t, d1)
}

func TestMerkleSourceIsDeterministic(t *testing.T) {
	vs, err := tidy.CheckDir(".")
	require.NoError(t, err)
	require.Empty(t, vs)
}
