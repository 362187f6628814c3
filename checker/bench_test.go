package checker

import (
	"testing"
	"time"

	"github.com/faultline-sim/faultline/history"
)

// benchSeeds are the histories each benchmark iteration checks.
const benchSeeds = 8

// benchHistories generates benchSeeds histories of 2000 operations by 5
// clients on 2 keys: half writes, 5% of the writes info (timed out; half of
// those took effect, possibly late), 3% of operations 30 times slower than
// usual. With stale set, one read of k0 past the middle returns the first
// value ever written to k0, which makes the history non-linearizable.
func benchHistories(stale bool) [][]history.Op {
	out := make([][]history.Op, benchSeeds)
	for s := range out {
		ops := generate(genConfig{ops: 2000, clients: 5, keys: 2, infoWrites: 0.05, slow: 0.03, seed: uint64(s + 1)})
		if stale {
			injectStaleRead(ops)
		}
		out[s] = ops
	}
	return out
}

// injectStaleRead makes the first ok non-final read of k0 after the middle
// of ops return the first value acknowledged on k0.
func injectStaleRead(ops []history.Op) {
	var first string
	for _, o := range ops {
		if o.Key == "k0" && o.Kind == history.Write && o.Outcome == history.OK {
			first = o.Value
			break
		}
	}
	for i := len(ops) / 2; i < len(ops); i++ {
		if o := &ops[i]; o.Key == "k0" && o.Kind == history.Read && o.Outcome == history.OK && !o.Final && !contains(o.Values, first) {
			o.Values, o.NotFound = []string{first}, false
			return
		}
	}
}

// BenchmarkLinearizable measures Linearizable with and without the
// info-write patch, on linearizable histories ("valid") and on the same
// histories with one stale read ("stale-read"). One iteration checks
// benchSeeds histories; ms/history is per history. Each unpatched
// sub-benchmark reports "x-patched", its time over the patched one's, and
// "timed-out", the histories whose unpatched check ran out of a budget
// (the default step budget, or the 10 s wall-clock safety net)
// (then the ratio is a lower bound, and the verdict Unknown instead of
// Invalid: what the patch is for).
func BenchmarkLinearizable(b *testing.B) {
	const budget = 10 * time.Second
	for _, variant := range []struct {
		name string
		want Verdict
	}{{"valid", Valid}, {"stale-read", Invalid}} {
		histories := benchHistories(variant.want == Invalid)
		var patchedPerOp float64
		for _, noPatch := range []bool{false, true} {
			name := variant.name + "/patched"
			if noPatch {
				name = variant.name + "/unpatched"
			}
			b.Run(name, func(b *testing.B) {
				timedOut := 0
				for b.Loop() {
					timedOut = 0
					for i, ops := range histories {
						res, err := Linearizable(ops, LinearOptions{Timeout: budget, NoPatch: noPatch})
						switch {
						case err != nil:
							b.Fatal(err)
						case res.Verdict == Unknown && noPatch:
							timedOut++
						case res.Verdict != variant.want:
							b.Fatalf("history %d: %s, want %s: %s", i, res.Verdict, variant.want, res.Explanation)
						}
					}
				}
				perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(perOp/1e6/float64(len(histories)), "ms/history")
				if !noPatch {
					patchedPerOp = perOp
					return
				}
				b.ReportMetric(float64(timedOut), "timed-out")
				if patchedPerOp > 0 {
					b.ReportMetric(perOp/patchedPerOp, "x-patched")
				}
			})
		}
	}
}

// TestBenchHistoriesAreWhatTheySay keeps the benchmark honest.
func TestBenchHistoriesAreWhatTheySay(t *testing.T) {
	if testing.Short() {
		t.Skip("checks 16 histories of 2000 operations")
	}
	for _, stale := range []bool{false, true} {
		for i, ops := range benchHistories(stale) {
			infos := 0
			for _, o := range ops {
				if o.Outcome == history.Info {
					infos++
				}
			}
			if infos < 25 || infos > 80 {
				t.Errorf("history %d: %d info writes, want about 50", i, infos)
			}
			res, err := Linearizable(ops, LinearOptions{Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			want := Valid
			if stale {
				want = Invalid
			}
			if res.Verdict != want {
				t.Errorf("history %d (stale %v): %s: %s", i, stale, res.Verdict, res.Explanation)
			}
		}
	}
}
