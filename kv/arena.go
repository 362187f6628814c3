package kv

// arena is memory for versions, carved out of shared chunks: a server's
// decoder takes decoded messages from one (and interns their keys), a
// node's state its copies of the versions it keeps, and the coordinator
// the versions it writes and the values it replies with. Every piece carved is
// a fresh slice nothing else uses, with its capacity cut to its length (an
// append to it reallocates rather than reaching a neighbour), so the
// holder may keep and modify it exactly as with one allocation per piece.
// A chunk is freed once nothing carved from it is alive, so a long-lived
// piece keeps its whole chunk alive: chunk sizes trade allocations against
// that. Pieces bigger than a quarter of a chunk get an allocation of their
// own, so a chunk is never mostly waste.
type arena struct {
	chunk    int // versions per chunk; 64 value bytes and 2 clock entries per version
	versions []Version
	bytes    []byte
	clocks   []ClockEntry
	values   [][]byte          // a read reply's values (the coordinator's)
	keys     map[string]string // interned keys, at most arenaKeys
}

const (
	decodeChunk = 64   // the decoder's chunk: what it decodes is mostly short-lived
	stateChunk  = 16   // the state's chunk: what it keeps lives until its key's next write
	arenaKeys   = 4096 // keys interned at most; later keys are allocated
)

// newVersions returns n zero versions, empty but not nil for 0.
func (a *arena) newVersions(n int) []Version {
	if n == 0 {
		return []Version{}
	}
	if n > a.chunk/4 {
		return make([]Version, n)
	}
	if len(a.versions) < n {
		a.versions = make([]Version, a.chunk)
	}
	vs := a.versions[:n:n]
	a.versions = a.versions[n:]
	return vs
}

// copyBytes returns a copy of p, empty but not nil when p is empty.
func (a *arena) copyBytes(p []byte) []byte {
	n := len(p)
	if n == 0 {
		return []byte{}
	}
	if n > 64*a.chunk/4 {
		return append(make([]byte, 0, n), p...)
	}
	if len(a.bytes) < n {
		a.bytes = make([]byte, 64*a.chunk)
	}
	out := a.bytes[:n:n]
	a.bytes = a.bytes[n:]
	copy(out, p)
	return out
}

// newClock returns a clock of n zero entries, empty but not nil for 0.
func (a *arena) newClock(n int) VClock {
	if n == 0 {
		return VClock{}
	}
	if n > 2*a.chunk/4 {
		return make(VClock, n)
	}
	if len(a.clocks) < n {
		a.clocks = make([]ClockEntry, 2*a.chunk)
	}
	c := a.clocks[:n:n]
	a.clocks = a.clocks[n:]
	return c
}

// newValues returns an empty slice of values with room for n (appending
// more reallocates), nil for 0.
func (a *arena) newValues(n int) [][]byte {
	if n == 0 {
		return nil
	}
	if n > a.chunk/4 {
		return make([][]byte, 0, n)
	}
	if len(a.values) < n {
		a.values = make([][]byte, a.chunk)
	}
	vs := a.values[:0:n]
	a.values = a.values[n:]
	return vs
}

// cloneVersions is the package's cloneVersions with the copies carved
// from a: nil stays nil, empty stays empty.
func (a *arena) cloneVersions(vs []Version) []Version {
	if vs == nil {
		return nil
	}
	out := a.newVersions(len(vs))
	for i, v := range vs {
		if v.Value != nil {
			v.Value = a.copyBytes(v.Value)
		}
		if v.Context != nil {
			c := a.newClock(len(v.Context))
			copy(c, v.Context)
			v.Context = c
		}
		out[i] = v
	}
	return out
}

// key returns p as a string, the same string for the same bytes while
// fewer than arenaKeys keys have been seen.
func (a *arena) key(p []byte) string {
	if s, ok := a.keys[string(p)]; ok {
		return s
	}
	s := string(p)
	if len(a.keys) < arenaKeys {
		if a.keys == nil {
			a.keys = map[string]string{}
		}
		a.keys[s] = s
	}
	return s
}
