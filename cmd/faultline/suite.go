package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/faultline-sim/faultline/scenarios"
)

// suiteJSON is one scenario's line in the suite's -json summary.
type suiteJSON struct {
	Scenario string                   `json:"scenario"`
	Class    string                   `json:"class"`
	Seeds    []uint64                 `json:"seeds"`
	Checks   []scenarios.CheckSummary `json:"checks"`
	Failures []string                 `json:"failures,omitempty"`
	WallNs   int64                    `json:"wall_ns"`
}

// suiteSummaryJSON is the suite's -json summary object.
type suiteSummaryJSON struct {
	summaryJSON
	Suites []suiteJSON `json:"suites"`
}

func runSuiteCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("suite", "[-scenario A,B,...] [-seeds N] [-parallel P] [-json] [-out DIR [-out-all]]\n\n"+
		"Runs the built-in suite (what `faultline` with no arguments does): every scenario over its\n"+
		"default seeds, with a progress line on stderr, then a table. Exit 0 iff every verdict is as expected.")
	return suiteMain(fs, args, stdout, stderr)
}

// suiteMain parses the suite's flags on fs and runs it.
func suiteMain(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	only := fs.String("scenario", "", "run only these scenarios (comma-separated names)")
	seeds := fs.Int("seeds", 0, "seeds per scenario, 1..N (default: each scenario's own count)")
	parallel := fs.Int("parallel", defaultParallel(), "seeds run at once")
	asJSON := fs.Bool("json", false, "print one JSON object per seed, then a summary object")
	outDir := fs.String("out", "", "write the files of each failing seed under this directory")
	outAll := fs.Bool("out-all", false, "with -out: write the files for passing seeds too")
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *parallel < 1 {
		return usageError(stderr, fs, "-parallel %d: must be >= 1", *parallel)
	}
	if *seeds < 0 || *seeds > maxSeeds {
		return usageError(stderr, fs, "-seeds %d: want 1..%d seeds per scenario (0: each scenario's default)", *seeds, maxSeeds)
	}
	if *outAll && *outDir == "" {
		return usageError(stderr, fs, "-out-all needs -out DIR")
	}
	specs := scenarios.List()
	if *only != "" {
		specs = specs[:0]
		for _, n := range strings.Split(*only, ",") {
			s, err := scenarios.Lookup(strings.TrimSpace(n))
			if err != nil {
				return usageError(stderr, fs, "unknown scenario %q (faultline list shows them all)", strings.TrimSpace(n))
			}
			specs = append(specs, s)
		}
	}
	if err := checkOutDir(*outDir); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	noKnobs := addKnobs(flag.NewFlagSet("", flag.ContinueOnError))
	if err := noKnobs.validate(); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	var ts []*target
	var jobs []job
	var spans [][2]int
	for _, s := range specs {
		t := &target{spec: s, knobs: noKnobs, named: s.Name}
		list := scenarios.DefaultSeeds(s)
		if *seeds > 0 {
			list = scenarios.SeedRange(1, *seeds)
		}
		ts = append(ts, t)
		spans = append(spans, [2]int{len(jobs), len(jobs) + len(list)})
		jobs = append(jobs, t.jobs(list)...)
	}
	start := time.Now()
	p := newProgress(stderr)
	opts := execOpts{parallel: *parallel, outDir: *outDir, outAll: *outAll, progress: p.seed}
	if *asJSON {
		opts.emit = func(r *seedResult) { writeJSON(stdout, toSeedJSON(r)) }
	}
	all := runJobs(jobs, opts)
	wall := time.Since(start)

	sum := suiteSummaryJSON{summaryJSON: summaryJSON{stamp: stamp{Build: buildStamp(), Shards: 1}, Summary: true, Seeds: len(jobs), Failing: []uint64{}}}
	worst := scenarios.ClassOK
	var suites []scenarios.SuiteOutcome
	var failures []string
	for i, t := range ts {
		res := all[spans[i][0]:spans[i][1]]
		outs := make([]scenarios.Outcome, len(res))
		var seedErrs []string
		for j := range res {
			outs[j] = res[j].out
			if res[j].err != nil {
				seedErrs = append(seedErrs, fmt.Sprintf("%s seed %d: cannot run: %v", t.spec.Name, res[j].job.seed, res[j].err))
			}
		}
		s := scenarios.Summarize(t.spec, outs)
		suites = append(suites, s)
		worst = worst.Worse(s.Class)
		sum.Scenarios = append(sum.Scenarios, t.spec.Name)
		var fs []string
		fs = append(fs, seedErrs...)
		for _, f := range s.Failures {
			fs = append(fs, t.spec.Name+" "+f)
		}
		failures = append(failures, fs...)
		for _, r := range res {
			if r.failing() {
				sum.Failing = append(sum.Failing, r.job.seed)
			}
		}
		sum.Suites = append(sum.Suites, suiteJSON{Scenario: t.spec.Name, Class: string(s.Class), Seeds: s.Seeds,
			Checks: s.Checks, Failures: fs, WallNs: s.WallTime.Nanoseconds()})
	}
	sum.Class, sum.Exit, sum.WallNs, sum.Failures = string(worst), classExit(worst), wall.Nanoseconds(), failures
	if *asJSON {
		writeJSON(stdout, sum)
		return sum.Exit
	}
	writeSuiteTable(stdout, suites)
	if len(failures) > 0 {
		fmt.Fprintln(stdout, "\nFailures:")
		for _, f := range failures {
			fmt.Fprintf(stdout, "  %s\n", f)
		}
		for _, r := range all {
			if r.failing() {
				for _, f := range r.files {
					if strings.HasSuffix(f, "report.html") {
						fmt.Fprintf(stdout, "  report: %s\n", f)
					}
				}
			}
		}
	}
	passed := 0
	for _, s := range suites {
		if s.Passed() {
			passed++
		}
	}
	verdict := "every verdict as expected"
	if worst != scenarios.ClassOK {
		verdict = fmt.Sprintf("%d of %d scenarios not as expected (%s)", len(suites)-passed, len(suites), worst)
	}
	fmt.Fprintf(stdout, "\n%s, %s, %s; wall %s on %d goroutines\n", plural(len(suites), "scenario"), plural(len(jobs), "seed"), verdict,
		fmtDuration(wall), max(1, min(*parallel, len(jobs))))
	return sum.Exit
}

// writeSuiteTable prints one row per judged checker of every scenario:
// scenario, checker, expected, got, seeds, time, and ok or FAIL.
func writeSuiteTable(w io.Writer, suites []scenarios.SuiteOutcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tCHECKER\tEXPECTED\tGOT\tSEEDS\tTIME\tRESULT")
	for _, s := range suites {
		name := s.Scenario
		seeds, took := strconv.Itoa(len(s.Seeds)), fmtDuration(s.WallTime)
		row := func(checker, expected, got, mark string) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, checker, expected, got, seeds, took, mark)
			name, seeds, took = "", "", ""
		}
		if s.Err != nil {
			row("-", "-", "error: "+s.Err.Error(), "FAIL")
			continue
		}
		rows := 0
		for _, c := range s.Checks {
			if c.Expected == scenarios.Any {
				continue
			}
			mark := "ok"
			if !c.Met {
				mark = "FAIL"
			}
			row(c.Checker, c.Expected.Short(), c.Got(), mark)
			rows++
		}
		if rows == 0 {
			// Nothing judged: show what the checkers said anyway.
			for _, c := range s.Checks {
				row(c.Checker, string(c.Expected), c.Got(), "ok")
				rows++
			}
		}
		if s.Class != scenarios.ClassOK && s.Class != scenarios.ClassCorrectness {
			row("-", "finishes", string(s.Class), "FAIL")
		} else if rows == 0 {
			row("-", "-", "-", string(s.Class))
		}
	}
	_ = tw.Flush()
}
