package history

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

const ednSample = `; a Jepsen cas-register history
{:process 0, :type :invoke, :f :write, :key "x", :value 3, :time 100}
{:process :nemesis, :type :info, :f :start-partition, :value [:isolated {"n1" #{"n2"}}], :time 120}
{:process 1, :type :invoke, :f :read, :key "x", :value nil, :time 150}

{:process 0, :type :ok, :f :write, :key "x", :value 3, :time 200}
{:process 1, :type :ok, :f :read, :key "x", :value 3, :time 250}
{:process 2, :type :invoke, :f :cas, :key "x", :value [3 4], :time 300}
{:process 2, :type :fail, :f :cas, :key "x", :value [3 4], :time 310, :error :precondition}
#jepsen.history.Op{:index 9, :process 3, :type :invoke, :f :append, :key :s, :value "e1", :time 400}
{:process 3, :type :info, :f :append, :key :s, :value "e1", :time 500, :error [:timeout "no \"reply\""]}
{:process 4, :type :invoke, :f :get, :key 7, :time 600}
{:process 4, :type :ok, :f :get, :key 7, :value [1 2 #_ 99 "three"], :time 700}
{:process 5, :type :invoke, :f :get, :key 8, :time 800}
{:process 5, :type :ok, :f :get, :key 8, :value nil, :time 900}
`

func TestReadEDN(t *testing.T) {
	events, err := ReadEDN(strings.NewReader(ednSample))
	require.NoError(t, err)
	require.Len(t, events, 12, "nemesis line, comment and blank line skipped")
	for i, e := range events {
		assert.Equal(t, i, e.Index)
	}
	assert.Equal(t, Event{Index: 0, Type: Invoke, Client: 0, Kind: Write, Key: "x", Value: "3", Time: 100}, events[0])
	assert.Equal(t, []string{"3"}, events[3].Values)
	assert.Equal(t, Event{Index: 4, Type: Invoke, Client: 2, Kind: CAS, Key: "x", Expect: "3", Value: "4", Time: 300}, events[4])
	assert.Equal(t, ":precondition", events[5].Err, "errors keep their EDN text")
	assert.Equal(t, Append, events[6].Kind)
	assert.Equal(t, "s", events[6].Key)
	assert.Equal(t, `[:timeout "no \"reply\""]`, events[7].Err)
	assert.Equal(t, []string{"1", "2", "three"}, events[9].Values)
	assert.Equal(t, "7", events[9].Key)
	assert.True(t, events[11].NotFound)

	ops, err := Pair(events)
	require.NoError(t, err)
	require.Len(t, ops, 6)
	assert.Equal(t, Fail, ops[2].Outcome)
	assert.Equal(t, Info, ops[3].Outcome)
	assert.Equal(t, sim.Never, ops[3].Return)
}

func TestReadEDNWithoutTimeUsesOrder(t *testing.T) {
	in := "{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n"
	events, err := ReadEDN(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, sim.Time(0), events[0].Time)
	assert.Equal(t, sim.Time(1), events[1].Time)
	assert.Equal(t, "", events[0].Key, "no :key is the empty key")
}

func TestReadEDNErrors(t *testing.T) {
	ok := `{:process 0, :type :invoke, :f :read, :time 1}` + "\n"
	cases := []struct{ name, in, want string }{
		{"unterminated map", ok + `{:process 0, :type :ok, :f :read`, "line 2, column 33: unterminated map"},
		{"unterminated string", `{:process 0, :key "abc}`, "line 1, column 19: unterminated string"},
		{"not an operation", `{:process 0, :type :invoke, :f :read}` + "\n" + `[:process 0]`, "line 2: want an operation: a map {:process .., :type .., :f ..} or a tuple [process :type :f value], got [:process 0]"},
		{"odd map", `{:process}`, "map has a key without a value"},
		{"trailing", `{:process 0, :type :invoke, :f :read} {}`, "line 1: missing :process"},
		{"after the vector", `[{:process 0, :type :invoke, :f :read}] {}`, "unexpected input after the vector of operations that began at line 1"},
		{"unterminated vector", "[{:process 0, :type :invoke, :f :read}\n", "unterminated vector opened at line 1, column 1"},
		{"stray closer", `}`, `unexpected '}'`},
		{"missing process", `{:type :invoke, :f :read}`, "missing :process"},
		{"string process", `{:process "p", :type :invoke, :f :read}`, ":process must be an integer"},
		{"negative process", `{:process -1, :type :invoke, :f :read}`, "not a non-negative int"},
		{"bad type", `{:process 0, :type :done, :f :read}`, ":type :done"},
		{"bad f", `{:process 0, :type :invoke, :f :incr}`, ":f :incr not supported"},
		{"cas shape", `{:process 0, :type :invoke, :f :cas, :value 3}`, ":cas :value must be [old new]"},
		{"cas nil", `{:process 0, :type :invoke, :f :cas, :value [nil 3]}`, "expecting nil"},
		{"write nil", `{:process 0, :type :invoke, :f :write, :value nil}`, ":write of nil"},
		{"write vector", `{:process 0, :type :invoke, :f :write, :value [1]}`, "a vector where a scalar is needed"},
		{"unknown f in a tuple", `[0 :invoke :incr 1]`, ":f :incr not supported"},
		{"long line", `{:process 0, :type :invoke, :f :write, :value "` + strings.Repeat("x", MaxLineBytes) + `"}`, "line longer than 1048576 bytes"},
		{"long operation", "{:process 0, :type :invoke, :f :write, :value\n" + strings.Repeat("\"xxxxxxxxxxxxxxxx\"\n", MaxLineBytes/18+1) + "}", "one operation longer than 1048576 bytes"},
		{"float time", `{:process 0, :type :invoke, :f :read, :time 1.5}`, ":time must be an integer"},
		{"bad number", `{:process 0, :type :invoke, :f :read, :time 12abc}`, `malformed number "12abc"`},
		{"bad escape", `{:process 0, :key "a\q"}`, `unknown escape \q`},
		{"deep", strings.Repeat("[", 200), "nested deeper than"},
		{"invalid utf8", "{:process 0 :key \"\xff\"}", "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadEDN(strings.NewReader(tc.in))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// FuzzReadEDN checks that no input makes ReadEDN (or pairing its result)
// panic, and that whatever it accepts survives a JSON lines round trip.
// Seed corpus: testdata/fuzz/FuzzReadEDN.
func FuzzReadEDN(f *testing.F) {
	f.Add(ednSample)
	f.Add(`{:process 0, :type :ok, :f :read, :value #{1 2}}`)
	f.Add(`{:process 0 :type :invoke :f :cas :value [1 2] :time 9223372036854775807}`)
	f.Fuzz(func(t *testing.T, in string) {
		events, err := ReadEDN(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "history: line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		_, _ = Pair(events)
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, events); err != nil {
			t.Fatalf("write: %v", err)
		}
		back, err := ReadJSONL(&buf)
		if err != nil {
			t.Fatalf("accepted EDN does not round-trip through JSON lines: %v", err)
		}
		if len(back) != len(events) {
			t.Fatalf("round trip: %d events, want %d", len(back), len(events))
		}
	})
}

// FuzzReadJSONL checks that no input makes ReadJSONL or Pair panic.
func FuzzReadJSONL(f *testing.F) {
	f.Add(`{"index":0,"type":"invoke","client":0,"kind":"read","key":"k","time":1,"node":0}` + "\n" +
		`{"index":1,"type":"ok","client":0,"kind":"read","key":"k","values":["a"],"time":2,"node":0}`)
	f.Fuzz(func(t *testing.T, in string) {
		events, err := ReadJSONL(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "history: line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		_, _ = Pair(events)
	})
}

func TestReadDetectsTheFormat(t *testing.T) {
	var buf bytes.Buffer
	want := []Event{{Index: 0, Type: Invoke, Kind: Write, Key: "k", Value: "v", Time: 3}}
	require.NoError(t, WriteJSONL(&buf, want))
	got, err := ReadAny(strings.NewReader("\n  \n" + buf.String()))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	got, err = ReadAny(strings.NewReader("\n" + ednSample))
	require.NoError(t, err)
	assert.Len(t, got, 12)

	got, err = ReadAny(strings.NewReader(" \n"))
	require.NoError(t, err)
	assert.Empty(t, got)

	_, err = ReadAny(strings.NewReader("index,type\n0,invoke\n"))
	require.ErrorContains(t, err, "neither JSON lines, EDN nor jepsen.log")

	_, err = ReadAny(strings.NewReader("\n{:process 0 :type :bogus :f :read}"))
	require.ErrorContains(t, err, "line 2: :type :bogus", "line numbers count the skipped lines")
}
