// Package report turns one faultline run, or an external history that
// `faultline check` judged, into files a person can look at. Its page,
// report.html, is one self-contained document: the operations of every
// client on a zoomable timeline (reads and writes told apart, coloured by
// outcome), the nemesis windows shaded behind them, latency quantiles
// (p50, p95, p99, max) and throughput over time, and every checker's
// verdict with its numbered witnesses, which link to the operations they
// name. The page uses inline CSS, inline SVG and inline JavaScript that
// draws the charts from the page's own JSON data; it loads nothing, from
// the network or from disk. A page carries at most MaxPageOps operations,
// so even a very long run gives a page of a few megabytes.
//
// HTML and WriteDir write a simulated run's page and files; HistoryHTML
// writes an external history's page.
//
// Rendering is deterministic: equal inputs give byte-identical pages.
//
// Layer: report is at layer 4 (internal/tidy/layers.go), beside scenarios.
// It imports the standard library, sim, history, checker, nemesis and
// cluster, and nothing above; cmd/faultline imports it.
package report
