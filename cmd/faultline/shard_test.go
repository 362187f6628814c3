package main

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/scenarios"
)

// envOf returns a getenv over a fixed environment.
func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func resolveShard(t *testing.T, getenv func(string) string, args ...string) (shardSpec, error) {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	sf := addShardFlags(fs)
	require.NoError(t, fs.Parse(args))
	return sf.resolve(getenv)
}

func TestShardResolve(t *testing.T) {
	ok := []struct {
		env  []string
		args []string
		want shardSpec
	}{
		{nil, nil, shardSpec{K: 1}},
		{[]string{envJobIndex, "2"}, nil, shardSpec{K: 1}}, // not sharded: the index is ignored
		{nil, []string{"-shards", "4", "-shard", "3"}, shardSpec{K: 4, I: 3}},
		{[]string{envJobIndex, "2"}, []string{"-shards", "4"}, shardSpec{K: 4, I: 2}},
		{[]string{envJobIndex, "2", envSlurmTask, "1"}, []string{"-shards", "4"}, shardSpec{K: 4, I: 2}},
		{[]string{envSlurmTask, "3"}, []string{"-shards", "4"}, shardSpec{K: 4, I: 3}},
		{[]string{envSlurmTask, "4", envSlurmFirst, "1"}, []string{"-shards", "4"}, shardSpec{K: 4, I: 3}},
		{[]string{envJobIndex, "1"}, []string{"-shards", "4", "-shard", "0"}, shardSpec{K: 4, I: 0}}, // the flag wins
	}
	for _, c := range ok {
		got, err := resolveShard(t, envOf(c.env...), c.args...)
		require.NoError(t, err, "%v %v", c.env, c.args)
		assert.Equal(t, c.want, got, "%v %v", c.env, c.args)
	}
	bad := []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"-shards", "0"}, "-shards 0: want 1..100000"},
		{nil, []string{"-shards", "-2"}, "-shards -2"},
		{nil, []string{"-shards", "3"}, "-shards 3 without -shard: set -shard 0..2, or run as a Kubernetes Indexed Job ($JOB_COMPLETION_INDEX)"},
		{nil, []string{"-shards", "3", "-shard", "3"}, "-shard is 3, but -shards is 3: the index must be < -shards (0..2)"},
		{nil, []string{"-shards", "3", "-shard", "-1"}, "-shard is -1: a shard index must be >= 0"},
		{nil, []string{"-shards", "3", "-shard", "one"}, `-shard "one": want a shard index`},
		{[]string{envJobIndex, "x7"}, []string{"-shards", "3"}, `$JOB_COMPLETION_INDEX "x7": want a shard index`},
		{[]string{envJobIndex, "5"}, []string{"-shards", "3"}, "$JOB_COMPLETION_INDEX is 5, but -shards is 3"},
		{[]string{envSlurmTask, "1", envSlurmFirst, "2"}, []string{"-shards", "3"}, "$SLURM_ARRAY_TASK_ID - $SLURM_ARRAY_TASK_MIN is -1"},
		{[]string{envSlurmTask, "1", envSlurmFirst, "z"}, []string{"-shards", "3"}, `$SLURM_ARRAY_TASK_MIN "z"`},
	}
	for _, c := range bad {
		_, err := resolveShard(t, envOf(c.env...), c.args...)
		require.Error(t, err, "%v %v", c.env, c.args)
		assert.Contains(t, err.Error(), c.want, "%v %v", c.env, c.args)
	}
}

// TestShardPartition: for every K, the shards are disjoint, together hold
// every seed exactly once, and ownedCount (what merge expects of a shard)
// matches the filter.
func TestShardPartition(t *testing.T) {
	for _, first := range []uint64{0, 1, 7, 1 << 40} {
		seeds := scenarios.SeedRange(first, 103)
		for k := 1; k <= 9; k++ {
			seen := map[uint64]int{}
			for i := 0; i < k; i++ {
				mine := shardSpec{K: k, I: i}.filter(seeds)
				assert.Equal(t, len(mine), ownedCount(seedRangeJSON{First: first, Count: len(seeds)}, k, i), "first %d k %d i %d", first, k, i)
				for _, s := range mine {
					seen[s]++
					assert.Equal(t, uint64(i), s%uint64(k))
				}
			}
			require.Len(t, seen, len(seeds), "k=%d", k)
			for s, n := range seen {
				require.Equal(t, 1, n, "seed %d in %d shards (k=%d)", s, n, k)
			}
		}
	}
	assert.Equal(t, 0, ownedCount(seedRangeJSON{First: 1, Count: 2}, 5, 4), "a shard can own no seed")
}

// TestShardUsageErrors: the commands report bad shard input as a one-line
// usage error, exit 64.
func TestShardUsageErrors(t *testing.T) {
	saved := getenv
	defer func() { getenv = saved }()
	getenv = envOf(envJobIndex, "seven")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"swarm", "-seeds", "4", "-shards", "2"}, `$JOB_COMPLETION_INDEX "seven": want a shard index`},
		{[]string{"swarm", "-seeds", "4", "-shards", "2", "-shard", "2"}, "-shard is 2, but -shards is 2"},
		{[]string{"run", "-seeds", "1-4", "-shards", "2", "-shard", "-1"}, "-shard is -1"},
		{[]string{"run", "-seeds", "1-4", "-shards", "0"}, "-shards 0"},
		{[]string{"swarm", "-seeds", "2", "-shards", "8", "-shard", "7", "-ops", "200", "-json-out", "/nonexistent/dir/s-{shard}.jsonl"}, "-json-out: open /nonexistent/dir/s-7.jsonl"},
	} {
		code, out, errOut := runArgs(c.args...)
		assert.Equal(t, exitUsage, code, "%q", c.args)
		assert.Empty(t, out)
		assert.Equal(t, 1, countLines(errOut), "%q: %q", c.args, errOut)
		assert.Contains(t, errOut, c.want, "%q", c.args)
	}
}

// TestUnshardedIndexWarns: an Indexed Job's index without -shards runs
// every seed in every task; faultline says so on stderr.
func TestUnshardedIndexWarns(t *testing.T) {
	saved := getenv
	defer func() { getenv = saved }()
	getenv = envOf(envJobIndex, "3")
	_, _, errOut := runArgs(withSmall("swarm", "-seeds", "1")...)
	assert.Contains(t, errOut, "warning: $JOB_COMPLETION_INDEX is 3 but -shards is 1: this task runs every seed")
}

func countLines(s string) int {
	n := 0
	for _, r := range s {
		if r == '\n' {
			n++
		}
	}
	return n
}

// TestConfigHash: equal for the same configuration however it is spelled,
// different for a different knob or scenario; the build stamp is stable
// within a process.
func TestConfigHash(t *testing.T) {
	hash := func(name string, args ...string) string {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		k := addKnobs(fs)
		require.NoError(t, fs.Parse(args))
		tg, err := resolveTarget(name, k)
		require.NoError(t, err)
		return tg.configHash()
	}
	assert.Equal(t, hash("", "-w", "1"), hash("", "-w", "1"))
	assert.Equal(t, hash(""), hash("", "-nodes", "5"), "ad-hoc: a knob set to its default is the same configuration")
	assert.NotEqual(t, hash("", "-w", "1"), hash("", "-w", "2"))
	assert.NotEqual(t, hash("swarm"), hash("strict-quorum"))
	assert.NotEqual(t, hash("swarm"), hash("swarm", "-ops", "300"))
	assert.Equal(t, buildStamp(), buildStamp())
	assert.NotEmpty(t, buildStamp())
}
