// Command mutate measures the detection power of faultline's built-in suite:
// for every mutation in its catalogue (one realistic bug in one mechanism
// of kv, kv/membership or kv/merkle, as an exact source rewrite) it copies
// the repository to a temporary directory, applies the rewrite there, builds
// cmd/faultline and runs the default suite (`faultline suite`, exit 0 iff
// every verdict is as expected). A mutant is caught when the suite fails.
//
// It is its own module so that `go test ./...` and `go vet ./...` of the
// repository never build or run it. From the repository root:
//
//	go -C scripts/mutate run . -list
//	go -C scripts/mutate run . [-only A,B] [-parallel 1] [-suite-parallel 2] [-go-test] [-json FILE]
//
// The working tree it runs from is never modified. A mutation whose
// original snippet is not found exactly once, or whose mutant does not
// compile, is reported as stale or broken (never as caught) and makes the
// exit status 1. See README.md for the catalogue.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Mutation is one planted bug: Original must occur exactly once in File
// (relative to the repository root) and is replaced by Replacement.
type Mutation struct {
	// Name identifies the mutation (-only).
	Name string `json:"name"`
	// Mechanism is the Dynamo mechanism the bug breaks.
	Mechanism string `json:"mechanism"`
	// File is the rewritten file, relative to the repository root.
	File string `json:"file"`
	// Original is the exact snippet replaced; it must occur exactly once.
	Original string `json:"original"`
	// Replacement replaces Original.
	Replacement string `json:"replacement"`
	// Bug says in one line what realistic bug the rewrite plants.
	Bug string `json:"bug"`
}

// Status is the outcome of one mutant.
type Status string

// The outcomes of a mutant.
const (
	Caught  Status = "caught"  // the suite (or, with -go-test, the tests) failed
	Missed  Status = "missed"  // everything passed with the bug planted
	Stale   Status = "stale"   // the original snippet is not in the file exactly once
	Broken  Status = "broken"  // the mutant does not compile
	Errored Status = "error"   // the tool could not run the mutant
	Timeout Status = "timeout" // the suite did not finish in -timeout (counted as caught)
)

// Result is what running one mutant gave.
type Result struct {
	Mutation
	Status Status `json:"status"`
	// By names what caught it: failing scenarios with their unmet checkers,
	// or the failing test packages.
	By string `json:"by,omitempty"`
	// SuiteExit is the suite's exit status (-1 when it did not run).
	SuiteExit int `json:"suite_exit"`
	// SuiteCaught reports whether the suite alone caught it (-go-test
	// can catch what the suite misses).
	SuiteCaught bool `json:"suite_caught"`
	// TestsFailed lists failing packages under -go-test.
	TestsFailed []string `json:"tests_failed,omitempty"`
	// Detail is a diagnostic for stale, broken and errored mutants.
	Detail  string  `json:"detail,omitempty"`
	Seconds float64 `json:"seconds"`
}

type options struct {
	repo          string
	parallel      int
	suiteParallel int
	scenarios     string
	goTest        bool
	testPkgs      string
	timeout       time.Duration
	keep          bool
	baseline      bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	list := fs.Bool("list", false, "list the catalogue and exit")
	check := fs.Bool("check", false, "only check that every snippet applies and every mutant compiles")
	prep := fs.Bool("prepare", false, "only build each selected mutant in a kept temporary copy and print its path (to investigate a miss)")
	only := fs.String("only", "", "run only these mutations (comma-separated names)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.repo, "repo", "", "repository root (default: the git top level of the current directory)")
	fs.IntVar(&o.parallel, "parallel", 1, "mutants run at once (the suite itself uses -suite-parallel goroutines)")
	fs.IntVar(&o.suiteParallel, "suite-parallel", 2, "seeds the suite of each mutant runs at once")
	fs.StringVar(&o.scenarios, "scenario", "", "run only these scenarios of the suite (default: the whole default suite)")
	fs.BoolVar(&o.goTest, "go-test", false, "also run go test ./... on each mutant (a failing test catches it too)")
	fs.StringVar(&o.testPkgs, "test-pkgs", "./...", "with -go-test: the packages tested (space-separated patterns)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "wall-clock limit of one mutant's suite (beyond: timeout, counted as caught)")
	fs.BoolVar(&o.keep, "keep", false, "keep each mutant's temporary copy (its path is printed)")
	fs.BoolVar(&o.baseline, "baseline", true, "first run the suite on the unmutated copy; abort if it fails")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 64
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mutate: unexpected arguments %q\n", fs.Args())
		return 64
	}
	if o.parallel < 1 || o.suiteParallel < 1 {
		fmt.Fprintln(stderr, "mutate: -parallel and -suite-parallel must be >= 1")
		return 64
	}
	muts, err := selectMutations(catalogue, *only)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return 64
	}
	if *list {
		printList(stdout, muts)
		return 0
	}
	if o.repo == "" {
		out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
		if err != nil {
			fmt.Fprintf(stderr, "mutate: cannot find the repository (use -repo): %v\n", err)
			return 64
		}
		o.repo = strings.TrimSpace(string(out))
	}
	files, err := repoFiles(o.repo)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return 1
	}
	start := time.Now()
	if *check {
		return checkAll(o, files, muts, stdout, stderr)
	}
	if *prep {
		return prepareAll(o, files, muts, stdout)
	}
	if o.baseline {
		fmt.Fprintf(stderr, "baseline: the suite on the unmutated copy...\n")
		r := runOne(o, files, Mutation{Name: "baseline"}, true)
		if r.Status != Missed {
			fmt.Fprintf(stderr, "mutate: the unmutated suite does not pass (%s: %s %s); every mutant would look caught\n", r.Status, r.By, r.Detail)
			return 1
		}
		fmt.Fprintf(stderr, "baseline: passes in %.1fs\n", r.Seconds)
	}
	results := make([]Result, len(muts))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	jobs := make(chan int)
	for range o.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := runOne(o, files, muts[i], false)
				mu.Lock()
				results[i] = r
				done++
				fmt.Fprintf(stderr, "[%d/%d] %s: %s %s (%.1fs)\n", done, len(muts), r.Name, r.Status, firstNonEmpty(r.By, r.Detail), r.Seconds)
				mu.Unlock()
			}
		}()
	}
	for i := range muts {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	code := report(stdout, results, time.Since(start))
	if *jsonOut != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "mutate: -json: %v\n", err)
			return 1
		}
	}
	return code
}

// shorten cuts s to at most n bytes (the -json file keeps it whole).
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// selectMutations returns the catalogue, or the named mutations of it.
func selectMutations(all []Mutation, only string) ([]Mutation, error) {
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m.Name] {
			return nil, fmt.Errorf("catalogue: duplicate mutation name %q", m.Name)
		}
		seen[m.Name] = true
	}
	if only == "" {
		return all, nil
	}
	var out []Mutation
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		i := -1
		for j, m := range all {
			if m.Name == n {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("unknown mutation %q (-list shows them)", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func printList(w io.Writer, muts []Mutation) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMECHANISM\tFILE\tBUG")
	for _, m := range muts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.Mechanism, m.File, m.Bug)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d mutations\n", len(muts))
}

// repoFiles lists the files to copy: tracked and untracked-but-not-ignored
// files of the working tree, as they are on disk.
func repoFiles(repo string) ([]string, error) {
	out, err := exec.Command("git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %v", repo, err)
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		if st, err := os.Lstat(filepath.Join(repo, f)); err == nil && st.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files, nil
}

// copyRepo copies files from repo into a new temporary directory.
func copyRepo(repo string, files []string) (string, error) {
	dir, err := os.MkdirTemp("", "faultline-mutant-")
	if err != nil {
		return "", err
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			return dir, err
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return dir, err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

// apply rewrites m.File in dir; it fails unless m.Original occurs exactly once.
func apply(dir string, m Mutation) error {
	p := filepath.Join(dir, m.File)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	switch c := bytes.Count(b, []byte(m.Original)); c {
	case 1:
	case 0:
		return fmt.Errorf("%s: original snippet not found: %q", m.File, m.Original)
	default:
		return fmt.Errorf("%s: original snippet occurs %d times (must be unique): %q", m.File, c, m.Original)
	}
	if m.Original == m.Replacement {
		return fmt.Errorf("%s: replacement equals the original", m.File)
	}
	return os.WriteFile(p, bytes.Replace(b, []byte(m.Original), []byte(m.Replacement), 1), 0o644)
}

func goCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	return cmd
}

// prepare copies the repository, applies m (unless baseline) and builds
// the mutant's faultline binary, returning the directory and the binary.
func prepare(o options, files []string, m Mutation, baseline bool) (dir, bin string, res *Result) {
	fail := func(s Status, format string, args ...any) *Result {
		return &Result{Mutation: m, Status: s, SuiteExit: -1, Detail: fmt.Sprintf(format, args...)}
	}
	dir, err := copyRepo(o.repo, files)
	if err != nil {
		return dir, "", fail(Errored, "copy: %v", err)
	}
	if !baseline {
		if err := apply(dir, m); err != nil {
			return dir, "", fail(Stale, "%v", err)
		}
	}
	bin = filepath.Join(dir, ".mutant-faultline")
	out, err := goCmd(context.Background(), dir, "build", "-trimpath", "-o", bin, "./cmd/faultline").CombinedOutput()
	if err != nil {
		return dir, "", fail(Broken, "go build: %s", firstLines(string(out), 3))
	}
	return dir, bin, nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

func cleanup(o options, dir string) {
	if dir == "" {
		return
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "kept %s\n", dir)
		return
	}
	os.RemoveAll(dir)
}

// checkAll applies and compiles every mutant without running the suite.
func checkAll(o options, files []string, muts []Mutation, stdout, stderr io.Writer) int {
	bad := 0
	for _, m := range muts {
		dir, _, res := prepare(o, files, m, false)
		cleanup(o, dir)
		if res != nil {
			bad++
			fmt.Fprintf(stdout, "%-34s %s: %s\n", m.Name, res.Status, res.Detail)
			continue
		}
		fmt.Fprintf(stdout, "%-34s applies and compiles\n", m.Name)
	}
	fmt.Fprintf(stdout, "%d of %d mutations apply and compile\n", len(muts)-bad, len(muts))
	if bad > 0 {
		return 1
	}
	return 0
}

// prepareAll builds each mutant in a temporary copy it keeps, and prints
// the copy and its binary.
func prepareAll(o options, files []string, muts []Mutation, stdout io.Writer) int {
	code := 0
	for _, m := range muts {
		dir, bin, res := prepare(o, files, m, false)
		if res != nil {
			code = 1
			fmt.Fprintf(stdout, "%s: %s: %s\n", m.Name, res.Status, res.Detail)
			continue
		}
		fmt.Fprintf(stdout, "%s: %s (binary %s)\n", m.Name, dir, bin)
	}
	return code
}

// suiteLine is the part of the suite's -json summary object mutate reads.
type suiteLine struct {
	Summary bool `json:"summary"`
	Exit    int  `json:"exit"`
	Suites  []struct {
		Scenario string   `json:"scenario"`
		Class    string   `json:"class"`
		Failures []string `json:"failures"`
		Checks   []struct {
			Checker  string `json:"checker"`
			Expected string `json:"expected"`
			Valid    int    `json:"valid"`
			Invalid  int    `json:"invalid"`
			Unknown  int    `json:"unknown"`
			Met      bool   `json:"met"`
		} `json:"checks"`
	} `json:"suites"`
}

// runOne runs the suite (and with -go-test the tests) on one mutant.
func runOne(o options, files []string, m Mutation, baseline bool) Result {
	start := time.Now()
	dir, bin, res := prepare(o, files, m, baseline)
	defer cleanup(o, dir)
	if res != nil {
		res.Seconds = time.Since(start).Seconds()
		return *res
	}
	r := Result{Mutation: m, SuiteExit: -1}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	args := []string{"suite", "-json", "-parallel", fmt.Sprint(o.suiteParallel)}
	if o.scenarios != "" {
		args = append(args, "-scenario", o.scenarios)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var by []string
	switch {
	case ctx.Err() != nil:
		r.Status, r.By = Timeout, fmt.Sprintf("suite did not finish in %v", o.timeout)
	case err == nil:
		r.SuiteExit = 0
	default:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			r.Status, r.Detail = Errored, fmt.Sprintf("suite: %v", err)
			break
		}
		r.SuiteExit = ee.ExitCode()
		if r.SuiteExit == 64 {
			r.Status, r.Detail = Errored, "suite usage error: "+firstLines(stderr.String(), 2)
			break
		}
		r.SuiteCaught = true
		by = append(by, caughtBy(stdout.Bytes(), r.SuiteExit))
	}
	if r.Status == Timeout {
		r.SuiteCaught = true
	}
	if r.Status == "" && o.goTest {
		out, _ := goCmd(ctx, dir, append([]string{"test", "-count=1"}, strings.Fields(o.testPkgs)...)...).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "FAIL" && strings.Contains(f[1], "/") {
				r.TestsFailed = append(r.TestsFailed, strings.TrimPrefix(f[1], "github.com/faultline-sim/faultline/"))
			}
		}
		if len(r.TestsFailed) > 0 {
			by = append(by, "go test: "+strings.Join(r.TestsFailed, ","))
		}
	}
	if r.Status == "" {
		r.Status = Missed
		if len(by) > 0 {
			r.Status, r.By = Caught, strings.Join(by, "; ")
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r
}

// caughtBy names the failing scenarios of a suite run from its -json
// output: scenario/checker (what it got, what was expected), or the
// scenario's failure class.
func caughtBy(out []byte, exit int) string {
	var sum *suiteLine
	for _, line := range bytes.Split(out, []byte("\n")) {
		var s suiteLine
		if json.Unmarshal(line, &s) == nil && s.Summary {
			sum = &s
		}
	}
	if sum == nil {
		return fmt.Sprintf("suite exit %d (no JSON summary)", exit)
	}
	var parts []string
	for _, s := range sum.Suites {
		if s.Class == "ok" {
			continue
		}
		var unmet []string
		for _, c := range s.Checks {
			if !c.Met {
				unmet = append(unmet, fmt.Sprintf("%s(want %s, got v%d/i%d/u%d)", c.Checker, c.Expected, c.Valid, c.Invalid, c.Unknown))
			}
		}
		what := s.Class
		if len(unmet) > 0 {
			what = strings.Join(unmet, ",")
		} else if len(s.Failures) > 0 {
			what = s.Class + ": " + firstLines(s.Failures[0], 1)
			if len(what) > 120 {
				what = what[:120] + "..."
			}
		}
		parts = append(parts, s.Scenario+" "+what)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("suite exit %d", exit)
	}
	return fmt.Sprintf("%d scenario(s): %s", len(parts), strings.Join(parts, "; "))
}

// report prints the table and the score; it returns 1 if any mutant was
// stale, broken or errored.
func report(w io.Writer, results []Result, wall time.Duration) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MUTATION\tMECHANISM\tRESULT\tSECONDS\tBY / DETAIL")
	caught, missed, invalid, bySuite, tested := 0, 0, 0, 0, false
	for _, r := range results {
		if r.SuiteCaught {
			bySuite++
		}
		if len(r.TestsFailed) > 0 {
			tested = true
		}
		switch r.Status {
		case Caught, Timeout:
			caught++
		case Missed:
			missed++
		default:
			invalid++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", r.Name, r.Mechanism, r.Status, r.Seconds, shorten(firstNonEmpty(r.By, r.Detail, "-"), 140))
	}
	tw.Flush()
	tried := caught + missed
	fmt.Fprintf(w, "\nscore: %d/%d caught", caught, tried)
	if tried > 0 {
		fmt.Fprintf(w, " (%.0f%%)", 100*float64(caught)/float64(tried))
	}
	if tested {
		fmt.Fprintf(w, "; by the suite alone %d/%d", bySuite, tried)
	}
	fmt.Fprintf(w, "; %d not counted (stale, broken or errored); wall %s\n", invalid, wall.Round(time.Second))
	if missed > 0 {
		fmt.Fprintln(w, "missed:")
		for _, r := range results {
			if r.Status == Missed {
				fmt.Fprintf(w, "  %s (%s): %s\n", r.Name, r.Mechanism, r.Bug)
			}
		}
	}
	if invalid > 0 {
		return 1
	}
	return 0
}
