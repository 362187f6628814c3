package kv

import (
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// The wire codec's tests compare it with its description in codec.go
// (wireForm, by reflection over the types) and with the go-msgpack codec it
// replaced (old), which encodes every struct as an array of all its fields.

var (
	msgpackHandle = node.NewMsgpackHandle()
	// genericHandle decodes into interface{} as any msgpack decoder would:
	// str as string, binary as []byte.
	genericHandle = &codec.MsgpackHandle{}
)

func init() { genericHandle.WriteExt = true }

// tb is what these helpers need of a test: testing.TB or *rapid.T.
type tb interface {
	require.TestingT
	Helper()
	Fatalf(format string, args ...any)
}

// oldRoundTrip encodes v with go-msgpack (by reflection: structs as arrays
// of all their fields, the format before codec.go) and decodes the result
// into a new value of v's type.
func oldRoundTrip[T any](t tb, v *T) T {
	var b []byte
	require.NoError(t, codec.NewEncoderBytes(&b, msgpackHandle).Encode(v))
	var out T
	require.NoError(t, codec.NewDecoderBytes(b, msgpackHandle).Decode(&out))
	return out
}

// newRoundTrip encodes v with the wire codec (through node.Codec, as kv's
// server does) and decodes the result into a new value.
func newRoundTrip[T any](t tb, v *T) ([]byte, T) {
	c := node.NewCodec[T]()
	b, err := c.Encode(v)
	require.NoError(t, err)
	var out T
	require.NoError(t, c.Decode(b, &out))
	return b, out
}

// local returns m without its local-input fields (codec:"-"), which never
// cross the wire.
func local(m Message) Message {
	m.Ring, m.Point, m.Peer = nil, 0, 0
	return m
}

var pairTypes = map[reflect.Type]bool{
	reflect.TypeFor[Dot]():          true,
	reflect.TypeFor[ClockEntry]():   true,
	reflect.TypeFor[ring.Arc]():     true,
	reflect.TypeFor[merkle.Entry](): true,
}

// wireForm is what codec.go says v encodes to, as generic() normalizes a
// generic msgpack decoder's result: a struct is a map of its non-zero
// fields keyed by field index, a pair an array of its two fields, a []byte
// binary (nil: nil), any other slice an array.
func wireForm(t tb, v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x := v.Int(); x < 0 {
			return x
		}
		return uint64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.String:
		return v.String()
	case reflect.Pointer:
		return wireForm(t, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return append([]byte{}, v.Bytes()...)
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = wireForm(t, v.Index(i))
		}
		return out
	case reflect.Struct:
		if pairTypes[v.Type()] {
			require.Equal(t, 2, v.NumField(), "%v is a pair", v.Type())
			return []any{wireForm(t, v.Field(0)), wireForm(t, v.Field(1))}
		}
		out := map[any]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Tag.Get("codec") == "-" {
				continue
			}
			require.True(t, f.IsExported(), "%v.%s: a wire field must be exported", v.Type(), f.Name)
			if !v.Field(i).IsZero() {
				out[uint64(i)] = wireForm(t, v.Field(i))
			}
		}
		return out
	}
	t.Fatalf("%v has no wire form", v.Type())
	return nil
}

// generic decodes b with go-msgpack into an interface{} (as any msgpack
// decoder could) and normalizes the result to wireForm's types.
func generic(t tb, b []byte) any {
	var out any
	dec := codec.NewDecoderBytes(b, genericHandle)
	require.NoError(t, dec.Decode(&out), "a generic msgpack decoder parses % x", b)
	require.Equal(t, len(b), dec.NumBytesRead(), "one msgpack value")
	var norm func(x any) any
	norm = func(x any) any {
		switch x := x.(type) {
		case map[any]any:
			out := map[any]any{}
			for k, v := range x {
				out[norm(k)] = norm(v)
			}
			return out
		case []any:
			for i := range x {
				x[i] = norm(x[i])
			}
			return x
		case int64:
			if x >= 0 {
				return uint64(x)
			}
		case []byte:
			return append([]byte{}, x...)
		}
		return x
	}
	return norm(out)
}

// checkWire checks that m encodes as codec.go describes, decodes to
// itself, and decodes to what the old codec made of it.
func checkWire(t tb, m Message) []byte {
	m = local(m)
	b, got := newRoundTrip(t, &m)
	require.Equal(t, wireForm(t, reflect.ValueOf(m)), generic(t, b), "the wire form of %+v", m)
	require.Equal(t, m, got, "round trip")
	require.Equal(t, oldRoundTrip(t, &m), got, "what the old codec decoded")
	out := append([]byte{}, b...)
	for i := range b {
		b[i] = 0xc1 // the network reuses payload buffers
	}
	require.Equal(t, m, got, "the decoded message shares no memory with the payload")
	return out
}

// counter hands out distinct values, so fields that are swapped on the
// wire never hold equal values.
type counter struct{ n uint64 }

func (c *counter) next() uint64 { c.n++; return c.n }

// fill sets every wire field reachable from v to a distinct non-zero
// value; slices get two elements.
func fill(v reflect.Value, c *counter, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", c.next()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(c.next()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(c.next())
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), c, depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 8 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), c, depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("codec") != "-" {
				fill(v.Field(i), c, depth+1)
			}
		}
	}
}

// TestEveryWireFieldRoundTrips guards the hand-written codec: a Message
// with every wire field, at every depth, set to a distinct value survives
// the wire and encodes as codec.go says (except the local inputs' fields,
// tagged codec:"-", which never cross it). A field added to a wire type and
// not to codec.go, or two fields swapped, fails here.
func TestEveryWireFieldRoundTrips(t *testing.T) {
	var m Message
	fill(reflect.ValueOf(&m).Elem(), &counter{}, 0)
	require.NotZero(t, m.Reply.Coordinator)
	require.NotEmpty(t, m.Versions[0].Context)
	require.NotEmpty(t, m.Gossip.Entries[1].Claims)
	checkWire(t, m)
	// The first n fields, for every n: maps of 15 fields (fixmap) and of 16
	// and more (map16).
	for n := 1; n < reflect.TypeFor[Message]().NumField(); n++ {
		var part Message
		for i := range n {
			reflect.ValueOf(&part).Elem().Field(i).Set(reflect.ValueOf(m).Field(i))
		}
		checkWire(t, part)
	}
	for _, v := range []any{KeySnapshot{}, Hint{}} {
		p := reflect.New(reflect.TypeOf(v))
		fill(p.Elem(), &counter{}, 0)
		switch p := p.Interface().(type) {
		case *KeySnapshot:
			b, got := newRoundTrip(t, p)
			require.Equal(t, *p, got)
			require.Equal(t, wireForm(t, reflect.ValueOf(*p)), generic(t, b))
		case *Hint:
			b, got := newRoundTrip(t, p)
			require.Equal(t, *p, got)
			require.Equal(t, wireForm(t, reflect.ValueOf(*p)), generic(t, b))
		}
	}
}

// leaves calls f with one value of type t per leaf reachable from t, in
// which only that leaf is set (to each of the values of edges), with the
// containers on the way to it: one-element slices, pointers. It also calls
// f with the empty shapes a leaf can be missing from: a pointer to a zero
// struct, an empty non-nil slice, a slice of one zero element.
func leaves(t reflect.Type, f func(v reflect.Value, path string)) {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.Tag.Get("codec") == "-" {
				continue
			}
			leaves(sf.Type, func(fv reflect.Value, path string) {
				v := reflect.New(t).Elem()
				v.Field(i).Set(fv)
				f(v, sf.Name+path)
			})
		}
	case reflect.Pointer:
		f(reflect.New(t.Elem()), "=&{}")
		leaves(t.Elem(), func(ev reflect.Value, path string) {
			p := reflect.New(t.Elem())
			p.Elem().Set(ev)
			f(p, path)
		})
	case reflect.Slice:
		f(reflect.MakeSlice(t, 0, 0), "=[]")
		f(reflect.MakeSlice(t, 1, 1), "=[zero]")
		if t.Elem().Kind() == reflect.Uint8 {
			f(reflect.ValueOf([]byte("v")).Convert(t), `="v"`)
			f(reflect.ValueOf([]byte(strings.Repeat("v", 300))).Convert(t), `="v"*300`)
			return
		}
		leaves(t.Elem(), func(ev reflect.Value, path string) {
			s := reflect.MakeSlice(t, 1, 1)
			s.Index(0).Set(ev)
			f(s, "[0]"+path)
		})
	default:
		for _, e := range edges(t) {
			v := reflect.New(t).Elem()
			switch t.Kind() {
			case reflect.String:
				v.SetString(strings.Repeat("k", int(e)))
			case reflect.Bool:
				v.SetBool(true)
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				v.SetInt(int64(e))
			default:
				v.SetUint(e)
			}
			f(v, fmt.Sprintf("=%v", v))
		}
	}
}

// edges returns the non-zero values a leaf of type t is tried with: the
// bounds of msgpack's integer forms that fit t (signed types also take
// their negative bounds), string lengths at str8 and str16.
func edges(t reflect.Type) []uint64 {
	switch t.Kind() {
	case reflect.Bool:
		return []uint64{1}
	case reflect.String:
		return []uint64{1, 31, 32, 255, 256}
	}
	var out []uint64
	for _, x := range []uint64{1, 31, 32, 33, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64} {
		if t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64 {
			if x <= math.MaxInt64>>(64-t.Bits()) {
				out = append(out, x, -x)
			}
			if x == math.MaxUint64 {
				out = append(out, 1<<(t.Bits()-1)|(math.MaxUint64<<t.Bits())) // the most negative
			}
		} else if x <= math.MaxUint64>>(64-t.Bits()) {
			out = append(out, x)
		}
	}
	return out
}

// TestEachWireFieldAlone sets one leaf of a Message at a time, so a field
// the encoder leaves out when it is the only one set (a struct's zero test
// missing a field) fails too, and tries each integer at the bounds of its
// msgpack forms.
func TestEachWireFieldAlone(t *testing.T) {
	n := 0
	leaves(reflect.TypeFor[Message](), func(v reflect.Value, path string) {
		n++
		m := v.Interface().(Message)
		t.Run(path, func(t *testing.T) { checkWire(t, m) })
	})
	t.Logf("%d messages", n)
}

// drawValue sets v to an arbitrary value of its type: slices nil, empty or
// with elements, pointers nil or not, integers anywhere in their range.
func drawValue(t *rapid.T, v reflect.Value, label string, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rapid.Bool().Draw(t, label))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		v.SetInt(rapid.Int64Range(math.MinInt64>>(64-bits), math.MaxInt64>>(64-bits)).Draw(t, label))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rapid.Uint64Range(0, math.MaxUint64>>(64-v.Type().Bits())).Draw(t, label))
	case reflect.String:
		v.SetString(string(rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, label)))
	case reflect.Pointer:
		if rapid.Bool().Draw(t, label+"?") {
			p := reflect.New(v.Type().Elem())
			drawValue(t, p.Elem(), label, depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		switch rapid.IntRange(0, 2).Draw(t, label+"/shape") {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				v.SetBytes(rapid.SliceOfN(rapid.Byte(), 1, 300).Draw(t, label))
				return
			}
			most := 3
			if k := v.Type().Elem().Kind(); depth < 4 && k != reflect.Struct || k == reflect.Slice {
				most = 20 // past a fixarray
			}
			s := reflect.MakeSlice(v.Type(), rapid.IntRange(1, most).Draw(t, label+"/len"), most)
			for i := range s.Len() {
				drawValue(t, s.Index(i), fmt.Sprintf("%s[%d]", label, i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.Tag.Get("codec") != "-" {
				drawValue(t, v.Field(i), label+"."+f.Name, depth+1)
			}
		}
	}
}

// TestWireRoundTripProperty: an arbitrary Message (every wire field drawn,
// nil and empty slices apart) encodes as codec.go says, decodes to itself,
// and to what the old codec decoded; so do KeySnapshot and Hint.
func TestWireRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var m Message
		drawValue(t, reflect.ValueOf(&m).Elem(), "m", 0)
		checkWire(t, m)
		var h Hint
		drawValue(t, reflect.ValueOf(&h).Elem(), "h", 0)
		b, got := newRoundTrip(t, &h)
		require.Equal(t, h, got)
		require.Equal(t, oldRoundTrip(t, &h), got)
		require.Equal(t, wireForm(t, reflect.ValueOf(h)), generic(t, b))
		var k KeySnapshot
		drawValue(t, reflect.ValueOf(&k).Elem(), "k", 0)
		b, gotK := newRoundTrip(t, &k)
		require.Equal(t, k, gotK)
		require.Equal(t, oldRoundTrip(t, &k), gotK)
		require.Equal(t, wireForm(t, reflect.ValueOf(k)), generic(t, b))
	})
}

// TestArenaDecodesTheSameAndApart: messages decoded from one arena (of
// any chunk size)
// equal their plain decodes, and each is its own memory: scribbling over
// one message's values and clocks, and appending to its slices, changes no
// later message.
func TestArenaDecodesTheSameAndApart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := newArena(rapid.SampledFrom([]int{4, stateChunk, decodeChunk}).Draw(t, "chunk"))
		n := rapid.IntRange(1, 6).Draw(t, "messages")
		plain, carved := make([]Message, n), make([]Message, n)
		for i := range n {
			var m Message
			drawValue(t, reflect.ValueOf(&m).Elem(), fmt.Sprint("m", i), 0)
			b, err := m.AppendMsgpack(nil)
			require.NoError(t, err)
			require.NoError(t, plain[i].DecodeMsgpack(b))
			require.NoError(t, carved[i].decodeFrom(b, &a))
			require.Equal(t, plain[i], carved[i])
		}
		requireApart(t, plain, carved, "message", nil)
	})
}

// TestArenaClonesTheSameAndApart: arena.cloneVersions makes what
// cloneVersions makes (nil stays nil, empty stays empty), and clones are
// each their own memory, apart from their source.
func TestArenaClonesTheSameAndApart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := newArena(rapid.SampledFrom([]int{4, stateChunk, decodeChunk}).Draw(t, "chunk"))
		n := rapid.IntRange(1, 6).Draw(t, "lists")
		src, want, got := make([]Message, n), make([]Message, n), make([]Message, n)
		for i := range n {
			drawValue(t, reflect.ValueOf(&src[i].Versions).Elem(), fmt.Sprint("vs", i), 0)
			want[i].Versions = cloneVersions(src[i].Versions)
			got[i].Versions = a.cloneVersions(src[i].Versions)
			require.Equal(t, want[i], got[i])
		}
		requireApart(t, want, got, "clone", func(i int) {
			require.Equal(t, want[i], Message{Versions: cloneVersions(src[i].Versions)}, "scribbling over clone %d changed its source", i)
		})
	})
}

// TestArenaKeysInterned: arena.key returns the key's bytes as a string of
// its own (scribbling over the bytes afterwards changes nothing), the same
// string every time for the same bytes, whether it was found in the recent
// slots (keys of one length and last byte share one) or interned.
func TestArenaKeysInterned(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var a arena
		key := rapid.Custom(func(t *rapid.T) string {
			return string(rapid.SliceOfN(rapid.ByteRange('a', 'h'), 0, 4).Draw(t, "bytes"))
		})
		pool := rapid.SliceOfNDistinct(key, 1, 40, func(s string) string { return s }).Draw(t, "keys")
		first := map[string]string{}
		buf := make([]byte, 0, 8)
		for range rapid.IntRange(1, 200).Draw(t, "lookups") {
			k := rapid.SampledFrom(pool).Draw(t, "key")
			buf = append(buf[:0], k...)
			got := a.key(buf)
			for i := range buf {
				buf[i] ^= 0xff
			}
			require.Equal(t, k, got)
			if f, ok := first[k]; ok {
				require.True(t, unsafe.StringData(f) == unsafe.StringData(got), "key %q interned twice", k)
			}
			first[k] = got
		}
		for k, s := range first {
			require.Equal(t, k, s, "a returned key changed")
		}
	})
}

// TestArenaValuesApart: value slices carved by newValues hold what is
// appended to them, each in its own memory: filling one, even past the
// room it was made with, changes no other.
func TestArenaValuesApart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := newArena(rapid.SampledFrom([]int{4, stateChunk, decodeChunk}).Draw(t, "chunk"))
		n := rapid.IntRange(1, 12).Draw(t, "slices")
		got, want := make([][][]byte, n), make([][][]byte, n)
		for i := range n {
			room := rapid.IntRange(0, 20).Draw(t, "room")
			got[i] = a.newValues(room)
			if room == 0 {
				require.Nil(t, got[i])
			}
			require.Zero(t, len(got[i]))
			for k := range room + rapid.IntRange(0, 2).Draw(t, "past") {
				v := []byte{byte(i), byte(k)}
				got[i] = append(got[i], v)
				want[i] = append(want[i], v)
			}
		}
		for i := range n {
			require.Equal(t, want[i], got[i], "slice %d", i)
		}
	})
}

// requireApart scribbles over each carved message in turn (after, if not
// nil, checks more once message i is scribbled over) and requires every
// later one to still equal what it should: over every pair i < j, sharing
// memory would show either way.
func requireApart(t *rapid.T, want, carved []Message, what string, after func(i int)) {
	for i := range carved {
		scribble(&carved[i])
		if after != nil {
			after(i)
		}
		for j := i + 1; j < len(carved); j++ {
			require.Equal(t, want[j], carved[j], "scribbling over %s %d changed %s %d", what, i, what, j)
		}
	}
}

// scribble overwrites every byte and clock entry of m's versions and
// appends to each of their slices.
func scribble(m *Message) {
	lists := [][]Version{m.Versions}
	for _, it := range m.Items {
		lists = append(lists, it.Versions)
	}
	for _, vs := range lists {
		for i := range vs {
			v := &vs[i]
			for k := range v.Value {
				v.Value[k] = 0xff
			}
			_ = append(v.Value, 0xee)
			for k := range v.Context {
				v.Context[k] = ClockEntry{Node: 999, Counter: 999}
			}
			_ = append(v.Context, ClockEntry{Node: 998})
		}
		_ = append(vs, Version{Timestamp: 997})
	}
	if m.Req != nil {
		_ = append(m.Req.Value, 0xdd)
	}
}

// TestWireFormatExample pins the example of codec.go's description.
func TestWireFormatExample(t *testing.T) {
	m := Message{Type: MsgWrite, Op: 7, Key: "k", Versions: []Version{{Value: []byte("v"), Timestamp: 1000, Dot: Dot{Node: 1, Counter: 1<<32 | 1}}}}
	b := checkWire(t, m)
	assert.Equal(t, "84"+"0001"+"0107"+"02a16b"+"0391"+"83"+"00c40176"+"02cd03e8"+"039201cf0000000100000001", hex.EncodeToString(b))
	assert.Len(t, b, 31)
}

// typicalMessages are the messages of a run's common exchanges.
func typicalMessages() map[string]Message {
	v := func(val string, node sim.NodeID, seq uint64) Version {
		return Version{Value: []byte(val), Timestamp: 1_700_000_000_123_456_789 + int64(seq), Dot: Dot{Node: node, Counter: 3<<32 | seq}}
	}
	vc := v("sibling", 2, 7)
	vc.Context = VClock{{Node: 1, Counter: 3<<32 | 5}, {Node: 2, Counter: 3<<32 | 6}, {Node: 4, Counter: 1<<32 | 2}}
	hashes := make([]uint64, 16)
	for i := range hashes {
		hashes[i] = 0x9e3779b97f4a7c15 * uint64(i+1)
	}
	var entries []merkle.Entry
	for i := range 6 {
		entries = append(entries, merkle.Entry{Key: fmt.Sprintf("key%04d", i), Version: 0xc2b2ae3d27d4eb4f * uint64(i+1)})
	}
	return map[string]Message{
		"write":      {Type: MsgWrite, Op: 1234, Key: "key0042", Versions: []Version{v("value-0042-xxxxxx", 1, 99)}},
		"write-ack":  {Type: MsgWriteAck, Op: 1234},
		"read-reply": {Type: MsgReadReply, Op: 1235, Key: "key0042", Versions: []Version{v("value-0042-xxxxxx", 1, 99), vc}},
		"tree-request": {Type: MsgTreeRequest, Op: 77, Tree: &merkle.Request{ID: 3, Range: merkle.Range{Start: 0x1234567890abcdef, End: 0x3234567890abcdef},
			Depth: 3, Fanout: 8, Kind: merkle.KindHashes, Level: 1, Indexes: []uint32{0, 3, 5}}},
		"tree-reply": {Type: MsgTreeReply, Op: 77, TreeReply: &merkle.Response{ID: 3, Range: merkle.Range{Start: 0x1234567890abcdef, End: 0x3234567890abcdef},
			Kind: merkle.KindHashes, Level: 2, Hashes: hashes}},
		"tree-leaves": {Type: MsgTreeReply, Op: 78, TreeReply: &merkle.Response{ID: 4, Range: merkle.Range{Start: 0x1234567890abcdef, End: 0x3234567890abcdef},
			Kind: merkle.KindLeaves, Level: 3, Entries: entries}},
		"gossip": {Type: MsgGossip, Gossip: &membership.Message{Kind: 1, From: 2, Entries: []membership.Entry{
			{ID: 1, Incarnation: 2, Heartbeat: 1500, Status: membership.Alive, Weight: 1},
			{ID: 2, Incarnation: 1, Heartbeat: 1490, Status: membership.Alive, Weight: 1},
			{ID: 3, Incarnation: 3, Heartbeat: 1200, Status: membership.Suspect, Weight: 1}}}},
	}
}

func TestTypicalMessagesRoundTrip(t *testing.T) {
	for name, m := range typicalMessages() {
		b := checkWire(t, m)
		var old []byte
		require.NoError(t, codec.NewEncoderBytes(&old, msgpackHandle).Encode(&m))
		t.Logf("%-12s %3d bytes (go-msgpack arrays: %3d)", name, len(b), len(old))
	}
}

// A payload that is not a message is an error, never a panic: every
// truncation of real messages, trailing bytes, and hostile headers.
func TestDecodeRejectsMalformedInput(t *testing.T) {
	var full Message
	fill(reflect.ValueOf(&full).Elem(), &counter{}, 0)
	msgs := typicalMessages()
	msgs["full"] = local(full)
	for name, m := range msgs {
		b, err := m.AppendMsgpack(nil)
		require.NoError(t, err)
		for i := range len(b) {
			var out Message
			assert.Error(t, out.DecodeMsgpack(b[:i]), "%s cut at %d of %d bytes", name, i, len(b))
		}
		var out Message
		assert.ErrorContains(t, out.DecodeMsgpack(append(b, 0)), "1 trailing bytes", name)
	}
	for _, tc := range []struct{ name, hex, want string }{
		{"empty", "", "unexpected end"},
		{"not a map", "91", "want a map, got an array"},
		{"nil", "c0", "want a map, got nil"},
		{"unknown field", "811a00", "Message has no field 26"},
		{"a local field", "811700", "Message has no field 23"},
		{"field out of order", "8201000001", "field 0 after field 1"},
		{"field repeated", "8200010001", "field 0 after field 0"},
		{"type overflows", "8100cd0100", "integer 256 overflows 8 bits"},
		{"negative op", "8101ff", "negative integer -1"},
		{"node overflows", "8105cf0000000100000000", "overflows 32 bits"},
		{"timestamp overflows", "81039181" + "02cf8000000000000000", "overflows int64"},
		{"wrong type", "8104a0", "want a boolean, got a string"},
		{"key of a huge length", "8102dbffffffff", "4294967295 bytes of string or binary"},
		{"huge array", "8103ddffffffff", "array of 4294967295 elements"},
		{"huge clock", "81039181049a01010101010101010101", "array of 10 elements in 10 bytes"},
		{"huge map", "df0fffffff", "map of 268435455 entries"},
		{"a dot of 3", "810391810393010101", "want an array of 2 elements, got 3"},
		{"nil value", "8103918100c0", "want a string or binary, got nil"},
		{"float", "8101cb3ff0000000000000", "want an integer, got a float"},
		{"reserved byte", "8101c1", "got the unused byte 0xc1"},
	} {
		b, err := hex.DecodeString(tc.hex)
		require.NoError(t, err)
		var out Message
		assert.ErrorContains(t, out.DecodeMsgpack(b), tc.want, tc.name)
	}
	// What a generic encoder may write is accepted: any integer form that
	// fits, binary for a string, a map16 header.
	b, _ := hex.DecodeString("de0002" + "00d30000000000000001" + "02c4016b")
	var out Message
	require.NoError(t, out.DecodeMsgpack(b))
	assert.Equal(t, Message{Type: MsgWrite, Key: "k"}, out)
}

// capturedMessages returns real encoded messages of every type, two of
// each, from small runs: writes, reads, read repair, forwards and hints
// under a partition; Merkle anti-entropy after one; gossip; a join's range
// handoff.
func capturedMessages(t testing.TB) [][]byte {
	seen := map[MsgType]int{}
	var out [][]byte
	tap := func(p []byte) {
		var m Message
		require.NoError(t, m.DecodeMsgpack(p))
		if seen[m.Type] < 2 {
			seen[m.Type]++
			out = append(out, append([]byte{}, p...))
		}
	}
	cfg := testConfig(VectorClock)
	cfg.Quorum = Sloppy
	c := newSimClusterRing(t, cfg, 5, 1, ring.Config{Seed: 1, VNodes: 2})
	c.tap = tap
	diverge(c, 200, 5, []sim.NodeID{1, 2})
	for i := range 10 {
		c.submit(sim.NodeID(1+i%5), Request{ID: uint64(i + 1), Op: Get, Key: fmt.Sprint("k", i%5)})
	}
	c.settle()
	ae := newSimClusterRing(t, aeConfig(LWW, 2), 5, 1, ring.Config{Seed: 1, VNodes: 2})
	ae.tap = tap
	diverge(ae, 100, 20, []sim.NodeID{1, 2})
	roundsToConverge(ae, 20)
	g := newSimClusterRing(t, gossipConfig(), 3, 1, ring.Config{Seed: 1, VNodes: 4})
	g.tap = tap
	g.round()
	h := newSimClusterRing(t, churnConfig(MembershipOracle), 3, 1, ring.Config{Seed: 1, VNodes: 4})
	h.tap = tap
	for i := range 20 {
		h.submit(1, Request{ID: uint64(i + 1), Op: Put, Key: fmt.Sprint("k", i), Value: []byte("v")})
	}
	h.settle()
	j := h.addSlot()
	r, err := h.ring.Add(ring.Member{ID: j, Weight: 1})
	require.NoError(t, err)
	jn := h.start(j, h.ring)
	for _, n := range h.running() {
		n.SetRing(r)
	}
	h.ring = r
	h.runUntil(50, "handed off", func() bool { return jn.HandoffPending() == 0 })
	return out
}

func TestCapturedMessagesCoverTheWire(t *testing.T) {
	msgs := capturedMessages(t)
	types := map[MsgType]bool{}
	for _, p := range msgs {
		var m Message
		require.NoError(t, m.DecodeMsgpack(p))
		types[m.Type] = true
		again, err := m.AppendMsgpack(nil)
		require.NoError(t, err)
		require.Equal(t, p, again, "re-encoding a %v gives the same bytes", m.Type)
		generic(t, p)
	}
	for _, mt := range []MsgType{MsgWrite, MsgWriteAck, MsgRead, MsgReadReply, MsgForward, MsgForwardReply, MsgHandoff, MsgHandoffAck,
		MsgTreeRequest, MsgTreeReply, MsgRepair, MsgRepairReply, MsgGossip, MsgStreamRequest, MsgStreamData, MsgStreamAck} {
		assert.True(t, types[mt], "no %v captured", mt)
	}
}

// FuzzDecodeMessage: decoding never panics; what decodes re-encodes to
// bytes that decode to the same message and that a generic msgpack
// decoder parses.
func FuzzDecodeMessage(f *testing.F) {
	for _, p := range capturedMessages(f) {
		f.Add(p)
	}
	for _, m := range typicalMessages() {
		b, _ := m.AppendMsgpack(nil)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var m, fromArena Message
		err := m.DecodeMsgpack(p)
		a := newArena(decodeChunk)
		errArena := fromArena.decodeFrom(p, &a)
		require.Equal(t, err, errArena, "an arena changes no error")
		if err != nil {
			return
		}
		require.Equal(t, m, fromArena, "an arena changes no message")
		b, err := m.AppendMsgpack(nil)
		require.NoError(t, err)
		var again Message
		require.NoError(t, again.DecodeMsgpack(b))
		require.Equal(t, m, again)
		b2, _ := again.AppendMsgpack(nil)
		require.Equal(t, b, b2)
		generic(t, b)
	})
}

// BenchmarkCodec encodes and decodes typical messages with the wire codec
// (node.Codec, as kv's server does) and, as the baseline, with go-msgpack
// (node.NewMsgpackHandle: structs as arrays of all their fields; by
// reflection, since the generated code is gone).
func BenchmarkCodec(b *testing.B) {
	msgs := typicalMessages()
	for _, name := range []string{"write", "write-ack", "read-reply", "tree-request", "tree-reply", "tree-leaves", "gossip"} {
		m := msgs[name]
		b.Run(name+"/codec=wire", func(b *testing.B) {
			c := node.NewCodec[Message]()
			benchCodec(b, &m, func(buf []byte, m *Message) ([]byte, error) { return c.Append(buf, m) }, c.Decode)
		})
		b.Run(name+"/codec=go-msgpack", func(b *testing.B) {
			var scratch []byte
			enc := codec.NewEncoderBytes(&scratch, msgpackHandle)
			dec := codec.NewDecoderBytes(nil, msgpackHandle)
			benchCodec(b, &m, func(buf []byte, m *Message) ([]byte, error) {
				enc.ResetBytes(&scratch)
				err := enc.Encode(m)
				return append(buf, scratch...), err
			}, func(p []byte, m *Message) error {
				dec.ResetBytes(p)
				return dec.Decode(m)
			})
		})
	}
}

func benchCodec(b *testing.B, m *Message, enc func([]byte, *Message) ([]byte, error), dec func([]byte, *Message) error) {
	p, err := enc(nil, m)
	require.NoError(b, err)
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			buf, _ = enc(buf[:0], m)
		}
	})
	b.Run("decode", func(b *testing.B) {
		var out Message // reused, as kv's server does
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			out = Message{}
			if err := dec(p, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
