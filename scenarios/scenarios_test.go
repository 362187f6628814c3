package scenarios

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// small returns a built-in spec cut down for fast unit tests.
func small(t testing.TB, name string, ops int) Spec {
	t.Helper()
	s, err := Lookup(name)
	require.NoError(t, err)
	s.Base.WorkloadConfig.Ops = ops
	return s
}

// TestEveryScenarioAsExpected runs every built-in scenario over its default
// seeds (halved under -short) through Run, the go test entry point, so each
// failing seed fails with its replay line and every FoundInvalid
// expectation must be met by the suite.
func TestEveryScenarioAsExpected(t *testing.T) {
	for _, spec := range List() {
		suite := Run(t, spec)
		require.NoError(t, suite.Err)
		if !t.Failed() {
			assert.True(t, suite.Passed(), "%s: %v", spec.Name, suite.Failures)
		}
	}
}

// TestDesignTruthsCovered: every row of docs/design.md §6 has a scenario that
// judges it, with the expectation the row states.
func TestDesignTruthsCovered(t *testing.T) {
	rows := []struct {
		scenario, checker string
		want              Expectation
	}{
		{"strict-quorum", checker.NameLinearizable, AlwaysValid},
		{"strict-quorum", checker.NameLostWrites, AlwaysValid},
		{"synced-crash", checker.NameDurability, AlwaysValid},
		{"strict-quorum-skew", checker.NameLinearizable, FoundInvalid},
		{"strict-quorum-skew", checker.NameLostWrites, FoundInvalid},
		{"weak-quorum", checker.NameLinearizable, FoundInvalid},
		{"sloppy-partition", checker.NameLinearizable, FoundInvalid},
		{"sloppy-partition", checker.NameLostWrites, FoundInvalid},
		{"async-read-repair", checker.NameLinearizable, FoundInvalid},
		{"lww-set", checker.NameLostWrites, FoundInvalid},
		{"vclock-set", checker.NameLostWrites, AlwaysValid},
		{"vclock-register", checker.NameLostWrites, AlwaysValid},
		{"vclock-register", checker.NameSiblings, AlwaysValid},
		{"divergence", checker.NameConvergence, FoundInvalid},
		{"anti-entropy", checker.NameConvergence, AlwaysValid},
		{"anti-entropy", NameRepairTraffic, AlwaysValid},
		{"unsynced-crash", checker.NameDurability, FoundInvalid},
		{"hinted-handoff", NameAvailability, AlwaysValid},
		{"zombie-tombstone", NameZombies, FoundInvalid},
		{"churn", checker.NameLinearizable, FoundInvalid},
		{"churn-handoff", checker.NameLinearizable, AlwaysValid},
		{"churn-handoff", checker.NameLostWrites, AlwaysValid},
		{"churn-handoff-faults", checker.NameLinearizable, AlwaysValid},
		{"churn-handoff-faults", checker.NameLostWrites, AlwaysValid},
		{"joiner-crash-handoff", checker.NameLinearizable, AlwaysValid},
		{"joiner-crash-handoff", checker.NameLostWrites, AlwaysValid},
		{"swarm", checker.NameLinearizable, AlwaysValid},
		{"gossip-membership", checker.NameLinearizable, AlwaysValid},
		{"skew/100ms", checker.NameLostWrites, FoundInvalid},
	}
	for _, r := range rows {
		s, err := Lookup(r.scenario)
		require.NoError(t, err)
		assert.Equal(t, r.want, s.Expected(r.checker), "%s %s", r.scenario, r.checker)
		assert.NotEmpty(t, s.Truth, r.scenario)
	}
	sw, err := Lookup("swarm")
	require.NoError(t, err)
	assert.True(t, sw.Faults.Swarm)
	assert.NotNil(t, sw.Vary)
}

func TestCatalogue(t *testing.T) {
	specs := builtin()
	seen := map[string]bool{}
	for _, s := range specs {
		require.NoError(t, s.Validate(), s.Name)
		require.False(t, seen[s.Name], "two built-in specs are named %q", s.Name)
		seen[s.Name] = true
		_, err := s.Config(1)
		require.NoError(t, err, s.Name)
		if s.Name != "skew/1ms" { // the sweep's lowest point is reported, not judged
			assert.NotEqual(t, "nothing judged", s.ExpectSummary(), "%s judges nothing", s.Name)
		}
	}
	list := List()
	require.Len(t, list, len(specs))
	names := Names()
	assert.True(t, sort.StringsAreSorted(names))
	for i, s := range list {
		assert.Equal(t, names[i], s.Name)
	}

	// Lookup and List hand out copies.
	s, err := Lookup("strict-quorum")
	require.NoError(t, err)
	s.Expect[checker.NameLinearizable] = AlwaysInvalid
	s.Base.KV.W = 1
	again, err := Lookup("strict-quorum")
	require.NoError(t, err)
	assert.Equal(t, AlwaysValid, again.Expect[checker.NameLinearizable])
	assert.Equal(t, 2, again.Base.KV.W)

	_, err = Lookup("strict-qourum")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown scenario "strict-qourum"`)
	assert.Contains(t, err.Error(), "strict-quorum, strict-quorum-skew")
}

// TestConfigIsAFunctionOfTheSeed: the drawn schedule (and Vary) depend on
// the seed only.
func TestConfigIsAFunctionOfTheSeed(t *testing.T) {
	for _, name := range []string{"strict-quorum", "swarm"} {
		s, err := Lookup(name)
		require.NoError(t, err)
		a, err := s.Config(7)
		require.NoError(t, err)
		b, err := s.Config(7)
		require.NoError(t, err)
		c, err := s.Config(8)
		require.NoError(t, err)
		assert.Equal(t, a.Nemesis.String(), b.Nemesis.String(), name)
		assert.Equal(t, fmt.Sprintf("%+v", a), fmt.Sprintf("%+v", b), name)
		assert.NotEqual(t, a.Nemesis.String(), c.Nemesis.String(), name)
		assert.Positive(t, a.Nemesis.Faults(), name)
	}
}

// TestDeterminism: a seed's outcome (trace hash, history, verdicts) is the
// same run to run and whatever the parallelism; another seed differs.
func TestDeterminism(t *testing.T) {
	specs := []Spec{small(t, "strict-quorum-skew", 400), small(t, "hinted-handoff", 400), small(t, "swarm", 400)}
	seeds := func(Spec) []uint64 { return SeedRange(11, 3) }
	serial := RunSuites(specs, seeds, 1, RunOptions{}, nil)
	parallel := RunSuites(specs, seeds, 3, RunOptions{}, nil)
	for i := range specs {
		require.NoError(t, serial[i].Err)
		require.NoError(t, parallel[i].Err)
		hashes := map[uint64]bool{}
		for j, a := range serial[i].Outcomes {
			b := parallel[i].Outcomes[j]
			require.Equal(t, a.Seed, b.Seed)
			assert.Equal(t, a.TraceHash, b.TraceHash, "%s seed %d", specs[i].Name, a.Seed)
			assert.Equal(t, a.VerdictSummary(), b.VerdictSummary())
			assert.Equal(t, fmt.Sprint(a.Result.History()), fmt.Sprint(b.Result.History()))
			assert.Equal(t, a.Ops, b.Ops)
			hashes[a.TraceHash] = true
		}
		assert.Len(t, hashes, 3, "%s: different seeds gave the same trace", specs[i].Name)
		assert.Equal(t, serial[i].Checks, parallel[i].Checks)
	}
}

func TestRunSeedOutcome(t *testing.T) {
	s := small(t, "weak-quorum", 600)
	o, err := RunSeed(s, 3, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, "weak-quorum", o.Scenario)
	assert.Equal(t, uint64(3), o.Seed)
	assert.Equal(t, "go run ./cmd/faultline run -scenario weak-quorum -seed 3", o.Repro)
	assert.Equal(t, ClassOK, o.Class, o.Failure)
	assert.Positive(t, o.Ops.OK)
	assert.Positive(t, o.Events)
	assert.Positive(t, o.Messages)
	assert.Positive(t, o.Bytes)
	assert.Positive(t, o.SimTime)
	assert.Positive(t, o.WallTime)
	assert.Positive(t, o.Faults)
	assert.NotZero(t, o.TraceHash)
	require.NotNil(t, o.Result)
	assert.Equal(t, o.TraceHash, o.Result.TraceHash)
	assert.Equal(t, o.Config.Nemesis.Faults(), o.Faults)
	v, ran := o.Verdict(checker.NameLinearizable)
	require.True(t, ran)
	assert.Equal(t, checker.Invalid, v, "W=R=1 under partitions reads stale values")
	assert.Contains(t, o.Invalid(), checker.NameLinearizable)
	assert.Contains(t, o.VerdictSummary(), "linearizable=invalid")
	for _, vd := range o.Verdicts {
		if vd.Checker == checker.NameLinearizable {
			assert.Equal(t, FoundInvalid, vd.Expected)
			assert.True(t, vd.AsExpected)
		} else {
			assert.Equal(t, Any, vd.Expected)
		}
	}
	_, ran = o.Verdict(checker.NameSiblings)
	assert.False(t, ran, "siblings only run under vector clocks")
}

// TestCorrectnessClass: a verdict that contradicts its expectation makes
// the seed a correctness failure that names the checker, and Unknown never
// passes AlwaysValid.
func TestCorrectnessClass(t *testing.T) {
	s := small(t, "weak-quorum", 600)
	s.Expect = map[string]Expectation{checker.NameLinearizable: AlwaysValid}
	o, err := RunSeed(s, 3, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, ClassCorrectness, o.Class)
	assert.Contains(t, o.Failure, "linearizable: expected always-valid, got invalid")

	s = small(t, "strict-quorum", 300)
	s.Expect = map[string]Expectation{checker.NameLostWrites: AlwaysInvalid}
	o, err = RunSeed(s, 1, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, ClassCorrectness, o.Class)
	assert.Contains(t, o.Failure, "lost-writes: expected always-invalid, got valid")

	assert.False(t, AlwaysValid.SeedOK(checker.Unknown), "unknown is never a pass")
	assert.False(t, AlwaysInvalid.SeedOK(checker.Unknown))
	assert.True(t, FoundInvalid.SeedOK(checker.Valid))
	assert.True(t, Any.SeedOK(checker.Invalid))
}

func outcome(seed uint64, verdicts map[string]checker.Verdict, exp map[string]Expectation) Outcome {
	o := Outcome{Scenario: "x", Seed: seed, Class: ClassOK, Repro: Repro("x", seed)}
	for _, name := range sortedKeys(verdicts) {
		e := exp[name]
		if e == "" {
			e = Any
		}
		v := Verdict{Result: checker.Result{Checker: name, Verdict: verdicts[name]}, Expected: e, AsExpected: e.SeedOK(verdicts[name])}
		o.Verdicts = append(o.Verdicts, v)
		if !v.AsExpected {
			o.Class = ClassCorrectness
			o.Failure = name + " differs"
		}
	}
	return o
}

// TestSuiteRules: FoundInvalid needs one Invalid seed, AlwaysValid needs
// every seed Valid (Unknown fails), AlwaysInvalid every seed Invalid, Any
// is never judged; the suite's class is the worst.
func TestSuiteRules(t *testing.T) {
	spec := Spec{Name: "x", Description: "x", Seeds: 3, Expect: map[string]Expectation{
		"linearizable": FoundInvalid, "lost-writes": AlwaysValid, "durability": AlwaysInvalid, "convergence": Any,
	}}
	V, I, U := checker.Valid, checker.Invalid, checker.Unknown
	row := func(lin, lost, dur, conv checker.Verdict) map[string]checker.Verdict {
		return map[string]checker.Verdict{"linearizable": lin, "lost-writes": lost, "durability": dur, "convergence": conv}
	}
	cases := []struct {
		name    string
		rows    []map[string]checker.Verdict
		pass    bool
		failing string
	}{
		{"all as expected", []map[string]checker.Verdict{row(V, V, I, I), row(I, V, I, V), row(U, V, I, U)}, true, ""},
		{"found-invalid never found", []map[string]checker.Verdict{row(V, V, I, V), row(U, V, I, V)}, false, "linearizable: expected found-invalid, but none of 2 seeds (1-2) was invalid"},
		{"unknown fails always-valid", []map[string]checker.Verdict{row(I, U, I, V)}, false, "seed 1: correctness"},
		{"valid fails always-invalid", []map[string]checker.Verdict{row(I, V, I, V), row(I, V, V, V)}, false, "seed 2: correctness"},
	}
	for _, c := range cases {
		var outs []Outcome
		for i, r := range c.rows {
			outs = append(outs, outcome(uint64(i+1), r, spec.Expect))
		}
		s := Summarize(spec, outs)
		assert.Equal(t, c.pass, s.Passed(), c.name)
		if c.pass {
			assert.Equal(t, ClassOK, s.Class, c.name)
			assert.Empty(t, s.Failures, c.name)
			continue
		}
		assert.Equal(t, ClassCorrectness, s.Class, c.name)
		assert.Contains(t, strings.Join(s.Failures, "\n"), c.failing, c.name)
	}
	outs := []Outcome{outcome(1, row(I, V, I, V), spec.Expect), {Scenario: "x", Seed: 2, Class: ClassLiveness, Failure: "stuck", Repro: Repro("x", 2)}}
	s := Summarize(spec, outs)
	assert.Equal(t, ClassLiveness, s.Class)
	assert.Contains(t, s.Failures[0], "seed 2: liveness: stuck; replay: go run ./cmd/faultline run -scenario x -seed 2")
	lost, ok := s.Summary("lost-writes")
	require.True(t, ok)
	assert.False(t, lost.Met, "a seed that was not judged cannot count as valid")
	assert.Equal(t, ClassCrash, ClassLiveness.Worse(ClassCrash))
	assert.Equal(t, ClassLiveness, ClassLiveness.Worse(ClassCorrectness))
}

// TestLivenessAndCrashClasses: a run that hits its limits is a liveness
// failure carrying the seed; a panic (here in a scenario check) is
// recovered into a crash with the seed and the stack.
func TestLivenessAndCrashClasses(t *testing.T) {
	s := small(t, "strict-quorum", 300)
	s.Base.Limits = sim.Limits{MaxEvents: 2000, Horizon: s.Base.Limits.Horizon}
	o, err := RunSeed(s, 5, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, ClassLiveness, o.Class)
	assert.Contains(t, o.Failure, "seed 5")
	assert.Empty(t, o.Verdicts, "a liveness failure is not judged")

	s = small(t, "strict-quorum", 300)
	s.Checks = []Check{{Name: "boom", Description: "panics", Judge: func(Config, *cluster.Result) (checker.Result, error) {
		var m map[string]int
		m["x"]++ // a nil map write: a real runtime panic
		return checker.Result{}, nil
	}}}
	o, err = RunSeed(s, 9, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, ClassCrash, o.Class)
	assert.Contains(t, o.Failure, "panic (seed 9)")
	assert.Contains(t, o.Panic, "goroutine")
	assert.Equal(t, Repro("strict-quorum", 9), o.Repro)

	s.Checks = []Check{{Name: "broken", Description: "errs", Judge: func(Config, *cluster.Result) (checker.Result, error) {
		return checker.Result{}, errors.New("cannot judge")
	}}}
	o, err = RunSeed(s, 9, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, ClassCrash, o.Class)
	assert.Contains(t, o.Failure, "check broken failed (seed 9): cannot judge")
}

// TestBadSpecsAndConfigs: what cannot run is an error saying what to
// change, never a panic or a silent default.
func TestBadSpecsAndConfigs(t *testing.T) {
	good := small(t, "strict-quorum", 100)
	cases := map[string]struct {
		mut  func(s *Spec)
		is   error
		want string
	}{
		"bad name":          {func(s *Spec) { s.Name = "Strict Quorum" }, ErrBadSpec, "use lowercase letters"},
		"no description":    {func(s *Spec) { s.Description = "" }, ErrBadSpec, "no description"},
		"no seeds":          {func(s *Spec) { s.Seeds = 0 }, ErrBadSpec, "at least 1 seed"},
		"bad expectation":   {func(s *Spec) { s.Expect["linearizable"] = "sometimes" }, ErrBadSpec, `unknown expectation "sometimes"`},
		"unknown checker":   {func(s *Spec) { s.Expect["linearisable"] = AlwaysValid }, ErrBadSpec, `"linearisable", which is neither`},
		"check twice":       {func(s *Spec) { s.Checks = []Check{ZombiesCheck(), ZombiesCheck()} }, ErrBadSpec, "used twice"},
		"check shadows":     {func(s *Spec) { s.Checks = []Check{{Name: "durability", Judge: ZombiesCheck().Judge}} }, ErrBadSpec, "used twice"},
		"swarm without mix": {func(s *Spec) { s.Faults = Faults{Swarm: true} }, ErrBadSpec, "Swarm needs a Mix"},
		"W > N":             {func(s *Spec) { s.Base.KV.W = 4 }, cluster.ErrBadConfig, "W"},
		"skew without max": {func(s *Spec) {
			s.Faults = Faults{Mix: nemesis.MixOf(nemesis.FamilySkew), Duration: time.Second, Interval: time.Second, FaultDuration: time.Second}
		}, ErrBadSpec, "max skew"},
		"fixed fault on unknown node": {func(s *Spec) {
			s.Faults.Schedule = nemesis.Schedule{{At: 0, Kind: nemesis.Crash, Nodes: []sim.NodeID{9}}, {At: 1, Kind: nemesis.Restart, Nodes: []sim.NodeID{9}}}
		}, cluster.ErrBadConfig, "n9"},
		"schedule in base": {func(s *Spec) {
			s.Base.Nemesis = nemesis.Schedule{{At: 0, Kind: nemesis.Heal}}
		}, ErrBadSpec, "Faults.Schedule"},
		"linearizable on a set": {func(s *Spec) {
			s.Base.Workload = "set"
			s.Base.WorkloadConfig.ReadRatio = 0
		}, ErrBadSpec, "not checked for the set workload"},
		"siblings under LWW": {func(s *Spec) { s.Expect["siblings"] = AlwaysValid }, ErrBadSpec, "only checked under vector clocks"},
	}
	for name, c := range cases {
		s := good.clone()
		c.mut(&s)
		_, err := RunSeed(s, 1, RunOptions{})
		require.Error(t, err, name)
		assert.ErrorIs(t, err, c.is, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
	_, err := ParseExpectation("mostly-valid")
	require.Error(t, err)
	for _, e := range Expectations() {
		got, err := ParseExpectation(e.String())
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}

	// A bad spec in a suite is reported on that suite, not a panic.
	bad := good.clone()
	bad.Base.KV.R = 5
	suites := RunSuites([]Spec{bad, good}, func(Spec) []uint64 { return SeedRange(1, 1) }, 2, RunOptions{}, nil)
	require.Error(t, suites[0].Err)
	assert.False(t, suites[0].Passed())
	require.NoError(t, suites[1].Err)
	assert.True(t, suites[1].Passed(), suites[1].Failures)
}

// TestFaultsDraw: fixed faults merge with drawn ones in time order (fixed
// first at equal times), and the empty Faults injects nothing.
func TestFaultsDraw(t *testing.T) {
	cfg := DefaultConfig()
	none, err := Faults{}.Draw(cfg, 1)
	require.NoError(t, err)
	assert.Empty(t, none)

	f := Faults{Mix: nemesis.MixOf(nemesis.FamilyPartition), Duration: time.Second, Interval: 200 * time.Millisecond,
		FaultDuration: 100 * time.Millisecond, Schedule: fixed("0s clock-skew n4 offset=5ms\n1s clock-reset n4\n")}
	s, err := f.Draw(cfg, 3)
	require.NoError(t, err)
	require.NoError(t, s.Check())
	assert.Equal(t, nemesis.ClockSkew, s[0].Kind)
	var kinds []string
	for _, x := range s {
		kinds = append(kinds, string(x.Kind))
	}
	assert.Contains(t, kinds, "heal")
	drawnOnly := f
	drawnOnly.Schedule = nil
	d, err := drawnOnly.Draw(cfg, 3)
	require.NoError(t, err)
	assert.Equal(t, len(d)+2, len(s))
	assert.NoError(t, s.Healed())
}

// TestAvailabilityCheck judges hand-made results: it counts only writes at
// coordinators that could reach W nodes, a settle time after the fault
// began, and fails when too few were acknowledged.
func TestAvailabilityCheck(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nemesis = fixed("100ms partition-isolate n0|n1,n2,n3,n4\n300ms heal\n")
	ms := func(n int) sim.Time { return sim.Time(time.Duration(n) * time.Millisecond) }
	op := func(node int, call int, out history.Type) history.Op {
		return history.Op{Kind: history.Write, Key: "k", Value: fmt.Sprint(call), Node: sim.NodeID(node), Call: ms(call), Return: ms(call + 1), Outcome: out}
	}
	r := &cluster.Result{Windows: cfg.Nemesis.Windows(), Ops: []history.Op{
		op(1, 50, history.Fail),  // before the partition: not counted
		op(1, 120, history.Fail), // within the settle time: not counted
		op(0, 200, history.Fail), // n0 is cut off: cannot reach W=2, not counted
		op(1, 200, history.OK),   // counted, acknowledged
		op(2, 210, history.OK),   // counted, acknowledged
		op(3, 220, history.Info), // counted, not acknowledged
		op(3, 400, history.Fail), // after the heal: not counted
		{Kind: history.Read, Key: "k", Node: 1, Call: ms(230), Outcome: history.Fail}, // a read: not counted
	}}
	check := AvailabilityCheck(nemesis.FamilyPartition, 60, 50*time.Millisecond)
	res, err := check.Judge(cfg, r)
	require.NoError(t, err)
	assert.Equal(t, checker.Valid, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, "2 of 3 writes")
	assert.Contains(t, res.Explanation, "1 writes at cut-off coordinators not counted")

	strict := AvailabilityCheck(nemesis.FamilyPartition, 90, 50*time.Millisecond)
	res, err = strict.Judge(cfg, r)
	require.NoError(t, err)
	assert.Equal(t, checker.Invalid, res.Verdict)
	assert.Equal(t, 1, res.Count)
	require.Len(t, res.Witness, 1)
	assert.Contains(t, res.Witness[0].Detail, "via n3")

	r.Ops = r.Ops[:1]
	res, err = strict.Judge(cfg, r)
	require.NoError(t, err)
	assert.Equal(t, checker.Unknown, res.Verdict, "no write to judge is not a pass")
}

// TestZombiesCheck judges hand-made histories: a final read returning a
// value that an acknowledged delete certainly removed is a zombie.
func TestZombiesCheck(t *testing.T) {
	w := history.Op{Kind: history.Write, Key: "a", Value: "v1", Outcome: history.OK, Call: 1, Return: 2}
	del := history.Op{Kind: history.Delete, Key: "a", Outcome: history.OK, Call: 3, Return: 4}
	final := func(vals ...string) history.Op {
		return history.Op{Kind: history.Read, Key: "a", Final: true, Outcome: history.OK, Call: 10, Return: 11, Values: vals, NotFound: len(vals) == 0}
	}
	judge := func(ops ...history.Op) checker.Result {
		res, err := ZombiesCheck().Judge(Config{}, &cluster.Result{Ops: ops})
		require.NoError(t, err)
		return res
	}
	res := judge(w, del, final("v1"))
	assert.Equal(t, checker.Invalid, res.Verdict)
	assert.Equal(t, 1, res.Count)
	require.Len(t, res.Witness, 1)
	assert.Equal(t, "v1", res.Witness[0].Value)

	assert.Equal(t, checker.Valid, judge(w, del, final()).Verdict)
	// The delete overlapped the write: v1 may legitimately have won.
	overlap := w
	overlap.Return = 5
	assert.Equal(t, checker.Valid, judge(overlap, del, final("v1")).Verdict)
	// An unacknowledged delete removes nothing for sure.
	info := del
	info.Outcome, info.Return = history.Info, sim.Never
	assert.Equal(t, checker.Valid, judge(w, info, final("v1")).Verdict)
	assert.Equal(t, checker.Unknown, judge(w, del).Verdict, "no final read is not a pass")
}

func TestSeedsResolution(t *testing.T) {
	spec := Spec{Seeds: 5}
	got, err := RunConfig{}.seeds(spec, false)
	require.NoError(t, err)
	assert.Equal(t, SeedRange(1, 5), got)
	got, err = RunConfig{}.seeds(spec, true)
	require.NoError(t, err)
	assert.Equal(t, SeedRange(1, 3), got, "-short halves, rounding up")

	t.Setenv("FAULTLINE_SEEDS", "2")
	t.Setenv("FAULTLINE_SEED", "40")
	got, err = RunConfig{}.seeds(spec, true)
	require.NoError(t, err)
	assert.Equal(t, []uint64{40, 41}, got)
	got, err = RunConfig{Seeds: 1, First: 7}.seeds(spec, false)
	require.NoError(t, err)
	assert.Equal(t, []uint64{7}, got, "explicit configuration wins")

	t.Setenv("FAULTLINE_SEEDS", "many")
	_, err = RunConfig{}.seeds(spec, false)
	require.ErrorContains(t, err, `FAULTLINE_SEEDS="many"`)
	t.Setenv("FAULTLINE_SEEDS", "")
	t.Setenv("FAULTLINE_SEED", "-1")
	_, err = RunConfig{}.seeds(spec, false)
	require.ErrorContains(t, err, `FAULTLINE_SEED="-1"`)
}

// TestRunFailsWithRepro runs a go test that uses Run on a spec whose
// expectation is wrong, in a child process, and checks that it fails with
// the replay lines (a test cannot observe its own failure otherwise).
func TestRunFailsWithRepro(t *testing.T) {
	if os.Getenv("FAULTLINE_CHILD") == "1" {
		s := small(t, "weak-quorum", 400)
		s.Expect = map[string]Expectation{checker.NameLinearizable: AlwaysValid, checker.NameConvergence: FoundInvalid}
		Run(t, s)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunFailsWithRepro$", "-faultline.seeds=2", "-faultline.seed=3")
	cmd.Env = append(os.Environ(), "FAULTLINE_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child test must fail:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "weak-quorum seed 3: correctness: linearizable: expected always-valid, got invalid")
	assert.Regexp(t, `scenarios_test\.go:\d+: weak-quorum seed 3`, text, "the failure points at the test's line that called Run")
	assert.Contains(t, text, "replay: go test ./scenarios -run '^TestRunFailsWithRepro$' -faultline.seed=3 -faultline.seeds=1",
		"the replay line names the package from the module root")
	assert.Contains(t, text, "or:   FAULTLINE_SEED=3 FAULTLINE_SEEDS=1 go test ./scenarios -run '^TestRunFailsWithRepro$'")
	assert.Contains(t, text, "convergence expected found-invalid, but none of seeds 3-4 was invalid")
	assert.NotContains(t, text, "go run ./cmd/faultline", "a changed spec cannot be replayed by name")
}

// TestRunBuiltinRepro: an unchanged built-in's failure also names the CLI
// replay line.
func TestRunBuiltinRepro(t *testing.T) {
	b, err := Lookup("weak-quorum")
	require.NoError(t, err)
	assert.True(t, sameSpec(registry["weak-quorum"], b))
	b.Base.WorkloadConfig.Ops++
	assert.False(t, sameSpec(registry["weak-quorum"], b))
}

func TestTable(t *testing.T) {
	s := small(t, "weak-quorum", 300)
	suites := RunSuites([]Spec{s}, func(Spec) []uint64 { return SeedRange(1, 2) }, 1, RunOptions{}, nil)
	out := Table(suites)
	assert.Contains(t, out, "weak-quorum")
	assert.Contains(t, out, "found-invalid")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 2, out)
	assert.Contains(t, lines[1], " ok")
}

// TestProgress: RunSuites reports every seed once, done counting up.
func TestProgress(t *testing.T) {
	s := small(t, "strict-quorum", 200)
	var dones []int
	RunSuites([]Spec{s, s}, func(Spec) []uint64 { return SeedRange(1, 3) }, 2, RunOptions{}, func(o Outcome, done, total int) {
		assert.Equal(t, 6, total)
		dones = append(dones, done)
	})
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, dones)
}

// TestLayer: scenarios imports nothing above layer 4 and not rapid (whose
// flags would leak into every program that imports scenarios).
func TestLayer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := string(out)
	assert.NotContains(t, deps, "faultline/cmd/")
	assert.NotContains(t, deps, "pgregory.net/rapid")
	assert.NotContains(t, deps, "testify")
	assert.Contains(t, deps, "faultline/cluster")
}

// TestVaryKeepsSafety: the swarm's drawn clusters keep W+R>N and vary.
func TestVaryKeepsSafety(t *testing.T) {
	sizes := map[int]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		cfg := DefaultConfig()
		varySafe(sim.NewRNG(seed).Fork("scenario/vary"), &cfg)
		require.NoError(t, cfg.Validate())
		assert.Greater(t, cfg.KV.W+cfg.KV.R, cfg.KV.N)
		assert.Equal(t, kv.RepairBlocking, cfg.KV.ReadRepair)
		sizes[cfg.Nodes] = true
	}
	assert.GreaterOrEqual(t, len(sizes), 4)
}

// TestGossipMembershipGossips: gossip-membership really routes by gossip
// (its nodes exchange gossip messages, strict-quorum's do not) and differs
// from strict-quorum in nothing else.
func TestGossipMembershipGossips(t *testing.T) {
	gossips := func(spec Spec) int {
		cfg, err := spec.Config(1)
		require.NoError(t, err)
		c, err := cluster.New(cfg.Cluster(), 1)
		require.NoError(t, err)
		n := 0
		c.SetTrace(func(l cluster.TraceLine) {
			if strings.HasPrefix(l.Event, "recv gossip ") {
				n++
			}
		})
		_, err = c.Run()
		require.NoError(t, err)
		return n
	}
	g, sq := small(t, "gossip-membership", 300), small(t, "strict-quorum", 300)
	assert.Positive(t, gossips(g))
	assert.Zero(t, gossips(sq))
	g.Base.KV.Membership = kv.MembershipOracle
	g.Name, g.Description, g.Truth = sq.Name, sq.Description, sq.Truth
	assert.True(t, sameSpec(sq, g), "gossip-membership is strict-quorum with gossip membership")
}

// TestChurnHandoffIsChurnWithHandoff: churn-handoff differs from its
// control churn only in range handoff, and its joins and leaves really
// stream ranges (churn's do not).
func TestChurnHandoffIsChurnWithHandoff(t *testing.T) {
	ch, err := Lookup("churn-handoff")
	require.NoError(t, err)
	control, err := Lookup("churn")
	require.NoError(t, err)
	assert.Contains(t, control.Description, "control for churn-handoff")
	o, err := RunSeed(ch, 1, RunOptions{})
	require.NoError(t, err)
	require.Equal(t, ClassOK, o.Class, o.Failure)
	assert.Empty(t, o.Result.TargetErrors, "every join and leave was applied")
	assert.Positive(t, o.Result.Stats.Counter(kv.CounterHandoffKeysSent))
	oc, err := RunSeed(control, 1, RunOptions{})
	require.NoError(t, err)
	assert.Zero(t, oc.Result.Stats.Counter(kv.CounterHandoffKeysSent))
	assert.Equal(t, o.Config.Nemesis.String(), oc.Config.Nemesis.String(), "the same joins and leaves")

	ch.Base.KV.RangeHandoff = false
	ch.Name, ch.Description, ch.Truth, ch.Expect = control.Name, control.Description, control.Truth, control.Expect
	assert.True(t, sameSpec(control, ch))
}

// TestNotExercisedIsNeitherPassNorFailure: under AlwaysValid a seed whose
// checker had nothing to judge (Unknown, Idle) is reported as not exercised
// and fails neither the seed nor the suite (the table says "not
// exercised"); a mark, what the scenario must exercise, that never runs
// fails the suite.
func TestNotExercisedIsNeitherPassNorFailure(t *testing.T) {
	idle := checker.Result{Checker: "lost-writes", Verdict: checker.Unknown, Idle: true}
	busy := checker.Result{Checker: "lost-writes", Verdict: checker.Unknown}
	assert.True(t, AlwaysValid.ResultOK(idle), "nothing to judge is not a correctness failure")
	assert.False(t, AlwaysValid.ResultOK(busy), "a budget that ran out is never a pass")
	assert.False(t, AlwaysInvalid.ResultOK(idle))

	spec := Spec{Name: "x", Description: "x", Seeds: 2, Expect: map[string]Expectation{"lost-writes": AlwaysValid},
		Marks: []Mark{{Name: "hints-replayed", Count: func(*cluster.Result) uint64 { return 0 }}}}
	seed := func(n uint64, r checker.Result, marks uint64) Outcome {
		return Outcome{Scenario: "x", Seed: n, Class: ClassOK, Verdicts: []Verdict{{Result: r, Expected: AlwaysValid, AsExpected: AlwaysValid.ResultOK(r)}},
			Marks: []MarkCount{{Name: "hints-replayed", Count: marks}}}
	}
	valid := checker.Result{Checker: "lost-writes", Verdict: checker.Valid}
	s := Summarize(spec, []Outcome{seed(1, idle, 1), seed(2, valid, 0)})
	assert.True(t, s.Passed(), "%v", s.Failures)
	s = Summarize(spec, []Outcome{seed(1, idle, 1), seed(2, idle, 2)})
	assert.True(t, s.Passed(), "%v", s.Failures)
	lw, _ := s.Summary("lost-writes")
	assert.Equal(t, "not exercised", lw.Got())
	s = Summarize(spec, []Outcome{seed(1, valid, 0), seed(2, valid, 0)})
	assert.False(t, s.Passed())
	assert.Contains(t, strings.Join(s.Failures, "\n"), "mark hints-replayed: the mechanism never ran in 2 seeds")
	require.NoError(t, spec.Validate())
	spec.Marks = append(spec.Marks, spec.Marks[0])
	require.ErrorIs(t, spec.Validate(), ErrBadSpec, "a mark name used twice")
}
