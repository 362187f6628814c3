package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/faultline-sim/faultline/internal/report"
	"github.com/faultline-sim/faultline/scenarios"
)

// swarmScenario is the scenario swarm runs by default: per seed a random
// cluster and a random mix and intensity of faults.
const swarmScenario = "swarm"

func runSwarm(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("swarm", "-seeds N [-start S] [-parallel P] [-scenario NAME] [-json] [-out DIR] [knobs]\n\n"+
		"Swarm testing: runs N seeds of the swarm scenario (random cluster size, quorums, workload and a\n"+
		"random subset and intensity of faults per seed) across cores, with progress on stderr, and prints\n"+
		"every failing seed with its repro line. Knobs you set override every seed's drawn configuration.\n"+
		"Exit codes as for run.")
	n := fs.Int("seeds", 100, "number of seeds to run")
	first := fs.Uint64("start", 1, "first seed")
	parallel := fs.Int("parallel", defaultParallel(), "seeds run at once")
	name := fs.String("scenario", swarmScenario, "the scenario to swarm")
	asJSON := fs.Bool("json", false, "print one JSON object per seed, then a summary object")
	outDir := fs.String("out", "", "write the files of each failing seed under this directory")
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
	start := time.Now()
	p := newProgress(stderr)
	opts := execOpts{parallel: *parallel, outDir: *outDir, linearTimeout: k.linearTimeout, progress: p.seed}
	opts.emit = func(r *seedResult) {
		switch {
		case *asJSON:
			writeJSON(stdout, toSeedJSON(r))
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
		}
	}
	results := runJobs(t.jobs(seeds), opts)
	if !*asJSON {
		fmt.Fprintf(stdout, "swarm: %d seeds (%d-%d) on %d goroutines\n", *n, seeds[0], seeds[len(seeds)-1], max(1, min(*parallel, *n)))
	}
	return finishRun(stdout, stderr, []*target{t}, [][]seedResult{results}, true, *asJSON, time.Since(start))
}
