package sim

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Hash is a running FNV-64a trace hash over everything observable in a run:
// delivered messages, client events and faults. Two runs with equal hashes
// observed the same things in the same order. The zero value is not ready;
// use NewHash.
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

// WriteUint64 mixes the 8 little-endian bytes of v into the hash.
func (h *Hash) WriteUint64(v uint64) {
	x := h.h
	for i := 0; i < 8; i++ {
		x ^= v & 0xff
		x *= fnvPrime
		v >>= 8
	}
	h.h = x
}

// Record mixes one observable record (a tag and its fields) into the hash
// and counts it. The tag separates record types so that different records
// with equal fields hash differently.
func (h *Hash) Record(tag string, fields ...uint64) {
	h.WriteString(tag)
	for _, f := range fields {
		h.WriteUint64(f)
	}
	h.n++
}

// Sum64 returns the current hash value.
func (h *Hash) Sum64() uint64 { return h.h }

// Records returns how many records were mixed in with Record.
func (h *Hash) Records() uint64 { return h.n }
