package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/internal/report"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
	"github.com/faultline-sim/faultline/sim"
)

// traceFilter selects the lines of a replay.
type traceFilter struct {
	node     sim.NodeID
	haveNode bool
	from, to sim.Time
	key      string // follow one key ("" for all)
	op       int    // follow one client operation (-1 for all)
}

// narrowed reports whether the filter selects less than the whole run.
func (f traceFilter) narrowed() bool {
	return f.haveNode || f.from > 0 || f.to != sim.Never || f.key != "" || f.op >= 0
}

func (f traceFilter) keep(t sim.Time, node sim.NodeID, nodeKnown bool) bool {
	if t < f.from || t > f.to {
		return false
	}
	return !f.haveNode || !nodeKnown || node == f.node
}

// keepLine is keep for a trace line: with -key or -op only the lines about
// that key or operation, plus the faults and phase changes (the context).
func (f traceFilter) keepLine(l cluster.TraceLine) bool {
	context := l.Kind == "fault" || l.Kind == "phase"
	if !f.keep(l.Time, l.Node, !context) {
		return false
	}
	if context {
		return true
	}
	if f.key != "" && !l.Concerns(f.key) {
		return false
	}
	return f.op < 0 || l.Op == f.op
}

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", "[-scenario NAME] -seed S [-trace] [-key K] [-op N] [-node nX] [-from D] [-to D] [-out DIR] [knobs]\n\n"+
		"Replays one seed and prints what happened in virtual-time order (time, node, event): the client\n"+
		"operations (#N is an operation's id: its invocation's index in the history) and the nemesis faults,\n"+
		"or with -trace every message sent, delivered, duplicated and dropped (with its cause: loss,\n"+
		"partition, down, capacity), with keys, values and versions; then the verdicts. -key and -op follow\n"+
		"one key or one client operation (its coordinator's fan-out, the replies, forwarding and the repairs\n"+
		"it started) and keep the faults as context; a filtered view prints only what was asked.\n"+
		"With -scenario, only the knobs you set change the scenario.\n"+
		"Exit codes as for run.")
	name := fs.String("scenario", "", "the scenario (default: an ad-hoc run built from the knobs)")
	seedFlag := fs.String("seed", "", "the seed to replay (required)")
	trace := fs.Bool("trace", false, "print every delivered message, client event, fault and phase change")
	nodeFlag := fs.String("node", "", "print only lines about this node (e.g. n2)")
	from := fs.Duration("from", 0, "print only lines at or after this virtual time")
	to := fs.Duration("to", 0, "print only lines at or before this virtual time (0: the end)")
	keyFlag := fs.String("key", "", "print only lines about this key (and the faults)")
	opFlag := fs.Int("op", -1, "print only lines about client operation #N (and the faults); implies -trace")
	outDir := fs.String("out", "", "also write the seed's history.jsonl, schedule.txt and report.html under this directory")
	k := addKnobs(fs)
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *seedFlag == "" {
		return usageError(stderr, fs, "name the seed to replay with -seed S (a failing run prints it)")
	}
	seeds, err := parseSeeds(*seedFlag, "")
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	seed := seeds[0]
	filter := traceFilter{from: sim.Time(*from), to: sim.Never, key: *keyFlag, op: *opFlag}
	if *opFlag < -1 {
		return usageError(stderr, fs, "-op %d: want an operation id (#N in the replay), >= 0", *opFlag)
	}
	if *opFlag >= 0 {
		*trace = true
	}
	if *from < 0 {
		return usageError(stderr, fs, "-from %v: must be >= 0", *from)
	}
	if *to != 0 {
		if *to < *from {
			return usageError(stderr, fs, "-to %v is before -from %v", *to, *from)
		}
		filter.to = sim.Time(*to)
	}
	if *nodeFlag != "" {
		id, err := nemesis.ParseNodeID(*nodeFlag)
		if err != nil {
			return usageError(stderr, fs, "-node %q: want a node id such as n2", *nodeFlag)
		}
		filter.node, filter.haveNode = id, true
	}
	t, err := resolveTarget(*name, k)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := t.check(seed); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := checkOutDir(*outDir); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	cfg, _ := t.spec.Config(seed) // checked above
	if filter.haveNode && int(filter.node) >= cfg.Nodes+cfg.Spares {
		return usageError(stderr, fs, "-node %v: this run's nodes are n0..n%d", filter.node, cfg.Nodes+cfg.Spares-1)
	}
	fmt.Fprintf(stdout, "replay %s seed %d: %s\n", t.spec.Name, seed, report.SettingsOf(cfg))
	fmt.Fprintf(stdout, "%14s %-4s %s\n", "TIME", "NODE", "EVENT")

	var tracedHash uint64
	if *trace {
		h, crash := tracedRun(cfg, seed, filter, stdout)
		if crash != "" {
			fmt.Fprintf(stdout, "crash (seed %d): %s\n", seed, crash)
			fmt.Fprintf(stdout, "replay: %s\n", t.repro("replay", seed)+" -trace")
			return exitCrash
		}
		tracedHash = h
	}
	j := t.jobs([]uint64{seed})[0]
	res := runJob(j, execOpts{outDir: *outDir, outAll: true, linearSteps: k.linearSteps, linearTimeout: k.linearTimeout, keepResult: true})
	if res.err != nil {
		return usageError(stderr, fs, "%v", res.err)
	}
	o := res.out
	if !*trace && o.Result != nil {
		printTimeline(stdout, o.Result, o.Config, filter)
	}
	if filter.narrowed() {
		// A filtered view prints only what was asked (and the exit code).
		if *trace && o.Result != nil && tracedHash != o.TraceHash {
			fmt.Fprintf(stdout, "crash: the traced run's trace hash %016x differs from the untraced run's %016x\n", tracedHash, o.TraceHash)
			return exitCrash
		}
		if *opFlag >= 0 && o.Result != nil {
			if n := o.Result.History(); *opFlag >= len(n) {
				return usageError(stderr, fs, "-op %d: this run's history has events #0..#%d", *opFlag, len(n)-1)
			}
		}
		return classExit(o.Class)
	}
	fmt.Fprintln(stdout)
	printVerdicts(stdout, &res)
	if *trace && o.Result != nil && tracedHash != o.TraceHash {
		fmt.Fprintf(stdout, "crash: the traced run's trace hash %016x differs from the untraced run's %016x (nondeterminism, or tracing perturbs the run)\n", tracedHash, o.TraceHash)
		return exitCrash
	}
	if res.fileErr != nil {
		return exitIOError
	}
	return classExit(o.Class)
}

// tracedRun runs cfg with the cluster's readable trace on and prints the
// lines filter keeps. The cluster traces each client event as the client
// built it, before the history recorder numbered it and, for completions,
// filled in its kind and key; the k-th client line is the history's k-th
// event, so the lines are buffered and client lines printed from the
// history. It returns the run's trace hash, or the panic.
func tracedRun(cfg scenarios.Config, seed uint64, filter traceFilter, w io.Writer) (hash uint64, crash string) {
	defer func() {
		if p := recover(); p != nil {
			crash = fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	c, err := cluster.New(cfg.Cluster(), seed)
	if err != nil {
		return 0, err.Error()
	}
	var lines []cluster.TraceLine
	clientLines := 0
	c.SetTrace(func(l cluster.TraceLine) {
		if l.Kind == "client" {
			clientLines++
		}
		lines = append(lines, l)
	})
	r, _ := c.Run() // a liveness failure is reported with the verdicts
	if r == nil {
		return 0, "the run returned no result"
	}
	events := r.History()
	fromHistory := clientLines == len(events)
	k := 0
	for _, l := range lines {
		if fromHistory && l.Kind == "client" {
			l.Event = fmt.Sprintf("#%d %s", l.Op, eventText(events[k]))
			k++
		}
		if filter.keepLine(l) {
			fmt.Fprintf(w, "%s %-4v %s\n", fmtVT(l.Time), l.Node, l.Event)
		}
	}
	return r.TraceHash, ""
}

// fmtVT formats a virtual time for a trace column: milliseconds with
// microsecond precision, right-aligned.
func fmtVT(t sim.Time) string {
	return fmt.Sprintf("%12.3fms", float64(t)/1e6)
}

// timelineLine is one line of a replay without -trace.
type timelineLine struct {
	at        sim.Time
	order     int
	node      string
	nodeID    sim.NodeID
	nodeKnown bool
	text      string
}

// printTimeline prints the client events and the nemesis faults of a run
// in virtual-time order (faults first at equal times), and where the settle
// phase starts. Lines about no particular node (faults, the settle phase)
// pass a -node filter.
func printTimeline(w io.Writer, r *cluster.Result, cfg scenarios.Config, filter traceFilter) {
	var lines []timelineLine
	events := r.History()
	opID := make([]int, len(events)) // event index -> its operation's invocation index
	for i := range opID {
		opID[i] = i
	}
	for _, op := range r.Ops {
		if op.Completed >= 0 {
			opID[op.Completed] = op.Invoked
		}
	}
	for i, e := range events {
		if filter.key != "" && e.Key != filter.key {
			continue
		}
		lines = append(lines, timelineLine{at: e.Time, order: 2*len(cfg.Nemesis) + 1 + i, node: e.Node.String(),
			nodeID: e.Node, nodeKnown: true, text: fmt.Sprintf("#%d %s", opID[i], eventText(e))})
	}
	for i, f := range cfg.Nemesis {
		// Faults stay visible under -node: they are the context of every
		// node's events.
		lines = append(lines, timelineLine{at: f.At, order: i, node: "-", text: "nemesis " + f.Label()})
	}
	if r.SettleAt != sim.Never {
		lines = append(lines, timelineLine{at: r.SettleAt, order: len(cfg.Nemesis), node: "-",
			text: fmt.Sprintf("--- settle: everything healed; %s for handoff and repair, then the final reads", cfg.SettleTime)})
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if lines[i].at != lines[j].at {
			return lines[i].at < lines[j].at
		}
		return lines[i].order < lines[j].order
	})
	for _, l := range lines {
		if !filter.keep(l.at, l.nodeID, l.nodeKnown) {
			continue
		}
		fmt.Fprintf(w, "%s %-4s %s\n", fmtVT(l.at), l.node, l.text)
	}
}

// eventText formats a client event without its index, time and node
// (the replay's columns carry those).
func eventText(e history.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "c%d %s %s %q", e.Client, e.Type, e.Kind, e.Key)
	switch {
	case e.Kind == history.CAS && e.Type == history.Invoke:
		fmt.Fprintf(&b, " %q->%q", e.Expect, e.Value)
	case e.Value != "":
		fmt.Fprintf(&b, " %q", e.Value)
	}
	if e.NotFound {
		b.WriteString(" not-found")
	}
	if len(e.Values) > 0 {
		fmt.Fprintf(&b, " %q", e.Values)
	}
	if len(e.Context) > 0 {
		fmt.Fprintf(&b, " ctx=%q", e.Context)
	}
	if e.Final {
		b.WriteString(" (final read)")
	}
	if e.Err != "" {
		b.WriteString(" err=" + e.Err)
	}
	return b.String()
}

// printVerdicts prints every checker's verdict with its witness, then how
// the run ended and its repro line.
func printVerdicts(w io.Writer, r *seedResult) {
	o := r.out
	for _, v := range o.Verdicts {
		exp := ""
		switch {
		case r.job.adHoc:
			exp = " (expected " + expectNotInvalid + ")"
		case v.Expected != scenarios.Any:
			exp = " (expected " + string(v.Expected) + ")"
		}
		fmt.Fprintf(w, "%s: %s%s: %s\n", v.Checker, v.Verdict, exp, v.Explanation)
		for i, x := range v.Witness {
			fmt.Fprintf(w, "  %d. %s\n", i+1, x)
		}
	}
	fmt.Fprintf(w, "%s seed %d: %s", o.Scenario, o.Seed, o.Class)
	if o.Failure != "" {
		fmt.Fprintf(w, ": %s", o.Failure)
	}
	fmt.Fprintf(w, "\n  ops %d ok %d fail %d info; %s; sim %s; events %d; messages %d; bytes %d; trace %016x\n",
		o.Ops.OK, o.Ops.Fail, o.Ops.Info, plural(o.Faults, "fault"), fmtDuration(o.SimTime), o.Events, o.Messages, o.Bytes, o.TraceHash)
	fmt.Fprintf(w, "  replay: %s\n", o.Repro)
	for _, f := range r.files {
		fmt.Fprintf(w, "  wrote %s\n", f)
	}
	if r.fileErr != nil {
		fmt.Fprintf(w, "  writing files: %v\n", r.fileErr)
	}
}
