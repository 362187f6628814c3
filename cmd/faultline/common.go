package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/scenarios"
)

// Exit codes shared by the subcommands (docs/design.md §7); exitUsage is in
// main.go.
const (
	// exitOK: every verdict as expected (ad-hoc runs: nothing Invalid).
	exitOK = 0
	// exitCorrectness: a verdict differs from the expectation (ad-hoc runs:
	// something Invalid); for `check`, the history is not linearizable.
	exitCorrectness = 1
	// exitLiveness: a run hit a limit; for `check`, the verdict is unknown.
	exitLiveness = 2
	// exitCrash: a run panicked (recovered, with its seed).
	exitCrash = 3
)

// opCounts counts completed operations by outcome.
type opCounts struct {
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
}

func (c opCounts) String() string {
	return fmt.Sprintf("%d ok, %d fail, %d info", c.OK, c.Fail, c.Info)
}

// countOps counts ops by outcome (an operation that never completed is info).
func countOps(ops []history.Op) opCounts {
	var c opCounts
	for _, o := range ops {
		switch o.Outcome {
		case history.OK:
			c.OK++
		case history.Fail:
			c.Fail++
		default:
			c.Info++
		}
	}
	return c
}

// parseInterleaved parses args into fs allowing positional arguments between
// flags (`check FILE -model kv` as well as `check -model kv FILE`) and
// returns the positional ones. done and code are as for parseFlags.
func parseInterleaved(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, done bool, code int) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, true, 0
		}
		if err != nil {
			return nil, true, usageError(stderr, fs, "%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, false, 0
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), false, 0
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// plural formats n with noun, adding an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printChecks prints each judged checker's suite verdict on one line, e.g.
// "  linearizable: expected always-valid, got valid over 20 seeds: met".
func printChecks(w io.Writer, checks []scenarios.CheckSummary) {
	for _, c := range checks {
		if c.Expected == scenarios.Any {
			continue
		}
		mark := "met"
		if !c.Met {
			mark = "NOT MET"
		}
		fmt.Fprintf(w, "  %s: expected %s, got %s over %s: %s\n", c.Checker, c.Expected, c.Got(), plural(c.Judged(), "seed"), mark)
	}
}
