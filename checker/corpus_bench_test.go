package checker

import (
	"os"
	"path/filepath"
	"testing"

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
