package report

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// familyColor is each nemesis family's colour (windows and their shading).
var familyColor = map[nemesis.Family]string{
	nemesis.FamilyPartition: "#8e5bd8",
	nemesis.FamilyCrash:     "#5d6470",
	nemesis.FamilyPause:     "#2f7ed8",
	nemesis.FamilySkew:      "#c2185b",
	nemesis.FamilyLoss:      "#00897b",
	nemesis.FamilyChurn:     "#8d6e63",
	nemesis.FamilyStall:     "#ef6c00",
	nemesis.FamilyClog:      "#6d4c41",
}

// otherColor shades a window of a family the page has no colour for.
const otherColor = "#9e9e9e"

// HTML writes r's report page to w: one self-contained HTML document.
func HTML(w io.Writer, r Run) error {
	return writeView(w, runView(r))
}

// runView is what a simulated run's page shows.
func runView(r Run) *view {
	class := r.Class
	if class == "" {
		class = "ok"
	}
	v := &view{
		title:   fmt.Sprintf("faultline: %s seed %d", r.Scenario, r.Seed),
		heading: r.Scenario, sub: fmt.Sprintf("seed %d", r.Seed),
		class: class, classText: classTitle(class), failure: r.Failure, repro: r.Repro, reproLabel: "replay",
		nodes: true, settleAt: sim.Never, verdicts: r.Verdicts, files: r.Files,
		footer: "faultline report · virtual times are since the start of the run · hover any operation or window for details",
	}
	for _, w := range r.Why {
		if v.why == nil {
			v.why = map[int]string{}
		}
		v.why[w.Witness] = WhyFile(w.Witness)
	}
	if r.Result != nil {
		v.ops, v.hasOps = r.Result.Ops, true
		v.windows, v.settleAt = r.Result.Windows, r.Result.SettleAt
	}
	v.extra = func(b *strings.Builder) {
		if r.Result != nil {
			writeStats(b, r)
		}
		writeConfig(b, r)
	}
	return v
}

// writeView renders v as a page onto w.
func writeView(w io.Writer, v *view) error {
	var b strings.Builder
	if err := writePage(&b, v); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// esc escapes s for HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// f1 formats a coordinate with one decimal.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// mark is one witness: the n-th violation, and the operation it names (-1
// if it names none).
type mark struct {
	n       int
	checker string
	v       checker.Violation
	op      int
	color   string
}

// witnessColors tell apart the witnesses of successive checkers.
var witnessColors = []string{"#111111", "#6a1b9a", "#8d4a00", "#00695c", "#ad1457"}

func writePage(b *strings.Builder, v *view) error {
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(b, "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(v.title), css)
	fmt.Fprintf(b, "<header class=\"c-%s\"><h1>%s <span class=\"seed\">%s</span></h1>", esc(v.class), esc(v.heading), esc(v.sub))
	fmt.Fprintf(b, "<div class=\"class\">%s</div>", esc(v.classText))
	if v.failure != "" {
		fmt.Fprintf(b, "<p class=\"failure\">%s</p>", esc(shorten(v.failure, maxHeaderFailure)))
	}
	if v.repro != "" {
		fmt.Fprintf(b, "<p class=\"repro\">%s: <code>%s</code></p>", esc(v.reproLabel), esc(v.repro))
	}
	b.WriteString("</header>\n<main>\n")

	marks := findMarks(v.verdicts, v.ops)
	writeVerdicts(b, v.verdicts, marks)
	var data []byte
	if v.hasOps {
		d := v.data(marks)
		var err error
		if data, err = json.Marshal(d); err != nil {
			return fmt.Errorf("report: encoding the chart data: %w", err)
		}
		writeTimeline(b, v, &d, marks)
	}
	writeWitnesses(b, v.verdicts, marks, v.why)
	if v.extra != nil {
		v.extra(b)
	}
	if len(v.files) > 0 {
		b.WriteString("<section><h2>Files</h2><ul class=\"files\">")
		for _, f := range v.files {
			fmt.Fprintf(b, "<li><a href=\"%s\">%s</a></li>", esc(f), esc(f))
		}
		b.WriteString("</ul></section>\n")
	}
	fmt.Fprintf(b, "</main>\n<footer>%s</footer>\n", esc(v.footer))
	if data != nil {
		// json.Marshal escapes <, > and &, so the data cannot close its
		// script element.
		fmt.Fprintf(b, "<script type=\"application/json\" id=\"fl-data\">%s</script>\n<script>%s</script>\n", data, script)
	}
	b.WriteString("</body>\n</html>\n")
	return nil
}

// maxHeaderFailure bounds the failure line in the page header; the
// verdicts below carry the full explanations.
const maxHeaderFailure = 300

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// classTitle says in words how a run ended.
func classTitle(class string) string {
	switch class {
	case "ok":
		return "as expected"
	case "correctness":
		return "correctness failure: a verdict differs from its expectation"
	case "liveness":
		return "liveness failure: the run hit a limit"
	case "crash":
		return "crash: the run panicked"
	}
	return class
}

// findMarks numbers the witnesses of every checker and finds the operation
// each names (same client and key, called or completed at its time).
func findMarks(vs []Verdict, ops []history.Op) []mark {
	var out []mark
	n, ci := 0, 0
	for _, v := range vs {
		if len(v.Witness) == 0 {
			continue
		}
		color := witnessColors[ci%len(witnessColors)]
		ci++
		for _, w := range v.Witness {
			n++
			m := mark{n: n, checker: v.Checker, v: w, op: -1, color: color}
			if w.Client >= 0 {
				for i := range ops {
					o := &ops[i]
					if o.Client != w.Client || o.Key != w.Key {
						continue
					}
					if o.Call == w.Time {
						m.op = i
						break
					}
					if o.End == w.Time && m.op < 0 {
						m.op = i
					}
				}
			}
			out = append(out, m)
		}
	}
	return out
}

func writeVerdicts(b *strings.Builder, vs []Verdict, marks []mark) {
	b.WriteString("<section><h2>Verdicts</h2>\n")
	if len(vs) == 0 {
		b.WriteString("<p class=\"muted\">No checker judged this run (it did not finish).</p></section>\n")
		return
	}
	b.WriteString("<table class=\"verdicts\"><thead><tr><th>checker</th><th>verdict</th><th>expected</th><th>explanation</th></tr></thead><tbody>\n")
	mi := 0
	for _, v := range vs {
		exp := v.Expected
		if exp == "" {
			exp = "—"
		}
		okClass := "met"
		if !v.AsExpected && v.Expected != "" {
			okClass = "unmet"
		}
		fmt.Fprintf(b, "<tr><td class=\"name\">%s</td><td><span class=\"badge v-%s\">%s</span></td><td class=\"%s\">%s</td><td>%s",
			esc(v.Checker), esc(string(v.Verdict)), esc(string(v.Verdict)), okClass, esc(exp), esc(v.Explanation))
		if len(v.Witness) > 0 {
			first, last := marks[mi].n, marks[mi+len(v.Witness)-1].n
			mi += len(v.Witness)
			nums := fmt.Sprintf("%d", first)
			if last > first {
				nums = fmt.Sprintf("%d–%d", first, last)
			}
			fmt.Fprintf(b, " <a class=\"wlink\" href=\"#w-%s\">witness %s ↓</a>", esc(v.Checker), nums)
		}
		b.WriteString("</td></tr>\n")
	}
	b.WriteString("</tbody></table></section>\n")
}

// writeWitnesses lists every checker's witnesses, numbered as on the
// timeline.
func writeWitnesses(b *strings.Builder, vs []Verdict, marks []mark, why map[int]string) {
	if len(marks) == 0 {
		return
	}
	b.WriteString("<section><h2>Witnesses</h2>\n")
	mi := 0
	for _, v := range vs {
		if len(v.Witness) == 0 {
			continue
		}
		more := ""
		if v.Count > len(v.Witness) {
			more = fmt.Sprintf(" (the first %d of %d)", len(v.Witness), v.Count)
		}
		fmt.Fprintf(b, "<h3 id=\"w-%s\">%s: %s%s</h3>", esc(v.Checker), esc(v.Checker), esc(string(v.Verdict)), esc(more))
		b.WriteString("<table class=\"witness\"><tr><th>#</th><th>key</th><th>value</th><th>client</th><th>time</th><th>detail</th><th>why</th></tr>")
		for range v.Witness {
			m := marks[mi]
			mi++
			client, at := "—", "—"
			if m.v.Client >= 0 {
				client = "c" + strconv.Itoa(m.v.Client)
			}
			if m.v.Time != 0 {
				at = m.v.Time.String()
			}
			num := fmt.Sprintf("<a class=\"wmark\" href=\"#tl\" data-w=\"%d\" style=\"background:%s\" title=\"zoom the timeline on witness %d\">%d</a>", m.n, m.color, m.n, m.n)
			if m.op < 0 {
				num = fmt.Sprintf("<span class=\"wmark off\" title=\"names no single operation; not marked on the timeline\">%d</span>", m.n)
			}
			whyLink := "—"
			if f, ok := why[m.n]; ok {
				whyLink = fmt.Sprintf("<a class=\"why\" href=\"%s\" title=\"the trace slice that explains witness %d: the operation followed through its fan-out and replies, the writes it saw, the faults active then\">trace</a>", esc(f), m.n)
			}
			fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				num, esc(strconv.Quote(m.v.Key)), esc(m.v.Value), client, esc(at), esc(m.v.Detail), whyLink)
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</section>\n")
}

// maxKeyOptions is the most keys the key filter offers (beyond, there is
// no filter: a list that long is no help).
const maxKeyOptions = 500

// writeTimeline writes the timeline section: the legend, the zoom
// controls, the whole-run strip, the containers the script draws the
// zoomable timeline, latency and throughput charts in, and the latency
// summary.
func writeTimeline(b *strings.Builder, v *view, d *pageData, marks []mark) {
	b.WriteString("<section id=\"tl\"><h2>Timeline</h2>\n<div class=\"legend\">")
	b.WriteString("<span><i class=\"sw ok\"></i>ok</span><span><i class=\"sw fail\"></i>fail (took effect nowhere)</span><span><i class=\"sw info\"></i>info (outcome unknown)</span><span><i class=\"sw open\"></i>never completed</span>")
	b.WriteString("<span><i class=\"sw w\"></i>write, cas, add, delete: upper half of a lane, dark</span><span><i class=\"sw r\"></i>read: lower half, light</span><span><i class=\"sw wit\"></i>witness</span>")
	for _, f := range nemesis.Families() {
		if hasFamily(v.windows, f) {
			fmt.Fprintf(b, "<span><i class=\"sw\" style=\"background:%s;opacity:.55\"></i>%s</span>", familyColor[f], esc(f.String()))
		}
	}
	b.WriteString("</div>\n<div class=\"controls\"><button data-z=\"in\" title=\"zoom in (or drag across a chart, or ctrl+wheel)\">zoom in</button><button data-z=\"out\">zoom out</button>")
	b.WriteString("<button data-z=\"left\" title=\"pan left\">◀</button><button data-z=\"right\" title=\"pan right\">▶</button><button data-z=\"reset\" title=\"the whole run (or double-click a chart)\">whole run</button><span id=\"zrange\"></span>")
	if len(d.Keys) > 1 && len(d.Keys) <= maxKeyOptions {
		b.WriteString("<label class=\"keyf\">key <select id=\"keyf\"><option value=\"\">all keys</option>")
		for i, k := range d.Keys {
			fmt.Fprintf(b, "<option value=\"%d\">%s</option>", i, esc(strconv.Quote(k)))
		}
		b.WriteString("</select></label>")
	}
	b.WriteString("</div>\n")
	if d.Sampled {
		fmt.Fprintf(b, "<p class=\"note\">This history has %d operations; the page carries %d of them (every witness, failed, indeterminate, unfinished and final operation, and an evenly spaced sample of the ok ones), so that it stays small. The whole-run strip and the latency and throughput plots of the whole run count every operation; zoomed in, those plots keep the whole run's buckets.</p>\n",
			d.Total, len(d.Ops.Lane))
	}
	writeOverview(b, v, d, marks)
	fmt.Fprintf(b, "<svg class=\"chart\" id=\"timeline\" viewBox=\"0 0 %s 40\" xmlns=\"http://www.w3.org/2000/svg\"><defs><pattern id=\"hatch\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"2\" height=\"5\" fill=\"#e6a100\"/></pattern></defs></svg>\n", f1(chartWidth))
	b.WriteString("<noscript><p class=\"note\">The zoomable timeline, latency and throughput charts need JavaScript (inline in this page; nothing is fetched). The whole-run strip above, the verdicts and the witnesses need none.</p></noscript>\n")
	b.WriteString("<h3>Latency quantiles over time</h3>\n<div class=\"legend\">")
	for q, c := range []string{"#1f77b4", "#ff7f0e", "#d62728", "#555"} {
		fmt.Fprintf(b, "<span><i class=\"sw line\" style=\"background:%s\"></i>%s</span>", c, quantiles[q].name)
	}
	b.WriteString("<span><i class=\"sw ok\" style=\"width:6px;height:6px;border-radius:3px;opacity:.5\"></i>one operation (when few enough are in view)</span></div>\n")
	fmt.Fprintf(b, "<svg class=\"chart\" id=\"latency\" viewBox=\"0 0 %s 40\" xmlns=\"http://www.w3.org/2000/svg\"></svg>\n", f1(chartWidth))
	fmt.Fprintf(b, "<p class=\"muted\">Quantiles of the latency of ok operations, by call time, in buckets of about %d operations (%d to %d buckets across the view; log scale); writes above, reads below, each dot one operation when at most 6000 are in view. Final reads are left out. Nemesis windows are shaded.</p>\n", perBucket, minBuckets, maxBuckets)
	b.WriteString("<h3>Throughput</h3>\n<div class=\"legend\"><span><i class=\"sw line\" style=\"background:#1b7a3a\"></i>writes ok</span><span><i class=\"sw line\" style=\"background:#5fc27e\"></i>reads ok (dashed)</span><span><i class=\"sw line\" style=\"background:#d64545\"></i>fail</span><span><i class=\"sw line\" style=\"background:#e6a100\"></i>info</span></div>\n")
	fmt.Fprintf(b, "<svg class=\"chart\" id=\"throughput\" viewBox=\"0 0 %s 40\" xmlns=\"http://www.w3.org/2000/svg\"></svg>\n", f1(chartWidth))
	b.WriteString("<p class=\"muted\">Operations completed per second of virtual time, by completion time and outcome.</p>\n")
	writeLatencySummary(b, v.ops)
	b.WriteString("</section>\n")
}

// writeLatencySummary tabulates the latency quantiles of the whole run's
// ok reads and writes.
func writeLatencySummary(b *strings.Builder, ops []history.Op) {
	s := summarize(ops)
	b.WriteString("<table class=\"lat\"><thead><tr><th>ok operations</th><th>count</th>")
	for _, q := range quantiles {
		fmt.Fprintf(b, "<th>%s</th>", q.name)
	}
	b.WriteString("</tr></thead><tbody>")
	for _, g := range []int{groupWrite, groupRead} {
		name := "writes"
		if g == groupRead {
			name = "reads"
		}
		fmt.Fprintf(b, "<tr><td>%s</td><td class=\"num\">%d</td>", name, s[g].n)
		for _, q := range s[g].q {
			val := "—"
			if q >= 0 {
				val = fmtDur(time.Duration(q))
			}
			fmt.Fprintf(b, "<td class=\"num\">%s</td>", val)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>\n")
}

func writeStats(b *strings.Builder, r Run) {
	st := r.Result.Stats
	b.WriteString("<section><h2>Run</h2><dl class=\"stats\">")
	item := func(k, v string) { fmt.Fprintf(b, "<div><dt>%s</dt><dd>%s</dd></div>", esc(k), esc(v)) }
	item("operations", fmt.Sprintf("%d ok · %d fail · %d info · %d pending", st.OK, st.Fail, st.Info, st.Pending))
	item("latency (ok)", fmt.Sprintf("p50 %s · p99 %s · max %s", fmtDur(st.P50), fmtDur(st.P99), fmtDur(st.Max)))
	item("virtual time", fmtDur(st.SimTime))
	if r.WallTime > 0 {
		item("wall time", fmtDur(r.WallTime.Round(time.Microsecond)))
	}
	item("events", strconv.FormatUint(st.Events, 10))
	item("messages", fmt.Sprintf("%d sent · %d delivered · %d dropped", st.Net.Sent, st.Net.Delivered, st.Net.Dropped()))
	item("bytes sent", strconv.FormatUint(st.Net.BytesSent, 10))
	item("read repairs", strconv.FormatUint(st.Counter(kv.CounterReadRepairs), 10))
	item("hints", fmt.Sprintf("%d stored · %d delivered", st.Counter(kv.CounterHintsStored), st.Counter(kv.CounterHintsDelivered)))
	item("crashes", strconv.Itoa(len(r.Result.Crashes)))
	item("trace hash", fmt.Sprintf("%016x", r.Result.TraceHash))
	b.WriteString("</dl></section>\n")
}

func writeConfig(b *strings.Builder, r Run) {
	s := SettingsOf(r.Config)
	b.WriteString("<section><h2>Configuration</h2><dl class=\"stats\">")
	item := func(k, v string) { fmt.Fprintf(b, "<div><dt>%s</dt><dd>%s</dd></div>", esc(k), esc(v)) }
	item("cluster", fmt.Sprintf("%d nodes · N=%d W=%d R=%d", s.Nodes, s.N, s.W, s.R))
	item("quorum · resolve", s.Quorum+" · "+s.Resolve)
	item("read repair", s.ReadRepair)
	item("hinted handoff · anti-entropy", fmt.Sprintf("%t · %s", s.HintedHandoff, s.AntiEntropy))
	if s.Shards > 0 {
		item("ring", fmt.Sprintf("%d fixed shards", s.Shards))
	} else {
		item("ring", fmt.Sprintf("%d vnodes per node", s.VNodes))
	}
	item("sync before ack", strconv.FormatBool(s.Sync))
	item("workload", fmt.Sprintf("%s · %d clients · %d keys · %d ops", s.Workload, s.Clients, s.Keys, s.Ops))
	b.WriteString("</dl>\n")
	fmt.Fprintf(b, "<h3>Nemesis schedule (%d faults)</h3>\n", s.Faults)
	if len(r.Config.Nemesis) == 0 {
		b.WriteString("<p class=\"muted\">No faults.</p>\n")
	} else {
		fmt.Fprintf(b, "<pre class=\"schedule\">%s</pre>\n", esc(r.Config.Nemesis.String()))
	}
	if r.Result != nil && len(r.Result.TargetErrors) > 0 {
		b.WriteString("<h3>Faults the cluster refused</h3><ul>")
		for _, e := range r.Result.TargetErrors {
			fmt.Fprintf(b, "<li>%s</li>", esc(e))
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("</section>\n")
}

func keysOf(ops []history.Op) []string {
	seen := map[string]bool{}
	var keys []string
	for _, o := range ops {
		if !seen[o.Key] {
			seen[o.Key] = true
			keys = append(keys, o.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

func hasFamily(ws []nemesis.Window, f nemesis.Family) bool {
	for _, w := range ws {
		if w.Family == f {
			return true
		}
	}
	return false
}
