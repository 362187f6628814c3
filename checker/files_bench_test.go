package checker

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline-sim/faultline/history"
)

var (
	checkFiles      = flag.String("faultline.check-files", "", "BenchmarkCheckFiles: a glob of history files to check (empty: skip)")
	porcupineBudget = flag.Duration("faultline.porcupine-timeout", time.Minute, "BenchmarkCheckFiles: porcupine's own timeout per file")
	porcupineMaxOps = flag.Int("faultline.porcupine-max-ops", 250_000, "BenchmarkCheckFiles: skip porcupine on files with more operations (its cache keeps a full bitset per entry: memory quadratic in a key's operations)")
)

// BenchmarkCheckFiles checks the history files -faultline.check-files
// names (e.g. the history.jsonl a run's -out writes) with Linearizable,
// as faultline check does (register model), and with porcupine alone on
// the same operations (porcupineAlone's conversion, porcupine's own
// timeout): sub-benchmarks FILE/faultline and FILE/porcupine. E.g.
// go test ./checker -run '^$' -bench CheckFiles -benchtime 1x -benchmem -faultline.check-files '/tmp/h/*.jsonl'
func BenchmarkCheckFiles(b *testing.B) {
	if *checkFiles == "" {
		b.Skip("set -faultline.check-files")
	}
	files, err := filepath.Glob(*checkFiles)
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		p, err := history.ReadHistory(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		ops, err := history.Pair(p.Events)
		if err != nil {
			b.Fatal(err)
		}
		name := strings.ReplaceAll(strings.TrimSuffix(path, filepath.Ext(path)), "/", "_")
		opts := LinearOptions{Model: ModelRegister}
		b.Run(name+"/faultline", func(b *testing.B) {
			for b.Loop() {
				res, err := Linearizable(ops, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(ops)), "ops")
				if res.Verdict != Valid {
					b.Logf("%s: %s", res.Verdict, res.Explanation)
				}
			}
		})
		b.Run(name+"/porcupine", func(b *testing.B) {
			if len(ops) > *porcupineMaxOps {
				b.Skipf("%d operations: over -faultline.porcupine-max-ops", len(ops))
			}
			pops, _ := toPorcupine(ops, ModelRegister)
			for b.Loop() {
				r := porcupine.CheckOperationsTimeout(porcupineModel(opts), pops, *porcupineBudget)
				b.ReportMetric(float64(len(ops)), "ops")
				if r != porcupine.Ok {
					b.Logf("porcupine: %s", r)
				}
			}
		})
	}
}
