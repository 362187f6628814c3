package history

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

func mustInvoke(t *testing.T, r *Recorder, e Event) int {
	t.Helper()
	i, err := r.Invoke(e)
	require.NoError(t, err)
	return i
}

func mustComplete(t *testing.T, r *Recorder, e Event) int {
	t.Helper()
	i, err := r.Complete(e)
	require.NoError(t, err)
	return i
}

func TestRecorderPairsOperations(t *testing.T) {
	var r Recorder
	require.Equal(t, 0, mustInvoke(t, &r, Event{Client: 0, Kind: Write, Key: "k", Value: "a", Time: 10, Node: 2}))
	require.Equal(t, 1, mustInvoke(t, &r, Event{Client: 1, Kind: Read, Key: "k", Time: 11, Node: 3}))
	require.Equal(t, 2, mustComplete(t, &r, Event{Client: 1, Type: OK, Values: []string{"a"}, Time: 20}))
	require.True(t, r.Open(0))
	require.False(t, r.Open(1))
	mustComplete(t, &r, Event{Client: 0, Type: Info, Err: "timeout", Time: 30})
	mustInvoke(t, &r, Event{Client: 1, Kind: Write, Key: "k", Value: "b", Context: []string{"a"}, Time: 31})
	mustComplete(t, &r, Event{Client: 1, Type: Fail, Time: 32})
	mustInvoke(t, &r, Event{Client: 2, Kind: Read, Key: "k", Final: true, Time: 40})
	require.Equal(t, 7, r.Len())

	ops, err := r.Ops()
	require.NoError(t, err)
	require.Len(t, ops, 4)

	w := ops[0]
	assert.Equal(t, Info, w.Outcome)
	assert.Equal(t, sim.Time(10), w.Call)
	assert.Equal(t, sim.Never, w.Return, "info returns at infinity")
	assert.Equal(t, sim.Time(30), w.End)
	assert.Equal(t, "timeout", w.Err)
	assert.Equal(t, sim.NodeID(2), w.Node)
	assert.Equal(t, 0, w.Invoked)
	assert.Equal(t, 3, w.Completed)

	rd := ops[1]
	assert.Equal(t, OK, rd.Outcome)
	assert.Equal(t, []string{"a"}, rd.Values)
	assert.Equal(t, sim.Time(20), rd.Return)

	assert.Equal(t, Fail, ops[2].Outcome)
	assert.Equal(t, []string{"a"}, ops[2].Context)
	assert.Equal(t, sim.Time(32), ops[2].Return)

	fin := ops[3]
	assert.True(t, fin.Final)
	assert.Equal(t, Info, fin.Outcome, "a never-completed op is info")
	assert.Equal(t, -1, fin.Completed)
	assert.Equal(t, sim.Never, fin.Return)
	assert.Equal(t, sim.Never, fin.End)
}

func TestRecorderCopiesSlices(t *testing.T) {
	var r Recorder
	ctx := []string{"a"}
	mustInvoke(t, &r, Event{Client: 0, Kind: Write, Key: "k", Value: "b", Context: ctx})
	ctx[0] = "mutated"
	vals := []string{"x"}
	mustInvoke(t, &r, Event{Client: 1, Kind: Read, Key: "k"})
	mustComplete(t, &r, Event{Client: 1, Type: OK, Values: vals})
	vals[0] = "mutated"
	assert.Equal(t, []string{"a"}, r.Events()[0].Context)
	assert.Equal(t, []string{"x"}, r.Events()[2].Values)
}

// TestRecorderCopiesApart: the recorder's copies of many events' Context
// and Values (carved from shared chunks) each hold their own strings:
// overwriting one recorded copy, or appending to it, changes no other.
func TestRecorderCopiesApart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r Recorder
		n := rapid.IntRange(1, 60).Draw(t, "ops")
		strs := rapid.SliceOfN(rapid.StringN(1, 3, -1), 0, 80)
		var want [][]string
		for range n {
			ctx := strs.Draw(t, "context")
			vals := strs.Draw(t, "values")
			_, err := r.Invoke(Event{Client: 0, Kind: Read, Key: "k", Context: ctx})
			require.NoError(t, err)
			_, err = r.Complete(Event{Client: 0, Type: OK, Values: vals})
			require.NoError(t, err)
			want = append(want, slices.Clone(ctx), slices.Clone(vals))
		}
		ops := r.Operations()
		for i := range ops {
			for _, s := range [][]string{ops[i].Context, ops[i].Values} {
				for k := range s {
					s[k] = "scribbled"
				}
				_ = append(s, "appended")
			}
			for j := i + 1; j < len(ops); j++ {
				require.Equal(t, emptyNil(want[2*j]), ops[j].Context, "scribbling over op %d changed op %d's context", i, j)
				require.Equal(t, emptyNil(want[2*j+1]), ops[j].Values, "scribbling over op %d changed op %d's values", i, j)
			}
		}
	})
}

// emptyNil is s, or nil when s is empty (the recorder keeps no empty
// slices).
func emptyNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestRecorderRejectsMisuse(t *testing.T) {
	var r Recorder
	_, err := r.Complete(Event{Client: 0, Type: OK})
	require.ErrorContains(t, err, "without an open invocation")

	mustInvoke(t, &r, Event{Client: 0, Kind: Write, Key: "k", Value: "a", Time: 5})
	_, err = r.Invoke(Event{Client: 0, Kind: Read, Key: "k", Time: 6})
	require.ErrorContains(t, err, "still open")

	_, err = r.Complete(Event{Client: 0, Type: Invoke, Time: 7})
	require.ErrorContains(t, err, "completion type")

	_, err = r.Complete(Event{Client: 0, Type: OK, Time: 4})
	require.ErrorContains(t, err, "before the previous event")

	_, err = r.Complete(Event{Client: 0, Type: OK, Values: []string{"x"}, Time: 8})
	require.ErrorContains(t, err, "read result")

	_, err = r.Invoke(Event{Client: 1, Kind: "frob", Key: "k", Time: 9})
	require.ErrorContains(t, err, "unknown kind")

	_, err = r.Invoke(Event{Client: -1, Kind: Read, Time: 9})
	require.ErrorContains(t, err, "negative client")

	_, err = r.Invoke(Event{Client: 1, Kind: Write, Final: true, Time: 9})
	require.ErrorContains(t, err, "final flag")
	require.Equal(t, 1, r.Len(), "rejected events are not recorded")
}

func TestPairRejectsBadHistories(t *testing.T) {
	inv := func(i, c int, k Kind, key string) Event {
		return Event{Index: i, Type: Invoke, Client: c, Kind: k, Key: key, Time: sim.Time(i)}
	}
	done := func(i, c int, typ Type) Event {
		return Event{Index: i, Type: typ, Client: c, Time: sim.Time(i)}
	}
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"completion without invocation", []Event{done(0, 3, OK)}, "ok completion for client 3 without an open invocation"},
		{"double invoke", []Event{inv(0, 1, Read, "k"), inv(1, 1, Write, "k")}, "client 1 invokes write while its read invoked at index 0 is still open"},
		{"second completion", []Event{inv(0, 1, Read, "k"), done(1, 1, OK), done(2, 1, OK)}, "without an open invocation"},
		{"kind mismatch", []Event{inv(0, 1, Read, "k"), {Index: 1, Type: OK, Client: 1, Kind: Write, Key: "k", Time: 1}}, "completion kind write differs"},
		{"key mismatch", []Event{inv(0, 1, Read, "k"), {Index: 1, Type: OK, Client: 1, Kind: Read, Key: "j", Time: 1}}, `completion key "j" differs`},
		{"unknown type", []Event{{Index: 0, Type: "done", Client: 0, Kind: Read}}, `unknown type "done"`},
		{"unknown kind", []Event{inv(0, 0, "incr", "k")}, `unknown kind "incr"`},
		{"index not increasing", []Event{inv(5, 0, Read, "k"), done(5, 0, OK)}, "index 5 does not increase"},
		{"time backwards", []Event{{Index: 0, Type: Invoke, Kind: Read, Time: 10}, {Index: 1, Type: OK, Time: 9}}, "goes backwards"},
		{"values on a write", []Event{inv(0, 0, Write, "k"), {Index: 1, Type: OK, Client: 0, Values: []string{"x"}, Time: 1}}, "write completion carries a read result"},
		{"values on a failed read", []Event{inv(0, 0, Read, "k"), {Index: 1, Type: Fail, Client: 0, NotFound: true, Time: 1}}, "fail completion carries a read result"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Pair(tc.events)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	var r Recorder
	mustInvoke(t, &r, Event{Client: 0, Kind: Write, Key: "k\"1", Value: "<a&b>", Context: []string{"x", "y"}, Time: 1, Node: 4})
	mustInvoke(t, &r, Event{Client: 1, Kind: Read, Key: "k\"1", Final: true, Time: 2})
	mustComplete(t, &r, Event{Client: 1, Type: OK, Values: []string{"x", "y"}, Time: 3})
	mustComplete(t, &r, Event{Client: 0, Type: Info, Err: "timeout after 3 retries", Time: sim.Time(1) << 40})
	mustInvoke(t, &r, Event{Client: 0, Kind: CAS, Key: "c", Expect: "1", Value: "2", Time: 1 << 41})
	mustComplete(t, &r, Event{Client: 0, Type: Fail, Time: 1 << 41})
	mustInvoke(t, &r, Event{Client: 2, Kind: Read, Key: "gone", Time: 1 << 42})
	mustComplete(t, &r, Event{Client: 2, Type: OK, NotFound: true, Time: 1 << 42})

	var buf bytes.Buffer
	require.NoError(t, WriteJSONL(&buf, r.Events()))
	text := buf.String()
	require.Equal(t, 8, strings.Count(text, "\n"), "one line per event")
	require.Contains(t, text, `"value":"<a&b>"`, "no HTML escaping")
	got, err := ReadJSONL(strings.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, r.Events(), got)

	var again bytes.Buffer
	require.NoError(t, WriteJSONL(&again, got))
	require.Equal(t, text, again.String(), "byte-identical re-encoding")
}

func TestJSONLRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r Recorder
		now := sim.Time(0)
		str := rapid.StringMatching(`[a-z0-9"\\ <>é]{0,6}`)
		n := rapid.IntRange(0, 40).Draw(t, "n")
		for i := 0; i < n; i++ {
			now += sim.Time(rapid.Int64Range(0, 1e9).Draw(t, "dt"))
			c := rapid.IntRange(0, 4).Draw(t, "client")
			if r.Open(c) {
				typ := rapid.SampledFrom([]Type{OK, Fail, Info}).Draw(t, "type")
				e := Event{Client: c, Type: typ, Time: now, Err: str.Draw(t, "err")}
				if typ == OK && r.Events()[lastInvoke(r.Events(), c)].Kind == Read {
					if rapid.Bool().Draw(t, "nf") {
						e.NotFound = true
					} else {
						e.Values = rapid.SliceOfN(str, 0, 3).Draw(t, "values")
					}
				}
				if _, err := r.Complete(e); err != nil {
					t.Fatalf("complete: %v", err)
				}
				continue
			}
			k := rapid.SampledFrom([]Kind{Read, Write, Delete, CAS, Add}).Draw(t, "kind")
			e := Event{Client: c, Kind: k, Key: str.Draw(t, "key"), Time: now, Node: sim.NodeID(rapid.Uint32Range(0, 9).Draw(t, "node"))}
			if k != Read && k != Delete {
				e.Value = str.Draw(t, "value")
			}
			if k == CAS {
				e.Expect = str.Draw(t, "expect")
			}
			if k == Write || k == Delete {
				e.Context = rapid.SliceOfN(str, 0, 3).Draw(t, "ctx")
			}
			e.Final = k == Read && rapid.Bool().Draw(t, "final")
			if _, err := r.Invoke(e); err != nil {
				t.Fatalf("invoke: %v", err)
			}
		}
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, r.Events()); err != nil {
			t.Fatalf("write: %v", err)
		}
		got, err := ReadJSONL(&buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		want, err := r.Ops()
		if err != nil {
			t.Fatalf("pair recorded: %v", err)
		}
		ops, err := Pair(got)
		if err != nil {
			t.Fatalf("pair decoded: %v", err)
		}
		if !assert.Equal(t, normalize(want), normalize(ops)) {
			t.Fatalf("round trip changed the operations")
		}
	})
}

func lastInvoke(events []Event, client int) int {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Client == client && events[i].Type == Invoke {
			return i
		}
	}
	return -1
}

// normalize maps empty slices to nil (JSON omits both).
func normalize(ops []Op) []Op {
	out := append([]Op(nil), ops...)
	for i := range out {
		if len(out[i].Values) == 0 {
			out[i].Values = nil
		}
		if len(out[i].Context) == 0 {
			out[i].Context = nil
		}
	}
	return out
}

func TestReadJSONLErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"syntax", "{\"index\":0,\"type\":\"invoke\",\"kind\":\"read\"}\n{\"index\":1,", "line 2:"},
		{"unknown field", `{"index":0,"type":"invoke","kind":"read","vlaue":"x"}`, `line 1: json: unknown field "vlaue"`},
		{"bad type", `{"index":0,"type":"okay","kind":"read"}`, `line 1: unknown type "okay"`},
		{"bad kind", `{"index":0,"type":"invoke","kind":"incr"}`, `line 1: unknown kind "incr"`},
		{"two objects", `{"index":0,"type":"invoke","kind":"read"} {}`, "line 1: more than one JSON value"},
		{"index", "{\"index\":3,\"type\":\"invoke\",\"kind\":\"read\"}\n\n{\"index\":3,\"type\":\"ok\"}", "line 3: index 3 does not increase"},
		{"time", "{\"index\":0,\"type\":\"invoke\",\"kind\":\"read\",\"time\":5}\n{\"index\":1,\"type\":\"ok\",\"time\":4}", "line 2: time 4 goes backwards"},
		{"wrong json type", `{"index":"zero","type":"invoke","kind":"read"}`, "line 1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSONL(strings.NewReader(tc.in))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReadJSONLOverlongLine(t *testing.T) {
	in := `{"index":0,"type":"invoke","kind":"write","value":"` + strings.Repeat("x", MaxLineBytes) + "\"}\n"
	_, err := ReadJSONL(strings.NewReader(in))
	require.ErrorContains(t, err, "line 1: longer than")
}

// TestRecorderKeepsOperationsNotEvents: the recorder keeps one Op per
// operation, yet Events gives back exactly the events it recorded (each as
// Last returned it), Operations is what Pair makes of them, and Unpair
// refuses operations whose indices are not dense.
func TestRecorderKeepsOperationsNotEvents(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r Recorder
		var want []Event
		now := sim.Time(0)
		str := rapid.StringMatching(`[a-z0-9]{0,3}`)
		n := rapid.IntRange(0, 40).Draw(t, "n")
		for i := 0; i < n; i++ {
			now += sim.Time(rapid.Int64Range(0, 10).Draw(t, "dt"))
			c := rapid.IntRange(0, 3).Draw(t, "client")
			if r.Open(c) {
				typ := rapid.SampledFrom([]Type{OK, Fail, Info}).Draw(t, "type")
				e := Event{Client: c, Type: typ, Time: now, Err: str.Draw(t, "err")}
				if typ == OK && r.Operations()[len(r.Operations())-1].Client == c && r.Operations()[len(r.Operations())-1].Kind == Read {
					e.Values = rapid.SliceOfN(str, 0, 2).Draw(t, "values")
				}
				if _, err := r.Complete(e); err != nil {
					continue // a read result on a non-read: refused, nothing recorded
				}
			} else {
				k := rapid.SampledFrom([]Kind{Read, Write, CAS}).Draw(t, "kind")
				e := Event{Client: c, Kind: k, Key: str.Draw(t, "key"), Time: now, Value: str.Draw(t, "value"), Context: rapid.SliceOfN(str, 0, 2).Draw(t, "ctx")}
				if _, err := r.Invoke(e); err != nil {
					t.Fatalf("invoke: %v", err)
				}
			}
			want = append(want, r.Last())
		}
		if len(want) == 0 {
			want = []Event{}
		}
		if !assert.Equal(t, want, r.Events()) {
			t.Fatalf("events differ")
		}
		ops, err := Pair(want)
		if err != nil {
			t.Fatalf("pair: %v", err)
		}
		if len(ops)+len(r.Operations()) > 0 && !assert.Equal(t, ops, r.Operations()) {
			t.Fatalf("operations differ from Pair's")
		}
		if len(ops) > 0 {
			bad := append([]Op(nil), ops...)
			bad[0].Invoked = len(want) + 5
			if _, err := Unpair(bad); err == nil {
				t.Fatalf("Unpair accepted a non-dense index")
			}
		}
	})
}

// TestRecorderAcrossChunks records more operations than a chunk holds,
// joining the chunks in the middle of the run, and finds every operation
// where it belongs.
func TestRecorderAcrossChunks(t *testing.T) {
	var r Recorder
	const n = 3*chunkOps + 17
	for i := 0; i < n; i++ {
		_, err := r.Invoke(Event{Client: i % 3, Kind: Write, Key: "k", Value: fmt.Sprint(i), Time: sim.Time(i)})
		require.NoError(t, err)
		if i == chunkOps+5 {
			require.Len(t, r.Operations(), i+1)
		}
		_, err = r.Complete(Event{Client: i % 3, Type: OK, Time: sim.Time(i)})
		require.NoError(t, err)
	}
	ops := r.Operations()
	require.Len(t, ops, n)
	for i, o := range ops {
		require.Equal(t, fmt.Sprint(i), o.Value)
		require.Equal(t, 2*i, o.Invoked)
		require.Equal(t, 2*i+1, o.Completed)
	}
	require.Len(t, r.Events(), 2*n)
}
