package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
)

// CheckSummary is one checker's verdicts over a suite's seeds.
type CheckSummary struct {
	// Checker names the checker.
	Checker string `json:"checker"`
	// Expected is the spec's expectation for it.
	Expected Expectation `json:"expected"`
	// Valid, Invalid and Unknown count the seeds by verdict; Idle counts
	// the Unknowns that had nothing to judge (not exercised).
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
	Unknown int `json:"unknown"`
	Idle    int `json:"idle,omitempty"`
	// Met reports whether the expectation holds over the suite.
	Met bool `json:"met"`
}

// Judged is the number of seeds that gave this checker a verdict.
func (c CheckSummary) Judged() int { return c.Valid + c.Invalid + c.Unknown }

// Got formats the verdicts for a table: "valid", "invalid", or counts such
// as "invalid 9/10" when they differ across seeds.
func (c CheckSummary) Got() string {
	n := c.Judged()
	switch {
	case n == 0:
		return "not judged"
	case c.Idle == n:
		return "not exercised"
	case c.Valid == n:
		return "valid"
	case c.Invalid == n:
		return "invalid"
	case c.Unknown == n:
		return "unknown"
	}
	var parts []string
	if c.Invalid > 0 {
		parts = append(parts, fmt.Sprintf("invalid %d/%d", c.Invalid, n))
	}
	if u := c.Unknown - c.Idle; u > 0 {
		parts = append(parts, fmt.Sprintf("unknown %d/%d", u, n))
	}
	if c.Idle > 0 {
		parts = append(parts, fmt.Sprintf("not exercised %d/%d", c.Idle, n))
	}
	return strings.Join(parts, ", ")
}

// SuiteOutcome is a spec's run over several seeds.
type SuiteOutcome struct {
	// Scenario names the spec.
	Scenario string `json:"scenario"`
	// Seeds are the seeds run, in order; Outcomes their outcomes in the
	// same order.
	Seeds    []uint64  `json:"seeds"`
	Outcomes []Outcome `json:"-"`
	// Checks summarizes each checker over the seeds, in judging order.
	Checks []CheckSummary `json:"checks"`
	// Marks says in how many seeds each of the spec's marks ran.
	Marks []MarkSummary `json:"marks,omitempty"`
	// Class is the worst class: a seed's, or correctness when a
	// FoundInvalid violation was never found.
	Class Class `json:"class"`
	// Failures has one line per problem, each ending with a repro when a
	// seed is to blame.
	Failures []string `json:"failures,omitempty"`
	// Err is set when the spec could not run at all (a bad spec or
	// configuration, wrapping ErrBadSpec or cluster.ErrBadConfig); then
	// nothing but Scenario is filled in.
	Err error `json:"-"`
	// WallTime is the sum of the seeds' wall times.
	WallTime time.Duration `json:"wall_ns"`
}

// Passed reports whether every expectation held and every seed ran.
func (s SuiteOutcome) Passed() bool { return s.Err == nil && s.Class == ClassOK }

// Summary returns the CheckSummary for a checker, and false if no seed ran
// it.
func (s SuiteOutcome) Summary(name string) (CheckSummary, bool) {
	for _, c := range s.Checks {
		if c.Checker == name {
			return c, true
		}
	}
	return CheckSummary{}, false
}

// Summarize applies the suite rules to outcomes of spec's seeds (in seed
// order): per-seed expectations, and FoundInvalid across the seeds.
func Summarize(spec Spec, outcomes []Outcome) SuiteOutcome {
	s := SuiteOutcome{Scenario: spec.Name, Class: ClassOK, Outcomes: outcomes}
	idx := map[string]int{}
	for _, name := range spec.checkOrder() {
		if _, expected := spec.Expect[name]; expected {
			idx[name] = len(s.Checks)
			s.Checks = append(s.Checks, CheckSummary{Checker: name, Expected: spec.Expected(name)})
		}
	}
	for _, o := range outcomes {
		s.Seeds = append(s.Seeds, o.Seed)
		s.WallTime += o.WallTime
		s.Class = s.Class.Worse(o.Class)
		if o.Class != ClassOK {
			s.Failures = append(s.Failures, fmt.Sprintf("seed %d: %s: %s; replay: %s", o.Seed, o.Class, o.Failure, o.Repro))
		}
		for _, v := range o.Verdicts {
			i, ok := idx[v.Checker]
			if !ok {
				idx[v.Checker] = len(s.Checks)
				i = len(s.Checks)
				s.Checks = append(s.Checks, CheckSummary{Checker: v.Checker, Expected: v.Expected})
			}
			switch v.Verdict {
			case checker.Valid:
				s.Checks[i].Valid++
			case checker.Invalid:
				s.Checks[i].Invalid++
			default:
				s.Checks[i].Unknown++
				if v.Idle {
					s.Checks[i].Idle++
				}
			}
		}
	}
	for i := range s.Checks {
		c := &s.Checks[i]
		n := c.Judged()
		switch c.Expected {
		case AlwaysValid:
			// A seed with nothing to judge is not exercised: neither a
			// pass nor a failure. A suite that never exercised the checker
			// is reported so (Got: "not exercised"); what a scenario must
			// exercise, it names as marks, which fail the suite.
			c.Met = n == len(outcomes) && c.Valid+c.Idle == n
		case AlwaysInvalid:
			c.Met = n == len(outcomes) && c.Invalid == n
		case FoundInvalid:
			c.Met = c.Invalid > 0
			if !c.Met {
				s.Class = s.Class.Worse(ClassCorrectness)
				s.Failures = append(s.Failures, fmt.Sprintf(
					"%s: expected %s, but none of %d seeds (%s) was invalid (%s); try more seeds",
					c.Checker, c.Expected, len(outcomes), seedRange(s.Seeds), c.Got()))
			}
		default:
			c.Met = true
		}
	}
	for _, m := range spec.Marks {
		ran := false
		for _, o := range outcomes {
			for _, mc := range o.Marks {
				ran = ran || (mc.Name == m.Name && mc.Count > 0)
			}
		}
		ms := MarkSummary{Name: m.Name, Exercised: ran}
		for _, o := range outcomes {
			for _, mc := range o.Marks {
				if mc.Name == m.Name && mc.Count > 0 {
					ms.Seeds++
				}
			}
		}
		s.Marks = append(s.Marks, ms)
		if !ran && len(outcomes) > 0 {
			s.Class = s.Class.Worse(ClassCorrectness)
			s.Failures = append(s.Failures, fmt.Sprintf(
				"mark %s: the mechanism never ran in %d seeds (%s): the scenario does not exercise what it exists to test",
				m.Name, len(outcomes), seedRange(s.Seeds)))
		}
	}
	return s
}

// MarkSummary says in how many of a suite's seeds a mark ran.
type MarkSummary struct {
	Name      string `json:"name"`
	Seeds     int    `json:"seeds"`
	Exercised bool   `json:"exercised"`
}

// seedRange formats seeds compactly: "1-10" for a contiguous run, else a
// list.
func seedRange(seeds []uint64) string {
	if len(seeds) == 0 {
		return "none"
	}
	contiguous := true
	for i := 1; i < len(seeds); i++ {
		if seeds[i] != seeds[i-1]+1 {
			contiguous = false
			break
		}
	}
	if contiguous {
		if len(seeds) == 1 {
			return fmt.Sprint(seeds[0])
		}
		return fmt.Sprintf("%d-%d", seeds[0], seeds[len(seeds)-1])
	}
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, ",")
}

// SeedRange returns the seeds from..from+n-1.
func SeedRange(from uint64, n int) []uint64 {
	out := make([]uint64, 0, max(n, 0))
	for i := 0; i < n; i++ {
		out = append(out, from+uint64(i))
	}
	return out
}

// DefaultSeeds returns the seeds a default suite run of spec uses:
// 1..spec.Seeds.
func DefaultSeeds(spec Spec) []uint64 { return SeedRange(1, spec.Seeds) }

// RunSuite runs spec for each seed, one after another, and applies the
// suite rules (Summarize).
func RunSuite(spec Spec, seeds []uint64) SuiteOutcome {
	return RunSuites([]Spec{spec}, func(Spec) []uint64 { return seeds }, 1, RunOptions{}, nil)[0]
}

// Progress is called once per finished seed, from one goroutine at a time,
// in completion order (which varies with parallelism; the outcomes
// themselves do not): done seeds so far out of total.
type Progress func(o Outcome, done, total int)

// RunSuites runs every spec over seeds(spec) on up to parallel goroutines
// (0: GOMAXPROCS; each runs one seed at a time; every run is single-threaded and a pure
// function of its seed, so the outcomes do not depend on parallel) and
// returns one SuiteOutcome per spec, in spec order. This is the runner for
// the CLI's default suite and swarm.
func RunSuites(specs []Spec, seeds func(Spec) []uint64, parallel int, opts RunOptions, progress Progress) []SuiteOutcome {
	type job struct{ spec, idx int }
	suites := make([]SuiteOutcome, len(specs))
	outcomes := make([][]Outcome, len(specs))
	var jobs []job
	for i, sp := range specs {
		suites[i].Scenario = sp.Name
		if err := sp.Validate(); err != nil {
			suites[i].Err = err
			continue
		}
		ss := seeds(sp)
		outcomes[i] = make([]Outcome, len(ss))
		for j, seed := range ss {
			outcomes[i][j].Seed = seed
			jobs = append(jobs, job{i, j})
		}
	}
	errs := make([][]error, len(specs))
	for i := range specs {
		errs[i] = make([]error, len(outcomes[i]))
	}
	run := func(j job) {
		sp := specs[j.spec]
		o, err := RunSeed(sp, outcomes[j.spec][j.idx].Seed, opts)
		if err != nil {
			errs[j.spec][j.idx] = err
			o = Outcome{Scenario: sp.Name, Seed: outcomes[j.spec][j.idx].Seed}
		}
		outcomes[j.spec][j.idx] = o
	}
	Parallel(len(jobs), parallel, func(n int) { run(jobs[n]) }, func(n, done int) {
		if progress != nil {
			j := jobs[n]
			progress(outcomes[j.spec][j.idx], done, len(jobs))
		}
	})
	for i, sp := range specs {
		if suites[i].Err != nil {
			continue
		}
		if err := firstError(errs[i]); err != nil {
			suites[i].Err = err
			continue
		}
		suites[i] = Summarize(sp, outcomes[i])
	}
	return suites
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Table formats suites as a fixed-width table (scenario, expected, got,
// seeds, time), one row per judged checker, for terminals and reports.
func Table(suites []SuiteOutcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %-14s %-14s %-22s %6s %8s  %s\n", "scenario", "checker", "expected", "got", "seeds", "time", "")
	for _, s := range suites {
		if s.Err != nil {
			fmt.Fprintf(&b, "%-28s error: %v\n", s.Scenario, s.Err)
			continue
		}
		rows := 0
		for _, c := range s.Checks {
			if c.Expected == Any {
				continue
			}
			mark := "ok"
			if !c.Met {
				mark = "FAIL"
			}
			name := s.Scenario
			if rows > 0 {
				name = ""
			}
			fmt.Fprintf(&b, "%-28s %-14s %-14s %-22s %6d %8s  %s\n", name, c.Checker, c.Expected, c.Got(),
				len(s.Seeds), s.WallTime.Round(time.Millisecond), mark)
			rows++
		}
		if rows == 0 {
			fmt.Fprintf(&b, "%-28s %-14s %-14s %-22s %6d %8s  %s\n", s.Scenario, "-", "-", "-", len(s.Seeds), s.WallTime.Round(time.Millisecond), string(s.Class))
		}
	}
	return b.String()
}
