package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/faultline-sim/faultline/scenarios"
)

// listJSON is `faultline list -json`'s object per scenario.
type listJSON struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Truth       string            `json:"truth"`
	Expect      map[string]string `json:"expect"`
	Seeds       int               `json:"seeds"`
}

func runList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", "[-json]\n\nLists the built-in scenarios: name, description, expected verdicts.")
	asJSON := fs.Bool("json", false, "print one JSON object per scenario")
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	specs := scenarios.List()
	if *asJSON {
		for _, s := range specs {
			e := map[string]string{}
			for name, x := range s.Expect {
				e[name] = string(x)
			}
			writeJSON(stdout, listJSON{Name: s.Name, Description: s.Description, Truth: s.Truth, Expect: e, Seeds: s.Seeds})
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, s := range specs {
		fmt.Fprintf(tw, "%s\t%s  [%s]\n", s.Name, s.Description, s.ExpectSummary())
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "faultline list: %v\n", err)
		return exitCorrectness
	}
	return exitOK
}
