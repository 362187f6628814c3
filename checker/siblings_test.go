package checker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

func siblings(t *testing.T, ops []history.Op) Result {
	t.Helper()
	res, err := Siblings(ops)
	require.NoError(t, err)
	require.Equal(t, NameSiblings, res.Checker)
	return res
}

func TestSiblings(t *testing.T) {
	cases := map[string]struct {
		ops    []history.Op
		want   Verdict
		detail string // in the first witness
	}{
		"concurrent writes are siblings": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), fin(2, "x", 100, 110, "b", "a"),
		}, Valid, ""},
		"a merge supersedes both": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), ctx(wr(2, "x", "c", 20, 30), "a", "b"), fin(2, "x", 100, 110, "c"),
		}, Valid, ""},
		"an info write may appear": {[]history.Op{
			wr(0, "x", "a", 0, 10), wrInfo(1, "x", "b", 0, 10), fin(2, "x", 100, 110, "a", "b"),
		}, Valid, ""},
		"an info write may be absent": {[]history.Op{
			wr(0, "x", "a", 0, 10), wrInfo(1, "x", "b", 0, 10), fin(2, "x", 100, 110, "a"),
		}, Valid, ""},
		"an observed info write supersedes": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wrInfo(1, "x", "b", 20, 30), "a"), rd(0, "x", 40, 50, "b"), fin(2, "x", 100, 110, "b"),
		}, Valid, ""},
		"a write still running at the final read need not be there": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 90, 200), fin(2, "x", 100, 110, "a"),
		}, Valid, ""},
		"a superseding write concurrent with the final read": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wr(1, "x", "b", 90, 200), "a"), fin(2, "x", 100, 110, "a"),
		}, Valid, ""},
		"missing sibling": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), fin(2, "x", 100, 110, "a"),
		}, Invalid, `missing sibling: "b" was acknowledged at 10ns and nothing superseded it, but the final read at 100ns returned ["a"]`},
		"extra sibling: a superseded version came back": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(wr(1, "x", "b", 20, 30), "a"), fin(2, "x", 100, 110, "a", "b"),
		}, Invalid, `extra sibling: the final read at 100ns returned "a", but write "b" by client 1 (ok, done at 30ns) had it in its context`},
		"extra sibling from a failed write": {[]history.Op{
			wr(0, "x", "a", 0, 10), wrFail(1, "x", "b", 20, 30), fin(2, "x", 100, 110, "a", "b"),
		}, Invalid, "its write by client 1 failed at 30ns"},
		"extra sibling never written": {[]history.Op{
			wr(0, "x", "a", 0, 10), fin(2, "x", 100, 110, "a", "zz"),
		}, Invalid, "no operation wrote it"},
		"a deleted key resurrected": {[]history.Op{
			wr(0, "x", "a", 0, 10), ctx(del(1, "x", 20, 30), "a"), fin(2, "x", 100, 110, "a"),
		}, Invalid, "a delete by client 1"},
		"duplicate sibling": {[]history.Op{
			wr(0, "x", "a", 0, 10), fin(2, "x", 100, 110, "a", "a"),
		}, Invalid, "appears twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := siblings(t, tc.ops)
			assert.Equal(t, tc.want, res.Verdict, res.Explanation)
			if tc.want == Invalid {
				require.NotEmpty(t, res.Witness)
				assert.Contains(t, res.Witness[0].Detail, tc.detail)
				assert.Equal(t, "x", res.Witness[0].Key)
			}
		})
	}
}

func TestSiblingsUnknownAndSetKeys(t *testing.T) {
	res := siblings(t, []history.Op{wr(0, "x", "a", 0, 10)})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, `keys without an ok final read: "x"`)

	// set keys are LostWrites' business: with only set keys, nothing was
	// judged, and that is never a pass
	res = siblings(t, []history.Op{add(0, "s", "e", 0, 10), finSet(1, "s", 20, 30)})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Equal(t, "no register key with a final read: nothing to judge (1 key, 1 key holding a set, judged by lost-writes instead; a key needs a write that did not fail)", res.Explanation)

	// a set key next to a judged register key does not change the verdict
	res = siblings(t, []history.Op{add(0, "s", "e", 0, 10), finSet(1, "s", 20, 30), wr(0, "x", "a", 0, 10), fin(1, "x", 20, 30, "a")})
	assert.Equal(t, Valid, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, "1 final read of 1 register key")

	// no writes at all (only failed ones, or none): nothing to judge
	for name, ops := range map[string][]history.Op{
		"empty":         nil,
		"only a read":   {fin(1, "x", 20, 30)},
		"failed writes": {wrFail(0, "x", "a", 0, 10), fin(1, "x", 20, 30)},
	} {
		res = siblings(t, ops)
		assert.Equal(t, Unknown, res.Verdict, name)
		assert.Contains(t, res.Explanation, "nothing to judge", name)
	}
}

func TestConvergence(t *testing.T) {
	rep := func(n sim.NodeID, vs ...string) ReplicaState { return ReplicaState{Node: n, Versions: vs} }
	good := Snapshot{Keys: []KeyReplicas{
		{Key: "a", Replicas: []ReplicaState{rep(1, "v1@1", "v2@2"), rep(2, "v2@2", "v1@1"), rep(3, "v1@1", "v2@2")}},
		{Key: "b", Replicas: []ReplicaState{rep(1), {Node: 2, Missing: true}}},
	}}
	res, err := Convergence(good)
	require.NoError(t, err)
	assert.Equal(t, Valid, res.Verdict, res.Explanation)
	assert.Equal(t, "all 2 keys converged (5 replicas compared)", res.Explanation)

	bad := Snapshot{Keys: []KeyReplicas{
		{Key: "z", Replicas: []ReplicaState{rep(1, "v1"), rep(2, "v1")}},
		{Key: "k", Replicas: []ReplicaState{rep(1, "v1", "v2"), rep(2, "v1"), rep(3, "v2", "v1"), {Node: 4, Missing: true}}},
		{Key: "c", Replicas: []ReplicaState{rep(5, "x"), rep(1, "y")}},
	}}
	res, err = Convergence(bad)
	require.NoError(t, err)
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, NameConvergence, res.Checker)
	assert.Equal(t, 2, res.Count)
	require.Len(t, res.Witness, 2)
	assert.Equal(t, "c", res.Witness[0].Key, "sorted by key")
	assert.Equal(t, `replicas differ: n1,n3 hold ["v1" "v2"]; n2 holds ["v1"]; n4 holds no record`, res.Witness[1].Detail)
	assert.Contains(t, res.Explanation, `2 of 3 keys divergent ("c", "k")`)
}

func TestConvergenceBoundsTheWitness(t *testing.T) {
	var s Snapshot
	for i := 0; i < 30; i++ {
		s.Keys = append(s.Keys, KeyReplicas{Key: fmt.Sprintf("k%02d", i), Replicas: []ReplicaState{
			{Node: 1, Versions: []string{"a"}}, {Node: 2, Versions: []string{"b"}},
		}})
	}
	res, err := Convergence(s)
	require.NoError(t, err)
	assert.Equal(t, 30, res.Count)
	assert.Len(t, res.Witness, MaxWitness)
	assert.Contains(t, res.Explanation, "and 25 more")
}

func TestConvergenceBadInput(t *testing.T) {
	cases := map[string]struct {
		s    Snapshot
		want string
	}{
		"duplicate key":    {Snapshot{Keys: []KeyReplicas{{Key: "a", Replicas: []ReplicaState{{Node: 1}}}, {Key: "a", Replicas: []ReplicaState{{Node: 1}}}}}, `key "a" twice`},
		"no replicas":      {Snapshot{Keys: []KeyReplicas{{Key: "a"}}}, `key "a" has no replicas`},
		"duplicate node":   {Snapshot{Keys: []KeyReplicas{{Key: "a", Replicas: []ReplicaState{{Node: 1}, {Node: 1}}}}}, "lists node n1 twice"},
		"missing but full": {Snapshot{Keys: []KeyReplicas{{Key: "a", Replicas: []ReplicaState{{Node: 1, Missing: true, Versions: []string{"v"}}}}}}, "Missing yet holds 1 versions"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Convergence(tc.s)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestConvergenceUnknownOnAnEmptySnapshot(t *testing.T) {
	res, err := Convergence(Snapshot{})
	require.NoError(t, err)
	assert.Equal(t, Unknown, res.Verdict)
	assert.Equal(t, NameConvergence, res.Checker)
	assert.Equal(t, "the snapshot holds no key: no replicas to compare, nothing to judge", res.Explanation)
}
