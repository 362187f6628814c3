package checker

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

func linear(t *testing.T, ops []history.Op, opts LinearOptions) Result {
	t.Helper()
	res, err := Linearizable(ops, opts)
	require.NoError(t, err)
	require.Equal(t, NameLinearizable, res.Checker)
	return res
}

func TestLinearizableValidHistories(t *testing.T) {
	cases := map[string][]history.Op{
		"sequential": {
			wr(0, "x", "a", 0, 10), rd(1, "x", 20, 30, "a"), wr(0, "x", "b", 40, 50), rd(1, "x", 60, 70, "b"),
		},
		"read concurrent with write may see either": {
			wr(0, "x", "a", 0, 10), wr(0, "x", "b", 20, 100), rd(1, "x", 30, 40, "b"), rd(2, "x", 30, 40, "a"),
		},
		"unwritten key is not found": {
			rd(0, "x", 0, 10), wr(1, "x", "a", 20, 30), rd(0, "x", 40, 50, "a"),
		},
		"delete": {
			wr(0, "x", "a", 0, 10), del(1, "x", 20, 30), rd(0, "x", 40, 50),
		},
		"failed write did not happen": {
			wr(0, "x", "a", 0, 10), wrFail(1, "x", "b", 20, 30), rd(0, "x", 40, 50, "a"),
		},
		"info write may take effect late": {
			wr(0, "x", "a", 0, 10), wrInfo(1, "x", "b", 20, 30), rd(0, "x", 40, 50, "a"), rd(0, "x", 60, 70, "b"),
		},
		"info write may never take effect": {
			wr(0, "x", "a", 0, 10), wrInfo(1, "x", "b", 20, 30), rd(0, "x", 40, 50, "a"),
		},
		"keys are independent": {
			wr(0, "x", "a", 0, 10), wr(1, "y", "b", 0, 10), rd(0, "x", 20, 30, "a"), rd(1, "y", 20, 30, "b"),
		},
		"cas": {
			wr(0, "x", "1", 0, 10), cas(1, "x", "1", "2", 20, 30), rd(0, "x", 40, 50, "2"),
		},
		"set adds": {
			add(0, "s", "e1", 0, 10), add(1, "s", "e2", 5, 30), finSet(2, "s", 12, 20, "e1"), finSet(2, "s", 40, 50, "e2", "e1"),
		},
	}
	for name, ops := range cases {
		t.Run(name, func(t *testing.T) {
			res := linear(t, ops, LinearOptions{})
			assert.Equal(t, Valid, res.Verdict, res.Explanation)
			assert.Zero(t, res.Count)
		})
	}
}

func TestLinearizableInvalidHistories(t *testing.T) {
	cases := map[string]struct {
		ops  []history.Op
		want string // in the explanation
	}{
		"stale read": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(0, "x", "b", 20, 30), rd(1, "x", 40, 50, "a"),
		}, `stale read: read "a" after a later write of "b" had ended`},
		"new then old": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(0, "x", "b", 20, 200), rd(1, "x", 30, 40, "b"), rd(2, "x", 50, 60, "a"),
		}, `cannot be ordered`},
		"read of a failed write": {[]history.Op{
			wr(0, "x", "a", 0, 10), wrFail(1, "x", "b", 20, 30), rd(0, "x", 40, 50, "b"),
		}, `"x"`},
		"value from nowhere": {[]history.Op{rd(0, "x", 0, 10, "ghost")}, `"x"`},
		"siblings are not linearizable": {[]history.Op{
			wr(0, "x", "a", 0, 10), wr(1, "x", "b", 0, 10), rd(0, "x", 20, 30, "a", "b"),
		}, `"x"`},
		"lost element": {[]history.Op{
			add(0, "s", "e1", 0, 10), add(1, "s", "e2", 20, 30), finSet(2, "s", 40, 50, "e2"),
		}, `"s"`},
		"deleted key read back": {[]history.Op{
			wr(0, "x", "a", 0, 10), del(1, "x", 20, 30), rd(0, "x", 40, 50, "a"),
		}, `"x"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := linear(t, tc.ops, LinearOptions{})
			assert.Equal(t, Invalid, res.Verdict, res.Explanation)
			assert.Equal(t, 1, res.Count)
			require.Len(t, res.Witness, 1)
			assert.Contains(t, res.Witness[0].Detail, tc.want)
			// The search alone (no pre-pass) reaches the same verdict.
			res = linear(t, tc.ops, LinearOptions{NoPrepass: true})
			assert.Equal(t, Invalid, res.Verdict, res.Explanation)
			require.Len(t, res.Witness, 1)
			assert.Contains(t, res.Witness[0].Detail, "that cannot be ordered")
		})
	}
}

// TestEqualTimesAreConcurrent: a write that ends at the very time a read
// begins may still follow the read (porcupine's rule), in the pre-pass
// and in the search.
func TestEqualTimesAreConcurrent(t *testing.T) {
	ops := []history.Op{wr(0, "x", "1", 0, 10), wr(1, "x", "2", 20, 30), rd(2, "x", 30, 40, "1")}
	for _, noPrepass := range []bool{false, true} {
		res := linear(t, ops, LinearOptions{NoPrepass: noPrepass})
		assert.Equal(t, Valid, res.Verdict, "no pre-pass %v: %s", noPrepass, res.Explanation)
	}
	ops[2].Call = 31
	for _, noPrepass := range []bool{false, true} {
		res := linear(t, ops, LinearOptions{NoPrepass: noPrepass})
		assert.Equal(t, Invalid, res.Verdict, "one nanosecond later it is stale (no pre-pass %v)", noPrepass)
	}
}

func TestLinearizableNamesOnlyTheBadKeys(t *testing.T) {
	ops := []history.Op{
		wr(0, "good", "a", 0, 10), rd(1, "good", 20, 30, "a"),
		wr(0, "bad", "a", 40, 50), wr(0, "bad", "b", 60, 70), rd(1, "bad", 80, 90, "a"),
		wr(0, "worse", "c", 100, 110), rd(1, "worse", 120, 130),
	}
	res := linear(t, ops, LinearOptions{})
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, 2, res.Count)
	require.Len(t, res.Witness, 2)
	assert.Equal(t, "bad", res.Witness[0].Key)
	assert.Equal(t, "worse", res.Witness[1].Key)
	assert.Equal(t, sim.Time(80), res.Witness[0].Time, "the stale read's call")
	assert.Contains(t, res.Witness[0].Detail, `stale read: read "a" after a later write of "b" had ended; a smallest set of 3 operations`)
	assert.Contains(t, res.Explanation, `2 keys ("bad", "worse")`)
	assert.Contains(t, res.Explanation, "2 found by the stale/future-read pre-pass")

	res = linear(t, ops, LinearOptions{NoPrepass: true})
	require.Equal(t, Invalid, res.Verdict)
	require.Len(t, res.Witness, 1, "the search stops at the first violation")
	assert.Contains(t, res.Explanation, `at least 1 key ("bad")`)
	assert.Contains(t, res.Explanation, "left 2 keys undecided")
	assert.Contains(t, res.Witness[0].Detail, `covers 2 of its 3 operations and leaves the state "b"`)
	assert.Contains(t, res.Witness[0].Detail, `a smallest set of 3 operations that cannot be ordered`)
	assert.NotContains(t, res.Explanation, "pre-pass")
}

func TestLinearizableModels(t *testing.T) {
	ops := []history.Op{wr(0, "x", "1", 0, 10), cas(1, "x", "1", "2", 20, 30), rd(0, "x", 40, 50, "2")}
	_, err := Linearizable(ops, LinearOptions{Model: ModelRegister})
	require.ErrorContains(t, err, "the register model does not accept cas operations")
	res, err := Linearizable(ops, LinearOptions{Model: ModelCASRegister})
	require.NoError(t, err)
	assert.Equal(t, Valid, res.Verdict)

	_, err = Linearizable([]history.Op{del(0, "x", 0, 1)}, LinearOptions{Model: ModelCASRegister})
	require.ErrorContains(t, err, "does not accept delete")

	_, err = Linearizable(ops, LinearOptions{Model: "queue"})
	require.ErrorContains(t, err, `unknown model "queue"`)

	_, err = Linearizable([]history.Op{add(0, "s", "e", 0, 1), wr(0, "s", "v", 2, 3)}, LinearOptions{})
	require.ErrorContains(t, err, `key "s" holds a set`)

	_, err = Linearizable([]history.Op{wr(0, "x", "a", 10, 5)}, LinearOptions{})
	require.ErrorContains(t, err, "before its call")

	// a cas that fails is dropped; one that cannot have succeeded is invalid
	bad := []history.Op{wr(0, "x", "1", 0, 10), cas(1, "x", "9", "2", 20, 30)}
	res, err = Linearizable(bad, LinearOptions{Model: ModelCASRegister})
	require.NoError(t, err)
	assert.Equal(t, Invalid, res.Verdict)
	bad[1].Outcome = history.Fail
	res, err = Linearizable(bad, LinearOptions{Model: ModelCASRegister})
	require.NoError(t, err)
	assert.Equal(t, Valid, res.Verdict)
	// an info cas may or may not have swapped
	maybe := []history.Op{wr(0, "x", "1", 0, 10), info(cas(1, "x", "1", "2", 20, 30)), rd(0, "x", 40, 50, "1"), rd(0, "x", 60, 70, "2")}
	res, err = Linearizable(maybe, LinearOptions{Model: ModelCASRegister})
	require.NoError(t, err)
	assert.Equal(t, Valid, res.Verdict)
}

func TestParseModel(t *testing.T) {
	for _, s := range []string{"kv", "register", "cas-register"} {
		m, err := ParseModel(s)
		require.NoError(t, err)
		assert.Equal(t, Model(s), m)
	}
	_, err := ParseModel("Register")
	require.Error(t, err)
}

// hardHistory has many concurrent info writes that were never observed:
// without the patch, porcupine must consider every subset of them.
func hardHistory() []history.Op {
	var ops []history.Op
	ops = append(ops, wr(0, "x", "init", 0, 1))
	for i := 0; i < 40; i++ {
		ops = append(ops, wrInfo(1+i, "x", "w"+string(rune('A'+i)), sim.Time(10+i), 5000))
	}
	for i := 0; i < 200; i++ {
		ops = append(ops, rd(100, "x", sim.Time(6000+10*i), sim.Time(6005+10*i), "init"))
	}
	ops = append(ops, rd(101, "x", 9000, 9001, "never-written"))
	return ops
}

func TestLinearizableUnknownOnTinyBudget(t *testing.T) {
	opts := LinearOptions{NoPatch: true, NoPrepass: true, Steps: 1000}
	res := linear(t, hardHistory(), opts)
	assert.Equal(t, Unknown, res.Verdict, "a budget that runs out is never a pass")
	assert.Contains(t, res.Explanation, "the search budget of 1000 model steps ran out")
	assert.Equal(t, "steps", res.Exhausted)
	assert.Zero(t, res.Count)
	assert.Equal(t, res, linear(t, hardHistory(), opts), "a step budget gives the same result every time")

	// The memory budget: Unknown, saying which budget ran out.
	res = linear(t, hardHistory(), LinearOptions{NoPatch: true, NoPrepass: true, MemoryBytes: 1 << 20})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Equal(t, "memory", res.Exhausted)
	assert.Contains(t, res.Explanation, "the memory budget of 1 MiB ran out")

	// The wall clock is only a safety net, and says so.
	res = linear(t, hardHistory(), LinearOptions{NoPatch: true, NoPrepass: true, Timeout: time.Nanosecond})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Equal(t, "wall-clock", res.Exhausted)
	assert.Contains(t, res.Explanation, "wall-clock safety net of 1ns fired: this depends on the machine")

	// The pre-pass decides it at once: a read of a value nobody wrote.
	res = linear(t, hardHistory(), LinearOptions{NoPatch: true, Steps: 1000})
	assert.Equal(t, Invalid, res.Verdict)
	assert.Contains(t, res.Witness[0].Detail, `future read: read "never-written", which no operation wrote`)
}

func TestPatchInfo(t *testing.T) {
	ops := []history.Op{
		wr(0, "x", "a", 0, 10),
		wrInfo(1, "x", "unseen", 20, 30),   // dropped
		wrInfo(2, "x", "seen", 25, 35),     // bounded by the earliest-returning observer
		rd(3, "x", 40, 90, "seen"),         // returns last
		rd(4, "x", 50, 60, "seen"),         // returns first: 60
		wrInfo(5, "x", "expected", 70, 80), // only an info cas expects it: kept at Never
		info(cas(6, "x", "expected", "z", 85, 95)),
		wrInfo(7, "y", "early", 200, 210), // observed before it was invoked
		rd(8, "y", 100, 150, "early"),
		wrInfo(9, "z", "dup", 0, 5), // value not unique: left alone
		wr(10, "z", "dup", 1, 2),
		wrInfo(11, "y", "by-cas", 300, 310), // an ok cas observed it
		cas(12, "y", "by-cas", "q", 305, 320),
		wrInfo(13, "w", "cas-made", 0, 5), // a cas also produces its value: left alone
		cas(14, "w", "", "cas-made", 10, 20),
		rd(15, "w", 30, 40, "cas-made"),
		wrInfo(16, "a", "same", 0, 5), // the same value on another key does not count
		wr(17, "b", "same", 0, 5),
		rd(18, "a", 10, 20, "same"),
	}
	got := PatchInfo(ops)
	byValue := map[string]history.Op{}
	for _, o := range got {
		if o.Kind == history.Write && o.Outcome == history.Info {
			byValue[o.Key+"/"+o.Value] = o
		}
	}
	assert.NotContains(t, byValue, "x/unseen")
	assert.Len(t, got, len(ops)-1)
	assert.Equal(t, sim.Time(60), byValue["x/seen"].Return)
	assert.Equal(t, sim.Never, byValue["x/expected"].Return)
	assert.Equal(t, sim.Time(200), byValue["y/early"].Return, "never before its own call")
	assert.Equal(t, sim.Never, byValue["z/dup"].Return)
	assert.Equal(t, sim.Time(320), byValue["y/by-cas"].Return)
	assert.Equal(t, sim.Never, byValue["w/cas-made"].Return)
	assert.Equal(t, sim.Time(20), byValue["a/same"].Return)
	assert.Equal(t, history.Info, byValue["x/seen"].Outcome, "the outcome stays info")
	assert.Equal(t, sim.Never, ops[2].Return, "the input is not modified")

	// Bounding an info write whose value a cas also produces would change
	// the verdict: here the info write takes effect after "y", the cas
	// having made the first "v".
	shared := []history.Op{
		wr(0, "x", "x", 0, 5), wrInfo(1, "x", "v", 1, 2), cas(2, "x", "x", "v", 10, 20),
		rd(3, "x", 30, 40, "v"), wr(4, "x", "y", 50, 60), rd(5, "x", 70, 80, "v"),
	}
	res := linear(t, shared, LinearOptions{Model: ModelCASRegister})
	assert.Equal(t, Valid, res.Verdict, res.Explanation)

	// The patch turns the hard history into an easy one with the same verdict.
	hard := hardHistory()
	res = linear(t, hard, LinearOptions{Timeout: 10 * time.Second})
	assert.Equal(t, Invalid, res.Verdict, "the never-written read is a violation")
	assert.Contains(t, res.Explanation, "40 unobserved dropped")
	res = linear(t, hard[:len(hard)-1], LinearOptions{Timeout: 10 * time.Second})
	assert.Equal(t, Valid, res.Verdict)
}

// TestPatchPreservesVerdict checks the patch's soundness proof on random
// small histories: patched and unpatched porcupine always agree.
func TestPatchPreservesVerdict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 9).Draw(t, "n")
		var ops []history.Op
		written := []string{}
		for i := 0; i < n; i++ {
			call := sim.Time(rapid.IntRange(0, 50).Draw(t, "call"))
			ret := call + sim.Time(rapid.IntRange(0, 20).Draw(t, "lat"))
			c := i
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0, 1:
				v := string(rune('a' + i))
				written = append(written, v)
				o := wr(c, "x", v, call, ret)
				switch rapid.IntRange(0, 3).Draw(t, "outcome") {
				case 0:
					o = info(o)
				case 1:
					o.Outcome = history.Fail
				}
				ops = append(ops, o)
			case 2:
				if len(written) == 0 || rapid.Bool().Draw(t, "nf") {
					ops = append(ops, rd(c, "x", call, ret))
				} else {
					ops = append(ops, rd(c, "x", call, ret, rapid.SampledFrom(written).Draw(t, "v")))
				}
			case 3:
				if len(written) > 0 {
					o := cas(c, "x", rapid.SampledFrom(written).Draw(t, "from"), "c"+string(rune('a'+i)), call, ret)
					if rapid.Bool().Draw(t, "infocas") {
						o = info(o)
					}
					ops = append(ops, o)
				}
			}
		}
		a, err := Linearizable(ops, LinearOptions{Model: ModelCASRegister})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Linearizable(ops, LinearOptions{Model: ModelCASRegister, NoPatch: true})
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict != b.Verdict {
			t.Fatalf("patched %s, unpatched %s for %v", a.Verdict, b.Verdict, ops)
		}
	})
}

func TestLinearizableVisualization(t *testing.T) {
	ops := []history.Op{
		wr(0, "fine", "a", 0, 10), rd(1, "fine", 20, 30, "a"),
		wr(0, "x", "a", 40, 50), wr(0, "x", "b", 60, 70), rd(1, "x", 80, 90, "a"),
	}
	var buf bytes.Buffer
	res := linear(t, ops, LinearOptions{Visualize: &buf, Annotations: []Annotation{{Start: 55, End: 85, Label: "partition n1|n2"}}})
	require.Equal(t, Invalid, res.Verdict)
	html := buf.String()
	assert.True(t, strings.HasPrefix(html, "<!DOCTYPE html>") || strings.Contains(html, "<html"), "an HTML page")
	assert.Contains(t, html, "partition n1|n2")
	assert.Contains(t, html, `\"x\": read → \"a\"`)
	assert.NotContains(t, html, `\"fine\"`, "only the non-linearizable keys are drawn")

	buf.Reset()
	res = linear(t, ops[:2], LinearOptions{Visualize: &buf})
	require.Equal(t, Valid, res.Verdict)
	assert.Zero(t, buf.Len(), "nothing to draw for a valid history")
}

// Porcupine collects a key's partial linearizations from a map: two of the
// same length (here w(a) w(b) r(b) and w(b) w(a) r(a): concurrent writes,
// then concurrent reads that see them in opposite orders) come out in
// either order. The page must not: it is part of a seed's output, the
// same byte for byte.
func TestLinearizableVisualizationIsDeterministic(t *testing.T) {
	ops := []history.Op{wr(0, "k", "a", 0, 50), wr(1, "k", "b", 0, 50), rd(2, "k", 60, 70, "a"), rd(3, "k", 60, 70, "b")}
	var first string
	for i := range 24 {
		var buf bytes.Buffer
		res := linear(t, ops, LinearOptions{Visualize: &buf})
		require.Equal(t, Invalid, res.Verdict)
		if i == 0 {
			first = buf.String()
			continue
		}
		require.Equal(t, first, buf.String(), "run %d drew another page", i)
	}
	at := strings.Index(first, string(visualDataMarker))
	require.Positive(t, at)
	var data struct {
		Partitions []struct {
			PartialLinearizations [][]visualStep
			Largest               map[int]int
		}
	}
	require.NoError(t, json.NewDecoder(strings.NewReader(first[at+len(visualDataMarker):])).Decode(&data))
	require.Len(t, data.Partitions, 1)
	p := data.Partitions[0]
	require.Len(t, p.PartialLinearizations, 2, "both orders of the writes")
	assert.Equal(t, []visualStep{{0, `"a"`}, {1, `"b"`}, {3, `"b"`}}, p.PartialLinearizations[0], "the tie is broken by the operations")
	assert.Equal(t, []visualStep{{1, `"b"`}, {0, `"a"`}, {2, `"a"`}}, p.PartialLinearizations[1])
	assert.Equal(t, map[int]int{0: 0, 1: 0, 2: 1, 3: 0}, p.Largest, "each operation's largest is the first longest that holds it")
}

func TestCanonicalVisualizationRefusesAnUnknownPage(t *testing.T) {
	for _, page := range []string{"<html></html>", "const data = {", "const data = {} const data = {}", `const data = {"Partitions":[{"PartialLinearizations":[]}]}`} {
		_, err := canonicalVisualization([]byte(page))
		assert.Error(t, err, page)
	}
}

func TestLinearizableJepsenEDN(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Verdict
	}{
		{"testdata/jepsen-cas-register-valid.edn", Valid},
		{"testdata/jepsen-cas-register-invalid.edn", Invalid},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(tc.file)
			require.NoError(t, err)
			defer f.Close()
			events, err := history.ReadEDN(f)
			require.NoError(t, err)
			ops, err := history.Pair(events)
			require.NoError(t, err)
			res := linear(t, ops, LinearOptions{Model: ModelCASRegister, Timeout: 10 * time.Second})
			assert.Equal(t, tc.want, res.Verdict, res.Explanation)
		})
	}
}

func TestLinearizableGeneratedHistoriesAreValid(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		ops := generate(genConfig{ops: 400, clients: 5, keys: 3, infoWrites: 0.05, seed: seed})
		res := linear(t, ops, LinearOptions{Timeout: 10 * time.Second})
		assert.Equal(t, Valid, res.Verdict, "seed %d: %s", seed, res.Explanation)
	}
}

func TestBadHistoryInputIsAnError(t *testing.T) {
	_, err := history.Pair([]history.Event{{Index: 0, Type: history.OK, Client: 2, Kind: history.Read, Key: "x"}})
	require.ErrorContains(t, err, "without an open invocation")
	_, err = Linearizable([]history.Op{{Kind: history.Read, Key: "x", Outcome: "done"}}, LinearOptions{})
	require.ErrorContains(t, err, `outcome "done"`)
}

// badAndHard is an easily non-linearizable key "a" (a read of a value
// written after it returned), a linearizable key "b", and hardHistory's key
// "x" unpatched: deciding "x" takes far more than a million model steps.
func badAndHard() []history.Op {
	ops := []history.Op{
		wr(0, "a", "1", 0, 10), rd(1, "a", 20, 30, "2"), wr(0, "a", "2", 40, 50),
		wr(0, "b", "1", 0, 10), rd(1, "b", 20, 30, "1"),
	}
	return append(ops, hardHistory()...)
}

// TestLinearizableExplanationIsDeterministic: the verdict, explanation
// and witness depend on the history and the step budgets, never on the
// wall-clock Timeout or on how fast the machine is.
func TestLinearizableExplanationIsDeterministic(t *testing.T) {
	opts := LinearOptions{NoPatch: true, NoPrepass: true, Steps: 2_000_000}
	ref := linear(t, badAndHard(), opts)
	require.Equal(t, Invalid, ref.Verdict)
	assert.Equal(t, 1, ref.Count)
	assert.Contains(t, ref.Explanation, `not linearizable: at least 1 key ("a") of`)
	assert.Contains(t, ref.Explanation, "the search stopped at the first violation it found, which left 2 keys undecided")
	require.Len(t, ref.Witness, 1)
	assert.Equal(t, "a", ref.Witness[0].Key)
	assert.Contains(t, ref.Witness[0].Detail, `already the operations invoked by 30ns cannot be ordered (nothing invoked later can change that, so the witness leaves it out); a smallest set of 1 operation that cannot be ordered: c1 read "a" ok ["2"] [20ns, 30ns]`)

	again := linear(t, badAndHard(), opts)
	assert.Equal(t, ref, again, "two runs, one result")

	// A wall-clock safety net that fires gives Unknown, and says so; one
	// that does not fire changes nothing.
	for _, timeout := range []time.Duration{time.Microsecond, time.Millisecond, time.Minute} {
		opts.Timeout = timeout
		res := linear(t, badAndHard(), opts)
		if res.Verdict == Unknown {
			assert.Equal(t, "wall-clock", res.Exhausted)
			continue
		}
		assert.Equal(t, ref, res, "timeout %s", timeout)
	}

	// With the pre-pass, both bad keys are named without any search.
	res := linear(t, badAndHard(), LinearOptions{NoPatch: true, Steps: 1})
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, 2, res.Count)
	assert.Contains(t, res.Explanation, `2 keys ("a", "x")`)
}

// TestLinearizableWitnessBudgetFallback: a witness budget too small to
// shrink the witness says so, the same every time.
func TestLinearizableWitnessBudgetFallback(t *testing.T) {
	ops := []history.Op{
		wr(0, "a", "1", 0, 10), rd(2, "a", 12, 14, "1"), wr(0, "a", "2", 20, 30), rd(1, "a", 40, 50, "1"),
	}
	opts := LinearOptions{NoPrepass: true, WitnessSteps: 1}
	res := linear(t, ops, opts)
	require.Equal(t, Invalid, res.Verdict)
	assert.Equal(t, 1, res.Count)
	require.Len(t, res.Witness, 1)
	assert.Contains(t, res.Witness[0].Detail, "a set (not shrunk further: the witness budget ran out; raise -witness-steps, or LinearOptions.WitnessSteps) of 4 operations")
	assert.Equal(t, res, linear(t, ops, opts))

	// with the default budget the witness is shrunk to the 3 operations
	// that cannot be ordered: the first read goes
	res = linear(t, ops, LinearOptions{NoPrepass: true})
	require.Equal(t, Invalid, res.Verdict)
	assert.Contains(t, res.Witness[0].Detail, "a smallest set of 3 operations that cannot be ordered")
	assert.NotContains(t, res.Witness[0].Detail, "[12ns")
}
