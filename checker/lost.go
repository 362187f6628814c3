package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// LostOptions configures LostWrites and Durability.
type LostOptions struct {
	// Causal selects vector-clock rules: a write that is absent from the
	// final read is excused only if a write or delete that may have taken
	// effect had it in its causal Context. Without Causal (LWW), a register
	// write is excused if the final read's version could have been written
	// after it: its producing write (or, for not found, a delete) did not
	// complete before this write was invoked.
	Causal bool
}

// LostWrites checks that every acknowledged write (ok write or cas) and
// every acknowledged set element (ok add) is visible in the final reads of
// its key, or legitimately superseded (see LostOptions). Final reads are
// the ok reads flagged Final; only those invoked after a write was
// acknowledged judge it (if several, a value visible in any of them
// counts). Set elements are never superseded. Writes no final read can
// judge make the verdict Unknown unless some write is certainly lost; so
// does a history with no acknowledged write (nothing to judge).
// Values must be unique per key; a history that repeats one is an error.
// Values that appear from nowhere are not this checker's business
// (Linearizable and Siblings report them).
func LostWrites(ops []history.Op, opts LostOptions) (Result, error) {
	ls := getLostScratch()
	defer putLostScratch(ls)
	f, err := gatherIn(ops, ls)
	if err != nil {
		return Result{}, err
	}
	lost, unjudged, acked := f.lostWrites(opts.Causal, sim.Never)
	return lostResult(NameLostWrites, f, lost, unjudged, acked, opts.Causal, ""), nil
}

// Durability checks that acknowledged writes survive crashes: it is
// LostWrites restricted to the writes acknowledged before the last of the
// given crash times, the ones a crash could have erased. A store that
// acknowledges a write only after at least W replicas synced it to disk
// must lose none of them; one that acknowledges unsynced writes (W=1 and
// no sync) loses them to a crash. With no crash, or no write acknowledged
// before the last one, durability was not exercised and the verdict is
// Unknown (never a pass).
func Durability(ops []history.Op, crashes []sim.Time, opts LostOptions) (Result, error) {
	ls := getLostScratch()
	defer putLostScratch(ls)
	f, err := gatherIn(ops, ls)
	if err != nil {
		return Result{}, err
	}
	return f.durability(crashes, opts), nil
}

// LostWritesAndDurability returns what LostWrites(ops, opts) and
// Durability(ops, crashes, opts) return, indexing ops once for both.
func LostWritesAndDurability(ops []history.Op, crashes []sim.Time, opts LostOptions) (lost, durable Result, err error) {
	ls := getLostScratch()
	defer putLostScratch(ls)
	return lostWritesAndDurability(ops, crashes, opts, ls)
}

// lostWritesAndDurability is LostWritesAndDurability indexing ops in ls
// (which it leaves to the caller to empty).
func lostWritesAndDurability(ops []history.Op, crashes []sim.Time, opts LostOptions, ls *lostScratch) (lost, durable Result, err error) {
	f, err := gatherIn(ops, ls)
	if err != nil {
		return Result{}, Result{}, err
	}
	l, unjudged, acked := f.lostWrites(opts.Causal, sim.Never)
	return lostResult(NameLostWrites, f, l, unjudged, acked, opts.Causal, ""), f.durability(crashes, opts), nil
}

// durability is Durability over the indexed history.
func (f *facts) durability(crashes []sim.Time, opts LostOptions) Result {
	if len(crashes) == 0 {
		return Result{Checker: NameDurability, Verdict: Unknown, Idle: true,
			Explanation: "no crash happened, so durability was not exercised: nothing to judge"}
	}
	last := slices.Max(crashes)
	lost, unjudged, acked := f.lostWrites(opts.Causal, last)
	ctx := fmt.Sprintf(" before the last of %s (at %s)", plural(len(crashes), "crash"), last)
	return lostResult(NameDurability, f, lost, unjudged, acked, opts.Causal, ctx)
}

// lostWrites judges the acknowledged writes and adds acknowledged before
// ackedBefore. It returns the lost ones (sorted by acknowledgement time,
// key, value), how many no final read could judge, and how many it
// considered.
func (f *facts) lostWrites(causal bool, ackedBefore sim.Time) (lost []Violation, unjudged, acked int) {
	for i := range f.ops {
		o := &f.ops[i]
		if o.Outcome != history.OK || o.Return >= ackedBefore {
			continue
		}
		if o.Kind != history.Write && o.Kind != history.CAS && o.Kind != history.Add {
			continue
		}
		acked++
		judges := f.judging(o.Key, o.Return)
		if len(judges) == 0 {
			unjudged++
			continue
		}
		visible := false
		for _, j := range judges {
			visible = visible || contains(f.ops[j].Values, o.Value)
		}
		if visible {
			continue
		}
		fin := &f.ops[judges[len(judges)-1]]
		v := Violation{Key: o.Key, Value: o.Value, Client: o.Client, Time: o.Return}
		switch {
		case f.setKey[o.Key]:
			v.Detail = fmt.Sprintf("element acknowledged at %s is missing from the final read at %s (%s)", o.Return, fin.Call, describeRead(fin))
		case causal:
			if f.possiblySuperseded(keyValue{o.Key, o.Value}) {
				continue
			}
			v.Detail = fmt.Sprintf("acknowledged at %s, absent from the final read at %s (%s), and no write's causal context superseded it", o.Return, fin.Call, describeRead(fin))
		default:
			why, excused := f.precedes(judges, o)
			if excused {
				continue
			}
			v.Detail = fmt.Sprintf("acknowledged at %s, but the final read at %s returned %s: %s", o.Return, fin.Call, describeRead(fin), why)
		}
		lost = append(lost, v)
	}
	slices.SortStableFunc(lost, func(a, b Violation) int {
		if a.Time != b.Time {
			return cmpTime(a.Time, b.Time)
		}
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return lost, unjudged, acked
}

// precedes decides, under LWW, whether write w is lost: every version the
// judging final reads returned (and, for not found, every delete) completed
// before w was invoked, so w should have replaced it. why explains a loss;
// excused reports that some version could have been written after w.
func (f *facts) precedes(judges []int, w *history.Op) (why string, excused bool) {
	for _, j := range judges {
		fin := &f.ops[j]
		if fin.NotFound || len(fin.Values) == 0 {
			for _, d := range f.deletes[w.Key] {
				if f.ops[d].Return >= w.Call {
					return "", true
				}
			}
			why = "no delete could follow this write, yet the key is gone"
			continue
		}
		for _, u := range fin.Values {
			p, ok := f.producer[keyValue{w.Key, u}]
			if !ok || f.ops[p].Outcome == history.Fail || f.ops[p].Return >= w.Call {
				return "", true // written concurrently or later (or of unknown origin)
			}
			why = fmt.Sprintf("%q was acknowledged at %s, before this write was invoked at %s, and last-writer-wins kept it", u, f.ops[p].Return, w.Call)
		}
	}
	return why, false
}

func cmpTime(a, b sim.Time) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func lostResult(name string, f *facts, lost []Violation, unjudged, acked int, causal bool, scope string) Result {
	noun := "write"
	if len(f.setKey) > 0 {
		noun = "write or element"
		if len(f.setKey) == len(f.keys) {
			noun = "element"
		}
	}
	rule := "last-writer-wins rules"
	if causal {
		rule = "vector-clock rules"
	}
	res := Result{Checker: name, Count: len(lost), Witness: bounded(lost)}
	ackedDesc := fmt.Sprintf("%d acknowledged %s", acked, pluralNoun(acked, noun))
	if scope != "" {
		ackedDesc = fmt.Sprintf("%d %s acknowledged%s", acked, pluralNoun(acked, noun), scope)
	}
	switch {
	case len(lost) > 0:
		res.Verdict = Invalid
		pct := 100 * float64(len(lost)) / float64(acked)
		res.Explanation = fmt.Sprintf("%d of %s lost (%.1f%%, %s): first %q on key %q, %s",
			len(lost), ackedDesc, pct, rule, lost[0].Value, lost[0].Key, lost[0].Detail)
		if name == NameDurability {
			res.Explanation += "; the store acknowledged writes a crash then erased (were they synced to W replicas?)"
		}
		if unjudged > 0 {
			res.Explanation += fmt.Sprintf("; %d more could not be judged (no final read after them)", unjudged)
		}
	case acked == 0:
		res.Verdict, res.Idle = Unknown, true
		res.Explanation = fmt.Sprintf("no acknowledged %s: nothing to judge (%s, %s)", noun, plural(len(f.keys), "key"), rule)
		if name == NameDurability {
			res.Explanation = fmt.Sprintf("no %s was acknowledged%s, so durability was not exercised: nothing to judge", noun, scope)
		}
	case unjudged > 0:
		res.Verdict = Unknown
		res.Explanation = fmt.Sprintf("no loss found, but %d of %s could not be judged: no ok final read of their key was invoked after they were acknowledged (%s)",
			unjudged, ackedDesc, f.missingFinals())
	default:
		res.Verdict = Valid
		res.Explanation = fmt.Sprintf("all %s are in the final reads or superseded (%s, %s)", ackedDesc, plural(len(f.keys), "key"), rule)
	}
	return res
}

func pluralNoun(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return strings.ReplaceAll(noun+"s", "write or elements", "writes or elements")
}

// missingFinals names a few keys without an ok final read.
func (f *facts) missingFinals() string {
	var ks []string
	failed := 0
	for _, k := range f.keys {
		if len(f.finals[k]) == 0 {
			ks = append(ks, fmt.Sprintf("%q", k))
			failed += f.unfinal[k]
		}
	}
	if len(ks) == 0 {
		return "their final reads were invoked before the writes were acknowledged"
	}
	s := "keys without an ok final read: " + strings.Join(ks[:min(len(ks), 5)], ", ")
	if len(ks) > 5 {
		s += fmt.Sprintf(" and %d more", len(ks)-5)
	}
	if failed > 0 {
		s += fmt.Sprintf("; %d final reads of them failed or timed out", failed)
	}
	return s
}
