package scenarios_test

import (
	"fmt"

	"github.com/faultline-sim/faultline/scenarios"
)

// Run one seed of a built-in scenario and read its verdicts.
func ExampleRunSeed() {
	spec, err := scenarios.Lookup("weak-quorum")
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := scenarios.RunSeed(spec, 1, scenarios.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := out.Verdict("linearizable")
	fmt.Println(spec.ExpectSummary())
	fmt.Println("linearizable:", v, "class:", out.Class)
	fmt.Println(out.Repro)
	// Output:
	// linearizable=found-invalid
	// linearizable: invalid class: ok
	// go run ./cmd/faultline run -scenario weak-quorum -seed 1
}

// A suite applies the FoundInvalid rule across seeds: W+R<=N must show a
// stale read in at least one of them.
func ExampleRunSuite() {
	spec, err := scenarios.Lookup("weak-quorum")
	if err != nil {
		fmt.Println(err)
		return
	}
	suite := scenarios.RunSuite(spec, scenarios.DefaultSeeds(spec))
	lin, _ := suite.Summary("linearizable")
	fmt.Println("passed:", suite.Passed(), "met:", lin.Met, "seeds:", len(suite.Seeds))
	// Output:
	// passed: true met: true seeds: 3
}
