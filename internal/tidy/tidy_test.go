package tidy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimulatedPackagesAreDeterministic is the guard: every banned construct
// in a simulated package fails the build's tests with file:line.
func TestSimulatedPackagesAreDeterministic(t *testing.T) {
	root := filepath.Join("..", "..")
	scanned := 0
	for _, pkg := range SimulatedPackages {
		dir := filepath.Join(root, pkg)
		if _, err := os.Stat(dir); err == nil {
			scanned++
		}
		vs, err := CheckTree(dir)
		require.NoError(t, err)
		for _, v := range vs {
			t.Errorf("%s", v)
		}
	}
	require.Positive(t, scanned, "no simulated package found: the guard would be vacuous")
}

// TestCheckerCatchesEveryBannedConstruct proves the guard can fail.
func TestCheckerCatchesEveryBannedConstruct(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "bad", "bad.go.txt"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.go"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad_test.go"), []byte("package bad\nimport \"time\"\nvar _ = time.Now()\n"), 0o644))
	vs, err := CheckDir(dir)
	require.NoError(t, err)
	var got []string
	for _, v := range vs {
		got = append(got, v.What)
		assert.Contains(t, v.String(), "bad.go:")
		assert.Contains(t, v.String(), " is banned, use ")
	}
	want := []string{
		"import of crypto/rand", "import of math/rand", "import of sync (locks, WaitGroup, Pool, Map)",
		"time.Now", "time.Sleep", "go statement", "channel type", "channel send", "channel receive",
		"global math/rand/v2.IntN", "select statement",
	}
	for _, w := range want {
		assert.Contains(t, got, w)
	}
	for _, g := range got {
		assert.False(t, strings.Contains(g, "NewPCG") || g == "global math/rand/v2.New", "constructors of seeded sources are allowed: %s", g)
	}
	// Test files are not scanned.
	for _, v := range vs {
		assert.NotContains(t, v.File, "_test.go")
	}
}

func TestCheckTreeScansSubpackages(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "bad", "bad.go.txt"))
	require.NoError(t, err)
	dir := t.TempDir()
	sub := filepath.Join(dir, "inner", "deeper")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "bad.go"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "testdata", "bad.go"), src, 0o644))
	vs, err := CheckTree(dir)
	require.NoError(t, err)
	require.NotEmpty(t, vs)
	for _, v := range vs {
		assert.Contains(t, v.File, "deeper", "testdata must not be scanned")
	}
	vs, err = CheckTree(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Empty(t, vs)
}
