package tidy

import (
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicAPIMentionsNoInternalType type-checks every public package of
// the module from its export data and fails on any exported signature,
// field or method that mentions a type of an internal package: code in
// another module must be able to use everything a public package exports.
func TestPublicAPIMentionsNoInternalType(t *testing.T) {
	exports := map[string]string{}
	var public []string
	for _, line := range goList(t, "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}\t{{.Name}}\t{{.Standard}}", "./...") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			continue
		}
		exports[f[0]] = f[1]
		if strings.HasPrefix(f[0], module) && !isInternal(strings.TrimPrefix(f[0], module+"/")) && f[2] != "main" {
			public = append(public, f[0])
		}
	}
	require.Contains(t, public, module+"/node")
	require.Contains(t, public, module+"/cluster")
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	for _, p := range public {
		pkg, err := imp.Import(p)
		require.NoError(t, err, p)
		for _, msg := range InternalLeaks(pkg) {
			t.Error(msg)
		}
	}
}

// TestInternalLeaksFindsALeak: the check fails on a public package whose
// exported function takes a type of an internal package, whose exported
// struct field has one, and whose exported method returns one; an
// unexported field of that type is fine.
func TestInternalLeaksFindsALeak(t *testing.T) {
	in := types.NewPackage("example.com/m/internal/sim", "sim")
	rng := types.NewNamed(types.NewTypeName(0, in, "RNG", nil), types.NewStruct(nil, nil), nil)
	pub := types.NewPackage("example.com/m/kv", "kv")
	param := types.NewVar(0, pub, "rng", types.NewPointer(rng))
	pub.Scope().Insert(types.NewFunc(0, pub, "NewNode", types.NewSignatureType(nil, nil, nil, types.NewTuple(param), nil, false)))
	cfg := types.NewNamed(types.NewTypeName(0, pub, "Config", nil), types.NewStruct([]*types.Var{
		types.NewField(0, pub, "Limits", rng, false),
		types.NewField(0, pub, "hidden", rng, false),
	}, nil), nil)
	pub.Scope().Insert(cfg.Obj())
	recv := types.NewVar(0, pub, "c", cfg)
	res := types.NewVar(0, pub, "", rng)
	cfg.AddMethod(types.NewFunc(0, pub, "Stream", types.NewSignatureType(recv, nil, nil, nil, types.NewTuple(res), false)))
	got := InternalLeaks(pub)
	require.Len(t, got, 3, "%q", got)
	require.Contains(t, got[0], "example.com/m/kv.Config.Limits mentions example.com/m/internal/sim.RNG")
	require.Contains(t, got[1], "example.com/m/kv.Config.Stream")
	require.Contains(t, got[2], "example.com/m/kv.NewNode")
	require.Empty(t, InternalLeaks(in), "an internal package may use its own types")
}
