package scenarios

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Seed counts and the first seed for Run come from these flags (registered
// only in test binaries, so programs that import scenarios get no extra
// flags) or, when a flag is not given, from the environment variables
// FAULTLINE_SEEDS and FAULTLINE_SEED.
var (
	seedsFlag = new(int)
	seedFlag  = new(uint64)
)

func init() {
	if testing.Testing() {
		flag.IntVar(seedsFlag, "faultline.seeds", 0, "scenarios.Run: seeds per scenario (0: the spec's Seeds, fewer under -short; env FAULTLINE_SEEDS)")
		flag.Uint64Var(seedFlag, "faultline.seed", 0, "scenarios.Run: first seed (0: 1; env FAULTLINE_SEED)")
	}
}

// RunConfig says which seeds Run uses. The zero value means: the flags or
// environment if set, else the spec's Seeds starting at seed 1, halved
// (rounded up) under -short.
type RunConfig struct {
	// Seeds is the number of seeds; 0 means flags, environment or default.
	Seeds int
	// First is the first seed; 0 means flags, environment or 1.
	First uint64
}

// seeds resolves the seed list for spec: explicit config, then flag, then
// environment, then the spec's default.
func (rc RunConfig) seeds(spec Spec, short bool) ([]uint64, error) {
	n, first := rc.Seeds, rc.First
	if n == 0 {
		n = *seedsFlag
	}
	if n == 0 {
		if v, ok := os.LookupEnv("FAULTLINE_SEEDS"); ok && v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x < 1 {
				return nil, fmt.Errorf("FAULTLINE_SEEDS=%q: want a positive number of seeds", v)
			}
			n = x
		}
	}
	if n < 0 {
		return nil, fmt.Errorf("-faultline.seeds=%d: want a positive number of seeds", n)
	}
	if n == 0 {
		n = spec.Seeds
		if short {
			n = (n + 1) / 2
		}
	}
	if first == 0 {
		first = *seedFlag
	}
	if first == 0 {
		if v, ok := os.LookupEnv("FAULTLINE_SEED"); ok && v != "" {
			x, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("FAULTLINE_SEED=%q: want a seed (an unsigned integer)", v)
			}
			first = x
		}
	}
	if first == 0 {
		first = 1
	}
	return SeedRange(first, n), nil
}

// Run runs spec in a go test: one parallel subtest per seed (each seed's run
// is single-threaded), each failing with the line that replays it, then the
// suite rule for FoundInvalid expectations. The number of seeds and the
// first seed come from -faultline.seeds and -faultline.seed (or
// FAULTLINE_SEEDS and FAULTLINE_SEED), else from spec.Seeds, halved under
// -short.
//
//	func TestMyStore(t *testing.T) {
//		spec, err := scenarios.Lookup("strict-quorum")
//		require.NoError(t, err)
//		spec.Base.KV.ReadRepair = kv.RepairAsync // my change
//		scenarios.Run(t, spec)
//	}
func Run(t *testing.T, spec Spec) SuiteOutcome {
	t.Helper()
	return runWith(t, spec, RunConfig{}, callerLine(2))
}

// RunWith is Run with an explicit seed configuration.
func RunWith(t *testing.T, spec Spec, rc RunConfig) SuiteOutcome {
	t.Helper()
	return runWith(t, spec, rc, callerLine(2))
}

// callerLine returns "file.go:line" of the caller skip frames up, so a
// failing seed (reported in its own subtest) points at the user's test.
func callerLine(skip int) string {
	_, file, line, ok := runtime.Caller(skip)
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%s:%d", filepath.Base(file), line)
}

func runWith(t *testing.T, spec Spec, rc RunConfig, at string) SuiteOutcome {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatalf("%v", err)
	}
	seeds, err := rc.seeds(spec, testing.Short())
	if err != nil {
		t.Fatalf("scenarios: %v", err)
	}
	outcomes := make([]Outcome, len(seeds))
	errs := make([]error, len(seeds))
	t.Run(spec.Name, func(t *testing.T) {
		for i, seed := range seeds {
			i, seed := i, seed
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				o, err := RunSeed(spec, seed, RunOptions{})
				if err == nil && o.Class == ClassOK {
					o.Result = nil // a passing seed's run is not kept: memory stays flat in the seed count
				}
				outcomes[i], errs[i] = o, err
				if err != nil {
					t.Fatalf("%v", err)
				}
				if o.Class != ClassOK {
					t.Errorf("%s: %s seed %d: %s: %s\n%s", at, spec.Name, seed, o.Class, o.Failure, testRepro(t, spec, seed))
				}
			})
		}
	})
	if err := firstError(errs); err != nil {
		return SuiteOutcome{Scenario: spec.Name, Err: err}
	}
	suite := Summarize(spec, outcomes)
	for _, c := range suite.Checks {
		if c.Expected == FoundInvalid && !c.Met {
			t.Errorf("%s: %s: %s expected %s, but none of seeds %s was invalid (%s); run more seeds with -faultline.seeds=N (or FAULTLINE_SEEDS=N)",
				at, spec.Name, c.Checker, c.Expected, seedRange(seeds), c.Got())
		}
	}
	for _, c := range suite.Checks {
		t.Logf("%s: %s: expected %s, got %s over %d seeds", spec.Name, c.Checker, c.Expected, c.Got(), len(seeds))
	}
	return suite
}

// testRepro returns the lines that replay a failing seed: the CLI's for a
// built-in scenario, and the go test ones always, naming the package as a
// path from the module root so they work pasted there. The environment
// form also works under ./..., where packages that do not import
// scenarios have no -faultline flags.
func testRepro(t *testing.T, spec Spec, seed uint64) string {
	root, _, _ := strings.Cut(t.Name(), "/")
	pkg := packagePath()
	run := fmt.Sprintf("-run '^%s$'", regexp.QuoteMeta(root))
	line := fmt.Sprintf("replay: go test %s %s -faultline.seed=%d -faultline.seeds=1\n  or:   FAULTLINE_SEED=%d FAULTLINE_SEEDS=1 go test %s %s",
		pkg, run, seed, seed, pkg, run)
	if b, ok := registry[spec.Name]; ok && sameSpec(b, spec) {
		line = "replay: " + Repro(spec.Name, seed) + "\n  or:   " + line[len("replay: "):]
	}
	return line
}

// packagePath returns the test's package directory relative to its module
// root ("./mystore"), or "." when it cannot tell: go test runs a test
// binary in its package's directory.
func packagePath() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for root := dir; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "."
		}
		root = parent
	}
}

// sameSpec reports whether s is plausibly the unchanged built-in b (same
// base configuration and faults), so the CLI's repro line replays it.
func sameSpec(b, s Spec) bool {
	return fmt.Sprintf("%+v|%+v|%v", b.Base, b.Faults, b.Expect) == fmt.Sprintf("%+v|%+v|%v", s.Base, s.Faults, s.Expect)
}
