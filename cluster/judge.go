package cluster

import (
	"io"
	"time"

	"github.com/faultline-sim/faultline/checker"
)

// JudgeOptions choose which checkers run over a Result.
type JudgeOptions struct {
	// Linearizable runs porcupine (register and kv workloads).
	Linearizable bool
	// LinearSteps bounds the linearizability search in model steps (0:
	// checker.DefaultSteps); running out gives Unknown, never a pass, and
	// the verdict stays a function of the history.
	LinearSteps int64
	// LinearTimeout is only an outer wall-clock safety net (0: none); if it
	// fires, the Unknown says it depends on the machine.
	LinearTimeout time.Duration
	// Visualize receives porcupine's HTML when the history is not
	// linearizable.
	Visualize io.Writer
	// Causal selects vector-clock rules for the lost-writes checker and
	// runs the siblings checker.
	Causal bool
}

// Judge runs the chosen checkers over r, in a fixed order: linearizable,
// lost-writes, durability, siblings, convergence. A checker that rejects its
// input (a malformed history) is reported as its error.
func Judge(r *Result, o JudgeOptions) ([]checker.Result, error) {
	var out []checker.Result
	if o.Linearizable {
		var ann []checker.Annotation
		for _, w := range r.Windows {
			ann = append(ann, checker.Annotation{Start: w.Start, End: w.End, Label: w.Label})
		}
		res, err := checker.Linearizable(r.Ops, checker.LinearOptions{
			Steps: o.LinearSteps, Timeout: o.LinearTimeout, Visualize: o.Visualize, Annotations: ann,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	lost, dur, err := checker.LostWritesAndDurability(r.Ops, r.Crashes, checker.LostOptions{Causal: o.Causal})
	if err != nil {
		return nil, err
	}
	out = append(out, lost, dur)
	if o.Causal {
		sib, err := checker.Siblings(r.Ops)
		if err != nil {
			return nil, err
		}
		out = append(out, sib)
	}
	conv, err := checker.Convergence(r.Replicas)
	if err != nil {
		return nil, err
	}
	out = append(out, conv)
	return out, nil
}
