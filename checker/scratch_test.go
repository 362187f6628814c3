package checker

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// linCase is a Linearizable call for the scratch tests.
type linCase struct {
	name string
	ops  []history.Op
	opts LinearOptions
}

// staleRead makes ops non-linearizable: an ok read of key in the second
// half returns the key's first ok write, long overwritten.
func staleRead(ops []history.Op, key string) []history.Op {
	ops = slices.Clone(ops)
	first := ""
	for _, o := range ops {
		if o.Key == key && o.Kind == history.Write && o.Outcome == history.OK {
			first = o.Value
			break
		}
	}
	for i := len(ops) / 2; i < len(ops); i++ {
		o := &ops[i]
		if o.Key == key && o.Kind == history.Read && o.Outcome == history.OK && !o.NotFound && o.Values[0] != first {
			o.Values = []string{first}
			return ops
		}
	}
	panic("no read to make stale")
}

// linCases are calls of every kind: big and small, valid, invalid (found
// by the pre-pass, by the search and shrunk), undecided for lack of steps
// or memory, searched in several rounds, with an initial value, on sets,
// appends and locks.
func linCases() []linCase {
	big := generate(genConfig{ops: 3000, clients: 10, keys: 4, infoWrites: 0.1, slow: 0.03, seed: 7})
	bigBad := staleRead(big, "k2")
	small := []history.Op{wr(0, "a", "1", 0, 10), rd(1, "a", 5, 15, "1"), wr(1, "b", "x", 20, 30), rd(0, "b", 31, 40, "x")}
	smallBad := []history.Op{wr(0, "a", "1", 0, 10), rd(2, "a", 12, 14, "1"), wr(0, "a", "2", 20, 30), rd(1, "a", 40, 50, "1")}
	kv := []history.Op{
		add(0, "s", "e1", 0, 10), add(1, "s", "e2", 5, 15), finSet(2, "s", 20, 30, "e1", "e2"),
		{Client: 0, Kind: history.Append, Key: "t", Value: "ab", Outcome: history.OK, Call: 0, Return: 10},
		{Client: 1, Kind: history.Append, Key: "t", Value: "cd", Outcome: history.OK, Call: 20, Return: 30},
		rd(2, "t", 40, 50, "abcd"), del(0, "u", 0, 5), rd(1, "u", 10, 20),
		cas(0, "v", "", "1", 0, 5), wr(1, "v", "2", 10, 20), rd(2, "v", 30, 40, "1"),
	}
	mutex := []history.Op{
		{Client: 0, Kind: history.Acquire, Key: "l", Outcome: history.OK, Call: 0, Return: 10},
		{Client: 1, Kind: history.Acquire, Key: "l", Outcome: history.OK, Call: 5, Return: 15},
	}
	return []linCase{
		{"big-valid", big, LinearOptions{}},
		{"big-valid-unpatched", big, LinearOptions{NoPatch: true, NoPrepass: true}},
		{"big-invalid-prepass", bigBad, LinearOptions{}},
		{"big-invalid-search", bigBad, LinearOptions{NoPrepass: true}},
		{"big-invalid-visualized", bigBad, LinearOptions{NoPrepass: true, Visualize: &bytes.Buffer{}}},
		{"small-valid", small, LinearOptions{}},
		{"small-invalid", smallBad, LinearOptions{NoPrepass: true}},
		{"small-invalid-unshrunk", smallBad, LinearOptions{NoPrepass: true, WitnessSteps: 1}},
		{"hard-steps", hardHistory(), LinearOptions{NoPatch: true, NoPrepass: true, Steps: 1000}},
		{"hard-memory", hardHistory(), LinearOptions{NoPatch: true, NoPrepass: true, MemoryBytes: 1 << 20}},
		{"bad-and-hard-rounds", badAndHard(), LinearOptions{NoPatch: true, NoPrepass: true, Steps: 2_000_000}},
		{"initial", big, LinearOptions{Model: ModelCASRegister, HasInitial: true, Initial: "v0"}},
		{"kv", kv, LinearOptions{NoPrepass: true}},
		{"mutex", mutex, LinearOptions{Model: ModelMutex}},
	}
}

// checkFresh is Linearizable in scratch memory of its own, as the first
// call of a process would run.
func checkFresh(t *testing.T, c linCase, steps int64) (Result, string) {
	t.Helper()
	return checkIn(t, c, steps, new(linScratch), false)
}

// checkIn runs c in sc (recycled after) with its step budget replaced by
// steps (if not 0), and returns the result and the visualization. If
// inspect, it then requires that the scratch holds nothing of c.
func checkIn(t *testing.T, c linCase, steps int64, sc *linScratch, inspect bool) (Result, string) {
	t.Helper()
	opts := c.opts
	var vis bytes.Buffer
	if opts.Visualize != nil {
		opts.Visualize = &vis
	}
	if steps != 0 {
		opts.Steps = steps
	}
	res, err := linearizable(c.ops, opts, sc)
	require.NoError(t, err, c.name)
	before := cloneResult(res)
	sc.recycle()
	require.Equal(t, before, res, "%s: recycling the scratch changes the result", c.name)
	if inspect {
		assertNoHistory(t, sc, c.name)
	}
	return res, vis.String()
}

// TestScratchReuseKeepsEveryResult: calls that reuse one scratch (big
// after small, invalid after valid, and the reverse), and calls through
// the pool from several goroutines at once, return exactly what a call
// with fresh memory returns, visualization included; and after each call
// the scratch holds nothing of the history.
func TestScratchReuseKeepsEveryResult(t *testing.T) {
	cases := linCases()
	type want struct {
		res Result
		vis string
	}
	fresh := make([]want, len(cases))
	verdicts := map[Verdict]int{}
	for i, c := range cases {
		fresh[i].res, fresh[i].vis = checkFresh(t, c, 0)
		verdicts[fresh[i].res.Verdict]++
	}
	require.Positive(t, verdicts[Valid])
	require.Positive(t, verdicts[Invalid])
	require.Positive(t, verdicts[Unknown])
	require.NotEmpty(t, fresh[4].vis, "the visualized case draws")

	orders := [][]int{}
	forward := make([]int, len(cases))
	for i := range forward {
		forward[i] = i
	}
	backward := slices.Clone(forward)
	slices.Reverse(backward)
	// Each case before and after a big invalid one, a small invalid one,
	// and one searched in rounds.
	var pairs []int
	for i := range cases {
		for _, j := range []int{3, 6, 10} {
			if i != j {
				pairs = append(pairs, i, j, i)
			}
		}
	}
	orders = append(orders, forward, backward, pairs)
	sc := new(linScratch)
	for k, order := range orders {
		for _, i := range order {
			res, vis := checkIn(t, cases[i], 0, sc, k < 2)
			require.Equal(t, fresh[i].res, res, "%s after reuse", cases[i].name)
			require.Equal(t, fresh[i].vis, vis, "%s after reuse: the visualization", cases[i].name)
		}
	}

	// Through the pool, concurrently.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 2 * len(cases) {
				i := (k*(g+1) + g) % len(cases)
				c := cases[i]
				opts := c.opts
				var vis bytes.Buffer
				if opts.Visualize != nil {
					opts.Visualize = &vis
				}
				res, err := Linearizable(c.ops, opts)
				assert.NoError(t, err)
				assert.Equal(t, fresh[i].res, res, "%s through the pool", c.name)
				assert.Equal(t, fresh[i].vis, vis.String(), "%s through the pool: the visualization", c.name)
			}
		}()
	}
	wg.Wait()
}

// TestScratchReuseKeepsEveryStep: the search takes exactly as many steps
// in reused memory as in fresh memory. For each case searched without a
// step budget, the fewest steps S that decide it are found with fresh
// memory; in memory a big invalid check just used, S still decides it
// and S-1 still does not.
func TestScratchReuseKeepsEveryStep(t *testing.T) {
	cases := linCases()
	spoiler := cases[3] // big-invalid-search: leaves full buffers behind
	sc := new(linScratch)
	for _, c := range cases {
		if c.opts.Steps != 0 || c.opts.MemoryBytes != 0 || c.opts.WitnessSteps != 0 {
			continue
		}
		undecided := func(r Result) bool { return r.Exhausted == "steps" }
		full, _ := checkFresh(t, c, 0)
		if undecided(full) {
			continue
		}
		lo, hi := int64(0), int64(DefaultSteps) // lo undecides, hi decides
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if r, _ := checkFresh(t, c, mid); undecided(r) {
				lo = mid
			} else {
				hi = mid
			}
		}
		if lo == 0 {
			continue // decided without a step (the pre-pass)
		}
		freshHi, _ := checkFresh(t, c, hi)
		freshLo, _ := checkFresh(t, c, lo)
		checkIn(t, spoiler, 0, sc, false)
		reusedHi, _ := checkIn(t, c, hi, sc, true)
		checkIn(t, spoiler, 0, sc, false)
		reusedLo, _ := checkIn(t, c, lo, sc, true)
		t.Logf("%s: decided in %d steps", c.name, hi)
		require.Equal(t, freshHi, reusedHi, "%s with %d steps", c.name, hi)
		require.Equal(t, freshLo, reusedLo, "%s with %d steps", c.name, lo)
		require.True(t, undecided(reusedLo), c.name)
		require.False(t, undecided(reusedHi), c.name)
	}
}

// cloneResult is a deep copy of r.
func cloneResult(r Result) Result {
	r.Witness = slices.Clone(r.Witness)
	return r
}

// TestResultsOutliveTheScratch: a result is not changed by later calls
// that reuse the memory its call worked in.
func TestResultsOutliveTheScratch(t *testing.T) {
	cases := linCases()
	sc := new(linScratch)
	var kept []Result
	for _, c := range cases {
		r, _ := checkIn(t, c, 0, sc, true)
		kept = append(kept, r)
	}
	saved := make([]Result, len(kept))
	for i, r := range kept {
		saved[i] = cloneResult(r)
	}
	for _, i := range []int{3, 0, 6, 4, 10, 2} {
		checkIn(t, cases[i], 0, sc, false)
		for j := range cases {
			_, _ = Linearizable(cases[j].ops, LinearOptions{})
		}
	}
	for i, r := range kept {
		require.Equal(t, saved[i], r, cases[i].name)
		if r.Verdict == Invalid {
			require.NotEmpty(t, r.Witness, cases[i].name)
			for _, v := range r.Witness {
				require.NotEmpty(t, v.Key, cases[i].name)
				require.Contains(t, v.Detail, "cannot be ordered", cases[i].name)
			}
		}
	}

	// The lost-write and durability checks.
	ls := new(lostScratch)
	var lostKept []Result
	var hists [][]history.Op
	for seed := uint64(1); seed <= 3; seed++ {
		ops := generate(genConfig{ops: 500, clients: 4, keys: 3, infoWrites: 0.05, seed: seed})
		lossy := slices.Clone(ops)
		for i := range lossy {
			if lossy[i].Final {
				lossy[i].Values, lossy[i].NotFound = nil, true
			}
		}
		hists = append(hists, ops, lossy)
	}
	for _, ops := range hists {
		end := ops[len(ops)-1].Call
		l, d, err := lostWritesAndDurability(ops, []sim.Time{end / 2}, LostOptions{}, ls)
		require.NoError(t, err)
		lb, db := cloneResult(l), cloneResult(d)
		require.True(t, ls.recycle())
		require.Equal(t, []Result{lb, db}, []Result{l, d}, "recycling the scratch changes the results")
		assertNoHistory(t, ls, "lost-writes")
		lostKept = append(lostKept, l, d)
	}
	lostSaved := make([]Result, len(lostKept))
	for i, r := range lostKept {
		lostSaved[i] = cloneResult(r)
	}
	for k := 0; k < 2; k++ {
		for _, ops := range slices.Backward(hists) {
			_, _, err := lostWritesAndDurability(ops, nil, LostOptions{}, ls)
			require.NoError(t, err)
			ls.recycle()
			_, _, err = LostWritesAndDurability(ops, []sim.Time{1}, LostOptions{Causal: true})
			require.NoError(t, err)
		}
	}
	require.Equal(t, lostSaved, lostKept)
	assert.Equal(t, Invalid, lostKept[3].Verdict, "a lossy history loses writes")
}

// TestLostScratchReuseKeepsEveryResult: the lost-write and durability
// checks give the same results in reused memory as in fresh memory.
func TestLostScratchReuseKeepsEveryResult(t *testing.T) {
	var hists [][]history.Op
	for seed := uint64(1); seed <= 3; seed++ {
		ops := generate(genConfig{ops: 200 * int(seed*seed), clients: 4, keys: int(seed) + 1, infoWrites: 0.05, seed: seed})
		lossy := slices.Clone(ops)
		for i := range lossy {
			if lossy[i].Final && seed%2 == 1 {
				lossy[i].Values, lossy[i].NotFound = nil, true
			}
		}
		hists = append(hists, lossy, ops)
	}
	hists = append(hists, []history.Op{{Outcome: "maybe"}})
	type key struct {
		h      int
		causal bool
	}
	type want struct {
		lost, dur Result
		err       error
	}
	fresh := map[key]want{}
	for h, ops := range hists {
		for _, causal := range []bool{false, true} {
			var w want
			w.lost, w.dur, w.err = lostWritesAndDurability(ops, []sim.Time{1000}, LostOptions{Causal: causal}, nil)
			fresh[key{h, causal}] = w
		}
	}
	ls := new(lostScratch)
	for round := range 3 {
		for k := range len(hists) * 2 {
			h := (k*(round+1) + round) % len(hists)
			causal := k%2 == 1
			var got want
			got.lost, got.dur, got.err = lostWritesAndDurability(hists[h], []sim.Time{1000}, LostOptions{Causal: causal}, ls)
			before := want{cloneResult(got.lost), cloneResult(got.dur), got.err}
			ls.recycle()
			require.Equal(t, before, got, "recycling the scratch changes the results")
			assertNoHistory(t, ls, "lost-writes")
			require.Equal(t, fresh[key{h, causal}], got, "history %d, causal %v, round %d", h, causal, round)
		}
	}
}

// TestScratchIsBounded: after a check far larger than the standard run,
// the scratch keeps at most maxScratchBytes of slices.
func TestScratchIsBounded(t *testing.T) {
	ops := generate(genConfig{ops: 60000, clients: 10, keys: 3, seed: 3})
	sc := new(linScratch)
	res, _ := checkIn(t, linCase{"huge", ops, LinearOptions{}}, 0, sc, true)
	require.Equal(t, Valid, res.Verdict)
	n := sliceBytes(reflect.ValueOf(sc))
	t.Logf("the scratch keeps %d bytes of slices", n)
	assert.LessOrEqual(t, n, maxScratchBytes)
	assert.Positive(t, n, "what fits is kept")
}

// sliceBytes sums the capacities, in bytes, of the slices reachable from v.
func sliceBytes(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return sliceBytes(v.Elem())
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			n += sliceBytes(v.Field(i))
		}
		return n
	case reflect.Slice:
		n := v.Cap() * int(v.Type().Elem().Size())
		if v.Type().Elem().Kind() == reflect.Pointer {
			all := v.Slice3(0, v.Cap(), v.Cap())
			for i := range all.Len() {
				n += sliceBytes(all.Index(i))
			}
		}
		return n
	}
	return 0
}

// assertNoHistory fails unless v (a scratch) holds nothing of a history:
// no string, no entry in a map, no function, and no pointer except to
// the scratch's own parts (its released searchers), in every slice up to
// its capacity.
func assertNoHistory(t *testing.T, v any, name string) {
	t.Helper()
	var bad []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		if len(bad) > 5 {
			return
		}
		switch v.Kind() {
		case reflect.String:
			if v.Len() > 0 {
				bad = append(bad, fmt.Sprintf("%s = %q", path, v.String()))
			}
		case reflect.Map:
			if v.Len() > 0 {
				bad = append(bad, fmt.Sprintf("%s has %d entries", path, v.Len()))
			}
		case reflect.Func, reflect.Interface, reflect.Chan:
			if !v.IsNil() {
				bad = append(bad, path+" is set")
			}
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			switch v.Type().Elem() {
			case reflect.TypeFor[linScratch](), reflect.TypeFor[lostScratch](), reflect.TypeFor[searcher]():
				walk(v.Elem(), path)
			default:
				bad = append(bad, fmt.Sprintf("%s points at a %s", path, v.Type().Elem()))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			if !holdsRefs(v.Type().Elem()) {
				return
			}
			all := v.Slice3(0, v.Cap(), v.Cap())
			for i := range all.Len() {
				walk(all.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(reflect.ValueOf(v), "scratch")
	if len(bad) > 0 {
		t.Fatalf("%s: the recycled scratch still holds: %v", name, bad)
	}
}

// holdsRefs reports whether a value of type t can hold a string, a
// pointer or a reference.
func holdsRefs(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan, reflect.UnsafePointer:
		return true
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsRefs(t.Field(i).Type) {
				return true
			}
		}
	case reflect.Array:
		return holdsRefs(t.Elem())
	}
	return false
}
