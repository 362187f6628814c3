package transport

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/faultline-sim/faultline/node"
)

// NewHandle returns a fresh msgpack handle configured as the simulated wire
// format: canonical (map keys sorted, so equal values encode to equal bytes),
// structs as arrays of their fields in declaration order (compact, like a
// binary RPC protocol; both ends always share the Go type), the current
// msgpack spec for strings and binary, and strings (not raw bytes) when
// decoding into an untyped value. Use it wherever bytes must match the wire.
func NewHandle() *codec.MsgpackHandle { return node.NewMsgpackHandle() }

// wireHandle is shared read-only by every Network (a codec handle is safe for
// concurrent use once configured, and sharing it shares the type-info cache).
var wireHandle = NewHandle()

var (
	selferType   = reflect.TypeFor[codec.Selfer]()
	binMarshType = reflect.TypeFor[encoding.BinaryMarshaler]()
	timeType     = reflect.TypeFor[time.Time]()
)

// CheckWireType reports whether values of type t survive a trip through the
// simulated wire unchanged, and if not, which part of t is at fault and what
// to use instead. It rejects channels, functions, unsafe pointers, interfaces
// (msgpack cannot restore their concrete type), time.Time (send virtual time
// as sim.Time, an int64) and unexported struct fields (msgpack skips them, so
// they would silently arrive as zero; tag them `codec:"-"` if that is
// intended). Types implementing codec.Selfer or encoding.BinaryMarshaler
// encode themselves and are accepted as they are.
func CheckWireType(t reflect.Type) error {
	if t == nil {
		return errors.New("transport: cannot carry a nil type")
	}
	return checkType(t, t.String(), map[reflect.Type]bool{})
}

func customCodec(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(selferType) || p.Implements(selferType) ||
		t.Implements(binMarshType) || p.Implements(binMarshType)
}

func checkType(t reflect.Type, path string, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if t == timeType {
		return fmt.Errorf("transport: cannot carry %s of type time.Time: send virtual time as sim.Time (int64 nanoseconds)", path)
	}
	if customCodec(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return fmt.Errorf("transport: cannot carry %s of kind %v: messages must be plain data", path, t.Kind())
	case reflect.Interface:
		return fmt.Errorf("transport: cannot carry %s of interface type %v: msgpack cannot restore the concrete type on delivery; use a concrete struct (e.g. a kind field plus optional fields)", path, t)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkType(t.Elem(), path+"[elem]", seen)
	case reflect.Map:
		if err := checkType(t.Key(), path+"[key]", seen); err != nil {
			return err
		}
		return checkType(t.Elem(), path+"[value]", seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fpath := path + "." + f.Name
			if skippedField(f) {
				continue
			}
			if !f.IsExported() && !f.Anonymous {
				return fmt.Errorf("transport: cannot carry %s: unexported fields are not encoded and would arrive as zero; export it or tag it `codec:\"-\"`", fpath)
			}
			if err := checkType(f.Type, fpath, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// skippedField reports whether the codec ignores f because of its tag.
func skippedField(f reflect.StructField) bool {
	for _, key := range []string{"codec", "json"} {
		if tag, ok := f.Tag.Lookup(key); ok {
			name, _, _ := strings.Cut(tag, ",")
			return name == "-"
		}
	}
	return false
}
