package kv

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// The msgpack primitives of the wire codec (codec.go): appenders that write
// each value in its shortest msgpack form, and a reader that checks every
// read against the bytes left and keeps the first error.

func appendUint(b []byte, x uint64) []byte {
	switch {
	case x <= 0x7f:
		return append(b, byte(x))
	case x <= 0xff:
		return append(b, 0xcc, byte(x))
	case x <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(x))
	case x <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(x))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), x)
}

func appendInt(b []byte, x int64) []byte {
	switch {
	case x >= 0:
		return appendUint(b, uint64(x))
	case x >= -32:
		return append(b, byte(x)) // negative fixint
	case x >= math.MinInt8:
		return append(b, 0xd0, byte(x))
	case x >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(x))
	case x >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(x))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(x))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

func appendStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// appendBin appends p as msgpack binary, or nil if p is nil.
func appendBin(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case p == nil:
		return append(b, 0xc0)
	case n <= 0xff:
		b = append(b, 0xc4, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, p...)
}

func appendArrayHdr(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

// mapWriter writes a map of the non-zero fields of one struct, keyed by
// field number: fields must be written in increasing field number, and
// end writes the map's header in front of them.
type mapWriter struct {
	b  []byte
	at int // where the header goes
	n  int // fields written
}

// startMap starts a map at the end of b, reserving one byte for its header.
func startMap(b []byte) mapWriter { return mapWriter{b: append(b, 0x80), at: len(b)} }

// end returns the buffer with the map's header written: a fixmap, or a
// map16 (the fields shift by two bytes) for 16 or more fields.
func (w *mapWriter) end() []byte {
	if w.n < 16 {
		w.b[w.at] = 0x80 | byte(w.n)
		return w.b
	}
	w.b = append(w.b, 0, 0)
	copy(w.b[w.at+3:], w.b[w.at+1:len(w.b)-2])
	w.b[w.at], w.b[w.at+1], w.b[w.at+2] = 0xde, byte(w.n>>8), byte(w.n)
	return w.b
}

// key writes field number k, whose value the caller appends next.
func (w *mapWriter) key(k byte) {
	w.b = append(w.b, k)
	w.n++
}

func (w *mapWriter) uint(k byte, x uint64) {
	if x != 0 {
		w.key(k)
		w.b = appendUint(w.b, x)
	}
}

func (w *mapWriter) int(k byte, x int64) {
	if x != 0 {
		w.key(k)
		w.b = appendInt(w.b, x)
	}
}

func (w *mapWriter) bool(k byte, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, 0xc3)
	}
}

func (w *mapWriter) str(k byte, s string) {
	if s != "" {
		w.key(k)
		w.b = appendStr(w.b, s)
	}
}

// bin writes p unless it is nil (an empty p is written: it is not nil).
func (w *mapWriter) bin(k byte, p []byte) {
	if p != nil {
		w.key(k)
		w.b = appendBin(w.b, p)
	}
}

// reader decodes msgpack from b. A failed read records the first error,
// skips the rest of the input (so every later read fails at once) and
// returns a zero value; callers check err where a failure would change what
// they do next (before allocating, or at the end). Reads advance an offset
// and never store a pointer, so they need no GC write barrier.
type reader struct {
	b   []byte // the input
	i   int    // the offset of the next byte to read
	at  int    // the offset of the value being read, for errors
	err error
	a   *arena // where decoded pieces come from; nil: one allocation each
}

func newReader(p []byte) reader { return reader{b: p} }

// left returns the number of bytes not yet read.
func (r *reader) left() int { return len(r.b) - r.i }

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("msgpack, byte %d: %s", r.at, fmt.Sprintf(format, args...))
	}
	r.i = len(r.b)
}

// done fails unless the whole input was read.
func (r *reader) done() error {
	if r.err == nil && r.left() > 0 {
		r.err = fmt.Errorf("%d trailing bytes after the message", r.left())
	}
	return r.err
}

// describe names the msgpack type whose header byte is c, for errors.
func describe(c byte) string {
	switch {
	case c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3):
		return "an integer"
	case c <= 0x8f || c == 0xde || c == 0xdf:
		return "a map"
	case c <= 0x9f || c == 0xdc || c == 0xdd:
		return "an array"
	case c <= 0xbf || (c >= 0xd9 && c <= 0xdb):
		return "a string"
	case c == 0xc0:
		return "nil"
	case c == 0xc2 || c == 0xc3:
		return "a boolean"
	case c >= 0xc4 && c <= 0xc6:
		return "binary"
	case c == 0xca || c == 0xcb:
		return "a float"
	case c == 0xc1:
		return "the unused byte 0xc1"
	}
	return "an extension"
}

// next reads the header byte of the next value.
func (r *reader) next() byte {
	r.at = r.i
	if r.i >= len(r.b) {
		r.fail("unexpected end of input")
		return 0xc1
	}
	c := r.b[r.i]
	r.i++
	return c
}

// be reads an n-byte big-endian unsigned integer (n is 1, 2, 4 or 8).
func (r *reader) be(n int) uint64 {
	if r.left() < n {
		r.fail("unexpected end of input")
		return 0
	}
	p := r.b[r.i:]
	var x uint64
	switch n {
	case 1:
		x = uint64(p[0])
	case 2:
		x = uint64(binary.BigEndian.Uint16(p))
	case 4:
		x = uint64(binary.BigEndian.Uint32(p))
	default:
		x = binary.BigEndian.Uint64(p)
	}
	r.i += n
	return x
}

// integer reads any msgpack integer whose header byte c was read: its
// value as an int64, or as a uint64 (big) when it is above math.MaxInt64.
func (r *reader) integer(c byte) (x int64, big uint64, ok bool) {
	switch {
	case c <= 0x7f:
		return int64(c), 0, true
	case c >= 0xe0:
		return int64(int8(c)), 0, true
	case c == 0xcc:
		return int64(r.be(1)), 0, true
	case c == 0xcd:
		return int64(r.be(2)), 0, true
	case c == 0xce:
		return int64(r.be(4)), 0, true
	case c == 0xcf:
		u := r.be(8)
		if u > math.MaxInt64 {
			return 0, u, true
		}
		return int64(u), 0, true
	case c == 0xd0:
		return int64(int8(r.be(1))), 0, true
	case c == 0xd1:
		return int64(int16(r.be(2))), 0, true
	case c == 0xd2:
		return int64(int32(r.be(4))), 0, true
	case c == 0xd3:
		return int64(r.be(8)), 0, true
	}
	r.fail("want an integer, got %s", describe(c))
	return 0, 0, false
}

// uint reads a non-negative integer that fits in bits bits.
func (r *reader) uint(bits int) uint64 {
	c := r.next()
	if c <= 0x7f {
		return uint64(c) // every field has at least 7 bits
	}
	x, big, ok := r.integer(c)
	switch {
	case !ok:
		return 0
	case big != 0:
		if bits == 64 {
			return big
		}
		r.fail("integer %d overflows %d bits", big, bits)
		return 0
	case x < 0:
		r.fail("negative integer %d for an unsigned field", x)
		return 0
	case bits < 64 && uint64(x)>>bits != 0:
		r.fail("integer %d overflows %d bits", x, bits)
		return 0
	}
	return uint64(x)
}

// int64 reads an integer that fits in an int64.
func (r *reader) int64() int64 {
	x, big, ok := r.integer(r.next())
	if ok && big != 0 {
		r.fail("integer %d overflows int64", big)
		return 0
	}
	return x
}

// int reads an integer that fits in an int.
func (r *reader) int() int {
	x := r.int64()
	if strconv.IntSize == 32 && (x < math.MinInt32 || x > math.MaxInt32) {
		r.fail("integer %d overflows int", x)
		return 0
	}
	return int(x)
}

func (r *reader) bool() bool {
	switch c := r.next(); c {
	case 0xc2:
		return false
	case 0xc3:
		return true
	default:
		r.fail("want a boolean, got %s", describe(c))
		return false
	}
}

// raw reads a string or binary value (either is accepted for either) and
// returns its bytes, which alias the input.
func (r *reader) raw() []byte {
	c := r.next()
	var n uint64
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n = uint64(c & 0x1f)
	case c == 0xd9 || c == 0xc4:
		n = r.be(1)
	case c == 0xda || c == 0xc5:
		n = r.be(2)
	case c == 0xdb || c == 0xc6:
		n = r.be(4)
	default:
		r.fail("want a string or binary, got %s", describe(c))
		return nil
	}
	if n > uint64(r.left()) {
		r.fail("%d bytes of string or binary, %d left", n, r.left())
		return nil
	}
	p := r.b[r.i : r.i+int(n) : r.i+int(n)]
	r.i += int(n)
	return p
}

func (r *reader) str() string { return string(r.raw()) }

// key reads a string that names a key: interned when the reader has an
// arena.
func (r *reader) key() string {
	if r.a == nil {
		return r.str()
	}
	p := r.raw()
	if r.err != nil {
		return ""
	}
	return r.a.key(p)
}

// bin reads binary into a new slice: empty, not nil, for empty binary.
func (r *reader) bin() []byte {
	p := r.raw()
	if r.err != nil {
		return nil
	}
	if r.a != nil {
		return r.a.copyBytes(p)
	}
	out := make([]byte, len(p))
	copy(out, p)
	return out
}

// binOrNil reads binary, or nil.
func (r *reader) binOrNil() []byte {
	if r.i < len(r.b) && r.b[r.i] == 0xc0 {
		r.i++
		return nil
	}
	return r.bin()
}

// arrayLen reads an array header. Each element takes at least minBytes
// bytes, so a length the rest of the input cannot hold fails here, before
// anything is allocated for it.
func (r *reader) arrayLen(minBytes int) int {
	return r.containerLen(0x90, 0xdc, 0xdd, minBytes, "an array", "array of %d elements in %d bytes")
}

// pair reads the header of a two-element array.
func (r *reader) pair() {
	if n := r.arrayLen(1); n != 2 && r.err == nil {
		r.fail("want an array of 2 elements, got %d", n)
	}
}

// mapLen reads a map header (a key and a value take at least two bytes).
func (r *reader) mapLen() int {
	return r.containerLen(0x80, 0xde, 0xdf, 2, "a map", "map of %d entries in %d bytes")
}

// containerLen reads an array or map header: fix (its fixed form's first
// byte, 16 lengths), c16 and c32 (its 16- and 32-bit length forms). A length
// of elements of at least minBytes each that the rest of the input cannot
// hold fails, before anything is allocated for it.
func (r *reader) containerLen(fix, c16, c32 byte, minBytes int, want, tooLong string) int {
	c := r.next()
	var n uint64
	switch {
	case c >= fix && c <= fix|0x0f:
		n = uint64(c & 0x0f)
	case c == c16:
		n = r.be(2)
	case c == c32:
		n = r.be(4)
	default:
		r.fail("want %s, got %s", want, describe(c))
		return 0
	}
	if n*uint64(minBytes) > uint64(r.left()) {
		r.fail(tooLong, n, r.left())
		return 0
	}
	return int(n)
}

// fieldIter walks a map of fields keyed by field number, which must come
// in increasing order (so none repeats):
//
//	for it := r.fields(); r.nextField(&it); {
//		switch it.k { ... default: r.unknownField(&it, "name") }
//	}
type fieldIter struct {
	n    int    // fields left
	prev int    // the previous field number, -1 before the first
	k    uint64 // the current field number
}

// fields reads the header of a map of fields.
func (r *reader) fields() fieldIter { return fieldIter{n: r.mapLen(), prev: -1} }

// nextField reads the next field number into it.k; false at the end of the
// map or after an error.
func (r *reader) nextField(it *fieldIter) bool {
	if it.n == 0 || r.err != nil {
		return false
	}
	it.n--
	it.k = r.uint(8)
	if r.err != nil {
		return false
	}
	if int(it.k) <= it.prev {
		r.fail("field %d after field %d", it.k, it.prev)
		return false
	}
	it.prev = int(it.k)
	return true
}

// unknownField fails on a field number what does not have.
func (r *reader) unknownField(it *fieldIter, what string) {
	r.fail("%s has no field %d", what, it.k)
}
