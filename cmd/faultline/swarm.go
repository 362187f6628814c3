package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/faultline-sim/faultline/internal/report"
	"github.com/faultline-sim/faultline/scenarios"
)

// swarmScenario is the scenario swarm runs by default: per seed a random
// cluster and a random mix and intensity of faults.
const swarmScenario = "swarm"

func runSwarm(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("swarm", "-seeds N [-start S] [-shards K [-shard I]] [-parallel P] [-scenario NAME] [-json | -json-out FILE] [-out DIR] [-corpus FILE] [knobs]\n\n"+
		"Swarm testing: runs N seeds of the swarm scenario (random cluster size, quorums, workload and a\n"+
		"random subset and intensity of faults per seed) across cores, with progress, rate and ETA on stderr,\n"+
		"and prints every failing seed with its repro line. Knobs you set override every seed's drawn\n"+
		"configuration. SIGINT or SIGTERM finishes the seeds in flight and prints the summary of what ran.\n\n"+
		"Past one machine: -shards K runs only the seeds s with s mod K == I, I from -shard or from\n"+
		"$"+envJobIndex+" (Kubernetes Indexed Job) or $"+envSlurmTask+" (Slurm array); run each shard with\n"+
		"-json or -json-out FILE and join their output with faultline merge (docs/scale.md). -corpus FILE\n"+
		"replays the seeds recorded there first and appends new failures (a shard only reads it; merge\n"+
		"-corpus appends what the shards found).\n"+
		"Exit codes as for run; 74 if a file (-out, -json-out, the corpus) could not be written.")
	n := fs.Int("seeds", 100, "number of seeds to run")
	first := fs.Uint64("start", 1, "first seed")
	parallel := fs.Int("parallel", defaultParallel(), "seeds run at once")
	name := fs.String("scenario", swarmScenario, "the scenario to swarm")
	asJSON := fs.Bool("json", false, "print one JSON object per seed, then a summary object")
	jsonOut := fs.String("json-out", "", "write the -json lines to FILE ({shard} is replaced by the shard index) and text to stdout")
	outDir := fs.String("out", "", "write the files of each failing seed under this directory")
	corpusPath := fs.String("corpus", "", "replay the failing seeds recorded in FILE first, and append new ones")
	sf := addShardFlags(fs)
	k := addKnobs(fs)
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *n < 1 || *n > maxSeeds {
		return usageError(stderr, fs, "-seeds %d: want 1..%d seeds", *n, maxSeeds)
	}
	if *first > ^uint64(0)-uint64(*n)+1 {
		return usageError(stderr, fs, "-start %d: the seeds would overflow; use a smaller -start", *first)
	}
	if *parallel < 1 {
		return usageError(stderr, fs, "-parallel %d: must be >= 1", *parallel)
	}
	if *name == "" {
		return usageError(stderr, fs, "-scenario must name a scenario (faultline list shows them all)")
	}
	sh, err := sf.resolve(getenv)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if w := sh.unshardedWarning(getenv); w != "" {
		fmt.Fprintf(stderr, "faultline: warning: %s\n", w)
	}
	t, err := resolveTarget(*name, k)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	seeds := scenarios.SeedRange(*first, *n)
	if err := t.check(seeds[0]); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := checkOutDir(*outDir); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	b := &batch{t: t, seeds: seeds, shard: sh, corpusPath: *corpusPath, suite: true, asJSON: *asJSON, jsonOut: *jsonOut}
	p := newProgress(stderr)
	b.opts = execOpts{parallel: *parallel, outDir: *outDir, linearSteps: k.linearSteps, linearTimeout: k.linearTimeout, progress: p.seed}
	b.text = func(r *seedResult) {
		switch {
		case r.failing():
			fmt.Fprintln(stdout, seedLine(r))
			for _, v := range r.out.Verdicts {
				if !v.AsExpected {
					fmt.Fprintf(stdout, "  %s: expected %s, got %s\n", v.Checker, v.Expected, v.Verdict)
				}
			}
			if len(r.out.Verdicts) == 0 || r.out.Class != scenarios.ClassCorrectness {
				fmt.Fprintf(stdout, "  %s\n", r.out.Failure)
			}
			fmt.Fprintf(stdout, "  replay: %s\n", r.out.Repro)
			for _, f := range r.files {
				if filepath.Base(f) == report.FileReport {
					fmt.Fprintf(stdout, "  report: %s\n", f)
				}
			}
			if r.fileErr != nil {
				fmt.Fprintf(stdout, "  writing files: %v\n", r.fileErr)
			}
		}
	}
	b.header = func(w io.Writer, ran int) {
		mine := len(sh.filter(seeds))
		shard := ""
		if sh.K > 1 {
			shard = fmt.Sprintf(", shard %d of %d: %d of them", sh.I, sh.K, mine)
		}
		fmt.Fprintf(w, "swarm: %d seeds (%d-%d%s) on %d goroutines\n", *n, seeds[0], seeds[len(seeds)-1], shard, max(1, min(*parallel, max(ran, 1))))
	}
	return b.run(stdout, stderr)
}
