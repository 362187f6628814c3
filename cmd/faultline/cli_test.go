package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
)

// small keeps the runs of these tests short: a few hundred operations.
var small = []string{"-ops", "300"}

// withSmall returns args (a command and its flags) with small appended.
func withSmall(args ...string) []string { return with(args, small...) }

func with(args []string, extra ...string) []string {
	return append(append([]string(nil), args...), extra...)
}

// jsonLines decodes every stdout line as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		objs = append(objs, m)
	}
	return objs
}

func TestNoArgumentsRunsTheSuite(t *testing.T) {
	saved := defaultCommand
	defer func() { defaultCommand = saved }()
	var got []string
	called := false
	defaultCommand = func(args []string, stdout, stderr io.Writer) int {
		called, got = true, args
		fmt.Fprintln(stdout, "suite ran")
		return 7
	}
	code, out, errOut := runArgs()
	assert.True(t, called)
	assert.Empty(t, got)
	assert.Equal(t, 7, code, "the suite's exit code is faultline's")
	assert.Equal(t, "suite ran\n", out)
	assert.Empty(t, errOut)
}

// TestRunHelpNamesEveryFaultFamily: run -h lists every family -nemesis
// takes, from the nemesis package itself.
func TestRunHelpNamesEveryFaultFamily(t *testing.T) {
	_, out, errOut := runArgs("run", "-h")
	help := out + errOut
	i := strings.Index(help, "-nemesis")
	require.GreaterOrEqual(t, i, 0, "run -h describes -nemesis")
	line := help[i:]
	line = line[:strings.Index(line, "(default")]
	for _, f := range nemesis.Families() {
		assert.Contains(t, line, " "+f.String(), "run -h's -nemesis help names %s", f)
	}
}

// TestUsageErrors: every bad flag or file gets exit 64, nothing on
// stdout, and exactly one line on stderr that names what to change.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notHistory := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notHistory, []byte("hello\n"), 0o644))
	unpaired := filepath.Join(dir, "unpaired.jsonl")
	require.NoError(t, os.WriteFile(unpaired, []byte(`{"index":0,"type":"ok","client":0,"kind":"read","key":"k","time":5,"node":0}`+"\n"), 0o644))
	empty := filepath.Join(dir, "empty.edn")
	require.NoError(t, os.WriteFile(empty, []byte("; nothing\n"), 0o644))
	aFile := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(aFile, nil, 0o644))

	cases := []struct {
		args []string
		want string // a fragment of the one line
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"run", "-clients", "60", "-seed", "1"}, "60 clients need at least 6 keys"},
		{[]string{"replay", "-scenario", "strict-quorum", "-seed", "1", "-node", "n99"}, "-node n99: this run's nodes are n0..n4"},
		{[]string{"run", "-w", "4"}, "W=4 exceeds N=3: lower -w or raise -n"},
		{[]string{"run", "-r", "5", "-n", "3"}, "R=5 exceeds N=3"},
		{[]string{"run", "-n", "7"}, "N=7 exceeds the 5 nodes"},
		{[]string{"run", "-scenario", "strict-quorum", "-w", "4"}, "W=4 exceeds N=3"},
		{[]string{"run", "-scenario", "no-such-thing"}, `unknown scenario "no-such-thing" (faultline list shows them all)`},
		{[]string{"run", "-skew", "5 parsecs"}, `invalid value "5 parsecs" for flag -skew`},
		{[]string{"run", "-skew", "-1s"}, "-skew -1s: must be > 0"},
		{[]string{"run", "-horizon", "soon"}, `invalid value "soon" for flag -horizon`},
		{[]string{"run", "-anti-entropy", "often"}, `-anti-entropy "often": want off or a positive duration`},
		{[]string{"run", "-quorum", "loose"}, `-quorum "loose": want strict or sloppy`},
		{[]string{"run", "-resolve", "random"}, `-resolve "random": want lww or vclock`},
		{[]string{"run", "-read-repair", "sometimes"}, `-read-repair "sometimes": want off, async or blocking`},
		{[]string{"run", "-membership", "telepathy"}, `-membership "telepathy": want oracle or gossip`},
		{[]string{"run", "-nemesis", "partition,meteor"}, `-nemesis "partition,meteor"`},
		{[]string{"run", "-nemesis", "none", "-skew", "1s"}, "-skew with -nemesis none"},
		{[]string{"run", "-workload", "queue"}, `-workload "queue": want register, set or kv`},
		{[]string{"run", "-nodes", "0"}, "-nodes 0: want 1..64 nodes"},
		{[]string{"run", "-clients", "-3"}, "-clients -3"},
		{[]string{"run", "-ops", "0"}, "-ops 0"},
		{[]string{"run", "-seed", "x"}, `-seed "x": want a non-negative integer`},
		{[]string{"run", "-seeds", "9-3"}, `-seeds "9-3": the range is empty`},
		{[]string{"run", "-seeds", "a-b"}, `-seeds "a-b": want a range A-B`},
		{[]string{"run", "-seed", "1", "-seeds", "1-2"}, "give -seed or -seeds, not both"},
		{[]string{"run", "-out-all"}, "-out-all needs -out DIR"},
		{[]string{"run", "-parallel", "0"}, "-parallel 0: must be >= 1"},
		{[]string{"run", "-out", filepath.Join(aFile, "sub")}, "cannot create the directory"},
		{[]string{"run", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "stray"}, `unexpected argument "stray"`},
		{[]string{"run", "-max-events", "0"}, "-max-events 0"},
		{[]string{"replay", "-scenario", "strict-quorum"}, "name the seed to replay with -seed S"},
		{[]string{"replay", "-seed", "1", "-node", "seven"}, `-node "seven": want a node id such as n2`},
		{[]string{"replay", "-seed", "1", "-from", "2s", "-to", "1s"}, "-to 1s is before -from 2s"},
		{[]string{"replay", "-seed", "1", "-from", "later"}, `invalid value "later" for flag -from`},
		{[]string{"replay", "-scenario", "nope", "-seed", "1"}, `unknown scenario "nope"`},
		{[]string{"swarm", "-seeds", "0"}, "-seeds 0: want 1.."},
		{[]string{"swarm", "-scenario", "nope"}, `unknown scenario "nope"`},
		{[]string{"swarm", "-w", "9"}, "W=9 exceeds N=3"},
		{[]string{"suite", "-scenario", "strict-quorum,nope"}, `unknown scenario "nope"`},
		{[]string{"suite", "-seeds", "-1"}, "-seeds -1"},
		{[]string{"list", "extra"}, `unexpected argument "extra"`},
		{[]string{"check", "-model", "kv"}, "name the history file to check"},
		{[]string{"check", "-model", "kv", filepath.Join(dir, "missing.jsonl")}, "cannot read the history"},
		{[]string{"check", filepath.Join(dir, "x")}, "-model is required: kv, register or cas-register"},
		{[]string{"check", "-model", "graph", notHistory}, `-model "graph": want kv, register or cas-register`},
		{[]string{"check", "-model", "kv", notHistory}, "is not a history faultline can read"},
		{[]string{"check", "-model", "kv", unpaired}, "does not pair into operations"},
		{[]string{"check", "-model", "kv", empty}, "holds no events"},
		{[]string{"check", "-model", "register", "../../checker/testdata/jepsen-cas-register-valid.edn"}, "the register model does not accept cas operations"},
		{[]string{"check", "-model", "kv", "-timeout", "fast", notHistory}, `invalid value "fast" for flag -timeout`},
		{[]string{"check", "-model", "kv", notHistory, unpaired}, "one history file at a time"},
	}
	for _, c := range cases {
		code, out, errOut := runArgs(c.args...)
		assert.Equal(t, exitUsage, code, "%q: %s", c.args, errOut)
		assert.Empty(t, out, "%q", c.args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line for %q: %q", c.args, errOut)
		assert.Contains(t, errOut, c.want, "%q", c.args)
		assert.NotContains(t, errOut, "goroutine", "%q", c.args)
		assert.NotContains(t, errOut, "panic", "%q", c.args)
	}
}

func TestListNamesEveryScenario(t *testing.T) {
	code, out, errOut := runArgs("list")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	names := scenarios.Names()
	require.Len(t, lines, len(names))
	for i, n := range names {
		assert.True(t, strings.HasPrefix(lines[i], n+" "), "line %d %q starts with %q", i, lines[i], n)
		assert.Regexp(t, `\[.+\]$`, lines[i], "ends with the expected verdicts")
	}
	strict := lines[indexOf(names, "strict-quorum")]
	assert.Contains(t, strict, "linearizable=valid")

	code, out, _ = runArgs("list", "-json")
	require.Equal(t, 0, code)
	objs := jsonLines(t, out)
	require.Len(t, objs, len(names))
	assert.Equal(t, "strict-quorum", objs[indexOf(names, "strict-quorum")]["name"])
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

func TestRunScenarioSeed(t *testing.T) {
	code, out, errOut := runArgs(withSmall("run", "-scenario", "strict-quorum", "-seed", "2")...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	assert.Regexp(t, `(?m)^strict-quorum seed 2: ok  linearizable=valid lost-writes=valid durability=valid convergence=valid  \(ops \d+ ok`, out)
	assert.Contains(t, out, "strict-quorum: 1 seed, as expected (0 failing seeds)")
	assert.Empty(t, errOut, "no progress line for a single seed")
}

// TestRunJSON checks every field the -json contract promises, for each
// seed and in the summary.
func TestRunJSON(t *testing.T) {
	code, out, _ := runArgs("run", "-scenario", "weak-quorum", "-seeds", "1-3", "-ops", "400", "-json")
	objs := jsonLines(t, out)
	require.Len(t, objs, 4)
	for _, o := range objs[:3] {
		for _, f := range []string{"scenario", "seed", "config", "verdicts", "expected", "ops", "lost_writes",
			"divergent_keys", "trace_hash", "sim_ns", "wall_ns", "events", "messages", "bytes", "repro", "class"} {
			assert.Contains(t, o, f)
		}
		assert.Equal(t, "weak-quorum", o["scenario"])
		verdicts := o["verdicts"].(map[string]any)
		assert.Contains(t, []any{"valid", "invalid", "unknown"}, verdicts["linearizable"])
		assert.Equal(t, "found-invalid", o["expected"].(map[string]any)["linearizable"])
		ops := o["ops"].(map[string]any)
		for _, f := range []string{"ok", "fail", "info"} {
			assert.Contains(t, ops, f)
		}
		cfg := o["config"].(map[string]any)
		assert.EqualValues(t, 1, cfg["w"])
		assert.EqualValues(t, 1, cfg["r"])
		assert.Equal(t, "off", cfg["read_repair"])
		assert.Regexp(t, `^[0-9a-f]{16}$`, o["trace_hash"])
		assert.Equal(t, fmt.Sprintf("go run ./cmd/faultline run -scenario weak-quorum -ops 400 -seed %v", o["seed"]), o["repro"])
	}
	sum := objs[3]
	assert.Equal(t, true, sum["summary"])
	assert.EqualValues(t, 3, sum["seeds"])
	assert.EqualValues(t, code, sum["exit"])
	if sum["class"] == "ok" {
		assert.Equal(t, exitOK, code)
	}
}

// TestAdHocInvalidWritesFiles: an ad-hoc run with W=R=1 is not
// linearizable (exit 1), and -out leaves the history, schedule, porcupine's
// page and the report; the history re-checks as invalid with `check`.
func TestAdHocInvalidWritesFiles(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "-w", "1", "-r", "1", "-read-repair", "off", "-nemesis", "partition", "-ops", "600", "-seed", "3", "-out", dir}
	code, out, errOut := runArgs(args...)
	require.Equal(t, exitCorrectness, code, "%s%s", out, errOut)
	assert.Contains(t, out, "ad-hoc seed 3: correctness")
	assert.Contains(t, out, "invalid: linearizable: not linearizable")
	assert.Contains(t, out, "replay: go run ./cmd/faultline run -w 1 -r 1 -read-repair off -nemesis partition -ops 600 -seed 3")
	seedDir := onlyDir(t, filepath.Join(dir, "ad-hoc", "cfg-*", "seed-3"))
	assert.Contains(t, out, "report: "+filepath.Join(seedDir, "report.html"))
	for _, f := range []string{"history.jsonl", "schedule.txt", "linearizability.html", "report.html"} {
		st, err := os.Stat(filepath.Join(seedDir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}

	page, err := os.ReadFile(filepath.Join(seedDir, "report.html"))
	require.NoError(t, err)
	html := string(page)
	assert.Contains(t, html, `<svg class="chart" id="timeline"`)
	assert.Contains(t, html, `id="latency"`)
	assert.Contains(t, html, `class="wbox"`, "the witness is marked on the timeline")
	assert.Contains(t, html, `href="linearizability.html"`)
	// Self-contained: nothing is fetched (the SVG namespace is a name, not a fetch).
	external := regexp.MustCompile(`(src|href)\s*=\s*"(https?:)?//`)
	assert.False(t, external.MatchString(html), "no external resources")
	assert.NotContains(t, html, "@import")

	sched, err := os.ReadFile(filepath.Join(seedDir, "schedule.txt"))
	require.NoError(t, err)
	parsed, err := nemesis.Parse(string(sched))
	require.NoError(t, err)
	assert.NotEmpty(t, parsed)

	f, err := os.Open(filepath.Join(seedDir, "history.jsonl"))
	require.NoError(t, err)
	events, err := history.ReadJSONL(f)
	f.Close()
	require.NoError(t, err)
	assert.NotEmpty(t, events)

	code, out, errOut = runArgs("check", "-model", "kv", filepath.Join(seedDir, "history.jsonl"))
	assert.Equal(t, exitCorrectness, code, errOut)
	assert.Contains(t, out, ": invalid (")
}

func TestOutAllWritesPassingSeeds(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runArgs(withSmall("run", "-scenario", "strict-quorum", "-seed", "1", "-out", dir)...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a passing seed leaves no files without -out-all")

	code, _, errOut = runArgs(withSmall("run", "-scenario", "strict-quorum", "-seed", "1", "-out", dir, "-out-all")...)
	require.Equal(t, exitOK, code, errOut)
	seedDir := onlyDir(t, filepath.Join(dir, "strict-quorum", "cfg-*", "seed-1"))
	for _, f := range []string{"history.jsonl", "schedule.txt", "report.html"} {
		assert.FileExists(t, filepath.Join(seedDir, f))
	}
	assert.NoFileExists(t, filepath.Join(seedDir, "linearizability.html"), "porcupine's page only when invalid")
}

// onlyDir returns the one path matching pattern.
func onlyDir(t *testing.T, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.Len(t, m, 1, "exactly one directory matches %s", pattern)
	return m[0]
}

func TestLivenessExit2(t *testing.T) {
	code, out, errOut := runArgs("run", "-max-events", "2000", "-seed", "4")
	require.Equal(t, exitLiveness, code, "%s%s", out, errOut)
	assert.Contains(t, out, "ad-hoc seed 4: liveness")
	assert.Contains(t, out, "seed 4")
	assert.Contains(t, out, "replay: go run ./cmd/faultline run -max-events 2000 -seed 4")
}

// TestCrashExit3 runs a spec whose check panics: the panic is recovered,
// the seed is named, and the exit code is 3.
func TestCrashExit3(t *testing.T) {
	spec := scenarios.Spec{
		Name: "boom", Description: "a check that panics", Base: scenarios.DefaultConfig(), Seeds: 1,
		Checks: []scenarios.Check{{Name: "boom", Description: "panics", Judge: func(scenarios.Config, *cluster.Result) (checker.Result, error) {
			panic("kaboom")
		}}},
	}
	spec.Base.WorkloadConfig.Ops = 50
	k := addKnobs(newFlags("x", ""))
	require.NoError(t, k.validate())
	tg := &target{spec: spec, knobs: k, named: "boom"}
	dir := t.TempDir()
	results := runJobs(tg.jobs([]uint64{9}), execOpts{parallel: 1, outDir: dir})
	require.Len(t, results, 1)
	assert.Equal(t, scenarios.ClassCrash, results[0].out.Class)
	assert.Contains(t, results[0].out.Failure, "seed 9")
	assert.Contains(t, results[0].out.Failure, "kaboom")
	stack, err := os.ReadFile(filepath.Join(dir, "boom", "seed-9", "panic.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(stack), "kaboom")
	assert.Contains(t, string(stack), "goroutine", "the stack is kept for the developer")
	assert.Contains(t, toSeedJSON(&results[0]).Panic, "goroutine", "-json carries the stack")

	var out, errOut bytes.Buffer
	for _, r := range results {
		printSeed(&out, &r)
	}
	code := finishRun(&out, &errOut, []*target{tg}, [][]seedResult{results}, runInfo{}, nil, true, 0)
	assert.Equal(t, exitCrash, code)
	assert.Contains(t, out.String(), "boom seed 9: crash")
	assert.Contains(t, out.String(), "replay: go run ./cmd/faultline run -scenario boom -seed 9")
}

func TestClassExit(t *testing.T) {
	assert.Equal(t, 0, classExit(scenarios.ClassOK))
	assert.Equal(t, 1, classExit(scenarios.ClassCorrectness))
	assert.Equal(t, 2, classExit(scenarios.ClassLiveness))
	assert.Equal(t, 3, classExit(scenarios.ClassCrash))
}

// TestParallelDoesNotChangeResults: the same seeds on one goroutine or
// three give the same per-seed output (bar wall times), in seed order.
func TestParallelDoesNotChangeResults(t *testing.T) {
	strip := func(out string) []string {
		var lines []string
		for _, o := range jsonLines(t, out) {
			delete(o, "wall_ns")
			b, err := json.Marshal(o)
			require.NoError(t, err)
			lines = append(lines, string(b))
		}
		return lines
	}
	args := withSmall("run", "-scenario", "strict-quorum-skew", "-seeds", "1-4", "-json")
	code1, out1, _ := runArgs(with(args, "-parallel", "1")...)
	code3, out3, _ := runArgs(with(args, "-parallel", "3")...)
	assert.Equal(t, code1, code3)
	assert.Equal(t, strip(out1), strip(out3))
}

func TestKnobsOverrideScenario(t *testing.T) {
	code, out, _ := runArgs(withSmall("run", "-scenario", "strict-quorum", "-seed", "1", "-w", "1", "-r", "1",
		"-read-repair", "off", "-hinted-handoff=false", "-nemesis", "partition,pause", "-json")...)
	objs := jsonLines(t, out)
	require.Len(t, objs, 2)
	cfg := objs[0]["config"].(map[string]any)
	assert.EqualValues(t, 1, cfg["w"])
	assert.EqualValues(t, 1, cfg["r"])
	assert.Equal(t, false, cfg["hinted_handoff"])
	assert.EqualValues(t, 300, cfg["ops"])
	assert.Equal(t, "go run ./cmd/faultline run -scenario strict-quorum -w 1 -r 1 -read-repair off -hinted-handoff=false -nemesis partition,pause -ops 300 -seed 1",
		objs[0]["repro"])
	// strict-quorum expects linearizability; W=R=1 without repair breaks it.
	assert.Equal(t, "invalid", objs[0]["verdicts"].(map[string]any)["linearizable"])
	assert.Equal(t, exitCorrectness, code)
	assert.Equal(t, "correctness", objs[1]["class"])

	code, out, errOut := runArgs(withSmall("run", "-scenario", "strict-quorum", "-seed", "1", "-nemesis", "none", "-json")...)
	require.Equal(t, exitOK, code, errOut)
	assert.EqualValues(t, 0, jsonLines(t, out)[0]["faults"], "-nemesis none drops every fault")
}

// TestRunSeedsAppliesTheSuiteRule: over a range of seeds, a found-invalid
// expectation that no seed meets fails the run, though every seed on its
// own is fine.
func TestRunSeedsAppliesTheSuiteRule(t *testing.T) {
	fixed := withSmall("run", "-scenario", "weak-quorum", "-nemesis", "none", "-w", "2", "-r", "2", "-read-repair", "blocking")
	code, out, _ := runArgs(with(fixed, "-seeds", "1-2")...)
	assert.Equal(t, exitCorrectness, code, out)
	assert.Contains(t, out, "linearizable: expected found-invalid, got valid over 2 seeds: NOT MET")
	assert.Contains(t, out, "none of 2 seeds (1-2) was invalid")

	code, out, _ = runArgs(with(fixed, "-seed", "1")...)
	assert.Equal(t, exitOK, code, "one seed that is valid is compatible with found-invalid: %s", out)
}

// TestAntiEntropyKnob: -anti-entropy reaches the nodes: the divergence
// scenario (anti-entropy, hinted handoff and read repair off) leaves far
// fewer divergent keys with Merkle exchanges every 20 ms.
func TestAntiEntropyKnob(t *testing.T) {
	divergent := func(ae string) (float64, map[string]any) {
		_, out, errOut := runArgs("run", "-scenario", "divergence", "-seed", "1", "-anti-entropy", ae, "-json")
		objs := jsonLines(t, out)
		require.Len(t, objs, 2, errOut)
		return objs[0]["divergent_keys"].(float64), objs[0]["config"].(map[string]any)
	}
	off, cfgOff := divergent("off")
	on, cfgOn := divergent("20ms")
	assert.Equal(t, "off", cfgOff["anti_entropy"])
	assert.Equal(t, "20ms", cfgOn["anti_entropy"])
	assert.Greater(t, off, 10.0, "without anti-entropy many keys stay divergent")
	assert.Less(t, on, off/10, "with it, few do")
}

func TestReplay(t *testing.T) {
	code, out, errOut := runArgs(withSmall("replay", "-scenario", "weak-quorum", "-seed", "3")...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	assert.Contains(t, out, "replay weak-quorum seed 3: 5 nodes N=3 W=1 R=1")
	assert.Regexp(t, `(?m)^ +TIME NODE EVENT$`, out)
	assert.Regexp(t, `(?m)^ +\d+\.\d{3}ms n\d +#\d+ c\d+ invoke (read|write) "k\d"`, out)
	assert.Regexp(t, `(?m)^ +\d+\.\d{3}ms - +nemesis partition-`, out)
	assert.Contains(t, out, "--- settle:")
	assert.Contains(t, out, "(final read)")
	assert.Regexp(t, `(?m)^linearizable: (valid|invalid) \(expected found-invalid\): `, out)
	assert.Contains(t, out, "replay: go run ./cmd/faultline run -scenario weak-quorum -ops 300 -seed 3")

	code, out, errOut = runArgs(withSmall("replay", "-scenario", "weak-quorum", "-seed", "3", "-trace", "-node", "n1", "-from", "10ms", "-to", "20ms")...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	line := regexp.MustCompile(`^ +(\d+\.\d{3})ms (\S+) +(.*)$`)
	n := 0
	for _, l := range strings.Split(out, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n++
		assert.Equal(t, "n1", m[2], l)
		assert.GreaterOrEqual(t, m[1], "10.000", l)
		assert.LessOrEqual(t, len(m[1]), len("20.000"), l)
	}
	assert.Greater(t, n, 10, "the trace shows n1's messages and client events")
	assert.Contains(t, out, "recv ")
	assert.Contains(t, out, "send ")
	assert.NotContains(t, out, "nondeterminism")
	assert.NotContains(t, out, "linearizable:", "a filtered view prints only what was asked")
}

// TestReplayFollowsAKeyAndAnOperation: -key keeps only the lines about one
// key (and the faults); -op follows one client operation from its
// invocation through its coordinator's fan-out and the replicas' replies
// to its completion; drops name their cause.
func TestReplayFollowsAKeyAndAnOperation(t *testing.T) {
	code, out, errOut := runArgs(withSmall("replay", "-scenario", "weak-quorum", "-seed", "3", "-trace", "-key", "k1")...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	line := regexp.MustCompile(`^ +\d+\.\d{3}ms (\S+) +(.*)$`)
	sends, clients := 0, 0
	for _, l := range strings.Split(out, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ev := m[2]
		switch {
		case strings.HasPrefix(ev, "send ") || strings.HasPrefix(ev, "recv ") || strings.HasPrefix(ev, "drop ") || strings.HasPrefix(ev, "dup "):
			sends++
			assert.Contains(t, ev, `key="k1"`, l)
		case strings.HasPrefix(ev, "#"):
			clients++
			assert.Contains(t, ev, `"k1"`, l)
		}
	}
	assert.Greater(t, sends, 20)
	assert.Greater(t, clients, 5)
	assert.Regexp(t, `(?m)versions=\["c\d+-\d+"@n\d:`, out, "messages show values and versions")
	assert.Contains(t, out, "cut link", "faults stay as context")
	_, all, _ := runArgs("replay", "-scenario", "weak-quorum", "-seed", "3", "-trace", "-ops", "2000")
	assert.Regexp(t, `(?m)drop \((partition|loss|down|capacity)\) (read|write|read-reply|write-ack) from n\d`, all, "drops say why")

	// Follow the first write of the run.
	m := regexp.MustCompile(`(?m)#(\d+) c\d+ invoke write "k1"`).FindStringSubmatch(out)
	require.NotNil(t, m)
	code, out, errOut = runArgs(withSmall("replay", "-scenario", "weak-quorum", "-seed", "3", "-op", m[1])...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	assert.Regexp(t, `(?m)#`+m[1]+` c\d+ invoke write "k1"`, out)
	assert.Regexp(t, `(?m)#`+m[1]+` c\d+ (ok|info|fail) write "k1"`, out, "the completion")
	assert.Regexp(t, `(?m)send write to n\d key="k1"`, out, "the coordinator's fan-out")
	assert.Regexp(t, `(?m)(recv|send) write-ack`, out, "the replicas' acknowledgements")
	assert.NotRegexp(t, `(?m)invoke (read|write) "k[02-9]"`, out, "no other operation")

	code, _, errOut = runArgs(withSmall("replay", "-scenario", "weak-quorum", "-seed", "3", "-op", "99999")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-op 99999")
}

func TestSwarm(t *testing.T) {
	code, out, errOut := runArgs(withSmall("swarm", "-seeds", "4", "-parallel", "2")...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	assert.Contains(t, out, "swarm: 4 seeds (1-4) on 2 goroutines")
	assert.Contains(t, out, "as expected (0 failing seeds)")
	assert.Contains(t, errOut, "[4/4]", "progress on stderr")

	code, out, _ = runArgs(withSmall("swarm", "-seeds", "3", "-w", "1", "-r", "1", "-read-repair", "off")...)
	assert.Equal(t, exitCorrectness, code)
	assert.Regexp(t, `(?m)^  linearizable: expected always-valid, got invalid$`, out)
	assert.Regexp(t, `(?m)^  replay: go run \./cmd/faultline run -scenario swarm -w 1 -r 1 -read-repair off -ops 300 -seed \d$`, out)
}

func TestSuiteSubset(t *testing.T) {
	code, out, errOut := runArgs("suite", "-scenario", "strict-quorum,weak-quorum", "-seeds", "2", "-parallel", "2")
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	lines := strings.Split(out, "\n")
	assert.Regexp(t, `^SCENARIO +CHECKER +EXPECTED +GOT +SEEDS +TIME +RESULT$`, lines[0])
	assert.Regexp(t, `(?m)^strict-quorum +linearizable +valid +valid +2 +\S+ +ok$`, out)
	assert.Regexp(t, `(?m)^weak-quorum +linearizable +found-invalid +invalid( \d/\d)? +2 +\S+ +ok$`, out)
	assert.Contains(t, out, "2 scenarios, 4 seeds, every verdict as expected")
	assert.Contains(t, errOut, "[4/4]")

	// Columns line up: every row's GOT column starts where the header's does.
	col := strings.Index(lines[0], "GOT")
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		assert.NotEqual(t, ' ', rune(l[col]), "row %q", l)
		assert.Equal(t, ' ', rune(l[col-1]), "row %q", l)
	}

	code, out, _ = runArgs("suite", "-scenario", "strict-quorum", "-seeds", "1", "-json")
	require.Equal(t, exitOK, code)
	objs := jsonLines(t, out)
	require.Len(t, objs, 2)
	assert.Equal(t, true, objs[1]["summary"])
	assert.Len(t, objs[1]["suites"], 1)
}

func TestCheck(t *testing.T) {
	valid := "../../checker/testdata/jepsen-cas-register-valid.edn"
	invalid := "../../checker/testdata/jepsen-cas-register-invalid.edn"
	code, out, errOut := runArgs("check", "-model", "cas-register", valid)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "jepsen-cas-register-valid.edn: valid (22 events")

	dir := t.TempDir()
	vis := filepath.Join(dir, "vis.html")
	code, out, _ = runArgs("check", "-model", "cas-register", "-html", vis, invalid)
	assert.Equal(t, exitCorrectness, code)
	assert.Contains(t, out, ": invalid (")
	assert.Contains(t, out, `witness: key "r1"`)
	assert.FileExists(t, vis)

	page := filepath.Join(dir, "report.html")
	code, out, _ = runArgs("check", "-model", "cas-register", "-report", page, invalid)
	assert.Equal(t, exitCorrectness, code)
	assert.Contains(t, out, "report: "+page)
	body, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(body), "jepsen-cas-register-invalid.edn", "the page names the history")
	assert.Contains(t, string(body), `class="wmark"`, "and marks the witness")
	assert.Contains(t, string(body), "re-check", "and says how to check it again")
	code, _, errOut = runArgs("check", "-model", "cas-register", "-report", filepath.Join(dir, "no", "such", "dir.html"), invalid)
	assert.Equal(t, exitIOError, code, "a report that cannot be written is an I/O error")
	assert.Contains(t, errOut, "-report")

	noVis := filepath.Join(dir, "none.html")
	code, _, _ = runArgs("check", valid, "-model", "cas-register", "-html", noVis)
	assert.Equal(t, exitOK, code, "flags after the file work too")
	assert.NoFileExists(t, noVis, "a valid history leaves no visualization")

	code, out, _ = runArgs("check", "-model", "kv", "-timeout", "1ns", valid)
	assert.Equal(t, exitLiveness, code, "unknown: the budget ran out")
	assert.Contains(t, out, ": unknown (")

	code, out, _ = runArgs("check", "-model", "cas-register", "-json", invalid)
	assert.Equal(t, exitCorrectness, code)
	objs := jsonLines(t, out)
	require.Len(t, objs, 1)
	assert.Equal(t, "invalid", objs[0]["verdict"])
	assert.EqualValues(t, 1, objs[0]["count"])
	assert.NotEmpty(t, objs[0]["witness"])
}

func TestParseSeeds(t *testing.T) {
	s, err := parseSeeds("", "")
	require.NoError(t, err)
	assert.Nil(t, s)
	s, err = parseSeeds("7", "")
	require.NoError(t, err)
	assert.Equal(t, []uint64{7}, s)
	s, err = parseSeeds("", "3-5")
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4, 5}, s)
	s, err = parseSeeds("", "18446744073709551615")
	require.NoError(t, err)
	assert.Equal(t, []uint64{18446744073709551615}, s, "the top seed does not wrap")
	_, err = parseSeeds("", "1-2000000")
	assert.ErrorContains(t, err, "at most")
}

func TestShellQuote(t *testing.T) {
	assert.Equal(t, "partition,crash", shellQuote("partition,crash"))
	assert.Equal(t, "100ms", shellQuote("100ms"))
	assert.Equal(t, "'a b'", shellQuote("a b"))
	assert.Equal(t, `'it'\''s'`, shellQuote("it's"))
	assert.Equal(t, "''", shellQuote(""))
}

// TestAdHocUnknownIsNotAPass: a checker whose budget ran out makes an ad-hoc
// run a liveness failure (exit 2), never an "as expected" exit 0.
func TestAdHocUnknownIsNotAPass(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"run", "-linear-timeout", "1ns", "-nemesis", "partition", "-seed", "3"}, &out, &errb)
	require.Equal(t, 2, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
	require.Contains(t, out.String(), "unknown")

	// A checker with nothing to judge (durability without a crash) is not a
	// budget running out: the ad-hoc run passes.
	out.Reset()
	errb.Reset()
	require.Equal(t, 0, run([]string{"run", "-seed", "1", "-nemesis", "partition", "-ops", "300"}, &out, &errb), "%s%s", out.String(), errb.String())
	require.Contains(t, out.String(), "durability=unknown")

	// A swarm seed whose drawn configuration cannot run is a usage error too.
	out.Reset()
	errb.Reset()
	require.Equal(t, 64, run([]string{"swarm", "-seeds", "1", "-clients", "60"}, &out, &errb))
	require.Contains(t, errb.String(), "clients need at least")
}
