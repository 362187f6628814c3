package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// maxWhyLines bounds one witness's explanation.
const maxWhyLines = 4000

// Why is the trace slice that explains one witness: the operation it names
// (followed from its invocation through its coordinator's fan-out and the
// replicas' replies to its completion), the writes of the values it saw or
// lost, the final read of its key, and the faults active meanwhile.
type Why struct {
	// Checker and Witness say which witness this explains (Witness counts
	// from 1 across all checkers, in judging order, as reports number them).
	Checker string
	Witness int
	// Text is the explanation, one trace line per line.
	Text string
}

// Explain replays o's run with the trace on and returns, for every witness
// of every verdict, the slice of the trace that explains it. The replay
// must reproduce the run (same trace hash), or Explain fails.
func Explain(o Outcome) ([]Why, error) {
	if o.Result == nil {
		return nil, fmt.Errorf("scenarios: %s seed %d has no result to explain", o.Scenario, o.Seed)
	}
	c, err := cluster.New(o.Config.Cluster(), o.Seed)
	if err != nil {
		return nil, err
	}
	// Each witness's explanation is planned from the run's result before
	// the replay and fed the trace as it streams, so what is kept is
	// bounded by maxWhyLines per witness, never the whole trace.
	var plans []*whyPlan
	for _, v := range o.Verdicts {
		for _, w := range v.Witness {
			plans = append(plans, planWhy(v.Result, w, o.Result))
		}
	}
	c.SetTrace(func(l cluster.TraceLine) {
		for _, p := range plans {
			p.add(l)
		}
	})
	r, _ := c.Run()
	if r == nil || r.TraceHash != o.Result.TraceHash {
		return nil, fmt.Errorf("scenarios: the traced replay of %s seed %d diverged from the run", o.Scenario, o.Seed)
	}
	var out []Why
	n := 0
	for _, v := range o.Verdicts {
		for range v.Witness {
			out = append(out, Why{Checker: v.Checker, Witness: n + 1, Text: plans[n].b.String()})
			n++
		}
	}
	return out, nil
}

// whyPlan is one witness's explanation being written: its header, then the
// trace lines it follows as they come, at most maxWhyLines.
type whyPlan struct {
	b    strings.Builder
	ops  map[int]string // invocation index -> why it is followed
	key  string
	n    int
	done bool
}

// add appends l if the explanation follows it.
func (p *whyPlan) add(l cluster.TraceLine) {
	if p.done {
		return
	}
	keep := false
	switch {
	case len(p.ops) == 0:
		keep = l.Concerns(p.key)
	case l.Op >= 0:
		_, keep = p.ops[l.Op]
	}
	if !keep {
		return
	}
	if p.n++; p.n > maxWhyLines {
		fmt.Fprintf(&p.b, "# ... cut at %d lines\n", maxWhyLines)
		p.done = true
		return
	}
	p.b.WriteString(l.String())
	p.b.WriteByte('\n')
}

// planWhy writes the header of w's explanation (what it follows, the
// faults active meanwhile) from the run's result.
func planWhy(res checker.Result, w checker.Violation, r *cluster.Result) *whyPlan {
	ops := map[int]string{} // invocation index -> why it is followed
	var from, to sim.Time = sim.Never, 0
	follow := func(op history.Op, why string) {
		if _, ok := ops[op.Invoked]; ok {
			return
		}
		ops[op.Invoked] = why
		if op.Final {
			return // the final read comes after the heal: no fault is its context
		}
		from = min(from, op.Call)
		end := op.End
		if end == sim.Never {
			end = r.SettleAt
		}
		to = max(to, end)
	}
	var named *history.Op
	for i := range r.Ops {
		op := &r.Ops[i]
		if op.Key != w.Key {
			continue
		}
		switch {
		case w.Client >= 0 && op.Client == w.Client && w.Time != 0 && (op.Call == w.Time || op.End == w.Time):
			named = op
		case named == nil && w.Value != "" && op.Value == w.Value && (op.Kind == history.Write || op.Kind == history.Add):
			named = op
		}
	}
	if named != nil {
		follow(*named, "the operation the witness names")
		seen := named.Values
		if w.Value != "" {
			seen = append(slices.Clone(seen), w.Value)
		}
		for _, op := range r.Ops {
			if op.Key == w.Key && op.Value != "" && slices.Contains(seen, op.Value) && op.Invoked != named.Invoked {
				follow(op, fmt.Sprintf("the write of %q", op.Value))
			}
		}
	}
	for _, op := range r.Ops {
		if op.Final && op.Key == w.Key {
			follow(op, "the final read of the key")
			break
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# why %s: %s\n# witness: %s\n", res.Checker, res.Verdict, w)
	if len(ops) == 0 {
		b.WriteString("# no single operation to follow: every line about the key follows\n")
	}
	idx := make([]int, 0, len(ops))
	for i := range ops {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		fmt.Fprintf(&b, "# following #%d: %s\n", i, ops[i])
	}
	active := false
	for _, win := range r.Windows {
		end := win.End
		if end == sim.Never {
			end = r.SettleAt
		}
		if (len(ops) == 0 && win.Start < r.SettleAt) || (win.Start <= to && end >= from) {
			if !active {
				b.WriteString("# faults active meanwhile:\n")
				active = true
			}
			fmt.Fprintf(&b, "#   %v..%v %s\n", win.Start, end, win.Label)
		}
	}
	if !active {
		b.WriteString("# no fault was active meanwhile\n")
	}
	p := &whyPlan{ops: ops, key: w.Key}
	p.b.WriteString(b.String())
	return p
}
