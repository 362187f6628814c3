package scenarios_test

import (
	"testing"
	"time"

	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
)

// TestMyStoreSurvivesPartitionsAndCrashes is the README's example: a user's
// own configuration, under the faults they care about, with the verdicts it
// must produce. Seeds: -faultline.seeds=N or FAULTLINE_SEEDS; fewer with -short.
func TestMyStoreSurvivesPartitionsAndCrashes(t *testing.T) {
	spec, err := scenarios.Lookup("strict-quorum") // start from a built-in scenario
	if err != nil {
		t.Fatal(err)
	}
	spec.Name = "my-store"
	spec.Base.Nodes = 5
	spec.Base.KV.N, spec.Base.KV.W, spec.Base.KV.R = 3, 2, 2
	spec.Base.KV.ReadRepair = kv.RepairBlocking // ABD write-back before a read returns
	spec.Base.KV.AntiEntropyIntervalTicks = 10  // Merkle anti-entropy every ~10 ms
	spec.Base.WorkloadConfig.Clients = 8
	spec.Base.WorkloadConfig.Ops = 1000
	spec.Faults.Mix, err = nemesis.ParseMix("partition,crash,pause")
	if err != nil {
		t.Fatal(err)
	}
	spec.Faults.Interval = 200 * time.Millisecond
	spec.Expect = map[string]scenarios.Expectation{
		"linearizable": scenarios.AlwaysValid, // every seed must be linearizable
		"lost-writes":  scenarios.AlwaysValid, // and lose no acknowledged write
		"convergence":  scenarios.AlwaysValid, // and converge once healed
	}
	scenarios.Run(t, spec) // on failure: the seed and the line that replays it
}
