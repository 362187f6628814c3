package scenarios

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// Names of the scenario-specific checks the built-in scenarios use.
const (
	NameAvailability  = "availability"
	NameZombies       = "zombies"
	NameRepairTraffic = "repair-traffic"
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
		Judge: func(cfg Config, r *cluster.Result) (checker.Result, error) {
			return availability(cfg, r, fam, minPercent, settle), nil
		},
	}
}

func availability(cfg Config, r *cluster.Result, fam nemesis.Family, minPercent int, settle time.Duration) checker.Result {
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

func newReach(cfg Config) *reach {
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
		Judge: func(_ Config, r *cluster.Result) (checker.Result, error) {
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

// RepairTrafficCheck returns a check that Merkle anti-entropy's repair
// traffic after heal and quiescence is proportional to the divergence it
// repairs, not to the data size (docs/design.md §6). Its bound is derived from
// the tree shape (MerkleDepth, MerkleFanout) and the largest key and
// value, never from the number of keys stored (RepairTrafficBound):
// every exchange may cost Floor (a root request and an "equal" reply: all
// that comparing two agreeing replicas takes) and every repaired key
// PerKey on top (the descent to its leaf and its repair both ways).
//
// It judges the quiescent phase: from SettleAt (every client done, every
// fault healed) to the end of the run. During the workload exchanges also
// descend toward writes still on their way to a replica, divergence that
// heals by itself and that no counter records, so the run's totals cannot
// be judged this way. The check gets the counters at SettleAt by replaying
// the run up to then (the same configuration and seed with the horizon
// just before SettleAt; the replay's history must equal the run's, or the
// check fails with an error) and subtracts them from the run's. Valid if
// the phase's bytes <= exchanges·Floor + repaired·PerKey, plus one
// exchange with one differing key per node for exchanges straddling
// SettleAt; Invalid, with the numbers, if not (an exchange that ships its
// range, or descends for nothing); Unknown if the run never settled or no
// exchange ran in the phase.
func RepairTrafficCheck() Check {
	return Check{
		Name:        NameRepairTraffic,
		Description: "after heal and quiescence, anti-entropy bytes <= exchanges × (an equal-roots exchange) + repaired keys × (a descent to one key and its repair)",
		Judge: func(cfg Config, r *cluster.Result) (checker.Result, error) {
			q, err := quiescentTraffic(cfg, r)
			if err != nil {
				return checker.Result{Checker: NameRepairTraffic}, err
			}
			return repairTraffic(cfg, r, q)
		},
	}
}

// trafficCounts are anti-entropy counters over part of a run.
type trafficCounts struct {
	// settled is false when the run never reached its settle phase.
	settled                        bool
	exchanges, bytes, keysRepaired uint64
}

// quiescentTraffic returns r's anti-entropy counters from SettleAt to the
// end: r's totals minus those of a replay of cfg and r.Seed stopped just
// before SettleAt.
func quiescentTraffic(cfg Config, r *cluster.Result) (trafficCounts, error) {
	if r.SettleAt == sim.Never {
		return trafficCounts{}, nil
	}
	pre := cfg
	pre.Limits.Horizon = r.SettleAt - 1
	c, err := cluster.New(pre.Cluster(), r.Seed)
	if err != nil {
		return trafficCounts{}, fmt.Errorf("replay up to the settle phase: %w", err)
	}
	p, err := c.Run()
	if p == nil {
		return trafficCounts{}, fmt.Errorf("replay up to the settle phase: %w", err)
	}
	n := 0
	full, prefix := r.History(), p.History()
	for n < len(full) && full[n].Time < r.SettleAt {
		n++
	}
	if len(prefix) != n || !reflect.DeepEqual(prefix, full[:n]) {
		return trafficCounts{}, fmt.Errorf("the replay up to the settle phase at %v diverged from the run (%d events, the run had %d by then): the run is not a function of its configuration and seed",
			r.SettleAt, len(prefix), n)
	}
	a, b := r.Stats, p.Stats
	return trafficCounts{settled: true, exchanges: a.Counter(kv.CounterAntiEntropyExchanges) - b.Counter(kv.CounterAntiEntropyExchanges),
		bytes: aeBytes(a) - aeBytes(b), keysRepaired: a.Counter(kv.CounterAntiEntropyKeysRepaired) - b.Counter(kv.CounterAntiEntropyKeysRepaired)}, nil
}

// TrafficBound is the repair-traffic bound of a tree shape and data.
type TrafficBound struct {
	// Floor is the most bytes an exchange of two equal replicas costs.
	Floor uint64
	// PerKey is the most bytes one differing key adds to an exchange,
	// its repair included.
	PerKey uint64
	// LeafKeys is the number of entries a fetched leaf is assumed to hold.
	LeafKeys int
}

// RepairTrafficBound returns the bound for trees of cfg's shape holding
// keys of at most maxKey bytes with at most versions versions of at most
// maxValue bytes each, leafKeys entries to a fetched leaf.
func RepairTrafficBound(cfg merkle.Config, maxKey, maxValue, versions, leafKeys int) (TrafficBound, error) {
	if err := cfg.Validate(); err != nil {
		return TrafficBound{}, err
	}
	if maxKey < 0 || maxValue < 0 || versions < 1 || leafKeys < 1 {
		return TrafficBound{}, fmt.Errorf("scenarios: repair traffic bound: maxKey=%d maxValue=%d versions=%d leafKeys=%d: want sizes >= 0 and counts >= 1",
			maxKey, maxValue, versions, leafKeys)
	}
	const top = ^uint64(0) // every id, hash and range end at its widest varint
	rng := merkle.Range{Start: top - 1, End: top}
	req := func(k merkle.Kind, level int, idx []uint32) merkle.Request {
		return merkle.Request{ID: top, Range: rng, Depth: uint8(cfg.Depth), Fanout: uint16(cfg.Fanout), Kind: k, Level: uint8(level), Root: top, Indexes: idx}
	}
	hashes := make([]uint64, cfg.Fanout)
	for i := range hashes {
		hashes[i] = top
	}
	width := func(level int) uint32 { // the widest index at level
		n := 1
		for range level {
			n *= cfg.Fanout
		}
		return uint32(n - 1)
	}
	equal := merkle.Response{ID: top, Range: rng, Kind: merkle.KindRoot, Equal: true}
	b := TrafficBound{LeafKeys: leafKeys}
	b.Floor = uint64(req(merkle.KindRoot, 0, nil).Size() + equal.Size())
	rootHashes := merkle.Response{ID: top, Range: rng, Kind: merkle.KindRoot, Level: 1, Hashes: hashes}
	per := rootHashes.Size() - equal.Size()
	for l := 1; l < cfg.Depth; l++ {
		per += req(merkle.KindHashes, l, []uint32{width(l)}).Size()
		per += merkle.Response{ID: top, Range: rng, Kind: merkle.KindHashes, Level: uint8(l + 1), Hashes: hashes}.Size()
	}
	entries := make([]merkle.Entry, leafKeys)
	for i := range entries {
		entries[i] = merkle.Entry{Key: strings.Repeat("k", maxKey), Version: top}
	}
	per += req(merkle.KindLeaves, cfg.Depth, []uint32{width(cfg.Depth)}).Size()
	per += merkle.Response{ID: top, Range: rng, Kind: merkle.KindLeaves, Level: uint8(cfg.Depth), Entries: entries}.Size()
	per += 2 * (maxKey + versions*maxValue) // the repair, both ways
	b.PerKey = uint64(per)
	return b, nil
}

// repairTraffic judges the quiescent counters q of a run of cfg.
func repairTraffic(cfg Config, r *cluster.Result, q trafficCounts) (checker.Result, error) {
	res := checker.Result{Checker: NameRepairTraffic}
	st := r.Stats
	whole := fmt.Sprintf("the whole run: %d B in %d exchanges repairing %d keys", aeBytes(st), st.Counter(kv.CounterAntiEntropyExchanges), st.Counter(kv.CounterAntiEntropyKeysRepaired))
	switch {
	case !q.settled:
		res.Verdict = checker.Unknown
		res.Explanation = "the run never reached its settle phase, so there is no quiescent traffic to judge; " + whole
		return res, nil
	case q.exchanges == 0:
		res.Verdict = checker.Unknown
		res.Explanation = fmt.Sprintf("no anti-entropy exchange ran after the settle began (AntiEntropyIntervalTicks=%d), so there is no traffic to judge; %s", cfg.KV.AntiEntropyIntervalTicks, whole)
		return res, nil
	}
	maxKey, maxValue, versions, held, stored := 0, 0, 1, 0, 0
	for _, n := range r.Nodes {
		held = max(held, len(n.Keys))
		for _, k := range n.Keys {
			maxKey = max(maxKey, len(k.Key))
			versions = max(versions, len(k.Versions))
			stored += len(k.Key)
			for _, v := range k.Versions {
				maxValue = max(maxValue, len(v.Value))
				stored += len(v.Value)
			}
		}
	}
	for _, op := range r.Ops {
		maxKey = max(maxKey, len(op.Key))
		maxValue = max(maxValue, len(op.Value))
	}
	mc := merkle.Config{Depth: cfg.KV.MerkleDepth, Fanout: cfg.KV.MerkleFanout}
	if err := mc.Validate(); err != nil {
		return res, fmt.Errorf("tree shape of the run: %w", err)
	}
	// A node replicates about N ranges per token (vnodes) or N/Nodes of
	// the shards; a fetched leaf holds the differing key plus the fullest
	// node's keys over its leaves.
	ranges := cfg.KV.N * cfg.KV.VNodes
	if cfg.KV.Shards > 0 {
		ranges = max(1, cfg.KV.N*cfg.KV.Shards/max(cfg.Nodes, 1))
	}
	leaves := ranges * mc.Leaves()
	leafKeys := 1 + (held+leaves-1)/leaves
	b, err := RepairTrafficBound(mc, maxKey, maxValue, versions, leafKeys)
	if err != nil {
		return res, err
	}
	straddle := uint64(cfg.Nodes + cfg.Spares) // one exchange per node may straddle SettleAt
	limit := (q.exchanges+straddle)*b.Floor + (q.keysRepaired+straddle)*b.PerKey
	res.Explanation = fmt.Sprintf("after heal and quiescence (from %v): %d B of anti-entropy traffic in %d exchanges repairing %d keys (%.0f B per exchange, while a replica of a compared range holds %.0f B of data on average); limit (%d exchanges + %d straddling) × %d B (an equal-roots exchange) + (%d keys + %d) × %d B (descending a %d^%d tree to one key, a leaf of %d entries, keys <= %d B, values <= %d B, repaired both ways) = %d B, %d%% used; %s",
		r.SettleAt, q.bytes, q.exchanges, q.keysRepaired,
		float64(q.bytes)/float64(q.exchanges), float64(stored)/float64(max(1, len(r.Nodes)*ranges)),
		q.exchanges, straddle, b.Floor, q.keysRepaired, straddle, b.PerKey, mc.Fanout, mc.Depth, leafKeys, maxKey, maxValue,
		limit, 100*q.bytes/max(limit, 1), whole)
	if q.bytes <= limit {
		res.Verdict = checker.Valid
		return res, nil
	}
	res.Verdict = checker.Invalid
	res.Count = 1
	res.Explanation = fmt.Sprintf("traffic not proportional to the divergence, %d B over the limit: %s", q.bytes-limit, res.Explanation)
	return res, nil
}

// aeBytes is the anti-entropy traffic of a run: tree plus repair bytes.
func aeBytes(st cluster.Stats) uint64 {
	return st.Counter(kv.CounterAntiEntropyTreeBytes) + st.Counter(kv.CounterAntiEntropyRepairBytes)
}
