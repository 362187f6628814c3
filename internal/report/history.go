package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// History is an external history to report on, as `faultline check`
// judges it: the same page as a run's report.html, without the run's
// counters and configuration.
type History struct {
	// Name names the history on the page, e.g. its file name.
	Name string
	// Model is the model it was checked against (kv, register,
	// cas-register); empty if none.
	Model string
	// Command is the command line that re-checks it, shown where a run's
	// page shows its replay line; empty for none.
	Command string
	// Events is the number of events read (0: not shown).
	Events int
	// Ops is the history paired into operations (history.Pair), in call
	// order.
	Ops []history.Op
	// Windows are the nemesis's operations as spans to shade, e.g. each
	// Jepsen :nemesis :start paired with its :stop (End sim.Never when
	// never stopped). Family picks the colour (one this package does not
	// know is grey) and Label is the text shown. May be empty.
	Windows []nemesis.Window
	// Verdicts are the checkers' verdicts, in order; their witnesses are
	// numbered and marked on the operation with the same client and key
	// called (or completed) at the witness's time. Leave Expected empty
	// when nothing was expected.
	Verdicts []Verdict
	// Files lists sibling files the page links to (e.g. porcupine's
	// visualization), by name relative to the page.
	Files []string
}

// HistoryHTML writes h's report page to w, the same self-contained page as
// a run's report.html (zoomable timeline of every process, nemesis shaded,
// latency and throughput, verdicts and witnesses), for `faultline check
// -report FILE`; equal Histories give byte-identical pages.
func HistoryHTML(w io.Writer, h History) error {
	return writeView(w, historyView(h))
}

// historyView is what an external history's page shows.
func historyView(h History) *view {
	name := h.Name
	if name == "" {
		name = "history"
	}
	class, text := "ok", "no checker judged it"
	var invalid, unknown []string
	for _, v := range h.Verdicts {
		switch v.Verdict {
		case checker.Invalid:
			invalid = append(invalid, v.Checker)
		case checker.Unknown:
			unknown = append(unknown, v.Checker)
		}
	}
	switch {
	case len(invalid) > 0:
		class, text = "correctness", "invalid: "+strings.Join(invalid, ", ")+" found a violation"
	case len(unknown) > 0:
		class, text = "unknown", "unknown: "+strings.Join(unknown, ", ")+" could not decide (never a pass)"
	case len(h.Verdicts) > 0:
		class, text = "ok", "valid: no checker found a violation"
	}
	sub := "external history"
	if h.Model != "" {
		sub += " · model " + h.Model
	}
	failure := ""
	for _, v := range h.Verdicts {
		if v.Verdict != checker.Valid {
			failure = v.String()
			break
		}
	}
	v := &view{
		title: "faultline check: " + name, heading: name, sub: sub,
		class: class, classText: text, failure: failure, repro: h.Command, reproLabel: "re-check",
		ops: h.Ops, hasOps: true, windows: h.Windows, settleAt: sim.Never,
		verdicts: h.Verdicts, files: h.Files,
		footer: "faultline check report · times are as the history records them (nanoseconds; a history without times is timed by event order) · hover any operation or window for details",
	}
	v.extra = func(b *strings.Builder) { writeHistoryStats(b, h) }
	return v
}

// writeHistoryStats summarizes the history: its size, outcomes, kinds,
// processes, span and nemesis windows.
func writeHistoryStats(b *strings.Builder, h History) {
	var ok, fail, info, open int
	kinds := map[history.Kind]int{}
	procs := map[int]bool{}
	var last sim.Time
	for _, o := range h.Ops {
		switch {
		case o.End == sim.Never:
			open++
		case o.Outcome == history.OK:
			ok++
		case o.Outcome == history.Fail:
			fail++
		default:
			info++
		}
		kinds[o.Kind]++
		procs[o.Client] = true
		if o.End != sim.Never {
			last = max(last, o.End)
		} else {
			last = max(last, o.Call)
		}
	}
	b.WriteString("<section><h2>History</h2><dl class=\"stats\">")
	item := func(k, v string) { fmt.Fprintf(b, "<div><dt>%s</dt><dd>%s</dd></div>", esc(k), esc(v)) }
	if h.Events > 0 {
		item("events", strconv.Itoa(h.Events))
	}
	item("operations", fmt.Sprintf("%d ok · %d fail · %d info · %d never completed", ok, fail, info, open))
	var ks []string
	for _, k := range []history.Kind{history.Read, history.Write, history.CAS, history.Add, history.Delete} {
		if kinds[k] > 0 {
			ks = append(ks, fmt.Sprintf("%d %s", kinds[k], k))
		}
	}
	item("kinds", strings.Join(ks, " · "))
	item("processes", strconv.Itoa(len(procs)))
	item("span", fmtDur(time.Duration(last)))
	item("nemesis windows", strconv.Itoa(len(h.Windows)))
	if h.Model != "" {
		item("model", h.Model)
	}
	b.WriteString("</dl>\n")
	if len(h.Windows) > 0 {
		b.WriteString("<h3>Nemesis</h3><pre class=\"schedule\">")
		for _, w := range h.Windows {
			end := "never undone"
			if w.End != sim.Never {
				end = w.End.String()
			}
			fmt.Fprintf(b, "%s → %s  %s\n", esc(w.Start.String()), esc(end), esc(w.Label))
		}
		b.WriteString("</pre>\n")
	}
	b.WriteString("</section>\n")
}
