package kv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// TestTransferTranscript drives the range-transfer state machine alone
// (testdata/machines/transfer.txt): no ring of nodes, no network. It is
// node n1; the hash ring is cut into four quarters q1..q4, and the
// transcript says which nodes replicate each quarter, which peers are down
// and which messages arrive.
//
//	transfer timeout=10 batch=2 leavetimeout=50 membership=oracle|gossip gossipinterval=2 hinted=on|off
//	ranges q1=n1,n2 q2=n2,n3 ...        a ring change: the node's new ranges (no arc gained)
//	gain q1 from=n2,n3 lost=1 [need=2]  a ring change that gains q1 (sources n2, n3; n2 lost it;
//	                                    need of them must stream it in full, 1 unless told)
//	restart                             the node starts again mid-handoff (restarted): its ranges pend
//	put keys=g,h v=1                    keys already in the node's store
//	readable keys=g,c                   whether the node may answer reads of keys
//	tick [n=3]                          n ticks
//	down n2 | up n2                     what the node believes of a peer
//	data from=n2 op=1 q1 items=g:1,h:1 [last] [wait] [partial]   a batch of one of the node's pulls
//	                                    (partial: from a source that has not received the arc)
//	request from=n3 op=7 q4 [force]     a peer pulls an arc from the node
//	ack from=n3 op=7                    the peer acknowledges a batch
//	leave                               Leave
//	leavecheck [onring] [hints=1] [rounds=4] [view=3] owed=n3:q4,...   one leave check
//	dump                                the machine's state
//
// Every command prints the messages the machine queued, the batches it
// handed back to merge, why it ignored a message, and the counters it
// moved. Op ids are sequence numbers in the node's incarnation 1.
func TestTransferTranscript(t *testing.T) {
	var tm *transferMachine
	runMachineTranscript(t, "testdata/machines/transfer.txt", func(cmd string, pos []string, args map[string]string) []string {
		if cmd == "transfer" {
			tm = newTransferMachine(t, args)
			return nil
		}
		require.NotNil(t, tm, "start with a transfer command")
		return tm.run(t, cmd, pos, args)
	})
}

// quarters are the four arcs the transcript names q1..q4.
var quarters = [4]ring.Arc{
	{Start: 0, End: 1 << 62},
	{Start: 1 << 62, End: 1 << 63},
	{Start: 1 << 63, End: 3 << 62},
	{Start: 3 << 62, End: 0},
}

// transferMachine is the range-transfer machine with the node's parts it
// needs replaced by plain fakes: a counter, a set of peers believed down,
// the node's ranges and a clock.
type transferMachine struct {
	t      *testing.T
	tr     rangeTransfer
	st     *state
	cfg    Config
	stats  Stats
	seq    uint64
	down   map[sim.NodeID]bool
	ranges []ring.Range
	now    int64
}

func newTransferMachine(t *testing.T, args map[string]string) *transferMachine {
	cfg := DefaultConfig()
	cfg.RangeHandoff = true
	atoi := func(k string, def int) int {
		v, ok := args[k]
		if !ok {
			return def
		}
		i, err := strconv.Atoi(v)
		require.NoError(t, err, k)
		return i
	}
	cfg.HandoffTimeoutTicks = atoi("timeout", cfg.HandoffTimeoutTicks)
	cfg.TransferBatchKeys = atoi("batch", cfg.TransferBatchKeys)
	cfg.LeaveTimeoutTicks = atoi("leavetimeout", cfg.LeaveTimeoutTicks)
	cfg.GossipIntervalTicks = atoi("gossipinterval", cfg.GossipIntervalTicks)
	if v, ok := args["membership"]; ok {
		require.NoError(t, cfg.Membership.UnmarshalText([]byte(v)))
	}
	if v, ok := args["hinted"]; ok {
		cfg.HintedHandoff = v == "on"
	}
	m := &transferMachine{t: t, cfg: cfg, st: loadState(NewMemStore()), down: map[sim.NodeID]bool{}}
	m.tr = rangeTransfer{self: 1, cfg: &m.cfg, st: m.st, stats: &m.stats,
		next: func() uint64 { m.seq++; return 1<<32 | m.seq },
		down: func(id sim.NodeID) bool { return m.down[id] }}
	return m
}

// quarter returns the arc named qN.
func (m *transferMachine) quarter(s string) ring.Arc {
	i, err := strconv.Atoi(strings.TrimPrefix(s, "q"))
	require.True(m.t, err == nil && strings.HasPrefix(s, "q") && i >= 1 && i <= 4, "bad quarter %q", s)
	return quarters[i-1]
}

// arcName names an arc by its quarter, or prints it.
func arcName(a ring.Arc) string {
	if i := slices.Index(quarters[:], a); i >= 0 {
		return fmt.Sprintf("q%d", i+1)
	}
	return a.String()
}

// keyQuarter names the quarter of a key's hash.
func keyQuarter(k string) string {
	h := ring.HashKey(k)
	for i, q := range quarters {
		if q.Contains(h) {
			return fmt.Sprintf("q%d", i+1)
		}
	}
	return "?"
}

func (m *transferMachine) nodes(s string) []sim.NodeID {
	var out []sim.NodeID
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, nodeArg(m.t, f))
		}
	}
	return out
}

func (m *transferMachine) op(args map[string]string) uint64 {
	v, err := strconv.ParseUint(args["op"], 10, 32)
	require.NoError(m.t, err, "op")
	return 1<<32 | v
}

// replicates says whether n1 replicates key in its ranges.
func (m *transferMachine) replicates(key string) bool {
	h := ring.HashKey(key)
	for _, g := range m.ranges {
		if g.Arc.Contains(h) && slices.Contains(g.Replicas, 1) {
			return true
		}
	}
	return false
}

func fmtBatch(items []KeySnapshot) string {
	parts := make([]string, len(items))
	for i, it := range items {
		vals := make([]string, len(it.Versions))
		for j, v := range it.Versions {
			vals[j] = string(v.Value)
		}
		parts[i] = it.Key + "=" + strings.Join(vals, "|")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func fmtTransferMsg(e Envelope) string {
	msg := e.Msg
	a := arcName(ring.Arc{Start: msg.ArcStart, End: msg.ArcEnd})
	s := fmt.Sprintf("n1->%v ", e.To)
	switch msg.Type {
	case MsgStreamRequest:
		s += fmt.Sprintf("stream-request op=%d %s", msg.Op&seqMask, a)
		if msg.Force {
			s += " force"
		}
	case MsgStreamData:
		s += fmt.Sprintf("stream-data op=%d %s", msg.Op&seqMask, a)
		if msg.Wait {
			s += " wait"
		} else {
			s += " " + fmtBatch(msg.Items)
		}
		if msg.Last {
			s += " last"
		}
		if msg.Partial {
			s += " partial"
		}
	case MsgStreamAck:
		s += fmt.Sprintf("stream-ack op=%d %s", msg.Op&seqMask, a)
	default:
		s += msg.Type.String()
	}
	return s
}

func (m *transferMachine) run(t *testing.T, cmd string, pos []string, args map[string]string) []string {
	var out []string
	before, wasDone := m.stats, m.tr.leaveDone
	has := func(w string) bool { return slices.Contains(pos, w) }
	switch cmd {
	case "ranges":
		m.ranges = nil
		for i := range quarters {
			q := fmt.Sprintf("q%d", i+1)
			m.ranges = append(m.ranges, ring.Range{Arc: quarters[i], Replicas: m.nodes(args[q])})
		}
		var mine []string
		for _, g := range m.ranges {
			if slices.Contains(g.Replicas, 1) {
				mine = append(mine, arcName(g.Arc))
			}
		}
		if len(mine) == 0 {
			mine = append(mine, "nothing")
		}
		m.tr.ringChanged(m.now, m.ranges, nil)
		out = append(out, "n1 replicates "+strings.Join(mine, " "))
	case "gain":
		require.Len(t, pos, 1, "gain qN")
		lost, err := strconv.Atoi(args["lost"])
		require.NoError(t, err, "lost")
		need := 1
		if v, ok := args["need"]; ok {
			need, err = strconv.Atoi(v)
			require.NoError(t, err, "need")
		}
		g := gainedArc{a: m.quarter(pos[0]), sources: m.nodes(args["from"]), lost: lost, need: need}
		m.tr.ringChanged(m.now, m.ranges, []gainedArc{g})
	case "restart":
		m.tr.restarted(m.now, m.ranges)
	case "put":
		var where []string
		for _, k := range strings.Split(args["keys"], ",") {
			m.st.Put(k, []Version{{Value: []byte(args["v"]), Dot: Dot{Node: 1, Counter: 1<<32 | 1}}})
			where = append(where, k+" in "+keyQuarter(k))
		}
		m.st.writes = nil
		out = append(out, strings.Join(where, ", "))
	case "readable":
		// As Node.checkReplica for a read: a replica of the key whose arc is not
		// pending.
		var says []string
		for _, k := range strings.Split(args["keys"], ",") {
			switch {
			case !m.replicates(k):
				says = append(says, k+": not a replica")
			case m.tr.pendingAt(ring.HashKey(k)):
				says = append(says, k+": refused, "+keyQuarter(k)+" pending")
			default:
				says = append(says, k+": served")
			}
		}
		return says
	case "tick":
		n := 1
		if v, ok := args["n"]; ok {
			var err error
			n, err = strconv.Atoi(v)
			require.NoError(t, err, "n")
		}
		for range n {
			m.now++
			m.tr.tick(m.now)
			for _, e := range m.tr.take() {
				out = append(out, fmt.Sprintf("t=%d %s", m.now, fmtTransferMsg(e)))
			}
		}
		out = append(out, fmt.Sprintf("now t=%d", m.now))
	case "down", "up":
		for _, id := range pos {
			m.down[nodeArg(t, id)] = cmd == "down"
		}
		return nil
	case "data":
		require.NotEmpty(t, pos, "data qN [last] [wait]")
		a := m.quarter(pos[0])
		from := nodeArg(t, args["from"])
		msg := Message{Type: MsgStreamData, Op: m.op(args), ArcStart: a.Start, ArcEnd: a.End, Last: has("last"), Wait: has("wait"), Partial: has("partial")}
		for _, it := range strings.Split(args["items"], ",") {
			if it == "" {
				continue
			}
			k, v, _ := strings.Cut(it, ":")
			msg.Items = append(msg.Items, KeySnapshot{Key: k, Versions: []Version{{Value: []byte(v), Dot: Dot{Node: from, Counter: 1<<32 | 1}}}})
		}
		items, why := m.tr.onData(m.now, from, msg, m.replicates)
		out = append(out, m.ignored(why)...)
		if len(items) > 0 {
			out = append(out, "merge "+fmtBatch(items))
			for _, it := range items {
				m.st.Put(it.Key, it.Versions)
			}
			m.st.writes = nil
		}
	case "request":
		require.NotEmpty(t, pos, "request qN [force]")
		a := m.quarter(pos[0])
		msg := Message{Type: MsgStreamRequest, Op: m.op(args), ArcStart: a.Start, ArcEnd: a.End, Force: has("force")}
		out = append(out, m.ignored(m.tr.onRequest(m.now, nodeArg(t, args["from"]), msg, m.ranges))...)
	case "ack":
		msg := Message{Type: MsgStreamAck, Op: m.op(args)}
		out = append(out, m.ignored(m.tr.onAck(m.now, nodeArg(t, args["from"]), msg, m.ranges))...)
	case "leave":
		if err := m.tr.leave(m.now, 0); err != nil {
			out = append(out, "refused: "+err.Error())
		} else {
			out = append(out, fmt.Sprintf("leaving since t=%d", m.now))
		}
	case "leavecheck":
		atoi := func(k string) int {
			v, ok := args[k]
			if !ok {
				return 0
			}
			i, err := strconv.Atoi(v)
			require.NoError(t, err, k)
			return i
		}
		lc := leaveCheck{now: m.now, onRing: has("onring"), rounds: uint64(atoi("rounds")), hints: atoi("hints")}
		if _, ok := args["view"]; ok {
			lc.viewSize = func() int { return atoi("view") }
		}
		lc.owed = func() []owedArc {
			owed := []owedArc{} // as the node's: never nil once asked
			names := []string{}
			for _, o := range strings.Split(args["owed"], ",") {
				if o == "" {
					continue
				}
				id, q, _ := strings.Cut(o, ":")
				owed = append(owed, owedArc{to: nodeArg(t, id), a: m.quarter(q)})
				names = append(names, q+" to "+id)
			}
			if len(names) == 0 {
				names = append(names, "nothing")
			}
			out = append(out, "owed: "+strings.Join(names, ", "))
			return owed
		}
		m.tr.tickLeave(lc)
		if !m.tr.leaveDone {
			out = append(out, "not done")
		}
	case "dump":
		return m.dump()
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	for _, e := range m.tr.take() {
		out = append(out, fmtTransferMsg(e))
	}
	for _, c := range []struct {
		name   string
		before uint64
		after  uint64
	}{
		{"ranges gained", before.RangesGained, m.stats.RangesGained},
		{"ranges received", before.RangesReceived, m.stats.RangesReceived},
		{"ranges given up", before.RangesGivenUp, m.stats.RangesGivenUp},
		{"handoff retries", before.HandoffRetries, m.stats.HandoffRetries},
		{"handoff keys sent", before.HandoffKeysSent, m.stats.HandoffKeysSent},
		{"streams served", before.StreamsServed, m.stats.StreamsServed},
		{"leave timeouts", before.LeaveTimeouts, m.stats.LeaveTimeouts},
	} {
		if c.after != c.before {
			out = append(out, fmt.Sprintf("  %s +%d", c.name, c.after-c.before))
		}
	}
	if m.tr.leaveDone && !wasDone {
		out = append(out, "  leave done")
	}
	return out
}

// ignored says why the machine ignored a message, if it did.
func (m *transferMachine) ignored(why ignoreReason) []string {
	if why == ignoreNone {
		return nil
	}
	return []string{fmt.Sprintf("ignored: %s (%s)", ignoreNames[why], ignoreWhy[why])}
}

// dump prints the machine's state.
func (m *transferMachine) dump() []string {
	var out []string
	for _, p := range m.tr.pending {
		state := "idle"
		if p.active {
			state = "pulling"
		}
		var pulls []string
		for _, q := range p.pulls {
			s := fmt.Sprintf("op=%d from %v", q.id&seqMask, q.from)
			if q.force {
				s += " forced"
			}
			pulls = append(pulls, s)
		}
		full := ""
		if p.need > 1 || len(p.got) > 0 {
			full = fmt.Sprintf(", full streams %v of %d", p.got, p.need)
		}
		out = append(out, fmt.Sprintf("pending %s from %v (lost %d%s): %s, attempt %d, excused %d, deadline t=%d, pulls [%s]",
			arcName(p.a), p.sources, p.lost, full, state, p.attempt, p.excused, p.deadline, strings.Join(pulls, ", ")))
	}
	var unrec []string
	for _, q := range quarters {
		if m.tr.unreceived.covers(q) {
			unrec = append(unrec, arcName(q))
		} else if m.tr.unreceived.overlaps(q) {
			unrec = append(unrec, "part of "+arcName(q))
		}
	}
	if len(unrec) > 0 {
		out = append(out, "unreceived "+strings.Join(unrec, " "))
	}
	for _, st := range m.tr.serving {
		partial := ""
		if st.partial {
			partial = " (partial)"
		}
		out = append(out, fmt.Sprintf("serving op=%d %s to %v%s: %d of %v sent, deadline t=%d", st.id&seqMask, arcName(st.a), st.to, partial, st.next, st.keys, st.deadline))
	}
	for _, s := range m.tr.served {
		var arcs []string
		for _, q := range quarters {
			if s.set.covers(q) {
				arcs = append(arcs, arcName(q))
			}
		}
		out = append(out, fmt.Sprintf("served %v: %s", s.to, strings.Join(arcs, " ")))
	}
	switch {
	case m.tr.leaveDone:
		out = append(out, "leave done")
	case m.tr.leaving:
		out = append(out, fmt.Sprintf("leaving since t=%d", m.tr.leaveAt))
	}
	if len(out) == 0 {
		out = append(out, "nothing pending, served or serving")
	}
	return out
}
