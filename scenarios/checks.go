package scenarios

import (
	"fmt"
	"sort"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/internal/history"
	"github.com/faultline-sim/faultline/internal/sim"
	"github.com/faultline-sim/faultline/nemesis"
)

// Names of the scenario-specific checks the built-in scenarios use.
const (
	NameAvailability = "availability"
	NameZombies      = "zombies"
)

// AvailabilityCheck returns a check that the store stays available for
// writes through faults of family fam: of the writes (and deletes) that a
// quorum system could serve, at least minPercent percent must be
// acknowledged. A write counts if it was invoked while a fault of fam was
// in effect, at least settle after that fault began (time for the
// coordinator to notice it), at a coordinator that could then exchange
// messages both ways with at least W-1 other running members. Valid if
// enough were acknowledged, Invalid if not, Unknown if no write counted.
func AvailabilityCheck(fam nemesis.Family, minPercent int, settle time.Duration) Check {
	return Check{
		Name: NameAvailability,
		Description: fmt.Sprintf("at least %d%% of the writes invoked during a %s at a coordinator that can reach W nodes are acknowledged",
			minPercent, fam),
		Judge: func(cfg cluster.Config, r *cluster.Result) (checker.Result, error) {
			return availability(cfg, r, fam, minPercent, settle), nil
		},
	}
}

func availability(cfg cluster.Config, r *cluster.Result, fam nemesis.Family, minPercent int, settle time.Duration) checker.Result {
	res := checker.Result{Checker: NameAvailability}
	var spans [][2]sim.Time
	for _, w := range r.Windows {
		if w.Family == fam {
			spans = append(spans, [2]sim.Time{w.Start.Add(settle), w.End})
		}
	}
	net := newReach(cfg)
	attempted, acked, unreachable := 0, 0, 0
	var failed []checker.Violation
	for _, op := range r.Ops { // in invocation order, so net only moves forward
		if op.Final || (op.Kind != history.Write && op.Kind != history.Delete) {
			continue
		}
		in := false
		for _, s := range spans {
			if op.Call >= s[0] && op.Call < s[1] {
				in = true
				break
			}
		}
		if !in {
			continue
		}
		net.advance(op.Call)
		if net.reachable(op.Node) < cfg.KV.W {
			unreachable++
			continue
		}
		attempted++
		if op.Outcome == history.OK {
			acked++
		} else if len(failed) < checker.MaxWitness {
			failed = append(failed, checker.Violation{Key: op.Key, Value: op.Value, Client: op.Client, Time: op.Call,
				Detail: fmt.Sprintf("%s via %v, which could reach %d nodes: %s (%s)", op.Kind, op.Node, net.reachable(op.Node), op.Outcome, op.Err)})
		}
	}
	if attempted == 0 {
		res.Verdict = checker.Unknown
		res.Explanation = fmt.Sprintf("no write was invoked during a %s at a coordinator that could reach W=%d nodes (%d windows, %d writes at cut-off coordinators)",
			fam, cfg.KV.W, len(spans), unreachable)
		return res
	}
	pct := 100 * acked / attempted
	res.Explanation = fmt.Sprintf("%d of %d writes invoked during a %s at a coordinator that could reach W=%d nodes were acknowledged (%d%%; at least %d%% required; %d writes at cut-off coordinators not counted)",
		acked, attempted, fam, cfg.KV.W, pct, minPercent, unreachable)
	if acked*100 >= minPercent*attempted {
		res.Verdict = checker.Valid
		return res
	}
	res.Verdict = checker.Invalid
	res.Count = attempted - acked
	res.Witness = failed
	return res
}

// reach replays a schedule's partitions, crashes and pauses to tell which
// nodes can exchange messages at a given time.
type reach struct {
	sched nemesis.Schedule
	next  int
	nodes int
	cut   map[nemesis.Link]bool
	down  map[sim.NodeID]bool
}

func newReach(cfg cluster.Config) *reach {
	return &reach{sched: cfg.Nemesis, nodes: cfg.Nodes, cut: map[nemesis.Link]bool{}, down: map[sim.NodeID]bool{}}
}

// advance applies every fault at or before t.
func (n *reach) advance(t sim.Time) {
	for ; n.next < len(n.sched) && n.sched[n.next].At <= t; n.next++ {
		f := n.sched[n.next]
		switch f.Kind {
		case nemesis.Heal:
			n.cut = map[nemesis.Link]bool{}
		case nemesis.Crash, nemesis.Pause:
			for _, id := range f.Nodes {
				n.down[id] = true
			}
		case nemesis.Restart, nemesis.Resume:
			for _, id := range f.Nodes {
				delete(n.down, id)
			}
		default:
			for _, l := range f.Cuts() {
				n.cut[l] = true
			}
		}
	}
}

// reachable counts the running initial members that from can exchange
// messages with both ways, itself included (0 if from is down).
func (n *reach) reachable(from sim.NodeID) int {
	if n.down[from] {
		return 0
	}
	count := 0
	for i := 0; i < n.nodes; i++ {
		to := sim.NodeID(i)
		if n.down[to] || n.cut[nemesis.Link{From: from, To: to}] || n.cut[nemesis.Link{From: to, To: from}] {
			continue
		}
		count++
	}
	return count
}

// ZombiesCheck returns a check for resurrected data: a final read must not
// return a value whose write completed before an acknowledged delete of the
// key was invoked, since that delete certainly superseded it (values are
// unique per key). Invalid lists the zombies; Valid if there are none.
func ZombiesCheck() Check {
	return Check{
		Name:        NameZombies,
		Description: "no final read returns a value an acknowledged delete certainly removed",
		Judge: func(_ cluster.Config, r *cluster.Result) (checker.Result, error) {
			return zombies(r.Ops), nil
		},
	}
}

func zombies(ops []history.Op) checker.Result {
	res := checker.Result{Checker: NameZombies}
	written := map[string]map[string]sim.Time{} // key -> value -> return time of its write
	deletes := map[string][]history.Op{}        // key -> ok deletes
	for _, op := range ops {
		switch {
		case op.Kind == history.Write && op.Outcome != history.Fail:
			if written[op.Key] == nil {
				written[op.Key] = map[string]sim.Time{}
			}
			written[op.Key][op.Value] = op.Return
		case op.Kind == history.Delete && op.Outcome == history.OK:
			deletes[op.Key] = append(deletes[op.Key], op)
		}
	}
	finals, checked := 0, 0
	for _, op := range ops {
		if !op.Final || op.Kind != history.Read || op.Outcome != history.OK {
			continue
		}
		finals++
		for _, v := range op.Values {
			checked++
			ret, ok := written[op.Key][v]
			if !ok {
				continue // values from nowhere are the linearizability checker's business
			}
			for _, d := range deletes[op.Key] {
				if ret < d.Call && d.Return < op.Call {
					res.Count++
					if len(res.Witness) < checker.MaxWitness {
						res.Witness = append(res.Witness, checker.Violation{Key: op.Key, Value: v, Client: op.Client, Time: op.Call,
							Detail: fmt.Sprintf("final read returned %q, written by %s and deleted by an acknowledged delete invoked at %s", v, ret, d.Call)})
					}
					break
				}
			}
		}
	}
	sort.SliceStable(res.Witness, func(i, j int) bool { return res.Witness[i].Key < res.Witness[j].Key })
	switch {
	case res.Count > 0:
		res.Verdict = checker.Invalid
		res.Explanation = fmt.Sprintf("%d deleted values came back in the final reads (zombies)", res.Count)
	case finals == 0:
		res.Verdict = checker.Unknown
		res.Explanation = "no final read succeeded, so nothing could be checked"
	default:
		res.Verdict = checker.Valid
		res.Explanation = fmt.Sprintf("no deleted value came back in %d final reads (%d values)", finals, checked)
	}
	return res
}
