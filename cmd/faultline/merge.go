package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/scenarios"
)

// mergeLine is one line of a shard's -json output: a seed or a summary (the
// fields of both, as seedJSON and summaryJSON write them).
type mergeLine struct {
	stamp
	Summary bool `json:"summary"`

	Scenario string            `json:"scenario"`
	Seed     uint64            `json:"seed"`
	Class    string            `json:"class"`
	Failure  string            `json:"failure"`
	Verdicts map[string]string `json:"verdicts"`
	Expected map[string]string `json:"expected"`
	Idle     map[string]bool   `json:"idle"`
	// Marks are the scenario's mechanism counts in this seed.
	Marks     []scenarios.MarkCount `json:"marks"`
	TraceHash string                `json:"trace_hash"`
	SimNs     int64                 `json:"sim_ns"`
	Events    uint64                `json:"events"`
	Repro     string                `json:"repro"`
	Corpus    bool                  `json:"corpus"`

	Scenarios   []string       `json:"scenarios"`
	Seeds       int            `json:"seeds"`
	WallNs      int64          `json:"wall_ns"`
	Range       *seedRangeJSON `json:"range"`
	Suite       bool           `json:"suite"`
	Interrupted bool           `json:"interrupted"`
	WriteErrors []string       `json:"write_errors"`

	src string // FILE:LINE, for messages
}

// mergedSeed is one failing seed of a merge.
type mergedSeed struct {
	Scenario  string `json:"scenario"`
	Seed      uint64 `json:"seed"`
	Class     string `json:"class"`
	Failure   string `json:"failure,omitempty"`
	SimNs     int64  `json:"sim_ns"`
	Events    uint64 `json:"events"`
	TraceHash string `json:"trace_hash"`
	Repro     string `json:"repro"`
}

// mergeJSON is merge's -json output: one object.
type mergeJSON struct {
	Merged     bool           `json:"merged"`
	Build      string         `json:"build"`
	ConfigHash string         `json:"config_hash"`
	Scenario   string         `json:"scenario"`
	Shards     int            `json:"shards"`
	Range      *seedRangeJSON `json:"range,omitempty"`
	Seeds      int            `json:"seeds"`
	// Duplicates counts seed lines seen more than once (a retried shard,
	// a file given twice), each with the same trace hash.
	Duplicates int                      `json:"duplicates"`
	Classes    map[string]int           `json:"classes"`
	Class      string                   `json:"class"`
	Exit       int                      `json:"exit"`
	Checks     []scenarios.CheckSummary `json:"checks,omitempty"`
	Failures   []string                 `json:"failures,omitempty"`
	// Failing lists the failing seeds grouped by class (crash, liveness,
	// correctness), each group fastest failure (least virtual time) first.
	Failing []mergedSeed `json:"failing"`
	// MissingShards have no complete summary; Incomplete says what is
	// missing of each, in words.
	MissingShards []int    `json:"missing_shards"`
	Incomplete    []string `json:"incomplete,omitempty"`
	WriteErrors   []string `json:"write_errors,omitempty"`
	// WallNs sums the shards' wall times.
	WallNs int64 `json:"wall_ns"`
}

func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("merge", "[-json] [-partial] [-corpus FILE] [FILE...]\n\n"+
		"Joins the -json output of the shards of one swarm or run (files, or stdin without FILE or with -)\n"+
		"into one summary: every seed once (a seed seen twice must have the same trace hash), the suite\n"+
		"rule across all seeds, and the failing seeds grouped by class, fastest failure first, each with\n"+
		"its replay line. It refuses lines of different builds or configurations, and names the shards\n"+
		"that are missing or incomplete (exit 64 unless -partial).\n"+
		"Exit: the merged class as for run (0, 1, 2, 3), 74 if a shard lost files, 64 for bad input.")
	asJSON := fs.Bool("json", false, "print the merged summary as one JSON object")
	partial := fs.Bool("partial", false, "merge what is there even if shards are missing or incomplete")
	corpusPath := fs.String("corpus", "", "append the merged failing seeds to this corpus file (as -corpus of swarm does)")
	files, done, code := parseInterleaved(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	g := newMerger()
	for _, name := range files {
		if err := g.readFile(name); err != nil {
			if ne, ok := err.(nondeterminismError); ok {
				fmt.Fprintf(stderr, "faultline merge: %v\n", ne)
				return exitCrash
			}
			return usageError(stderr, fs, "%v", err)
		}
	}
	m := g.finish()
	if *corpusPath != "" {
		cor, err := loadCorpus(*corpusPath, m.Scenario, m.ConfigHash)
		if err != nil {
			return usageError(stderr, fs, "%v", err)
		}
		for _, f := range m.Failing {
			e := corpusEntry{Scenario: f.Scenario, Seed: f.Seed, ConfigHash: m.ConfigHash, Build: m.Build,
				Class: f.Class, Failure: f.Failure, SimNs: f.SimNs, Repro: f.Repro}
			if err := cor.add(e); err != nil {
				m.WriteErrors = append(m.WriteErrors, err.Error())
				break
			}
		}
	}
	if len(m.WriteErrors) > 0 {
		m.Exit = exitIOError
	}
	incomplete := len(m.MissingShards) > 0 || len(m.Incomplete) > 0
	if incomplete && !*partial {
		m.Exit = exitUsage
	}
	if *asJSON {
		writeJSON(stdout, m)
	} else {
		printMerge(stdout, m)
	}
	if incomplete && !*partial {
		var what []string
		if len(m.MissingShards) > 0 {
			what = append(what, "missing shards "+joinInts(m.MissingShards)+" of "+fmt.Sprint(m.Shards))
		}
		what = append(what, m.Incomplete...)
		return usageError(stderr, fs, "incomplete: %s; add their output, rerun them, or pass -partial", strings.Join(what, "; "))
	}
	return m.Exit
}

// readFile reads every non-empty line of name ("-": stdin) as a JSON object
// and adds it, one line at a time (a million seeds' output is gigabytes;
// merge keeps a small record per seed).
func (g *merger) readFile(name string) error {
	var r io.Reader = os.Stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("cannot read %s: %v", name, unwrapPath(err))
		}
		defer f.Close()
		r, label = f, name
	}
	g.files = append(g.files, label)
	file := len(g.files) - 1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n, added := 0, 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var l mergeLine
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("%s:%d is not a JSON object: merge reads the -json output of swarm or run (add -json to the shards)", label, n)
		}
		l.src = fmt.Sprintf("%s:%d", label, n)
		if l.Build == "" || l.ConfigHash == "" || l.Shards < 1 {
			return fmt.Errorf("%s has no build or config stamp: it was not written by swarm or run -json of this faultline; rerun the shard", l.src)
		}
		if !l.Summary && (l.Scenario == "" || l.TraceHash == "") {
			return fmt.Errorf("%s is neither a seed (scenario, seed, trace_hash) nor a summary line", l.src)
		}
		if err := g.add(&l, file, n); err != nil {
			return err
		}
		added++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %v", label, err)
	}
	if added == 0 {
		return fmt.Errorf("%s holds no lines: give the -json output of swarm or run", label)
	}
	return nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// nondeterminismError: one seed with two trace hashes under one build and
// configuration (a bug in the harness, not bad input).
type nondeterminismError struct{ msg string }

func (e nondeterminismError) Error() string { return e.msg }

// seedRec is what merge keeps of a seed: enough to detect a duplicate that
// differs, to name where it came from, and to rebuild the outcome the suite
// rule reads (its verdicts are one of a few patterns, shared).
type seedRec struct {
	trace   uint64
	class   scenarios.Class
	file    int32
	line    int32
	pattern int32
	marks   uint64 // bit i: the scenario's i-th mark ran in this seed
}

// merger joins lines into one summary as they are read.
type merger struct {
	files []string
	ref   *mergeLine // the first line: every other must share its stamp
	m     mergeJSON
	seeds map[uint64]seedRec
	// complete and interrupted shards, by index, from their summaries.
	complete, interrupted map[int]bool
	summaryRange          *seedRangeJSON
	summarySrc            string
	suite                 bool
	worst                 scenarios.Class
	// patterns are the distinct verdict lists seen (most seeds share one),
	// indexed by their canonical text in patternIdx.
	patterns   [][]scenarios.Verdict
	patternIdx map[string]int32
}

func newMerger() *merger {
	return &merger{m: mergeJSON{Classes: map[string]int{}}, seeds: map[uint64]seedRec{}, complete: map[int]bool{}, interrupted: map[int]bool{},
		worst: scenarios.ClassOK, patternIdx: map[string]int32{}}
}

// add takes one line. The error is bad input (mixed stamps, inconsistent
// ranges), or a nondeterminismError.
func (g *merger) add(l *mergeLine, file, line int) error {
	if g.ref == nil {
		ref := *l
		g.ref = &ref
	}
	ref := g.ref
	switch {
	case l.Build != ref.Build:
		return fmt.Errorf("%s is from build %q but %s from build %q: merge only shards of one binary (rerun them with the same image)", l.src, l.Build, ref.src, ref.Build)
	case l.ConfigHash != ref.ConfigHash:
		return fmt.Errorf("%s has config hash %s but %s has %s: the shards ran different configurations (same -scenario and knobs for every shard)", l.src, l.ConfigHash, ref.src, ref.ConfigHash)
	case l.Shards != ref.Shards:
		return fmt.Errorf("%s is a shard of %d but %s of %d: merge shards of one -shards K", l.src, l.Shards, ref.src, ref.Shards)
	case l.Shard < 0 || l.Shard >= l.Shards:
		return fmt.Errorf("%s: shard %d is not in 0..%d", l.src, l.Shard, l.Shards-1)
	}
	m := &g.m
	if l.Summary {
		if g.summaryRange != nil || g.summarySrc != "" {
			if !sameRange(g.summaryRange, l.Range) {
				return fmt.Errorf("%s covers seeds %s but %s covers %s: the shards ran different seed ranges (same -seeds and -start for every shard)", l.src, fmtRange(l.Range), g.summarySrc, fmtRange(g.summaryRange))
			}
		} else {
			g.summaryRange, g.summarySrc = l.Range, l.src
		}
		if l.Interrupted {
			g.interrupted[l.Shard] = true
		} else {
			g.complete[l.Shard] = true
		}
		g.suite = g.suite || l.Suite
		if m.Scenario == "" && len(l.Scenarios) > 0 {
			m.Scenario = l.Scenarios[0]
		}
		m.WallNs += l.WallNs
		m.WriteErrors = append(m.WriteErrors, l.WriteErrors...)
		return nil
	}
	if l.Seed%uint64(l.Shards) != uint64(l.Shard) {
		return fmt.Errorf("%s: seed %d is not shard %d's (seed mod %d is %d): this output was not sharded by faultline -shards", l.src, l.Seed, l.Shard, l.Shards, l.Seed%uint64(l.Shards))
	}
	trace, err := strconv.ParseUint(l.TraceHash, 16, 64)
	if err != nil {
		return fmt.Errorf("%s: trace_hash %q is not a hexadecimal hash", l.src, l.TraceHash)
	}
	m.Scenario = l.Scenario
	c := scenarios.Class(l.Class)
	if prev, ok := g.seeds[l.Seed]; ok {
		if prev.trace != trace || prev.class != c {
			return nondeterminismError{fmt.Sprintf("seed %d ran twice under one build and configuration with different results (%s:%d: trace %016x, %s; %s: trace %s, %s): nondeterminism, a harness bug; replay: %s",
				l.Seed, g.files[prev.file], prev.line, prev.trace, prev.class, l.src, l.TraceHash, l.Class, l.Repro)}
		}
		m.Duplicates++
		return nil
	}
	g.seeds[l.Seed] = seedRec{trace: trace, class: c, file: int32(file), line: int32(line), pattern: g.pattern(l), marks: g.markBits(l)}
	m.Classes[l.Class]++
	g.worst = g.worst.Worse(c)
	if c != scenarios.ClassOK {
		m.Failing = append(m.Failing, mergedSeed{Scenario: l.Scenario, Seed: l.Seed, Class: l.Class, Failure: l.Failure,
			SimNs: l.SimNs, Events: l.Events, TraceHash: l.TraceHash, Repro: l.Repro})
	}
	return nil
}

// pattern returns the index of the line's verdicts among the patterns seen.
func (g *merger) pattern(l *mergeLine) int32 {
	var key strings.Builder
	names := sortedNames(l.Verdicts)
	for _, name := range names {
		fmt.Fprintf(&key, "%s=%s/%s/%t;", name, l.Verdicts[name], l.Expected[name], l.Idle[name])
	}
	if i, ok := g.patternIdx[key.String()]; ok {
		return i
	}
	var vs []scenarios.Verdict
	for _, name := range names {
		e := scenarios.Any
		if x, ok := l.Expected[name]; ok {
			e = scenarios.Expectation(x)
		}
		v := checker.Verdict(l.Verdicts[name])
		vs = append(vs, scenarios.Verdict{Result: checker.Result{Checker: name, Verdict: v, Idle: l.Idle[name]}, Expected: e, AsExpected: e.SeedOK(v)})
	}
	i := int32(len(g.patterns))
	g.patterns = append(g.patterns, vs)
	g.patternIdx[key.String()] = i
	return i
}

// markBits packs which of the scenario's marks ran in l's seed (by the
// order of the spec's marks; at most 64).
func (g *merger) markBits(l *mergeLine) uint64 {
	spec, err := scenarios.Lookup(l.Scenario)
	if err != nil {
		return 0
	}
	var bits uint64
	for i, mk := range spec.Marks {
		for _, mc := range l.Marks {
			if i < 64 && mc.Name == mk.Name && mc.Count > 0 {
				bits |= 1 << i
			}
		}
	}
	return bits
}

// finish returns the merged summary.
func (g *merger) finish() mergeJSON {
	m := g.m
	if g.ref != nil {
		m.Build, m.ConfigHash, m.Shards = g.ref.Build, g.ref.ConfigHash, g.ref.Shards
	}
	m.Merged, m.Range, m.Seeds = true, g.summaryRange, len(g.seeds)
	if m.Failing == nil {
		m.Failing = []mergedSeed{}
	}
	m.MissingShards = []int{}
	// Shards: a complete summary each, and every seed of the range it owns.
	perShard := map[int]int{}
	for s := range g.seeds {
		if m.Range != nil && s >= m.Range.First && s-m.Range.First < uint64(m.Range.Count) {
			perShard[int(s%uint64(m.Shards))]++
		}
	}
	for i := 0; i < m.Shards; i++ {
		switch {
		case !g.complete[i] && g.interrupted[i]:
			m.Incomplete = append(m.Incomplete, fmt.Sprintf("shard %d was interrupted (%d seeds of it ran)", i, perShard[i]))
		case !g.complete[i]:
			m.MissingShards = append(m.MissingShards, i)
		case m.Range != nil:
			if want := ownedCount(*m.Range, m.Shards, i); perShard[i] < want {
				m.Incomplete = append(m.Incomplete, fmt.Sprintf("shard %d has %d of its %d seeds (truncated output?)", i, perShard[i], want))
			}
		}
	}
	sort.SliceStable(m.Failing, func(i, j int) bool {
		a, b := m.Failing[i], m.Failing[j]
		if sa, sb := classRank(a.Class), classRank(b.Class); sa != sb {
			return sa > sb
		}
		if a.SimNs != b.SimNs {
			return a.SimNs < b.SimNs
		}
		if a.Events != b.Events {
			return a.Events < b.Events
		}
		return a.Seed < b.Seed
	})
	worst := g.worst
	if g.suite {
		if spec, err := scenarios.Lookup(m.Scenario); err == nil {
			// The suite rule is scenarios.Summarize's, over outcomes rebuilt
			// from the lines (in seed order, as one process judges them).
			outs := make([]scenarios.Outcome, 0, len(g.seeds))
			for _, seed := range sortedSeedKeys(g.seeds) {
				r := g.seeds[seed]
				o := scenarios.Outcome{Scenario: m.Scenario, Seed: seed, Class: r.class, Verdicts: g.patterns[r.pattern]}
				for i, mk := range spec.Marks {
					if i < 64 && r.marks&(1<<i) != 0 {
						o.Marks = append(o.Marks, scenarios.MarkCount{Name: mk.Name, Count: 1})
					}
				}
				outs = append(outs, o)
			}
			s := scenarios.Summarize(spec, outs)
			m.Checks = s.Checks
			worst = worst.Worse(s.Class)
			for _, f := range s.Failures {
				if !strings.HasPrefix(f, "seed ") {
					m.Failures = append(m.Failures, m.Scenario+": "+f)
				}
			}
		}
	}
	m.Class, m.Exit = string(worst), classExit(worst)
	return m
}

// classRank orders failure classes, worst highest.
func classRank(c string) int {
	switch scenarios.Class(c) {
	case scenarios.ClassCorrectness:
		return 1
	case scenarios.ClassLiveness:
		return 2
	case scenarios.ClassCrash:
		return 3
	}
	return 0
}

// ownedCount is how many seeds of r shard i of k owns (s mod k == i).
func ownedCount(r seedRangeJSON, k, i int) int {
	if r.Count <= 0 {
		return 0
	}
	lo, hi := r.First, r.First+uint64(r.Count)-1
	// The first seed >= lo with s mod k == i.
	first := lo + (uint64(i)+uint64(k)-lo%uint64(k))%uint64(k)
	if first > hi || first < lo {
		return 0
	}
	return int((hi-first)/uint64(k)) + 1
}

func sameRange(a, b *seedRangeJSON) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fmtRange(r *seedRangeJSON) string {
	if r == nil || r.Count == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%d-%d", r.First, r.First+uint64(r.Count)-1)
}

func sortedSeedKeys[V any](m map[uint64]V) []uint64 {
	out := make([]uint64, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}

// printMerge prints the merged summary as text.
func printMerge(w io.Writer, m mergeJSON) {
	fmt.Fprintf(w, "merge: %s, %s (seeds %s) from %d of %s; build %s, config %s\n", m.Scenario, plural(m.Seeds, "seed"), fmtRange(m.Range),
		m.Shards-len(m.MissingShards), plural(m.Shards, "shard"), m.Build, m.ConfigHash)
	var cls []string
	for _, c := range []scenarios.Class{scenarios.ClassOK, scenarios.ClassCorrectness, scenarios.ClassLiveness, scenarios.ClassCrash} {
		if n := m.Classes[string(c)]; n > 0 {
			cls = append(cls, fmt.Sprintf("%s %d", c, n))
		}
	}
	fmt.Fprintf(w, "  %s", strings.Join(cls, ", "))
	if m.Duplicates > 0 {
		fmt.Fprintf(w, " (%s dropped)", plural(m.Duplicates, "duplicate"))
	}
	if m.WallNs > 0 && m.Seeds > 0 {
		fmt.Fprintf(w, "; %s of shard wall time, %.2f seeds/s per shard-second", fmtDuration(time.Duration(m.WallNs)), float64(m.Seeds)/time.Duration(m.WallNs).Seconds())
	}
	fmt.Fprintln(w)
	group := ""
	for _, f := range m.Failing {
		if f.Class != group {
			group = f.Class
			fmt.Fprintf(w, "%s (%d), fastest failure first:\n", group, m.Classes[group])
		}
		fmt.Fprintf(w, "  seed %d  sim %s: %s\n", f.Seed, fmtDuration(time.Duration(f.SimNs)), shorten(f.Failure, 200))
		fmt.Fprintf(w, "    replay: %s\n", f.Repro)
	}
	printChecks(w, m.Checks)
	for _, f := range m.Failures {
		fmt.Fprintln(w, f)
	}
	for _, e := range m.WriteErrors {
		fmt.Fprintf(w, "  file not written: %s\n", e)
	}
	if len(m.MissingShards) > 0 {
		fmt.Fprintf(w, "  MISSING shards: %s\n", joinInts(m.MissingShards))
	}
	for _, s := range m.Incomplete {
		fmt.Fprintf(w, "  INCOMPLETE: %s\n", s)
	}
	verdict := "as expected"
	if m.Class != string(scenarios.ClassOK) {
		verdict = m.Class + " failure"
	}
	fmt.Fprintf(w, "merged: %s, %d failing seeds (exit %d)\n", verdict, len(m.Failing), m.Exit)
}

// shorten cuts s to n bytes with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
