package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shardOutput runs one shard of a small swarm in-process and returns its
// -json output.
func shardOutput(t *testing.T, k, i string, extra ...string) string {
	t.Helper()
	args := append([]string{"swarm", "-seeds", "6", "-ops", "200", "-json", "-shards", k, "-shard", i}, extra...)
	code, out, errOut := runArgs(args...)
	require.Contains(t, []int{exitOK, exitCorrectness}, code, errOut)
	return out
}

// rewrite changes field to value on every line of out.
func rewrite(t *testing.T, out, field string, value any) string {
	t.Helper()
	var b strings.Builder
	for _, l := range jsonLines(t, out) {
		l[field] = value
		j, err := json.Marshal(l)
		require.NoError(t, err)
		b.Write(append(j, '\n'))
	}
	return b.String()
}

func writeFiles(t *testing.T, contents ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i, c := range contents {
		f := filepath.Join(dir, "part"+string(rune('a'+i))+".jsonl")
		require.NoError(t, os.WriteFile(f, []byte(c), 0o644))
		files = append(files, f)
	}
	return files
}

func mergeArgs(files ...string) []string { return append([]string{"merge", "-json"}, files...) }

func TestMergeJoinsAndDeduplicates(t *testing.T) {
	s0, s1 := shardOutput(t, "2", "0"), shardOutput(t, "2", "1")
	files := writeFiles(t, s0, s1, s1) // shard 1 given twice: a retried pod
	code, out, errOut := runArgs(mergeArgs(files...)...)
	require.Equal(t, exitOK, code, errOut)
	var m mergeJSON
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Equal(t, 6, m.Seeds, "every seed once")
	assert.Equal(t, 3, m.Duplicates, "shard 1's three seeds were dropped once")
	assert.Equal(t, map[string]int{"ok": 6}, m.Classes)
	assert.Empty(t, m.MissingShards)
	assert.Equal(t, &seedRangeJSON{First: 1, Count: 6}, m.Range)

	// A seed seen twice with different trace hashes is nondeterminism.
	lines := strings.SplitAfter(s1, "\n")
	var l map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &l))
	l["trace_hash"] = "0000000000000000"
	j, _ := json.Marshal(l)
	files = writeFiles(t, s0, s1, string(j)+"\n")
	code, _, errOut = runArgs(mergeArgs(files...)...)
	assert.Equal(t, exitCrash, code)
	assert.Contains(t, errOut, "nondeterminism")
}

// TestMergeRefuses: mixed builds, configurations, shard counts or seed
// ranges, non-JSON input and output without stamps are usage errors that
// say what to change; missing shards are named.
func TestMergeRefuses(t *testing.T) {
	s0, s1 := shardOutput(t, "2", "0"), shardOutput(t, "2", "1")
	other := shardOutput(t, "2", "1", "-w", "1")
	wider := shardOutput(t, "2", "1", "-seeds", "8")
	three := shardOutput(t, "3", "1")
	dir := t.TempDir()
	text := filepath.Join(dir, "text.txt")
	require.NoError(t, os.WriteFile(text, []byte("swarm: 6 seeds (1-6) on 2 goroutines\n"), 0o644))
	noStamp := filepath.Join(dir, "old.jsonl")
	require.NoError(t, os.WriteFile(noStamp, []byte(`{"scenario":"swarm","seed":1,"class":"ok","trace_hash":"ab"}`+"\n"), 0o644))
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	for _, c := range []struct {
		name  string
		files []string
		want  string
	}{
		{"builds", writeFiles(t, s0, rewrite(t, s1, "build", "git:0123456789ab go1.26.8")), `from build "git:0123456789ab go1.26.8" but`},
		{"configs", writeFiles(t, s0, other), "the shards ran different configurations"},
		{"shard counts", writeFiles(t, s0, three), "is a shard of 3 but"},
		{"ranges", writeFiles(t, s0, wider), "the shards ran different seed ranges"},
		{"not JSON", []string{text}, "text.txt:1 is not a JSON object: merge reads the -json output of swarm or run"},
		{"no stamp", []string{noStamp}, "has no build or config stamp"},
		{"empty", []string{empty}, "holds no lines"},
		{"missing file", []string{filepath.Join(dir, "nope.jsonl")}, "cannot read"},
		{"missing shard", writeFiles(t, s1), "incomplete: missing shards 0 of 2"},
		{"wrong shard", writeFiles(t, rewrite(t, s0, "shard", 1)), "is not shard 1's"},
	} {
		code, _, errOut := runArgs(mergeArgs(c.files...)...)
		assert.Equal(t, exitUsage, code, c.name)
		assert.Equal(t, 1, countLines(errOut), "%s: one line: %q", c.name, errOut)
		assert.Contains(t, errOut, c.want, c.name)
	}
	// -partial merges what is there.
	code, out, errOut := runArgs("merge", "-partial", writeFiles(t, s1)[0])
	assert.NotEqual(t, exitUsage, code, errOut)
	assert.Contains(t, out, "MISSING shards: 0")
}

// TestMergeOrdersFailuresFastestFirst: the failing seeds come grouped by
// class, worst class first, and by virtual time within a class, each with
// its replay line; the suite rule applies across shards.
func TestMergeOrdersFailuresFastestFirst(t *testing.T) {
	bad := []string{"-w", "1", "-r", "1", "-read-repair", "off"}
	s0, s1 := shardOutput(t, "2", "0", bad...), shardOutput(t, "2", "1", bad...)
	// Make seed 4 a liveness failure: it must come first.
	var b strings.Builder
	for _, l := range jsonLines(t, s0+s1) {
		if l["seed"] == float64(4) && l["summary"] != true {
			l["class"] = "liveness"
		}
		j, _ := json.Marshal(l)
		b.Write(append(j, '\n'))
	}
	code, out, errOut := runArgs(mergeArgs(writeFiles(t, b.String())...)...)
	require.Equal(t, exitLiveness, code, errOut)
	var m mergeJSON
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	require.Len(t, m.Failing, 6)
	assert.Equal(t, uint64(4), m.Failing[0].Seed)
	for i := 2; i < len(m.Failing); i++ {
		assert.LessOrEqual(t, m.Failing[i-1].SimNs, m.Failing[i].SimNs, "fastest failure first")
	}
	for _, f := range m.Failing {
		assert.Contains(t, f.Repro, "-seed ")
	}
	require.NotEmpty(t, m.Checks)
	assert.Equal(t, "linearizable", m.Checks[0].Checker)
	assert.False(t, m.Checks[0].Met)

	code, text, _ := runArgs(append([]string{"merge"}, writeFiles(t, s0, s1)...)...)
	assert.Equal(t, exitCorrectness, code)
	assert.Contains(t, text, "correctness (6), fastest failure first:")
	assert.Contains(t, text, "replay: go run ./cmd/faultline run -scenario swarm -w 1 -r 1 -read-repair off -ops 200 -seed ")
}

// TestMergeSuiteRuleSpansShards: async-read-repair expects found-invalid
// (linearizable), met by some of seeds 1-8 and not by others. Run as 8
// shards of one seed each, a shard whose seed is valid must not fail on its
// own (shards of several leave the suite rule to merge), and the merge
// judges as the single run does.
func TestMergeSuiteRuleSpansShards(t *testing.T) {
	base := []string{"run", "-scenario", "async-read-repair", "-seeds", "1-8", "-ops", "300", "-json"}
	single, sout, errOut := runArgs(base...)
	require.Contains(t, []int{exitOK, exitCorrectness}, single, errOut)
	invalid := 0
	for _, l := range jsonLines(t, sout) {
		if v, ok := l["verdicts"].(map[string]any); ok && v["linearizable"] == "invalid" {
			invalid++
		}
	}
	require.Positive(t, invalid, "the test needs a seed that finds the violation")
	require.Less(t, invalid, 8, "and a seed that does not")
	var outs []string
	validShards := 0
	for i := 0; i < 8; i++ {
		code, out, errOut := runArgs(append(base, "-shards", "8", "-shard", fmt.Sprint(i))...)
		for _, l := range jsonLines(t, out) {
			if v, ok := l["verdicts"].(map[string]any); ok && v["linearizable"] == "valid" && l["class"] == "ok" {
				validShards++
				assert.Equal(t, exitOK, code, "shard %d: a valid seed alone does not fail found-invalid: %s", i, errOut)
			}
		}
		outs = append(outs, out)
	}
	require.Positive(t, validShards)
	code, out, errOut := runArgs(mergeArgs(writeFiles(t, outs...)...)...)
	var m mergeJSON
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Equal(t, single, code, "the merge judges as the single run does: %s", errOut)
	require.NotEmpty(t, m.Checks)
	require.Equal(t, "linearizable", m.Checks[0].Checker)
	assert.Equal(t, invalid, m.Checks[0].Invalid)
	assert.True(t, m.Checks[0].Met)
	_, alone, _ := runArgs(mergeArgs(writeFiles(t, sout)...)...)
	var a mergeJSON
	require.NoError(t, json.Unmarshal([]byte(alone), &a))
	assert.Equal(t, a.Checks, m.Checks)
}

// TestMergeSuiteRuleMatchesSummarize: merge rebuilds each seed's outcome
// from its JSON line for scenarios.Summarize; for runs where each
// expectation is met and not met, its checks, failures and exit code equal
// what the single process computed from the outcomes themselves (so the
// lines carry everything the suite rule reads).
func TestMergeSuiteRuleMatchesSummarize(t *testing.T) {
	for _, args := range [][]string{
		{"run", "-scenario", "async-read-repair", "-seeds", "1-8"},             // found-invalid met by one seed
		{"run", "-scenario", "async-read-repair", "-seeds", "1-3"},             // found-invalid not met
		{"swarm", "-seeds", "4"},                                               // always-valid met
		{"swarm", "-seeds", "4", "-w", "1", "-r", "1", "-read-repair", "off"},  // always-valid not met
		{"run", "-scenario", "strict-quorum-skew", "-seeds", "1-4", "-w", "3"}, // knobs on a scenario
	} {
		code, out, errOut := runArgs(append(args, "-ops", "300", "-json")...)
		lines := jsonLines(t, out)
		var single summaryJSON
		b, _ := json.Marshal(lines[len(lines)-1])
		require.NoError(t, json.Unmarshal(b, &single))
		mcode, mout, merrOut := runArgs(mergeArgs(writeFiles(t, out)...)...)
		require.NotEqual(t, exitUsage, mcode, "%q: %s %s", args, errOut, merrOut)
		var m mergeJSON
		require.NoError(t, json.Unmarshal([]byte(mout), &m))
		assert.Equal(t, code, mcode, "%q", args)
		assert.Equal(t, single.Class, m.Class, "%q", args)
		assert.ElementsMatch(t, single.Checks, m.Checks, "%q", args)
		assert.Equal(t, single.Failures, m.Failures, "%q", args)
		assert.Len(t, m.Failing, len(single.Failing), "%q", args)
		if args[2] == "async-read-repair" && args[4] == "1-3" {
			assert.NotEmpty(t, m.Failures, "found-invalid not met is a failure")
			assert.Equal(t, exitCorrectness, mcode)
		}
	}
}
