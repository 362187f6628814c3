package checker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

func lostWrites(t *testing.T, ops []history.Op, causal bool) Result {
	t.Helper()
	res, err := LostWrites(ops, LostOptions{Causal: causal})
	require.NoError(t, err)
	require.Equal(t, NameLostWrites, res.Checker)
	return res
}

func TestLostWritesLWWValid(t *testing.T) {
	cases := map[string][]history.Op{
		"last write survives": {
			wr(0, "x", "a", 0, 10), wr(0, "x", "b", 20, 30), fin(1, "x", 100, 110, "b"),
		},
		"concurrent writes: either may win": {
			wr(0, "x", "a", 0, 50), wr(1, "x", "b", 10, 40), fin(2, "x", 100, 110, "a"),
		},
		"an info write may overwrite": {
			wr(0, "x", "a", 0, 10), wrInfo(1, "x", "b", 20, 30), fin(2, "x", 100, 110, "b"),
		},
		"a later delete explains not found": {
			wr(0, "x", "a", 0, 10), info(del(1, "x", 5, 30)), fin(2, "x", 100, 110),
		},
		"failed writes need not survive": {
			wr(0, "x", "a", 0, 10), wrFail(0, "x", "b", 20, 30), fin(2, "x", 100, 110, "a"),
		},
	}
	for name, ops := range cases {
		t.Run(name, func(t *testing.T) {
			res := lostWrites(t, ops, false)
			assert.Equal(t, Valid, res.Verdict, res.Explanation)
			assert.Zero(t, res.Count)
		})
	}
}

func TestLostWritesLWWInvalid(t *testing.T) {
	// Clock skew: "a" got a timestamp from a clock running ahead, so the
	// later, acknowledged "b" and "c" lose to it.
	ops := []history.Op{
		wr(0, "x", "a", 0, 10), wr(1, "x", "b", 20, 30), wr(0, "x", "c", 40, 50),
		wr(0, "y", "ok", 0, 10), fin(2, "y", 100, 110, "ok"),
		fin(2, "x", 100, 110, "a"),
	}
	res := lostWrites(t, ops, false)
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, 2, res.Count)
	require.Len(t, res.Witness, 2)
	assert.Equal(t, Violation{Key: "x", Value: "b", Client: 1, Time: 30,
		Detail: `acknowledged at 30ns, but the final read at 100ns returned ["a"]: "a" was acknowledged at 10ns, before this write was invoked at 20ns, and last-writer-wins kept it`}, res.Witness[0])
	assert.Equal(t, "c", res.Witness[1].Value)
	assert.Contains(t, res.Explanation, "2 of 4 acknowledged writes lost (50.0%, last-writer-wins rules)")

	// A key that vanished with no delete loses its writes.
	res = lostWrites(t, []history.Op{wr(0, "x", "a", 0, 10), fin(1, "x", 20, 30)}, false)
	require.Equal(t, Invalid, res.Verdict)
	assert.Contains(t, res.Witness[0].Detail, "no delete could follow this write")
}

func TestLostWritesSet(t *testing.T) {
	ok := []history.Op{
		add(0, "s", "e0", 0, 10), add(1, "s", "e1", 5, 20), info(add(2, "s", "e2", 6, 30)),
		finSet(3, "s", 100, 110, "e1", "e0"),
	}
	res := lostWrites(t, ok, false)
	assert.Equal(t, Valid, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, "all 2 acknowledged elements")

	// LWW read-modify-write of a set: concurrent adds overwrite each other.
	bad := []history.Op{
		add(0, "s", "e0", 0, 10), add(1, "s", "e1", 5, 20), add(2, "s", "e2", 7, 25),
		finSet(3, "s", 100, 110, "e1"),
	}
	res = lostWrites(t, bad, false)
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, 2, res.Count)
	assert.Equal(t, []string{"e0", "e2"}, []string{res.Witness[0].Value, res.Witness[1].Value})
	assert.Equal(t, sim.Time(10), res.Witness[0].Time, "ack time")
	assert.Contains(t, res.Explanation, "2 of 3 acknowledged elements lost (66.7%")
	// Causal mode does not excuse missing elements either.
	res = lostWrites(t, bad, true)
	assert.Equal(t, Invalid, res.Verdict)
}

func TestLostWritesCausal(t *testing.T) {
	cases := map[string]struct {
		ops  []history.Op
		want Verdict
		lost []string
	}{
		"concurrent writes both survive as siblings": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), fin(2, "x", 100, 110, "a", "b"),
		}, Valid, nil},
		"a write whose context saw both supersedes them": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), ctx(wr(2, "x", "c", 20, 30), "a", "b"), fin(2, "x", 100, 110, "c"),
		}, Valid, nil},
		"supersession is transitive through observed info writes": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wrInfo(1, "x", "b", 20, 30), "a"), ctx(wr(2, "x", "c", 40, 50), "b"), fin(2, "x", 100, 110, "c"),
		}, Valid, nil},
		"an info write seen by a read supersedes": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wrInfo(1, "x", "b", 20, 30), "a"), fin(2, "x", 100, 110, "b"),
		}, Valid, nil},
		"a sibling dropped without a context that saw it": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), ctx(wr(2, "x", "c", 20, 30), "a"), fin(2, "x", 100, 110, "c"),
		}, Invalid, []string{"b"}},
		"an unobserved info write does not excuse": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wrInfo(1, "x", "b", 20, 30), "a"), fin(2, "x", 100, 110),
		}, Invalid, []string{"a"}},
		"a failed write does not supersede": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wrFail(1, "x", "b", 20, 30), "a"), fin(2, "x", 100, 110),
		}, Invalid, []string{"a"}},
		"a delete that saw it supersedes": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(info(del(1, "x", 20, 30)), "a"), fin(2, "x", 100, 110),
		}, Valid, nil},
		// Under LWW the same history is fine: "c" was written after "b".
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := lostWrites(t, tc.ops, true)
			assert.Equal(t, tc.want, res.Verdict, res.Explanation)
			var got []string
			for _, v := range res.Witness {
				got = append(got, v.Value)
			}
			assert.Equal(t, tc.lost, got)
			assert.Equal(t, len(tc.lost), res.Count)
		})
	}
}

func TestLostWritesUnknownWithoutFinalRead(t *testing.T) {
	ops := []history.Op{
		wr(0, "x", "a", 0, 10), wr(0, "y", "b", 0, 10), fin(1, "y", 100, 110, "b"),
		info(fin(1, "x", 120, 130)),
	}
	res := lostWrites(t, ops, false)
	assert.Equal(t, Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, `1 of 2 acknowledged writes could not be judged`)
	assert.Contains(t, res.Explanation, `keys without an ok final read: "x"; 1 final reads of them failed`)

	// a final read invoked before the write was acknowledged cannot judge it
	res = lostWrites(t, []history.Op{wr(0, "x", "a", 0, 50), fin(1, "x", 20, 30)}, false)
	assert.Equal(t, Unknown, res.Verdict)

	// a loss elsewhere still makes it Invalid
	ops = append(ops, wr(0, "z", "c", 0, 10), fin(1, "z", 100, 110))
	res = lostWrites(t, ops, false)
	assert.Equal(t, Invalid, res.Verdict)
	assert.Contains(t, res.Explanation, "1 more could not be judged")
}

func TestLostWritesBadInput(t *testing.T) {
	_, err := LostWrites([]history.Op{wr(0, "x", "a", 0, 1), wr(1, "x", "a", 2, 3)}, LostOptions{})
	require.ErrorContains(t, err, `value "a" is written twice on key "x" (operations 0 and 1)`)
	_, err = LostWrites([]history.Op{add(0, "x", "a", 0, 1), wr(1, "x", "b", 2, 3)}, LostOptions{})
	require.ErrorContains(t, err, `key "x" mixes set adds`)
	_, err = LostWrites([]history.Op{wr(0, "x", "a", 5, 1)}, LostOptions{})
	require.ErrorContains(t, err, "before its call")
	_, err = Durability([]history.Op{{Outcome: "maybe"}}, nil, LostOptions{})
	require.ErrorContains(t, err, `outcome "maybe"`)
	_, err = Siblings([]history.Op{wr(0, "x", "a", 0, 1), wr(1, "x", "a", 2, 3)})
	require.Error(t, err)
}

func TestDurability(t *testing.T) {
	// W=1 without sync: "a" and "b" were acknowledged from memory and the
	// crash at 60 erased them; "c" came after the crash.
	ops := []history.Op{
		wr(0, "x", "a", 0, 10), wr(0, "y", "b", 20, 30), wr(0, "z", "c", 70, 80),
		fin(1, "x", 100, 110), fin(1, "y", 100, 110), fin(1, "z", 100, 110),
	}
	res, err := Durability(ops, []sim.Time{40, 60}, LostOptions{})
	require.NoError(t, err)
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, NameDurability, res.Checker)
	assert.Equal(t, 2, res.Count)
	assert.Contains(t, res.Explanation, "2 of 2 writes acknowledged before the last of 2 crashes (at 60ns) lost")
	assert.Contains(t, res.Explanation, "synced")

	lw := lostWrites(t, ops, false)
	assert.Equal(t, 3, lw.Count, "LostWrites also counts the write lost after the crash")

	synced := []history.Op{wr(0, "x", "a", 0, 10), fin(1, "x", 100, 110, "a")}
	res, err = Durability(synced, []sim.Time{40}, LostOptions{})
	require.NoError(t, err)
	assert.Equal(t, Valid, res.Verdict, res.Explanation)

}

// TestNothingToJudgeIsUnknown: a durability check without a crash, or
// without a write acknowledged before it, and a lost-writes check without
// an acknowledged write examined nothing, so they cannot pass.
func TestNothingToJudgeIsUnknown(t *testing.T) {
	ops := []history.Op{wr(0, "x", "a", 0, 10), fin(1, "x", 100, 110, "a")}
	res, err := Durability(ops, nil, LostOptions{})
	require.NoError(t, err)
	assert.Equal(t, Unknown, res.Verdict)
	assert.Equal(t, NameDurability, res.Checker)
	assert.Equal(t, "no crash happened, so durability was not exercised: nothing to judge", res.Explanation)
	assert.True(t, res.Idle, "not exercised is marked Idle, unlike a budget running out")

	res, err = Durability(ops, []sim.Time{5}, LostOptions{})
	require.NoError(t, err)
	assert.Equal(t, Unknown, res.Verdict)
	assert.Equal(t, "no write was acknowledged before the last of 1 crash (at 5ns), so durability was not exercised: nothing to judge", res.Explanation)

	for name, ops := range map[string][]history.Op{
		"empty":              nil,
		"only reads":         {rd(0, "x", 0, 10), fin(1, "x", 100, 110)},
		"failed and info":    {wrFail(0, "x", "a", 0, 10), wrInfo(1, "x", "b", 0, 10), fin(1, "x", 100, 110, "b")},
		"unacknowledged add": {info(add(0, "s", "e", 0, 10)), finSet(1, "s", 100, 110)},
	} {
		for _, causal := range []bool{false, true} {
			res := lostWrites(t, ops, causal)
			assert.Equal(t, Unknown, res.Verdict, name)
			assert.Contains(t, res.Explanation, "nothing to judge", name)
			assert.True(t, res.Idle, name)
		}
	}
	res = lostWrites(t, nil, false)
	assert.Equal(t, "no acknowledged write: nothing to judge (0 keys, last-writer-wins rules)", res.Explanation)
}

// TestLostWritesNeverCriesWolfOnLinearizableHistories: under LWW rules a
// linearizable history whose final reads follow every write loses nothing.
func TestLostWritesNeverCriesWolfOnLinearizableHistories(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		ops := generate(genConfig{ops: 300, clients: 5, keys: 3, infoWrites: 0.1, slow: 0.05, seed: seed})
		res := lostWrites(t, ops, false)
		require.Equal(t, Valid, res.Verdict, "seed %d: %s", seed, res.Explanation)
	}
}

// TestLostWritesAndDurabilityIsBoth: the combined check returns exactly
// what the two checks return on their own, on valid histories, on ones
// whose final reads lost writes, with no crash and with several, under
// both rules, and fails as they do on a malformed history.
func TestLostWritesAndDurabilityIsBoth(t *testing.T) {
	var histories [][]history.Op
	for seed := uint64(1); seed <= 4; seed++ {
		ops := generate(genConfig{ops: 300, clients: 4, keys: 3, infoWrites: 0.05, slow: 0.03, seed: seed})
		histories = append(histories, ops)
		lossy := slices.Clone(ops)
		first := map[string]string{}
		for i := range lossy {
			o := &lossy[i]
			if _, ok := first[o.Key]; !ok && o.Kind == history.Write && o.Outcome == history.OK {
				first[o.Key] = o.Value
			}
			if o.Final && o.Outcome == history.OK && seed%2 == 0 {
				o.Values, o.NotFound = []string{first[o.Key]}, false
			}
			if o.Final && seed%2 == 1 {
				o.Values, o.NotFound = nil, true
			}
		}
		histories = append(histories, lossy)
	}
	verdicts := map[Verdict]int{}
	for i, ops := range histories {
		end := ops[len(ops)-1].Call
		for _, crashes := range [][]sim.Time{nil, {end / 2}, {end / 3, end / 4, end / 2}} {
			for _, causal := range []bool{false, true} {
				opts := LostOptions{Causal: causal}
				wantLost, err := LostWrites(ops, opts)
				require.NoError(t, err)
				wantDur, err := Durability(ops, crashes, opts)
				require.NoError(t, err)
				lost, dur, err := LostWritesAndDurability(ops, crashes, opts)
				require.NoError(t, err)
				assert.Equal(t, wantLost, lost, "history %d, crashes %v, causal %v", i, crashes, causal)
				assert.Equal(t, wantDur, dur, "history %d, crashes %v, causal %v", i, crashes, causal)
				verdicts[lost.Verdict]++
				verdicts[dur.Verdict]++
			}
		}
	}
	assert.Positive(t, verdicts[Valid])
	assert.Positive(t, verdicts[Invalid])
	assert.Positive(t, verdicts[Unknown])
	_, _, err := LostWritesAndDurability([]history.Op{{Outcome: "maybe"}}, nil, LostOptions{})
	_, want := LostWrites([]history.Op{{Outcome: "maybe"}}, LostOptions{})
	require.Error(t, err)
	assert.Equal(t, want, err)
}
