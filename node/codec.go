package node

import (
	"fmt"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// NewMsgpackHandle returns a msgpack handle configured as faultline's wire
// format: canonical (map keys sorted, so equal values encode to equal
// bytes), structs as arrays of their fields in declaration order, the
// current msgpack spec for strings and binary, and strings when decoding
// into an untyped value.
func NewMsgpackHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.Canonical = true
	h.StructToArray = true
	h.WriteExt = true
	h.RawToString = true
	return h
}

var msgpackHandle = NewMsgpackHandle()

// SelfCoder is Codec's fast path: a message type whose pointer implements
// it encodes and decodes itself (as msgpack, e.g. with hand-written or
// generated code), and a Codec for it calls these methods instead of
// go-msgpack. AppendMsgpack appends the encoding to buf; DecodeMsgpack
// decodes a whole payload into the zero value and must return an error,
// never panic, on malformed input or trailing bytes.
type SelfCoder interface {
	AppendMsgpack(buf []byte) ([]byte, error)
	DecodeMsgpack(payload []byte) error
}

// Codec encodes and decodes messages of type M with msgpack, reusing its
// buffers: the default way for a node to turn its messages into payloads.
// If *M implements SelfCoder the codec calls its methods; otherwise it uses
// go-msgpack with NewMsgpackHandle's settings. A Codec belongs to one node;
// it is not safe for concurrent use.
type Codec[M any] struct {
	self    bool // *M implements SelfCoder
	enc     *codec.Encoder
	dec     *codec.Decoder
	scratch []byte
}

// NewCodec returns a msgpack codec for M.
func NewCodec[M any]() *Codec[M] {
	c := &Codec[M]{}
	if _, ok := any((*M)(nil)).(SelfCoder); ok {
		c.self = true
		return c
	}
	c.enc = codec.NewEncoderBytes(&c.scratch, msgpackHandle)
	c.dec = codec.NewDecoderBytes(nil, msgpackHandle)
	return c
}

// Append encodes m and appends it to buf.
func (c *Codec[M]) Append(buf []byte, m *M) ([]byte, error) {
	if c.self {
		return any(m).(SelfCoder).AppendMsgpack(buf)
	}
	// The encoder writes from the start of its destination, so encode into
	// the scratch buffer and append that.
	c.enc.ResetBytes(&c.scratch)
	if err := c.enc.Encode(m); err != nil {
		return buf, err
	}
	return append(buf, c.scratch...), nil
}

// Encode returns m encoded in a new slice.
func (c *Codec[M]) Encode(m *M) ([]byte, error) { return c.Append(nil, m) }

// Decode decodes payload into m, which should be the zero value. It fails
// on malformed input and on trailing bytes.
func (c *Codec[M]) Decode(payload []byte, m *M) error {
	if c.self {
		return any(m).(SelfCoder).DecodeMsgpack(payload)
	}
	c.dec.ResetBytes(payload)
	if err := c.dec.Decode(m); err != nil {
		return err
	}
	if n := c.dec.NumBytesRead(); n != len(payload) {
		return fmt.Errorf("%d trailing bytes after the message", len(payload)-n)
	}
	return nil
}
