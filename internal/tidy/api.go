package tidy

import (
	"fmt"
	"go/types"
	"sort"
	"strings"
)

// InternalLeaks returns one message per exported name of pkg whose type,
// signature, exported fields or methods mention a type declared in an
// internal package: code in another module could not write that type's
// name, so the API would be unusable from outside. pkg should be a public
// (non-internal) package.
func InternalLeaks(pkg *types.Package) []string {
	var out []string
	scope := pkg.Scope()
	names := scope.Names()
	sort.Strings(names)
	for _, name := range names {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		w := &leakWalker{pkg: pkg}
		where := pkg.Path() + "." + name
		if tn, ok := obj.(*types.TypeName); ok {
			w.root(tn.Type().Underlying(), where)
			// The pointer's method set holds the value's methods too.
			ms := types.NewMethodSet(types.NewPointer(tn.Type()))
			for i := 0; i < ms.Len(); i++ {
				if m := ms.At(i).Obj(); m.Exported() {
					w.root(m.Type(), where+"."+m.Name())
				}
			}
		} else {
			w.root(obj.Type(), where)
		}
		out = append(out, w.found...)
	}
	return out
}

type leakWalker struct {
	pkg   *types.Package
	seen  map[types.Type]bool
	found []string
}

// root walks t afresh (each root reports its own mentions).
func (w *leakWalker) root(t types.Type, where string) {
	w.seen = map[types.Type]bool{}
	w.walk(t, where)
}

func isInternal(path string) bool {
	return strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") || strings.HasPrefix(path, "internal/")
}

func (w *leakWalker) walk(t types.Type, where string) {
	if t == nil || w.seen[t] {
		return
	}
	w.seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil && isInternal(p.Path()) {
			w.found = append(w.found, fmt.Sprintf("%s mentions %s.%s, which is in an internal package", where, p.Path(), t.Obj().Name()))
			return
		}
		for i := 0; i < t.TypeArgs().Len(); i++ {
			w.walk(t.TypeArgs().At(i), where)
		}
		// Named types are checked where they are declared (or flagged
		// above); an unexported named type of pkg is opaque to users.
	case *types.Alias:
		w.walk(types.Unalias(t), where)
	case *types.Pointer:
		w.walk(t.Elem(), where)
	case *types.Slice:
		w.walk(t.Elem(), where)
	case *types.Array:
		w.walk(t.Elem(), where)
	case *types.Map:
		w.walk(t.Key(), where)
		w.walk(t.Elem(), where)
	case *types.Chan:
		w.walk(t.Elem(), where)
	case *types.Signature:
		w.walk(t.Params(), where)
		w.walk(t.Results(), where)
	case *types.Tuple:
		for i := 0; i < t.Len(); i++ {
			w.walk(t.At(i).Type(), where)
		}
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if f := t.Field(i); f.Exported() || f.Embedded() {
				w.walk(f.Type(), where+"."+f.Name())
			}
		}
	case *types.Interface:
		for i := 0; i < t.NumMethods(); i++ {
			if m := t.Method(i); m.Exported() {
				w.walk(m.Type(), where+"."+m.Name())
			}
		}
		for i := 0; i < t.NumEmbeddeds(); i++ {
			w.walk(t.EmbeddedType(i), where)
		}
	}
}
