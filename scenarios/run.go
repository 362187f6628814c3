package scenarios

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
)

// Class is how a run ended (docs/design.md §7).
type Class string

// The failure classes, from best to worst.
const (
	// ClassOK: every verdict is compatible with its expectation.
	ClassOK Class = "ok"
	// ClassCorrectness: a checker's verdict contradicts its expectation
	// (for a suite, also: a FoundInvalid violation was never found).
	ClassCorrectness Class = "correctness"
	// ClassLiveness: the run hit a limit or could not finish its final
	// reads (cluster.LivenessError); it is not judged.
	ClassLiveness Class = "liveness"
	// ClassCrash: the run panicked (recovered, with the seed) or the
	// harness failed in a way that is a bug (an unpairable history, a
	// checker rejecting its input).
	ClassCrash Class = "crash"
)

// severity orders classes: a suite's class is its worst seed's.
func (c Class) severity() int {
	switch c {
	case ClassCorrectness:
		return 1
	case ClassLiveness:
		return 2
	case ClassCrash:
		return 3
	}
	return 0
}

// Worse returns the worse of c and d.
func (c Class) Worse(d Class) Class {
	if d.severity() > c.severity() {
		return d
	}
	return c
}

// Verdict is one checker's judgement of one seed, next to what the spec
// expected of it.
type Verdict struct {
	checker.Result
	// Expected is the spec's expectation for this checker (Any if none).
	Expected Expectation `json:"expected"`
	// AsExpected reports whether this seed's verdict is compatible with
	// Expected (always true for FoundInvalid and Any; see ResultOK).
	AsExpected bool `json:"as_expected"`
}

// MarkCount is how often one seed exercised one of the spec's marks.
type MarkCount struct {
	Name  string `json:"name"`
	Count uint64 `json:"count"`
}

// OpCounts counts a run's operations by outcome (final reads included).
type OpCounts struct {
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Info    int `json:"info"`
	Pending int `json:"pending"`
}

// Outcome is one seed's run as plain data, for tables, JSON and reports.
type Outcome struct {
	// Scenario and Seed identify the run.
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	// Class is how the run ended; Failure says why in one line when it is
	// not ok (empty otherwise).
	Class   Class  `json:"class"`
	Failure string `json:"failure,omitempty"`
	// Verdicts are every checker's verdicts in judging order (standard
	// checkers, then the spec's checks); empty for liveness and crash.
	Verdicts []Verdict `json:"verdicts"`
	// Ops counts the operations by outcome.
	Ops OpCounts `json:"ops"`
	// Lost is the lost-writes checker's count; Divergent the convergence
	// checker's (divergent keys).
	Lost      int `json:"lost_writes"`
	Divergent int `json:"divergent_keys"`
	// Marks count the spec's marks in this seed; NotExercised names the
	// marks that did not run and the checkers that had nothing to judge.
	Marks        []MarkCount `json:"marks,omitempty"`
	NotExercised []string    `json:"not_exercised,omitempty"`
	// Faults is the number of faults in the schedule (undos not counted).
	Faults int `json:"faults"`
	// TraceHash fingerprints the run (equal for equal code, config, seed).
	TraceHash uint64 `json:"trace_hash"`
	// FaultCoverage is the fraction of fault-active virtual time during
	// which at least one client operation was in flight (1 without faults;
	// see cluster.FaultCoverage); FaultTime is that fault-active time.
	FaultCoverage float64       `json:"fault_coverage"`
	FaultTime     time.Duration `json:"fault_ns"`
	// SimTime is the virtual time the run took; WallTime the real time of
	// running and judging it.
	SimTime  time.Duration `json:"sim_ns"`
	WallTime time.Duration `json:"wall_ns"`
	// Events, Messages and Bytes count loop events, messages sent and
	// bytes sent.
	Events   uint64 `json:"events"`
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	// Repro is the one line that replays this seed.
	Repro string `json:"repro"`
	// Panic is the recovered panic's stack for a crash caused by a panic.
	Panic string `json:"panic,omitempty"`
	// Config is the configuration that ran (with its nemesis schedule).
	Config Config `json:"-"`
	// Result is everything the run observed (nil if it could not start or
	// panicked), for reports.
	Result *cluster.Result `json:"-"`
}

// Verdict returns the named checker's verdict, and false if it did not run.
func (o Outcome) Verdict(name string) (checker.Verdict, bool) {
	for _, v := range o.Verdicts {
		if v.Checker == name {
			return v.Verdict, true
		}
	}
	return "", false
}

// Invalid lists the checkers that said Invalid (what an ad-hoc run with no
// expectations fails on).
func (o Outcome) Invalid() []string {
	var out []string
	for _, v := range o.Verdicts {
		if v.Verdict == checker.Invalid {
			out = append(out, v.Checker)
		}
	}
	return out
}

// VerdictSummary formats the verdicts on one line, e.g.
// "linearizable=invalid lost-writes=valid".
func (o Outcome) VerdictSummary() string {
	parts := make([]string, 0, len(o.Verdicts))
	for _, v := range o.Verdicts {
		parts = append(parts, v.Checker+"="+string(v.Verdict))
	}
	return strings.Join(parts, " ")
}

// Repro returns the command line that replays seed of the named scenario.
func Repro(name string, seed uint64) string {
	return fmt.Sprintf("go run ./cmd/faultline run -scenario %s -seed %d", name, seed)
}

// RunOptions adjust RunSeed.
type RunOptions struct {
	// Visualize, if set, receives porcupine's HTML visualization when the
	// history is not linearizable.
	Visualize io.Writer
	// LinearSteps, if > 0, replaces the linearizability search's step
	// budget; LinearTimeout, if > 0, its wall-clock safety net.
	LinearSteps   int64
	LinearTimeout time.Duration
}

// RunSeed runs spec for one seed and judges it. The error is only for a
// spec or configuration that cannot run (it wraps ErrBadSpec or
// cluster.ErrBadConfig and says what to change); everything that happens
// in the run, panics included, is in the Outcome's Class.
func RunSeed(spec Spec, seed uint64, opts RunOptions) (Outcome, error) {
	cfg, err := spec.Config(seed)
	if err != nil {
		return Outcome{}, err
	}
	jo := spec.JudgeOptions(cfg)
	if opts.LinearSteps > 0 {
		jo.LinearSteps = opts.LinearSteps
	}
	if opts.LinearTimeout > 0 {
		jo.LinearTimeout = opts.LinearTimeout
	}
	jo.Visualize = opts.Visualize
	if err := checkExpectations(spec, cfg, jo); err != nil {
		return Outcome{}, err
	}
	c, err := cluster.New(cfg.Cluster(), seed)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	out := Outcome{Scenario: spec.Name, Seed: seed, Class: ClassOK, Config: cfg,
		Faults: cfg.Nemesis.Faults(), Repro: Repro(spec.Name, seed)}
	start := time.Now()
	runAndJudge(&out, spec, cfg, c, jo)
	out.WallTime = time.Since(start)
	return out, nil
}

// checkExpectations rejects a spec expecting a verdict from a standard
// checker that will not run for cfg.
func checkExpectations(spec Spec, cfg Config, jo cluster.JudgeOptions) error {
	for _, name := range sortedKeys(spec.Expect) {
		if spec.Expect[name] == Any {
			continue
		}
		switch {
		case name == checker.NameLinearizable && !jo.Linearizable:
			return badSpec("%s: expects a linearizability verdict, but it is not checked for the %s workload with this conflict resolution", spec.Name, cfg.Workload)
		case name == checker.NameSiblings && !jo.Causal:
			return badSpec("%s: expects a siblings verdict, which is only checked under vector clocks", spec.Name)
		}
	}
	return nil
}

// runAndJudge runs c and fills out; a panic anywhere becomes ClassCrash.
func runAndJudge(out *Outcome, spec Spec, cfg Config, c *cluster.Cluster, jo cluster.JudgeOptions) {
	defer func() {
		if p := recover(); p != nil {
			out.Class = ClassCrash
			out.Failure = fmt.Sprintf("panic (seed %d): %v", out.Seed, p)
			out.Panic = string(debug.Stack())
			out.Verdicts = nil
		}
	}()
	r, err := c.Run()
	out.Result = r
	if r != nil {
		out.TraceHash = r.TraceHash
		out.FaultCoverage, out.FaultTime = r.FaultCoverage, r.FaultTime
		out.SimTime = r.Stats.SimTime
		out.Events = r.Stats.Events
		out.Messages = r.Stats.Net.Sent
		out.Bytes = r.Stats.Net.BytesSent
		out.Ops = OpCounts{OK: r.Stats.OK, Fail: r.Stats.Fail, Info: r.Stats.Info, Pending: r.Stats.Pending}
	}
	var le *cluster.LivenessError
	var ne *cluster.NodeError
	switch {
	case errors.As(err, &ne):
		out.Class = ClassCrash
		out.Failure = ne.Error()
		out.Panic = ne.Stack
		return
	case errors.As(err, &le):
		out.Class = ClassLiveness
		out.Failure = le.Error()
		return
	case err != nil:
		out.Class = ClassCrash
		out.Failure = fmt.Sprintf("run failed (seed %d): %v", out.Seed, err)
		return
	}
	results, err := cluster.Judge(r, jo)
	if err != nil {
		out.Class = ClassCrash
		out.Failure = fmt.Sprintf("a checker rejected the history (seed %d): %v", out.Seed, err)
		return
	}
	for _, ch := range spec.Checks {
		res, err := ch.Judge(cfg, r)
		if err != nil {
			out.Class = ClassCrash
			out.Failure = fmt.Sprintf("check %s failed (seed %d): %v", ch.Name, out.Seed, err)
			return
		}
		res.Checker = ch.Name
		results = append(results, res)
	}
	for _, m := range spec.Marks {
		n := m.Count(r)
		out.Marks = append(out.Marks, MarkCount{Name: m.Name, Count: n})
		if n == 0 {
			out.NotExercised = append(out.NotExercised, m.Name)
		}
	}
	var bad []string
	for _, res := range results {
		e := spec.Expected(res.Checker)
		v := Verdict{Result: res, Expected: e, AsExpected: e.ResultOK(res)}
		out.Verdicts = append(out.Verdicts, v)
		if res.Verdict == checker.Unknown && res.Idle && e != Any {
			out.NotExercised = append(out.NotExercised, res.Checker)
		}
		switch res.Checker {
		case checker.NameLostWrites:
			out.Lost = res.Count
		case checker.NameConvergence:
			out.Divergent = res.Count
		}
		if !v.AsExpected {
			bad = append(bad, fmt.Sprintf("%s: expected %s, got %s (%s)", res.Checker, e, res.Verdict, res.Explanation))
		}
	}
	for _, name := range sortedKeys(spec.Expect) {
		if _, ran := out.Verdict(name); !ran && spec.Expect[name] != Any {
			bad = append(bad, fmt.Sprintf("%s: expected %s, but the checker did not run", name, spec.Expect[name]))
		}
	}
	if len(bad) > 0 {
		out.Class = ClassCorrectness
		out.Failure = strings.Join(bad, "; ")
	}
}
