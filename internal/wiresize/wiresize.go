// Package wiresize computes the exact msgpack length of the pieces of a
// message (integers, container and string headers), so protocols can count
// the bytes they would put on the wire without encoding. It imports nothing
// and may be imported by any package.
package wiresize

// Uint is the msgpack length of an unsigned integer: positive fixint,
// uint8, uint16, uint32 or uint64.
func Uint(x uint64) int {
	switch {
	case x <= 127:
		return 1
	case x <= 0xff:
		return 2
	case x <= 0xffff:
		return 3
	case x <= 0xffffffff:
		return 5
	}
	return 9
}

// Container is the header length of an array or map of n elements:
// fixarray/fixmap, array16/map16 or array32/map32.
func Container(n int) int {
	switch {
	case n < 16:
		return 1
	case n < 1<<16:
		return 3
	}
	return 5
}

// Str is the header length of a string of n bytes in the legacy raw format
// the default handle (WriteExt false) writes: fixraw, raw16 or raw32.
func Str(n int) int {
	switch {
	case n < 32:
		return 1
	case n < 1<<16:
		return 3
	}
	return 5
}
