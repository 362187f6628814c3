package tidy

import (
	"fmt"
	"sort"
	"strings"
)

// Layers maps each faultline package (relative to the module root) to its
// layer from docs/design.md §2. A package may import only packages of a lower
// layer; history may also import sim.
var Layers = map[string]int{
	"sim":               0,
	"history":           0,
	"internal/tidy":     0,
	"internal/chunk":    0,
	"internal/freelist": 0,
	"internal/idtable":  0,
	"internal/wiresize": 0,
	"node":              1,
	"ring":              1,
	"checker":           1,
	"kv":                2,
	"transport":         2,
	"nemesis":           2,
	"workloads":         2,
	"cluster":           3,
	"scenarios":         4,
	"internal/report":   4,
	"cmd/faultline":     5,
}

// sameLayerAllowed lists the few same-layer imports docs/design.md permits.
var sameLayerAllowed = map[[2]string]bool{
	{"history", "sim"}:               true,
	{"history", "internal/chunk"}:    true,
	{"internal/report", "scenarios"}: true,
}

// CheckImports returns one message per import edge that breaks the layering.
// imports maps a package path relative to the module root to the module
// packages it imports directly (also relative). Unknown packages are
// reported too: every package needs a layer.
func CheckImports(imports map[string][]string) []string {
	var out []string
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		lp, ok := layerOf(p)
		if !ok {
			out = append(out, fmt.Sprintf("%s: package has no layer in tidy.Layers (add it, following docs/design.md §2)", p))
			continue
		}
		deps := append([]string(nil), imports[p]...)
		sort.Strings(deps)
		for _, d := range deps {
			ld, ok := layerOf(d)
			if !ok {
				continue // reported on its own line
			}
			if ld < lp || sameLayerAllowed[[2]string{top(p), top(d)}] || top(p) == top(d) {
				continue
			}
			out = append(out, fmt.Sprintf("%s (layer %d) imports %s (layer %d): a package may import only lower layers", p, lp, d, ld))
		}
	}
	return out
}

// top returns the layered package a path belongs to (sub-packages inherit
// their parent's layer, e.g. "kv/internal/x" -> "kv").
func top(p string) string {
	best := ""
	for k := range Layers {
		if (p == k || strings.HasPrefix(p, k+"/")) && len(k) > len(best) {
			best = k
		}
	}
	return best
}

func layerOf(p string) (int, bool) {
	t := top(p)
	if t == "" {
		return 0, false
	}
	return Layers[t], true
}
