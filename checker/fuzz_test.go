package checker

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// FuzzCheckEDN feeds arbitrary Jepsen EDN through the whole `faultline
// check` path (ReadEDN, Pair, every model, LostWrites, Siblings): errors
// are fine, panics are not.
func FuzzCheckEDN(f *testing.F) {
	for _, name := range []string{"testdata/jepsen-cas-register-valid.edn", "testdata/jepsen-cas-register-invalid.edn"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("{:process 0 :type :invoke :f :append :key 1 :value 2}\n{:process 0 :type :ok :f :append :key 1 :value 2}\n{:process 1 :type :invoke :f :read :key 1}\n{:process 1 :type :ok :f :read :key 1 :value [2]}")
	f.Fuzz(func(t *testing.T, in string) {
		events, err := history.ReadEDN(strings.NewReader(in))
		if err != nil {
			return
		}
		ops, err := history.Pair(events)
		if err != nil {
			return
		}
		for _, m := range []Model{ModelKV, ModelRegister, ModelCASRegister} {
			res, err := Linearizable(ops, LinearOptions{Model: m, Timeout: 50 * time.Millisecond})
			if err == nil && res.Verdict != Valid && res.Verdict != Invalid && res.Verdict != Unknown {
				t.Fatalf("verdict %q", res.Verdict)
			}
		}
		_, _ = LostWrites(ops, LostOptions{})
		_, _ = LostWrites(ops, LostOptions{Causal: true})
		_, _ = Siblings(ops)
		_, _ = Durability(ops, []sim.Time{1, 1 << 40}, LostOptions{})
	})
}
