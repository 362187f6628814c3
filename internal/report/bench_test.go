package report

import (
	"io"
	"testing"

	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
)

// BenchmarkHTML renders the report of a 2000-operation run with faults
// (the size of the built-in scenarios' runs).
func BenchmarkHTML(b *testing.B) {
	cfg := scenarios.DefaultConfig()
	cfg.WorkloadConfig.Ops = 2000
	sched, err := nemesis.Parse("50ms partition-halves n0,n1|n2,n3,n4\n250ms heal\n300ms crash n2 lose-unsynced=false\n450ms restart n2\n")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Nemesis = sched
	c, err := cluster.New(cfg.Cluster(), 1)
	if err != nil {
		b.Fatal(err)
	}
	res, err := c.Run()
	if err != nil {
		b.Fatal(err)
	}
	results, err := cluster.Judge(res, scenarios.JudgeOptionsFor(cfg))
	if err != nil {
		b.Fatal(err)
	}
	run := Run{Scenario: "bench", Seed: 1, Class: "ok", Config: cfg, Result: res}
	for _, r := range results {
		run.Verdicts = append(run.Verdicts, Verdict{Result: r})
	}
	var n countingWriter
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := HTML(&n, run); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/page")
	b.ReportMetric(float64(len(res.Ops)), "ops/page")
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
