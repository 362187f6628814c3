package scenarios

import (
	"testing"
	"time"
)

// BenchmarkScenario runs each built-in scenario's seeds one after another
// (run and judge), reporting seeds/s, the simulated-to-wall time ratio and
// events per seed:
//
//	go test ./scenarios -run '^$' -bench BenchmarkScenario -benchtime 20x
func BenchmarkScenario(b *testing.B) {
	for _, spec := range List() {
		b.Run(spec.Name, func(b *testing.B) {
			var sim time.Duration
			var events uint64
			for i := 0; i < b.N; i++ {
				o, err := RunSeed(spec, uint64(i+1), RunOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if o.Class == ClassLiveness || o.Class == ClassCrash {
					b.Fatalf("%s seed %d: %s: %s", spec.Name, o.Seed, o.Class, o.Failure)
				}
				sim += o.SimTime
				events += o.Events
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
			b.ReportMetric(sim.Seconds()/b.Elapsed().Seconds(), "sim/wall")
			b.ReportMetric(float64(events)/float64(b.N), "events/seed")
		})
	}
}

// BenchmarkSuite runs the whole default suite (every scenario over its
// default seeds) on GOMAXPROCS goroutines, as the CLI's default command
// does, reporting suites/s and seeds/s.
func BenchmarkSuite(b *testing.B) {
	specs := List()
	seeds := 0
	for _, s := range specs {
		seeds += s.Seeds
	}
	for i := 0; i < b.N; i++ {
		for _, s := range RunSuites(specs, DefaultSeeds, 0, RunOptions{}, nil) {
			if !s.Passed() {
				b.Fatalf("%s: %v %v", s.Scenario, s.Err, s.Failures)
			}
		}
	}
	b.ReportMetric(float64(b.N*seeds)/b.Elapsed().Seconds(), "seeds/s")
}
