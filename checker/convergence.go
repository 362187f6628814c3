package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/sim"
)

// Snapshot is what every replica holds after the settle phase, as plain
// data: for each key, the versions on each replica that should hold it.
type Snapshot struct {
	Keys []KeyReplicas
}

// KeyReplicas lists the replicas of one key.
type KeyReplicas struct {
	Key      string
	Replicas []ReplicaState
}

// ReplicaState is one replica's copy of a key. Versions are canonical
// fingerprints of the versions it stores (value plus clock or timestamp,
// tombstones included), in any order. Missing means the replica has no
// record of the key at all; it compares equal to holding no versions.
type ReplicaState struct {
	Node     sim.NodeID
	Versions []string
	Missing  bool
}

// Convergence checks that every replica of every key holds the same set of
// versions. It reports the divergent keys in key order (the first
// MaxWitness in Witness, all of them in Count), each with who holds what.
// An empty snapshot is Unknown (nothing was compared). A key listed twice,
// a key without replicas, a node listed twice for a key, or a Missing
// replica with versions is an error.
func Convergence(s Snapshot) (Result, error) {
	seenKey := make(map[string]bool, len(s.Keys))
	var bad []Violation
	replicas := 0
	for _, kr := range s.Keys {
		if seenKey[kr.Key] {
			return Result{}, fmt.Errorf("checker: snapshot lists key %q twice", kr.Key)
		}
		seenKey[kr.Key] = true
		if len(kr.Replicas) == 0 {
			return Result{}, fmt.Errorf("checker: snapshot key %q has no replicas", kr.Key)
		}
		sets := make([]string, len(kr.Replicas))
		for i, r := range kr.Replicas {
			for _, q := range kr.Replicas[:i] {
				if q.Node == r.Node {
					return Result{}, fmt.Errorf("checker: snapshot key %q lists node %s twice", kr.Key, r.Node)
				}
			}
			if r.Missing && len(r.Versions) > 0 {
				return Result{}, fmt.Errorf("checker: snapshot key %q: node %s is Missing yet holds %d versions", kr.Key, r.Node, len(r.Versions))
			}
			sets[i] = versionSet(r)
		}
		replicas += len(kr.Replicas)
		same := true
		for _, v := range sets[1:] {
			same = same && v == sets[0]
		}
		if !same {
			bad = append(bad, Violation{Key: kr.Key, Client: -1, Detail: "replicas differ: " + holders(kr.Replicas, sets)})
		}
	}
	slices.SortFunc(bad, func(a, b Violation) int { return strings.Compare(a.Key, b.Key) })
	res := Result{Checker: NameConvergence, Count: len(bad), Witness: bounded(bad)}
	if len(s.Keys) == 0 {
		res.Verdict, res.Idle = Unknown, true
		res.Explanation = "the snapshot holds no key: no replicas to compare, nothing to judge"
		return res, nil
	}
	if len(bad) == 0 {
		res.Verdict = Valid
		res.Explanation = fmt.Sprintf("all %s converged (%s compared)", plural(len(s.Keys), "key"), plural(replicas, "replica"))
		return res, nil
	}
	res.Verdict = Invalid
	var names []string
	for _, v := range bad[:min(len(bad), 5)] {
		names = append(names, fmt.Sprintf("%q", v.Key))
	}
	more := ""
	if len(bad) > 5 {
		more = fmt.Sprintf(" and %d more", len(bad)-5)
	}
	res.Explanation = fmt.Sprintf("%d of %s divergent (%s%s); first %q: %s",
		len(bad), plural(len(s.Keys), "key"), strings.Join(names, ", "), more, bad[0].Key, bad[0].Detail)
	return res, nil
}

// versionSet is the canonical form of a replica's versions: sorted, joined
// by "\x00" (Missing is the empty set).
func versionSet(r ReplicaState) string {
	v := slices.Clone(r.Versions)
	slices.Sort(v)
	return strings.Join(v, "\x00")
}

// holders groups the replicas by what they hold: "n1,n3 hold [a b]; n2
// holds [a]; n4 is missing it".
func holders(rs []ReplicaState, sets []string) string {
	var groups []string
	done := make([]bool, len(rs))
	for i := range rs {
		if done[i] {
			continue
		}
		var nodes []string
		missing := true
		for j := i; j < len(rs); j++ {
			if !done[j] && sets[j] == sets[i] {
				done[j] = true
				nodes = append(nodes, rs[j].Node.String())
				missing = missing && rs[j].Missing
			}
		}
		what := "hold"
		if len(nodes) == 1 {
			what = "holds"
		}
		switch {
		case sets[i] == "" && missing:
			what += " no record"
		case sets[i] == "":
			what += " no versions"
		default:
			vs := strings.Split(sets[i], "\x00")
			shown := vs[:min(len(vs), 4)]
			what += fmt.Sprintf(" %q", shown)
			if len(vs) > len(shown) {
				what += fmt.Sprintf(" (+%d more)", len(vs)-len(shown))
			}
		}
		groups = append(groups, strings.Join(nodes, ",")+" "+what)
	}
	return strings.Join(groups, "; ")
}
