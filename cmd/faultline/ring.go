package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// Limits of the ring subcommand's inputs.
const (
	maxRingNodes = 10_000
	maxRingKeys  = 100_000_000
)

// ringRow is one line of `faultline ring` output: the balance of one ring
// configuration and what moves when one node joins or leaves.
type ringRow struct {
	Mode   string `json:"mode"` // "vnodes" or "shards"
	Nodes  int    `json:"nodes"`
	VNodes int    `json:"vnodes"`
	Shards int    `json:"shards"`
	Seed   uint64 `json:"seed"`
	Keys   int    `json:"keys"`
	// CV is the coefficient of variation of keys per node.
	CV float64 `json:"cv"`
	// TheoryCV is sqrt((N-1)/(N·V+1)) for virtual nodes; for fixed shards,
	// whose split is exact, it is the cv of the owned fractions.
	TheoryCV float64 `json:"theory_cv"`
	// ExactCV is the cv of the exactly computed owned fractions (what the
	// keys sample, without sampling noise).
	ExactCV     float64 `json:"exact_cv"`
	MaxOverMean float64 `json:"max_over_mean"`
	// AddMovedFraction is the fraction of keys whose owner changed when
	// node N+1 joined; AddIdealFraction is the joiner's weight share.
	AddMovedFraction float64 `json:"add_moved_fraction"`
	AddIdealFraction float64 `json:"add_ideal_fraction"`
	// AddCrossMoves counts keys that moved between two old nodes on the
	// join; consistent hashing makes it 0.
	AddCrossMoves       int     `json:"add_cross_moves"`
	RemoveMovedFraction float64 `json:"remove_moved_fraction"`
	RemoveIdealFraction float64 `json:"remove_ideal_fraction"`
	RemoveCrossMoves    int     `json:"remove_cross_moves"`
	// ModuloMovedFraction is the fraction of keys hash mod N would move
	// when going from N to N+1 nodes; ModuloRemoveMovedFraction from N to
	// N-1.
	ModuloMovedFraction       float64 `json:"modulo_moved_fraction"`
	ModuloRemoveMovedFraction float64 `json:"modulo_remove_moved_fraction"`
}

// ringCase is one ring configuration under test with its running counts.
type ringCase struct {
	row                 ringRow
	base, added, gone   *ring.Ring
	joiner, leaver      sim.NodeID
	perNode             []int // keys per node of base, indexed by id-1
	addMoved, addCross  int
	rmMoved, rmCross    int
	modMoved, modRmMove int
}

func runRing(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("ring", "[-nodes N] [-vnodes V1,V2,...] [-shards Q1,...] [-keys K] [-seed S] [-json]")
	nodes := fs.Int("nodes", 10, "number of nodes (ids 1..N); node N+1 joins and node 1 leaves")
	vnodes := fs.String("vnodes", "1,10,50,150,300", "comma-separated virtual-node counts, one row each (\"\" for none)")
	shards := fs.String("shards", "", "comma-separated fixed-shard counts Q, one row each (each Q must exceed -nodes)")
	keys := fs.Int("keys", 1_000_000, "number of keys (\"key-0\", \"key-1\", ...) to place")
	seed := fs.Uint64("seed", 0, "ring seed (moves every token)")
	asJSON := fs.Bool("json", false, "print one JSON object per row instead of a table")
	if done, code := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *nodes < 2 || *nodes > maxRingNodes {
		return usageError(stderr, fs, "-nodes %d: need between 2 and %d nodes (one must be able to leave)", *nodes, maxRingNodes)
	}
	if *keys < 1 || *keys > maxRingKeys {
		return usageError(stderr, fs, "-keys %d: need between 1 and %d keys", *keys, maxRingKeys)
	}
	vs, err := parseCounts(*vnodes, 1)
	if err != nil {
		return usageError(stderr, fs, "-vnodes: %v", err)
	}
	qs, err := parseCounts(*shards, *nodes+1)
	if err != nil {
		return usageError(stderr, fs, "-shards: %v (Q must exceed -nodes so a node can join)", err)
	}
	if len(vs)+len(qs) == 0 {
		return usageError(stderr, fs, "nothing to measure: give -vnodes or -shards")
	}
	var cfgs []ring.Config
	for _, v := range vs {
		cfgs = append(cfgs, ring.Config{Seed: *seed, VNodes: v})
	}
	for _, q := range qs {
		cfgs = append(cfgs, ring.Config{Seed: *seed, Shards: q})
	}
	rows, err := measureRings(*nodes, *keys, cfgs)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintf(stderr, "faultline ring: %v\n", err)
				return 1
			}
		}
		return 0
	}
	printRingTable(stdout, *nodes, *keys, *seed, rows)
	return 0
}

// parseCounts parses a comma-separated list of integers >= lowest.
func parseCounts(s string, lowest int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		if n < lowest {
			return nil, fmt.Errorf("%d is below %d", n, lowest)
		}
		out = append(out, n)
	}
	return out, nil
}

// measureRings places keys on each configuration's ring of n nodes and on
// the rings after node n+1 joins and node 1 leaves.
func measureRings(n, keys int, cfgs []ring.Config) ([]ringRow, error) {
	ms := make([]ring.Member, n)
	for i := range ms {
		ms[i] = ring.Member{ID: sim.NodeID(i + 1), Weight: 1}
	}
	joiner, leaver := sim.NodeID(n+1), sim.NodeID(1)
	cases := make([]*ringCase, len(cfgs))
	for i, cfg := range cfgs {
		c := &ringCase{joiner: joiner, leaver: leaver, perNode: make([]int, n)}
		var err error
		if c.base, err = ring.New(cfg, ms...); err != nil {
			return nil, err
		}
		if c.added, err = c.base.Add(ring.Member{ID: joiner, Weight: 1}); err != nil {
			return nil, err
		}
		if c.gone, err = c.base.Remove(leaver); err != nil {
			return nil, err
		}
		c.row = ringRow{Mode: "vnodes", Nodes: n, VNodes: cfg.VNodes, Shards: cfg.Shards, Seed: cfg.Seed, Keys: keys,
			AddIdealFraction: 1 / float64(n+1), RemoveIdealFraction: 1 / float64(n)}
		if cfg.Shards > 0 {
			c.row.Mode = "shards"
		}
		cases[i] = c
	}
	buf := make([]byte, 0, 32)
	un := uint64(n)
	for k := range keys {
		buf = strconv.AppendInt(append(buf[:0], "key-"...), int64(k), 10)
		h := ring.HashKey(string(buf))
		modMove := h%un != h%(un+1)
		modRm := h%un != h%(un-1)
		for _, c := range cases {
			before, _ := c.base.OwnerHash(h)
			c.perNode[before-1]++
			if after, _ := c.added.OwnerHash(h); after != before {
				c.addMoved++
				if after != c.joiner {
					c.addCross++
				}
			}
			if after, _ := c.gone.OwnerHash(h); after != before {
				c.rmMoved++
				if before != c.leaver {
					c.rmCross++
				}
			}
			if modMove {
				c.modMoved++
			}
			if modRm {
				c.modRmMove++
			}
		}
	}
	rows := make([]ringRow, len(cases))
	for i, c := range cases {
		counts := make([]float64, n)
		for j, v := range c.perNode {
			counts[j] = float64(v)
		}
		r := c.row
		r.CV, r.MaxOverMean = spread(counts)
		r.ExactCV, _ = spread(c.base.Shares())
		if r.Mode == "vnodes" {
			r.TheoryCV = math.Sqrt(float64(n-1) / float64(n*r.VNodes+1))
		} else {
			r.TheoryCV = r.ExactCV
		}
		kf := float64(keys)
		r.AddMovedFraction = float64(c.addMoved) / kf
		r.AddCrossMoves = c.addCross
		r.RemoveMovedFraction = float64(c.rmMoved) / kf
		r.RemoveCrossMoves = c.rmCross
		r.ModuloMovedFraction = float64(c.modMoved) / kf
		r.ModuloRemoveMovedFraction = float64(c.modRmMove) / kf
		rows[i] = r
	}
	return rows, nil
}

// spread returns the coefficient of variation and max/mean of xs.
func spread(xs []float64) (cv, maxOverMean float64) {
	mean, hi := 0.0, 0.0
	for _, x := range xs {
		mean += x
		hi = math.Max(hi, x)
	}
	mean /= float64(len(xs))
	if mean == 0 {
		return 0, 0
	}
	v := 0.0
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	return math.Sqrt(v/float64(len(xs))) / mean, hi / mean
}

func printRingTable(w io.Writer, nodes, keys int, seed uint64, rows []ringRow) {
	fmt.Fprintf(w, "%d nodes, %d keys, seed %d; node %d joins, node 1 leaves\n\n", nodes, keys, seed, nodes+1)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tvnodes\tshards\tcv\ttheory cv\tmax/mean\tjoin moved\tideal\tcross\tleave moved\tideal\tcross\tmodulo join\tmodulo leave\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.4f\t%.3f\t%.4f\t%.4f\t%d\t%.4f\t%.4f\t%d\t%.4f\t%.4f\t\n",
			r.Mode, dash(r.VNodes), dash(r.Shards), r.CV, r.TheoryCV, r.MaxOverMean,
			r.AddMovedFraction, r.AddIdealFraction, r.AddCrossMoves,
			r.RemoveMovedFraction, r.RemoveIdealFraction, r.RemoveCrossMoves,
			r.ModuloMovedFraction, r.ModuloRemoveMovedFraction)
	}
	tw.Flush()
	fmt.Fprintln(w, "\ncv: keys per node; theory cv: sqrt((N-1)/(N*V+1)) for vnodes, the exact split for shards.")
	fmt.Fprintln(w, "moved: fraction of keys whose owner changed; ideal: the joiner's (leaver's) share; cross: keys moved between two other nodes.")
}

// dash formats n, or "-" for 0 (the unused mode's column).
func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}
