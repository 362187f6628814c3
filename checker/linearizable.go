package checker

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// Model is the sequential specification a history is checked against.
// Every model is partitioned by key (each key is an independent object).
type Model string

// The models. They share one semantics and differ in what they accept:
// ModelRegister takes reads and writes, ModelCASRegister also cas, and
// ModelKV reads, writes, deletes, cas and adds. A read returns exactly one
// value or NotFound (a key never written or deleted); a read returning
// several siblings is never linearizable. A key with add operations holds a
// set: its reads return the elements (order ignored) and it takes no
// writes, deletes or cas.
const (
	ModelKV          Model = "kv"
	ModelRegister    Model = "register"
	ModelCASRegister Model = "cas-register"
)

// ParseModel parses "kv", "register" or "cas-register".
func ParseModel(s string) (Model, error) {
	switch m := Model(s); m {
	case ModelKV, ModelRegister, ModelCASRegister:
		return m, nil
	}
	return "", fmt.Errorf("checker: unknown model %q (want kv, register or cas-register)", s)
}

func (m Model) allows(k history.Kind) bool {
	switch k {
	case history.Read, history.Write:
		return true
	case history.CAS:
		return m != ModelRegister
	case history.Delete, history.Add:
		return m == ModelKV
	}
	return false
}

// Annotation marks a window of virtual time in a visualization, e.g. a
// nemesis fault from Start to End.
type Annotation struct {
	Start, End sim.Time
	Label      string
}

// LinearOptions configures Linearizable.
type LinearOptions struct {
	// Model is the specification; empty means ModelKV.
	Model Model
	// Timeout is the wall-clock budget for reaching a verdict (0: none).
	// When it runs out before one, the result is Unknown. It does not bound
	// the explanation of an Invalid verdict (see WitnessSteps).
	Timeout time.Duration
	// WitnessSteps bounds, in calls of the model's step function, the
	// re-check that names the non-linearizable keys and builds the witness
	// of an Invalid verdict (0: DefaultWitnessSteps). Counting steps, not
	// wall time, makes the explanation and witness a function of the
	// history alone. If it runs out, the explanation says so and how many
	// keys were left unchecked.
	WitnessSteps int
	// Visualize, if set, receives porcupine's HTML visualization of the
	// non-linearizable keys when the verdict is Invalid.
	Visualize io.Writer
	// Annotations are drawn on the visualization (nemesis windows).
	Annotations []Annotation
	// NoPatch skips PatchInfo (for measuring what the patch saves).
	NoPatch bool
}

// Linearizable checks ops against opts.Model with porcupine. Fail
// operations are dropped (they did not happen), as are reads whose outcome
// is unknown; info writes are patched (see PatchInfo) unless opts.NoPatch;
// the remaining info operations return at infinity. It returns an error
// for operations the model does not accept or that return before they are
// called.
func Linearizable(ops []history.Op, opts LinearOptions) (Result, error) {
	model := opts.Model
	if model == "" {
		model = ModelKV
	}
	if _, err := ParseModel(string(model)); err != nil {
		return Result{}, err
	}
	if err := validateLinear(ops, model); err != nil {
		return Result{}, err
	}
	in, dropped, capped := ops, 0, 0
	if !opts.NoPatch {
		in, dropped, capped = patchInfo(ops)
	}
	pops, ignored := toPorcupine(in)
	pm := porcupineModel()
	parts := partitionByKey(pops)

	summary := fmt.Sprintf("%s on %s (%s model)", plural(len(pops), "operation"), plural(len(parts), "key"), model)
	var notes []string
	if !opts.NoPatch && dropped+capped > 0 {
		notes = append(notes, fmt.Sprintf("info writes patched: %d unobserved dropped, %d bounded by their first observer", dropped, capped))
	}
	if ignored > 0 {
		notes = append(notes, fmt.Sprintf("%d failed operations and unanswered reads ignored", ignored))
	}
	if len(notes) > 0 {
		summary += "; " + strings.Join(notes, "; ")
	}

	res := Result{Checker: NameLinearizable}
	switch porcupine.CheckOperationsTimeout(pm, pops, opts.Timeout) {
	case porcupine.Ok:
		res.Verdict = Valid
		res.Explanation = "linearizable: " + summary
		return res, nil
	case porcupine.Unknown:
		res.Verdict = Unknown
		res.Explanation = fmt.Sprintf("no verdict within the %s budget (no violation found so far): %s; raise the timeout or check a shorter history", opts.Timeout, summary)
		return res, nil
	}

	// Illegal. Name the keys that are not linearizable and explain them.
	// This is a function of the history alone: each key is re-checked with
	// a budget counted in model steps, not wall time (see WitnessSteps).
	res.Verdict = Invalid
	budget := opts.WitnessSteps
	if budget <= 0 {
		budget = DefaultWitnessSteps
	}
	left := budget
	var bad [][]porcupine.Operation
	var partials [][]int
	undecided := 0
	for i, part := range parts {
		key := part[0].Input.(*linOp).op.Key
		if left <= 0 {
			undecided = len(parts) - i
			break
		}
		used, outcome, lin := checkKeySteps(part, key, left)
		left -= used
		switch {
		case outcome == keyUndecided:
			undecided = len(parts) - i
		case outcome == keyIllegal:
			bad = append(bad, part)
			partials = append(partials, lin)
		}
		if undecided > 0 {
			break
		}
	}
	budgetNote := fmt.Sprintf("the witness budget of %s ran out with %s left unchecked", plural(budget, "model step"), plural(undecided, "key"))
	res.Count = max(len(bad), 1)
	if len(bad) == 0 {
		res.Explanation = fmt.Sprintf("not linearizable: %s; %s before the offending key could be named (raise LinearOptions.WitnessSteps)", summary, budgetNote)
		return res, nil
	}
	for i, part := range bad {
		res.Witness = append(res.Witness, stuckAt(pm, part, partials[i]))
	}
	keys := make([]string, 0, MaxWitness)
	for _, w := range bounded(res.Witness) {
		keys = append(keys, strconv.Quote(w.Key))
	}
	count := plural(len(bad), "key")
	if undecided > 0 {
		count = "at least " + count
	}
	res.Explanation = fmt.Sprintf("not linearizable: %s (%s) of %s. %s", count, strings.Join(keys, ", "), summary, res.Witness[0].Detail)
	if undecided > 0 {
		res.Explanation += "; " + budgetNote
	}
	res.Witness = bounded(res.Witness)
	if opts.Visualize != nil {
		var badOps []porcupine.Operation
		for _, part := range bad {
			badOps = append(badOps, part...)
		}
		// Every bad key was decided within the step budget, so this
		// unbounded check of just those keys ends.
		_, info := porcupine.CheckOperationsVerbose(pm, badOps, 0)
		info.AddAnnotations(nemesisAnnotations(opts.Annotations))
		if err := porcupine.Visualize(pm, info, opts.Visualize); err != nil {
			return res, fmt.Errorf("checker: writing the visualization: %w", err)
		}
	}
	return res, nil
}

// DefaultWitnessSteps is the default LinearOptions.WitnessSteps: enough
// for every built-in scenario's history by a wide margin (their keys take
// thousands to a few hundred thousand steps), a few seconds of search at
// most.
const DefaultWitnessSteps = 20_000_000

// keyOutcome is what a step-budgeted check of one key found.
type keyOutcome int

const (
	keyLinearizable keyOutcome = iota
	keyIllegal
	keyUndecided // the step budget ran out
)

// checkKeySteps checks one key's operations with porcupine, allowing at
// most limit calls of the model's step function. porcupine's search of one
// key is sequential and deterministic, so the outcome, the steps used and
// the longest partial linearization lin (for an illegal key) depend only
// on part and limit. Once the budget is spent every step fails, which
// makes the search unwind quickly; such a key is undecided.
func checkKeySteps(part []porcupine.Operation, key string, limit int) (used int, outcome keyOutcome, lin []int) {
	pm := porcupineModel()
	pm.Step = func(state, input, output any) (bool, any) {
		if used >= limit {
			return false, state
		}
		used++
		return step(state, input, output)
	}
	r, info := porcupine.CheckOperationsVerbose(pm, part, 0)
	switch {
	case used >= limit && r != porcupine.Ok:
		return used, keyUndecided, nil
	case r == porcupine.Ok:
		return used, keyLinearizable, nil
	}
	if p := info.PartialLinearizations(); len(p) > 0 {
		lin = longestPartial(p[0])
	}
	return used, keyIllegal, lin
}

func validateLinear(ops []history.Op, model Model) error {
	setKey := make(map[string]bool)
	for i := range ops {
		if ops[i].Kind == history.Add {
			setKey[ops[i].Key] = true
		}
	}
	for i := range ops {
		o := &ops[i]
		switch o.Outcome {
		case history.OK, history.Fail, history.Info:
		default:
			return fmt.Errorf("checker: operation %d (%s): outcome %q (want ok, fail or info)", i, o, o.Outcome)
		}
		if !model.allows(o.Kind) {
			return fmt.Errorf("checker: operation %d (%s): the %s model does not accept %s operations (use -model kv or cas-register)", i, o, model, o.Kind)
		}
		if setKey[o.Key] && o.Kind != history.Add && o.Kind != history.Read {
			return fmt.Errorf("checker: operation %d (%s): key %q holds a set (it has add operations) and takes only adds and reads", i, o, o.Key)
		}
		if o.Return < o.Call {
			return fmt.Errorf("checker: operation %d (%s): returns at %s, before its call at %s", i, o, o.Return, o.Call)
		}
	}
	return nil
}

// linOp is an operation as porcupine sees it: its Input (Output is unused).
type linOp struct {
	op   *history.Op
	ok   bool
	set  bool
	want string // state a read must see, or a cas must find
	next any    // state after a write or cas (boxed once)
	elem string // add: the element in set encoding
}

// States are strings: for a register "" (absent) or "\x01"+value; for a
// set the sorted, quoted elements joined by "\x00" ("" is the empty set).
const absent = ""

var absentState any = absent

func registerState(v string) string { return "\x01" + v }

func setState(elems []string) string {
	q := make([]string, len(elems))
	for i, e := range elems {
		q[i] = strconv.Quote(e)
	}
	slices.Sort(q)
	return strings.Join(q, "\x00")
}

func setAdd(state, elem string) string {
	if state == "" {
		return elem
	}
	parts := strings.Split(state, "\x00")
	i, _ := slices.BinarySearch(parts, elem)
	parts = slices.Insert(parts, i, elem)
	return strings.Join(parts, "\x00")
}

// toPorcupine converts ops to porcupine operations, dropping failed
// operations and reads without an answer (ignored counts them).
func toPorcupine(ops []history.Op) (pops []porcupine.Operation, ignored int) {
	setKey := make(map[string]bool)
	for i := range ops {
		if ops[i].Kind == history.Add {
			setKey[ops[i].Key] = true
		}
	}
	pops = make([]porcupine.Operation, 0, len(ops))
	for i := range ops {
		o := &ops[i]
		if o.Outcome == history.Fail || (o.Kind == history.Read && o.Outcome != history.OK) {
			ignored++
			continue
		}
		in := &linOp{op: o, ok: o.Outcome == history.OK, set: setKey[o.Key]}
		switch o.Kind {
		case history.Read:
			switch {
			case in.set:
				in.want = setState(o.Values)
			case o.NotFound || len(o.Values) == 0:
				in.want = absent
			case len(o.Values) == 1:
				in.want = registerState(o.Values[0])
			default:
				in.want = "\x02siblings" // matches no register state
			}
		case history.Write:
			in.next = registerState(o.Value)
		case history.CAS:
			in.want = registerState(o.Expect)
			in.next = registerState(o.Value)
		case history.Add:
			in.elem = strconv.Quote(o.Value)
		}
		pops = append(pops, porcupine.Operation{
			ClientId: o.Client,
			Input:    in,
			Call:     int64(o.Call),
			Return:   int64(o.Return),
			Metadata: o,
		})
	}
	return pops, ignored
}

// partitionByKey groups operations by key, keys in sorted order, each
// group in history order.
func partitionByKey(pops []porcupine.Operation) [][]porcupine.Operation {
	index := make(map[string]int)
	var keys []string
	for i := range pops {
		k := pops[i].Input.(*linOp).op.Key
		if _, ok := index[k]; !ok {
			index[k] = len(keys)
			keys = append(keys, k)
		}
	}
	groups := make([][]porcupine.Operation, len(keys))
	for i := range pops {
		g := index[pops[i].Input.(*linOp).op.Key]
		groups[g] = append(groups[g], pops[i])
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	out := make([][]porcupine.Operation, len(keys))
	for i, g := range order {
		out[i] = groups[g]
	}
	return out
}

func porcupineModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return absentState },
		Step:      step,
		Equal:     func(a, b any) bool { return a.(string) == b.(string) },
		Hash: func(s any) uint64 {
			h := uint64(14695981039346656037)
			for _, c := range []byte(s.(string)) {
				h = (h ^ uint64(c)) * 1099511628211
			}
			return h
		},
		DescribeOperation: func(input, _ any) string { return describeOp(input.(*linOp).op) },
		DescribeState:     func(s any) string { return describeState(s.(string)) },
		DescribeOperationMetadata: func(m any) string {
			o, ok := m.(*history.Op)
			if !ok {
				return ""
			}
			s := fmt.Sprintf("%s via %s", o.Outcome, o.Node)
			if o.Err != "" {
				s += ": " + o.Err
			}
			return s
		},
	}
}

func step(state, input, _ any) (bool, any) {
	s := state.(string)
	in := input.(*linOp)
	switch in.op.Kind {
	case history.Read:
		return s == in.want, state
	case history.Write:
		return true, in.next
	case history.Delete:
		return true, absentState
	case history.CAS:
		if s == in.want {
			return true, in.next
		}
		// An info cas that finds another value simply did not swap.
		return !in.ok, state
	case history.Add:
		return true, setAdd(s, in.elem)
	}
	return false, state
}

func describeOp(o *history.Op) string {
	var s string
	switch o.Kind {
	case history.Read:
		switch {
		case o.NotFound:
			s = "read → not found"
		case len(o.Values) == 1:
			s = "read → " + strconv.Quote(o.Values[0])
		default:
			s = fmt.Sprintf("read → %q", o.Values)
		}
	case history.Write, history.Add:
		s = fmt.Sprintf("%s %q", o.Kind, o.Value)
	case history.CAS:
		s = fmt.Sprintf("cas %q → %q", o.Expect, o.Value)
	case history.Delete:
		s = "delete"
	}
	if o.Outcome == history.Info {
		s += " (info)"
	}
	return fmt.Sprintf("%q: %s", o.Key, s)
}

func describeState(s string) string {
	switch {
	case s == "":
		return "empty"
	case s[0] == '\x01':
		return strconv.Quote(s[1:])
	}
	return "{" + strings.ReplaceAll(s, "\x00", ", ") + "}"
}

// longestPartial picks, deterministically, a longest partial linearization.
func longestPartial(partials [][]int) []int {
	var best []int
	for _, p := range partials {
		if len(p) > len(best) || (len(p) == len(best) && slices.Compare(p, best) < 0) {
			best = p
		}
	}
	return best
}

// stuckAt explains why part (a non-linearizable key) fails: how far its
// longest partial linearization lin gets, the state there, and the
// earliest-returning operation that cannot follow it.
func stuckAt(pm porcupine.Model, part []porcupine.Operation, lin []int) Violation {
	key := part[0].Input.(*linOp).op.Key
	state := pm.Init()
	in := make([]bool, len(part))
	for _, id := range lin {
		if id < 0 || id >= len(part) {
			continue
		}
		in[id] = true
		_, state = pm.Step(state, part[id].Input, nil)
	}
	stuck := -1
	for i := range part {
		if in[i] {
			continue
		}
		if stuck < 0 || part[i].Return < part[stuck].Return || (part[i].Return == part[stuck].Return && part[i].Call < part[stuck].Call) {
			stuck = i
		}
	}
	v := Violation{Key: key, Client: -1}
	if stuck < 0 { // cannot happen for an illegal key; say so rather than guess
		v.Detail = fmt.Sprintf("key %q: %d operations, not linearizable", key, len(part))
		return v
	}
	o := part[stuck].Input.(*linOp).op
	v.Value, v.Client, v.Time = o.Value, o.Client, o.Call
	if o.Kind == history.Read && len(o.Values) > 0 {
		v.Value = strings.Join(o.Values, ",")
	}
	v.Detail = fmt.Sprintf("key %q: the longest linearization found covers %d of its %d operations and leaves the state %s; the next operation to return cannot follow it: %s",
		key, len(lin), len(part), describeState(state.(string)), o)
	return v
}

func nemesisAnnotations(as []Annotation) []porcupine.Annotation {
	out := make([]porcupine.Annotation, 0, len(as))
	for _, a := range as {
		out = append(out, porcupine.Annotation{
			Tag:             "nemesis",
			Start:           int64(a.Start),
			End:             int64(max(a.End, a.Start)),
			Description:     a.Label,
			Details:         fmt.Sprintf("%s from %s to %s", a.Label, a.Start, a.End),
			BackgroundColor: "#fbd5d5",
		})
	}
	return out
}
