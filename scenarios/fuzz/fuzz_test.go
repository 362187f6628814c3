package fuzz

import (
	"go/parser"
	"go/token"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
)

func lookup(t testing.TB, name string, ops int) scenarios.Spec {
	t.Helper()
	s, err := scenarios.Lookup(name)
	require.NoError(t, err)
	s.Base.WorkloadConfig.Ops = ops
	return s
}

// TestShrinkWeakQuorum shrinks a real failure: W=R=1 under partitions reads
// stale values, rapid finds a case and shrinks it, and the minimal case
// still fails, is no longer than the original, and prints as a Go test
// that parses and carries the schedule's text.
func TestShrinkWeakQuorum(t *testing.T) {
	spec := lookup(t, "weak-quorum", 300)
	s, err := Shrink(t, spec, Options{MaxRuns: 150, RapidSeed: 1})
	require.NoError(t, err)
	require.True(t, s.Found, "W=R=1 under partitions must fail")
	t.Logf("shrink: %s", s.Summary())
	t.Logf("original schedule (%d faults, %d lines):\n%s", s.Original.Faults(), s.Original.Lines(), s.Original.Schedule)
	t.Logf("minimal schedule (%d faults, %d lines):\n%s", s.Minimal.Faults(), s.Minimal.Lines(), s.Minimal.Schedule)

	assert.LessOrEqual(t, s.Minimal.Lines(), s.Original.Lines())
	assert.LessOrEqual(t, s.Minimal.Faults(), s.Original.Faults())
	assert.LessOrEqual(t, s.Minimal.Knobs.Ops, s.Original.Knobs.Ops)
	assert.LessOrEqual(t, s.Runs, 150+1)
	assert.Contains(t, s.Failure, "linearizable: invalid")

	failing, why, err := s.Minimal.Verify(nil)
	require.NoError(t, err)
	assert.True(t, failing, "the minimal case must still fail on its own")
	assert.Contains(t, why, "linearizable")

	// The printed schedule parses back to the same schedule.
	back, err := nemesis.Parse(s.Minimal.Schedule.String())
	require.NoError(t, err)
	assert.Equal(t, s.Minimal.Schedule.String(), back.String())

	code := s.Minimal.GoTest("TestWeakQuorumRegression", nil)
	t.Logf("paste into a _test.go file:\n%s", code)
	file := "package x\n\n" + code
	_, err = parser.ParseFile(token.NewFileSet(), "x_test.go", file, 0)
	require.NoError(t, err, "the generated test must be valid Go:\n%s", code)
	assert.Contains(t, code, "nemesis.Parse(`")
	assert.Contains(t, code, s.Minimal.Schedule.String())
	assert.Contains(t, code, `scenarios.Lookup("weak-quorum")`)
	assert.Contains(t, code, "checker.Invalid")
}

// TestShrinkClockSkew shrinks a failure that needs faults: strict quorum
// with blocking read repair is linearizable until a clock fault makes LWW
// order writes wrongly, so rapid must keep (at least) one clock fault and
// drops the partitions and crashes around it.
func TestShrinkClockSkew(t *testing.T) {
	spec := lookup(t, "strict-quorum-skew", 300)
	s, err := Shrink(t, spec, Options{MaxRuns: 1000, RapidSeed: 3})
	require.NoError(t, err)
	require.True(t, s.Found, "clock faults under LWW must lose or reorder acknowledged writes")
	t.Logf("shrink: %s", s.Summary())
	t.Logf("original schedule:\n%s", s.Original.Schedule)
	t.Logf("minimal schedule:\n%s", s.Minimal.Schedule)
	t.Logf("why: %s", s.Failure)
	assert.LessOrEqual(t, s.Minimal.Lines(), s.Original.Lines())
	require.Positive(t, s.Minimal.Faults(), "without a fault the configuration is linearizable")
	skews := 0
	for _, f := range s.Minimal.Schedule {
		if fam, _ := f.Kind.Family(); fam == nemesis.FamilySkew && !f.Kind.IsUndo() {
			skews++
		}
	}
	assert.Positive(t, skews, "the minimal schedule keeps a clock fault:\n%s", s.Minimal.Schedule)
	failing, _, err := s.Minimal.Verify(nil)
	require.NoError(t, err)
	assert.True(t, failing)
	t.Logf("paste into a _test.go file:\n%s", s.Minimal.GoTest("TestClockSkewRegression", nil))
}

// TestGeneratedTestReplays: the knobs and schedule the generated test sets
// give the same run as the case itself.
func TestGeneratedTestReplays(t *testing.T) {
	spec := lookup(t, "weak-quorum", 200)
	var c Case
	rapid.Check(t, func(rt *rapid.T) { c = Draw(rt, spec, Options{}) })
	sched, err := nemesis.Parse(c.Schedule.String())
	require.NoError(t, err)
	replay, err := scenarios.Lookup("weak-quorum")
	require.NoError(t, err)
	replay.Base.WorkloadConfig.Clients = c.Knobs.Clients
	replay.Base.WorkloadConfig.Keys = c.Knobs.Keys
	replay.Base.WorkloadConfig.Ops = c.Knobs.Ops
	replay.Base.WorkloadConfig.OpsPerClient = 0
	replay.Base.WorkloadConfig.ReadRatio = c.Knobs.ReadRatio
	replay.Vary = nil
	replay.Faults = scenarios.Faults{Schedule: sched}
	a, err := c.Run()
	require.NoError(t, err)
	b, err := scenarios.RunSeed(replay, c.Seed, scenarios.RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, a.TraceHash, b.TraceHash)
	assert.Equal(t, a.VerdictSummary(), b.VerdictSummary())
}

// TestStrictQuorumProperty: the linearizable configuration survives
// rapid-drawn schedules of partitions and crashes.
func TestStrictQuorumProperty(t *testing.T) {
	spec := lookup(t, "strict-quorum", 200)
	rapid.Check(t, Property(spec, Options{}))
}

// FuzzStrictQuorum is the strict-quorum property as a go test -fuzz target
// (bound minimization, or the engine spends its time shrinking every new
// interesting input; rapid shrinks failures itself):
//
//	go test ./scenarios/fuzz -run '^$' -fuzz FuzzStrictQuorum -fuzztime 60s -fuzzminimizetime 5x
func FuzzStrictQuorum(f *testing.F) {
	for _, seed := range corpus() {
		f.Add(seed)
	}
	spec := lookup(f, "strict-quorum", 200)
	f.Fuzz(rapid.MakeFuzz(Property(spec, Options{})))
}

// FuzzSwarmFaults fuzzes the strict-quorum cluster with every non-clock
// fault family (partitions, crashes, pauses, lossy links, churn excluded).
func FuzzSwarmFaults(f *testing.F) {
	for _, seed := range corpus() {
		f.Add(seed)
	}
	spec := lookup(f, "strict-quorum", 200)
	mix, err := nemesis.ParseMix("partition,crash,pause,loss")
	require.NoError(f, err)
	o := Options{Faults: spec.Faults}
	o.Faults.Mix = mix
	o.Faults.MaxDelay = 50 * time.Millisecond
	f.Fuzz(rapid.MakeFuzz(Property(spec, o)))
}

// corpus returns seed inputs for the fuzz targets: rapid reads them as a
// stream of little-endian uint64 choices, so they must be long enough for a
// whole case (a short input is skipped as invalid data). All zeros is the
// simplest case (no fault); the others are pseudo-random byte patterns.
func corpus() [][]byte {
	out := [][]byte{make([]byte, 8*256)}
	for _, mul := range []int{211, 53, 149, 13, 71} {
		b := make([]byte, 8*256)
		for i := range b {
			b[i] = byte((i*mul + mul/3) % 251)
		}
		out = append(out, b)
	}
	return out
}

func TestOptionsValidate(t *testing.T) {
	skew, err := scenarios.Lookup("skew/100ms")
	require.NoError(t, err)
	err = Options{}.Validate(skew)
	require.ErrorContains(t, err, "draws no faults")
	mix, err := nemesis.ParseMix("skew")
	require.NoError(t, err)
	err = Options{Faults: scenarios.Faults{Mix: mix, Duration: time.Second, Interval: time.Second, FaultDuration: time.Second}}.Validate(skew)
	require.ErrorContains(t, err, "max skew")

	weak := lookup(t, "weak-quorum", 100)
	weak.Expect = nil
	require.ErrorContains(t, Options{}.Validate(weak), "judges no checker")
	require.NoError(t, Options{Checkers: []string{checker.NameLinearizable}}.Validate(weak))

	bad := lookup(t, "weak-quorum", 100)
	bad.Name = "Bad Name"
	require.ErrorIs(t, Options{}.Validate(bad), scenarios.ErrBadSpec)
	_, err = Shrink(t, bad, Options{})
	require.ErrorIs(t, err, scenarios.ErrBadSpec)
}

// TestPropertyReportsBadSpec: a property over a spec that cannot be fuzzed
// fails at once with what to change (through the same Fatalf).
func TestPropertyReportsBadSpec(t *testing.T) {
	skew, err := scenarios.Lookup("skew/100ms")
	require.NoError(t, err)
	p := newProp(skew, Options{}, nil)
	assert.Contains(t, p.falsify(nil), "draws no faults")
}

// TestShrinkFindsNothing: a property that holds gives Found=false, not an
// error, and does not fail the test.
func TestShrinkFindsNothing(t *testing.T) {
	spec := lookup(t, "strict-quorum", 60)
	s, err := Shrink(t, spec, Options{})
	require.NoError(t, err)
	assert.False(t, s.Found)
	assert.Positive(t, s.Runs)
	assert.Contains(t, s.Summary(), "no failing case")
}
