package kv

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

// TestHintsTranscript drives the hinted-handoff state machine alone
// (testdata/machines/hints.txt): no ring, no network, no quorum; it is
// node n1, and the transcript says which owners are reachable.
//
//	hints max=2 policy=evict-oldest|reject resolve=lww|vclock batch=2 siblings=3
//	store owner=n2 key=a v=x dot=n1:3 ts=5   a hinted write (dot counter in n1's incarnation 1)
//	replay reachable=n2,n3                   one replay round
//	ack from=n2 key=a id=1 seq=2 [refused]   an owner's acknowledgement
//	dump                                     the hints held, oldest first
//
// Every command prints the writes the machine made to the node's state
// and the versions it reported forgotten.
func TestHintsTranscript(t *testing.T) {
	var hm *hintsMachine
	runMachineTranscript(t, "testdata/machines/hints.txt", func(cmd string, pos []string, args map[string]string) []string {
		if cmd == "hints" {
			hm = newHintsMachine(t, args)
			return nil
		}
		require.NotNil(t, hm, "start with a hints command")
		return hm.run(t, cmd, args, pos)
	})
}

// hintsMachine is the hints state machine with the node's parts it needs
// replaced by plain fakes: a counter, a list of forgotten versions.
type hintsMachine struct {
	h         hints
	st        *state
	cfg       Config
	stats     Stats
	seq       uint64
	forgotten [][]Version
}

func newHintsMachine(t *testing.T, args map[string]string) *hintsMachine {
	cfg := DefaultConfig()
	if v, ok := args["resolve"]; ok {
		require.NoError(t, cfg.Resolve.UnmarshalText([]byte(v)))
	}
	if v, ok := args["policy"]; ok {
		require.NoError(t, cfg.HintPolicy.UnmarshalText([]byte(v)))
	}
	atoi := func(k string, def int) int {
		v, ok := args[k]
		if !ok {
			return def
		}
		i, err := strconv.Atoi(v)
		require.NoError(t, err, k)
		return i
	}
	cfg.MaxHints, cfg.HintReplayBatch, cfg.MaxSiblings = atoi("max", cfg.MaxHints), atoi("batch", cfg.HintReplayBatch), atoi("siblings", cfg.MaxSiblings)
	m := &hintsMachine{cfg: cfg, st: loadState(NewMemStore())}
	m.h = hints{self: 1, cfg: &m.cfg, st: m.st, stats: &m.stats,
		next:   func() uint64 { m.seq++; return 1<<32 | m.seq },
		forget: func(vs []Version) { m.forgotten = append(m.forgotten, vs) }}
	return m
}

func nodeArg(t *testing.T, s string) sim.NodeID {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "n"), 10, 32)
	require.NoError(t, err, "bad node %q", s)
	return sim.NodeID(v)
}

func (m *hintsMachine) run(t *testing.T, cmd string, args map[string]string, fields []string) []string {
	var out []string
	switch cmd {
	case "store":
		dot := strings.Split(args["dot"], ":")
		require.Len(t, dot, 2, "dot=nX:C")
		c, err := strconv.ParseUint(dot[1], 10, 32)
		require.NoError(t, err)
		ts, err := strconv.ParseInt(args["ts"], 10, 64)
		require.NoError(t, err)
		v := Version{Value: []byte(args["v"]), Timestamp: ts, Dot: Dot{Node: nodeArg(t, dot[0]), Counter: 1<<32 | c}}
		if err := m.h.store(nodeArg(t, args["owner"]), args["key"], []Version{v}); err != nil {
			out = append(out, "refused: "+err.Error())
		} else {
			out = append(out, "stored")
		}
	case "replay":
		reachable := map[sim.NodeID]bool{}
		for _, s := range strings.Split(args["reachable"], ",") {
			if s != "" {
				reachable[nodeArg(t, s)] = true
			}
		}
		send, mine := m.h.replay(func(id sim.NodeID) bool { return reachable[id] })
		for _, r := range send {
			out = append(out, fmt.Sprintf("n1->%v handoff %s %s id=%d seq=%d", r.to, r.msg.Key, fmtVersions(r.msg.Versions), r.msg.HintID&seqMask, r.msg.HintSeq&seqMask))
		}
		for _, h := range mine {
			out = append(out, fmt.Sprintf("mine: %s %s (the node applies it, then delivered)", h.Key, fmtVersions(h.Versions)))
			m.h.delivered(h)
		}
		if len(send)+len(mine) == 0 {
			out = append(out, "nothing to replay")
		}
	case "ack":
		id, err := strconv.ParseUint(args["id"], 10, 32)
		require.NoError(t, err)
		seq, err := strconv.ParseUint(args["seq"], 10, 32)
		require.NoError(t, err)
		refused := false
		for _, f := range fields {
			refused = refused || f == "refused"
		}
		before := m.stats
		m.h.onAck(nodeArg(t, args["from"]), Message{Type: MsgHandoffAck, Key: args["key"], HintID: 1<<32 | id, HintSeq: 1<<32 | seq, Refused: refused})
		switch {
		case m.stats.HintsDelivered > before.HintsDelivered:
			out = append(out, "delivered")
		case m.stats.HandoffsRefused > before.HandoffsRefused:
			out = append(out, "refused by the owner: kept")
		default:
			out = append(out, "stale ack: kept")
		}
	case "dump":
		for _, h := range m.st.Hints() {
			out = append(out, fmt.Sprintf("hint id=%d seq=%d for %v: %s %s", h.ID&seqMask, h.Seq&seqMask, h.Owner, h.Key, fmtVersions(h.Versions)))
		}
		if len(out) == 0 {
			out = append(out, "no hints")
		}
		return out
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	for _, w := range m.st.writes {
		if len(w.Hint.Versions) == 0 {
			out = append(out, fmt.Sprintf("  write: delete hint for %v: %s", w.Hint.Owner, w.Hint.Key))
		} else {
			out = append(out, fmt.Sprintf("  write: hint id=%d seq=%d for %v: %s %s", w.Hint.ID&seqMask, w.Hint.Seq&seqMask, w.Hint.Owner, w.Hint.Key, fmtVersions(w.Hint.Versions)))
		}
	}
	m.st.writes = nil
	for _, vs := range m.forgotten {
		out = append(out, "  forgotten: "+fmtVersions(vs))
	}
	m.forgotten = nil
	return out
}

// TestStateHintsFollowEveryChange checks the state's sorted hint list,
// which Hints keeps between changes: after any sequence of puts, updates
// and deletes it equals the hints sorted afresh from the map.
func TestStateHintsFollowEveryChange(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		st := &state{data: map[string][]Version{}, hints: map[hintKey]Hint{}, meta: map[string]uint64{}}
		id := uint64(0)
		for i, n := 0, rapid.IntRange(1, 40).Draw(rt, "steps"); i < n; i++ {
			owner := sim.NodeID(rapid.IntRange(1, 3).Draw(rt, "owner"))
			key := rapid.SampledFrom([]string{"a", "b", "c"}).Draw(rt, "key")
			if rapid.Bool().Draw(rt, "delete") {
				st.DeleteHint(owner, key)
			} else {
				id++
				st.PutHint(Hint{ID: id, Seq: id, Owner: owner, Key: key, Versions: []Version{{Value: []byte{byte(id)}, Dot: Dot{Node: owner, Counter: id}}}})
			}
			var want []Hint
			for _, h := range st.hints {
				want = append(want, h)
			}
			slices.SortFunc(want, func(a, b Hint) int { return cmp.Compare(a.ID, b.ID) })
			got := st.Hints()
			if len(want) == 0 {
				require.Empty(rt, got)
			} else {
				require.Equal(rt, want, got)
			}
			require.Equal(rt, got, st.Hints(), "a second call without a change")
		}
	})
}
