package checker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

func app(c int, key, v string, call, ret sim.Time) history.Op {
	return history.Op{Client: c, Kind: history.Append, Key: key, Value: v, Outcome: history.OK, Call: call, Return: ret, End: ret}
}

func lock(c int, kind history.Kind, call, ret sim.Time) history.Op {
	return history.Op{Client: c, Kind: kind, Key: "lock", Outcome: history.OK, Call: call, Return: ret, End: ret}
}

// TestModels: each model on a valid and a known-bad history, with and
// without the pre-pass.
func TestModels(t *testing.T) {
	cases := []struct {
		name  string
		opts  LinearOptions
		ops   []history.Op
		valid bool
	}{
		{"kv append concatenates", LinearOptions{Model: ModelKV}, []history.Op{
			rd(0, "k", 0, 5, ""), app(0, "k", "x", 10, 20), app(1, "k", "y", 30, 40), rd(2, "k", 50, 60, "xy"),
		}, true},
		{"kv append: a read of nothing is the empty string", LinearOptions{Model: ModelKV}, []history.Op{
			rd(0, "k", 0, 5), app(0, "k", "x", 10, 20), rd(2, "k", 50, 60, "x"),
		}, true},
		{"kv append: concurrent appends in either order", LinearOptions{Model: ModelKV}, []history.Op{
			app(0, "k", "x", 10, 40), app(1, "k", "y", 10, 40), rd(2, "k", 50, 60, "yx"),
		}, true},
		{"kv append: a lost append", LinearOptions{Model: ModelKV}, []history.Op{
			app(0, "k", "x", 10, 20), app(1, "k", "y", 30, 40), rd(2, "k", 50, 60, "y"),
		}, false},
		{"set", LinearOptions{Model: ModelSet}, []history.Op{
			add(0, "s", "a", 0, 10), add(1, "s", "b", 20, 30), finSet(2, "s", 40, 50, "b", "a"),
		}, true},
		{"set: lost element", LinearOptions{Model: ModelSet}, []history.Op{
			add(0, "s", "a", 0, 10), add(1, "s", "b", 20, 30), finSet(2, "s", 40, 50, "b"),
		}, false},
		{"mutex", LinearOptions{Model: ModelMutex}, []history.Op{
			lock(0, history.Acquire, 0, 10), lock(0, history.Release, 20, 30), lock(1, history.Acquire, 40, 50),
		}, true},
		{"mutex: two holders", LinearOptions{Model: ModelMutex}, []history.Op{
			lock(0, history.Acquire, 0, 10), lock(1, history.Acquire, 20, 30),
		}, false},
		{"mutex: release of a free lock", LinearOptions{Model: ModelMutex}, []history.Op{
			lock(0, history.Release, 0, 10),
		}, false},
		{"initial value", LinearOptions{Model: ModelCASRegister, Initial: "0", HasInitial: true}, []history.Op{
			rd(0, "r", 0, 10, "0"), cas(1, "r", "0", "1", 20, 30), rd(0, "r", 40, 50), rd(0, "r", 60, 70, "1"),
		}, true},
		{"initial value: stale", LinearOptions{Model: ModelCASRegister, Initial: "0", HasInitial: true}, []history.Op{
			cas(1, "r", "0", "1", 20, 30), rd(0, "r", 40, 50, "0"),
		}, false},
		{"failed cas did not happen", LinearOptions{Model: ModelCASRegister}, []history.Op{
			wr(0, "r", "1", 0, 10), func() history.Op { o := cas(1, "r", "1", "2", 20, 30); o.Outcome = history.Fail; return o }(), rd(0, "r", 40, 50, "1"),
		}, true},
		{"info cas may or may not have swapped", LinearOptions{Model: ModelCASRegister}, []history.Op{
			wr(0, "r", "1", 0, 10), info(cas(1, "r", "1", "2", 20, 30)), rd(0, "r", 40, 50, "1"), rd(0, "r", 60, 70, "2"),
		}, true},
	}
	for _, c := range cases {
		for _, noPrepass := range []bool{false, true} {
			o := c.opts
			o.NoPrepass = noPrepass
			res := linear(t, c.ops, o)
			want := Invalid
			if c.valid {
				want = Valid
			}
			assert.Equal(t, want, res.Verdict, "%s (no pre-pass %v): %s", c.name, noPrepass, res.Explanation)
		}
	}
}

func TestModelErrors(t *testing.T) {
	_, err := Linearizable([]history.Op{lock(0, history.Acquire, 0, 1)}, LinearOptions{Model: ModelRegister})
	require.ErrorContains(t, err, "the register model does not accept acquire operations (use -model mutex)")
	_, err = Linearizable([]history.Op{app(0, "k", "x", 0, 1), cas(0, "k", "x", "y", 2, 3)}, LinearOptions{Model: ModelKV})
	require.ErrorContains(t, err, `key "k" holds a string built by appends`)
	_, err = Linearizable(nil, LinearOptions{Model: ModelSet, HasInitial: true, Initial: "0"})
	require.ErrorContains(t, err, "the set model takes none")
	_, err = ParseModel("graph")
	require.ErrorContains(t, err, `unknown model "graph" (want kv, register or cas-register (or set, mutex))`)
	for _, m := range []string{"kv", "register", "cas-register", "set", "mutex"} {
		got, err := ParseModel(m)
		require.NoError(t, err)
		assert.Equal(t, Model(m), got)
	}
}
