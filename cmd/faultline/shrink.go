package main

import (
	"fmt"
	"go/format"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
)

// defaultShrinkRuns bounds the runs a shrink spends.
const defaultShrinkRuns = 300

// runConfig is what Spec.Config returns: the configuration a seed runs.
type runConfig = scenarios.Config

// defaultRunConfig is an ad-hoc run's starting configuration, and
// defaultRunConfigGo the Go expression for it in a generated test.
var defaultRunConfig = scenarios.DefaultConfig

const defaultRunConfigGo = "scenarios.DefaultConfig()"

func runShrink(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("shrink", "[-scenario NAME] -seed S [-max-runs N] [-name TestName] [-json] [knobs]\n\n"+
		"Shrinks one failing seed (of a scenario, or of an ad-hoc configuration built from the knobs, as\n"+
		"run takes them): the seed's configuration and fault schedule are fixed, then faults are removed\n"+
		"(delta debugging over the schedule's lines) and the clients and operations reduced while the run\n"+
		"still fails the same way (same class, same checkers). Prints the minimal schedule and a Go\n"+
		"regression test to paste into a _test.go file (it fails until the bug is fixed). This is the CLI\n"+
		"face of scenarios/fuzz, anchored on a seed that swarm or merge reported; fuzz.Shrink searches\n"+
		"with rapid instead.\n"+
		"Exit: the minimal case's class as for run (it still fails), 0 if the seed passes, 64 usage.")
	name := fs.String("scenario", "", "the scenario of the seed (default: an ad-hoc run built from the knobs)")
	seedFlag := fs.String("seed", "", "the failing seed to shrink")
	maxRuns := fs.Int("max-runs", defaultShrinkRuns, "most runs to spend shrinking")
	testName := fs.String("name", "", "name of the generated Go test (default: from the scenario and seed)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	k := addKnobs(fs)
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *seedFlag == "" {
		return usageError(stderr, fs, "name the failing seed to shrink with -seed S (swarm and merge print them)")
	}
	list, err := parseSeeds(*seedFlag, "")
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	seed := list[0]
	if *maxRuns < 1 {
		return usageError(stderr, fs, "-max-runs %d: must be >= 1", *maxRuns)
	}
	t, err := resolveTarget(*name, k)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := t.check(seed); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if *testName == "" {
		*testName = goTestName(t.spec.Name, seed)
	}
	res, err := shrinkSeed(t, seed, *maxRuns, k.linearTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "faultline shrink: %v\n", err)
		return exitCrash
	}
	if res.Passes {
		if *asJSON {
			writeJSON(stdout, res)
		} else {
			fmt.Fprintf(stdout, "shrink: %s seed %d passes (%s): nothing to shrink\n", t.spec.Name, seed, res.Class)
		}
		return exitOK
	}
	var shown []string
	for _, a := range args {
		if a != "-json" && a != "--json" {
			shown = append(shown, a)
		}
	}
	res.GoTest = goRegressionTest(t, seed, res.minimal, *testName, "faultline shrink "+strings.Join(shown, " "))
	if *asJSON {
		writeJSON(stdout, res)
	} else {
		fmt.Fprintf(stdout, "shrink: %s seed %d: %s\n", t.spec.Name, seed, res.Signature)
		fmt.Fprintf(stdout, "  %s -> %s in %s (%s)\n", res.Original, res.Minimal, plural(res.Runs, "run"), fmtDuration(time.Duration(res.WallNs)))
		fmt.Fprintf(stdout, "  why: %s\n", shorten(res.Failure, 300))
		if res.Schedule == "" {
			fmt.Fprintf(stdout, "\nminimal schedule: none (it fails without any fault)\n")
		} else {
			fmt.Fprintf(stdout, "\nminimal schedule (nemesis.Parse reads it):\n%s", res.Schedule)
		}
		fmt.Fprintf(stdout, "\nGo regression test (paste into a _test.go file; it fails until the bug is fixed):\n\n%s", res.GoTest)
	}
	return classExit(scenarios.Class(res.Class))
}

// caseSize is the size of a case in words, e.g. "14 faults (28 lines), 10
// clients, 2000 ops".
type caseSize struct {
	Faults  int `json:"faults"`
	Lines   int `json:"lines"`
	Clients int `json:"clients"`
	Ops     int `json:"ops"`
}

func (c caseSize) String() string {
	return fmt.Sprintf("%s (%s), %s, %d ops", plural(c.Faults, "fault"), plural(c.Lines, "line"), plural(c.Clients, "client"), c.Ops)
}

// shrinkResult is what shrink found (its -json object).
type shrinkResult struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	// Passes: the seed does not fail; nothing was shrunk.
	Passes bool   `json:"passes"`
	Class  string `json:"class"`
	// Signature is what must keep failing: the class and the checkers.
	Signature string   `json:"signature"`
	Failure   string   `json:"failure,omitempty"`
	Original  caseSize `json:"original"`
	Minimal   caseSize `json:"minimal"`
	Schedule  string   `json:"schedule,omitempty"`
	GoTest    string   `json:"go_test,omitempty"`
	Runs      int      `json:"runs"`
	WallNs    int64    `json:"wall_ns"`

	minimal runConfig
}

// signature is how a run fails: its class and, for a correctness failure,
// the checkers that failed. A shrink step must keep it.
func signature(r *seedResult) string {
	if !r.failing() {
		return string(scenarios.ClassOK)
	}
	if r.out.Class != scenarios.ClassCorrectness {
		return string(r.out.Class)
	}
	var bad []string
	for _, v := range r.out.Verdicts {
		if (r.job.adHoc && v.Verdict == checker.Invalid) || (!r.job.adHoc && !v.AsExpected) {
			bad = append(bad, v.Checker)
		}
	}
	sort.Strings(bad)
	return string(r.out.Class) + ": " + strings.Join(bad, ",")
}

// fixedSpec is t's spec with cfg as its fixed configuration (Vary cleared)
// and cfg's schedule as its only faults: a pure function of the seed that
// runs exactly what the seed ran (checked by shrinkSeed).
func fixedSpec(t *target, cfg runConfig) scenarios.Spec {
	s := t.spec
	sched := cfg.Nemesis
	cfg.Nemesis = nil
	s.Base, s.Vary = cfg, nil
	s.Faults = scenarios.Faults{Schedule: sched}
	return s
}

func sizeOf(cfg runConfig) caseSize {
	ops := cfg.WorkloadConfig.Ops
	if ops == 0 {
		ops = cfg.WorkloadConfig.OpsPerClient * cfg.WorkloadConfig.Clients
	}
	return caseSize{Faults: cfg.Nemesis.Faults(), Lines: len(cfg.Nemesis), Clients: cfg.WorkloadConfig.Clients, Ops: ops}
}

// shrinkSeed minimizes seed's failure within maxRuns runs. The error is a
// harness problem (the fixed replay does not reproduce the seed).
func shrinkSeed(t *target, seed uint64, maxRuns int, linearTimeout time.Duration) (shrinkResult, error) {
	start := time.Now()
	res := shrinkResult{Scenario: t.spec.Name, Seed: seed}
	opts := execOpts{parallel: 1, linearTimeout: linearTimeout}
	first := runJob(job{spec: &t.spec, seed: seed, adHoc: t.adHoc}, opts)
	res.Runs = 1
	res.Class, res.Signature, res.Failure = string(first.out.Class), signature(&first), first.out.Failure
	if !first.failing() {
		res.Passes = true
		return res, nil
	}
	cfg, err := t.spec.Config(seed)
	if err != nil {
		return res, err
	}
	res.Original = sizeOf(cfg)
	want := res.Signature
	runs := 1
	fails := func(c runConfig) bool {
		if runs >= maxRuns {
			return false
		}
		if c.Nemesis.Check() != nil || c.Validate() != nil {
			return false
		}
		runs++
		spec := fixedSpec(t, c)
		r := runJob(job{spec: &spec, seed: seed, adHoc: t.adHoc}, opts)
		if signature(&r) == want {
			res.Failure = r.out.Failure
			return true
		}
		return false
	}
	// The fixed replay must be the seed's run, trace for trace.
	spec := fixedSpec(t, cfg)
	again := runJob(job{spec: &spec, seed: seed, adHoc: t.adHoc}, opts)
	runs++
	if again.out.TraceHash != first.out.TraceHash || signature(&again) != want {
		return res, fmt.Errorf("%s seed %d: replaying its configuration and schedule as fixed ones gave trace %016x (%s), not the seed's %016x (%s): cannot shrink soundly",
			t.spec.Name, seed, again.out.TraceHash, signature(&again), first.out.TraceHash, want)
	}
	for pass := 0; pass < 2 && runs < maxRuns; pass++ {
		cfg.Nemesis = ddmin(cfg.Nemesis, func(s nemesis.Schedule) bool {
			c := cfg
			c.Nemesis = s
			return fails(c)
		})
		wc := &cfg.WorkloadConfig
		if wc.Ops == 0 && wc.OpsPerClient > 0 {
			wc.Ops, wc.OpsPerClient = wc.OpsPerClient*wc.Clients, 0
		}
		wc.Ops = descend(wc.Ops, 1, func(v int) bool { c := cfg; c.WorkloadConfig.Ops = v; return fails(c) })
		wc.Clients = descend(wc.Clients, 1, func(v int) bool { c := cfg; c.WorkloadConfig.Clients = v; return fails(c) })
	}
	res.Minimal = sizeOf(cfg)
	res.Schedule = cfg.Nemesis.String()
	res.Runs = runs
	res.WallNs = time.Since(start).Nanoseconds()
	res.minimal = cfg
	return res, nil
}

// ddmin removes chunks of the schedule's lines while fails keeps true
// (Zeller's delta debugging, complement-only): chunks of half the lines,
// then quarters, down to single lines.
func ddmin(s nemesis.Schedule, fails func(nemesis.Schedule) bool) nemesis.Schedule {
	n := 2
	for len(s) > 0 {
		chunk := (len(s) + n - 1) / n
		removed := false
		for lo := 0; lo < len(s); lo += chunk {
			hi := min(lo+chunk, len(s))
			cand := append(append(nemesis.Schedule(nil), s[:lo]...), s[hi:]...)
			if fails(cand) {
				s, removed = cand, true
				n = max(n-1, 2)
				break
			}
		}
		if !removed {
			if chunk == 1 {
				break
			}
			n = min(2*n, len(s))
		}
	}
	return s
}

// descend lowers v towards lo while fails keeps true: big steps first,
// halving the step on each miss.
func descend(v, lo int, fails func(int) bool) int {
	for step := (v - lo + 1) / 2; step >= 1; {
		if v-step >= lo && fails(v-step) {
			v -= step
			continue
		}
		step /= 2
	}
	return v
}

// goTestName makes a Go test name from a scenario and seed, e.g.
// TestShrunkSwarmSeed17.
func goTestName(scenario string, seed uint64) string {
	var b strings.Builder
	b.WriteString("TestShrunk")
	up := true
	for _, r := range scenario {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
			continue
		}
		up = true
	}
	fmt.Fprintf(&b, "Seed%d", seed)
	return b.String()
}

// goRegressionTest returns a Go test that runs the minimal case: for a
// scenario, its seed's configuration with the differences shrink (and the
// knobs) made; for an ad-hoc run, the default configuration with the
// differences. It asserts what the seed violated: the scenario's
// expectations, or (ad-hoc) that no checker says invalid.
func goRegressionTest(t *target, seed uint64, cfg runConfig, name, cmdline string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// %s replays the minimal case of `%s`\n// (%s). It fails until the bug is fixed.\n", name, cmdline, sizeOf(cfg))
	fmt.Fprintf(&b, "// Imports: testing, github.com/stretchr/testify/require, and faultline's %s.\n", strings.Join(testImports(t.adHoc, len(cfg.Nemesis) > 0), ", "))
	fmt.Fprintf(&b, "func %s(t *testing.T) {\n", name)
	var base runConfig
	if t.adHoc {
		base = defaultRunConfig()
		b.WriteString("cfg := " + defaultRunConfigGo + "\n")
	} else {
		lookup, _ := scenarios.Lookup(t.spec.Name)
		base, _ = lookup.Config(seed)
		fmt.Fprintf(&b, "spec, err := scenarios.Lookup(%q)\nrequire.NoError(t, err)\n", t.spec.Name)
		fmt.Fprintf(&b, "cfg, err := spec.Config(%d) // the seed's configuration; its faults are replaced below\nrequire.NoError(t, err)\n", seed)
	}
	sched := cfg.Nemesis
	base.Nemesis, cfg.Nemesis = nil, nil
	b.WriteString("cfg.Nemesis = nil\n")
	var lines []string
	goAssignments("cfg", reflect.ValueOf(base), reflect.ValueOf(cfg), &lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if t.adHoc {
		b.WriteString("spec := scenarios.Spec{Name: \"ad-hoc\", Description: \"shrunk ad-hoc case\", Base: cfg, Seeds: 1}\n")
	} else {
		b.WriteString("spec.Base, spec.Vary = cfg, nil\n")
	}
	if len(sched) == 0 {
		b.WriteString("spec.Faults = scenarios.Faults{} // it fails without any fault\n")
	} else {
		fmt.Fprintf(&b, "sched, err := nemesis.Parse(`\n%s`)\nrequire.NoError(t, err)\n", sched.String())
		b.WriteString("spec.Faults = scenarios.Faults{Schedule: sched}\n")
	}
	fmt.Fprintf(&b, "out, err := scenarios.RunSeed(spec, %d, scenarios.RunOptions{})\nrequire.NoError(t, err)\n", seed)
	b.WriteString("require.Equal(t, scenarios.ClassOK, out.Class, out.Failure)\n")
	if t.adHoc {
		b.WriteString("for _, v := range out.Verdicts {\nrequire.NotEqual(t, checker.Invalid, v.Verdict, \"%s: %s\", v.Checker, v.Explanation)\n}\n")
	}
	b.WriteString("}\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return b.String()
	}
	return string(src)
}

// testImports lists the faultline packages the generated test uses.
func testImports(adHoc, faults bool) []string {
	var out []string
	if adHoc {
		out = append(out, "checker")
		if pkg, _, _ := strings.Cut(defaultRunConfigGo, "."); pkg != "scenarios" {
			out = append(out, pkg)
		}
	}
	if faults {
		out = append(out, "nemesis")
	}
	return append(out, "scenarios")
}

// goAssignments appends a Go assignment for every field where b differs
// from a (path names a), and a comment for a difference it cannot write as
// a literal.
func goAssignments(path string, a, b reflect.Value, out *[]string) {
	switch b.Kind() {
	case reflect.Struct:
		for i := 0; i < b.NumField(); i++ {
			f := b.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := path + "." + f.Name
			if f.Anonymous {
				p = path // an embedded struct's fields are promoted
			}
			goAssignments(p, a.Field(i), b.Field(i), out)
		}
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		if a.Interface() == b.Interface() {
			return
		}
		var lit string
		switch b.Kind() {
		case reflect.Bool:
			lit = strconv.FormatBool(b.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			lit = strconv.FormatInt(b.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			lit = strconv.FormatUint(b.Uint(), 10)
		case reflect.Float32, reflect.Float64:
			lit = strconv.FormatFloat(b.Float(), 'g', -1, 64)
		default:
			lit = strconv.Quote(b.String())
		}
		line := path + " = " + lit
		if st, ok := b.Interface().(fmt.Stringer); ok && b.Kind() != reflect.String && st.String() != lit {
			line += " // " + st.String()
		}
		*out = append(*out, line)
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, fmt.Sprintf("// %s differs (%v) and is not a literal: set it by hand", path, b.Type()))
		}
	}
}
