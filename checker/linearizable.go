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

// The models. A read returns exactly one value or NotFound (a key never
// written, or deleted); a read returning several siblings is never
// linearizable. A key starts absent unless LinearOptions.Initial is set.
//
//   - ModelRegister: read and write.
//   - ModelCASRegister: read, write and cas (an ok cas found its expected
//     value and swapped; a failed cas did not happen; an info cas either
//     swapped or found another value and did nothing).
//   - ModelKV: faultline's, porcupine's and the MIT 6.5840 lab's key-value
//     store: get/read, put/write, delete, cas, append (concatenates a
//     string: a key with appends starts as "" and reading nothing there
//     reads ""), and add (a key with adds holds a set: its reads return the
//     elements, order ignored, and it takes no other writes).
//   - ModelSet: add and read only, every key a set.
//   - ModelMutex: Knossos's mutex: acquire succeeds on a free lock, release
//     on a held one (the key names the lock).
const (
	ModelKV          Model = "kv"
	ModelRegister    Model = "register"
	ModelCASRegister Model = "cas-register"
	ModelSet         Model = "set"
	ModelMutex       Model = "mutex"
)

// ModelNames lists the models for usage messages.
const ModelNames = "kv, register or cas-register (or set, mutex)"

// ParseModel parses a model name (see the Model constants).
func ParseModel(s string) (Model, error) {
	switch m := Model(s); m {
	case ModelKV, ModelRegister, ModelCASRegister, ModelSet, ModelMutex:
		return m, nil
	}
	return "", fmt.Errorf("checker: unknown model %q (want %s)", s, ModelNames)
}

func (m Model) allows(k history.Kind) bool {
	switch m {
	case ModelRegister:
		return k == history.Read || k == history.Write
	case ModelCASRegister:
		return k == history.Read || k == history.Write || k == history.CAS
	case ModelKV:
		return k == history.Read || k == history.Write || k == history.CAS || k == history.Delete || k == history.Add || k == history.Append
	case ModelSet:
		return k == history.Read || k == history.Add
	case ModelMutex:
		return k == history.Acquire || k == history.Release
	}
	return false
}

// suggest names a model that accepts kind k.
func suggest(k history.Kind) string {
	switch k {
	case history.CAS:
		return "cas-register or kv"
	case history.Acquire, history.Release:
		return "mutex"
	case history.Add:
		return "set or kv"
	}
	return "kv"
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
	// Initial, when HasInitial, is every register key's initial value
	// (Knossos's (cas-register 0)). Then an ok read of nothing (NotFound)
	// observed nothing and is dropped, as Knossos does.
	Initial    string
	HasInitial bool
	// Steps bounds the search, in calls of the model's step function,
	// summed over all keys (0: DefaultSteps). Running out gives Unknown.
	// Counting steps makes the verdict a function of the history and the
	// options alone.
	Steps int64
	// MemoryBytes bounds what the search keeps (its cache of visited
	// configurations, counted in bytes as allocated; 0: DefaultMemoryBytes).
	// Running out gives Unknown.
	MemoryBytes int64
	// Timeout is an outer wall-clock safety net (0: none). If it fires
	// before a verdict, the result is Unknown and says that it depends on
	// the machine, not only on the history; budgets belong in Steps.
	Timeout time.Duration
	// WitnessSteps bounds, in model steps summed over the bad keys, the
	// shrinking of an Invalid verdict's witness to a smallest set of operations that cannot be
	// ordered (0: DefaultWitnessSteps). If it runs out, the witness is
	// left larger and the explanation says so.
	WitnessSteps int
	// Visualize, if set, receives porcupine's HTML visualization of the
	// non-linearizable keys when the verdict is Invalid.
	Visualize io.Writer
	// Annotations are drawn on the visualization (nemesis windows).
	Annotations []Annotation
	// NoPatch skips PatchInfo (for measuring what the patch saves).
	NoPatch bool
	// NoPrepass skips the stale- and future-read pre-pass (for measuring
	// what it saves).
	NoPrepass bool
}

// firstRoundSteps is each key's step limit in the first round of the
// search; it grows fourfold each round.
const firstRoundSteps = 10_000

// DefaultSteps is the default LinearOptions.Steps: about ten seconds of
// search on one core of a 2020s machine.
const DefaultSteps = 50_000_000

// DefaultMemoryBytes is the default LinearOptions.MemoryBytes: 2 GiB
// counted, a few GiB of heap at most, safe on a 24 GB machine shared by
// several checks.
const DefaultMemoryBytes = 2 << 30

// Linearizable checks ops against opts.Model. Fail operations are dropped
// (they did not happen), as are reads whose outcome is unknown; info
// writes are patched (see PatchInfo) unless opts.NoPatch; the remaining
// info operations return at infinity. A sound pre-pass first names stale
// and future reads on keys whose written values are unique; the rest is
// searched key by key (in sorted key order) within the step and memory
// budgets. It returns an error for operations the model does not accept
// or that return before they are called.
func Linearizable(ops []history.Op, opts LinearOptions) (Result, error) {
	sc := getLinScratch()
	defer putLinScratch(sc)
	return linearizable(ops, opts, sc)
}

// linearizable is Linearizable working in sc (which it leaves to the
// caller to empty).
func linearizable(ops []history.Op, opts LinearOptions, sc *linScratch) (Result, error) {
	model := opts.Model
	if model == "" {
		model = ModelKV
	}
	if _, err := ParseModel(string(model)); err != nil {
		return Result{}, err
	}
	if opts.HasInitial && (model == ModelSet || model == ModelMutex) {
		return Result{}, fmt.Errorf("checker: an initial value applies to register keys; the %s model takes none", model)
	}
	if err := validateLinear(ops, model); err != nil {
		return Result{}, err
	}
	b := &budget{maxSteps: opts.Steps, maxMem: opts.MemoryBytes}
	memoryOut := false
	if b.maxSteps <= 0 {
		b.maxSteps = DefaultSteps
	}
	if b.maxMem <= 0 {
		b.maxMem = DefaultMemoryBytes
	}
	if opts.Timeout > 0 {
		b.deadline = time.Now().Add(opts.Timeout)
	}
	// Group the operations by key (pointers, not copies), keys in sorted
	// order; each key is patched, pre-passed and prepared for the search
	// on its own, pointing at the caller's operations. All of it works in
	// sc, reused from call to call; nothing returned points into it.
	keys, groups, nilReads := sc.group(ops, opts.HasInitial)
	sc.arena.reserve(len(ops) - nilReads)
	parts := sc.parts[:0]
	dropped, capped, ignored, searched := 0, 0, 0, 0
	for r, key := range keys {
		raw := groups[r]
		var ret []sim.Time
		var drop []bool
		if !opts.NoPatch {
			var d, c int
			ret, drop, d, c = patchPlan(raw, &sc.patch)
			dropped += d
			capped += c
		}
		sops, ign := toSearchKey(raw, ret, drop, model, &sc.arena)
		ignored += ign
		if len(sops) == 0 {
			continue
		}
		searched += len(sops)
		parts = append(parts, keyPart{key: key, raw: raw, ops: sops})
	}
	sc.parts = parts

	summary := fmt.Sprintf("%s on %s (%s model", plural(searched, "operation"), plural(len(parts), "key"), model)
	if opts.HasInitial {
		summary += fmt.Sprintf("; initial value %q", opts.Initial)
	}
	summary += ")"
	var notes []string
	if nilReads > 0 {
		notes = append(notes, fmt.Sprintf("%d ok reads of nil observed nothing (an initial value is set)", nilReads))
	}
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
	type badKey struct {
		key     string
		part    []sop
		witness []*history.Op
		detail  string
		minimal bool
	}
	var bad []badKey
	undecided := map[string]string{} // key -> the budget that stopped it
	byPrepass := 0
	var pending []int // indices into parts still to search
	for i, kp := range parts {
		if !opts.NoPrepass {
			v := prepassPtrs(kp.raw, model, opts, &sc.prepass)
			parts[i].raw = nil // the search needs only its own operations
			if v != nil {
				bad = append(bad, badKey{key: kp.key, part: kp.ops, witness: v.ops, detail: v.detail, minimal: true})
				byPrepass++
				continue
			}
		}
		pending = append(pending, i)
	}
	// Search the keys in rounds: every pending key gets a round limit of
	// steps, four times larger each round, so that one hard key cannot
	// spend the whole budget before an easy bad key is reached. All of it
	// counts steps, so the outcome is a function of the history.
	found := map[int]badKey{}
	wb := &budget{maxSteps: int64(opts.WitnessSteps), maxMem: b.maxMem}
	if wb.maxSteps <= 0 {
		wb.maxSteps = DefaultWitnessSteps
	}
	searchers := map[int]*searcher{}
	for limit := int64(firstRoundSteps); len(pending) > 0; limit *= 4 {
		var next []int
		for _, i := range pending {
			part, key := parts[i].ops, parts[i].key
			if len(found) > 0 {
				// The verdict is Invalid: like porcupine, stop at the first
				// violation the search finds.
				undecided[key] = "stopped"
				continue
			}
			if b.exhausted != "" && b.exhausted != "local" {
				undecided[key] = b.exhausted
				continue
			}
			sr := searchers[i]
			if sr == nil {
				sr = sc.searchers.get(part, initState(part, opts), step, true)
				sr.reserve = true
				searchers[i] = sr
			}
			if len(pending) == 1 {
				b.begin(b.maxSteps) // the last key: no rounds needed
			} else {
				b.begin(limit)
			}
			r := sr.run(b)
			if r.outcome == searchUndecided && b.exhausted == "local" {
				next = append(next, i)
				continue
			}
			sr.release(b)
			delete(searchers, i)
			switch r.outcome {
			case searchUndecided:
				undecided[key] = b.exhausted
				if b.exhausted == "memory" {
					b.exhausted = "" // the memory is returned: other keys may still fit
					memoryOut = true
				}
			case searchIllegal:
				bk := badKey{key: key, part: part}
				var cut int64
				var wasCut bool
				bk.witness, bk.minimal, cut, wasCut = shrink(part, initState(part, opts), wb, &sc.searchers)
				bk.detail = fmt.Sprintf("the longest linearization found covers %d of its %d operations and leaves the state %s", len(r.best), len(part), describeState(r.bestState))
				if wasCut {
					bk.detail += fmt.Sprintf("; already the operations invoked by %s cannot be ordered (nothing invoked later can change that, so the witness leaves it out)", sim.Time(cut))
				}
				found[i] = bk
			}
		}
		pending = next
		if len(found) > 0 {
			// The verdict is Invalid: do not spend further rounds on keys
			// that are merely hard.
			for _, i := range pending {
				undecided[parts[i].key] = "stopped"
			}
			break
		}
	}
	// Report bad keys in key order.
	for i := range parts {
		if bk, ok := found[i]; ok {
			bad = append(bad, bk)
		}
	}
	slices.SortStableFunc(bad, func(x, y badKey) int { return strings.Compare(x.key, y.key) })
	var undecidedKeys []string
	for _, kp := range parts {
		if _, ok := undecided[kp.key]; ok {
			undecidedKeys = append(undecidedKeys, kp.key)
		}
	}
	if memoryOut && b.exhausted == "" {
		b.exhausted = "memory"
	}
	budgetNote := ""
	switch b.exhausted {
	case "steps":
		budgetNote = fmt.Sprintf("the search budget of %s ran out (raise -steps, or LinearOptions.Steps)", plural(int(b.maxSteps), "model step"))
	case "memory":
		budgetNote = fmt.Sprintf("the memory budget of %s ran out (raise -memory, or LinearOptions.MemoryBytes, if the machine has room; more time does not help)", fmtBytes(b.maxMem))
	case "wall-clock":
		budgetNote = fmt.Sprintf("the wall-clock safety net of %s fired: this depends on the machine, not only on the history (budget the search in steps instead: LinearOptions.Steps, check's -steps)", opts.Timeout)
	}
	res.Exhausted = b.exhausted
	if len(bad) == 0 {
		if len(undecidedKeys) > 0 {
			res.Verdict = Unknown
			res.Explanation = fmt.Sprintf("no verdict: %s; %s with %s undecided (%s) and no violation found", summary, budgetNote, plural(len(undecidedKeys), "key"), quoteKeys(undecidedKeys))
			return res, nil
		}
		res.Verdict = Valid
		res.Explanation = "linearizable: " + summary
		return res, nil
	}
	res.Verdict = Invalid
	res.Count = len(bad)
	badKeys := make([]string, 0, len(bad))
	for _, bk := range bad {
		badKeys = append(badKeys, bk.key)
	}
	count := plural(len(bad), "key")
	if len(undecidedKeys) > 0 {
		count = "at least " + count
	}
	res.Explanation = fmt.Sprintf("not linearizable: %s (%s) of %s", count, quoteKeys(badKeys), summary)
	if byPrepass > 0 {
		res.Explanation += fmt.Sprintf("; %d found by the stale/future-read pre-pass", byPrepass)
	}
	if len(undecidedKeys) > 0 {
		why := budgetNote
		if why == "" {
			why = "the search stopped at the first violation it found, which"
		}
		res.Explanation += fmt.Sprintf("; %s left %s undecided", why, plural(len(undecidedKeys), "key"))
	}
	for _, bk := range bad {
		v := Violation{Key: bk.key, Client: -1}
		if len(bk.witness) > 0 {
			last := bk.witness[len(bk.witness)-1]
			v.Client, v.Time = last.Client, last.Call
			v.Value = last.Value
			if last.Kind == history.Read && len(last.Values) > 0 {
				v.Value = strings.Join(last.Values, ",")
			}
		}
		size := "a smallest set"
		if !bk.minimal {
			size = "a set (not shrunk further: the witness budget ran out; raise -witness-steps, or LinearOptions.WitnessSteps)"
		}
		var ws []string
		for _, o := range bk.witness {
			ws = append(ws, o.String())
		}
		v.Detail = fmt.Sprintf("%s; %s of %s that cannot be ordered: %s", bk.detail, size, plural(len(bk.witness), "operation"), strings.Join(ws, "; "))
		res.Witness = append(res.Witness, v)
	}
	res.Witness = bounded(res.Witness)
	if opts.Visualize != nil {
		pm := porcupineModel(opts)
		var badOps []porcupine.Operation
		for _, bk := range bad {
			part := toPorcupineOps(bk.part)
			if len(part) <= maxVisualOps {
				badOps = append(badOps, part...)
				continue
			}
			for _, o := range bk.witness {
				for _, p := range part {
					if p.Metadata.(*history.Op) == o {
						badOps = append(badOps, p)
					}
				}
			}
		}
		// Every bad key is small (or reduced to its witness) and was
		// decided, so this check of just those operations ends.
		_, info := porcupine.CheckOperationsVerbose(pm, badOps, 0)
		info.AddAnnotations(nemesisAnnotations(opts.Annotations))
		if err := visualize(pm, info, opts.Visualize); err != nil {
			return res, fmt.Errorf("checker: writing the visualization: %w", err)
		}
	}
	return res, nil
}

// maxVisualOps bounds a key drawn whole in the visualization; a larger
// bad key is drawn as its witness.
const maxVisualOps = 2000

func quoteKeys(keys []string) string {
	q := make([]string, 0, min(len(keys), MaxWitness))
	for i, k := range keys {
		if i == MaxWitness {
			q = append(q, fmt.Sprintf("and %d more", len(keys)-MaxWitness))
			break
		}
		q = append(q, strconv.Quote(k))
	}
	return strings.Join(q, ", ")
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// initState is the state a key's operations start from.
func initState(part []sop, opts LinearOptions) string {
	if len(part) == 0 {
		return absent
	}
	in := part[0].in
	switch {
	case in.set || in.mutex:
		return absent
	case opts.HasInitial:
		return registerState(opts.Initial)
	}
	return absent
}

// toPorcupineOps is a key's search operations as porcupine operations
// (for the visualization), metadata the caller's operations.
func toPorcupineOps(part []sop) []porcupine.Operation {
	out := make([]porcupine.Operation, len(part))
	for i, p := range part {
		out[i] = porcupine.Operation{ClientId: p.in.op.Client, Input: p.in, Call: p.call, Return: p.ret, Metadata: p.in.op}
	}
	return out
}

// toSearchKey converts one key's operations (in history order) to the
// search's, dropping failed operations and reads without an answer
// (ignored counts them) and the info writes the patch plan drops; ret,
// when not nil, is each operation's patched return time.
// The operations come from a (nil: new memory).
func toSearchKey(raw []*history.Op, ret []sim.Time, drop []bool, model Model, a *opArena) (out []sop, ignored int) {
	setKey, appendKey := model == ModelSet, false
	kept, stateBytes := 0, 0
	for i, o := range raw {
		if drop != nil && drop[i] {
			continue
		}
		switch o.Kind {
		case history.Add:
			setKey = true
		case history.Append:
			appendKey = true
		}
		if o.Outcome == history.Fail || (o.Kind == history.Read && o.Outcome != history.OK) {
			ignored++
			continue
		}
		kept++
		stateBytes += registerBytes(o)
	}
	// One allocation for the key's operations and one for their register
	// states.
	lin, out := a.take(kept)
	states := &stateBuf{}
	states.b.Grow(stateBytes)
	for i, o := range raw {
		if drop != nil && drop[i] {
			continue
		}
		if o.Outcome == history.Fail || (o.Kind == history.Read && o.Outcome != history.OK) {
			continue
		}
		r := o.Return
		if ret != nil {
			r = ret[i]
		}
		in := &lin[len(out)]
		initLinOp(in, o, setKey, appendKey, model == ModelMutex, states)
		out = append(out, sop{call: int64(o.Call), ret: int64(r), in: in})
	}
	return out, ignored
}

// DefaultWitnessSteps is the default LinearOptions.WitnessSteps, shared by
// the bad keys of one check: a second or two of search.
const DefaultWitnessSteps = 1_000_000

func validateLinear(ops []history.Op, model Model) error {
	setKey := make(map[string]int)    // index of the key's first add
	appendKey := make(map[string]int) // index of the key's first append
	for i := range ops {
		switch ops[i].Kind {
		case history.Add:
			if _, ok := setKey[ops[i].Key]; !ok {
				setKey[ops[i].Key] = i
			}
		case history.Append:
			if _, ok := appendKey[ops[i].Key]; !ok {
				appendKey[ops[i].Key] = i
			}
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
			return fmt.Errorf("checker: operation %d (%s): the %s model does not accept %s operations (use -model %s)", i, o, model, o.Kind, suggest(o.Kind))
		}
		if _, set := setKey[o.Key]; set && o.Kind != history.Add && o.Kind != history.Read {
			return fmt.Errorf("checker: operation %d (%s): key %q holds a set (it has add operations) and takes only adds and reads", i, o, o.Key)
		}
		if j, app := appendKey[o.Key]; app && o.Kind == history.CAS {
			return fmt.Errorf("checker: operation %d (%s): key %q holds a string built by appends (operation %d) and takes no cas", i, o, o.Key, j)
		}
		if o.Return < o.Call {
			return fmt.Errorf("checker: operation %d (%s): returns at %s, before its call at %s", i, o, o.Return, o.Call)
		}
	}
	return nil
}

// linOp is an operation as the search (and porcupine, for the
// visualization) sees it.
type linOp struct {
	op        *history.Op
	ok        bool
	set       bool   // the key holds a set
	appendKey bool   // the key holds a string built by appends
	mutex     bool   // the key is a lock
	want      string // state a read must see, or a cas must find
	next      string // state after a write or cas
	elem      string // add: the element in set encoding
}

// States are strings: for a register "" (absent) or "\x01"+value; for a
// set the sorted, quoted elements joined by "\x00" ("" is the empty set);
// for a lock "" (free) or "\x01" (held).
const absent = ""

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
	i, found := slices.BinarySearch(parts, elem)
	if found {
		return state
	}
	parts = slices.Insert(parts, i, elem)
	return strings.Join(parts, "\x00")
}

// toPorcupine converts ops to porcupine operations, dropping failed
// operations and reads without an answer (ignored counts them).
func toPorcupine(ops []history.Op, model Model) (pops []porcupine.Operation, ignored int) {
	setKey := make(map[string]bool)
	appendKey := make(map[string]bool)
	for i := range ops {
		switch ops[i].Kind {
		case history.Add:
			setKey[ops[i].Key] = true
		case history.Append:
			appendKey[ops[i].Key] = true
		}
	}
	pops = make([]porcupine.Operation, 0, len(ops))
	for i := range ops {
		o := &ops[i]
		if o.Outcome == history.Fail || (o.Kind == history.Read && o.Outcome != history.OK) {
			ignored++
			continue
		}
		in := newLinOp(o, setKey[o.Key] || model == ModelSet, appendKey[o.Key], model == ModelMutex)
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

// newLinOp is o as the search sees it, on a key that holds a set, a
// string built by appends, or a lock.
func newLinOp(o *history.Op, set, appendKey, mutex bool) *linOp {
	in := &linOp{}
	initLinOp(in, o, set, appendKey, mutex, nil)
	return in
}

// initLinOp sets *in to newLinOp(o, set, appendKey, mutex), taking its
// register states from states (nil: each allocated on its own).
func initLinOp(in *linOp, o *history.Op, set, appendKey, mutex bool, states *stateBuf) {
	*in = linOp{op: o, ok: o.Outcome == history.OK, set: set, appendKey: appendKey, mutex: mutex}
	switch o.Kind {
	case history.Read:
		switch {
		case in.set:
			in.want = setState(o.Values)
		case in.appendKey && (o.NotFound || len(o.Values) == 0):
			in.want = registerState("")
		case o.NotFound || len(o.Values) == 0:
			in.want = absent
		case len(o.Values) == 1:
			in.want = states.register(o.Values[0])
		default:
			in.want = "\x02siblings" // matches no register state
		}
	case history.Write:
		in.next = states.register(o.Value)
	case history.CAS:
		in.want = states.register(o.Expect)
		in.next = states.register(o.Value)
	case history.Add:
		in.elem = strconv.Quote(o.Value)
	}
}

// registerBytes bounds the bytes of the register states initLinOp makes
// for o.
func registerBytes(o *history.Op) int {
	n := 0
	switch o.Kind {
	case history.Read:
		if len(o.Values) == 1 {
			n = 1 + len(o.Values[0])
		}
	case history.Write:
		n = 1 + len(o.Value)
	case history.CAS:
		n = 2 + len(o.Expect) + len(o.Value)
	}
	return n
}

// stateBuf makes register states as substrings of one growing buffer, so
// that a key's states cost one allocation rather than one each. A state
// handed out is never written again (the builder only appends), so it
// stays valid when the buffer grows.
type stateBuf struct{ b strings.Builder }

// register is registerState(v), from the buffer when sb is not nil.
func (sb *stateBuf) register(v string) string {
	if sb == nil {
		return registerState(v)
	}
	start := sb.b.Len()
	sb.b.WriteByte('\x01')
	sb.b.WriteString(v)
	return sb.b.String()[start:]
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

// porcupineModel is the model for porcupine's visualization.
func porcupineModel(opts LinearOptions) porcupine.Model {
	init := absent
	if opts.HasInitial {
		init = registerState(opts.Initial)
	}
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return init },
		Step: func(state, input, _ any) (bool, any) {
			return step(state.(string), input.(*linOp))
		},
		Equal:             func(a, b any) bool { return a.(string) == b.(string) },
		Hash:              func(s any) uint64 { return hashString(s.(string)) },
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

// step is the sequential specification: whether in can follow state, and
// the state after it.
func step(s string, in *linOp) (bool, string) {
	switch in.op.Kind {
	case history.Read:
		if in.appendKey && s == absent {
			return in.want == registerState(""), s
		}
		return s == in.want, s
	case history.Write:
		return true, in.next
	case history.Delete:
		if in.appendKey {
			return true, registerState("")
		}
		return true, absent
	case history.CAS:
		if s == in.want {
			return true, in.next
		}
		// An info cas that finds another value simply did not swap.
		return !in.ok, s
	case history.Add:
		return true, setAdd(s, in.elem)
	case history.Append:
		if s == absent {
			return true, registerState(in.op.Value)
		}
		return true, s + in.op.Value
	case history.Acquire:
		if s == absent {
			return true, "\x01"
		}
		return !in.ok, s // an info acquire of a held lock did not happen
	case history.Release:
		if s != absent {
			return true, absent
		}
		return !in.ok, s
	}
	return false, s
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
	case history.Write, history.Add, history.Append:
		s = fmt.Sprintf("%s %q", o.Kind, o.Value)
	case history.Acquire, history.Release:
		s = string(o.Kind)
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

// describeValue is describeState(registerState(v)).
func describeValue(v string) string { return strconv.Quote(v) }

func describeState(s string) string {
	switch {
	case s == "":
		return "empty"
	case s[0] == '\x01':
		return strconv.Quote(s[1:])
	}
	return "{" + strings.ReplaceAll(s, "\x00", ", ") + "}"
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
