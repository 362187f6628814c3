package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/internal/report"
	"github.com/faultline-sim/faultline/scenarios"
)

// adHocName is the scenario name of a run built from flags alone.
const adHocName = "ad-hoc"

// expectNotInvalid is what an ad-hoc run expects of every checker.
const expectNotInvalid = "not-invalid"

// job is one seed of one spec to run.
type job struct {
	spec  *scenarios.Spec
	seed  uint64
	repro string
	adHoc bool
	// outName is the directory under -out for the target's seeds.
	outName string
	// corpus marks a seed replayed from the -corpus file.
	corpus bool
	// configHash is the target's (see target.configHash).
	configHash string
}

// execOpts say how jobs run and what they leave behind.
type execOpts struct {
	// parallel is the number of goroutines running seeds (>= 1).
	parallel int
	// outDir, if set, receives a directory of files per failing seed
	// (every seed with outAll).
	outDir string
	outAll bool
	// keepResult keeps each outcome's Result (replay prints it).
	keepResult bool
	// linearSteps, if > 0, budgets each linearizability search in steps;
	// linearTimeout, if > 0, is its wall-clock safety net.
	linearSteps   int64
	linearTimeout time.Duration
	// progress, if set, is called after each seed in completion order,
	// from the calling goroutine.
	progress func(r *seedResult, done, total int)
	// emit, if set, is called for each seed in job order (as soon as the
	// seeds before it are done), from the calling goroutine.
	emit func(r *seedResult)
	// stopped, if set and true, makes every job not yet started a skipped
	// one (the seeds in flight finish): how SIGINT and SIGTERM stop a run.
	stopped *atomic.Bool
}

// seedResult is one finished job: its outcome (its Result dropped once the
// files are written, to keep memory flat over long swarms), the files
// written, and the error of a seed whose configuration cannot run.
type seedResult struct {
	job     job
	out     scenarios.Outcome
	files   []string
	err     error
	fileErr error
	// skipped: the run was interrupted before this job started.
	skipped bool
}

// failing reports whether the seed did not end as expected.
func (r *seedResult) failing() bool { return r.err != nil || r.out.Class != scenarios.ClassOK }

// runJobs runs every job on opts.parallel goroutines and returns the
// results in job order. Each run is single-threaded and a pure function of
// its seed, so the results do not depend on the parallelism.
func runJobs(jobs []job, opts execOpts) []seedResult {
	results := make([]seedResult, len(jobs))
	parallel := max(1, min(opts.parallel, len(jobs)))
	next := 0 // next result to emit, in job order
	ready := make([]bool, len(jobs))
	finished := 0
	finish := func(i, _ int) {
		if !results[i].skipped {
			finished++
			if opts.progress != nil {
				opts.progress(&results[i], finished, len(jobs))
			}
		}
		ready[i] = true
		for next < len(jobs) && ready[next] {
			if opts.emit != nil && !results[next].skipped {
				opts.emit(&results[next])
			}
			next++
		}
	}
	run := func(i int) {
		if opts.stopped != nil && opts.stopped.Load() {
			results[i] = seedResult{job: jobs[i], skipped: true}
			return
		}
		results[i] = runJob(jobs[i], opts)
	}
	scenarios.Parallel(len(jobs), parallel, run, finish)
	return results
}

// ran returns the results of the jobs that ran (not skipped by an
// interruption), in job order.
func ran(results []seedResult) []seedResult {
	out := results[:0:0]
	for _, r := range results {
		if !r.skipped {
			out = append(out, r)
		}
	}
	return out
}

// runJob runs one seed, applies the ad-hoc rule (anything Invalid is a
// correctness failure), sets the repro line and writes the seed's files.
func runJob(j job, opts execOpts) (res seedResult) {
	res.job = j
	var vis bytes.Buffer
	ro := scenarios.RunOptions{LinearSteps: opts.linearSteps, LinearTimeout: opts.linearTimeout}
	if opts.outDir != "" {
		ro.Visualize = &vis
	}
	defer func() {
		// RunSeed recovers the run's panics; this catches the harness's own
		// (report writing, the ad-hoc rule) so that one seed cannot take
		// the whole suite down.
		if p := recover(); p != nil {
			res.out.Class = scenarios.ClassCrash
			res.out.Failure = fmt.Sprintf("panic (seed %d): %v", j.seed, p)
			res.out.Result = nil
		}
	}()
	out, err := scenarios.RunSeed(*j.spec, j.seed, ro)
	if err != nil {
		res.err = err
		res.out = scenarios.Outcome{Scenario: j.spec.Name, Seed: j.seed, Class: scenarios.ClassCrash, Failure: err.Error()}
		return res
	}
	out.Repro = j.repro
	if j.adHoc && out.Class == scenarios.ClassOK {
		var bad []string
		for _, v := range out.Verdicts {
			if v.Verdict == checker.Invalid {
				bad = append(bad, v.Checker+": "+v.Explanation)
			}
		}
		var unknown []string
		for _, v := range out.Verdicts {
			if v.Verdict == checker.Unknown && !v.Idle {
				unknown = append(unknown, v.Checker+": "+v.Explanation)
			}
		}
		switch {
		case len(bad) > 0:
			out.Class = scenarios.ClassCorrectness
			out.Failure = "invalid: " + strings.Join(bad, "; ")
		case len(unknown) > 0:
			// A checker's budget ran out: never a pass (docs/design.md §5).
			out.Class = scenarios.ClassLiveness
			out.Failure = "unknown (a checker's budget ran out; raise -linear-steps): " + strings.Join(unknown, "; ")
		}
	}
	res.out = out
	if opts.outDir != "" && (opts.outAll || res.failing()) {
		name := j.outName
		if name == "" {
			name = out.Scenario
		}
		res.files, res.fileErr = writeSeedFiles(seedDir(opts.outDir, name, out.Seed), out, j.adHoc, vis.Bytes())
	}
	if !opts.keepResult {
		res.out.Result = nil
	}
	return res
}

// visualization returns porcupine's page if the run's history was judged
// not linearizable (the checker writes it only then).
func visualization(o scenarios.Outcome, vis []byte) []byte {
	if v, ok := o.Verdict(checker.NameLinearizable); ok && v == checker.Invalid {
		return vis
	}
	return nil
}

// reportRun converts an outcome to what the report package draws.
func reportRun(o scenarios.Outcome, adHoc bool) report.Run {
	r := report.Run{
		Scenario: o.Scenario, Seed: o.Seed, Class: string(o.Class), Failure: o.Failure, Repro: o.Repro,
		Config: o.Config, Result: o.Result, WallTime: o.WallTime,
	}
	for _, v := range o.Verdicts {
		rv := report.Verdict{Result: v.Result, Expected: string(v.Expected), AsExpected: v.AsExpected}
		if adHoc {
			rv.Expected = expectNotInvalid
			rv.AsExpected = v.Verdict == checker.Valid || (v.Verdict == checker.Unknown && v.Idle)
		} else if v.Expected == scenarios.Any {
			rv.Expected = ""
		}
		r.Verdicts = append(r.Verdicts, rv)
	}
	return r
}

// seedJSON is the -json object printed for every seed.
type seedJSON struct {
	stamp
	Scenario     string            `json:"scenario"`
	Seed         uint64            `json:"seed"`
	Class        string            `json:"class"`
	Failure      string            `json:"failure,omitempty"`
	Config       report.Settings   `json:"config"`
	Verdicts     map[string]string `json:"verdicts"`
	Expected     map[string]string `json:"expected"`
	Explanations map[string]string `json:"explanations"`
	// Idle lists the checkers whose Unknown means nothing to judge.
	Idle          map[string]bool    `json:"idle,omitempty"`
	Counts        map[string]int     `json:"counts"`
	Ops           scenarios.OpCounts `json:"ops"`
	LostWrites    int                `json:"lost_writes"`
	DivergentKeys int                `json:"divergent_keys"`
	Faults        int                `json:"faults"`
	// FaultCoverage is the fraction of fault-active virtual time during
	// which at least one client operation was in flight (1 without
	// faults).
	FaultCoverage float64 `json:"fault_coverage"`
	// Marks count the scenario's mechanisms in this seed; NotExercised
	// names those that did not run and the checkers with nothing to judge.
	Marks        []scenarios.MarkCount `json:"marks,omitempty"`
	NotExercised []string              `json:"not_exercised,omitempty"`
	TraceHash    string                `json:"trace_hash"`
	SimNs        int64                 `json:"sim_ns"`
	WallNs       int64                 `json:"wall_ns"`
	Events       uint64                `json:"events"`
	Messages     uint64                `json:"messages"`
	Bytes        uint64                `json:"bytes"`
	Repro        string                `json:"repro"`
	Files        []string              `json:"files,omitempty"`
	WriteError   string                `json:"write_error,omitempty"`
	Corpus       bool                  `json:"corpus,omitempty"`
	Panic        string                `json:"panic,omitempty"`
}

func toSeedJSON(r *seedResult) seedJSON {
	o := r.out
	s := seedJSON{
		Scenario: o.Scenario, Seed: o.Seed, Class: string(o.Class), Failure: o.Failure,
		Config:   report.SettingsOf(o.Config),
		Verdicts: map[string]string{}, Expected: map[string]string{}, Explanations: map[string]string{},
		Counts: map[string]int{},
		Ops:    o.Ops, LostWrites: o.Lost, DivergentKeys: o.Divergent, Faults: o.Faults,
		FaultCoverage: o.FaultCoverage, Marks: o.Marks, NotExercised: o.NotExercised,
		TraceHash: fmt.Sprintf("%016x", o.TraceHash), SimNs: o.SimTime.Nanoseconds(), WallNs: o.WallTime.Nanoseconds(),
		Events: o.Events, Messages: o.Messages, Bytes: o.Bytes, Repro: o.Repro, Files: r.files, Panic: o.Panic,
	}
	if r.err != nil {
		s.Config = report.SettingsOf(r.job.spec.Base)
	}
	if r.fileErr != nil {
		s.WriteError = r.fileErr.Error()
	}
	s.Corpus = r.job.corpus
	s.stamp = stamp{Build: buildStamp(), ConfigHash: r.job.configHash, Shards: 1}
	for _, v := range o.Verdicts {
		s.Verdicts[v.Checker] = string(v.Verdict)
		s.Explanations[v.Checker] = v.Explanation
		s.Counts[v.Checker] = v.Count
		if v.Idle {
			if s.Idle == nil {
				s.Idle = map[string]bool{}
			}
			s.Idle[v.Checker] = true
		}
		switch {
		case r.job.adHoc:
			s.Expected[v.Checker] = expectNotInvalid
		case v.Expected != scenarios.Any:
			s.Expected[v.Checker] = string(v.Expected)
		}
	}
	return s
}

// summaryJSON is the -json object printed last.
type summaryJSON struct {
	stamp
	Summary   bool                     `json:"summary"`
	Scenarios []string                 `json:"scenarios"`
	Seeds     int                      `json:"seeds"`
	Class     string                   `json:"class"`
	Exit      int                      `json:"exit"`
	Checks    []scenarios.CheckSummary `json:"checks,omitempty"`
	Failing   []uint64                 `json:"failing_seeds"`
	Failures  []string                 `json:"failures,omitempty"`
	WallNs    int64                    `json:"wall_ns"`
	// Range is the seed range of the whole (unsharded) run, for merge to
	// tell how many seeds each shard owes: First, and Count seeds from it
	// (or the explicit list of a scenario's default seeds).
	Range *seedRangeJSON `json:"range,omitempty"`
	// Suite says the suite rule (FoundInvalid across seeds) applies; a
	// shard of several leaves it to merge.
	Suite bool `json:"suite,omitempty"`
	// Interrupted: SIGINT or SIGTERM stopped the run; Seeds counts what
	// ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// Corpus counts the seeds replayed from -corpus (included in Seeds).
	Corpus int `json:"corpus_seeds,omitempty"`
	// WriteErrors lists every file that could not be written.
	WriteErrors []string `json:"write_errors,omitempty"`
}

// seedRangeJSON is a summary's seed range: Count seeds from First.
type seedRangeJSON struct {
	First uint64 `json:"first"`
	Count int    `json:"count"`
}

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain data is encoded; this cannot happen short of a bug.
		panic(fmt.Sprintf("faultline: encoding JSON: %v", err))
	}
	b = append(b, '\n')
	_, _ = w.Write(b)
}

// classExit maps a failure class to the process exit code.
func classExit(c scenarios.Class) int {
	switch c {
	case scenarios.ClassOK:
		return exitOK
	case scenarios.ClassCorrectness:
		return exitCorrectness
	case scenarios.ClassLiveness:
		return exitLiveness
	}
	return exitCrash
}

// seedLine formats one seed's text line.
func seedLine(r *seedResult) string {
	o := r.out
	var b strings.Builder
	fmt.Fprintf(&b, "%s seed %d: %s", o.Scenario, o.Seed, o.Class)
	if len(o.Verdicts) > 0 {
		b.WriteString("  ")
		for i, v := range o.Verdicts {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(v.Checker + "=" + string(v.Verdict))
		}
	}
	if r.err == nil {
		fmt.Fprintf(&b, "  (ops %d ok %d fail %d info; %s; sim %s; wall %s; trace %016x)",
			o.Ops.OK, o.Ops.Fail, o.Ops.Info, plural(o.Faults, "fault"), fmtDuration(o.SimTime), fmtDuration(o.WallTime), o.TraceHash)
	}
	return b.String()
}

// printSeed prints one seed as text: its line, and for a failure why, the
// repro line and the files.
func printSeed(w io.Writer, r *seedResult) {
	fmt.Fprintln(w, seedLine(r))
	if r.failing() {
		fmt.Fprintf(w, "  %s\n", r.out.Failure)
		if r.out.Repro != "" {
			fmt.Fprintf(w, "  replay: %s\n", r.out.Repro)
		}
		if r.out.Panic != "" && len(r.files) == 0 {
			fmt.Fprintln(w, "  the panic's stack: run again with -json (field panic) or -out DIR (panic.txt)")
		}
	}
	for _, f := range r.files {
		if filepath.Base(f) == report.FileReport {
			fmt.Fprintf(w, "  report: %s\n", f)
		}
	}
	if r.fileErr != nil {
		fmt.Fprintf(w, "  writing files: %v\n", r.fileErr)
	}
}

// fmtDuration rounds d for humans: ms precision above a second, µs below.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// defaultParallel is the number of goroutines suites and swarms use.
func defaultParallel() int { return runtime.GOMAXPROCS(0) }
