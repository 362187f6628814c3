package cluster

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
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
	// Ops are the run's client operations (final reads included), in
	// invocation order: the history's invocations paired with their
	// completions. History lays them out as events.
	Ops []history.Op
	// Replicas is the state of every replica of every written key after the
	// settle phase, before the final reads (for the convergence checker).
	Replicas checker.Snapshot
	// Nodes is each running member's snapshot at the same moment (nodes
	// that implement node.Snapshotter).
	Nodes []node.Snapshot
	// Crashes are the times nodes crashed (for the durability checker).
	Crashes []sim.Time
	// Windows are the nemesis fault windows (for annotating reports).
	Windows []nemesis.Window
	// TargetErrors lists faults the cluster refused, with why.
	TargetErrors []string
	// SettleAt is when the settle phase began (sim.Never if it did not).
	SettleAt sim.Time
	// QuiescentAt is when every node reported quiescence and the final
	// reads began (sim.Never if they did not).
	QuiescentAt sim.Time
	// TraceHash covers every delivered message, client event and fault.
	TraceHash uint64
	// FaultTime is how long faults were active before the settle phase;
	// FaultCoverage the fraction of it during which at least one workload
	// operation was in flight (1 without faults; see FaultCoverage).
	FaultTime     time.Duration
	FaultCoverage float64
	// Stats are the run's counters.
	Stats Stats
}

// History is every client event of the run, in order (final reads
// included), built afresh from Ops.
func (r *Result) History() []history.Event {
	events, err := history.Unpair(r.Ops)
	if err != nil {
		panic("cluster: " + err.Error()) // cannot happen for a Result Run returned, whose events are numbered densely
	}
	return events
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
	// UnsyncedLost counts the disk writes (keys) crashes dropped because
	// they were not synced.
	UnsyncedLost uint64
	// Counters sum the nodes' counters (node.Counted) by name over every
	// incarnation of every node, sorted by name.
	Counters []node.Counter
}

// Counter returns the summed counter name, or 0 if no node reported it.
func (s Stats) Counter(name string) uint64 {
	i, ok := slices.BinarySearchFunc(s.Counters, name, func(c node.Counter, n string) int { return strings.Compare(c.Name, n) })
	if !ok {
		return 0
	}
	return s.Counters[i].Value
}

func (c *Cluster) result() *Result {
	r := &Result{
		Seed:         c.seed,
		Nodes:        c.snapshot,
		Crashes:      append([]sim.Time(nil), c.crashes...),
		Windows:      c.cfg.Nemesis.Windows(),
		TargetErrors: c.targetErrs,
		SettleAt:     c.settleAt,
		QuiescentAt:  c.quiescentAt,
		TraceHash:    c.loop.Trace().Sum64(),
	}
	// The recorder's own operations: the run is over, nothing records
	// into them again.
	ops := c.rec.Operations()
	r.Ops = ops
	end := c.settleAt
	if end == sim.Never {
		end = c.loop.Now()
	}
	ft, cov := FaultCoverage(r.Windows, ops, end)
	r.FaultTime, r.FaultCoverage = time.Duration(ft), cov
	r.Replicas = c.replicaSnapshot()
	st := &r.Stats
	st.Events = c.loop.Events()
	st.SimTime = time.Duration(c.loop.Now())
	st.Net = c.net.Total()
	st.UnsyncedLost = c.unsyncedLost
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
	st.P50, st.P99, st.Max = percentiles(slices.Clone(c.latencies))
	sums := maps.Clone(c.retired)
	for _, ns := range c.nodes {
		if ns.node != nil && ns.counted != nil {
			c.wake(ns)
			var counters []node.Counter
			if c.guard(ns, "Counters", func() error { counters = ns.counted.Counters(); return nil }) {
				for _, k := range counters {
					sums[k.Name] += k.Value
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		st.Counters = append(st.Counters, node.Counter{Name: name, Value: sums[name]})
	}
	return r
}

// snapshots returns every running member's snapshot, in id order.
func (c *Cluster) snapshots() []node.Snapshot {
	var out []node.Snapshot
	for _, ns := range c.nodes {
		if ns.member && ns.node != nil && ns.snapshots != nil {
			var snap node.Snapshot
			if !c.wake(ns) || !c.guard(ns, "Snapshot", func() error { snap = ns.snapshots.Snapshot(); return nil }) {
				return out
			}
			snap.Node = ns.id
			out = append(out, snap)
		}
	}
	return out
}

// replicaSnapshot lays the node snapshots out per written key over the
// key's home replicas in the final view (Config.Placement; every member
// without one).
func (c *Cluster) replicaSnapshot() checker.Snapshot {
	var snap checker.Snapshot
	if c.snapshot == nil {
		return snap
	}
	byNode := map[sim.NodeID]map[string][]node.Version{}
	for _, s := range c.snapshot {
		m := map[string][]node.Version{}
		for _, k := range s.Keys {
			m[k.Key] = k.Versions
		}
		byNode[s.Node] = m
	}
	homes := func(string) ([]sim.NodeID, error) { return c.view.Members(), nil }
	if c.cfg.Placement != nil {
		var err error
		homes, err = c.cfg.Placement(c.seed, c.view)
		if err != nil {
			c.targetErrs = append(c.targetErrs, fmt.Sprintf("snapshot: no placement for the final view: %v", err))
			return snap
		}
	}
	for _, key := range c.wl.WrittenKeys() {
		pref, err := homes(key)
		if err != nil {
			// Cannot happen while Leave keeps MinMembers; never skip silently.
			c.targetErrs = append(c.targetErrs, fmt.Sprintf("snapshot: key %q has no home replicas: %v", key, err))
			continue
		}
		kr := checker.KeyReplicas{Key: key}
		for _, id := range pref {
			if c.cfg.LivenessCore && !slices.Contains(c.core, id) {
				continue // liveness mode judges the core's replicas only
			}
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

// fingerprint names one stored version canonically: the write's id and its
// value (or tombstone).
func fingerprint(v node.Version) string {
	if v.Tombstone {
		return v.ID + "=tombstone"
	}
	return v.ID + "=" + strconv.Quote(string(v.Value))
}

// percentiles returns the values sorting lat would put at n/2 and at
// n*99/100 (the last if that is past it), and its maximum; zeros for none.
// It reorders lat.
func percentiles(lat []time.Duration) (p50, p99, maxLat time.Duration) {
	n := len(lat)
	if n == 0 {
		return 0, 0, 0
	}
	k := min(n-1, n*99/100)
	p99 = selectNth(lat, k)
	// The k+1 smallest are now lat[:k+1], and nothing after k is smaller.
	return selectNth(lat[:k+1], n/2), p99, slices.Max(lat[k:])
}

// selectNth reorders s so that s[k] is the value sorting would put there,
// with nothing greater before it and nothing smaller after, and returns
// it: the k-th smallest in linear time on average (a seed's latency
// percentiles without sorting all of them). The pivot is the median of
// three, so the work depends only on s.
func selectNth(s []time.Duration, k int) time.Duration {
	lo, hi := 0, len(s)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}
