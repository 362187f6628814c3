package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// batch is how run -seeds and swarm run a range of seeds: one shard of it,
// the corpus first, interruptible, stamped for merge.
type batch struct {
	t *target
	// seeds is the whole (unsharded) range; first and count describe it.
	seeds []uint64
	shard shardSpec
	// corpusPath is the -corpus file ("" for none).
	corpusPath string
	// suite applies the suite rule (FoundInvalid across seeds); a shard of
	// several leaves it to merge.
	suite  bool
	asJSON bool
	opts   execOpts
	// header, if set, prints text before the summary (not with -json).
	header func(w io.Writer, ran int)
}

// stamp returns the stamp of every JSON line this batch prints.
func (b *batch) stamp() stamp {
	return stamp{Build: buildStamp(), ConfigHash: b.t.configHash(), Shard: b.shard.I, Shards: b.shard.K}
}

// run runs the batch and returns the exit code.
func (b *batch) run(stdout, stderr io.Writer) int {
	start := time.Now()
	st := b.stamp()
	mine := b.shard.filter(b.seeds)
	var cor *corpus
	var replay []uint64
	if b.corpusPath != "" {
		var err error
		if cor, err = loadCorpus(b.corpusPath, b.t.spec.Name, st.ConfigHash); err != nil {
			fmt.Fprintf(stderr, "faultline: %v\n", err)
			return exitUsage
		}
		replay, mine = cor.split(b.shard, mine)
		if len(replay) > 0 || cor.other > 0 {
			fmt.Fprintf(stderr, "corpus %s: replaying %s first (%d entries of other configurations left alone)\n",
				b.corpusPath, plural(len(replay), "recorded failure"), cor.other)
		}
	}
	jobs := b.t.jobs(replay)
	for i := range jobs {
		jobs[i].corpus = true
	}
	jobs = append(jobs, b.t.jobs(mine)...)

	var writeErrs []string
	emit := b.opts.emit
	b.opts.emit = func(r *seedResult) {
		if r.fileErr != nil {
			writeErrs = append(writeErrs, fmt.Sprintf("seed %d: %v", r.job.seed, r.fileErr))
		}
		if cor != nil && r.failing() {
			if err := cor.add(entryOf(r, st)); err != nil {
				fmt.Fprintf(stderr, "faultline: %v\n", err)
				writeErrs = append(writeErrs, err.Error())
			}
		}
		if emit != nil {
			emit(r)
		}
	}
	stopped, stop := onInterrupt(stderr)
	defer stop()
	b.opts.stopped = stopped
	results := ran(runJobs(jobs, b.opts))
	info := runInfo{
		stamp: st, suite: b.suite && b.shard.K == 1, suiteField: b.suite,
		interrupted: stopped.Load(), corpus: min(len(replay), len(results)), writeErrs: writeErrs,
	}
	if len(b.seeds) > 0 {
		info.rng = &seedRangeJSON{First: b.seeds[0], Count: len(b.seeds)}
	}
	if b.header != nil && !b.asJSON {
		b.header(stdout, len(results))
	}
	return finishRun(stdout, stderr, []*target{b.t}, [][]seedResult{results}, info, b.asJSON, time.Since(start))
}

// runInfo is what a summary says beyond the results.
type runInfo struct {
	stamp
	// suite applies the suite rule here; suiteField records that it applies
	// to the whole run (merge applies it across shards).
	suite, suiteField bool
	interrupted       bool
	corpus            int
	rng               *seedRangeJSON
	writeErrs         []string
}

// getenv is the environment lookup of shard resolution (a variable so tests
// can give a process-local environment).
var getenv = os.Getenv
