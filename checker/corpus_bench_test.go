package checker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline-sim/faultline/history"
)

// porcupineAlone checks ops with porcupine alone, on the same operations
// and the same model as Linearizable but without PatchInfo, the pre-pass,
// the budgets or the witness: the baseline of BenchmarkCorpus.
func porcupineAlone(ops []history.Op, opts LinearOptions) bool {
	in := ops
	if opts.HasInitial {
		in = nil
		for _, o := range ops {
			if !(o.Kind == history.Read && o.Outcome == history.OK && o.NotFound) {
				in = append(in, o)
			}
		}
	}
	model := opts.Model
	if model == "" {
		model = ModelKV
	}
	pops, _ := toPorcupine(in, model)
	return porcupine.CheckOperations(porcupineModel(opts), pops)
}

func loadCorpusOps(tb testing.TB, dir string, e corpusEntry) ([]history.Op, LinearOptions) {
	opts, err := corpusOptions(e.flags)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, e.file))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	p, err := history.ReadHistory(f)
	if err != nil {
		tb.Fatal(err)
	}
	ops, err := history.Pair(p.Events)
	if err != nil {
		tb.Fatal(err)
	}
	return ops, opts
}

// BenchmarkCorpus checks every judged history of the published corpus
// with Linearizable (default options) and with porcupine alone on the same
// operations. Each sub-benchmark is one file; besides ns/op (Linearizable,
// witness included) it reports porcupine-ns (porcupine alone, same loop)
// and x-porcupine, the ratio of the two (below 1: faster than porcupine),
// and verdict-ns and verdict-x-porcupine, the same without shrinking the
// witness of an invalid history (WitnessSteps 1). The totals are in
// BenchmarkCorpus/all. Run with -benchtime=1x for one pass:
//
//	go test ./checker -run '^$' -bench BenchmarkCorpus -benchtime=1x
func BenchmarkCorpus(b *testing.B) {
	dir := corpusDir(b)
	type item struct {
		name string
		ops  []history.Op
		opts LinearOptions
	}
	var items []item
	for _, e := range readManifest(b) {
		if e.verdict == "skip" {
			continue
		}
		ops, opts := loadCorpusOps(b, dir, e)
		items = append(items, item{e.file, ops, opts})
	}
	run := func(b *testing.B, its []item) {
		var porc, verdict time.Duration
		for b.Loop() {
			for _, it := range its {
				if _, err := Linearizable(it.ops, it.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			start := time.Now()
			for _, it := range its {
				porcupineAlone(it.ops, it.opts)
			}
			porc += time.Since(start)
			start = time.Now()
			for _, it := range its {
				o := it.opts
				o.WitnessSteps = 1 // the verdict without shrinking the witness
				if _, err := Linearizable(it.ops, o); err != nil {
					b.Fatal(err)
				}
			}
			verdict += time.Since(start)
			b.StartTimer()
		}
		ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		theirs := float64(porc.Nanoseconds()) / float64(b.N)
		b.ReportMetric(theirs, "porcupine-ns")
		b.ReportMetric(float64(verdict.Nanoseconds())/float64(b.N), "verdict-ns")
		if theirs > 0 {
			b.ReportMetric(ours/theirs, "x-porcupine")
			b.ReportMetric(float64(verdict.Nanoseconds())/float64(b.N)/theirs, "verdict-x-porcupine")
		}
	}
	b.Run("all", func(b *testing.B) { run(b, items) })
	for _, it := range items {
		b.Run(strings.ReplaceAll(it.name, "/", "_"), func(b *testing.B) { run(b, []item{it}) })
	}
}
