package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/nemesis"
)

// skewArgs is an ad-hoc configuration that is linearizable until a clock
// fault makes LWW order writes wrongly: seed 2 fails, and only through a
// fault.
var skewArgs = []string{"shrink", "-seed", "2", "-nemesis", "skew", "-ops", "300", "-json"}

func shrinkJSON(t *testing.T, args ...string) (int, shrinkResult, string) {
	t.Helper()
	code, out, errOut := runArgs(args...)
	var r shrinkResult
	if out != "" {
		require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	}
	return code, r, errOut
}

// TestShrinkKeepsTheFault: the minimal case is smaller, still fails the
// same way, keeps the clock fault it needs, and its schedule parses.
func TestShrinkKeepsTheFault(t *testing.T) {
	code, r, errOut := shrinkJSON(t, skewArgs...)
	require.Equal(t, exitCorrectness, code, errOut)
	assert.False(t, r.Passes)
	assert.Equal(t, "correctness: linearizable,lost-writes", r.Signature)
	assert.Less(t, r.Minimal.Lines, r.Original.Lines)
	assert.LessOrEqual(t, r.Minimal.Ops, r.Original.Ops)
	assert.Positive(t, r.Minimal.Faults, "without a clock fault the configuration is linearizable")
	sched, err := nemesis.Parse(r.Schedule)
	require.NoError(t, err)
	assert.Contains(t, sched.String(), "clock")
	assert.LessOrEqual(t, r.Runs, defaultShrinkRuns)

	// Determinism: the same shrink twice gives the same minimal case.
	_, again, _ := shrinkJSON(t, skewArgs...)
	assert.Equal(t, r.Schedule, again.Schedule)
	assert.Equal(t, r.Minimal, again.Minimal)
	assert.Equal(t, r.GoTest, again.GoTest)

	_, err = parser.ParseFile(token.NewFileSet(), "x_test.go", "package x\n\n"+r.GoTest, 0)
	require.NoError(t, err, r.GoTest)
	assert.Contains(t, r.GoTest, "cfg := "+defaultRunConfigGo)
	assert.Contains(t, r.GoTest, "nemesis.Parse(`")
	assert.Contains(t, r.GoTest, "scenarios.RunSeed(spec, 2,")

	// The text form names the schedule and the test.
	code, out, _ := runArgs(skewArgs[:len(skewArgs)-1]...)
	assert.Equal(t, exitCorrectness, code)
	assert.Contains(t, out, "minimal schedule (nemesis.Parse reads it):")
	assert.Contains(t, out, "func TestShrunkAdHocSeed2(t *testing.T)")
}

func TestShrinkBudgetAndPassingSeed(t *testing.T) {
	code, r, _ := shrinkJSON(t, "shrink", "-seed", "1", "-nemesis", "skew", "-ops", "300", "-json")
	assert.Equal(t, exitOK, code)
	assert.True(t, r.Passes, "seed 1 passes: nothing to shrink")

	code, r, _ = shrinkJSON(t, "shrink", "-seed", "2", "-nemesis", "skew", "-ops", "300", "-json", "-max-runs", "3")
	assert.Equal(t, exitCorrectness, code)
	assert.LessOrEqual(t, r.Runs, 3)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"shrink"}, "name the failing seed to shrink with -seed S"},
		{[]string{"shrink", "-seed", "x"}, `-seed "x": want a non-negative integer`},
		{[]string{"shrink", "-seed", "1", "-max-runs", "0"}, "-max-runs 0"},
		{[]string{"shrink", "-seed", "1", "-scenario", "nope"}, `unknown scenario "nope"`},
	} {
		code, out, errOut := runArgs(c.args...)
		assert.Equal(t, exitUsage, code, "%q", c.args)
		assert.Empty(t, out)
		assert.Equal(t, 1, countLines(errOut), errOut)
		assert.Contains(t, errOut, c.want)
	}
}

// TestShrunkGoTestFailsUntilFixed compiles and runs the generated tests (a
// scenario seed with knobs, and an ad-hoc seed) with go test: each must
// build and fail with the failure it was shrunk from, since the bug (here,
// the configuration) is still there. Skipped with -short (it runs the Go
// toolchain).
func TestShrunkGoTestFailsUntilFixed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on generated code")
	}
	_, named, _ := shrinkJSON(t, "shrink", "-scenario", "swarm", "-seed", "3", "-w", "1", "-r", "1", "-read-repair", "off", "-ops", "300", "-json")
	_, adhoc, _ := shrinkJSON(t, skewArgs...)
	require.False(t, named.Passes)
	require.False(t, adhoc.Passes)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("package shrunk\n\nimport (\n\t\"testing\"\n\n\t\"github.com/stretchr/testify/require\"\n\n")
	for _, p := range testImports(true, true) {
		b.WriteString("\t\"github.com/faultline-sim/faultline/" + p + "\"\n")
	}
	b.WriteString(")\n\n" + named.GoTest + "\n" + adhoc.GoTest)
	if !strings.Contains(named.GoTest, "nemesis.") && !strings.Contains(adhoc.GoTest, "nemesis.") {
		b.WriteString("\nvar _ = nemesis.Parse\n")
	}
	file := filepath.Join(dir, "shrunk_test.go")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o644))
	out, err := exec.Command("go", "test", "-count=1", file).CombinedOutput()
	require.Error(t, err, "the regression tests must fail while the bug is there:\n%s", out)
	text := string(out)
	assert.NotContains(t, text, "build failed", text)
	assert.Contains(t, text, "--- FAIL: TestShrunkSwarmSeed3")
	assert.Contains(t, text, "--- FAIL: TestShrunkAdHocSeed2")
	assert.Contains(t, text, "linearizable", "it fails for the reason it was shrunk from")
}
