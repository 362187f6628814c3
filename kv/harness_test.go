package kv

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// The transcripts under testdata/ drive 1-5 nodes by hand. The format is a
// small cousin of cockroachdb/datadriven:
//
//	# comments tell the story
//	<command> [args]
//	----
//	<expected output, no blank lines>
//	<blank line>
//
// Run `go test ./kv -run TestTranscripts -rewrite` to regenerate the
// expected output after a deliberate change, then read the diff.
var rewrite = flag.Bool("rewrite", false, "rewrite kv/testdata transcripts with the actual output")

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runTranscript(t, f)
		})
	}
}

type block struct {
	comments []string
	cmd      string
	expected string
	line     int
}

func parseTranscript(t *testing.T, path string) []block {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	var out []block
	var comments []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "#"):
			comments = append(comments, l)
			continue
		case strings.TrimSpace(l) == "":
			continue
		}
		b := block{comments: comments, cmd: l, line: i + 1}
		comments = nil
		i++
		require.True(t, i < len(lines) && lines[i] == "----", "%s:%d: command %q must be followed by ----", path, b.line, l)
		var exp []string
		for i++; i < len(lines) && lines[i] != ""; i++ {
			exp = append(exp, lines[i])
		}
		b.expected = strings.Join(exp, "\n")
		out = append(out, b)
	}
	require.Empty(t, comments, "%s: trailing comments without a command", path)
	return out
}

func runTranscript(t *testing.T, path string) {
	h := &harness{t: t, ctxs: map[uint64][]byte{}, keys: map[uint64]string{}, isGet: map[uint64]bool{}}
	runBlocks(t, path, func(b block) string {
		h.out.Reset()
		h.run(b.cmd)
		return strings.TrimRight(h.out.String(), "\n")
	})
}

// runMachineTranscript runs a transcript that drives one state machine
// alone (testdata/machines/): step gets each block's command word, its
// positional and key=value arguments, and returns the output lines.
func runMachineTranscript(t *testing.T, path string, step func(cmd string, pos []string, args map[string]string) []string) {
	runBlocks(t, path, func(b block) string {
		fields := strings.Fields(b.cmd)
		pos, args := parseArgs(fields[1:])
		return strings.Join(step(fields[0], pos, args), "\n")
	})
}

// runBlocks runs every block of the transcript at path through run and
// compares its output with the expected one, or with -rewrite writes the
// actual output back (comments and commands kept).
func runBlocks(t *testing.T, path string, run func(b block) string) {
	blocks := parseTranscript(t, path)
	var rewritten strings.Builder
	for _, b := range blocks {
		got := run(b)
		if *rewrite {
			for _, c := range b.comments {
				rewritten.WriteString(c + "\n")
			}
			fmt.Fprintf(&rewritten, "%s\n----\n", b.cmd)
			if got != "" {
				rewritten.WriteString(got + "\n")
			}
			rewritten.WriteString("\n")
			continue
		}
		require.Equal(t, b.expected, got, "%s:%d: %s", path, b.line, b.cmd)
	}
	if *rewrite {
		require.NoError(t, os.WriteFile(path, []byte(strings.TrimRight(rewritten.String(), "\n")+"\n"), 0o644))
	}
}

// harness is a hand-driven cluster: nodes, stores, per-node clock skew, a
// FIFO of in-flight messages, partitions and crashes.
type harness struct {
	t        *testing.T
	cfg      Config
	ring     *ring.Ring
	ids      []sim.NodeID
	nodes    map[sim.NodeID]*Node // nil entry: crashed
	stores   map[sim.NodeID]*MemStore
	skew     map[sim.NodeID]int64
	group    map[sim.NodeID]int // partition group; nodes in different groups cannot talk
	now      int64              // ticks
	net      []flight
	reqID    uint64
	ctxs     map[uint64][]byte // context of the reply to request id
	keys     map[uint64]string // key of request id
	isGet    map[uint64]bool   // request id is a get
	out      strings.Builder
	quiet    bool // run: print nothing but the summary
	injected uint64
	counts   [msgTypeEnd + 1]int // run: messages delivered by type; [msgTypeEnd] counts lost ones
}

type flight struct {
	from, to sim.NodeID
	msg      Message
}

const nsPerTick = int64(time.Millisecond)

func (h *harness) printf(format string, args ...any) {
	if !h.quiet {
		fmt.Fprintf(&h.out, format+"\n", args...)
	}
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf(format, args...)
}

// args splits "cmd n1 k=v x=y" into positional and key=value arguments.
func parseArgs(fields []string) (pos []string, kv map[string]string) {
	kv = map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	return pos, kv
}

func (h *harness) node(s string) sim.NodeID {
	h.t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "n"), 10, 32)
	if err != nil {
		h.fatalf("bad node %q", s)
	}
	return sim.NodeID(v)
}

func (h *harness) intArg(kv map[string]string, k string, def int) int {
	h.t.Helper()
	s, ok := kv[k]
	if !ok {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		h.fatalf("bad %s=%q", k, s)
	}
	return v
}

func (h *harness) run(cmd string) {
	h.t.Helper()
	fields := strings.Fields(cmd)
	pos, kv := parseArgs(fields[1:])
	switch fields[0] {
	case "cluster":
		h.cluster(kv)
	case "preflist":
		pl, err := h.ring.PreferenceList(kv["k"], h.cfg.N, nil)
		require.NoError(h.t, err)
		fb, err := h.ring.Fallbacks(kv["k"], h.cfg.N, len(h.ids)-h.cfg.N, nil)
		require.NoError(h.t, err)
		h.printf("%s: preference list %v, fallbacks %v", kv["k"], pl, fb)
	case "put", "get", "delete":
		h.submit(fields[0], h.node(pos[0]), kv)
	case "deliver":
		h.deliver(pos, kv)
	case "drop":
		for _, f := range h.take(kv, len(h.net)) {
			h.printf("dropped %s", h.fmtFlight(f))
		}
	case "tick":
		h.tick(pos, kv)
	case "run":
		h.runTicks(h.intArg(kv, "n", 1))
	case "crash":
		id := h.node(pos[0])
		lost := h.stores[id].Unsynced()
		h.stores[id].Crash()
		h.nodes[id] = nil
		h.printf("%v crashed; %d unsynced writes lost", id, lost)
	case "restart":
		id := h.node(pos[0])
		n, err := NewNode(id, h.cfg, h.ring, h.stores[id], h.clock(id), sim.NewRNG(7).Fork(id.String()))
		require.NoError(h.t, err)
		n.SetTracer(h.traceLine)
		h.nodes[id] = n
		h.printf("%v restarted (incarnation %d)", id, n.Incarnation())
		h.collect(id, "  ")
	case "skew":
		id := h.node(pos[0])
		d, err := time.ParseDuration(pos[1])
		require.NoError(h.t, err)
		h.skew[id] = int64(d)
		h.printf("%v wall clock now %v", id, time.Duration(h.clock(id)()))
	case "partition":
		// partition n1,n2 n3: each positional argument is a group.
		clear(h.group)
		for g, p := range pos {
			for _, s := range strings.Split(p, ",") {
				h.group[h.node(s)] = g + 1
			}
		}
		h.printf("partition %s", strings.Join(pos, " | "))
	case "heal":
		clear(h.group)
		h.printf("healed")
	case "net":
		for _, f := range h.net {
			h.printf("%s", h.fmtFlight(f))
		}
	case "dump":
		ids := h.ids
		if len(pos) > 0 {
			ids = nil
			for _, p := range pos {
				ids = append(ids, h.node(p))
			}
		}
		for _, id := range ids {
			h.dump(id)
		}
	case "stats":
		h.stats(h.node(pos[0]), pos[1:])
	case "suspects":
		for _, id := range h.ids {
			if n := h.nodes[id]; n != nil {
				h.printf("%v suspects %v", id, n.Suspects())
			}
		}
	case "antientropy":
		// antientropy n1 n2 k=a: n1 exchanges the range holding a with n2.
		id, peer := h.node(pos[0]), h.node(pos[1])
		if !h.nodes[id].StartAntiEntropy(ring.HashKey(kv["k"]), peer) {
			h.printf("%v cannot start an exchange of the range of %s with %v", id, kv["k"], peer)
			return
		}
		h.collect(id, "")
	case "views":
		for _, id := range h.ids {
			if n := h.nodes[id]; n != nil {
				h.printf("%v view: %s", id, fmtView(n.View()))
			}
		}
	case "trees":
		for _, id := range h.ids {
			if n := h.nodes[id]; n != nil {
				if n.Trees() == nil {
					h.printf("%v keeps no trees", id)
				}
				for _, tr := range n.Trees() {
					h.printf("%v %s root=%016x keys=%d", id, fmtArc(tr.Start, tr.End), tr.Root, tr.Keys)
				}
			}
		}
	case "inject":
		// inject write n1 n2 k=c v=2: put a replica write from n1 to n2 on
		// the network, as a coordinator with another ring would send it.
		from, to := h.node(pos[1]), h.node(pos[2])
		h.injected++
		v := Version{Value: []byte(kv["v"]), Timestamp: h.now * nsPerTick, Dot: Dot{Node: from, Counter: 1<<32 | (1000 + h.injected)}}
		f := flight{from: from, to: to, msg: Message{Type: MsgWrite, Op: 1<<62 + h.injected, Key: kv["k"], Versions: []Version{v}}}
		h.net = append(h.net, f)
		h.printf("  %s", h.fmtFlight(f))
	case "join":
		h.join(h.node(pos[0]))
	case "leave":
		h.leave(h.node(pos[0]))
	case "leavedone":
		id := h.node(pos[0])
		h.printf("%v leave done: %v", id, h.nodes[id].LeaveDone())
	case "stop":
		id := h.node(pos[0])
		h.nodes[id] = nil
		h.printf("%v stopped", id)
	case "pending":
		for _, id := range h.ids {
			if n := h.nodes[id]; n != nil {
				h.printf("%v: %d arcs pending", id, n.HandoffPending())
			}
		}
	case "rings":
		for _, id := range h.ids {
			if n := h.nodes[id]; n != nil {
				h.printf("%v routes with %v", id, n.Ring().Nodes())
			}
		}
	default:
		h.fatalf("unknown command %q", fields[0])
	}
}

func (h *harness) cluster(kv map[string]string) {
	h.net = nil
	c := DefaultConfig()
	c.N, c.W, c.R = h.intArg(kv, "N", 3), h.intArg(kv, "W", 2), h.intArg(kv, "R", 2)
	// Transcripts about other mechanisms stay free of background traffic:
	// anti-entropy runs only when a transcript asks for it (ae=<ticks>).
	c.AntiEntropyIntervalTicks = 0
	modes := map[string]func(string){
		"quorum":       func(s string) { require.NoError(h.t, c.Quorum.UnmarshalText([]byte(s))) },
		"resolve":      func(s string) { require.NoError(h.t, c.Resolve.UnmarshalText([]byte(s))) },
		"repair":       func(s string) { require.NoError(h.t, c.ReadRepair.UnmarshalText([]byte(s))) },
		"hintpolicy":   func(s string) { require.NoError(h.t, c.HintPolicy.UnmarshalText([]byte(s))) },
		"handoff":      func(s string) { c.HintedHandoff = s == "on" },
		"rangehandoff": func(s string) { c.RangeHandoff = s == "on" },
		"gossip": func(s string) {
			if s == "on" {
				c.Membership = MembershipGossip
			}
		},
		"sync":    func(s string) { c.SyncBeforeAck = s == "on" },
		"forward": func(s string) { c.ForwardToPreferred = s == "on" },
	}
	for k, f := range modes {
		if v, ok := kv[k]; ok {
			f(v)
		}
	}
	ints := map[string]*int{
		"timeout": &c.RequestTimeoutTicks, "suspect": &c.SuspectAfterTicks, "probe": &c.ProbeIntervalTicks,
		"replay": &c.HintReplayIntervalTicks, "grace": &c.TombstoneGraceTicks, "maxhints": &c.MaxHints,
		"maxsiblings": &c.MaxSiblings, "syncevery": &c.SyncIntervalTicks, "maxvalue": &c.MaxValueBytes,
		"ae": &c.AntiEntropyIntervalTicks, "depth": &c.MerkleDepth, "fanout": &c.MerkleFanout,
		"batch": &c.TransferBatchKeys, "handofftimeout": &c.HandoffTimeoutTicks, "leavetimeout": &c.LeaveTimeoutTicks,
	}
	for k, p := range ints {
		*p = h.intArg(kv, k, *p)
	}
	h.cfg = c
	count := h.intArg(kv, "nodes", 3)
	var members []ring.Member
	h.ids = nil
	for i := 1; i <= count; i++ {
		h.ids = append(h.ids, sim.NodeID(i))
		members = append(members, ring.Member{ID: sim.NodeID(i), Weight: 1})
	}
	r, err := ring.New(ring.Config{Seed: 1, VNodes: h.intArg(kv, "vnodes", 16)}, members...)
	require.NoError(h.t, err)
	h.ring = r
	h.nodes, h.stores = map[sim.NodeID]*Node{}, map[sim.NodeID]*MemStore{}
	h.skew, h.group = map[sim.NodeID]int64{}, map[sim.NodeID]int{}
	for _, id := range h.ids {
		h.stores[id] = NewMemStore()
		n, err := NewNode(id, c, r, h.stores[id], h.clock(id), sim.NewRNG(7).Fork(id.String()))
		require.NoError(h.t, err)
		n.SetTracer(h.traceLine)
		h.nodes[id] = n
		h.ready(id) // the first incarnation: nothing to send yet
	}
	h.printf("%d nodes, N=%d W=%d R=%d, %v quorum, %v, read repair %v, hinted handoff %v, sync before ack %v",
		count, c.N, c.W, c.R, c.Quorum, c.Resolve, c.ReadRepair, onOff(c.HintedHandoff), onOff(c.SyncBeforeAck))
	if c.AntiEntropyIntervalTicks > 0 || c.Membership == MembershipGossip {
		h.printf("anti-entropy every %d ticks (trees %d^%d), %v membership, range handoff %v",
			c.AntiEntropyIntervalTicks, c.MerkleFanout, c.MerkleDepth, c.Membership, onOff(c.RangeHandoff))
	}
}

// join starts node id with an empty store. Oracle membership: it starts
// with the ring before the join, then every node (it too) gets the ring
// with it. Gossip: it starts with the current ring as its bootstrap view
// and claims its tokens.
func (h *harness) join(id sim.NodeID) {
	h.stores[id] = NewMemStore()
	n, err := NewNode(id, h.cfg, h.ring, h.stores[id], h.clock(id), sim.NewRNG(7).Fork(id.String()))
	require.NoError(h.t, err)
	n.SetTracer(h.traceLine)
	h.nodes[id] = n
	h.ready(id) // the first incarnation: nothing to send yet
	h.ids = append(h.ids, id)
	if h.cfg.Membership == MembershipGossip {
		require.NoError(h.t, n.Join())
		h.printf("%v joins (bootstrap view %v)", id, h.ring.Nodes())
		return
	}
	r, err := h.ring.Add(ring.Member{ID: id, Weight: 1})
	require.NoError(h.t, err)
	h.ring = r
	for _, x := range h.ids {
		if n := h.nodes[x]; n != nil {
			n.SetRing(r)
		}
	}
	h.printf("%v joins; every node routes with %v", id, r.Nodes())
	for _, x := range h.ids {
		if n := h.nodes[x]; n != nil && n.HandoffPending() > 0 {
			h.printf("%v: %d arcs pending", x, n.HandoffPending())
		}
	}
}

// leave starts node id's departure (oracle: every node, it too, gets the
// ring without it).
func (h *harness) leave(id sim.NodeID) {
	if h.cfg.Membership == MembershipOracle {
		r, err := h.ring.Remove(id)
		require.NoError(h.t, err)
		h.ring = r
		for _, x := range h.ids {
			if n := h.nodes[x]; n != nil {
				n.SetRing(r)
			}
		}
	}
	require.NoError(h.t, h.nodes[id].Leave())
	h.printf("%v leaves; it routes with %v", id, h.nodes[id].Ring().Nodes())
	for _, x := range h.ids {
		if n := h.nodes[x]; n != nil && n.HandoffPending() > 0 {
			h.printf("%v: %d arcs pending", x, n.HandoffPending())
		}
	}
}

// fmtView formats membership entries: ids, with a status other than alive
// and "unclaimed" for a node that owns no tokens yet.
func fmtView(view []membership.Entry) string {
	var es []string
	for _, e := range view {
		x := e.ID.String()
		if e.Status != membership.Alive {
			x += ":" + e.Status.String()
		}
		if len(e.Claims) == 0 {
			x += ":unclaimed"
		}
		es = append(es, x)
	}
	return "[" + strings.Join(es, " ") + "]"
}

// fmtArc formats an arc by the top 16 bits of its ends.
func fmtArc(start, end uint64) string { return fmt.Sprintf("(%04x..,%04x..]", start>>48, end>>48) }

func fmtItems(items []KeySnapshot) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.Key + "=" + fmtVersions(it.Versions)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (h *harness) clock(id sim.NodeID) func() int64 {
	return func() int64 { return h.now*nsPerTick + h.skew[id] }
}

func (h *harness) submit(op string, id sim.NodeID, kv map[string]string) {
	h.reqID++
	req := Request{ID: h.reqID, Key: kv["k"], N: h.intArg(kv, "n", 0), W: h.intArg(kv, "w", 0), R: h.intArg(kv, "r", 0)}
	switch op {
	case "put":
		req.Op, req.Value = Put, []byte(kv["v"])
	case "get":
		req.Op = Get
	case "delete":
		req.Op = Delete
	}
	h.keys[req.ID] = req.Key
	h.isGet[req.ID] = req.Op == Get
	if c, ok := kv["ctx"]; ok {
		ref, err := strconv.ParseUint(strings.TrimPrefix(c, "#"), 10, 64)
		require.NoError(h.t, err)
		req.Context = h.ctxs[ref]
		if req.Context == nil {
			h.fatalf("request #%d returned no context", ref)
		}
	}
	n := h.nodes[id]
	if n == nil {
		h.fatalf("%v is down", id)
	}
	h.printf("#%d %v %s", req.ID, id, fmtRequest(req))
	n.Submit(req)
	h.collect(id, "  ")
}

func fmtRequest(r Request) string {
	s := fmt.Sprintf("%v %s", r.Op, r.Key)
	if r.Op == Put {
		s += "=" + string(r.Value)
	}
	if len(r.Context) > 0 {
		c, _ := DecodeContext(r.Key, r.Context)
		s += fmt.Sprintf(" ctx=%v", c)
	}
	return s
}

// ready takes a node's Ready and applies its writes to the node's store,
// as a driver must before it sends anything.
func (h *harness) ready(id sim.NodeID) Ready {
	rd := h.nodes[id].Ready()
	rd.Apply(h.stores[id])
	return rd
}

// collect moves a node's Ready output into the network and prints it.
func (h *harness) collect(id sim.NodeID, indent string) {
	if h.nodes[id] == nil {
		return
	}
	h.emit(id, h.ready(id), indent)
}

// emit moves rd's messages into the network and prints them and its
// replies.
func (h *harness) emit(id sim.NodeID, rd Ready, indent string) {
	for _, e := range rd.Messages {
		f := flight{from: id, to: e.To, msg: e.Msg}
		h.net = append(h.net, f)
		h.printf("%s%s", indent, h.fmtFlight(f))
	}
	for _, r := range rd.Replies {
		if len(r.Context) > 0 {
			h.ctxs[r.ID] = r.Context
		}
		h.printf("%sreply #%d from %v: %s", indent, r.ID, id, h.fmtReply(r))
	}
}

func (h *harness) fmtReply(r Reply) string {
	s := r.Status.String()
	if r.Status == OK && h.isGet[r.ID] {
		if r.Found {
			vals := make([]string, len(r.Values))
			for i, v := range r.Values {
				vals[i] = string(v)
			}
			s += fmt.Sprintf(" [%s]", strings.Join(vals, " "))
		} else {
			s += " not found"
		}
	}
	if r.Context != nil {
		c, err := DecodeContext(h.keys[r.ID], r.Context)
		require.NoError(h.t, err)
		s += fmt.Sprintf(" ctx#%d=%v", r.ID, c)
	}
	if r.Coordinator != 0 {
		s += fmt.Sprintf(" (coordinator %v)", r.Coordinator)
	}
	if r.Err != "" {
		s += ": " + r.Err
	}
	return s
}

func fmtVersions(vs []Version) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		val := string(v.Value)
		if v.Tombstone {
			val = "<tombstone>"
		}
		s := fmt.Sprintf("%s %v@%v", val, v.Dot, time.Duration(v.Timestamp))
		if len(v.Context) > 0 {
			s += fmt.Sprintf(" ctx=%v", v.Context)
		}
		parts[i] = s
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (h *harness) fmtFlight(f flight) string {
	m := f.msg
	s := fmt.Sprintf("%v->%v %v", f.from, f.to, m.Type)
	if m.Repair {
		s += "(repair)"
	}
	if m.Key != "" {
		s += " " + m.Key
	}
	if m.Hinted {
		s += fmt.Sprintf(" hint-for=%v", m.HintFor)
	}
	switch m.Type {
	case MsgWrite, MsgHandoff:
		s += " " + fmtVersions(m.Versions)
	case MsgReadReply:
		if !m.Refused {
			s += " " + fmtVersions(m.Versions)
		}
	case MsgForward:
		s += " " + fmtRequest(*m.Req)
	case MsgForwardReply:
		s += " " + h.fmtReply(*m.Reply)
	case MsgTreeRequest:
		q := m.Tree
		s += " " + fmtArc(q.Range.Start, q.Range.End) + " " + q.Kind.String()
		if len(q.Indexes) > 0 {
			s += fmt.Sprintf(" level=%d %v", q.Level, q.Indexes)
		}
	case MsgTreeReply:
		p := m.TreeReply
		switch {
		case p.Refused:
			s += " refused"
		case p.Equal:
			s += " equal"
		case len(p.Hashes) > 0:
			s += fmt.Sprintf(" %d hashes at level %d", len(p.Hashes), p.Level)
		default:
			keys := make([]string, len(p.Entries))
			for i, e := range p.Entries {
				keys[i] = e.Key
			}
			s += fmt.Sprintf(" entries %v", keys)
		}
	case MsgRepair, MsgRepairReply:
		s += " " + fmtItems(m.Items)
	case MsgStreamRequest:
		s += " " + fmtArc(m.ArcStart, m.ArcEnd)
		if m.Force {
			s += " force"
		}
	case MsgStreamData:
		s += " " + fmtArc(m.ArcStart, m.ArcEnd)
		switch {
		case m.Wait:
			s += " wait"
		default:
			s += " " + fmtItems(m.Items)
			if m.Last {
				s += " last"
			}
		}
	case MsgGossip:
		s += fmt.Sprintf(" %v %s", m.Gossip.Kind, fmtView(m.Gossip.Entries))
	}
	if m.Refused {
		s += " REFUSED: " + m.Err
	}
	return s
}

func (h *harness) reachable(from, to sim.NodeID) bool {
	return h.group[from] == h.group[to]
}

// take removes and returns up to limit in-flight messages matching the
// from=, to= and type= filters, in FIFO order.
func (h *harness) take(kv map[string]string, limit int) []flight {
	var out, keep []flight
	for _, f := range h.net {
		ok := len(out) < limit
		if s, has := kv["from"]; has && f.from != h.node(s) {
			ok = false
		}
		if s, has := kv["to"]; has && f.to != h.node(s) {
			ok = false
		}
		if s, has := kv["type"]; has && f.msg.Type.String() != s {
			ok = false
		}
		if ok {
			out = append(out, f)
		} else {
			keep = append(keep, f)
		}
	}
	h.net = keep
	return out
}

// deliver delivers matching in-flight messages. "deliver all" repeats
// until the network is empty (bounded).
// traceLine prints why a node ignored a message, under the delivery.
func (h *harness) traceLine(l string) { h.printf("  %s", l) }

func (h *harness) deliver(pos []string, kv map[string]string) {
	all := slices.Contains(pos, "all")
	for round := 0; ; round++ {
		require.Less(h.t, round, 1000, "deliver all did not settle")
		batch := h.take(kv, h.intArg(kv, "count", len(h.net)))
		if len(batch) == 0 {
			return
		}
		for _, f := range batch {
			n := h.nodes[f.to]
			switch {
			case n == nil:
				h.printf("%s (lost: %v is down)", h.fmtFlight(f), f.to)
				h.counts[msgTypeEnd]++
				continue
			case !h.reachable(f.from, f.to):
				h.printf("%s (lost: partitioned)", h.fmtFlight(f))
				h.counts[msgTypeEnd]++
				continue
			}
			h.printf("%s", h.fmtFlight(f))
			h.counts[f.msg.Type]++
			n.Step(f.from, f.msg)
			h.collect(f.to, "  ")
		}
		if !all {
			return
		}
	}
}

func (h *harness) tick(pos []string, kv map[string]string) {
	count := h.intArg(kv, "n", 1)
	ids := h.ids
	if len(pos) > 0 {
		ids = nil
		for _, p := range pos {
			ids = append(ids, h.node(p))
		}
	}
	for i := 0; i < count; i++ {
		h.now++
		for _, id := range ids {
			if n := h.nodes[id]; n != nil {
				n.Tick()
				if rd := h.ready(id); len(rd.Messages) > 0 || len(rd.Replies) > 0 {
					h.printf("tick %d %v:", h.now, id)
					h.emit(id, rd, "  ")
				}
			}
		}
	}
	h.printf("time %d", h.now)
}

// runTicks runs n ticks, delivering everything in flight after each, and
// prints only what was delivered, by message type, and the replies.
func (h *harness) runTicks(n int) {
	h.counts = [msgTypeEnd + 1]int{}
	h.quiet = true
	for range n {
		h.tick(nil, map[string]string{})
		h.deliver([]string{"all"}, map[string]string{})
	}
	h.quiet = false
	var parts []string
	for t := MsgType(1); t < msgTypeEnd; t++ {
		if c := h.counts[t]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %v", c, t))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	line := fmt.Sprintf("time %d: delivered %s", h.now, strings.Join(parts, ", "))
	if lost := h.counts[msgTypeEnd]; lost > 0 {
		line += fmt.Sprintf("; %d lost", lost)
	}
	h.printf("%s", line)
}

func (h *harness) dump(id sim.NodeID) {
	n := h.nodes[id]
	if n == nil {
		h.printf("%v: down", id)
		return
	}
	s := n.Snapshot()
	var keys []string
	for _, k := range s.Keys {
		keys = append(keys, k.Key+"="+fmtVersions(k.Versions))
	}
	line := fmt.Sprintf("%v: %s", id, strings.Join(keys, " "))
	if len(keys) == 0 {
		line = fmt.Sprintf("%v: empty", id)
	}
	h.printf("%s", line)
	for _, hi := range s.Hints {
		h.printf("%v: hint for %v: %s=%s", id, hi.Owner, hi.Key, fmtVersions(hi.Versions))
	}
}

func (h *harness) stats(id sim.NodeID, fields []string) {
	n := h.nodes[id]
	if n == nil {
		h.fatalf("%v is down", id)
	}
	st := n.Stats()
	vals := map[string]uint64{
		"ok": st.RepliesOK, "fail": st.RepliesFail, "timeout": st.RepliesInfo,
		"hints-stored": st.HintsStored, "hints-replayed": st.HintsReplayed, "hints-delivered": st.HintsDelivered,
		"hints-evicted": st.HintsEvicted, "hints-rejected": st.HintsRejected, "coordinator-hints": st.CoordinatorHints,
		"read-repairs": st.ReadRepairs, "purged": st.TombstonesPurged, "ignored": st.IgnoredTotal(),
		"suspicions": st.Suspicions, "forwarded": st.Forwarded,
		"ae-exchanges": st.AntiEntropyExchanges, "ae-completed": st.AntiEntropyCompleted, "ae-messages": st.AntiEntropyMessages,
		"ae-keys-differing": st.AntiEntropyKeysDiffering, "ae-keys-repaired": st.AntiEntropyKeysRepaired,
		"ranges-gained": st.RangesGained, "ranges-received": st.RangesReceived, "streams-served": st.StreamsServed,
		"handoff-keys-sent": st.HandoffKeysSent, "handoff-keys-received": st.HandoffKeysReceived,
		"not-replica-refusals": st.NotReplicaRefusals, "ring-changes": st.RingChanges, "gossip-rounds": st.GossipRounds,
	}
	var parts []string
	for _, f := range fields {
		v, ok := vals[f]
		if !ok {
			h.fatalf("unknown stat %q", f)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", f, v))
	}
	h.printf("%v: %s", id, strings.Join(parts, " "))
}
