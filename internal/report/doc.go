// Package report turns one faultline run into files a person can look at:
// report.html (a single self-contained page: the operations of every client
// on a timeline coloured by outcome, the nemesis windows shaded behind them,
// latency over time, and every checker's verdict with its witness), the
// history as JSON lines, the nemesis schedule in its text form, and
// porcupine's linearizability visualization when the history is not
// linearizable. The page uses inline CSS, inline SVG and a few lines of
// inline JavaScript; it loads nothing from the network.
//
// Rendering is deterministic: equal runs give byte-identical pages.
//
// Layer: report is at layer 4 of DESIGN.md §2, beside scenarios. It imports
// the standard library, sim, history, checker, nemesis,
// kv and cluster, and nothing above; cmd/faultline imports it.
package report
