package cluster

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport"
)

// LivenessError reports a run that could not finish: a limit was hit or the
// healed cluster could not answer its final reads. Seed replays it.
type LivenessError struct {
	Seed   uint64
	Phase  string
	Reason string
}

// Error formats the failure with its seed, phase and reason.
func (e *LivenessError) Error() string {
	return fmt.Sprintf("liveness failure (seed %d, %s phase): %s", e.Seed, e.Phase, e.Reason)
}

// Result is everything a run observed, as plain data for checkers and
// reports.
type Result struct {
	// Seed is the run's seed.
	Seed uint64
	// History is every client event, in order (final reads included).
	History []history.Event
	// Ops pairs the history's invocations and completions.
	Ops []history.Op
	// Replicas is the state of every replica of every written key after the
	// settle phase, before the final reads (for the convergence checker).
	Replicas checker.Snapshot
	// Nodes is each member's full snapshot at the same moment.
	Nodes []kv.Snapshot
	// Crashes are the times nodes crashed (for the durability checker).
	Crashes []sim.Time
	// Windows are the nemesis fault windows (for annotating reports).
	Windows []nemesis.Window
	// TargetErrors lists faults the cluster refused, with why.
	TargetErrors []string
	// SettleAt is when the settle phase began (sim.Never if it did not).
	SettleAt sim.Time
	// TraceHash covers every delivered message, client event and fault.
	TraceHash uint64
	// Stats are the run's counters.
	Stats Stats
}

// Stats are a run's counters.
type Stats struct {
	// Events is the number of loop events executed; SimTime the virtual
	// time the run took.
	Events  uint64
	SimTime time.Duration
	// Net is the network's counters.
	Net transport.Counters
	// OK, Fail and Info count completed operations by outcome (final reads
	// included); Pending counts operations that never completed.
	OK, Fail, Info, Pending int
	// P50, P99 and Max are the latencies of ok operations.
	P50, P99, Max time.Duration
	// ReadRepairs, HintsStored, HintsDelivered and IgnoredMessages sum the
	// nodes' counters (over every incarnation of every node).
	ReadRepairs, HintsStored, HintsDelivered, IgnoredMessages uint64
	// AntiEntropyExchanges, AntiEntropyMessages and AntiEntropyBytes (tree
	// plus repair bytes) measure Merkle anti-entropy traffic;
	// AntiEntropyKeysRepaired counts the keys it changed.
	AntiEntropyExchanges, AntiEntropyMessages, AntiEntropyBytes, AntiEntropyKeysRepaired uint64
	// HandoffKeysSent counts keys streamed by range handoff on joins and
	// leaves.
	HandoffKeysSent uint64
}

// addStats adds the counters the run reports from b into a.
func addStats(a *kv.Stats, b kv.Stats) {
	a.ReadRepairs += b.ReadRepairs
	a.HintsStored += b.HintsStored
	a.HintsDelivered += b.HintsDelivered
	a.AntiEntropyExchanges += b.AntiEntropyExchanges
	a.AntiEntropyMessages += b.AntiEntropyMessages
	a.AntiEntropyTreeBytes += b.AntiEntropyTreeBytes
	a.AntiEntropyRepairBytes += b.AntiEntropyRepairBytes
	a.AntiEntropyKeysRepaired += b.AntiEntropyKeysRepaired
	a.HandoffKeysSent += b.HandoffKeysSent
	for _, ig := range b.Ignored {
		found := false
		for i := range a.Ignored {
			if a.Ignored[i].Reason == ig.Reason {
				a.Ignored[i].Count += ig.Count
				found = true
			}
		}
		if !found {
			a.Ignored = append(a.Ignored, ig)
		}
	}
}

func (c *Cluster) result() *Result {
	r := &Result{
		Seed:         c.seed,
		History:      append([]history.Event(nil), c.rec.Events()...),
		Nodes:        c.snapshot,
		Crashes:      append([]sim.Time(nil), c.crashes...),
		Windows:      c.cfg.Nemesis.Windows(),
		TargetErrors: c.targetErrs,
		SettleAt:     c.settleAt,
		TraceHash:    c.loop.Trace().Sum64(),
	}
	ops, err := history.Pair(r.History)
	if err != nil && c.failure == nil {
		c.failure = fmt.Errorf("cluster: the recorded history does not pair: %w", err)
	}
	r.Ops = ops
	r.Replicas = c.replicaSnapshot()
	st := &r.Stats
	st.Events = c.loop.Events()
	st.SimTime = time.Duration(c.loop.Now())
	st.Net = c.net.Total()
	for _, op := range ops {
		switch {
		case op.Completed < 0:
			st.Pending++
		case op.Outcome == history.OK:
			st.OK++
		case op.Outcome == history.Fail:
			st.Fail++
		default:
			st.Info++
		}
	}
	lat := slices.Clone(c.latencies)
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		st.P50, st.P99, st.Max = lat[n/2], lat[min(n-1, n*99/100)], lat[n-1]
	}
	var sum kv.Stats
	for _, ns := range c.nodes {
		addStats(&sum, ns.retired)
		if ns.node != nil {
			addStats(&sum, ns.node.Stats())
		}
	}
	st.ReadRepairs, st.HintsStored, st.HintsDelivered = sum.ReadRepairs, sum.HintsStored, sum.HintsDelivered
	st.IgnoredMessages = sum.IgnoredTotal()
	st.AntiEntropyExchanges, st.AntiEntropyMessages = sum.AntiEntropyExchanges, sum.AntiEntropyMessages
	st.AntiEntropyBytes = sum.AntiEntropyTreeBytes + sum.AntiEntropyRepairBytes
	st.AntiEntropyKeysRepaired = sum.AntiEntropyKeysRepaired
	st.HandoffKeysSent = sum.HandoffKeysSent
	return r
}

// snapshots returns every running member's snapshot, in id order.
func (c *Cluster) snapshots() []kv.Snapshot {
	var out []kv.Snapshot
	for _, ns := range c.nodes {
		if ns.member && ns.node != nil {
			out = append(out, ns.node.Snapshot())
		}
	}
	return out
}

// replicaSnapshot lays the node snapshots out per written key over the key's
// preference list (its home replicas in the final ring).
func (c *Cluster) replicaSnapshot() checker.Snapshot {
	var snap checker.Snapshot
	if c.snapshot == nil {
		return snap
	}
	byNode := map[sim.NodeID]map[string][]kv.Version{}
	for _, s := range c.snapshot {
		m := map[string][]kv.Version{}
		for _, k := range s.Keys {
			m[k.Key] = k.Versions
		}
		byNode[s.Node] = m
	}
	buf := make([]sim.NodeID, 0, c.cfg.KV.N)
	for _, key := range c.wl.WrittenKeys() {
		pref, err := c.ring.PreferenceList(key, c.cfg.KV.N, buf[:0])
		if err != nil {
			// Cannot happen while Leave keeps N members; never skip silently.
			c.targetErrs = append(c.targetErrs, fmt.Sprintf("snapshot: key %q has no preference list: %v", key, err))
			continue
		}
		kr := checker.KeyReplicas{Key: key}
		for _, id := range pref {
			st := checker.ReplicaState{Node: id}
			vs, ok := byNode[id][key]
			if !ok {
				st.Missing = true
			}
			for _, v := range vs {
				st.Versions = append(st.Versions, fingerprint(v))
			}
			sort.Strings(st.Versions)
			kr.Replicas = append(kr.Replicas, st)
		}
		snap.Keys = append(snap.Keys, kr)
	}
	return snap
}

// fingerprint names one stored version canonically: its write event, its
// timestamp and its value (or tombstone).
func fingerprint(v kv.Version) string {
	val := strconv.Quote(string(v.Value))
	if v.Tombstone {
		val = "tombstone"
	}
	return fmt.Sprintf("%v@%d=%s", v.Dot, v.Timestamp, val)
}
