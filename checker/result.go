package checker

import (
	"fmt"
	"strings"

	"github.com/faultline-sim/faultline/sim"
)

// Verdict is a checker's judgement.
type Verdict string

// The verdicts. Unknown means the checker could not decide (its budget ran
// out, or what it needed was missing from the history); it is never a pass.
const (
	Valid   Verdict = "valid"
	Invalid Verdict = "invalid"
	Unknown Verdict = "unknown"
)

// Names of the checkers, as they appear in Result.Checker.
const (
	NameLinearizable = "linearizable"
	NameLostWrites   = "lost-writes"
	NameDurability   = "durability"
	NameSiblings     = "siblings"
	NameConvergence  = "convergence"
)

// MaxWitness bounds Result.Witness; Result.Count has the full number.
const MaxWitness = 20

// Result is what every checker returns.
type Result struct {
	// Checker names the checker (one of the Name constants).
	Checker string `json:"checker"`
	// Verdict is valid, invalid or unknown.
	Verdict Verdict `json:"verdict"`
	// Explanation says in a sentence or two why: what was checked and what
	// went wrong (or why no decision was possible).
	Explanation string `json:"explanation"`
	// Count is the number of violations found: lost writes, wrong sibling
	// sets, divergent keys, non-linearizable keys. Zero unless Invalid.
	Count int `json:"count"`
	// Witness lists the first MaxWitness violations in a deterministic
	// order (by time, then key).
	Witness []Violation `json:"witness,omitempty"`
	// Idle marks an Unknown verdict reached because the history or snapshot
	// held nothing this checker judges (no crash for durability, no key for
	// convergence, ...): the check was not exercised, as opposed to a budget
	// running out.
	Idle bool `json:"idle,omitempty"`
	// Exhausted names the budget that ran out, if one did: "steps",
	// "memory" or "wall-clock" (the outer safety net, whose verdict depends
	// on the machine).
	Exhausted string `json:"exhausted,omitempty"`
}

// Violation is one piece of evidence against a history or snapshot.
type Violation struct {
	// Key is the key concerned.
	Key string `json:"key"`
	// Value is the value concerned (a lost write, a missing or extra
	// sibling, the operation porcupine got stuck on), if any.
	Value string `json:"value,omitempty"`
	// Client issued the operation concerned, or -1.
	Client int `json:"client"`
	// Time is when it happened: a lost write's acknowledgement, the call of
	// the operation that cannot be linearized. Zero when not applicable.
	Time sim.Time `json:"time"`
	// Detail is one line a person can act on.
	Detail string `json:"detail"`
}

// String formats r on one line, e.g. "lost-writes: invalid (3 lost ...)".
func (r Result) String() string {
	return fmt.Sprintf("%s: %s (%s)", r.Checker, r.Verdict, r.Explanation)
}

// String formats v on one line.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "key %q", v.Key)
	if v.Value != "" {
		fmt.Fprintf(&b, " value %q", v.Value)
	}
	if v.Client >= 0 {
		fmt.Fprintf(&b, " client %d", v.Client)
	}
	if v.Time != 0 {
		fmt.Fprintf(&b, " at %s", v.Time)
	}
	return b.String() + ": " + v.Detail
}

// bounded returns the first MaxWitness violations.
func bounded(vs []Violation) []Violation {
	if len(vs) > MaxWitness {
		return vs[:MaxWitness:MaxWitness]
	}
	return vs
}

// plural formats n with a noun, e.g. "1 key", "3 keys".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "sh") || strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
