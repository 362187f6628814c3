package tidy

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/faultline-sim/faultline"

// goList runs `go list` in the module root and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err, "go list %v", args)
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestLayering keeps docs/design.md §2's arrows true for every package.
func TestLayering(t *testing.T) {
	imports := map[string][]string{}
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue
		}
		p := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if p == "" {
			continue
		}
		imports[p] = nil
		for _, d := range fields[1:] {
			if strings.HasPrefix(d, module+"/") {
				imports[p] = append(imports[p], strings.TrimPrefix(d, module+"/"))
			}
		}
	}
	require.Contains(t, imports, "sim")
	for _, msg := range CheckImports(imports) {
		t.Error(msg)
	}
}

// TestKVImportsNothingAbove proves with go list -deps that the node state
// machine never depends on the network, the simulator or the nemesis.
func TestKVImportsNothingAbove(t *testing.T) {
	deps := goList(t, "-deps", "./kv")
	if len(deps) == 1 && deps[0] == "" {
		t.Skip("kv does not exist yet")
	}
	for _, d := range deps {
		for _, banned := range []string{"transport", "cluster", "nemesis", "scenarios", "workloads", "checker"} {
			assert.NotEqual(t, module+"/"+banned, d, "kv must not depend on %s", banned)
		}
	}
}

func TestCheckImportsRejectsUpwardEdges(t *testing.T) {
	msgs := CheckImports(map[string][]string{
		"kv":      {"sim", "ring", "transport"},
		"ring":    {"sim"},
		"history": {"sim"},
		"checker": {"kv"},
		"mystery": nil,
	})
	require.Len(t, msgs, 3, "%v", msgs)
	assert.Contains(t, msgs[0], "checker (layer 1) imports kv (layer 2)")
	assert.Contains(t, msgs[1], "kv (layer 2) imports transport (layer 2)")
	assert.Contains(t, msgs[2], "mystery: package has no layer")
}
