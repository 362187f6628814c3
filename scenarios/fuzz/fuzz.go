// Package fuzz is property-based fuzzing of faultline scenarios with rapid
// (pgregory.net/rapid): a property draws a fault schedule (each fault as its
// delay since the previous one, so rapid can shrink it) and workload knobs,
// runs a scenario with them and fails through one t.Fatalf site when a
// checker says Invalid. Shrink lets rapid minimize a failing case and
// returns it as a Go regression test to paste; the package's FuzzXxx
// targets plug the same property into go test -fuzz via rapid.MakeFuzz.
//
// It is a separate package so that scenarios (and the CLI) do not import
// rapid, which registers command-line flags. Layer: like scenarios, layer 4
// of docs/design.md §2; it imports scenarios, cluster, checker, nemesis,
// nemesis/nemesistest, sim, rapid and the standard library.
package fuzz

import (
	"errors"
	"flag"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/nemesis/nemesistest"
	"github.com/faultline-sim/faultline/scenarios"
)

// Options bound what a property draws. The zero value draws faults as the
// spec's Faults would (its mix and intensity), at most the spec's clients,
// keys and operations, and a seed in [1, 1<<20].
type Options struct {
	// Faults overrides the spec's fault mix and intensity when its Mix is
	// not nemesis.MixNone. A fixed Schedule in it is ignored: every fault
	// of a case is drawn.
	Faults scenarios.Faults
	// MinOps is the fewest operations drawn (default 1).
	MinOps int
	// Checkers are the checkers whose Invalid verdict falsifies the
	// property; nil means every checker the spec judges (expectation other
	// than Any).
	Checkers []string
	// MaxRuns bounds the distinct cluster runs Shrink spends after the
	// first failure (default 400); cases beyond it are skipped.
	MaxRuns int
	// RapidSeed, if not 0, makes Shrink start rapid from this seed (as
	// -rapid.seed does), so the cases it finds and shrinks to are the same
	// on every run.
	RapidSeed uint64
}

// Knobs are the workload knobs a case draws.
type Knobs struct {
	// Clients, Keys and Ops size the workload (workloads.Config fields).
	Clients, Keys, Ops int
	// ReadRatio is the fraction of reads, drawn in tenths when the spec's
	// is strictly between 0 and 1 (else kept).
	ReadRatio float64
}

// Case is one drawn run: the scenario with the drawn knobs and schedule
// applied (Spec.Faults holds the schedule as a fixed one, Spec.Vary is
// cleared), and the run seed.
type Case struct {
	// Spec is the scenario with the knobs and the schedule applied.
	Spec scenarios.Spec
	// Seed is the run seed.
	Seed uint64
	// Knobs are the drawn workload knobs.
	Knobs Knobs
	// Schedule is the drawn fault schedule.
	Schedule nemesis.Schedule
}

// key identifies a case for memoization (runs are pure functions of it).
func (c Case) key() string {
	return fmt.Sprintf("%d|%+v|%s", c.Seed, c.Knobs, c.Schedule.String())
}

// Lines is the number of lines of the case's schedule (faults and undos).
func (c Case) Lines() int { return len(c.Schedule) }

// Faults is the number of faults of the case's schedule (undos not counted).
func (c Case) Faults() int { return c.Schedule.Faults() }

func (o Options) faults(spec scenarios.Spec) scenarios.Faults {
	f := spec.Faults
	if o.Faults.Mix != nemesis.MixNone {
		f = o.Faults
	}
	f.Schedule = nil
	f.Swarm = false
	return f
}

func (o Options) checkers(spec scenarios.Spec) []string {
	if o.Checkers != nil {
		return o.Checkers
	}
	var out []string
	for name, e := range spec.Expect {
		if e != scenarios.Any {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Validate reports a spec and options that cannot be fuzzed, saying what to
// change.
func (o Options) Validate(spec scenarios.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	f := o.faults(spec)
	if f.Mix == nemesis.MixNone {
		return fmt.Errorf("fuzz: %s draws no faults (its Faults.Mix is none); set Options.Faults.Mix", spec.Name)
	}
	if err := f.Options(spec.Base).Validate(); err != nil {
		return fmt.Errorf("fuzz: %s: %w", spec.Name, err)
	}
	if o.MinOps < 0 || o.MaxRuns < 0 {
		return errors.New("fuzz: MinOps and MaxRuns must be >= 0")
	}
	if len(o.checkers(spec)) == 0 {
		return fmt.Errorf("fuzz: %s judges no checker; set Options.Checkers", spec.Name)
	}
	return nil
}

// Draw draws a case of spec with rapid: the seed, the workload knobs (each
// shrinking toward the smallest workload) and a schedule drawn by
// nemesistest.DrawSchedule from the fault options.
func Draw(t *rapid.T, spec scenarios.Spec, o Options) Case {
	wc := spec.Base.WorkloadConfig
	minOps := o.MinOps
	if minOps == 0 {
		minOps = 1
	}
	c := Case{Spec: spec, Seed: rapid.Uint64Range(1, 1<<20).Draw(t, "seed")}
	c.Knobs.Clients = rapid.IntRange(1, max(wc.Clients, 1)).Draw(t, "clients")
	c.Knobs.Keys = rapid.IntRange(1, max(wc.Keys, 1)).Draw(t, "keys")
	c.Knobs.Ops = rapid.IntRange(min(minOps, max(wc.Ops, 1)), max(wc.Ops, 1)).Draw(t, "ops")
	c.Knobs.ReadRatio = wc.ReadRatio
	if wc.ReadRatio > 0 && wc.ReadRatio < 1 {
		// Tenths, so the printed case stays readable.
		c.Knobs.ReadRatio = float64(rapid.IntRange(1, 9).Draw(t, "read tenths")) / 10
	}
	cfg := spec.Base
	cfg.WorkloadConfig.Clients, cfg.WorkloadConfig.Keys, cfg.WorkloadConfig.Ops = c.Knobs.Clients, c.Knobs.Keys, c.Knobs.Ops
	cfg.WorkloadConfig.OpsPerClient = 0
	cfg.WorkloadConfig.ReadRatio = c.Knobs.ReadRatio
	f := o.faults(spec)
	c.Schedule = nemesistest.DrawSchedule(t, f.Options(cfg))
	c.Spec.Base = cfg
	c.Spec.Vary = nil
	c.Spec.Faults = scenarios.Faults{Schedule: c.Schedule}
	return c
}

// Run runs the case and returns its outcome.
func (c Case) Run() (scenarios.Outcome, error) {
	return scenarios.RunSeed(c.Spec, c.Seed, scenarios.RunOptions{})
}

// falsified returns why the outcome falsifies the property ("" if it does
// not): a watched checker said Invalid, or the run did not finish.
func falsified(out scenarios.Outcome, watched []string) string {
	switch out.Class {
	case scenarios.ClassLiveness, scenarios.ClassCrash:
		return fmt.Sprintf("%s: %s", out.Class, out.Failure)
	}
	var bad []string
	for _, v := range out.Verdicts {
		if v.Verdict != checker.Invalid {
			continue
		}
		for _, w := range watched {
			if v.Checker == w {
				bad = append(bad, v.Result.String())
			}
		}
	}
	return strings.Join(bad, "; ")
}

// Property returns a rapid property for spec: draw a case, run it, and fail
// (through its one t.Fatalf) when a watched checker says Invalid or the run
// ends in a liveness failure or a crash. A spec or options that cannot be
// fuzzed fail the property at once with what to change.
func Property(spec scenarios.Spec, o Options) func(*rapid.T) {
	return newProp(spec, o, nil).check
}

// prop is a property with an optional recorder (used by Shrink).
type prop struct {
	spec    scenarios.Spec
	opts    Options
	watched []string
	err     error
	rec     *recorder
}

// recorder memoizes runs and remembers the first and the latest failing
// case: rapid only accepts a failing candidate while shrinking and replays
// the minimal one last, so the latest failing case is the minimal one.
type recorder struct {
	memo     map[string]string
	first    *Case
	last     *Case
	lastMsg  string
	runs     int
	maxRuns  int
	skipped  int
	firstRun int
}

func newProp(spec scenarios.Spec, o Options, rec *recorder) *prop {
	p := &prop{spec: spec, opts: o, rec: rec}
	p.err = o.Validate(spec)
	if p.err == nil {
		p.watched = o.checkers(spec)
	}
	return p
}

func (p *prop) check(t *rapid.T) {
	msg := p.falsify(t)
	if msg != "" {
		t.Fatalf("%s", msg)
	}
}

// falsify draws and judges one case, returning why it fails ("" if it
// passes).
func (p *prop) falsify(t *rapid.T) string {
	if p.err != nil {
		return p.err.Error()
	}
	c := Draw(t, p.spec, p.opts)
	r := p.rec
	if r != nil {
		if msg, ok := r.memo[c.key()]; ok {
			r.note(c, msg)
			return msg
		}
		if r.first != nil && r.runs-r.firstRun >= r.maxRuns {
			r.skipped++
			t.Skip("fuzz: shrink budget spent")
		}
		r.runs++
	}
	out, err := c.Run()
	msg := ""
	if err != nil {
		msg = fmt.Sprintf("seed %d: the drawn case cannot run: %v", c.Seed, err)
	} else if why := falsified(out, p.watched); why != "" {
		msg = fmt.Sprintf("seed %d, %d faults: %s", c.Seed, c.Faults(), why)
	}
	if r != nil {
		r.memo[c.key()] = msg
		r.note(c, msg)
	}
	return msg
}

func (r *recorder) note(c Case, msg string) {
	if msg == "" {
		return
	}
	if r.first == nil {
		cc := c
		r.first = &cc
		r.firstRun = r.runs
	}
	cc := c
	r.last = &cc
	r.lastMsg = msg
}

// Shrunk is what Shrink found.
type Shrunk struct {
	// Found reports whether any case failed.
	Found bool
	// Original is the first failing case rapid found; Minimal the case it
	// shrank it to.
	Original, Minimal Case
	// Failure says why Minimal fails.
	Failure string
	// Runs counts the distinct cluster runs (memoized re-runs excluded);
	// Skipped the candidates left untried once MaxRuns was spent.
	Runs, Skipped int
	// Elapsed is the wall time spent.
	Elapsed time.Duration
}

// Summary formats the shrink on one line, e.g. "seed 5: 14 faults (28
// lines) -> 1 fault (2 lines), ops 1500 -> 35, in 212 runs".
func (s Shrunk) Summary() string {
	if !s.Found {
		return fmt.Sprintf("no failing case found in %d runs", s.Runs)
	}
	o, m := s.Original, s.Minimal
	return fmt.Sprintf("%d faults (%d lines), %d clients, %d keys, %d ops -> %d faults (%d lines), %d clients, %d keys, %d ops; %d runs, %v",
		o.Faults(), o.Lines(), o.Knobs.Clients, o.Knobs.Keys, o.Knobs.Ops,
		m.Faults(), m.Lines(), m.Knobs.Clients, m.Knobs.Keys, m.Knobs.Ops, s.Runs, s.Elapsed.Round(time.Millisecond))
}

// Shrink looks for a case of spec that falsifies the property with
// rapid.Check (-rapid.checks cases at most), lets rapid shrink it (spending
// at most Options.MaxRuns distinct cluster runs) and returns the first and
// the minimal failing case. It does not fail tb: a falsified property is
// the result, not an error. The error is for a spec or options that cannot
// be fuzzed. Shrink turns rapid's fail files off while it runs (their
// replay would start the next Shrink from the already shrunk case) and sets
// -rapid.seed for Options.RapidSeed, so do not run it in parallel with
// other rapid checks.
func Shrink(tb testing.TB, spec scenarios.Spec, o Options) (Shrunk, error) {
	tb.Helper()
	if err := o.Validate(spec); err != nil {
		return Shrunk{}, err
	}
	if o.MaxRuns == 0 {
		o.MaxRuns = 400
	}
	defer setFlag("rapid.nofailfile", "true")()
	if o.RapidSeed != 0 {
		defer setFlag("rapid.seed", strconv.FormatUint(o.RapidSeed, 10))()
	}
	rec := &recorder{memo: map[string]string{}, maxRuns: o.MaxRuns}
	p := newProp(spec, o, rec)
	rt := &quietTB{name: tb.Name() + "/faultline-shrink"}
	start := time.Now()
	rapid.Check(rt, p.check)
	s := Shrunk{Runs: rec.runs, Skipped: rec.skipped, Elapsed: time.Since(start)}
	if rec.first == nil {
		if rt.failed {
			return s, fmt.Errorf("fuzz: rapid failed without a failing case: %s", rt.msg)
		}
		return s, nil
	}
	s.Found = true
	s.Original, s.Minimal, s.Failure = *rec.first, *rec.last, rec.lastMsg
	return s, nil
}

// setFlag sets one of rapid's flags and returns the function that restores
// it (a no-op if the flag is unknown).
func setFlag(name, value string) (restore func()) {
	f := flag.Lookup(name)
	if f == nil {
		return func() {}
	}
	prev := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		return func() {}
	}
	return func() { _ = f.Value.Set(prev) }
}

// quietTB is the rapid.TB Shrink hands rapid: it records the failure
// instead of failing the test and drops rapid's logging.
type quietTB struct {
	name   string
	failed bool
	msg    string
}

// The rapid.TB methods: failures are recorded, logs and helpers ignored.

func (q *quietTB) Helper()                          {}
func (q *quietTB) Name() string                     { return q.name }
func (q *quietTB) Logf(string, ...any)              {}
func (q *quietTB) Log(...any)                       {}
func (q *quietTB) Skipf(format string, args ...any) { q.Errorf(format, args...) }
func (q *quietTB) Skip(args ...any)                 { q.Error(args...) }
func (q *quietTB) SkipNow()                         { q.Fail() }
func (q *quietTB) Errorf(format string, args ...any) {
	q.failed = true
	if q.msg == "" {
		q.msg = fmt.Sprintf(format, args...)
	}
}
func (q *quietTB) Error(args ...any)                 { q.Errorf("%s", fmt.Sprint(args...)) }
func (q *quietTB) Fatalf(format string, args ...any) { q.Errorf(format, args...) }
func (q *quietTB) Fatal(args ...any)                 { q.Error(args...) }
func (q *quietTB) FailNow()                          { q.failed = true }
func (q *quietTB) Fail()                             { q.failed = true }
func (q *quietTB) Failed() bool                      { return q.failed }

// GoTest returns a Go test function, named name, that replays c and
// asserts the property it falsified: no watched checker (checkers, or
// every judged one when nil) says Invalid. Pasted into a _test.go file it
// fails until the bug is fixed; for a configuration that is expected to
// fail (a demonstration, not a bug), flip the assertion to checker.Invalid.
// The file needs the imports testing, require (testify), checker, nemesis
// and scenarios.
func (c Case) GoTest(name string, checkers []string) string {
	if checkers == nil {
		checkers = Options{}.checkers(c.Spec)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %s replays a case shrunk by faultline's fuzz.Shrink (%d faults).\n", name, c.Faults())
	fmt.Fprintf(&b, "func %s(t *testing.T) {\n", name)
	fmt.Fprintf(&b, "spec, err := scenarios.Lookup(%q)\n", c.Spec.Name)
	b.WriteString("require.NoError(t, err)\n")
	fmt.Fprintf(&b, "spec.Base.WorkloadConfig.Clients = %d\n", c.Knobs.Clients)
	fmt.Fprintf(&b, "spec.Base.WorkloadConfig.Keys = %d\n", c.Knobs.Keys)
	fmt.Fprintf(&b, "spec.Base.WorkloadConfig.Ops = %d\n", c.Knobs.Ops)
	b.WriteString("spec.Base.WorkloadConfig.OpsPerClient = 0\n")
	fmt.Fprintf(&b, "spec.Base.WorkloadConfig.ReadRatio = %s\n", strconv.FormatFloat(c.Knobs.ReadRatio, 'g', -1, 64))
	b.WriteString("spec.Vary = nil\n")
	fmt.Fprintf(&b, "sched, err := nemesis.Parse(`\n%s`)\n", c.Schedule.String())
	b.WriteString("require.NoError(t, err)\n")
	b.WriteString("spec.Faults = scenarios.Faults{Schedule: sched}\n")
	fmt.Fprintf(&b, "out, err := scenarios.RunSeed(spec, %d, scenarios.RunOptions{})\n", c.Seed)
	b.WriteString("require.NoError(t, err)\n")
	b.WriteString("require.Equal(t, scenarios.ClassOK, out.Class, out.Failure)\n")
	fmt.Fprintf(&b, "for _, name := range %#v {\n", checkers)
	b.WriteString("v, ran := out.Verdict(name)\n")
	b.WriteString("require.True(t, ran, name)\n")
	b.WriteString("require.NotEqual(t, checker.Invalid, v, \"%s: %s\", name, out.Failure)\n")
	b.WriteString("}\n}\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return b.String()
	}
	return string(src)
}

// Verify re-runs c and reports whether it still falsifies the property for
// the watched checkers (nil: every judged one), with why.
func (c Case) Verify(checkers []string) (bool, string, error) {
	if checkers == nil {
		checkers = Options{}.checkers(c.Spec)
	}
	out, err := c.Run()
	if err != nil {
		return false, "", err
	}
	why := falsified(out, checkers)
	return why != "", why, nil
}
