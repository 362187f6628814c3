package kv

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

// TestCoordinatorTranscript drives the coordinator state machine alone
// (testdata/machines/coordinator.txt): no ring, no network, no replicas
// but the transcript, which answers for them. It is node n1; every key has
// the same preference order, the ring's members as listed (the first N
// are the home replicas, the rest fallbacks). n1 is a replica when it is
// in that list: its local replica is a plain map.
//
//	coordinator ring=n1,n2,n3,n4 n=3 w=2 r=2 quorum=strict|sloppy resolve=lww|vclock
//	            repair=off|async|blocking timeout=4 handoff=on|off siblings=3
//	down n3 / up n3                          what n1 believes of a peer
//	put key=a v=x [wall=100] [ctx=#2]        a client request (get, delete too);
//	                                         ctx: the context of reply #2
//	local key=a v=x dot=n2:1 ts=5            n1's own replica holds this version
//	ack from=n2 op=2 [refused=why]           a replica's MsgWriteAck for op 2
//	reply from=n2 op=2 [v=x dot=n2:1 ts=5] [refused=why]   a replica's MsgReadReply
//	forward-reply from=n2 op=1 status=ok     the answer to a forwarded request
//	tick [n=3]                               ticks (deadlines)
//	ops                                      the operations in flight
//
// Op ids and dot counters are printed without their incarnation (1).
// Every command prints the messages the coordinator sends, the client
// replies it makes, and then what it asked of its node: local applies,
// local reads, forgotten versions.
func TestCoordinatorTranscript(t *testing.T) {
	var cm *coordMachine
	runMachineTranscript(t, "testdata/machines/coordinator.txt", func(cmd string, pos []string, args map[string]string) []string {
		var out []string
		if cmd == "coordinator" {
			cm = newCoordMachine(t, args)
			out = cm.describe()
		} else {
			require.NotNil(t, cm, "start with a coordinator command")
			out = cm.run(t, cmd, pos, args)
		}
		// Counters in incarnation 1 print as n1:5, not n1:1.5.
		for i := range out {
			out[i] = strings.ReplaceAll(out[i], ":1.", ":")
		}
		return out
	})
}

// coordMachine is the coordinator with the node's parts it needs replaced
// by plain fakes (coordHost): a fixed preference order, a set of peers
// believed down, a map for the local replica and its hints, a settable
// wall clock and a counter. It logs every call that does something.
type coordMachine struct {
	c     coordinator
	cfg   Config
	stats Stats
	fmt   *harness // formats messages and replies the way kv's transcripts do

	ring  []sim.NodeID
	down  map[sim.NodeID]bool
	data  map[string][]Version
	hints map[hintKey][]Version
	wallT int64
	seq   uint64
	reqID uint64
	log   []string
}

func newCoordMachine(t *testing.T, args map[string]string) *coordMachine {
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
	cfg.N, cfg.W, cfg.R = atoi("n", cfg.N), atoi("w", cfg.W), atoi("r", cfg.R)
	cfg.RequestTimeoutTicks, cfg.MaxSiblings = atoi("timeout", cfg.RequestTimeoutTicks), atoi("siblings", cfg.MaxSiblings)
	if v, ok := args["quorum"]; ok {
		require.NoError(t, cfg.Quorum.UnmarshalText([]byte(v)))
	}
	if v, ok := args["resolve"]; ok {
		require.NoError(t, cfg.Resolve.UnmarshalText([]byte(v)))
	}
	if v, ok := args["repair"]; ok {
		require.NoError(t, cfg.ReadRepair.UnmarshalText([]byte(v)))
	}
	if v, ok := args["handoff"]; ok {
		cfg.HintedHandoff = v == "on"
	}
	m := &coordMachine{cfg: cfg, down: map[sim.NodeID]bool{}, data: map[string][]Version{}, hints: map[hintKey][]Version{},
		fmt: &harness{t: t, isGet: map[uint64]bool{}, keys: map[uint64]string{}, ctxs: map[uint64][]byte{}}}
	for _, s := range strings.Split(args["ring"], ",") {
		m.ring = append(m.ring, nodeArg(t, s))
	}
	m.c = newCoordinator(1, &m.cfg, &m.stats, m)
	return m
}

// describe prints the configuration the machine runs with.
func (m *coordMachine) describe() []string {
	c := m.cfg
	return []string{fmt.Sprintf("n1 coordinates: preference order %v, N=%d W=%d R=%d, %v quorum, %v, read repair %v, hinted handoff %s, timeout %d ticks",
		m.ring, c.N, c.W, c.R, c.Quorum, c.Resolve, c.ReadRepair, onOff(c.HintedHandoff), c.RequestTimeoutTicks)}
}

// The fake node (coordHost).

func (m *coordMachine) preferenceList(key string, n int, dst []sim.NodeID) ([]sim.NodeID, error) {
	if n > len(m.ring) {
		return nil, fmt.Errorf("N=%d exceeds the %d members", n, len(m.ring))
	}
	return append(dst[:0], m.ring[:n]...), nil
}

func (m *coordMachine) fallbacks(key string, n int, dst []sim.NodeID) []sim.NodeID {
	return append(dst[:0], m.ring[n:]...)
}

func (m *coordMachine) ringLen() int { return len(m.ring) }

func (m *coordMachine) believedDown(id sim.NodeID) bool { return id != 1 && m.down[id] }

func (m *coordMachine) applyWrite(key string, vs []Version, hinted bool, hintFor sim.NodeID) error {
	where, cur := "data", m.data[key]
	if hinted && hintFor != 1 {
		where, cur = fmt.Sprintf("hint for %v", hintFor), m.hints[hintKey{hintFor, key}]
	}
	merged := reconcile(m.cfg.Resolve, cur, vs)
	if len(merged) > m.cfg.MaxSiblings {
		err := fmt.Errorf("%w: %d versions", ErrTooManySiblings, len(merged))
		m.log = append(m.log, fmt.Sprintf("n1 applies %s %s to its %s: refused: %v", key, fmtVersions(vs), where, err))
		return err
	}
	if hinted && hintFor != 1 {
		m.hints[hintKey{hintFor, key}] = merged
	} else {
		m.data[key] = merged
	}
	m.log = append(m.log, fmt.Sprintf("n1 applies %s %s to its %s: now %s", key, fmtVersions(vs), where, fmtVersions(merged)))
	return nil
}

func (m *coordMachine) checkReplica(key string, read bool) error { return nil }

func (m *coordMachine) readLocal(key string, hinted bool, hintFor sim.NodeID) []Version {
	vs := m.data[key]
	if hinted && hintFor != 1 {
		vs = m.hints[hintKey{hintFor, key}]
	}
	m.log = append(m.log, fmt.Sprintf("n1 reads %s locally: %s", key, fmtVersions(vs)))
	return vs
}

func (m *coordMachine) localVersions(key string) []Version {
	vs := m.data[key]
	for _, id := range m.ring {
		vs = reconcile(m.cfg.Resolve, vs, m.hints[hintKey{id, key}])
	}
	return vs
}

func (m *coordMachine) wall() int64 { return m.wallT }

func (m *coordMachine) next() uint64 { m.seq++; return 1<<32 | m.seq }

func (m *coordMachine) forget(vs []Version) {
	m.log = append(m.log, "n1 forgets "+fmtVersions(vs))
}

// version parses v=x dot=nX:C ts=T (an empty reply without v=).
func versionArg(t *testing.T, args map[string]string) []Version {
	if _, ok := args["v"]; !ok {
		return nil
	}
	dot := strings.Split(args["dot"], ":")
	require.Len(t, dot, 2, "dot=nX:C")
	c, err := strconv.ParseUint(dot[1], 10, 32)
	require.NoError(t, err)
	ts, err := strconv.ParseInt(args["ts"], 10, 64)
	require.NoError(t, err)
	v := Version{Value: []byte(args["v"]), Timestamp: ts, Dot: Dot{Node: nodeArg(t, dot[0]), Counter: 1<<32 | c}}
	if args["v"] == "-" {
		v.Value, v.Tombstone = nil, true
	}
	return []Version{v}
}

func opArg(t *testing.T, args map[string]string) uint64 {
	op, err := strconv.ParseUint(args["op"], 10, 32)
	require.NoError(t, err, "op=N")
	if op == 0 {
		return 0 // an asynchronous repair's ack
	}
	return 1<<32 | op
}

func (m *coordMachine) run(t *testing.T, cmd string, pos []string, args map[string]string) []string {
	var out []string
	ignored := ignoreNone
	switch cmd {
	case "down", "up":
		for _, s := range pos {
			m.down[nodeArg(t, s)] = cmd == "down"
		}
		var down []sim.NodeID
		for _, id := range m.ring {
			if m.believedDown(id) {
				down = append(down, id)
			}
		}
		return []string{fmt.Sprintf("n1 believes down: %v", down)}
	case "put", "get", "delete":
		if v, ok := args["wall"]; ok {
			w, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			m.wallT = w
		}
		m.reqID++
		req := Request{ID: m.reqID, Key: args["key"]}
		switch cmd {
		case "put":
			req.Op, req.Value = Put, []byte(args["v"])
			if v, ok := args["ctx"]; ok {
				id, err := strconv.ParseUint(strings.TrimPrefix(v, "#"), 10, 64)
				require.NoError(t, err, "ctx=#N: the context of reply #N")
				req.Context = m.fmt.ctxs[id]
			}
		case "get":
			req.Op = Get
			m.fmt.isGet[req.ID] = true
		case "delete":
			req.Op = Delete
		}
		m.fmt.keys[req.ID] = req.Key
		out = append(out, fmt.Sprintf("#%d %s", req.ID, fmtRequest(req)))
		m.c.submit(req)
	case "local":
		m.data[args["key"]] = reconcile(m.cfg.Resolve, m.data[args["key"]], versionArg(t, args))
		return []string{fmt.Sprintf("n1 holds %s %s", args["key"], fmtVersions(m.data[args["key"]]))}
	case "ack":
		msg := Message{Type: MsgWriteAck, Op: opArg(t, args), Key: args["key"]}
		if why, ok := args["refused"]; ok {
			msg.Refused, msg.Err = true, why
		}
		ignored = m.c.stepWriteAck(nodeArg(t, args["from"]), msg)
	case "reply":
		msg := Message{Type: MsgReadReply, Op: opArg(t, args), Versions: versionArg(t, args)}
		if why, ok := args["refused"]; ok {
			msg.Refused, msg.Err = true, why
		}
		ignored = m.c.stepReadReply(nodeArg(t, args["from"]), msg)
	case "forward-reply":
		st, ok := map[string]Status{"ok": OK, "fail": Fail, "info": Info}[args["status"]]
		require.True(t, ok, "status=ok|fail|info")
		o, _ := m.c.opIdx.Get(opArg(t, args))
		rep := Reply{Status: st, Coordinator: nodeArg(t, args["from"])}
		if o != nil {
			rep.ID = o.req.ID
		}
		ignored = m.c.stepForwardReply(nodeArg(t, args["from"]), Message{Type: MsgForwardReply, Op: opArg(t, args), Reply: &rep})
	case "tick":
		n := 1
		if v, ok := args["n"]; ok {
			var err error
			n, err = strconv.Atoi(v)
			require.NoError(t, err)
		}
		for range n {
			m.c.tick(m.c.now + 1)
			out = append(out, m.output(ignoreNone)...)
		}
		out = append([]string{fmt.Sprintf("tick %d", m.c.now)}, out...)
		return out
	case "ops":
		for _, o := range m.c.ops {
			out = append(out, m.fmtOp(o))
		}
		if len(out) == 0 {
			out = append(out, "no operations")
		}
		return out
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	return append(out, m.output(ignored)...)
}

// output prints what the coordinator produced since the last input.
func (m *coordMachine) output(ignored ignoreReason) []string {
	var out []string
	if ignored != ignoreNone {
		out = append(out, fmt.Sprintf("ignored: %s (%s)", ignoreNames[ignored], ignoreWhy[ignored]))
	}
	msgs, replies := m.c.take()
	for _, e := range msgs {
		s := m.fmt.fmtFlight(flight{from: 1, to: e.To, msg: e.Msg})
		if e.Msg.Op != 0 {
			s += fmt.Sprintf(" op=%d", e.Msg.Op&seqMask)
		}
		out = append(out, "  "+s)
	}
	for _, r := range replies {
		if len(r.Context) > 0 {
			m.fmt.ctxs[r.ID] = r.Context
		}
		out = append(out, fmt.Sprintf("  reply #%d: %s", r.ID, m.fmt.fmtReply(r)))
	}
	for _, l := range m.log {
		out = append(out, "  "+l)
	}
	m.log = nil
	return out
}

// fmtOp prints an operation in flight: its targets and what each did.
func (m *coordMachine) fmtOp(o *op) string {
	kind := map[opKind]string{opWrite: "write", opRead: "read", opForward: "forward"}[o.kind]
	s := fmt.Sprintf("op=%d %s %s #%d deadline=%d", o.id&seqMask, kind, o.key, o.req.ID, o.deadline)
	if o.kind == opForward {
		return s + fmt.Sprintf(" to %v", o.forwardTo)
	}
	state := [...]string{tPending: "pending", tAcked: "acked", tRefused: "refused", tReplied: "replied"}
	var ts []string
	for _, t := range o.targets {
		u := fmt.Sprintf("%v:%s", t.node, state[t.state])
		if t.hinted {
			u += fmt.Sprintf("(for %v)", t.hintFor)
		}
		if t.wbSent {
			u += "+wb"
		}
		if t.holds {
			u += "+holds"
		}
		ts = append(ts, u)
	}
	s += " targets " + strings.Join(ts, " ")
	switch o.kind {
	case opWrite:
		s += fmt.Sprintf(" acks=%d/%d", o.acks, o.w)
	case opRead:
		s += fmt.Sprintf(" replies=%d/%d", o.replies, o.r)
		if o.phase == phaseWriteBack {
			s += fmt.Sprintf(" write-back holders=%d/%d", o.holders, o.w)
		}
	}
	if o.replied {
		s += " (answered)"
	}
	return s
}

// TestFinishedOpIsReusedClean pins the op recycling of newOp: an op
// removed during an input is reused only after take (the input is over),
// and the reused op keeps nothing of the last one: not its read replies,
// not its targets' states, not its counts.
func TestFinishedOpIsReusedClean(t *testing.T) {
	cm := newCoordMachine(t, map[string]string{"ring": "n1,n2,n3", "n": "3", "w": "2", "r": "2", "timeout": "4"})
	c := &cm.c
	c.submit(Request{ID: 1, Op: Get, Key: "a"})
	require.Len(t, c.ops, 1)
	first := c.ops[0]
	v := Version{Value: []byte("x"), Timestamp: 5, Dot: Dot{Node: 2, Counter: 1<<32 | 1}}
	require.Equal(t, ignoreNone, c.stepReadReply(2, Message{Type: MsgReadReply, Op: first.id, Key: "a", Versions: []Version{v}}))
	require.NotNil(t, first.targets[first.target(2)].vs, "the reply is kept on its target")
	c.tick(c.now + 4) // the deadline: the read finishes without its second reply
	require.True(t, first.done())
	require.Empty(t, c.ops)

	// Still inside the input that removed it: a new op is a new op.
	c.submit(Request{ID: 2, Op: Put, Key: "b", Value: []byte("y")})
	require.Len(t, c.ops, 1)
	require.NotSame(t, first, c.ops[0], "an op was reused before the input that removed it was over")
	c.take()

	c.submit(Request{ID: 3, Op: Put, Key: "c", Value: []byte("z")})
	require.Len(t, c.ops, 2)
	o := c.ops[1]
	require.Same(t, first, o, "a retired op is reused after take")
	require.Len(t, o.targets, 3)
	for i, tg := range o.targets {
		require.Equal(t, sim.NodeID(i+1), tg.node)
		require.Nil(t, tg.vs, "no old read reply on target %v", tg.node)
		require.False(t, tg.holds || tg.wbSent || tg.hinted, "target %v", tg.node)
		if tg.node != 1 { // n1 applied the write itself
			require.Equal(t, tPending, tg.state, "target %v", tg.node)
		}
	}
	require.Equal(t, opWrite, o.kind)
	require.Equal(t, "c", o.key)
	require.Zero(t, o.replies+o.holders+o.refused, "no counts carried over")
	require.Nil(t, o.result)
	require.Equal(t, phaseCollect, o.phase)
	require.False(t, o.replied || o.forwarded)
}

// unreachableText writes, without fmt, exactly the text fmt.Errorf wrote
// for a request refused before anything was sent.
func TestUnreachableTextIsTheErrorfText(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reachable := rapid.IntRange(-1, 100).Draw(t, "reachable")
		nn := rapid.IntRange(0, 100).Draw(t, "n")
		key := rapid.String().Draw(t, "key")
		if rapid.Bool().Draw(t, "bytes") {
			key = string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw")) // not valid UTF-8 either
		}
		q := QuorumMode(rapid.IntRange(0, 4).Draw(t, "quorum"))
		what := rapid.SampledFrom([]string{"W", "R"}).Draw(t, "what")
		need := rapid.IntRange(0, 100).Draw(t, "need")
		want := fmt.Errorf("%w: %d of %d replicas of %q believed reachable (%v quorum), need %s=%d; nothing was sent",
			ErrUnavailable, reachable, nn, key, q, what, need).Error()
		if got := unreachableText(reachable, nn, key, q, what, need); got != want {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}
