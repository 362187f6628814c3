package kv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// TestAntiEntropyTranscript drives the anti-entropy state machine alone
// (testdata/machines/antientropy.txt): two machines, n1 and n2, each with
// a store of its own, and a network that is a FIFO queue the transcript
// delivers or drops. No ring of nodes, no coordinator: the hash ring is
// cut into four quarters q1..q4 (as in the transfer transcript) and the
// transcript says which nodes replicate each one.
//
//	ae interval=10 timeout=5 batch=2 depth=2 fanout=4   two machines, their configuration
//	ranges [n1] q1=n1,n2 q2=n2,n3 ...   a ring change: both machines' new ranges (or n1's)
//	put n1[,n2] g=1 h=2              writes (one new dot per key, the same on each node named)
//	roots                            the trees' roots, compared per range both hold
//	get g,h                          each node's versions of keys
//	start n1 q1 peer=n2              an exchange on demand (MsgStartAntiEntropy)
//	deliver [n=2] [from=n3]          deliver the next n messages in flight (by default until
//	                                 none is), optionally as if from another node
//	drop                             lose every message in flight
//	tick n1 [n=3]                    n ticks of one machine
//	down n1 n2 | up n1 n2            what n1 believes of n2
//	healed n1 [excluded=n3]          a heal: the sweep starts
//	quiescent n1                     what n1's machine says it still owes
//	dump n1                          the machine's state
//
// Every command prints the messages queued, the merges the receiver made,
// why it ignored a message, and the counters that moved. Op ids are
// sequence numbers in incarnation 1.
func TestAntiEntropyTranscript(t *testing.T) {
	var w *aeWorld
	runMachineTranscript(t, "testdata/machines/antientropy.txt", func(cmd string, pos []string, args map[string]string) []string {
		if cmd == "ae" {
			w = newAEWorld(t, args)
			return nil
		}
		require.NotNil(t, w, "start with an ae command")
		return w.run(cmd, pos, args)
	})
}

// aeNode is one machine with the node's parts it needs replaced by fakes:
// a store, a counter, a clock, the ranges and the peers believed down.
type aeNode struct {
	id     sim.NodeID
	ae     antiEntropy
	st     *state
	stats  Stats
	seq    uint64
	now    int64
	ranges []ring.Range
	down   map[sim.NodeID]bool
	merged []string // what merge changed during the current input
}

type aeFlight struct {
	from sim.NodeID
	e    Envelope
}

// aeWorld is two machines and the messages in flight between them.
type aeWorld struct {
	t      *testing.T
	cfg    Config
	nodes  map[sim.NodeID]*aeNode
	flight []aeFlight
	dots   uint64 // the writes' dots and timestamps
}

func newAEWorld(t *testing.T, args map[string]string) *aeWorld {
	cfg := DefaultConfig()
	atoi := func(k string, def int) int {
		v, ok := args[k]
		if !ok {
			return def
		}
		i, err := strconv.Atoi(v)
		require.NoError(t, err, k)
		return i
	}
	cfg.AntiEntropyIntervalTicks = atoi("interval", 10)
	cfg.RequestTimeoutTicks = atoi("timeout", cfg.RequestTimeoutTicks)
	cfg.TransferBatchKeys = atoi("batch", cfg.TransferBatchKeys)
	cfg.MerkleDepth = atoi("depth", 2)
	cfg.MerkleFanout = atoi("fanout", 4)
	w := &aeWorld{t: t, cfg: cfg, nodes: map[sim.NodeID]*aeNode{}}
	for _, id := range []sim.NodeID{1, 2} {
		n := &aeNode{id: id, st: loadState(NewMemStore()), down: map[sim.NodeID]bool{}}
		n.ae = antiEntropy{self: id, cfg: &w.cfg, st: n.st, stats: &n.stats,
			next:       func() uint64 { n.seq++; return 1<<32 | n.seq },
			down:       func(p sim.NodeID) bool { return n.down[p] },
			replicates: n.replicates,
			merge:      n.merge}
		n.ae.init(sim.NewRNG(uint64(id)).Fork("anti-entropy"))
		w.nodes[id] = n
	}
	return w
}

// replicates says whether the node replicates key in its ranges.
func (n *aeNode) replicates(key string) bool {
	h := ring.HashKey(key)
	for _, g := range n.ranges {
		if g.Arc.Contains(h) && slices.Contains(g.Replicas, n.id) {
			return true
		}
	}
	return false
}

// merge is Node.mergeData without the tombstone bookkeeping.
func (n *aeNode) merge(key string, vs []Version) (bool, error) {
	cur, _ := n.st.Get(key)
	merged := reconcile(n.ae.cfg.Resolve, cur, vs)
	if sameDots(cur, merged) {
		return false, nil
	}
	n.st.Put(key, merged)
	n.st.writes = nil
	n.ae.set(key, merged)
	n.merged = append(n.merged, fmt.Sprintf("%s=%s", key, fmtValues(merged)))
	return true, nil
}

func fmtValues(vs []Version) string {
	vals := make([]string, len(vs))
	for i, v := range vs {
		vals[i] = string(v.Value)
	}
	return strings.Join(vals, "|")
}

func (w *aeWorld) node(s string) *aeNode {
	n, ok := w.nodes[nodeArg(w.t, s)]
	require.True(w.t, ok, "no machine %q (n1 and n2 only)", s)
	return n
}

// fmtAEMsg prints an anti-entropy message.
func fmtAEMsg(from sim.NodeID, e Envelope) string {
	m := e.Msg
	s := fmt.Sprintf("%v->%v ", from, e.To)
	switch m.Type {
	case MsgTreeRequest:
		q := m.Tree
		s += fmt.Sprintf("tree-request op=%d %s %v", m.Op&seqMask, arcName(ring.Arc{Start: q.Range.Start, End: q.Range.End}), q.Kind)
		if q.Kind != merkle.KindRoot {
			s += fmt.Sprintf(" level=%d at %v", q.Level, q.Indexes)
		}
	case MsgTreeReply:
		p := m.TreeReply
		s += fmt.Sprintf("tree-reply op=%d %s", m.Op&seqMask, arcName(ring.Arc{Start: p.Range.Start, End: p.Range.End}))
		switch {
		case p.Refused:
			s += " refused"
		case p.Kind == merkle.KindRoot && p.Equal:
			s += " root equal"
		case p.Kind == merkle.KindRoot:
			s += " root differs"
		case p.Kind == merkle.KindHashes:
			s += fmt.Sprintf(" %d hashes at level %d", len(p.Hashes), p.Level)
		default:
			keys := make([]string, len(p.Entries))
			for i, en := range p.Entries {
				keys[i] = en.Key
			}
			s += fmt.Sprintf(" leaves %v", keys)
		}
	case MsgRepair:
		s += fmt.Sprintf("repair op=%d %s", m.Op&seqMask, fmtAEItems(m.Items))
	case MsgRepairReply:
		s += fmt.Sprintf("repair-reply op=%d %s", m.Op&seqMask, fmtAEItems(m.Items))
	default:
		s += m.Type.String()
	}
	return s
}

func fmtAEItems(items []KeySnapshot) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.Key + "=" + fmtValues(it.Versions)
		if len(it.Versions) == 0 {
			parts[i] = it.Key + " (none)"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// drain moves what n queued into the network, printing it.
func (w *aeWorld) drain(n *aeNode, prefix string) []string {
	var out []string
	for _, e := range n.ae.take() {
		w.flight = append(w.flight, aeFlight{from: n.id, e: e})
		out = append(out, prefix+fmtAEMsg(n.id, e))
	}
	return out
}

// counters prints the counters of n that moved since before.
func counters(n *aeNode, before Stats, prefix string) []string {
	var out []string
	for _, c := range []struct {
		name          string
		before, after uint64
	}{
		{"exchanges", before.AntiEntropyExchanges, n.stats.AntiEntropyExchanges},
		{"completed", before.AntiEntropyCompleted, n.stats.AntiEntropyCompleted},
		{"refused", before.AntiEntropyRefused, n.stats.AntiEntropyRefused},
		{"timeouts", before.AntiEntropyTimeouts, n.stats.AntiEntropyTimeouts},
		{"keys differing", before.AntiEntropyKeysDiffering, n.stats.AntiEntropyKeysDiffering},
		{"keys repaired", before.AntiEntropyKeysRepaired, n.stats.AntiEntropyKeysRepaired},
	} {
		if c.after != c.before {
			out = append(out, fmt.Sprintf("%s%v %s +%d", prefix, n.id, c.name, c.after-c.before))
		}
	}
	return out
}

func (w *aeWorld) run(cmd string, pos []string, args map[string]string) []string {
	t := w.t
	var out []string
	switch cmd {
	case "ranges":
		var ranges []ring.Range
		for i := range quarters {
			q := fmt.Sprintf("q%d", i+1)
			var reps []sim.NodeID
			for _, f := range strings.Split(args[q], ",") {
				if f != "" {
					reps = append(reps, nodeArg(t, f))
				}
			}
			ranges = append(ranges, ring.Range{Arc: quarters[i], Replicas: reps})
		}
		ids := []sim.NodeID{1, 2}
		if len(pos) == 1 {
			ids = []sim.NodeID{w.node(pos[0]).id} // only this machine's ring changes
		}
		for _, id := range ids {
			n := w.nodes[id]
			n.ranges = ranges
			n.ae.ringChanged(n.now, ranges)
			var mine []string
			for _, o := range n.ae.owned {
				mine = append(mine, fmt.Sprintf("%s with %v", arcName(ring.Arc{Start: o.r.Start, End: o.r.End}), o.replicas))
			}
			if len(mine) == 0 {
				mine = append(mine, "nothing")
			}
			out = append(out, fmt.Sprintf("%v trees: %s", id, strings.Join(mine, ", ")))
		}
	case "put":
		require.Len(t, pos, 1, "put n1[,n2] k=v...")
		keys := make([]string, 0, len(args))
		for k := range args {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			w.dots++
			v := Version{Value: []byte(args[k]), Timestamp: int64(w.dots), Dot: Dot{Node: 9, Counter: 1<<32 | w.dots}}
			var where []string
			for _, s := range strings.Split(pos[0], ",") {
				n := w.node(s)
				n.st.Put(k, []Version{v})
				n.st.writes = nil
				n.ae.set(k, []Version{v})
				where = append(where, s)
			}
			out = append(out, fmt.Sprintf("%s=%s (%s) on %s", k, args[k], keyQuarter(k), strings.Join(where, ",")))
		}
	case "roots":
		n1, n2 := w.nodes[1], w.nodes[2]
		for _, q := range quarters {
			r := merkle.Range{Start: q.Start, End: q.End}
			t1, ok1 := n1.ae.tree(r)
			t2, ok2 := n2.ae.tree(r)
			switch {
			case ok1 && ok2:
				eq := "roots equal"
				if t1.Root() != t2.Root() {
					eq = "roots differ"
				}
				out = append(out, fmt.Sprintf("%s: n1 %d keys, n2 %d keys, %s", arcName(q), t1.Len(), t2.Len(), eq))
			case ok1:
				out = append(out, fmt.Sprintf("%s: n1 %d keys, n2 keeps no tree", arcName(q), t1.Len()))
			case ok2:
				out = append(out, fmt.Sprintf("%s: n1 keeps no tree, n2 %d keys", arcName(q), t2.Len()))
			}
		}
	case "get":
		require.Len(t, pos, 1, "get k1,k2")
		for _, k := range strings.Split(pos[0], ",") {
			var says []string
			for _, id := range []sim.NodeID{1, 2} {
				vs, ok := w.nodes[id].st.Get(k)
				if !ok {
					says = append(says, fmt.Sprintf("%v none", id))
				} else {
					says = append(says, fmt.Sprintf("%v %s", id, fmtValues(vs)))
				}
			}
			out = append(out, k+": "+strings.Join(says, ", "))
		}
	case "start":
		require.Len(t, pos, 2, "start n1 qN peer=n2")
		n := w.node(pos[0])
		before := n.stats
		if err := n.ae.start(n.now, w.quarterArc(pos[1]).End, nodeArg(t, args["peer"])); err != nil {
			out = append(out, "refused: "+err.Error())
		}
		out = append(out, w.drain(n, "")...)
		out = append(out, counters(n, before, "  ")...)
	case "deliver":
		k := 1000 // until nothing is in flight
		if v, ok := args["n"]; ok {
			var err error
			k, err = strconv.Atoi(v)
			require.NoError(t, err, "n")
		}
		for i := 0; i < k && len(w.flight) > 0; i++ {
			f := w.flight[0]
			w.flight = w.flight[1:]
			if v, ok := args["from"]; ok {
				f.from = nodeArg(t, v) // as if another node sent it
			}
			out = append(out, "deliver "+fmtAEMsg(f.from, f.e))
			to, ok := w.nodes[f.e.To]
			if !ok {
				out = append(out, "  (no machine: lost)")
				continue
			}
			before := to.stats
			to.merged = nil
			var why ignoreReason
			switch m := f.e.Msg; m.Type {
			case MsgTreeRequest:
				why = to.ae.onTreeRequest(f.from, m)
			case MsgTreeReply:
				why = to.ae.onTreeReply(to.now, f.from, m)
			case MsgRepair:
				why = to.ae.onRepair(f.from, m)
			case MsgRepairReply:
				why = to.ae.onRepairReply(m)
			}
			if why != ignoreNone {
				out = append(out, fmt.Sprintf("  ignored: %s (%s)", ignoreNames[why], ignoreWhy[why]))
			}
			if len(to.merged) > 0 {
				out = append(out, fmt.Sprintf("  %v merged %s", to.id, strings.Join(to.merged, " ")))
			}
			out = append(out, w.drain(to, "  ")...)
			out = append(out, counters(to, before, "  ")...)
		}
		if len(out) == 0 {
			out = append(out, "nothing in flight")
		}
	case "drop":
		for _, f := range w.flight {
			out = append(out, "lost "+fmtAEMsg(f.from, f.e))
		}
		w.flight = nil
	case "tick":
		require.Len(t, pos, 1, "tick n1 [n=3]")
		n := w.node(pos[0])
		k := 1
		if v, ok := args["n"]; ok {
			var err error
			k, err = strconv.Atoi(v)
			require.NoError(t, err, "n")
		}
		before := n.stats
		for range k {
			n.now++
			n.ae.tick(n.now)
			out = append(out, w.drain(n, fmt.Sprintf("t=%d ", n.now))...)
		}
		out = append(out, fmt.Sprintf("%v now t=%d", n.id, n.now))
		out = append(out, counters(n, before, "  ")...)
	case "down", "up":
		require.Len(t, pos, 2, "down n1 n2")
		w.node(pos[0]).down[nodeArg(t, pos[1])] = cmd == "down"
	case "healed":
		require.Len(t, pos, 1, "healed n1 [excluded=n3]")
		n := w.node(pos[0])
		var ex []sim.NodeID
		for _, f := range strings.Split(args["excluded"], ",") {
			if f != "" {
				ex = append(ex, nodeArg(t, f))
			}
		}
		n.ae.healed(n.now, ex)
		out = append(out, w.sweepLine(n))
	case "quiescent":
		require.Len(t, pos, 1, "quiescent n1")
		n := w.node(pos[0])
		if owed := n.ae.outstanding(n.now); len(owed) > 0 {
			out = append(out, fmt.Sprintf("%v owes %s", n.id, strings.Join(owed, ", ")))
		} else {
			out = append(out, fmt.Sprintf("%v owes nothing", n.id))
		}
	case "dump":
		require.Len(t, pos, 1, "dump n1")
		n := w.node(pos[0])
		out = append(out, fmt.Sprintf("t=%d next exchange t=%d, cursor %d", n.now, n.ae.due, n.ae.cursor))
		if s := n.ae.sess; s != nil {
			out = append(out, fmt.Sprintf("exchange op=%d %s with %v, deadline t=%d", s.s.ID()&seqMask, arcName(ring.Arc{Start: s.s.Range().Start, End: s.s.Range().End}), s.peer, s.deadline))
		} else {
			out = append(out, "no exchange in progress")
		}
		out = append(out, w.sweepLine(n))
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	return out
}

func (w *aeWorld) quarterArc(s string) ring.Arc {
	i, err := strconv.Atoi(strings.TrimPrefix(s, "q"))
	require.True(w.t, err == nil && strings.HasPrefix(s, "q") && i >= 1 && i <= 4, "bad quarter %q", s)
	return quarters[i-1]
}

// sweepLine prints the sweep since the heal: the pairs still to compare.
func (w *aeWorld) sweepLine(n *aeNode) string {
	sw := n.ae.sweep
	switch {
	case !sw.healed:
		return "sweep: not healed"
	case sw.done:
		return fmt.Sprintf("sweep: done at t=%d", sw.doneAt)
	}
	var todo []string
	for _, o := range n.ae.owned {
		for _, p := range o.replicas {
			if sw.todo[sweepPair{o.r.End, p}] {
				todo = append(todo, fmt.Sprintf("%s with %v", arcName(ring.Arc{Start: o.r.Start, End: o.r.End}), p))
			}
		}
	}
	s := "sweep: to compare " + strings.Join(todo, ", ")
	if len(sw.excluded) > 0 {
		s += fmt.Sprintf(" (excluded %v)", sw.excluded)
	}
	return s
}
