// Package tidy enforces faultline's determinism contract on source code: it
// scans the non-test Go files of the simulated packages and reports every
// construct that could let the wall clock, global randomness or goroutine
// scheduling leak into a simulated run. It imports the standard library only
// and is used by tests, never by simulated code.
package tidy

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// SimulatedPackages lists the directories (relative to the module root) whose
// code runs inside a simulated run and must therefore be deterministic.
var SimulatedPackages = []string{
	"sim", "history", "node", "internal/wiresize", "internal/chunk", "internal/freelist", "internal/idtable", "transport", "ring", "kv",
	"cluster", "nemesis", "workloads",
}

// Violation is one banned construct at a source position.
type Violation struct {
	File string
	Line int
	// What is the banned construct, e.g. "time.Now".
	What string
	// Use is what to use instead.
	Use string
}

// String formats the violation as "file:line: X is banned, use Y".
func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: %s is banned, use %s", v.File, v.Line, v.What, v.Use)
}

var bannedTime = map[string]string{
	"Now":       "the simulated clock (sim.Loop.Now)",
	"Since":     "sim.Time arithmetic on the simulated clock",
	"Until":     "sim.Time arithmetic on the simulated clock",
	"Sleep":     "an event scheduled with sim.Loop.After",
	"After":     "an event scheduled with sim.Loop.After",
	"AfterFunc": "an event scheduled with sim.Loop.After",
	"NewTimer":  "an event scheduled with sim.Loop.At",
	"NewTicker": "a self-rescheduling event on sim.Loop",
	"Tick":      "a self-rescheduling event on sim.Loop",
}

// Global functions of math/rand/v2 that draw from the process-wide source.
// Constructors (New, NewPCG, NewChaCha8, NewZipf) and types are allowed.
var allowedRandV2 = map[string]bool{"New": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true,
	"Rand": true, "PCG": true, "ChaCha8": true, "Source": true, "Zipf": true}

// CheckTree scans dir and every package directory below it (testdata
// excluded), as CheckDir does for each.
func CheckTree(dir string) ([]Violation, error) {
	var out []Violation
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) && path == dir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != dir && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		vs, err := CheckDir(path)
		out = append(out, vs...)
		return err
	})
	return out, err
}

// CheckDir scans the non-test .go files directly inside dir and returns the
// violations sorted by file and line. A missing directory is not an error:
// the package may not exist yet.
func CheckDir(dir string) ([]Violation, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Violation
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		vs, err := CheckFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

// CheckFile scans one Go source file.
func CheckFile(path string) ([]Violation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("tidy: %w", err)
	}
	var out []Violation
	add := func(pos token.Pos, what, use string) {
		out = append(out, Violation{File: path, Line: fset.Position(pos).Line, What: what, Use: use})
	}
	// Local names of the imports we care about.
	names := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		local := p[strings.LastIndex(p, "/")+1:]
		if p == "math/rand/v2" {
			local = "rand"
		}
		if imp.Name != nil {
			local = imp.Name.Name
		}
		switch p {
		case "math/rand":
			add(imp.Pos(), "import of math/rand", "a seeded sim.RNG stream (rng.Fork(name))")
		case "crypto/rand":
			add(imp.Pos(), "import of crypto/rand", "a seeded sim.RNG stream (rng.Fork(name))")
		case "sync":
			add(imp.Pos(), "import of sync (locks, WaitGroup, Pool, Map)", "the single-threaded sim.Loop; no locks are needed")
		case "time", "math/rand/v2":
			names[local] = p
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			add(n.Pos(), "go statement", "an event scheduled on sim.Loop")
		case *ast.ChanType:
			add(n.Pos(), "channel type", "events on sim.Loop")
		case *ast.SendStmt:
			add(n.Pos(), "channel send", "events on sim.Loop")
		case *ast.SelectStmt:
			add(n.Pos(), "select statement", "events on sim.Loop")
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				add(n.Pos(), "channel receive", "events on sim.Loop")
			}
		case *ast.SelectorExpr:
			id, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch names[id.Name] {
			case "time":
				if use, bad := bannedTime[n.Sel.Name]; bad {
					add(n.Pos(), "time."+n.Sel.Name, use)
				}
			case "math/rand/v2":
				if !allowedRandV2[n.Sel.Name] {
					add(n.Pos(), "global math/rand/v2."+n.Sel.Name, "a seeded sim.RNG stream (rng.Fork(name))")
				}
			}
		}
		return true
	})
	return out, nil
}
