package checker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// TestPrepassNamesStaleAndFutureReads: each rule of the pre-pass on a
// known-bad history, and histories it must leave to the search.
func TestPrepassNamesStaleAndFutureReads(t *testing.T) {
	bad := map[string]struct {
		ops  []history.Op
		opts LinearOptions
		want string
		n    int // operations in the witness
	}{
		"stale": {[]history.Op{wr(0, "x", "1", 0, 10), wr(1, "x", "2", 20, 30), rd(2, "x", 40, 50, "1")}, LinearOptions{},
			`stale read: read "1" after a later write of "2" had ended`, 3},
		"stale initial": {[]history.Op{wr(1, "x", "2", 20, 30), rd(2, "x", 40, 50)}, LinearOptions{},
			`stale read: read empty (the initial state) after another value was written`, 2},
		"stale initial value": {[]history.Op{wr(1, "x", "2", 20, 30), rd(2, "x", 40, 50, "0")}, LinearOptions{Initial: "0", HasInitial: true},
			`stale read: read "0" (the initial state)`, 2},
		"stale cas": {[]history.Op{wr(0, "x", "1", 0, 10), wr(1, "x", "2", 20, 30), cas(2, "x", "1", "3", 40, 50)}, LinearOptions{Model: ModelCASRegister},
			`stale read: cas expected "1"`, 3},
		"future": {[]history.Op{rd(2, "x", 0, 10, "1"), wr(0, "x", "1", 20, 30)}, LinearOptions{},
			`future read: read "1", and returned before its only writer was invoked`, 2},
		"never written": {[]history.Op{wrFail(0, "x", "1", 0, 10), rd(2, "x", 20, 30, "1")}, LinearOptions{},
			`future read: read "1", which no operation wrote (failed operations did not happen)`, 1},
		"future, values not unique": {[]history.Op{rd(2, "x", 0, 10, "1"), wr(0, "x", "1", 20, 30), wr(1, "x", "1", 40, 50)}, LinearOptions{},
			`future read: read "1", and returned before any of its writers was invoked`, 1},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			model := c.opts.Model
			if model == "" {
				model = ModelKV
			}
			v := prepass(c.ops, model, c.opts)
			require.NotNil(t, v, "the pre-pass must name it")
			assert.Contains(t, v.detail, c.want)
			assert.Len(t, v.ops, c.n)
			res := linear(t, c.ops, c.opts)
			assert.Equal(t, Invalid, res.Verdict)
			res = linear(t, c.ops, LinearOptions{Model: c.opts.Model, Initial: c.opts.Initial, HasInitial: c.opts.HasInitial, NoPrepass: true})
			assert.Equal(t, Invalid, res.Verdict, "the search agrees: %s", res.Explanation)
		})
	}
	left := map[string][]history.Op{
		"concurrent read":     {wr(0, "x", "1", 0, 10), wr(1, "x", "2", 20, 30), rd(2, "x", 25, 50, "1")},
		"info write":          {wr(0, "x", "1", 0, 10), wrInfo(1, "x", "2", 20, 30), rd(2, "x", 40, 50, "1")},
		"values not unique":   {wr(0, "x", "1", 0, 10), wr(1, "x", "2", 20, 30), wr(3, "x", "1", 20, 60), rd(2, "x", 40, 50, "1")},
		"deletes are skipped": {wr(0, "x", "1", 0, 10), del(1, "x", 20, 30), rd(2, "x", 40, 50, "1")},
	}
	for name, ops := range left {
		assert.Nil(t, prepass(ops, ModelKV, LinearOptions{}), name)
	}
}

// TestPrepassIsSound: on random small register histories, whatever the
// pre-pass names, the full search (without it) also finds not
// linearizable.
func TestPrepassIsSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "n")
		var ops []history.Op
		values := []string{"a", "b", "c", "d"}
		for i := 0; i < n; i++ {
			call := sim.Time(rapid.IntRange(0, 40).Draw(t, "call"))
			ret := call + sim.Time(rapid.IntRange(0, 15).Draw(t, "lat"))
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0:
				o := wr(i, "x", rapid.SampledFrom(values).Draw(t, "v"), call, ret)
				switch rapid.IntRange(0, 3).Draw(t, "outcome") {
				case 0:
					o = info(o)
				case 1:
					o.Outcome = history.Fail
				}
				ops = append(ops, o)
			case 1:
				if rapid.Bool().Draw(t, "nf") {
					ops = append(ops, rd(i, "x", call, ret))
				} else {
					ops = append(ops, rd(i, "x", call, ret, rapid.SampledFrom(values).Draw(t, "r")))
				}
			case 2:
				ops = append(ops, cas(i, "x", rapid.SampledFrom(values).Draw(t, "from"), rapid.SampledFrom(values).Draw(t, "to"), call, ret))
			}
		}
		opts := LinearOptions{Model: ModelCASRegister}
		if rapid.Bool().Draw(t, "initial") {
			opts.Initial, opts.HasInitial = "a", true
		}
		pre := linearOps(t, ops, opts)
		opts.NoPrepass = true
		full := linearOps(t, ops, opts)
		if pre.Verdict != full.Verdict {
			t.Fatalf("with the pre-pass %s (%s), without %s, for %v", pre.Verdict, pre.Explanation, full.Verdict, ops)
		}
	})
}

func linearOps(t *rapid.T, ops []history.Op, opts LinearOptions) Result {
	res, err := Linearizable(ops, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
