package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
	"github.com/faultline-sim/faultline/sim"
)

// weakRun runs a small W=R=1 cluster through a partition and a crash: a
// history that is not linearizable, judged, with porcupine's page.
func weakRun(t *testing.T) (Run, []byte) {
	t.Helper()
	cfg := scenarios.DefaultConfig()
	cfg.KV.W, cfg.KV.R = 1, 1
	cfg.WorkloadConfig.Ops = 300
	sched, err := nemesis.Parse("10ms partition-halves n0,n1|n2,n3,n4\n40ms heal\n50ms crash n2 lose-unsynced=false\n70ms restart n2\n")
	require.NoError(t, err)
	cfg.Nemesis = sched
	c, err := cluster.New(cfg.Cluster(), 3)
	require.NoError(t, err)
	res, err := c.Run()
	require.NoError(t, err)
	var vis bytes.Buffer
	jo := scenarios.JudgeOptionsFor(cfg)
	jo.Visualize = &vis
	results, err := cluster.Judge(res, jo)
	require.NoError(t, err)
	run := Run{Scenario: "weak", Seed: 3, Class: "correctness", Failure: "linearizable: invalid", Repro: "go run ./cmd/faultline run -w 1 -r 1 -seed 3",
		Config: cfg, Result: res, WallTime: 12 * time.Millisecond}
	for _, r := range results {
		run.Verdicts = append(run.Verdicts, Verdict{Result: r, Expected: "not-invalid", AsExpected: r.Verdict != checker.Invalid})
	}
	require.Equal(t, checker.Invalid, run.Verdicts[0].Verdict, "W=R=1 under a partition is not linearizable for this seed")
	return run, vis.Bytes()
}

func render(t *testing.T, r Run) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, HTML(&b, r))
	return b.String()
}

// pageDataOf extracts and decodes the chart data a page carries.
func pageDataOf(t *testing.T, page string) pageData {
	t.Helper()
	const open = `<script type="application/json" id="fl-data">`
	i := strings.Index(page, open)
	require.GreaterOrEqual(t, i, 0, "the page carries its chart data")
	rest := page[i+len(open):]
	j := strings.Index(rest, "</script>")
	require.GreaterOrEqual(t, j, 0)
	var d pageData
	require.NoError(t, json.Unmarshal([]byte(rest[:j]), &d))
	return d
}

func TestHTMLDrawsEveryOperationWindowAndVerdict(t *testing.T) {
	run, _ := weakRun(t)
	page := render(t, run)
	d := pageDataOf(t, page)
	ops := run.Result.Ops

	assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	// Every operation is in the data, with its exact times, outcome and kind.
	require.Len(t, d.Ops.Lane, len(ops), "one entry per operation")
	assert.False(t, d.Sampled)
	assert.Equal(t, len(ops), d.Total)
	call := int64(0)
	for i, o := range ops {
		call += d.Ops.Call[i]
		assert.Equal(t, int64(o.Call), call, "op %d call time", i)
		if o.End == sim.Never {
			assert.Equal(t, int64(-1), d.Ops.Dur[i])
		} else {
			assert.Equal(t, int64(o.End-o.Call), d.Ops.Dur[i], "op %d latency", i)
		}
		assert.Equal(t, outLetter[o.Outcome], d.Ops.Out[i], "op %d outcome", i)
		assert.Equal(t, o.Key, d.Keys[d.Ops.Key[i]])
		assert.Equal(t, "c"+strconv.Itoa(o.Client), strings.Fields(d.Lanes[d.Ops.Lane[i]])[0])
	}
	require.Len(t, d.Windows, len(run.Result.Windows))
	assert.Len(t, run.Result.Windows, 2)
	assert.Equal(t, "partition-halves n0,n1|n2,n3,n4", d.Windows[0].Label)
	assert.Equal(t, "crash n2 lose-unsynced=false", d.Windows[1].Label)
	assert.Equal(t, int64(10*time.Millisecond), d.Windows[0].Start)
	assert.Equal(t, int64(40*time.Millisecond), d.Windows[0].End)
	assert.Equal(t, "partition", d.Families[d.Windows[0].Fam].Name)
	assert.Equal(t, int64(run.Result.SettleAt), d.Settle)
	for _, v := range run.Verdicts {
		assert.Contains(t, page, `<td class="name">`+v.Checker+`</td><td><span class="badge v-`+string(v.Verdict)+`">`)
	}
	// Every witness is numbered, names its operation and is marked on the
	// whole-run strip and in the table, where its number zooms on it.
	nw := len(run.Verdicts[0].Witness)
	require.Positive(t, nw)
	require.Len(t, d.Marks, nw)
	for i, m := range d.Marks {
		assert.Equal(t, i+1, m.N)
		require.GreaterOrEqual(t, m.Op, 0, "witness %d names an operation", m.N)
		w := run.Verdicts[0].Witness[i]
		assert.Equal(t, w.Key, d.Keys[d.Ops.Key[m.Op]], "witness %d is on its key", m.N)
		assert.Equal(t, int64(w.Time), prefixSum(d.Ops.Call, m.Op), "witness %d is on the operation called at its time", m.N)
		assert.Contains(t, page, fmt.Sprintf(`<g class="wb" data-w="%d">`, m.N))
		assert.Contains(t, page, fmt.Sprintf(`<a class="wmark" href="#tl" data-w="%d" style="background:#111111"`, m.N))
	}
	assert.Equal(t, nw, strings.Count(page, `<rect class="wbox"`), "one badge per witness on the whole-run strip")
	assert.Contains(t, page, `<svg class="chart" id="timeline"`)
	assert.Contains(t, page, `<svg class="chart" id="latency"`)
	assert.Contains(t, page, `<svg class="chart" id="throughput"`)
	assert.Contains(t, page, "go run ./cmd/faultline run -w 1 -r 1 -seed 3")
	assert.Contains(t, page, `<header class="c-correctness">`)
	assert.Equal(t, 2, strings.Count(page, "<script"), "only the page's data and its own script")
	assertSelfContained(t, page)
}

// prefixSum returns the sum of xs[0..i].
func prefixSum(xs []int64, i int) int64 {
	s := int64(0)
	for _, x := range xs[:i+1] {
		s += x
	}
	return s
}

// assertSelfContained fails if the page refers to anything outside itself.
func assertSelfContained(t *testing.T, page string) {
	t.Helper()
	external := regexp.MustCompile(`(?i)(src|href|action|xlink:href)\s*=\s*["']?\s*(https?:|//|file:|data:)`)
	assert.False(t, external.MatchString(page), "self-contained: nothing to fetch: %v", external.FindString(page))
	assert.NotContains(t, page, "@import")
	for _, m := range regexp.MustCompile(`url\([^)]*\)`).FindAllString(page, -1) {
		assert.True(t, strings.HasPrefix(m, "url(#"), "only in-page url() references: %s", m)
	}
	for _, api := range []string{"fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "import(", "<link", "<iframe", "<img"} {
		assert.NotContains(t, page, api)
	}
}

func countOpen(ops []history.Op) int {
	n := 0
	for _, o := range ops {
		if o.End == sim.Never {
			n++
		}
	}
	return n
}

func TestHTMLIsDeterministic(t *testing.T) {
	run, _ := weakRun(t)
	again, _ := weakRun(t)
	assert.Equal(t, render(t, run), render(t, again))
}

func TestHTMLEscapesEverything(t *testing.T) {
	run, _ := weakRun(t)
	run.Scenario = `<img src=x onerror=alert(1)>`
	run.Failure = `</p><script>alert("f")</script>`
	run.Verdicts[0].Witness = append(run.Verdicts[0].Witness, checker.Violation{Key: `k"><script>`, Client: -1, Detail: `<b>bold</b> & more`})
	run.Result.Ops[0].Err = `"><script>alert(2)</script>`
	for i := range run.Result.Ops {
		if run.Result.Ops[i].Kind == history.Write {
			run.Result.Ops[i].Value = `</script><script>alert(3)</script>`
			break
		}
	}
	page := render(t, run)
	assert.NotContains(t, page, "<img")
	assert.NotContains(t, page, "<b>bold")
	assert.NotContains(t, page, "alert(2)</script>")
	assert.NotContains(t, page, "alert(3)</script>")
	assert.Equal(t, 2, strings.Count(page, "<script"), "the data cannot close its script element")
	pageDataOf(t, page) // and still decodes
	assert.Contains(t, page, "&lt;img src=x onerror=alert(1)&gt;")
	assert.Contains(t, page, "&lt;b&gt;bold&lt;/b&gt; &amp; more")
}

func TestHTMLWithoutAResult(t *testing.T) {
	page := render(t, Run{Scenario: "boom", Seed: 9, Class: "crash", Failure: "panic (seed 9): kaboom",
		Config: scenarios.DefaultConfig()})
	assert.Contains(t, page, `<header class="c-crash">`)
	assert.Contains(t, page, "panic (seed 9): kaboom")
	assert.Contains(t, page, "No checker judged this run")
	assert.NotContains(t, page, `id="timeline"`)
}

func TestWriteDir(t *testing.T) {
	run, vis := weakRun(t)
	require.NotEmpty(t, vis)
	dir := filepath.Join(t.TempDir(), "a", "b")
	files, err := WriteDir(dir, run, vis)
	require.NoError(t, err)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	assert.Equal(t, []string{FileHistory, FileSchedule, FileLinearizable, FileReport}, names)

	page, err := os.ReadFile(filepath.Join(dir, FileReport))
	require.NoError(t, err)
	for _, f := range []string{FileHistory, FileSchedule, FileLinearizable} {
		assert.Contains(t, string(page), `href="`+f+`"`)
	}
	f, err := os.Open(filepath.Join(dir, FileHistory))
	require.NoError(t, err)
	events, err := history.ReadJSONL(f)
	f.Close()
	require.NoError(t, err)
	assert.Equal(t, run.Result.History(), events, "the history round-trips")

	text, err := os.ReadFile(filepath.Join(dir, FileSchedule))
	require.NoError(t, err)
	sched, err := nemesis.Parse(string(text))
	require.NoError(t, err)
	assert.Equal(t, run.Config.Nemesis, sched, "the schedule round-trips")

	// Without a visualization there is no porcupine page and no link to it.
	dir2 := t.TempDir()
	files, err = WriteDir(dir2, run, nil)
	require.NoError(t, err)
	assert.Len(t, files, 3)
	page, err = os.ReadFile(filepath.Join(dir2, FileReport))
	require.NoError(t, err)
	assert.NotContains(t, string(page), FileLinearizable)

	// A directory that cannot be created is an error, not a panic.
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	_, err = WriteDir(filepath.Join(blocker, "sub"), run, nil)
	assert.Error(t, err)
}

func TestSettings(t *testing.T) {
	cfg := scenarios.DefaultConfig()
	s := SettingsOf(cfg)
	assert.Equal(t, Settings{Nodes: 5, N: 3, W: 2, R: 2, Quorum: "strict", Resolve: "lww", ReadRepair: "blocking",
		HintedHandoff: true, AntiEntropy: "off", Membership: "oracle", VNodes: 16, Sync: true, Workload: "register", Clients: 10, Keys: 5, Ops: 500}, s)
	assert.Equal(t, "5 nodes N=3 W=2 R=2 strict lww read-repair=blocking hinted-handoff=true anti-entropy=off membership=oracle vnodes=16 sync=true; register workload, 10 clients, 5 keys, 500 ops; 0 faults", s.String())
}

func TestNiceStepAndFmtDur(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{0, 1}, {1, 1}, {3, 5}, {7, 10}, {11, 20}, {140 * time.Millisecond, 200 * time.Millisecond},
		{200 * time.Millisecond, 200 * time.Millisecond}, {201 * time.Millisecond, 500 * time.Millisecond},
		{600 * time.Millisecond, time.Second},
	} {
		assert.Equal(t, c.want, niceStep(c.in), "niceStep(%v)", c.in)
	}
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0"}, {500, "500ns"}, {250 * time.Microsecond, "250µs"}, {1500 * time.Microsecond, "1.5ms"},
		{200 * time.Millisecond, "200ms"}, {2344438203, "2.344s"}, {-3 * time.Millisecond, "-3ms"},
		{123456 * time.Microsecond, "123.5ms"},
	} {
		assert.Equal(t, c.want, fmtDur(c.in), "fmtDur(%d)", c.in)
	}
}

func TestAxisSplitsOffTheFinalReads(t *testing.T) {
	one := newAxis(sim.Time(time.Second), sim.Time(1100*time.Millisecond), sim.Time(1200*time.Millisecond), 0, 1000)
	assert.Len(t, one.segs, 1, "a short quiet stretch keeps one segment")
	two := newAxis(sim.Time(500*time.Millisecond), sim.Time(2*time.Second), sim.Time(2010*time.Millisecond), 0, 1000)
	require.Len(t, two.segs, 2)
	assert.InDelta(t, two.segs[0].x1, two.x(sim.Time(500*time.Millisecond)), 1e-9)
	assert.InDelta(t, 1000, two.x(sim.Time(2010*time.Millisecond)), 1e-9)
	mid := two.x(sim.Time(time.Second))
	assert.True(t, mid > two.segs[0].x1 && mid < two.segs[1].x0, "the quiet stretch maps into the break")
	ticks := two.ticks(110)
	assert.Equal(t, "0", ticks[0].label)
	var final []string
	for _, tk := range ticks {
		if tk.x >= two.segs[1].x0 {
			final = append(final, tk.label)
		}
	}
	require.NotEmpty(t, final)
	assert.Equal(t, "2s", final[0], "the final segment starts with its absolute time")
	for _, l := range final[1:] {
		assert.True(t, strings.HasPrefix(l, "+"), "then offsets: %q", l)
	}
}

// TestAxisIsMonotone: later times never map to the left of earlier ones,
// and every time maps inside the chart.
func TestAxisIsMonotone(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		work := sim.Time(rapid.Int64Range(1, int64(time.Hour)).Draw(rt, "work"))
		fs := sim.Time(rapid.Int64Range(0, int64(2*time.Hour)).Draw(rt, "finalStart"))
		fe := fs + sim.Time(rapid.Int64Range(0, int64(time.Minute)).Draw(rt, "finalLen"))
		ax := newAxis(work, fs, fe, 100, 1300)
		a := sim.Time(rapid.Int64Range(0, int64(3*time.Hour)).Draw(rt, "a"))
		b := sim.Time(rapid.Int64Range(0, int64(3*time.Hour)).Draw(rt, "b"))
		if a > b {
			a, b = b, a
		}
		xa, xb := ax.x(a), ax.x(b)
		if xa > xb+1e-9 {
			rt.Fatalf("x(%v)=%v > x(%v)=%v", a, xa, b, xb)
		}
		for _, x := range []float64{xa, xb} {
			if x < 100-1e-9 || x > 1300+1e-9 {
				rt.Fatalf("x=%v outside [100, 1300]", x)
			}
		}
	})
}

// TestWhyFilesAreWrittenAndLinked: each witness's explanation is written
// beside the report and the witness table links to it.
func TestWhyFilesAreWrittenAndLinked(t *testing.T) {
	run, _ := weakRun(t)
	require.NotEmpty(t, run.Verdicts[0].Witness)
	run.Why = []scenarios.Why{{Checker: "linearizable", Witness: 1, Text: "# why linearizable: invalid\n  1.000ms n0   recv read from n1\n"}}
	dir := t.TempDir()
	_, err := WriteDir(dir, run, nil)
	require.NoError(t, err)
	text, err := os.ReadFile(filepath.Join(dir, "why-1.txt"))
	require.NoError(t, err)
	assert.Equal(t, run.Why[0].Text, string(text))
	page, err := os.ReadFile(filepath.Join(dir, FileReport))
	require.NoError(t, err)
	assert.Contains(t, string(page), `href="why-1.txt"`)
	assert.Equal(t, 1, strings.Count(string(page), `class="why"`), "only the explained witness links")
}

// Every nemesis family has a colour of its own: a new family must not be
// shaded in the neutral colour of unknown ones.
func TestEveryFamilyHasAColour(t *testing.T) {
	seen := map[string]nemesis.Family{}
	for _, f := range nemesis.Families() {
		c, ok := familyColor[f]
		if !ok {
			t.Errorf("family %v has no colour in familyColor", f)
			continue
		}
		if other, dup := seen[c]; dup || c == otherColor {
			t.Errorf("family %v shares colour %s with %v (or the unknown-family colour)", f, c, other)
		}
		seen[c] = f
	}
}
