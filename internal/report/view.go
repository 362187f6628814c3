package report

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// MaxPageOps bounds the operations a page carries one by one. A longer
// history keeps every witness, failed, indeterminate, unfinished and final
// operation and an evenly spaced sample of the ok ones, and the page says
// so.
const MaxPageOps = 250_000

// pageBound is the size no page reaches, however long and odd its history
// (the tests hold the renderer to it): an operation costs about 35 bytes of
// page for faultline's own histories (200,000: about 6.6 MB) and at most
// about 150 (values, keys and errors are cut short, at most maxErrTexts
// distinct errors are kept); the whole-run strip and plots count every
// operation, carried or not.
const pageBound = 40 << 20

// view is what a page draws, however it was made: from a simulated run or
// from an external history.
type view struct {
	// title is the document title; heading and sub the page's h1.
	title, heading, sub string
	// class is the header colour (ok, correctness, liveness, crash,
	// unknown) and classText says it in words; failure and repro follow
	// it, repro introduced by reproLabel.
	class, classText, failure, repro, reproLabel string
	// ops is the history; hasOps is false when there is none (a run that
	// never ran).
	ops    []history.Op
	hasOps bool
	// nodes says whether ops name their coordinating node.
	nodes bool
	// windows are the nemesis windows; settleAt the settle phase's start
	// (sim.Never if none).
	windows  []nemesis.Window
	settleAt sim.Time
	verdicts []Verdict
	files    []string
	// why maps a witness number to the file that explains it.
	why map[int]string
	// extra writes the sections after the witnesses (run counters,
	// configuration).
	extra func(b *strings.Builder)
	// footer is the page's closing note.
	footer string
}

// pageData is the JSON the page's script draws the zoomable charts from.
// Times are nanoseconds; u values are positions on the axis in [0, 1].
type pageData struct {
	Lanes []string  `json:"lanes"`
	Keys  []string  `json:"keys"`
	Segs  []segData `json:"segs"`
	// OpenEnd is where an unfinished workload operation's bar ends, and
	// OpenEndFinal an unfinished final read's.
	OpenEnd      float64   `json:"openEnd"`
	OpenEndFinal float64   `json:"openEndFinal"`
	Settle       int64     `json:"settle"`
	Families     []famData `json:"fams"`
	Windows      []winData `json:"wins"`
	WinRows      int       `json:"winRows"`
	Ops          opData    `json:"ops"`
	// Total is the number of operations in the history; Sampled says the
	// page carries only some of them (Total > MaxPageOps).
	Total   int        `json:"total"`
	Sampled bool       `json:"sampled"`
	Marks   []markData `json:"marks"`
	Perf    perfSeries `json:"perf"`
}

type segData struct {
	T0 int64   `json:"t0"`
	T1 int64   `json:"t1"`
	U0 float64 `json:"u0"`
	U1 float64 `json:"u1"`
}

type famData struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

type winData struct {
	Start int64  `json:"s"`
	End   int64  `json:"e"` // -1: never undone
	Fam   int    `json:"f"` // index into pageData.Families
	Label string `json:"l"`
	Row   int    `json:"r"`
}

// opData is the operations column by column, in call order.
type opData struct {
	Lane []int `json:"l"`
	// Call is each call time minus the previous operation's (the first:
	// minus 0).
	Call []int64 `json:"c"`
	// Dur is End - Call, or -1 for an operation that never completed.
	Dur []int64 `json:"d"`
	// Out has one letter per operation: o ok, f fail, i info.
	Out string `json:"o"`
	// Kind has one letter per operation: r read, w write, c cas, a add,
	// d delete; upper case for a final operation.
	Kind string `json:"k"`
	Key  []int  `json:"key"`
	// Node indexes Nodes (omitted when the history names no nodes).
	Node  []int    `json:"n,omitempty"`
	Nodes []string `json:"nodes,omitempty"`
	// Val is what was written, the CAS "old→new", or what a read returned
	// ("[a b]" or "not-found"), shortened.
	Val []string `json:"v"`
	// Err lists [operation, index into Errs] for every operation with an
	// error.
	Err  [][2]int `json:"e"`
	Errs []string `json:"errs"`
	// Orig is each operation's index in the full history (only when
	// sampled).
	Orig []int `json:"orig,omitempty"`
}

type markData struct {
	N       int    `json:"n"`
	Op      int    `json:"op"` // index into opData, -1 if none
	Checker string `json:"ch"`
	Text    string `json:"t"`
	Color   string `json:"c"`
}

// Bounds on the text the page carries per operation, in bytes of JSON:
// what it wrote or read, its key, its error; and on the distinct errors.
const (
	maxValText  = 32
	maxKeyText  = 40
	maxErrText  = 160
	maxErrTexts = 1000
)

// fitJSON cuts s to at most n bytes once encoded in a JSON string (as
// encoding/json escapes it), marking a cut with an ellipsis.
func fitJSON(s string, n int) string {
	size := func(r rune) int {
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
			return 2
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
			return 6
		}
		return utf8.RuneLen(r)
	}
	total := 0
	for _, r := range s {
		total += size(r)
	}
	if total <= n {
		return s
	}
	used := len("…")
	for i, r := range s {
		if used+size(r) > n {
			return s[:i] + "…"
		}
		used += size(r)
	}
	return s
}

// errsOmitted stands for an error once the page holds maxErrTexts
// distinct ones.
const errsOmitted = "(error text not kept: too many distinct errors)"

var outLetter = map[history.Type]byte{history.OK: 'o', history.Fail: 'f', history.Info: 'i'}

var kindLetter = map[history.Kind]byte{history.Read: 'r', history.Write: 'w', history.CAS: 'c', history.Add: 'a', history.Delete: 'd'}

// valText says what an operation wrote or read.
func valText(o *history.Op) string {
	switch o.Kind {
	case history.Write, history.Add:
		return fitJSON(o.Value, maxValText)
	case history.CAS:
		return fitJSON(o.Expect+"→"+o.Value, maxValText)
	case history.Read:
		if o.Outcome != history.OK {
			return ""
		}
		if o.NotFound {
			return "not-found"
		}
		return fitJSON("["+strings.Join(o.Values, " ")+"]", maxValText)
	}
	return ""
}

// keep chooses the operations a page carries: all of them when there are
// at most limit, otherwise every operation in must, then (in this order of
// preference) the failed, indeterminate, unfinished and final operations
// and the ok ones, each class thinned evenly to what room is left. It
// returns the chosen indices in increasing order.
func keep(ops []history.Op, must map[int]bool, limit int) []int {
	all := make([]int, 0, min(len(ops), limit))
	if len(ops) <= limit {
		for i := range ops {
			all = append(all, i)
		}
		return all
	}
	var rare, common []int
	chosen := make([]bool, len(ops))
	room := limit
	for i := range ops {
		switch {
		case must[i]:
			if room > 0 {
				chosen[i] = true
				room--
			}
		case ops[i].Outcome != history.OK || ops[i].End == sim.Never || ops[i].Final:
			rare = append(rare, i)
		default:
			common = append(common, i)
		}
	}
	for _, class := range [][]int{rare, common} {
		take := min(room, len(class))
		for r, i := range class {
			// Keep the r-th of len(class) when the running quota ticks over.
			if (r+1)*take/len(class) > r*take/len(class) {
				chosen[i] = true
			}
		}
		room -= take
	}
	for i, c := range chosen {
		if c {
			all = append(all, i)
		}
	}
	return all
}

// lanesOf orders the clients of ops and names their lanes ("c3", or "c3
// final" for a client that only made final reads).
func lanesOf(ops []history.Op) ([]string, map[int]int) {
	final := map[int]bool{}
	for _, o := range ops {
		f, seen := final[o.Client]
		final[o.Client] = (f || !seen) && o.Final
	}
	clients := make([]int, 0, len(final))
	for c := range final {
		clients = append(clients, c)
	}
	sort.Ints(clients)
	names := make([]string, len(clients))
	idx := make(map[int]int, len(clients))
	for i, c := range clients {
		names[i] = "c" + strconv.Itoa(c)
		if final[c] {
			names[i] += " final"
		}
		idx[c] = i
	}
	return names, idx
}

// axisOf lays out the view's time on [0, 1]: the workload (up to the last
// completion of a non-final operation, the last fault window and the
// settle start) and the final reads.
func (v *view) axisOf() (axis, sim.Time) {
	var work, fStart, fEnd sim.Time
	fStart = sim.Never
	for _, o := range v.ops {
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
	for _, w := range v.windows {
		if w.End != sim.Never {
			work = max(work, w.End)
		} else {
			work = max(work, w.Start)
		}
	}
	if v.settleAt != sim.Never && (fStart == sim.Never || v.settleAt < fStart) {
		work = max(work, v.settleAt)
	}
	last := work
	work += work / 50
	if fStart == sim.Never {
		fStart, fEnd = 0, 0
	}
	return newAxis(work, fStart, fEnd, 0, 1), last
}

// packWindows assigns each window a band row so that windows in one row do
// not overlap (with a little room) on the axis.
func packWindows(ws []nemesis.Window, ax axis) ([]int, int) {
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
		end := ax.workEnd()
		if w.End != sim.Never {
			end = ax.x(w.End)
		}
		ends[r] = max(end, x) + 0.002
		rows[i] = r
	}
	return rows, len(ends)
}

// familyIndex maps a family to its index in pageData.Families.
func familyIndex(f nemesis.Family) int {
	fams := nemesis.Families()
	for i, g := range fams {
		if g == f {
			return i
		}
	}
	return len(fams) // unknown families share the last, neutral colour
}

// families lists every family with its colour, and a neutral colour for
// families this package does not know.
func families() []famData {
	var out []famData
	for _, f := range nemesis.Families() {
		c, ok := familyColor[f]
		if !ok {
			c = otherColor
		}
		out = append(out, famData{f.String(), c})
	}
	return append(out, famData{"other", otherColor})
}

// data builds what the page's script draws.
func (v *view) data(marks []mark) pageData {
	ax, last := v.axisOf()
	d := pageData{Settle: -1, Families: families(), Total: len(v.ops), Marks: []markData{}, Windows: []winData{}}
	for _, s := range ax.segs {
		d.Segs = append(d.Segs, segData{int64(s.t0), int64(s.t1), s.x0, s.x1})
	}
	d.OpenEnd = ax.workEnd()
	d.OpenEndFinal = ax.segs[len(ax.segs)-1].x1
	if v.settleAt != sim.Never && v.settleAt > 0 {
		d.Settle = int64(v.settleAt)
	}
	rows, nrows := packWindows(v.windows, ax)
	d.WinRows = nrows
	for i, w := range v.windows {
		end := int64(-1)
		if w.End != sim.Never {
			end = int64(w.End)
		}
		d.Windows = append(d.Windows, winData{int64(w.Start), end, familyIndex(w.Family), w.Label, rows[i]})
	}
	lanes, laneOf := lanesOf(v.ops)
	d.Lanes = lanes
	must := map[int]bool{}
	for _, m := range marks {
		if m.op >= 0 {
			must[m.op] = true
		}
	}
	kept := keep(v.ops, must, MaxPageOps)
	keptOps := make([]history.Op, len(kept))
	for j, i := range kept {
		keptOps[j] = v.ops[i]
	}
	keys := keysOf(keptOps)
	keyIdx := make(map[string]int, len(keys))
	for i, k := range keys {
		keyIdx[k] = i
		d.Keys = append(d.Keys, fitJSON(k, maxKeyText))
	}
	d.Sampled = len(kept) < len(v.ops)
	pos := make(map[int]int, len(must))
	od := &d.Ops
	n := len(kept)
	od.Lane, od.Call, od.Dur, od.Key, od.Val = make([]int, n), make([]int64, n), make([]int64, n), make([]int, n), make([]string, n)
	od.Errs, od.Err = []string{}, [][2]int{}
	var outs, kinds strings.Builder
	errIdx := map[string]int{}
	nodeIdx := map[sim.NodeID]int{}
	var nodeIDs []sim.NodeID
	prev := int64(0)
	for j, i := range kept {
		o := &v.ops[i]
		if must[i] {
			pos[i] = j
		}
		od.Lane[j] = laneOf[o.Client]
		od.Call[j] = int64(o.Call) - prev
		prev = int64(o.Call)
		od.Dur[j] = -1
		if o.End != sim.Never {
			od.Dur[j] = int64(o.End - o.Call)
		}
		outs.WriteByte(outLetter[o.Outcome])
		k, ok := kindLetter[o.Kind]
		if !ok {
			k = 'w'
		}
		if o.Final {
			k -= 'a' - 'A'
		}
		kinds.WriteByte(k)
		od.Key[j] = keyIdx[o.Key]
		od.Val[j] = valText(o)
		if o.Err != "" {
			text := o.Err
			if _, ok := errIdx[text]; !ok && len(od.Errs) >= maxErrTexts {
				text = errsOmitted
			}
			e, ok := errIdx[text]
			if !ok {
				e = len(od.Errs)
				errIdx[text] = e
				od.Errs = append(od.Errs, fitJSON(text, maxErrText))
			}
			od.Err = append(od.Err, [2]int{j, e})
		}
		if v.nodes {
			if _, ok := nodeIdx[o.Node]; !ok {
				nodeIdx[o.Node] = 0
				nodeIDs = append(nodeIDs, o.Node)
			}
		}
		if d.Sampled {
			od.Orig = append(od.Orig, i)
		}
	}
	od.Out, od.Kind = outs.String(), kinds.String()
	if v.nodes {
		sort.Slice(nodeIDs, func(a, b int) bool { return nodeIDs[a] < nodeIDs[b] })
		for i, id := range nodeIDs {
			nodeIdx[id] = i
			od.Nodes = append(od.Nodes, id.String())
		}
		od.Node = make([]int, n)
		for j, i := range kept {
			od.Node[j] = nodeIdx[v.ops[i].Node]
		}
	}
	for _, m := range marks {
		op := -1
		if m.op >= 0 {
			if j, ok := pos[m.op]; ok {
				op = j
			}
		}
		d.Marks = append(d.Marks, markData{N: m.n, Op: op, Checker: m.checker, Text: shorten(m.v.String(), 300), Color: m.color})
	}
	completed := 0
	for i := range v.ops {
		if !v.ops[i].Final && v.ops[i].End != sim.Never {
			completed++
		}
	}
	d.Perf = computePerf(v.ops, 0, max(last, 1), bucketsFor(completed))
	return d
}
