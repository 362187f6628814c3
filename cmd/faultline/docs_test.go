package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deployFiles are the manifests docs/scale.md shows, as files in deploy/.
var deployFiles = []string{"kubernetes-indexed-job.yaml", "slurm-array.sh", "github-actions-swarm.yml"}

// swarmCommand extracts the swarm command of a manifest as arguments after
// "swarm", without the -shard the CI matrix passes explicitly.
func swarmCommand(t *testing.T, text string) []string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if !strings.Contains(line, "swarm") || !strings.Contains(line, "-seeds") || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if i := strings.Index(line, "args: ["); i >= 0 { // Kubernetes: a YAML flow list
			line = strings.TrimSuffix(strings.TrimSpace(line[i+len("args: ["):]), "]")
			line = strings.ReplaceAll(line, ",", " ")
		}
		var args []string
		seen := false
		for _, f := range strings.Fields(line) {
			f = strings.Trim(f, `"'`)
			if f == "swarm" {
				seen = true
				continue
			}
			if seen {
				args = append(args, f)
			}
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-shard" {
				args = append(args[:i], args[i+4:]...) // -shard ${{ matrix.shard }}
				break
			}
		}
		return args
	}
	t.Fatalf("no swarm command in:\n%s", text)
	return nil
}

// TestScaleDocsRunTheSameCommand: docs/scale.md shows exactly the files in
// deploy/, the three run the same swarm command as the doc's first block,
// and that command works (as shard 0 of an Indexed Job, with fewer seeds,
// in a temporary directory).
func TestScaleDocsRunTheSameCommand(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "scale.md"))
	require.NoError(t, err)
	first := regexp.MustCompile("(?s)```\n(faultline swarm [^\n]*)\n").FindSubmatch(doc)
	require.NotNil(t, first, "the doc opens with the command every task runs")
	want := swarmCommand(t, string(first[1]))
	for _, f := range deployFiles {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", f))
		require.NoError(t, err)
		assert.Contains(t, string(doc), string(b), "docs/scale.md shows deploy/%s verbatim", f)
		assert.Equal(t, want, swarmCommand(t, string(b)), f)
	}
	_, err = os.Stat(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err, "the image the Job runs is built from the repository's Dockerfile")

	dir := t.TempDir()
	args := []string{"swarm"}
	for _, a := range want {
		switch {
		case a == "1000000":
			a = "16"
		case strings.HasPrefix(a, "results/"):
			a = filepath.Join(dir, a)
		}
		args = append(args, a)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "results"), 0o755))
	saved := getenv
	defer func() { getenv = saved }()
	getenv = envOf(envJobIndex, "0")
	code, out, errOut := runArgs(append(args, "-ops", "100")...)
	require.Equal(t, exitOK, code, "%s%s", out, errOut)
	assert.Contains(t, out, "shard 0 of 8: 2 of them")
	lines := jsonLines(t, readFile(t, filepath.Join(dir, "results", "shard-0.jsonl")))
	require.Len(t, lines, 3, "seeds 8 and 16, then the summary")
	assert.Equal(t, true, lines[2]["summary"])
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
