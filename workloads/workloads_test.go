package workloads

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func think(t require.TestingT) sim.Dist {
	d, err := sim.Uniform(time.Millisecond, 5*time.Millisecond)
	require.NoError(t, err)
	return d
}

func cfg(t require.TestingT) Config {
	return Config{Clients: 5, Keys: 3, ReadRatio: 0.5, Ops: 200, Think: think(t)}
}

// store is a tiny deterministic in-memory store answering every request:
// last-writer-wins, with a per-key version counter as the context. Every
// fifth request of each kind can be made to fail or time out.
type store struct {
	vals    map[string][]byte
	version map[string]int
	n       int
	chaos   bool
}

func newStore(chaos bool) *store {
	return &store{vals: map[string][]byte{}, version: map[string]int{}, chaos: chaos}
}

func (s *store) handle(r Request) Response {
	s.n++
	if s.chaos {
		switch s.n % 7 {
		case 3:
			return Response{Status: Info, Err: "timeout"}
		case 5:
			return Response{Status: Fail, Err: "unavailable"}
		}
	}
	switch r.Method {
	case Get:
		ctx := []byte(fmt.Sprintf("v%d", s.version[r.Key]))
		if v, ok := s.vals[r.Key]; ok {
			return Response{Status: OK, Values: [][]byte{v}, Context: ctx}
		}
		return Response{Status: OK, Context: ctx}
	case Put:
		s.vals[r.Key] = append([]byte(nil), r.Value...)
	case Delete:
		delete(s.vals, r.Key)
	}
	s.version[r.Key]++
	return Response{Status: OK, Context: []byte(fmt.Sprintf("v%d", s.version[r.Key]))}
}

// drive runs w to exhaustion against st, round-robin over clients (one op
// at a time: closed loop), recording into a history.Recorder, and returns a
// transcript of every invocation, request and completion.
func drive(t require.TestingT, w Workload, st *store) ([]string, []history.Event) {
	var rec history.Recorder
	var out []string
	now := sim.Time(0)
	done := make([]bool, w.Clients())
	for left := w.Clients(); left > 0; {
		for c := 0; c < w.Clients(); c++ {
			if done[c] {
				continue
			}
			op, err := w.Next(c)
			if errors.Is(err, ErrDone) {
				done[c] = true
				left--
				continue
			}
			require.NoError(t, err)
			now = now.Add(op.Delay)
			inv := op.Invocation()
			inv.Time = now
			_, err = rec.Invoke(inv)
			require.NoError(t, err)
			out = append(out, "inv "+inv.String())
			req := op.Start()
			for {
				out = append(out, fmt.Sprintf("req %s %s %q ctx=%q", req.Method, req.Key, req.Value, req.Context))
				next, fin := op.Step(st.handle(req))
				if fin {
					break
				}
				req = next
			}
			comp := op.Completion()
			comp.Time = now
			_, err = rec.Complete(comp)
			require.NoError(t, err)
			out = append(out, "comp "+comp.String())
		}
	}
	return out, rec.Events()
}

func TestConfigErrors(t *testing.T) {
	good := cfg(t)
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"register", func(c *Config) { c.Clients = 0 }, "0 clients"},
		{"kv", func(c *Config) { c.Keys = 0 }, "0 keys"},
		{"set", func(c *Config) { c.Keys = -1 }, "-1 keys"},
		{"register", func(c *Config) { c.ReadRatio = -0.1 }, "read ratio"},
		{"kv", func(c *Config) { c.ReadRatio = 1.5 }, "read ratio"},
		{"kv", func(c *Config) { c.ReadRatio = math.NaN() }, "read ratio"},
		{"kv", func(c *Config) { c.DeleteRatio = 2 }, "delete ratio"},
		{"kv", func(c *Config) { c.ReadRatio, c.DeleteRatio = 0.7, 0.4 }, "exceed 1"},
		{"register", func(c *Config) { c.Ops, c.OpsPerClient = 0, 0 }, "no operation limit"},
		{"register", func(c *Config) { c.Ops = -3 }, ">= 0"},
		{"set", func(c *Config) { c.Think = sim.Dist{} }, "think time"},
		{"register", func(c *Config) { c.Clients, c.Keys = 25, 2 }, "25 clients need at least 3 keys"},
		{"register", func(c *Config) { c.Clients, c.Keys = 11, 1 }, "at most 10 clients per key"},
		{"set", func(c *Config) { c.DeleteRatio = 0.1 }, "only adds"},
		{"bogus", func(c *Config) {}, `unknown workload "bogus"`},
	} {
		c := good
		tc.mod(&c)
		_, err := New(tc.name, c, sim.NewRNG(1))
		require.ErrorContains(t, err, tc.want, "%s %+v", tc.name, c)
		require.ErrorContains(t, err, tc.name)
	}
	for _, name := range Names() {
		_, err := New(name, good, nil)
		require.ErrorContains(t, err, "rng", name)
		w, err := New(name, good, sim.NewRNG(1))
		require.NoError(t, err)
		require.Equal(t, name, w.Name())
	}
	// The limits that are fine: 10 clients on one key, 11 on two.
	c := good
	c.Clients, c.Keys = 10, 1
	_, err := NewRegister(c, sim.NewRNG(1))
	require.NoError(t, err)
	c.Clients, c.Keys = 11, 2
	_, err = NewRegister(c, sim.NewRNG(1))
	require.NoError(t, err)
}

func TestDeterminismPerSeed(t *testing.T) {
	for _, name := range Names() {
		c := cfg(t)
		c.DeleteRatio = 0.1
		if name == "set" {
			c.DeleteRatio, c.ReadRatio = 0, 0.2
		}
		run := func(seed uint64) string {
			w, err := New(name, c, sim.NewRNG(seed).Fork("workload"))
			require.NoError(t, err)
			tr, _ := drive(t, w, newStore(true))
			return strings.Join(tr, "\n")
		}
		a := run(7)
		require.Equal(t, a, run(7), "%s: same seed, different run", name)
		require.NotEqual(t, a, run(8), "%s: different seeds, same run", name)
	}
}

func TestWrittenValuesUnique(t *testing.T) {
	for _, name := range Names() {
		c := Config{Clients: 12, Keys: 4, ReadRatio: 0.3, OpsPerClient: 60, Think: think(t)}
		if name != "set" {
			c.DeleteRatio = 0.1
		}
		w, err := New(name, c, sim.NewRNG(3))
		require.NoError(t, err)
		_, events := drive(t, w, newStore(true))
		ops, err := history.Pair(events)
		require.NoError(t, err)
		seen := map[string]bool{}
		writes, perClient := 0, map[int]int{}
		for _, o := range ops {
			perClient[o.Client]++
			if o.Kind == history.Write || o.Kind == history.Add {
				require.NotEmpty(t, o.Value)
				require.False(t, seen[o.Value], "%s: value %q written twice", name, o.Value)
				seen[o.Value] = true
				writes++
			}
		}
		require.Greater(t, writes, 100, name)
		require.Len(t, ops, 12*60, name)
		for cl := 0; cl < 12; cl++ {
			require.Equal(t, 60, perClient[cl], "%s client %d", name, cl)
		}
	}
}

func TestRegisterClientsPerKey(t *testing.T) {
	c := Config{Clients: 25, Keys: 7, ReadRatio: 0.5, Ops: 2000, Think: think(t)}
	w, err := NewRegister(c, sim.NewRNG(5))
	require.NoError(t, err)
	_, events := drive(t, w, newStore(false))
	byKey := map[string]map[int]bool{}
	for _, e := range events {
		if e.Type == history.Invoke {
			if byKey[e.Key] == nil {
				byKey[e.Key] = map[int]bool{}
			}
			byKey[e.Key][e.Client] = true
		}
	}
	require.Len(t, byKey, 7)
	for key, cls := range byKey {
		require.LessOrEqual(t, len(cls), MaxClientsPerKey, key)
		allowed := w.ClientsOfKey(key)
		require.LessOrEqual(t, len(allowed), MaxClientsPerKey)
		for cl := range cls {
			require.Contains(t, allowed, cl, "client %d used key %s outside its group", cl, key)
		}
	}
	assert.Nil(t, w.ClientsOfKey("nope"))
	assert.Equal(t, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6"}, w.WrittenKeys())
}

func TestBudgetsAndClientRange(t *testing.T) {
	c := cfg(t)
	c.Ops = 7
	w, err := NewKV(c, sim.NewRNG(1))
	require.NoError(t, err)
	for i := 0; i < 7; i++ {
		_, err := w.Next(i % 5)
		require.NoError(t, err)
	}
	_, err = w.Next(0)
	require.ErrorIs(t, err, ErrDone)
	_, err = w.Next(5)
	require.ErrorContains(t, err, "out of range")
	_, err = w.Next(-1)
	require.ErrorContains(t, err, "out of range")

	c.Ops, c.OpsPerClient = 0, 2
	s, err := NewSet(c, sim.NewRNG(1))
	require.NoError(t, err)
	for i := 0; i < 2; i++ {
		_, err := s.Next(3)
		require.NoError(t, err)
	}
	_, err = s.Next(3)
	require.ErrorIs(t, err, ErrDone)
	_, err = s.Next(2)
	require.NoError(t, err)
}

func TestThinkTime(t *testing.T) {
	d, err := sim.Constant(5 * time.Millisecond)
	require.NoError(t, err)
	c := cfg(t)
	c.Think = d
	w, err := NewRegister(c, sim.NewRNG(1))
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		op, err := w.Next(i % 5)
		require.NoError(t, err)
		require.Equal(t, 5*time.Millisecond, op.Delay)
	}
}

func setOp(t *testing.T) *Op {
	c := Config{Clients: 2, Keys: 1, Ops: 10, Think: think(t)}
	w, err := NewSet(c, sim.NewRNG(1))
	require.NoError(t, err)
	op, err := w.Next(1)
	require.NoError(t, err)
	require.Equal(t, history.Add, op.Kind())
	require.Equal(t, "set0", op.Key())
	require.Equal(t, "c1-1", op.Value())
	require.Equal(t, Request{Method: Get, Key: "set0"}, op.Start())
	return op
}

func TestSetOutcomeMapping(t *testing.T) {
	okGet := Response{Status: OK, Values: [][]byte{[]byte("c0-1\nc0-2")}, Context: []byte("ctx")}
	for _, tc := range []struct {
		name     string
		get, put Response
		want     history.Type
		wantErr  string
		sentPut  bool
	}{
		{"get timeout: no write was sent", Response{Status: Info, Err: "timeout"}, Response{}, history.Fail, "read before add: timeout", false},
		{"get fail", Response{Status: Fail}, Response{}, history.Fail, "read before add: fail", false},
		{"get invalid status", Response{}, Response{}, history.Fail, "invalid response status 0", false},
		{"get garbage", Response{Status: OK, Values: [][]byte{[]byte("b\na")}}, Response{}, history.Fail, "not sorted", false},
		{"put ok", okGet, Response{Status: OK}, history.OK, "", true},
		{"put timeout", okGet, Response{Status: Info, Err: "timeout"}, history.Info, "timeout", true},
		{"put fewer than W acks", okGet, Response{Status: Info, Err: "1 of 2 acks"}, history.Info, "1 of 2 acks", true},
		{"put fail", okGet, Response{Status: Fail, Err: "no coordinator"}, history.Fail, "no coordinator", true},
		{"put invalid status", okGet, Response{Status: 9}, history.Info, "invalid response status 9", true},
	} {
		op := setOp(t)
		next, done := op.Step(tc.get)
		if tc.sentPut {
			require.False(t, done, tc.name)
			require.Equal(t, Request{Method: Put, Key: "set0", Value: []byte("c0-1\nc0-2\nc1-1"), Context: []byte("ctx")}, next, tc.name)
			require.Equal(t, []string{"c0-1", "c0-2"}, op.Seen(), tc.name)
			require.False(t, op.Done())
			_, done = op.Step(tc.put)
		}
		require.True(t, done, tc.name)
		require.True(t, op.Done(), tc.name)
		comp := op.Completion()
		assert.Equal(t, tc.want, comp.Type, tc.name)
		assert.Equal(t, 1, comp.Client, tc.name)
		assert.Contains(t, comp.Err, tc.wantErr, tc.name)
		assert.Empty(t, comp.Values, tc.name)
		// Stepping a finished op changes nothing.
		_, again := op.Step(Response{Status: OK})
		require.True(t, again)
		require.Equal(t, comp, op.Completion())
	}
}

func TestSetSiblingUnion(t *testing.T) {
	op := setOp(t)
	sib := Response{Status: OK, Context: []byte("vc"), Values: [][]byte{
		[]byte("c0-1\nc0-3"), []byte("c0-2\nc0-3\nc1-9"), nil,
	}}
	next, done := op.Step(sib)
	require.False(t, done)
	assert.Equal(t, "c0-1\nc0-2\nc0-3\nc1-1\nc1-9", string(next.Value))
	assert.Equal(t, []byte("vc"), next.Context)
	assert.Equal(t, []string{"c0-1", "c0-2", "c0-3", "c1-9"}, op.Seen())

	// An empty set (not found) is fine: the put holds just the element.
	op = setOp(t)
	next, done = op.Step(Response{Status: OK})
	require.False(t, done)
	assert.Equal(t, "c1-1", string(next.Value))
	assert.Nil(t, next.Context)
	assert.Nil(t, op.Seen())

	// A final read of a set returns the union of the siblings' elements.
	w, err := NewSet(Config{Clients: 1, Keys: 2, Ops: 1, Think: think(t)}, sim.NewRNG(1))
	require.NoError(t, err)
	fr, err := w.FinalRead(9, "set1")
	require.NoError(t, err)
	inv := fr.Invocation()
	assert.True(t, inv.Final)
	assert.Equal(t, history.Read, inv.Kind)
	assert.Equal(t, 9, inv.Client)
	_, done = fr.Step(Response{Status: OK, Values: [][]byte{[]byte("a\nb"), []byte("b\nc")}})
	require.True(t, done)
	assert.Equal(t, history.Event{Client: 9, Type: history.OK, Values: []string{"a", "b", "c"}}, fr.Completion())
	_, err = w.FinalRead(0, "set7")
	require.ErrorContains(t, err, "not one of its keys")
	_, err = w.FinalRead(-1, "set1")
	require.ErrorContains(t, err, "negative client")
	assert.Empty(t, w.WrittenKeys(), "a final read writes nothing")
}

func TestReadAndWriteMapping(t *testing.T) {
	c := Config{Clients: 1, Keys: 1, ReadRatio: 0.5, Ops: 1000, Think: think(t)}
	w, err := NewKV(c, sim.NewRNG(2))
	require.NoError(t, err)
	var read, write *Op
	for read == nil || write == nil {
		op, err := w.Next(0)
		require.NoError(t, err)
		kept := *op // Next reuses the client's op: keep a copy
		if op.Kind() == history.Read && read == nil {
			read = &kept
		}
		if op.Kind() == history.Write && write == nil {
			write = &kept
		}
	}
	_, done := read.Step(Response{Status: OK, Values: [][]byte{[]byte("z"), []byte("a")}})
	require.True(t, done)
	assert.Equal(t, history.Event{Client: 0, Type: history.OK, Values: []string{"a", "z"}}, read.Completion())

	for _, tc := range []struct {
		resp Response
		want history.Event
	}{
		{Response{Status: OK}, history.Event{Type: history.OK, NotFound: true}},
		{Response{Status: Info, Err: "timeout"}, history.Event{Type: history.Fail, Err: "timeout"}},
		{Response{Status: Fail}, history.Event{Type: history.Fail, Err: "fail"}},
	} {
		op, err := w.FinalRead(0, "k0")
		require.NoError(t, err)
		assert.Equal(t, "k0", op.Key())
		assert.True(t, op.Final())
		op.Step(tc.resp)
		assert.Equal(t, tc.want, op.Completion())
	}

	for _, tc := range []struct {
		status Status
		want   history.Type
	}{{OK, history.OK}, {Fail, history.Fail}, {Info, history.Info}, {0, history.Info}, {42, history.Info}} {
		op := *write // a fresh copy of the unfinished op
		op.Step(Response{Status: tc.status})
		assert.Equal(t, tc.want, op.Completion().Type, "status %v", tc.status)
	}
	notDone, err := w.Next(0)
	require.NoError(t, err)
	assert.Equal(t, history.Info, notDone.Completion().Type, "an unfinished op completes as info")
	assert.False(t, notDone.Done())
}

// A client's write carries the causal context and seen values of its last
// read of the key; an acknowledged write that returns a context replaces it.
func TestContextThreading(t *testing.T) {
	c := Config{Clients: 1, Keys: 1, ReadRatio: 0.5, DeleteRatio: 0.2, Ops: 400, Think: think(t)}
	w, err := NewKV(c, sim.NewRNG(11))
	require.NoError(t, err)
	var ctx []byte
	var seen []string
	for i := 0; i < 400; i++ {
		op, err := w.Next(0)
		require.NoError(t, err)
		req := op.Start()
		switch op.Kind() {
		case history.Read:
			vals := [][]byte{[]byte(fmt.Sprintf("x%d", i)), []byte(fmt.Sprintf("y%d", i))}
			newCtx := []byte(fmt.Sprintf("read%d", i))
			status := OK
			if i%5 == 0 {
				status = Info
			}
			op.Step(Response{Status: status, Values: vals, Context: newCtx})
			if status == OK {
				ctx, seen = newCtx, []string{fmt.Sprintf("x%d", i), fmt.Sprintf("y%d", i)}
			}
		case history.Write, history.Delete:
			require.Equal(t, ctx, req.Context, "op %d", i)
			require.Equal(t, seen, op.Invocation().Context, "op %d", i)
			require.Equal(t, seen, op.Seen(), "op %d", i)
			switch i % 3 {
			case 0:
				op.Step(Response{Status: OK, Context: []byte(fmt.Sprintf("w%d", i))})
				ctx = []byte(fmt.Sprintf("w%d", i))
				seen = nil
				if op.Kind() == history.Write {
					seen = []string{op.Value()}
				}
			case 1:
				op.Step(Response{Status: OK}) // no context returned: keep the read's
			default:
				op.Step(Response{Status: Info})
			}
		}
	}
}

func TestEncodeDecodeSet(t *testing.T) {
	assert.Equal(t, "a\nb\nc", string(EncodeSet([]string{"c", "a", "b", "a"})))
	assert.Empty(t, EncodeSet(nil))
	got, err := DecodeSet(nil)
	require.NoError(t, err)
	assert.Nil(t, got)
	for _, bad := range []string{"a\n\nb", "b\na", "a\na", "\n"} {
		_, err := DecodeSet([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
	rapid.Check(t, func(t *rapid.T) {
		elems := rapid.SliceOf(rapid.StringMatching(`[a-z0-9-]{1,8}`)).Draw(t, "elems")
		enc := EncodeSet(elems)
		dec, err := DecodeSet(enc)
		require.NoError(t, err)
		want := append([]string(nil), elems...)
		sort.Strings(want)
		var uniq []string
		for i, e := range want {
			if i == 0 || e != want[i-1] {
				uniq = append(uniq, e)
			}
		}
		require.Equal(t, uniq, dec)
		require.Equal(t, enc, EncodeSet(dec), "encoding is canonical")
	})
}

func TestWrittenKeysAndFinalReads(t *testing.T) {
	c := Config{Clients: 3, Keys: 12, ReadRatio: 0, Ops: 5, Think: think(t)}
	w, err := NewKV(c, sim.NewRNG(4))
	require.NoError(t, err)
	assert.Empty(t, w.WrittenKeys())
	var keys []string
	for i := 0; i < 5; i++ {
		op, err := w.Next(i % 3)
		require.NoError(t, err)
		keys = append(keys, op.Key())
	}
	sort.Strings(keys)
	var uniq []string
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			uniq = append(uniq, k)
		}
	}
	assert.Equal(t, uniq, w.WrittenKeys())
	assert.Equal(t, "k00", w.Keys()[0], "key names are zero-padded so they sort numerically")
	assert.Len(t, w.Keys(), 12)
	for _, k := range w.WrittenKeys() {
		op, err := w.FinalRead(100, k)
		require.NoError(t, err)
		assert.Equal(t, Request{Method: Get, Key: k}, op.Start())
		assert.True(t, op.Invocation().Final)
	}
}

func BenchmarkRegisterOps(b *testing.B) {
	w, err := NewRegister(Config{Clients: 10, Keys: 10, ReadRatio: 0.5, Ops: 1 << 62, Think: think(b)}, sim.NewRNG(1))
	require.NoError(b, err)
	resp := Response{Status: OK, Values: [][]byte{[]byte("c1-1")}, Context: []byte("ctx")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		op, err := w.Next(i % 10)
		if err != nil {
			b.Fatal(err)
		}
		op.Start()
		op.Step(resp)
		op.Completion()
	}
}

// Next hands a client the same Op again once its last one is done; what
// the cluster recorded of the last one (its events) stays as it was.
func TestNextReusesTheClientsOp(t *testing.T) {
	c := Config{Clients: 2, Keys: 1, ReadRatio: 1, Ops: 10, Think: think(t)}
	w, err := NewKV(c, sim.NewRNG(3))
	require.NoError(t, err)
	first, err := w.Next(0)
	require.NoError(t, err)
	inv := first.Invocation()
	_, done := first.Step(Response{Status: OK, Values: [][]byte{[]byte("b"), []byte("a")}})
	require.True(t, done)
	comp := first.Completion()

	second, err := w.Next(0)
	require.NoError(t, err)
	assert.Same(t, first, second, "the client's op is reused")
	assert.False(t, second.Done(), "the reused op starts afresh")
	other, err := w.Next(1)
	require.NoError(t, err)
	assert.NotSame(t, second, other, "each client has its own op")
	second.Step(Response{Status: OK, Values: [][]byte{[]byte("z")}})

	assert.Equal(t, history.Event{Client: 0, Kind: history.Read, Key: "k0"}, inv)
	assert.Equal(t, history.Event{Client: 0, Type: history.OK, Values: []string{"a", "b"}}, comp)
}
