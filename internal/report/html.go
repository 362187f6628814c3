package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// Geometry of the charts, in SVG user units (the page scales them to its
// width).
const (
	chartWidth   = 1360.0
	marginLeft   = 96.0
	marginRight  = 18.0
	laneHeight   = 13.0
	barHeight    = 9.0
	bandRow      = 17.0
	axisHeight   = 30.0
	latHeight    = 240.0
	tickSpacing  = 110.0
	minBarWidth  = 1.5
	maxLaneLabel = 14
)

// familyColor is each nemesis family's colour (windows and their shading).
var familyColor = map[nemesis.Family]string{
	nemesis.FamilyPartition: "#8e5bd8",
	nemesis.FamilyCrash:     "#5d6470",
	nemesis.FamilyPause:     "#2f7ed8",
	nemesis.FamilySkew:      "#c2185b",
	nemesis.FamilyLoss:      "#00897b",
	nemesis.FamilyChurn:     "#8d6e63",
}

// HTML writes r's report page to w: one self-contained HTML document.
func HTML(w io.Writer, r Run) error {
	var b strings.Builder
	writePage(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// esc escapes s for HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// f1 formats a coordinate with one decimal.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// mark is one witness drawn on the timeline: the n-th violation, and the
// operation it names (-1 if it names none).
type mark struct {
	n       int
	checker string
	v       checker.Violation
	op      int
}

func writePage(b *strings.Builder, r Run) {
	title := fmt.Sprintf("faultline: %s seed %d", r.Scenario, r.Seed)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(b, "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(title), css)

	class := r.Class
	if class == "" {
		class = "ok"
	}
	fmt.Fprintf(b, "<header class=\"c-%s\"><h1>%s <span class=\"seed\">seed %d</span></h1>", esc(class), esc(r.Scenario), r.Seed)
	fmt.Fprintf(b, "<div class=\"class\">%s</div>", esc(classTitle(class)))
	if r.Failure != "" {
		fmt.Fprintf(b, "<p class=\"failure\">%s</p>", esc(shorten(r.Failure, maxHeaderFailure)))
	}
	if r.Repro != "" {
		fmt.Fprintf(b, "<p class=\"repro\">replay: <code>%s</code></p>", esc(r.Repro))
	}
	b.WriteString("</header>\n<main>\n")

	var ops []history.Op
	if r.Result != nil {
		ops = r.Result.Ops
	}
	marks := findMarks(r.Verdicts, ops)
	writeVerdicts(b, r.Verdicts, marks)
	if r.Result != nil {
		writeTimeline(b, r.Result, marks)
	}
	writeWitnesses(b, r.Verdicts, marks)
	if r.Result != nil {
		writeStats(b, r)
	}
	writeConfig(b, r)
	if len(r.Files) > 0 {
		b.WriteString("<section><h2>Files</h2><ul class=\"files\">")
		for _, f := range r.Files {
			fmt.Fprintf(b, "<li><a href=\"%s\">%s</a></li>", esc(f), esc(f))
		}
		b.WriteString("</ul></section>\n")
	}
	b.WriteString("</main>\n<footer>faultline report · virtual times are since the start of the run · hover any operation or window for details</footer>\n")
	fmt.Fprintf(b, "<script>%s</script>\n</body>\n</html>\n", script)
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
	n := 0
	for _, v := range vs {
		for _, w := range v.Witness {
			n++
			m := mark{n: n, checker: v.Checker, v: w, op: -1}
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
func writeWitnesses(b *strings.Builder, vs []Verdict, marks []mark) {
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
		b.WriteString("<table class=\"witness\"><tr><th>#</th><th>key</th><th>value</th><th>client</th><th>time</th><th>detail</th></tr>")
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
			onTimeline := ""
			if m.op < 0 {
				onTimeline = " class=\"off\" title=\"names no single operation; not marked on the timeline\""
			}
			fmt.Fprintf(b, "<tr><td><span class=\"wmark\"%s>%d</span></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				onTimeline, m.n, esc(strconv.Quote(m.v.Key)), esc(m.v.Value), client, esc(at), esc(m.v.Detail))
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</section>\n")
}

// lane is one client's row on the timeline.
type lane struct {
	client int
	final  bool
}

func lanesOf(ops []history.Op) ([]lane, map[int]int) {
	final := map[int]bool{}
	seen := map[int]bool{}
	for _, o := range ops {
		if !seen[o.Client] {
			seen[o.Client] = true
			final[o.Client] = true
		}
		if !o.Final {
			final[o.Client] = false
		}
	}
	clients := make([]int, 0, len(seen))
	for c := range seen {
		clients = append(clients, c)
	}
	sort.Ints(clients)
	lanes := make([]lane, len(clients))
	idx := make(map[int]int, len(clients))
	for i, c := range clients {
		lanes[i] = lane{client: c, final: final[c]}
		idx[c] = i
	}
	return lanes, idx
}

// timeAxis lays out the run's time: the workload (up to the last
// completion of a non-final operation, the last fault window and the
// settle start) and the final reads.
func timeAxis(res *cluster.Result, x0, x1 float64) axis {
	var work, fStart, fEnd sim.Time
	fStart = sim.Never
	for _, o := range res.Ops {
		end := o.End
		if end == sim.Never {
			end = o.Call
		}
		if o.Final {
			fStart = min(fStart, o.Call)
			fEnd = max(fEnd, end)
			continue
		}
		work = max(work, end)
	}
	for _, w := range res.Windows {
		if w.End != sim.Never {
			work = max(work, w.End)
		} else {
			work = max(work, w.Start)
		}
	}
	if res.SettleAt != sim.Never && (fStart == sim.Never || res.SettleAt < fStart) {
		work = max(work, res.SettleAt)
	}
	work += work / 50
	if fStart == sim.Never {
		fStart, fEnd = 0, 0
	}
	return newAxis(work, fStart, fEnd, x0, x1)
}

// packWindows assigns each window a band row so that windows in one row do
// not overlap on screen.
func packWindows(ws []nemesis.Window, ax axis) []int {
	rows := make([]int, len(ws))
	var ends []float64
	for i, w := range ws {
		x := ax.x(w.Start)
		r := 0
		for r < len(ends) && ends[r] > x {
			r++
		}
		if r == len(ends) {
			ends = append(ends, 0)
		}
		ends[r] = windowX1(w, ax) + 2
		rows[i] = r
	}
	return rows
}

func windowX1(w nemesis.Window, ax axis) float64 {
	if w.End == sim.Never {
		return ax.workEnd()
	}
	return max(ax.x(w.End), ax.x(w.Start)+minBarWidth)
}

func opTitle(o history.Op) string {
	s := o.String()
	if o.Err != "" {
		s += " — " + o.Err
	}
	if o.End != sim.Never {
		s += fmt.Sprintf(" (latency %s, node %s)", fmtDur(o.End.Sub(o.Call)), o.Node)
	} else {
		s += fmt.Sprintf(" (never completed, node %s)", o.Node)
	}
	return s
}

func writeTimeline(b *strings.Builder, res *cluster.Result, marks []mark) {
	ops := res.Ops
	lanes, laneOf := lanesOf(ops)
	x0, x1 := marginLeft, chartWidth-marginRight
	ax := timeAxis(res, x0, x1)
	rows := packWindows(res.Windows, ax)
	nrows := 0
	for _, r := range rows {
		nrows = max(nrows, r+1)
	}
	bandTop := 18.0
	lanesTop := bandTop + float64(nrows)*bandRow + 8
	lanesBottom := lanesTop + float64(len(lanes))*laneHeight
	height := lanesBottom + axisHeight

	keys := keysOf(ops)
	b.WriteString("<section><h2>Timeline</h2>\n<div class=\"legend\">")
	b.WriteString("<span><i class=\"sw ok\"></i>ok</span><span><i class=\"sw fail\"></i>fail (took effect nowhere)</span><span><i class=\"sw info\"></i>info (outcome unknown)</span><span><i class=\"sw open\"></i>never completed</span><span><i class=\"sw wit\"></i>witness</span>")
	for _, f := range nemesis.Families() {
		if hasFamily(res.Windows, f) {
			fmt.Fprintf(b, "<span><i class=\"sw\" style=\"background:%s;opacity:.55\"></i>%s</span>", familyColor[f], esc(f.String()))
		}
	}
	b.WriteString("</div>\n")
	if len(keys) > 1 {
		b.WriteString("<label class=\"keyf\">key <select id=\"keyf\"><option value=\"\">all keys</option>")
		for _, k := range keys {
			fmt.Fprintf(b, "<option value=\"%s\">%s</option>", esc(k), esc(strconv.Quote(k)))
		}
		b.WriteString("</select></label>\n")
	}
	fmt.Fprintf(b, "<svg class=\"chart\" id=\"timeline\" viewBox=\"0 0 %s %s\" xmlns=\"http://www.w3.org/2000/svg\">\n", f1(chartWidth), f1(height))
	b.WriteString("<defs><pattern id=\"hatch\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"2\" height=\"5\" fill=\"#e6a100\"/></pattern></defs>\n")

	// Lane stripes and labels.
	for i, l := range lanes {
		y := lanesTop + float64(i)*laneHeight
		if i%2 == 0 {
			fmt.Fprintf(b, "<rect class=\"stripe\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", f1(x0), f1(y), f1(x1-x0), f1(laneHeight))
		}
		label := "c" + strconv.Itoa(l.client)
		if l.final {
			label += " final"
		}
		fmt.Fprintf(b, "<text class=\"lane\" x=\"%s\" y=\"%s\">%s</text>\n", f1(x0-6), f1(y+laneHeight-3), esc(label))
	}
	fmt.Fprintf(b, "<text class=\"lane\" x=\"%s\" y=\"%s\">nemesis</text>\n", f1(x0-6), f1(bandTop+12))

	// Nemesis shading over the lanes, then the windows in their band.
	for _, w := range res.Windows {
		xa, xb := ax.x(w.Start), windowX1(w, ax)
		fmt.Fprintf(b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" opacity=\"0.13\"/>\n",
			f1(xa), f1(lanesTop), f1(xb-xa), f1(lanesBottom-lanesTop), familyColor[w.Family])
	}
	for i, w := range res.Windows {
		xa, xb := ax.x(w.Start), windowX1(w, ax)
		y := bandTop + float64(rows[i])*bandRow
		end := "never undone"
		if w.End != sim.Never {
			end = w.End.String()
		}
		fmt.Fprintf(b, "<g class=\"win\"><title>%s\n%s → %s</title><rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"2\" fill=\"%s\" opacity=\"0.85\"/>",
			esc(w.Label), esc(w.Start.String()), esc(end), f1(xa), f1(y), f1(xb-xa), f1(bandRow-3), familyColor[w.Family])
		if label := fitLabel(w.Label, xb-xa); label != "" {
			fmt.Fprintf(b, "<text class=\"wl\" x=\"%s\" y=\"%s\">%s</text>", f1(xa+3), f1(y+10.5), esc(label))
		}
		b.WriteString("</g>\n")
	}

	// Axis break and settle marker.
	if len(ax.segs) > 1 {
		gx := (ax.segs[0].x1 + ax.segs[1].x0) / 2
		fmt.Fprintf(b, "<rect class=\"brk\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", f1(ax.segs[0].x1+4), f1(lanesTop-4), f1(ax.segs[1].x0-ax.segs[0].x1-8), f1(lanesBottom-lanesTop+8))
		quiet := time.Duration(ax.segs[1].t0 - ax.segs[0].t1)
		fmt.Fprintf(b, "<text class=\"brkl\" x=\"%s\" y=\"%s\" transform=\"rotate(-90 %s %s)\">settle · %s</text>\n",
			f1(gx), f1((lanesTop+lanesBottom)/2), f1(gx), f1((lanesTop+lanesBottom)/2), esc(fmtDur(quiet)))
	}
	if res.SettleAt != sim.Never && res.SettleAt > 0 {
		sx := ax.x(res.SettleAt)
		fmt.Fprintf(b, "<line class=\"settle\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"><title>settle phase begins at %s</title></line>",
			f1(sx), f1(bandTop-4), f1(sx), f1(lanesBottom), esc(res.SettleAt.String()))
		fmt.Fprintf(b, "<text class=\"settlel\" x=\"%s\" y=\"%s\">settle</text>\n", f1(sx+3), f1(bandTop-6))
	}

	// Operations.
	marked := map[int][]int{}
	for _, m := range marks {
		if m.op >= 0 {
			marked[m.op] = append(marked[m.op], m.n)
		}
	}
	for i := range ops {
		o := &ops[i]
		y := lanesTop + float64(laneOf[o.Client])*laneHeight + (laneHeight-barHeight)/2
		xa := ax.x(o.Call)
		var xb float64
		cls := string(o.Outcome)
		if o.End == sim.Never {
			xb = ax.workEnd()
			if o.Final {
				xb = ax.segs[len(ax.segs)-1].x1
			}
			cls = "open"
		} else {
			xb = ax.x(o.End)
		}
		xb = max(xb, xa+minBarWidth)
		fmt.Fprintf(b, "<rect class=\"op %s\" data-k=\"%s\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"><title>%s</title></rect>\n",
			cls, esc(o.Key), f1(xa), f1(y), f1(xb-xa), f1(barHeight), esc(opTitle(*o)))
	}
	// Witness boxes; a number is printed above each unless it would
	// overlap the previous number in its lane (the box's tooltip still
	// names it).
	labelEnd := make([]float64, len(lanes))
	for _, i := range sortedKeysInt(marked) {
		o := &ops[i]
		y := lanesTop + float64(laneOf[o.Client])*laneHeight + (laneHeight-barHeight)/2
		xa := ax.x(o.Call)
		xb := ax.workEnd()
		if o.End != sim.Never {
			xb = ax.x(o.End)
		}
		xb = max(xb, xa+minBarWidth)
		ns := make([]string, len(marked[i]))
		for j, n := range marked[i] {
			ns[j] = strconv.Itoa(n)
		}
		fmt.Fprintf(b, "<rect class=\"wbox\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"><title>witness %s: %s</title></rect>",
			f1(xa-1.5), f1(y-1.5), f1(xb-xa+3), f1(barHeight+3), strings.Join(ns, ", "), esc(opTitle(*o)))
		label := strings.Join(ns, ",")
		if lane := laneOf[o.Client]; xa >= labelEnd[lane] {
			fmt.Fprintf(b, "<text class=\"wnum\" x=\"%s\" y=\"%s\">%s</text>", f1(xa), f1(y-2.5), label)
			labelEnd[lane] = xa + float64(len(label))*6.2 + 3
		}
		b.WriteString("\n")
	}

	// Time axis.
	writeAxis(b, ax, lanesBottom)
	b.WriteString("</svg>\n")
	writeLatency(b, res, ax)
	b.WriteString("</section>\n")
}

func writeAxis(b *strings.Builder, ax axis, y float64) {
	for _, s := range ax.segs {
		fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>", f1(s.x0), f1(y), f1(s.x1), f1(y))
	}
	for _, t := range ax.ticks(tickSpacing) {
		fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/><text class=\"tick\" x=\"%s\" y=\"%s\">%s</text>",
			f1(t.x), f1(y), f1(t.x), f1(y+4), f1(t.x), f1(y+16), esc(t.label))
	}
	b.WriteString("\n")
}

// fitLabel returns label, shortened to fit width pixels of 11px text, or
// "" if not even its first word fits.
func fitLabel(label string, width float64) string {
	const charW = 6.2
	maxChars := int((width - 6) / charW)
	if maxChars >= len(label) {
		return label
	}
	first, _, _ := strings.Cut(label, " ")
	if maxChars < len(first) {
		return ""
	}
	if maxChars < 2 {
		return ""
	}
	return label[:maxChars-1] + "…"
}

func writeLatency(b *strings.Builder, res *cluster.Result, ax axis) {
	var lo, hi time.Duration = math.MaxInt64, 0
	open := 0
	for _, o := range res.Ops {
		if o.End == sim.Never {
			open++
			continue
		}
		d := max(o.End.Sub(o.Call), time.Microsecond)
		lo, hi = min(lo, d), max(hi, d)
	}
	fmt.Fprintf(b, "<h3>Latency over time</h3>\n")
	if hi == 0 {
		b.WriteString("<p class=\"muted\">No operation completed.</p>\n")
		return
	}
	// Log scale between decades around [lo, hi].
	dlo := math.Pow(10, math.Floor(math.Log10(float64(lo))))
	dhi := math.Pow(10, math.Ceil(math.Log10(float64(hi))))
	if dhi <= dlo {
		dhi = dlo * 10
	}
	top, bottom := 10.0, latHeight-axisHeight
	y := func(d time.Duration) float64 {
		f := (math.Log10(float64(d)) - math.Log10(dlo)) / (math.Log10(dhi) - math.Log10(dlo))
		return bottom - f*(bottom-top)
	}
	x0, x1 := ax.segs[0].x0, ax.segs[len(ax.segs)-1].x1
	fmt.Fprintf(b, "<svg class=\"chart\" id=\"latency\" viewBox=\"0 0 %s %s\" xmlns=\"http://www.w3.org/2000/svg\">\n", f1(chartWidth), f1(latHeight))
	for _, w := range res.Windows {
		xa, xb := ax.x(w.Start), windowX1(w, ax)
		fmt.Fprintf(b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" opacity=\"0.13\"><title>%s</title></rect>\n",
			f1(xa), f1(top), f1(xb-xa), f1(bottom-top), familyColor[w.Family], esc(w.Label))
	}
	for dec := dlo; dec <= dhi*1.0001; dec *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := dec * m
			if v > dhi*1.0001 {
				break
			}
			yy := y(time.Duration(v))
			cls := "grid"
			if m == 1 {
				cls = "grid major"
			}
			fmt.Fprintf(b, "<line class=\"%s\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/><text class=\"lane\" x=\"%s\" y=\"%s\">%s</text>\n",
				cls, f1(x0), f1(yy), f1(x1), f1(yy), f1(x0-6), f1(yy+4), esc(fmtDur(time.Duration(v))))
		}
	}
	for _, o := range res.Ops {
		if o.End == sim.Never {
			continue
		}
		d := max(o.End.Sub(o.Call), time.Microsecond)
		fmt.Fprintf(b, "<circle class=\"pt %s\" data-k=\"%s\" cx=\"%s\" cy=\"%s\" r=\"2.3\"><title>%s</title></circle>\n",
			o.Outcome, esc(o.Key), f1(ax.x(o.Call)), f1(y(d)), esc(opTitle(o)))
	}
	writeAxis(b, ax, bottom)
	b.WriteString("</svg>\n")
	note := fmt.Sprintf("Each dot is one completed operation at its call time, by its latency (log scale). %d operations never completed and are not shown.", open)
	if open == 0 {
		note = "Each dot is one completed operation at its call time, by its latency (log scale)."
	}
	fmt.Fprintf(b, "<p class=\"muted\">%s</p>\n", esc(note))
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

func sortedKeysInt[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

const css = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
header{padding:18px 28px 14px;color:#fff;background:#2e7d4f}
header.c-correctness{background:#b3261e}header.c-liveness{background:#b26a00}header.c-crash{background:#5b1a6e}
h1{margin:0;font-size:22px;font-weight:650}h1 .seed{font-weight:400;opacity:.85}
header .class{font-size:15px;margin-top:2px;opacity:.95}
header .failure{margin:8px 0 0;font-size:13px;max-width:1300px;word-break:break-word}
header .repro{margin:8px 0 0}header code{background:rgba(0,0,0,.25);padding:2px 7px;border-radius:4px;font-size:13px}
main{padding:8px 28px 20px;max-width:1460px}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 18px;margin:14px 0}
h2{font-size:17px;margin:2px 0 10px}h3{font-size:14px;margin:14px 0 6px;color:#444}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #eceef2}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#667}
td.name{font-weight:600;white-space:nowrap}
td.unmet{color:#b3261e;font-weight:700}td.met{color:#555}
td.met,td.unmet{white-space:nowrap}
a.wlink{font-size:12.5px;white-space:nowrap;color:#1a56b0}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:650;font-size:12px;color:#fff}
.v-valid{background:#2e9d4f}.v-invalid{background:#d64545}.v-unknown{background:#8a8f98}
table.witness{margin:4px 0 10px;font-size:12.5px}table.witness td,table.witness th{padding:3px 6px}
.wmark{display:inline-block;min-width:18px;text-align:center;background:#111;color:#fff;border-radius:9px;font-size:11px;font-weight:700}
.wmark.off{background:#8a8f98}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;margin-bottom:6px}
.legend span{display:inline-flex;align-items:center;gap:5px}
.sw{display:inline-block;width:16px;height:10px;border-radius:2px}
.sw.ok{background:#2e9d4f}.sw.fail{background:#d64545}.sw.info{background:#e6a100}
.sw.open{background:repeating-linear-gradient(45deg,#e6a100 0 2px,#fff 2px 4px);outline:1px dashed #b07a00}
.sw.wit{background:#fff;outline:2px solid #111}
.keyf{font-size:12.5px;float:right;margin-top:-26px}
svg.chart{width:100%;height:auto;display:block;font-family:ui-monospace,Menlo,Consolas,monospace}
.stripe{fill:#f3f5f8}
.lane{font-size:11px;fill:#555;text-anchor:end}
.tick{font-size:10.5px;fill:#555;text-anchor:middle}
.axis{stroke:#888;stroke-width:1}
.op.ok{fill:#2e9d4f}.op.fail{fill:#d64545}.op.info{fill:#e6a100}
.op.open{fill:url(#hatch);stroke:#b07a00;stroke-width:.8;stroke-dasharray:3 2}
.op:hover,.pt:hover{stroke:#000;stroke-width:1.2}
.wl{font-size:10.5px;fill:#fff;pointer-events:none}
.brk{fill:#fff;stroke:#bbb;stroke-dasharray:4 3}
.brkl{font-size:11px;fill:#888;text-anchor:middle}
.settle{stroke:#333;stroke-width:1;stroke-dasharray:5 3}
.settlel{font-size:10.5px;fill:#333}
.wbox{fill:none;stroke:#111;stroke-width:2}
.wnum{font-size:10px;font-weight:700;fill:#111;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.grid{stroke:#eceef2;stroke-width:1}.grid.major{stroke:#d5d9e0}
.pt.ok{fill:#2e9d4f;fill-opacity:.75}.pt.fail{fill:#d64545}.pt.info{fill:#e6a100}
.dim{opacity:.08}
dl.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:6px 22px;margin:0}
dl.stats div{display:flex;gap:10px;border-bottom:1px solid #f0f1f4;padding:3px 0}
dt{color:#667;min-width:130px}dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
pre.schedule{background:#f7f8fa;border:1px solid #e4e7ec;border-radius:6px;padding:10px;font-size:12.5px;max-height:320px;overflow:auto}
.muted{color:#778;font-size:13px}
ul.files{margin:0;padding-left:18px}
footer{padding:6px 28px 24px;color:#889;font-size:12px}
`

const script = `
(function(){
  var sel=document.getElementById('keyf');
  if(!sel)return;
  sel.addEventListener('change',function(){
    var k=sel.value;
    document.querySelectorAll('[data-k]').forEach(function(el){
      el.classList.toggle('dim',k!==''&&el.getAttribute('data-k')!==k);
    });
  });
})();
`
