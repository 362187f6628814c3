package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// registry holds the built-in specs by name, built once. The package's
// tests check that every built-in spec validates and that names are unique.
var registry = func() map[string]Spec {
	m := map[string]Spec{}
	for _, s := range builtin() {
		m[s.Name] = s
	}
	return m
}()

// List returns every built-in scenario, sorted by name. The specs are
// copies: changing them does not change the registry.
func List() []Spec {
	names := Names()
	out := make([]Spec, len(names))
	for i, n := range names {
		out[i] = registry[n].clone()
	}
	return out
}

// Names returns the built-in scenarios' names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns a copy of the built-in scenario called name. For an
// unknown name the error lists the known ones.
func Lookup(name string) (Spec, error) {
	s, ok := registry[name]
	if !ok {
		return Spec{}, fmt.Errorf("scenarios: unknown scenario %q; known scenarios: %s", name, strings.Join(Names(), ", "))
	}
	return s.clone(), nil
}
