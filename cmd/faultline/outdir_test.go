package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/scenarios"
)

// TestOutDirsAreNamedByConfiguration: two ad-hoc configurations never share
// ad-hoc/seed-S (before, the second silently overwrote the first); the same
// configuration reuses its directory; a catalogued scenario without knobs
// keeps <scenario>/seed-S.
func TestOutDirsAreNamedByConfiguration(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		code, out, errOut := runArgs(append([]string{"run", "-seed", "3", "-out", dir, "-out-all"}, args...)...)
		require.Contains(t, []int{exitOK, exitCorrectness}, code, "%s%s", out, errOut)
	}
	run("-w", "1", "-r", "1", "-ops", "200")
	run("-w", "2", "-r", "1", "-ops", "200")
	run("-w", "2", "-r", "1", "-ops", "200")
	m, err := filepath.Glob(filepath.Join(dir, "ad-hoc", "cfg-*", "seed-3", "report.html"))
	require.NoError(t, err)
	assert.Len(t, m, 2, "one directory per configuration: %v", m)
	assert.NotEqual(t, filepath.Dir(filepath.Dir(m[0])), filepath.Dir(filepath.Dir(m[1])))

	run("-scenario", "strict-quorum")
	assert.FileExists(t, filepath.Join(dir, "strict-quorum", "seed-3", "report.html"))
	left, err := filepath.Glob(filepath.Join(dir, "*", ".tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary directory is left")
}

// TestOutDirCannotBeWritten: a seed directory that cannot be created (a
// file is in the way) is reported for the seed, in -json, and in the exit
// code, not swallowed with exit 0.
func TestOutDirCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "strict-quorum"), nil, 0o644))
	code, out, errOut := runArgs("run", "-scenario", "strict-quorum", "-seed", "1", "-ops", "200", "-out", dir, "-out-all", "-json")
	// With -ops the directory is strict-quorum/cfg-<hash>: blocked by the file.
	assert.Equal(t, exitIOError, code, "%s%s", out, errOut)
	lines := jsonLines(t, out)
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0]["write_error"], "not a directory")
	assert.Equal(t, "ok", lines[1]["class"])
	assert.Equal(t, float64(exitIOError), lines[1]["exit"])
	assert.Contains(t, errOut, "file not written")

	code, out, _ = runArgs("run", "-scenario", "strict-quorum", "-seed", "1", "-ops", "200", "-out", dir, "-out-all")
	assert.Equal(t, exitIOError, code)
	assert.Contains(t, out, "NOT WRITTEN (exit 74)")
}

func TestRateETA(t *testing.T) {
	assert.Equal(t, "rate -, ETA -", rateETA(0, 10, time.Second))
	assert.Equal(t, "2.0 seeds/s, ETA 4s", rateETA(2, 10, time.Second))
	assert.Equal(t, "0.5 seeds/s, ETA 1h0m0s", rateETA(1, 1801, 2*time.Second))

	// Progress lines carry the rate and the ETA; a log (not a terminal)
	// gets a line about every tenth and at least every progressEvery.
	var b []string
	w := writerFunc(func(p []byte) (int, error) { b = append(b, string(p)); return len(p), nil })
	p := newProgress(w)
	now := p.start
	p.now = func() time.Time { return now }
	r := &seedResult{out: scenarios.Outcome{Scenario: "swarm", Class: scenarios.ClassOK}}
	for i := 1; i <= 20; i++ {
		now = now.Add(time.Second)
		if i == 5 {
			now = now.Add(progressEvery)
		}
		p.seed(r, i, 100)
	}
	require.Len(t, b, 3, "%q", b) // 5 (a long pause), 10 and 20 (tenths)
	assert.Contains(t, b[0], "[5/100]")
	assert.Contains(t, b[1], "[10/100] 40s  0.2 seeds/s, ETA 6m0s")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestReplayOutFollowsTheSameRules: replay -out names an ad-hoc seed's
// directory by configuration like run does, and a write failure exits 74.
func TestReplayOutFollowsTheSameRules(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runArgs("replay", "-seed", "3", "-w", "1", "-r", "1", "-ops", "200", "-out", dir)
	require.Contains(t, []int{exitOK, exitCorrectness}, code, "%s%s", out, errOut)
	onlyDir(t, filepath.Join(dir, "ad-hoc", "cfg-*", "seed-3"))

	blocked := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(blocked, "ad-hoc"), nil, 0o644))
	code, out, _ = runArgs("replay", "-seed", "3", "-w", "1", "-r", "1", "-ops", "200", "-out", blocked)
	assert.Equal(t, exitIOError, code)
	assert.Contains(t, out, "writing files:")
}
