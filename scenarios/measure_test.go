package scenarios

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	measure     = flag.Int("faultline.measure", 0, "TestMeasure: run every scenario over this many seeds and print the verdict rates (slow)")
	measureOnly = flag.String("faultline.only", "", "TestMeasure: only the scenarios whose name contains this")
)

// TestMeasure prints, per scenario, how many of -faultline.measure seeds
// gave each verdict, whether each expectation held, lost writes, faults
// and wall time per seed. It is how the catalogue's rates were measured:
//
//	go test ./scenarios -run TestMeasure -faultline.measure=50 -v
func TestMeasure(t *testing.T) {
	if *measure <= 0 {
		t.Skip("run with -faultline.measure=N")
	}
	var specs []Spec
	for _, s := range List() {
		if strings.Contains(s.Name, *measureOnly) {
			specs = append(specs, s)
		}
	}
	start := time.Now()
	suites := RunSuites(specs, func(Spec) []uint64 { return SeedRange(1, *measure) }, runtime.GOMAXPROCS(0), RunOptions{}, nil)
	var b strings.Builder
	for _, s := range suites {
		if s.Err != nil {
			fmt.Fprintf(&b, "%s: %v\n", s.Scenario, s.Err)
			continue
		}
		lost, faults := 0, 0
		var slowest time.Duration
		cov, minCov := 0.0, 1.0
		for _, o := range s.Outcomes {
			lost += o.Lost
			faults += o.Faults
			slowest = max(slowest, o.WallTime)
			cov += o.FaultCoverage
			minCov = min(minCov, o.FaultCoverage)
		}
		var parts []string
		for _, c := range s.Checks {
			mark := ""
			if !c.Met {
				mark = " NOT MET"
			}
			parts = append(parts, fmt.Sprintf("%s[%s] invalid %d/%d%s", c.Checker, c.Expected.Short(), c.Invalid, c.Judged(), mark))
		}
		n := time.Duration(len(s.Outcomes))
		fmt.Fprintf(&b, "%-30s %-11s %s | lost %d, %.1f faults/seed, fault coverage %.2f (min %.2f), %v/seed (max %v)\n", s.Scenario, s.Class, strings.Join(parts, ", "),
			lost, float64(faults)/float64(n), cov/float64(n), minCov, (s.WallTime / n).Round(time.Millisecond), slowest.Round(time.Millisecond))
		for i, f := range s.Failures {
			if i < 3 {
				fmt.Fprintf(&b, "    %s\n", f)
			}
		}
	}
	t.Logf("%d seeds per scenario in %v:\n%s", *measure, time.Since(start).Round(time.Millisecond), b.String())
}
