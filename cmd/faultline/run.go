package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/scenarios"
)

// target is what run, replay and swarm run: a named scenario with the
// user's knobs applied, or an ad-hoc spec built from the knobs.
type target struct {
	spec  scenarios.Spec
	adHoc bool
	knobs *knobs
	// named is the -scenario flag's value ("" for ad-hoc).
	named string
}

// resolveTarget builds the target from -scenario and the knobs. The error
// is a usage error message.
func resolveTarget(name string, k *knobs) (*target, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	t := &target{knobs: k, named: name}
	if name == "" {
		spec, err := k.adHocSpec()
		if err != nil {
			return nil, err
		}
		t.spec, t.adHoc = spec, true
		return t, nil
	}
	spec, err := scenarios.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("unknown scenario %q (faultline list shows them all)", name)
	}
	if err := k.override(&spec); err != nil {
		return nil, err
	}
	t.spec = spec
	return t, nil
}

// repro returns the command line that replays seed of the target,
// including every knob the user set.
func (t *target) repro(cmd string, seed uint64) string {
	parts := []string{"go run ./cmd/faultline", cmd}
	if t.named != "" {
		parts = append(parts, "-scenario", t.named)
	}
	parts = append(parts, t.knobs.reproArgs()...)
	parts = append(parts, "-seed", fmt.Sprint(seed))
	return strings.Join(parts, " ")
}

// check runs the configuration checks for seed without running it, so that
// a configuration that cannot work is a usage error before any work.
func (t *target) check(seed uint64) error {
	_, err := t.spec.Config(seed)
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, prefix := range []string{t.spec.Name + ": ", "scenarios: bad spec: ", cluster.ErrBadConfig.Error() + ": "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if errors.Is(err, cluster.ErrBadConfig) || errors.Is(err, scenarios.ErrBadSpec) {
		return fmt.Errorf("this configuration cannot run: %s", msg)
	}
	return err
}

func (t *target) jobs(seeds []uint64) []job {
	out := make([]job, len(seeds))
	hash, name := t.configHash(), t.outName()
	for i, s := range seeds {
		out[i] = job{spec: &t.spec, seed: s, repro: t.repro("run", s), adHoc: t.adHoc, outName: name, configHash: hash}
	}
	return out
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", "[-scenario NAME] [-seed S | -seeds A-B [-shards K [-shard I]]] [-json | -json-out FILE] [-out DIR [-out-all]] [-corpus FILE] [knobs]\n\n"+
		"Runs a named scenario (faultline list), or an ad-hoc configuration built from the knobs, for one\n"+
		"seed, a range of seeds, or (no -seed/-seeds) the scenario's default seeds. The knob defaults below\n"+
		"are an ad-hoc run's; with -scenario, only the knobs you set change the scenario. -shards K runs\n"+
		"the seeds s with s mod K == I (see swarm -h); faultline merge joins the shards' -json output.\n"+
		"Exit 0 as expected (ad-hoc: nothing invalid), 1 correctness, 2 liveness, 3 crash, 64 usage,\n"+
		"74 a file (-out, -json-out, the corpus) could not be written.")
	name := fs.String("scenario", "", "the scenario to run (default: an ad-hoc run built from the knobs)")
	seed := fs.String("seed", "", "run this one seed")
	seeds := fs.String("seeds", "", "run the seeds A-B (inclusive), judged as a suite")
	asJSON := fs.Bool("json", false, "print one JSON object per seed, then a summary object")
	jsonOut := fs.String("json-out", "", "write the -json lines to FILE ({shard} is replaced by the shard index) and text to stdout")
	outDir := fs.String("out", "", "write history.jsonl, schedule.txt, report.html (and linearizability.html) for each failing seed under this directory")
	outAll := fs.Bool("out-all", false, "with -out: write the files for passing seeds too")
	parallel := fs.Int("parallel", defaultParallel(), "seeds run at once")
	corpusPath := fs.String("corpus", "", "replay the failing seeds recorded in FILE first, and append new ones")
	sf := addShardFlags(fs)
	k := addKnobs(fs)
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	sh, err := sf.resolve(getenv)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if w := sh.unshardedWarning(getenv); w != "" {
		fmt.Fprintf(stderr, "faultline: warning: %s\n", w)
	}
	if *outAll && *outDir == "" {
		return usageError(stderr, fs, "-out-all needs -out DIR")
	}
	if *parallel < 1 {
		return usageError(stderr, fs, "-parallel %d: must be >= 1", *parallel)
	}
	t, err := resolveTarget(*name, k)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	list, err := parseSeeds(*seed, *seeds)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	suite := *seed == ""
	if list == nil {
		list = scenarios.DefaultSeeds(t.spec)
		if t.adHoc {
			list = []uint64{1}
			suite = false
		}
	}
	if err := t.check(list[0]); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := checkOutDir(*outDir); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	b := &batch{t: t, seeds: list, shard: sh, corpusPath: *corpusPath, suite: suite, asJSON: *asJSON, jsonOut: *jsonOut}
	b.opts = execOpts{parallel: *parallel, outDir: *outDir, outAll: *outAll, linearSteps: k.linearSteps, linearTimeout: k.linearTimeout}
	b.text = func(r *seedResult) { printSeed(stdout, r) }
	if len(list) > 1 {
		p := newProgress(stderr)
		b.opts.progress = p.seed
	}
	return b.run(stdout, stderr)
}

// stampedSeed is a seed's -json object with the stamp merge checks.
func stampedSeed(r *seedResult, st stamp) seedJSON {
	s := toSeedJSON(r)
	s.stamp = st
	return s
}

// finishRun prints the summary of one or more targets' results and returns
// the exit code: the worst class, where suite applies the FoundInvalid rule
// across each target's seeds.
//
// The summary goes to jsonW as one JSON object when jsonW is set, and as
// text to stdout when text is set (both with -json-out).
func finishRun(stdout, stderr io.Writer, ts []*target, results [][]seedResult, info runInfo, jsonW io.Writer, text bool, wall time.Duration) int {
	suite := info.suite
	sum := summaryJSON{stamp: info.stamp, Summary: true, Class: string(scenarios.ClassOK), Range: info.rng,
		Suite: info.suiteField, Interrupted: info.interrupted, Corpus: info.corpus, WriteErrors: info.writeErrs}
	worst := scenarios.ClassOK
	for i, t := range ts {
		sum.Scenarios = append(sum.Scenarios, t.spec.Name)
		outs := make([]scenarios.Outcome, 0, len(results[i]))
		for _, r := range results[i] {
			if r.err != nil && (errors.Is(r.err, cluster.ErrBadConfig) || errors.Is(r.err, scenarios.ErrBadSpec)) {
				// The configuration cannot run: a usage error, one line.
				fmt.Fprintf(stderr, "faultline: %s seed %d: %v (change the flags)\n", t.spec.Name, r.job.seed, r.err)
				return exitUsage
			}
			if r.err != nil {
				// A seed whose varied configuration cannot run.
				fmt.Fprintf(stderr, "faultline: %s seed %d: %v\n", t.spec.Name, r.job.seed, r.err)
				worst = worst.Worse(scenarios.ClassCrash)
				sum.Failing = append(sum.Failing, r.job.seed)
				continue
			}
			outs = append(outs, r.out)
			if r.failing() {
				sum.Failing = append(sum.Failing, r.job.seed)
			}
			worst = worst.Worse(r.out.Class)
		}
		sum.Seeds += len(results[i])
		if suite {
			s := scenarios.Summarize(t.spec, outs)
			worst = worst.Worse(s.Class)
			sum.Checks = append(sum.Checks, s.Checks...)
			for _, f := range s.Failures {
				if !strings.HasPrefix(f, "seed ") {
					sum.Failures = append(sum.Failures, t.spec.Name+": "+f)
				}
			}
		}
	}
	sum.Class, sum.Exit, sum.WallNs = string(worst), classExit(worst), wall.Nanoseconds()
	if len(info.writeErrs) > 0 {
		// Files asked for are lost: that outranks the class (which the
		// summary still says).
		sum.Exit = exitIOError
	}
	if sum.Failing == nil {
		sum.Failing = []uint64{}
	}
	for _, e := range info.writeErrs {
		fmt.Fprintf(stderr, "faultline: file not written: %s\n", e)
	}
	if jsonW != nil {
		writeJSON(jsonW, sum)
	}
	if !text {
		return sum.Exit
	}
	printChecks(stdout, sum.Checks)
	for _, f := range sum.Failures {
		fmt.Fprintf(stdout, "%s\n", f)
	}
	verdict := "as expected"
	if worst != scenarios.ClassOK {
		verdict = string(worst) + " failure"
	}
	var notes []string
	if info.stamp.Shards > 1 {
		notes = append(notes, fmt.Sprintf("shard %d of %d", info.stamp.Shard, info.stamp.Shards))
	}
	if info.corpus > 0 {
		notes = append(notes, fmt.Sprintf("%s from the corpus", plural(info.corpus, "seed")))
	}
	if info.interrupted {
		notes = append(notes, "INTERRUPTED: only the seeds that ran")
	}
	if len(info.writeErrs) > 0 {
		notes = append(notes, fmt.Sprintf("%s NOT WRITTEN (exit %d)", plural(len(info.writeErrs), "file set"), exitIOError))
	}
	note := ""
	if len(notes) > 0 {
		note = " [" + strings.Join(notes, "; ") + "]"
	}
	fmt.Fprintf(stdout, "%s: %s, %s (%d failing seeds) in %s%s\n", strings.Join(sum.Scenarios, ", "), plural(sum.Seeds, "seed"), verdict, len(sum.Failing), fmtDuration(wall), note)
	return sum.Exit
}

// checkOutDir creates dir (if set) so that a path that cannot hold the
// files is a usage error before any seed runs.
func checkOutDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-out %q: cannot create the directory: %v", dir, errors.Unwrap(err))
	}
	return nil
}
