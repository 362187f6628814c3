package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// weak is an ad-hoc configuration whose every seed fails (stale reads).
var weak = []string{"-w", "1", "-r", "1", "-read-repair", "off", "-ops", "200"}

func corpusEntries(t *testing.T, path string) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []corpusEntry
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e corpusEntry
		require.NoError(t, json.Unmarshal([]byte(l), &e), l)
		out = append(out, e)
	}
	return out
}

// seedOrder returns the seeds of -json output in print order, and which
// came from the corpus.
func seedOrder(t *testing.T, out string) (seeds []uint64, corpus []bool) {
	t.Helper()
	for _, l := range jsonLines(t, out) {
		if l["summary"] == true {
			continue
		}
		seeds = append(seeds, uint64(l["seed"].(float64)))
		corpus = append(corpus, l["corpus"] == true)
	}
	return seeds, corpus
}

// TestCorpusReplaysFirstAndAppends: failures are appended once, replayed
// before the range on the next run (from any build), never run twice, and
// split between shards like any seed; other configurations' entries are
// left alone.
func TestCorpusReplaysFirstAndAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	runWith := func(extra ...string) (int, string, string) {
		return runArgs(append(append([]string{"run", "-json", "-corpus", path}, weak...), extra...)...)
	}
	code, _, errOut := runWith("-seeds", "1-3")
	require.Equal(t, exitCorrectness, code, errOut)
	es := corpusEntries(t, path)
	require.Len(t, es, 3)
	for i, e := range es {
		assert.Equal(t, uint64(i+1), e.Seed)
		assert.Equal(t, "correctness", e.Class)
		assert.Equal(t, "ad-hoc", e.Scenario)
		assert.Contains(t, e.Repro, "-seed ")
		assert.NotEmpty(t, e.ConfigHash)
		assert.NotEmpty(t, e.Build)
	}

	// A corpus entry from another build is replayed too.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), es[0].Build, "git:000000000000 go1.20", 1)), 0o644))

	code, out, errOut := runWith("-seeds", "10-11")
	require.Equal(t, exitCorrectness, code, errOut)
	seeds, fromCorpus := seedOrder(t, out)
	assert.Equal(t, []uint64{1, 2, 3, 10, 11}, seeds, "recorded failures first")
	assert.Equal(t, []bool{true, true, true, false, false}, fromCorpus)
	assert.Contains(t, errOut, "replaying 3 recorded failures first")
	assert.Len(t, corpusEntries(t, path), 5, "the new failures are appended")
	sum := jsonLines(t, out)[5]
	assert.Equal(t, float64(3), sum["corpus_seeds"])
	assert.Equal(t, float64(5), sum["seeds"])

	// Again over a range that holds corpus seeds: nothing runs twice and
	// nothing is appended twice.
	_, out, _ = runWith("-seeds", "2-4")
	seeds, _ = seedOrder(t, out)
	assert.Equal(t, []uint64{1, 2, 3, 10, 11, 4}, seeds)
	assert.Len(t, corpusEntries(t, path), 6)

	// A shard replays the corpus seeds it owns, and does not append (one
	// writer: merge -corpus appends what the fleet found).
	_, out, _ = runWith("-seeds", "1-6", "-shards", "2", "-shard", "1")
	seeds, _ = seedOrder(t, out)
	assert.Equal(t, []uint64{1, 3, 11, 5}, seeds)
	assert.Len(t, corpusEntries(t, path), 6, "a shard only reads the corpus")
	shardOut := filepath.Join(t.TempDir(), "shard1.jsonl")
	require.NoError(t, os.WriteFile(shardOut, []byte(out), 0o644))
	code, _, errOut = runArgs("merge", "-partial", "-corpus", path, shardOut)
	require.Equal(t, exitCorrectness, code, errOut)
	es = corpusEntries(t, path)
	require.Len(t, es, 7, "merge appended seed 5, once")
	assert.Equal(t, uint64(5), es[6].Seed)

	// Another configuration leaves the entries alone and adds its own.
	code, out, errOut = runArgs("run", "-json", "-corpus", path, "-w", "1", "-r", "1", "-read-repair", "off", "-ops", "250", "-seeds", "7-7")
	require.Equal(t, exitCorrectness, code, errOut)
	seeds, _ = seedOrder(t, out)
	assert.Equal(t, []uint64{7}, seeds)
	assert.Contains(t, errOut, "7 entries of other configurations left alone")
	assert.Len(t, corpusEntries(t, path), 8)
}

func TestCorpusUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"scenario":"ad-hoc","seed":1,"config_hash":"x"}`+"\nnot json\n"), 0o644))
	code, out, errOut := runArgs(append([]string{"swarm", "-seeds", "2", "-corpus", bad}, small...)...)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Equal(t, 1, countLines(errOut), errOut)
	assert.Contains(t, errOut, "bad.jsonl:2: not a corpus entry")

	// A corpus path that cannot be a file is named before any seed runs.
	notDir := filepath.Join(dir, "sub")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	code, _, errOut = runArgs(append([]string{"run", "-seed", "1", "-corpus", filepath.Join(notDir, "c.jsonl")}, weak...)...)
	assert.Equal(t, exitUsage, code, errOut)
	assert.Equal(t, 1, countLines(errOut), errOut)
	assert.Contains(t, errOut, "c.jsonl: not a directory")
}
