package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/internal/report"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// checkOutput is `faultline check -json`'s one object.
type checkOutput struct {
	File        string              `json:"file"`
	Format      history.Format      `json:"format"`
	Order       history.Order       `json:"order"`
	OrderReason string              `json:"order_reason,omitempty"`
	Independent bool                `json:"independent_keys,omitempty"`
	Model       string              `json:"model"`
	Initial     *string             `json:"initial,omitempty"`
	Events      int                 `json:"events"`
	Nemesis     int                 `json:"nemesis_ops"`
	Ops         opCounts            `json:"ops"`
	Verdict     checker.Verdict     `json:"verdict"`
	Exhausted   string              `json:"exhausted,omitempty"`
	Explanation string              `json:"explanation"`
	Count       int                 `json:"count"`
	Witness     []checker.Violation `json:"witness,omitempty"`
	WallNs      int64               `json:"wall_ns"`
}

const checkSynopsis = `-model MODEL [-initial V] [-steps N] [-memory SIZE] [-witness-steps N] [-timeout D] [-html FILE] [-report FILE] [-json] FILE

Judges a history for linearizability. The format is detected, no flag needed:
  - faultline's history.jsonl (JSON lines; invalid UTF-8 is refused);
  - Jepsen/Knossos EDN: one map per line (history.edn), or a whole file that is one
    [ ... ] or ( ... ) of operations, maps over several lines, ; comments, tagged
    literals, the old tuple form [process :type :f value];
  - jepsen.log text: INFO  jepsen.util - 3	:invoke	:read	nil (tabs or spaces), or the
    newer jepsen.util: [ 1350999542 ] 3	:invoke	:read	nil (timed by the bracketed ns).
Operations of a keyword process (:nemesis) are not judged; they are counted and drawn
in -html. Values [k v] on every operation (jepsen.independent, Maelstrom lin-kv) are
independent keys, judged per key. Every line is at most 1 MiB.

Order: by :time if every operation has one and it never runs backwards; otherwise by
position in the file (Knossos's rule), and the output says which and why. Equal times
count as concurrent.

Models (every key is judged on its own):
  register      read, write
  cas-register  read, write, cas [old new]
  kv            get/read, put/write, delete, cas, append (string concatenation, as
                porcupine's and the MIT 6.5840 lab's kv: a key starts as "" and a
                read of nil or "" there is the same), add (a key with adds is a set)
  set           add, read (returns the elements; order ignored)
  mutex         acquire, release (Knossos's mutex; the key names the lock)

Semantics:
  - :fail did not happen, and is dropped (also a failed cas: it swapped nothing).
  - :info (or no completion) may take effect at any time after its call: it returns
    at infinity. An info read observed nothing and is dropped; an info cas either
    swapped or found another value and did nothing.
  - A read of nil is "absent" (never written, or deleted). With -initial V every
    register key starts at V instead, and an ok read of nil observed nothing and is
    dropped (Knossos's rule for (cas-register 0)).
  - A read returning several values (siblings) is never linearizable.

Budgets: the search counts model steps (-steps) and the bytes it keeps (-memory), so
the verdict is a function of the history and the flags. Running out of either is
unknown. -timeout is only an outer wall-clock safety net; when it fires the output
says the verdict depends on the machine.

Explanations: a sound pre-pass names stale and future reads on keys whose written
values are unique; the rest is searched. A witness is a smallest set of operations
that cannot be ordered (shrunk within -witness-steps).

Exit: 0 valid, 1 invalid, 2 unknown (a budget ran out), 3 crash (a panic or out of
memory: never 2), 64 usage.`

// checkIsolate runs the check in a child process, so that a crash that
// no recover can catch (the Go runtime's out-of-memory is fatal and exits
// with status 2, the code of "unknown") is reported as a crash (3).
var checkIsolate = true

// linearizable is checker.Linearizable; tests replace it to plant a crash.
var linearizable = checker.Linearizable

// checkChildEnv marks the child process; its value is ignored.
const checkChildEnv = "FAULTLINE_CHECK_CHILD"

// childExitBase offsets a child's own exit codes, so that any other exit
// status (a runtime fatal error, a signal) is recognisably a crash.
const childExitBase = 100

// checkChildCommand builds the child process's command.
var checkChildCommand = func(args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, append([]string{"check"}, args...)...), nil
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	if _, child := os.LookupEnv(checkChildEnv); child {
		return childExitBase + runCheckHere(args, stdout, stderr)
	}
	if !checkIsolate || wantsHelp(args) {
		return runCheckHere(args, stdout, stderr)
	}
	cmd, err := checkChildCommand(args)
	if err != nil {
		return runCheckHere(args, stdout, stderr) // no executable to re-run: check here
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, checkChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		fmt.Fprintf(stderr, "faultline check: could not start the check: %v\n", err)
		return exitCrash
	}
	switch code - childExitBase {
	case exitOK, exitCorrectness, exitLiveness, exitCrash, exitUsage:
		return code - childExitBase
	}
	status := "exit status " + strconv.Itoa(code)
	if code < 0 {
		status = exitErr.String()
	}
	fmt.Fprintf(stderr, "faultline check: the check crashed (%s): out of memory or a fatal runtime error. This is a crash, not an unknown verdict; lower -memory or check a shorter history\n", status)
	return exitCrash
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// byteSize is a flag value with an optional KiB/MiB/GiB (or KB/MB/GB) unit.
type byteSize int64

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	mult := int64(1)
	t := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a positive size such as 512MiB or 4GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// limitedReader fails once more than limit bytes were read.
type limitedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

var errTooLarge = errors.New("the history is larger than the memory budget allows")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func runCheckHere(args []string, stdout, stderr io.Writer) (code int) {
	fs := newFlags("check", checkSynopsis)
	model := fs.String("model", "", "the sequential model: "+checker.ModelNames+" (required)")
	initial := fs.String("initial", "", "every register key's initial value (Knossos's (cas-register 0)); an ok read of nil then observed nothing")
	steps := fs.Int64("steps", checker.DefaultSteps, "search budget in model steps, summed over keys; running out gives unknown (exit 2)")
	memory := byteSize(checker.DefaultMemoryBytes)
	fs.Var(&memory, "memory", "memory budget of the search (and the input may be at most half of it), e.g. 512MiB or 8GiB; running out gives unknown (exit 2)")
	witnessSteps := fs.Int("witness-steps", checker.DefaultWitnessSteps, "model steps for shrinking an invalid verdict's witness to a smallest set (checker.LinearOptions.WitnessSteps)")
	timeout := fs.Duration("timeout", 10*time.Minute, "outer wall-clock safety net (0: none); when it fires the verdict is unknown and depends on the machine")
	htmlOut := fs.String("html", "", "write porcupine's visualization (with the nemesis operations) to this file when the history is not linearizable")
	reportOut := fs.String("report", "", "write faultline's report page to this file: the processes' timeline (zoomable), nemesis operations shaded, latency and throughput, the verdict and its witness")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	pos, done, code := parseInterleaved(fs, args, stdout, stderr)
	if done {
		return code
	}
	initialSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "initial" {
			initialSet = true
		}
	})
	if len(pos) != 1 {
		if len(pos) == 0 {
			return usageError(stderr, fs, "name the history file to check, e.g. faultline check -model kv history.jsonl")
		}
		return usageError(stderr, fs, "one history file at a time (got %d: %q)", len(pos), pos)
	}
	if *model == "" {
		return usageError(stderr, fs, "-model is required: %s", checker.ModelNames)
	}
	m, err := checker.ParseModel(*model)
	if err != nil {
		return usageError(stderr, fs, "-model %q: want %s", *model, checker.ModelNames)
	}
	if *timeout < 0 {
		return usageError(stderr, fs, "-timeout %v: must be >= 0 (0 means no safety net)", *timeout)
	}
	if *steps <= 0 {
		return usageError(stderr, fs, "-steps %d: must be > 0", *steps)
	}
	if *witnessSteps <= 0 {
		return usageError(stderr, fs, "-witness-steps %d: must be > 0", *witnessSteps)
	}
	if initialSet && (m == checker.ModelSet || m == checker.ModelMutex) {
		return usageError(stderr, fs, "-initial %q: the %s model has no initial value (it applies to register, cas-register and kv)", *initial, m)
	}
	if initialSet && strings.TrimSpace(*initial) != *initial {
		return usageError(stderr, fs, "-initial %q: surrounding spaces would never match a value (write -initial %s)", *initial, strings.TrimSpace(*initial))
	}
	if initialSet && (*initial == "" || *initial == "nil") {
		return usageError(stderr, fs, "-initial %q: leave -initial out for a key that starts absent (nil)", *initial)
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "faultline check: crash (a bug in faultline, please report it): %v\n%s", r, debug.Stack())
			code = exitCrash
		}
	}()
	if _, child := os.LookupEnv(checkChildEnv); child {
		// A soft limit: the garbage collector works harder before the
		// process nears what the budget allows.
		debug.SetMemoryLimit(int64(memory)*2 + 512<<20)
	}

	path := pos[0]
	f, err := os.Open(path)
	if err != nil {
		return usageError(stderr, fs, "cannot read the history: %v", err)
	}
	start := time.Now()
	lr := &limitedReader{r: f, left: int64(memory) / 2, limit: int64(memory) / 2}
	// Read and pair in one pass: a JSON lines history's events are never
	// all held at once, only its operations.
	parsed, ops, events, err := history.ReadPaired(lr)
	f.Close()
	if errors.Is(err, errTooLarge) || (err != nil && strings.Contains(err.Error(), errTooLarge.Error())) {
		fmt.Fprintf(stdout, "%s: unknown (%s: more than %d bytes; raise -memory)\n", path, errTooLarge, lr.limit)
		return exitLiveness
	}
	var pairErr *history.PairError
	if errors.As(err, &pairErr) && events > 0 {
		return usageError(stderr, fs, "%s does not pair into operations: %v", path, pairErr.Err)
	}
	if err != nil {
		return usageError(stderr, fs, "%s is not a history faultline can read (JSON lines, Jepsen EDN or jepsen.log): %v", path, err)
	}
	if events == 0 {
		return usageError(stderr, fs, "%s holds no events", path)
	}
	var vis *deferredFile
	opts := checker.LinearOptions{
		Model: m, Initial: *initial, HasInitial: initialSet,
		Steps: *steps, MemoryBytes: int64(memory), WitnessSteps: *witnessSteps, Timeout: *timeout,
	}
	if *htmlOut != "" {
		vis = &deferredFile{path: *htmlOut}
		opts.Visualize = vis
		opts.Annotations = nemesisWindows(parsed.Nemesis)
	}
	res, err := linearizable(ops, opts)
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
		File: path, Format: parsed.Format, Order: parsed.Order, OrderReason: parsed.OrderReason,
		Independent: parsed.Independent, Model: string(m), Events: events, Nemesis: len(parsed.Nemesis),
		Ops: countOps(ops), Verdict: res.Verdict, Exhausted: res.Exhausted, Explanation: res.Explanation,
		Count: res.Count, Witness: res.Witness, WallNs: wall.Nanoseconds(),
	}
	if initialSet {
		out.Initial = initial
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "faultline check: writing JSON: %v\n", err)
			return exitCrash
		}
		return verdictExit(res.Verdict)
	}
	order := string(parsed.Order)
	if parsed.Order == history.OrderPosition {
		order += " (" + parsed.OrderReason + "; times shown are event positions)"
	}
	extra := ""
	if parsed.Independent {
		extra = ", independent [k v] keys"
	}
	fmt.Fprintf(stdout, "%s: %s (%d events, %s; model %s; %s%s, ordered by %s; %s)\n", path, res.Verdict, events,
		out.Ops, m, parsed.Format, extra, order, fmtDuration(wall))
	fmt.Fprintf(stdout, "  %s\n", res.Explanation)
	for _, w := range res.Witness {
		fmt.Fprintf(stdout, "  witness: %s\n", w)
	}
	if n := len(parsed.Nemesis); n > 0 {
		fmt.Fprintf(stdout, "  nemesis: %d operations, not judged (drawn with -html)\n", n)
	}
	if vis != nil && vis.written {
		fmt.Fprintf(stdout, "  visualization: %s\n", *htmlOut)
	}
	if *reportOut != "" {
		if err := writeCheckReport(*reportOut, path, m, events, ops, parsed.Nemesis, res, args); err != nil {
			fmt.Fprintf(stderr, "faultline check: -report: %v\n", err)
			return exitIOError
		}
		fmt.Fprintf(stdout, "  report: %s\n", *reportOut)
	}
	return verdictExit(res.Verdict)
}

// writeCheckReport writes the report page of a checked history
// atomically (a temporary file renamed into place).
func writeCheckReport(out, path string, m checker.Model, events int, ops []history.Op, ns []history.NemesisEvent, res checker.Result, args []string) error {
	var wins []nemesis.Window
	for _, a := range nemesisWindows(ns) {
		wins = append(wins, nemesis.Window{Start: a.Start, End: a.End, Family: nemesis.Family(255), Label: a.Label})
	}
	var page bytes.Buffer
	h := report.History{Name: path, Model: string(m), Command: "faultline check " + strings.Join(args, " "), Events: events,
		Ops: ops, Windows: wins, Verdicts: []report.Verdict{{Result: res, AsExpected: res.Verdict == checker.Valid}}}
	if err := report.HistoryHTML(&page, h); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(page.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// nemesisWindows turns nemesis operations into visualization windows: a
// :start... operation opens a window that the next :stop... with the same
// suffix closes (at the end of the history if none does); any other
// operation is a window of its own event.
func nemesisWindows(ns []history.NemesisEvent) []checker.Annotation {
	var out []checker.Annotation
	open := map[string]int{} // suffix -> index into out; looked up, never iterated
	var openOrder []string
	for _, n := range ns {
		label := n.F
		if n.Value != "" {
			label += " " + n.Value
		}
		switch {
		case strings.HasPrefix(n.F, "start"):
			suffix := strings.TrimPrefix(n.F, "start")
			if _, ok := open[suffix]; ok {
				continue // the completion of the same start
			}
			open[suffix] = len(out)
			openOrder = append(openOrder, suffix)
			out = append(out, checker.Annotation{Start: n.Time, End: sim.Never, Label: label})
		case strings.HasPrefix(n.F, "stop"):
			suffix := strings.TrimPrefix(n.F, "stop")
			if i, ok := open[suffix]; ok {
				out[i].End = n.Time
				delete(open, suffix)
				continue
			}
			out = append(out, checker.Annotation{Start: n.Time, End: n.Time, Label: label})
		default:
			out = append(out, checker.Annotation{Start: n.Time, End: n.Time, Label: label})
		}
	}
	// Windows still open end with the last nemesis or client time seen.
	var last sim.Time
	for _, n := range ns {
		last = max(last, n.Time)
	}
	for _, suffix := range openOrder {
		if i, ok := open[suffix]; ok && out[i].End == sim.Never {
			out[i].End = max(last, out[i].Start)
		}
	}
	return out
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
