package kv

import (
	"reflect"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/require"
)

// fill sets every field reachable from v to a non-zero value, so a field
// the generated codec forgets arrives as zero and the round trip differs.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(3 + depth))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(5 + depth))
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 6 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("codec") != "-" {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

// TestEveryWireFieldRoundTrips guards the generated codecs: every exported
// field of Message, at every depth, survives the wire (except the local
// inputs' fields, tagged codec:"-", which never cross it). Adding a field
// without regenerating message_codecgen.go (go generate ./kv) fails here.
func TestEveryWireFieldRoundTrips(t *testing.T) {
	h := &codec.MsgpackHandle{}
	h.Canonical, h.StructToArray, h.WriteExt, h.RawToString = true, true, true, true
	var m Message
	fill(reflect.ValueOf(&m).Elem(), 0)
	require.NotZero(t, m.Reply.Coordinator)
	require.NotEmpty(t, m.Versions[0].Context)
	var buf []byte
	require.NoError(t, codec.NewEncoderBytes(&buf, h).Encode(&m))
	var out Message
	require.NoError(t, codec.NewDecoderBytes(buf, h).Decode(&out))
	require.Equal(t, m, out)
	_, generated := any(&m).(codec.Selfer)
	require.True(t, generated, "Message should use its generated codec (go generate ./kv)")
}
