package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

const ms = sim.Time(time.Millisecond)
const us = sim.Time(time.Microsecond)

// op builds a completed operation.
func op(client int, kind history.Kind, key string, call, end sim.Time, out history.Type) history.Op {
	o := history.Op{Client: client, Kind: kind, Key: key, Call: call, End: end, Return: end, Outcome: out, Completed: 1}
	if kind != history.Read {
		o.Value = fmt.Sprintf("c%d-1", client)
	}
	if out == history.Info {
		o.Return = sim.Never
	}
	return o
}

func renderHistory(t *testing.T, h History) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, HistoryHTML(&b, h))
	return b.String()
}

// TestLatencyQuantilesAndThroughput: the page carries the quantile and
// throughput series of known latencies, with the right numbers in the
// right buckets.
func TestLatencyQuantilesAndThroughput(t *testing.T) {
	var ops []history.Op
	// Bucket 0 ([0, 100ms)): 100 ok writes taking 1µs..100µs.
	for i := 1; i <= 100; i++ {
		ops = append(ops, op(i, history.Write, "x", sim.Time(i)*100*us, sim.Time(i)*100*us+sim.Time(i)*us, history.OK))
	}
	// Bucket 1: four ok reads taking 10, 20, 30, 40µs, a failed read (no
	// latency, one failure) and an info write (one info).
	for i, l := range []sim.Time{40, 10, 30, 20} {
		ops = append(ops, op(200+i, history.Read, "x", 150*ms+sim.Time(i)*ms, 150*ms+sim.Time(i)*ms+l*us, history.OK))
	}
	ops = append(ops, op(300, history.Read, "x", 160*ms, 161*ms, history.Fail))
	ops = append(ops, op(301, history.Write, "x", 170*ms, 171*ms, history.Info))
	// The last completion, at 1.2s, closes bucket 11; a final read after it
	// counts in no bucket.
	ops = append(ops, op(400, history.Write, "x", 1199*ms, 1200*ms, history.OK))
	fin := op(401, history.Read, "x", 1201*ms, 1202*ms, history.OK)
	fin.Final = true
	ops = append(ops, fin)

	page := renderHistory(t, History{Name: "known", Ops: ops})
	p := pageDataOf(t, page).Perf
	require.Equal(t, minBuckets, p.N, "108 completed operations: the minimum of 12 buckets")
	assert.Equal(t, int64(0), p.T0)
	assert.Equal(t, int64(100*ms), p.Step, "1.2s in 12 buckets")
	us := int64(us)
	assert.Equal(t, []int64{50 * us, 95 * us, 99 * us, 100 * us},
		[]int64{p.Lat[groupWrite][0][0], p.Lat[groupWrite][1][0], p.Lat[groupWrite][2][0], p.Lat[groupWrite][3][0]}, "write p50 p95 p99 max in bucket 0")
	assert.Equal(t, []int64{20 * us, 40 * us, 40 * us, 40 * us},
		[]int64{p.Lat[groupRead][0][1], p.Lat[groupRead][1][1], p.Lat[groupRead][2][1], p.Lat[groupRead][3][1]}, "read p50 p95 p99 max in bucket 1")
	assert.Equal(t, int64(-1), p.Lat[groupRead][0][0], "no read in bucket 0")
	assert.Equal(t, int64(-1), p.Lat[groupWrite][0][1], "the info write has no latency")
	assert.Equal(t, int64(1000*us), p.Lat[groupWrite][3][11], "the last write is in the last bucket")
	assert.Equal(t, 100, p.Done[groupWrite][0][0])
	assert.Equal(t, 4, p.Done[groupRead][0][1])
	assert.Equal(t, 1, p.Done[groupRead][1][1], "one failed read")
	assert.Equal(t, 1, p.Done[groupWrite][2][1], "one info write")
	assert.Equal(t, 1, p.Done[groupWrite][0][11])
	total := 0
	for g := range p.Done {
		for o := range p.Done[g] {
			for _, c := range p.Done[g][o] {
				total += c
			}
		}
	}
	assert.Equal(t, len(ops)-1, total, "every completion but the final read's")
	// The summary table has the whole run's quantiles.
	assert.Contains(t, page, `<tr><td>writes</td><td class="num">101</td><td class="num">51µs</td><td class="num">96µs</td><td class="num">100µs</td><td class="num">1ms</td></tr>`)
	assert.Contains(t, page, `<tr><td>reads</td><td class="num">4</td><td class="num">20µs</td><td class="num">40µs</td><td class="num">40µs</td><td class="num">40µs</td></tr>`)
}

func TestQuantile(t *testing.T) {
	xs := make([]int64, 100)
	for i := range xs {
		xs[i] = int64(i + 1)
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 50}, {0.95, 95}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		assert.Equal(t, c.want, quantile(xs, c.q), "q=%v", c.q)
	}
	assert.Equal(t, int64(7), quantile([]int64{7}, 0.5))
	assert.Equal(t, int64(-1), quantile(nil, 0.5))
	assert.Equal(t, maxBuckets, bucketsFor(1_000_000))
	assert.Equal(t, 40, bucketsFor(1000))
}

// TestThirtyWitnessesAreLegible: thirty witnesses on operations called at
// nearly the same time get thirty distinct badges, none overlapping, each
// linking to its operation.
func TestThirtyWitnessesAreLegible(t *testing.T) {
	var ops []history.Op
	var ws []checker.Violation
	for i := 0; i < 30; i++ {
		call := 10*ms + sim.Time(i)*us
		ops = append(ops, op(i, history.Write, "k"+strconv.Itoa(i%3), call, call+ms, history.OK))
		ws = append(ws, checker.Violation{Key: "k" + strconv.Itoa(i%3), Client: i, Time: call, Detail: "lost"})
	}
	// A second client stream keeps the run long, so the witnesses crowd.
	for i := 0; i < 200; i++ {
		ops = append(ops, op(100, history.Read, "k0", 20*ms+sim.Time(i)*5*ms, 20*ms+sim.Time(i)*5*ms+ms, history.OK))
	}
	sortByCall(ops)
	h := History{Name: "crowd", Ops: ops, Verdicts: []Verdict{
		{Result: checker.Result{Checker: "lost-writes", Verdict: checker.Invalid, Count: 20, Witness: ws[:20]}},
		{Result: checker.Result{Checker: "durability", Verdict: checker.Invalid, Count: 10, Witness: ws[20:]}},
	}}
	page := renderHistory(t, h)
	d := pageDataOf(t, page)
	require.Len(t, d.Marks, 30)
	seen := map[int]bool{}
	for _, m := range d.Marks {
		require.GreaterOrEqual(t, m.Op, 0)
		seen[m.N] = true
	}
	assert.Len(t, seen, 30, "thirty distinct numbers")
	labels := regexp.MustCompile(`<text class="wnum" x="[0-9.]+" y="[0-9.]+">(\d+)</text>`).FindAllStringSubmatch(page, -1)
	require.Len(t, labels, 30, "thirty labels on the whole-run strip, none merged")
	got := map[string]bool{}
	for _, l := range labels {
		got[l[1]] = true
	}
	assert.Len(t, got, 30)
	for n := 1; n <= 30; n++ {
		assert.Regexp(t, fmt.Sprintf(`<a class="wmark" href="#tl" data-w="%d" style="background:#[0-9a-f]+"`, n), page, "witness %d links to the timeline", n)
	}
	assert.Contains(t, page, `lost-writes: invalid`)
	assert.Contains(t, page, `witness 1–20`)
	assert.Contains(t, page, `witness 21–30`)
	assert.Equal(t, 20, strings.Count(page, `style="fill:#111111;stroke:#111111"/><text class="wnum"`), "lost-writes' badges in one colour")
	assert.Equal(t, 10, strings.Count(page, `style="fill:#6a1b9a;stroke:#6a1b9a"/><text class="wnum"`), "durability's in another")

	// The layout itself: same anchors, no overlaps, inside the chart.
	ns := make([]int, 30)
	xs := make([]float64, 30)
	for i := range ns {
		ns[i], xs[i] = i+1, 100+float64(i)*0.5
	}
	assertNoOverlap(t, layoutBadges(ns, xs, marginLeft, chartWidth-marginRight), marginLeft, chartWidth-marginRight)
}

func assertNoOverlap(t require.TestingT, bs []badge, x0, x1 float64) {
	for i, a := range bs {
		require.GreaterOrEqual(t, a.left, x0-1e-9, "badge %d inside", a.n)
		require.LessOrEqual(t, a.left+a.width, x1+1e-9, "badge %d inside", a.n)
		for _, b := range bs[i+1:] {
			if a.row == b.row {
				require.False(t, a.left < b.left+b.width && b.left < a.left+a.width, "badges %d and %d overlap", a.n, b.n)
			}
		}
	}
}

// TestBadgesNeverOverlap: any number of witnesses anywhere gets badges
// that do not overlap.
func TestBadgesNeverOverlap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 120).Draw(rt, "n")
		ns := make([]int, n)
		xs := make([]float64, n)
		for i := range ns {
			ns[i] = i + 1
			xs[i] = rapid.Float64Range(0, 1400).Draw(rt, "x")
		}
		for i := 1; i < n; i++ { // sorted by anchor, as the callers pass them
			for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
				xs[j], xs[j-1] = xs[j-1], xs[j]
			}
		}
		assertNoOverlap(rt, layoutBadges(ns, xs, marginLeft, chartWidth-marginRight), marginLeft, chartWidth-marginRight)
	})
}

func sortByCall(ops []history.Op) {
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && ops[j].Call < ops[j-1].Call; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// TestReadsAndWritesAreToldApart: the data marks each operation's kind,
// the script gives reads and writes different classes, and the style
// sheet draws those classes differently.
func TestReadsAndWritesAreToldApart(t *testing.T) {
	ops := []history.Op{
		op(0, history.Write, "x", 0, ms, history.OK),
		op(1, history.Read, "x", ms, 2*ms, history.OK),
		op(2, history.CAS, "x", 2*ms, 3*ms, history.Fail),
		op(3, history.Add, "x", 3*ms, 4*ms, history.Info),
		op(4, history.Delete, "x", 4*ms, 5*ms, history.OK),
	}
	fin := op(5, history.Read, "x", 6*ms, 7*ms, history.OK)
	fin.Final = true
	ops = append(ops, fin)
	page := renderHistory(t, History{Ops: ops})
	assert.Equal(t, "wrcadR", pageDataOf(t, page).Ops.Kind)
	assert.Contains(t, script, `'op '+(r?'r ':'w ')+c`)
	fill := func(sel string) string {
		m := regexp.MustCompile(regexp.QuoteMeta(sel) + `\{fill:(#[0-9a-f]+)\}`).FindStringSubmatch(css)
		require.NotNil(t, m, sel)
		return m[1]
	}
	for _, out := range []string{"ok", "fail", "info"} {
		assert.NotEqual(t, fill(".op.r."+out), fill(".op.w."+out), "reads and writes of outcome %s look different", out)
	}
	assert.Contains(t, page, "read: lower half, light")
}

// synthetic returns n ok operations by 10 clients, one every 10µs, with
// every 1000th failed.
func synthetic(n int) []history.Op {
	ops := make([]history.Op, n)
	for i := range ops {
		out := history.OK
		if i%1000 == 999 {
			out = history.Fail
		}
		kind := history.Write
		if i%2 == 0 {
			kind = history.Read
		}
		call := sim.Time(i) * 10 * us
		ops[i] = op(i%10, kind, "k"+strconv.Itoa(i%5), call, call+95*us+sim.Time(i%7)*us, out)
	}
	return ops
}

// TestLongHistoriesStayBounded: a 200k-operation history gives a page of a
// few megabytes carrying every operation; a longer one is thinned to
// MaxPageOps operations, keeping every failure and witness, and stays
// under the same bound.
func TestLongHistoriesStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("renders half a million operations")
	}
	ops := synthetic(200_000)
	page := renderHistory(t, History{Name: "long", Ops: ops, Windows: []nemesis.Window{{Start: 100 * ms, End: 300 * ms, Family: nemesis.FamilyPartition, Label: "partition"}}})
	t.Logf("200k operations: %d bytes", len(page))
	assert.Less(t, len(page), pageBound)
	d := pageDataOf(t, page)
	assert.False(t, d.Sampled)
	assert.Len(t, d.Ops.Lane, 200_000)
	assert.NotContains(t, page, "the page carries")

	ops = synthetic(2*MaxPageOps + 1234)
	witness := 777_777 % len(ops)
	ops[witness].Outcome = history.OK
	w := checker.Violation{Key: ops[witness].Key, Client: ops[witness].Client, Time: ops[witness].Call, Detail: "here"}
	page = renderHistory(t, History{Name: "longer", Ops: ops, Verdicts: []Verdict{{Result: checker.Result{Checker: "lost-writes", Verdict: checker.Invalid, Count: 1, Witness: []checker.Violation{w}}}}})
	t.Logf("%d operations: %d bytes", len(ops), len(page))
	assert.Less(t, len(page), pageBound)
	d = pageDataOf(t, page)
	assert.True(t, d.Sampled)
	assert.Equal(t, len(ops), d.Total)
	assert.Len(t, d.Ops.Lane, MaxPageOps)
	assert.Equal(t, len(ops)/1000, strings.Count(d.Ops.Out, "f"), "every failure kept")
	require.Len(t, d.Marks, 1)
	require.GreaterOrEqual(t, d.Marks[0].Op, 0)
	assert.Equal(t, witness, d.Ops.Orig[d.Marks[0].Op], "the witness is kept and marked")
	assert.Contains(t, page, fmt.Sprintf("This history has %d operations; the page carries %d of them", len(ops), MaxPageOps))
	done := 0
	for g := range d.Perf.Done {
		for o := range d.Perf.Done[g] {
			for _, c := range d.Perf.Done[g][o] {
				done += c
			}
		}
	}
	assert.Equal(t, len(ops), done, "the plots count every operation, not the sample")
}

// TestWorstCasePageStaysBounded: operations with the longest values (full
// of characters JSON escapes), long errors, many clients and keys and
// huge times still give a page under pageBound.
func TestWorstCasePageStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("renders half a million operations")
	}
	long := strings.Repeat("<&>é", 40)
	ops := make([]history.Op, 2*MaxPageOps)
	for i := range ops {
		call := sim.Time(i) * sim.Time(time.Hour)
		o := op(i%9973, history.CAS, long+strconv.Itoa(i), call, call+sim.Time(time.Hour)/2+sim.Time(i), history.Fail)
		o.Expect, o.Value, o.Err = long, long, long+strconv.Itoa(i)
		o.Node = sim.NodeID(i % 997)
		ops[i] = o
	}
	var b bytes.Buffer
	require.NoError(t, HistoryHTML(&b, History{Name: "worst", Ops: ops}))
	t.Logf("%d worst-case operations: %d bytes", len(ops), b.Len())
	assert.Less(t, b.Len(), pageBound)
	d := pageDataOf(t, b.String())
	assert.Len(t, d.Ops.Lane, MaxPageOps)
	assert.Len(t, d.Keys, MaxPageOps, "every key of a carried operation")
	assert.Len(t, d.Ops.Errs, maxErrTexts+1, "the distinct errors, then one for the rest")
	assert.Equal(t, errsOmitted, d.Ops.Errs[maxErrTexts])
	assert.NotContains(t, b.String(), `<select id="keyf">`, "no key filter with this many keys")
}

func TestFitJSON(t *testing.T) {
	assert.Equal(t, "short", fitJSON("short", 10))
	assert.Equal(t, "abcdefg…", fitJSON("abcdefghijklmnop", 10))
	assert.Equal(t, "<…", fitJSON("<<<<", 10), "each < costs 6 bytes")
	assert.Equal(t, "éé…", fitJSON("éééééé", 8))
	for _, s := range []string{"plain text, long enough to cut", `"quoted" \ back`, "<&>é\u2028\x01"} {
		for n := 4; n < 40; n++ {
			out, err := json.Marshal(fitJSON(s, n))
			require.NoError(t, err)
			assert.LessOrEqual(t, len(out)-2, max(n, len(`…`)), "%q cut to %d", s, n)
		}
	}
}

func TestKeep(t *testing.T) {
	ops := synthetic(100)
	ops[3].Outcome, ops[4].End, ops[5].Final = history.Info, sim.Never, true
	assert.Len(t, keep(ops, nil, 100), 100, "all fit")
	got := keep(ops, map[int]bool{50: true}, 10)
	assert.Len(t, got, 10)
	for _, i := range []int{3, 4, 5, 50} { // info, unfinished, final, witness
		assert.Contains(t, got, i, "op %d is kept", i)
	}
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1], got[i], "in order")
	}
	// The ok ones are spread evenly, not the first few.
	assert.Greater(t, got[len(got)-1], 80)
}

// TestHistoryPage: an external history's page shows its processes, the
// nemesis windows, the verdict and its witness, and is deterministic.
func TestHistoryPage(t *testing.T) {
	ops := []history.Op{
		op(0, history.Write, "x", 0, 2*ms, history.OK),
		op(1, history.Read, "x", 3*ms, 4*ms, history.OK),
		op(7, history.Write, "x", 5*ms, 9*ms, history.Info),
	}
	ops[1].Values = []string{"stale"}
	h := History{
		Name: "jepsen.edn", Model: "cas-register", Command: "faultline check -model cas-register -report r.html jepsen.edn", Events: 6,
		Ops:     ops,
		Windows: []nemesis.Window{{Start: ms, End: 6 * ms, Family: nemesis.FamilyPartition, Label: ":start-partition majority"}, {Start: 7 * ms, End: sim.Never, Family: nemesis.Family(200), Label: ":kill n1"}},
		Verdicts: []Verdict{{Result: checker.Result{Checker: checker.NameLinearizable, Verdict: checker.Invalid, Explanation: "not linearizable", Count: 1,
			Witness: []checker.Violation{{Key: "x", Value: "stale", Client: 1, Time: 3 * ms, Detail: "cannot follow"}}}}},
		Files: []string{"linearizability.html"},
	}
	page := renderHistory(t, h)
	d := pageDataOf(t, page)
	assert.Equal(t, []string{"c0", "c1", "c7"}, d.Lanes, "one lane per process")
	require.Len(t, d.Windows, 2)
	assert.Equal(t, ":start-partition majority", d.Windows[0].Label)
	assert.Equal(t, "partition", d.Families[d.Windows[0].Fam].Name)
	assert.Equal(t, int64(-1), d.Windows[1].End, "never stopped")
	assert.Equal(t, "other", d.Families[d.Windows[1].Fam].Name, "an unknown family gets the neutral colour")
	assert.Equal(t, "[stale]", d.Ops.Val[1])
	require.Len(t, d.Marks, 1)
	assert.Equal(t, 1, d.Marks[0].Op, "the witness marks the stale read")
	assert.Contains(t, page, `<header class="c-correctness">`)
	assert.Contains(t, page, "jepsen.edn <span class=\"seed\">external history · model cas-register</span>")
	assert.Contains(t, page, "re-check: <code>faultline check -model cas-register -report r.html jepsen.edn</code>")
	assert.Contains(t, page, `<td class="name">linearizable</td><td><span class="badge v-invalid">invalid</span></td><td class="met">—</td>`)
	assert.Contains(t, page, "1ms → 6ms  :start-partition majority")
	assert.Contains(t, page, "7ms → never undone  :kill n1")
	assert.Contains(t, page, "2 ok · 0 fail · 1 info · 0 never completed")
	assert.Contains(t, page, `href="linearizability.html"`)
	assert.NotContains(t, page, "Configuration", "no run configuration for an external history")
	assertSelfContained(t, page)
	assert.Equal(t, page, renderHistory(t, h), "deterministic")

	valid := renderHistory(t, History{Name: "ok.jsonl", Ops: ops, Verdicts: []Verdict{{Result: checker.Result{Checker: "linearizable", Verdict: checker.Valid}}}})
	assert.Contains(t, valid, `<header class="c-ok">`)
	unknown := renderHistory(t, History{Name: "big.jsonl", Ops: ops, Verdicts: []Verdict{{Result: checker.Result{Checker: "linearizable", Verdict: checker.Unknown, Explanation: "budget ran out"}}}})
	assert.Contains(t, unknown, `<header class="c-unknown">`)
	assert.Contains(t, unknown, "never a pass")
}
