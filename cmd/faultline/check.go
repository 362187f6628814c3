package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
)

// checkOutput is `faultline check -json`'s one object.
type checkOutput struct {
	File        string              `json:"file"`
	Model       string              `json:"model"`
	Events      int                 `json:"events"`
	Ops         opCounts            `json:"ops"`
	Verdict     checker.Verdict     `json:"verdict"`
	Explanation string              `json:"explanation"`
	Count       int                 `json:"count"`
	Witness     []checker.Violation `json:"witness,omitempty"`
	WallNs      int64               `json:"wall_ns"`
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", "-model kv|register|cas-register [-timeout D] [-html FILE] [-json] FILE\n\n"+
		"Judges an external history for linearizability: faultline's JSON lines (history.jsonl)\n"+
		"or a Jepsen EDN history with one map per line. Exit 0 valid, 1 invalid, 2 unknown, 64 usage.")
	model := fs.String("model", "", "the sequential model: kv, register or cas-register (required)")
	timeout := fs.Duration("timeout", time.Minute, "wall-clock budget of the check; running out gives unknown (exit 2)")
	htmlOut := fs.String("html", "", "write porcupine's visualization to this file when the history is not linearizable")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	pos, done, code := parseInterleaved(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		if len(pos) == 0 {
			return usageError(stderr, fs, "name the history file to check, e.g. faultline check -model kv history.jsonl")
		}
		return usageError(stderr, fs, "one history file at a time (got %d: %q)", len(pos), pos)
	}
	if *model == "" {
		return usageError(stderr, fs, "-model is required: kv, register or cas-register")
	}
	m, err := checker.ParseModel(*model)
	if err != nil {
		return usageError(stderr, fs, "-model %q: want kv, register or cas-register", *model)
	}
	if *timeout < 0 {
		return usageError(stderr, fs, "-timeout %v: must be >= 0 (0 means no budget)", *timeout)
	}
	path := pos[0]
	f, err := os.Open(path)
	if err != nil {
		return usageError(stderr, fs, "cannot read the history: %v", err)
	}
	events, err := history.ReadAny(f)
	f.Close()
	if err != nil {
		return usageError(stderr, fs, "%s is not a history faultline can read (JSON lines or Jepsen EDN, one map per line): %v", path, err)
	}
	if len(events) == 0 {
		return usageError(stderr, fs, "%s holds no events", path)
	}
	ops, err := history.Pair(events)
	if err != nil {
		return usageError(stderr, fs, "%s does not pair into operations: %v", path, err)
	}
	var vis *deferredFile
	opts := checker.LinearOptions{Model: m, Timeout: *timeout}
	if *htmlOut != "" {
		vis = &deferredFile{path: *htmlOut}
		opts.Visualize = vis
	}
	start := time.Now()
	res, err := checker.Linearizable(ops, opts)
	wall := time.Since(start)
	if err != nil {
		return usageError(stderr, fs, "%s: %v", path, err)
	}
	if vis != nil {
		if err := vis.Close(); err != nil {
			return usageError(stderr, fs, "-html: %v", err)
		}
	}
	out := checkOutput{
		File: path, Model: string(m), Events: len(events), Ops: countOps(ops),
		Verdict: res.Verdict, Explanation: res.Explanation, Count: res.Count, Witness: res.Witness,
		WallNs: wall.Nanoseconds(),
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "faultline check: writing JSON: %v\n", err)
			return exitCorrectness
		}
	} else {
		fmt.Fprintf(stdout, "%s: %s (%d events, %s; model %s; %s)\n", path, res.Verdict, len(events),
			out.Ops, m, fmtDuration(wall))
		fmt.Fprintf(stdout, "  %s\n", res.Explanation)
		for _, w := range res.Witness {
			fmt.Fprintf(stdout, "  witness: %s\n", w)
		}
		if vis != nil && vis.written {
			fmt.Fprintf(stdout, "  visualization: %s\n", *htmlOut)
		}
	}
	return verdictExit(res.Verdict)
}

// verdictExit maps a check verdict to `faultline check`'s exit code.
func verdictExit(v checker.Verdict) int {
	switch v {
	case checker.Valid:
		return exitOK
	case checker.Invalid:
		return exitCorrectness
	}
	return exitLiveness
}

// deferredFile creates its file on the first Write, so that a valid history
// leaves no empty visualization behind.
type deferredFile struct {
	path    string
	f       *os.File
	err     error
	written bool
}

func (d *deferredFile) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.f == nil {
		d.f, d.err = os.Create(d.path)
		if d.err != nil {
			return 0, d.err
		}
		d.written = true
	}
	n, err := d.f.Write(p)
	if err != nil {
		d.err = err
	}
	return n, err
}

// Close closes the file if it was created and reports the first error.
func (d *deferredFile) Close() error {
	if d.f != nil {
		if err := d.f.Close(); err != nil && d.err == nil {
			d.err = err
		}
	}
	return d.err
}
