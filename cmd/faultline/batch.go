package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
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
	// jsonOut, if set, is the file the -json lines go to ({shard}: the
	// shard index), with text on stdout.
	jsonOut string
	// text prints a seed as text (without -json).
	text func(r *seedResult)
	opts execOpts
	// header, if set, prints text before the summary (not with -json).
	header func(w io.Writer, ran int)
}

// stamp returns the stamp of every JSON line this batch prints.
func (b *batch) stamp() stamp {
	return stamp{Build: buildStamp(), ConfigHash: b.t.configHash(), Shard: b.shard.I, Shards: b.shard.K}
}

// run runs the batch and returns the exit code.
func (b *batch) run(stdout, stderr io.Writer) (code int) {
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
		// One writer: shards only read the corpus; faultline merge -corpus
		// appends what the fleet found.
		cor.readOnly = b.shard.K > 1
		if len(replay) > 0 || cor.other > 0 {
			fmt.Fprintf(stderr, "corpus %s: replaying %s first (%d entries of other configurations left alone)\n",
				b.corpusPath, plural(len(replay), "recorded failure"), cor.other)
		}
		if b.shard.K > 1 {
			fmt.Fprintf(stderr, "corpus %s: read only in a shard; faultline merge -corpus %s appends the fleet's failures\n", b.corpusPath, b.corpusPath)
		}
	}
	jobs := b.t.jobs(replay)
	for i := range jobs {
		jobs[i].corpus = true
	}
	jobs = append(jobs, b.t.jobs(mine)...)

	var writeErrs []string
	var jsonW io.Writer
	if b.asJSON {
		jsonW = stdout
	}
	var jf *jsonFile
	if b.jsonOut != "" {
		var err error
		if jf, err = createJSONFile(strings.ReplaceAll(b.jsonOut, "{shard}", strconv.Itoa(b.shard.I))); err != nil {
			fmt.Fprintf(stderr, "faultline: -json-out: %v\n", err)
			return exitUsage
		}
		jsonW = jf
	}
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
		if jsonW != nil {
			writeJSON(jsonW, stampedSeed(r, st))
		}
		if !b.asJSON && b.text != nil {
			b.text(r)
		}
	}
	in, stop := onInterrupt(stderr, os.Exit)
	defer stop()
	b.opts.stopped = &in.stopped
	results := ran(runJobs(jobs, b.opts))
	info := runInfo{
		stamp: st, suite: b.suite && b.shard.K == 1, suiteField: b.suite,
		interrupted: in.stopped.Load(), writeErrs: writeErrs,
	}
	for _, r := range results {
		if r.job.corpus {
			info.corpus++
		}
	}
	if len(b.seeds) > 0 {
		info.rng = &seedRangeJSON{First: b.seeds[0], Count: len(b.seeds)}
	}
	if b.header != nil && !b.asJSON {
		b.header(stdout, len(results))
	}
	if jf != nil {
		reported := jf.err != nil
		if reported {
			info.writeErrs = append(info.writeErrs, fmt.Sprintf("-json-out %s: %v", jf.path, jf.err))
		}
		// The summary goes to the file too; then it must all be on disk.
		defer func() {
			err := jf.Close()
			if err == nil && !reported {
				err = jf.err
			}
			if err != nil {
				fmt.Fprintf(stderr, "faultline: file not written: -json-out %s: %v\n", jf.path, err)
				code = exitIOError
			}
		}()
	}
	return finishRun(stdout, stderr, []*target{b.t}, [][]seedResult{results}, info, jsonW, !b.asJSON, time.Since(start))
}

// jsonFile is a -json-out file: it keeps the first write error, so that a
// full disk is reported in the summary and the exit code.
type jsonFile struct {
	f    *os.File
	path string
	err  error
}

func createJSONFile(path string) (*jsonFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &jsonFile{f: f, path: path}, nil
}

func (j *jsonFile) Write(p []byte) (int, error) {
	if j.err != nil {
		return 0, j.err
	}
	n, err := j.f.Write(p)
	if err != nil {
		j.err = err
	}
	return n, err
}

// Close syncs and closes the file (write errors are in j.err).
func (j *jsonFile) Close() error {
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
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
