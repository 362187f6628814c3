package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestDispatch(t *testing.T) {
	code, out, errOut := runArgs("-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "ring")
	assert.Empty(t, errOut)

	for _, args := range [][]string{{"nope"}, {"-x"}} {
		code, out, errOut := runArgs(args...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Empty(t, out)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		assert.Contains(t, errOut, "faultline -h")
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		for _, h := range []string{"-h", "-help", "--help"} {
			code, out, errOut := runArgs(c.name, h)
			assert.Equal(t, 0, code, "%s %s", c.name, h)
			assert.Contains(t, out, "Usage: faultline "+c.name)
			assert.Empty(t, errOut)
		}
	}
}

func TestRingUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-nodes", "1"},
		{"-nodes", "100000"},
		{"-keys", "0"},
		{"-keys", "1000000000"},
		{"-vnodes", "0"},
		{"-vnodes", "10,x"},
		{"-shards", "10"}, // must exceed -nodes 10
		{"-vnodes", "", "-shards", ""},
		{"-bogus"},
		{"-nodes", "ten"},
		{"stray"},
		{"-nodes", "1000", "-vnodes", "10000"}, // more tokens than the ring allows
	} {
		code, out, errOut := runArgs(append([]string{"ring"}, args...)...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Empty(t, out, "%q", args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line for %q: %q", args, errOut)
		assert.True(t, strings.HasPrefix(errOut, "faultline ring: "), errOut)
	}
}

func TestRingJSON(t *testing.T) {
	code, out, errOut := runArgs("ring", "-nodes", "8", "-vnodes", "10,150", "-shards", "64", "-keys", "40000", "-seed", "3", "-json")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	fields := []string{"nodes", "vnodes", "keys", "cv", "theory_cv", "max_over_mean", "add_moved_fraction",
		"add_ideal_fraction", "add_cross_moves", "remove_moved_fraction", "remove_cross_moves", "modulo_moved_fraction"}
	for i, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		for _, f := range fields {
			assert.Contains(t, m, f, "row %d", i)
		}
		assert.EqualValues(t, 8, m["nodes"])
		assert.EqualValues(t, 40000, m["keys"])
		assert.EqualValues(t, 0, m["add_cross_moves"], "consistent hashing moves no key between two old nodes")
		assert.EqualValues(t, 0, m["remove_cross_moves"])
		assert.InDelta(t, 1.0/9, m["add_ideal_fraction"], 1e-12)
		assert.InDelta(t, 8.0/9, m["modulo_moved_fraction"], 0.01, "modulo hashing moves almost everything")
		assert.Greater(t, m["max_over_mean"], 1.0)
	}
	var row ringRow
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &row))
	assert.Equal(t, 150, row.VNodes)
	assert.InDelta(t, row.TheoryCV, row.CV, 0.05)
	assert.InDelta(t, 1.0/9, row.AddMovedFraction, 0.03)
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &row))
	assert.Equal(t, "shards", row.Mode)
	assert.Equal(t, 64, row.Shards)
}

func TestRingTableIsDeterministic(t *testing.T) {
	args := []string{"ring", "-nodes", "5", "-vnodes", "1,50", "-shards", "32", "-keys", "5000"}
	code, out, errOut := runArgs(args...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "5 nodes, 5000 keys, seed 0")
	assert.Contains(t, out, "theory cv")
	var rows int
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && (f[0] == "vnodes" || f[0] == "shards") {
			rows++
		}
	}
	assert.Equal(t, 3, rows)
	_, again, _ := runArgs(args...)
	assert.Equal(t, out, again)
}
