package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/history"
)

// Siblings checks a vector-clock history: each ok final read of a register
// key must return exactly the versions that should survive. For a final
// read F invoked at time t:
//
//   - required: every ok write that completed before t and that no write
//     or delete which may have taken effect superseded (had it in its
//     causal Context: an ok one, an info write whose value was observed,
//     or an info delete). A required value that is absent is a missing
//     sibling.
//   - allowed: every write that did not fail (ok, or info: an info write
//     may appear, its outcome was unknown) unless a write or delete that
//     certainly took effect before t superseded it (an ok one that
//     completed before t, or an info write observed before t). A value
//     outside this set is an extra sibling: superseded, from a failed
//     write, or never written.
//
// Set keys (with add operations) are skipped: their reads are merged
// element sets, judged by LostWrites. Keys with writes but no ok final read
// make the verdict Unknown unless a violation is found, and so does a
// history with no written register key at all (nothing was judged).
func Siblings(ops []history.Op) (Result, error) {
	f, err := gather(ops)
	if err != nil {
		return Result{}, err
	}
	writesOf := make(map[string][]int)
	for i := range f.ops {
		if o := &f.ops[i]; o.Kind == history.Write && o.Outcome != history.Fail {
			writesOf[o.Key] = append(writesOf[o.Key], i)
		}
	}
	var bad []Violation
	judged, unjudged, finals := 0, 0, 0
	for _, k := range f.keys {
		writes := writesOf[k]
		if f.setKey[k] {
			continue
		}
		if len(writes) == 0 {
			continue
		}
		if len(f.finals[k]) == 0 {
			unjudged++
			continue
		}
		judged++
		for _, j := range f.finals[k] {
			finals++
			bad = append(bad, f.siblingErrors(k, writes, &f.ops[j])...)
		}
	}
	slices.SortStableFunc(bad, func(a, b Violation) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if a.Time != b.Time {
			return cmpTime(a.Time, b.Time)
		}
		return strings.Compare(a.Value, b.Value)
	})
	res := Result{Checker: NameSiblings, Count: len(bad), Witness: bounded(bad)}
	scope := fmt.Sprintf("%s of %s", plural(finals, "final read"), plural(judged, "register key"))
	switch {
	case len(bad) > 0:
		res.Verdict = Invalid
		res.Explanation = fmt.Sprintf("%s wrong in %s: first on key %q: %s", plural(len(bad), "sibling"), scope, bad[0].Key, bad[0].Detail)
	case unjudged > 0:
		res.Verdict = Unknown
		res.Explanation = fmt.Sprintf("sibling sets right in %s, but %s written have no ok final read (%s)", scope, plural(unjudged, "key"), f.missingFinals())
	case judged == 0:
		res.Verdict, res.Idle = Unknown, true
		res.Explanation = fmt.Sprintf("no register key with a final read: nothing to judge (%s, %s holding a set, judged by lost-writes instead; a key needs a write that did not fail)",
			plural(len(f.keys), "key"), plural(len(f.setKey), "key"))
	default:
		res.Verdict = Valid
		res.Explanation = fmt.Sprintf("every final sibling set is exactly the unsuperseded writes: %s", scope)
	}
	return res, nil
}

// siblingErrors compares one final read of key k with the writes on k.
func (f *facts) siblingErrors(k string, writes []int, fin *history.Op) []Violation {
	var out []Violation
	got := fin.Values
	for _, w := range writes {
		o := &f.ops[w]
		if o.Outcome != history.OK || o.End >= fin.Call || contains(got, o.Value) {
			continue
		}
		if f.possiblySuperseded(keyValue{k, o.Value}) {
			continue
		}
		out = append(out, Violation{Key: k, Value: o.Value, Client: o.Client, Time: o.Return,
			Detail: fmt.Sprintf("missing sibling: %q was acknowledged at %s and nothing superseded it, but the final read at %s returned %s",
				o.Value, o.Return, fin.Call, describeRead(fin))})
	}
	for n, v := range got {
		if slices.Contains(got[:n], v) {
			out = append(out, Violation{Key: k, Value: v, Client: fin.Client, Time: fin.Call,
				Detail: fmt.Sprintf("extra sibling: %q appears twice in the final read at %s", v, fin.Call)})
			continue
		}
		p, ok := f.producer[keyValue{k, v}]
		var why string
		switch {
		case !ok:
			why = "no operation wrote it"
		case f.ops[p].Outcome == history.Fail:
			why = fmt.Sprintf("its write by client %d failed at %s (it took effect nowhere)", f.ops[p].Client, f.ops[p].End)
		case f.ops[p].Kind != history.Write:
			continue // a cas-produced value: vector clocks have no cas; leave it to Linearizable
		default:
			s := f.supersededBefore(keyValue{k, v}, fin.Call)
			if s < 0 {
				continue
			}
			so := &f.ops[s]
			if so.Kind == history.Delete {
				why = fmt.Sprintf("a delete by client %d (%s, done at %s) had it in its context", so.Client, so.Outcome, so.End)
			} else {
				why = fmt.Sprintf("write %q by client %d (%s, done at %s) had it in its context", so.Value, so.Client, so.Outcome, so.End)
			}
		}
		t := fin.Call
		if ok {
			t = f.ops[p].Call
		}
		out = append(out, Violation{Key: k, Value: v, Client: fin.Client, Time: t,
			Detail: fmt.Sprintf("extra sibling: the final read at %s returned %q, but %s", fin.Call, v, why)})
	}
	return out
}
