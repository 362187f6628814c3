package sim

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	mixPrime  = 0x9e3779b97f4a7c15 // odd: multiplying by it is a bijection
)

// Hash is a running trace hash over everything observable in a run:
// delivered messages, client events and faults. Two runs with equal hashes
// observed the same things in the same order. Bytes (Write, WriteString)
// are mixed in as FNV-64a does, one byte at a time; a 64-bit word
// (WriteUint64, and a Record's tag, eight bytes at a time, and fields) in
// one round of a multiply and an xor-shift. Every step is a bijection of
// the state, so records that differ in one byte or one word always hash
// differently. The zero value is not ready; use NewHash.
type Hash struct {
	h uint64
	n uint64
}

// NewHash returns an empty trace hash.
func NewHash() Hash { return Hash{h: fnvOffset} }

// Write mixes p into the hash. It never fails.
func (h *Hash) Write(p []byte) (int, error) {
	x := h.h
	for _, b := range p {
		x ^= uint64(b)
		x *= fnvPrime
	}
	h.h = x
	return len(p), nil
}

// WriteString mixes the bytes of s into the hash.
func (h *Hash) WriteString(s string) {
	x := h.h
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= fnvPrime
	}
	h.h = x
}

// WriteUint64 mixes the word v into the hash.
func (h *Hash) WriteUint64(v uint64) { h.h = mixWord(h.h, v) }

// mixWord is one round: x xor v, times mixPrime, xor-shifted so that the
// high bits reach the low ones.
func mixWord(x, v uint64) uint64 {
	x = (x ^ v) * mixPrime
	return x ^ x>>32
}

// mixTag mixes the length of s, then its bytes eight at a time (little
// endian, the last word zero-padded): the length keeps "ab" and "ab\x00"
// apart.
func mixTag(x uint64, s string) uint64 {
	x = mixWord(x, uint64(len(s)))
	for len(s) > 0 {
		var w uint64
		k := min(len(s), 8)
		for i := k - 1; i >= 0; i-- {
			w = w<<8 | uint64(s[i])
		}
		x = mixWord(x, w)
		s = s[k:]
	}
	return x
}

// Record mixes one observable record (a tag and its fields) into the hash
// and counts it. The tag separates record types so that different records
// with equal fields hash differently.
func (h *Hash) Record(tag string, fields ...uint64) {
	x := mixTag(h.h, tag)
	for _, f := range fields {
		x = mixWord(x, f)
	}
	h.h = x
	h.n++
}

// Sum64 returns the current hash value.
func (h *Hash) Sum64() uint64 { return h.h }

// Records returns how many records were mixed in with Record.
func (h *Hash) Records() uint64 { return h.n }
