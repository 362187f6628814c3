package kv

// decodeArena is the memory one server's decoder takes decoded messages
// from: versions, their values and their clocks are carved out of shared
// chunks, and keys are interned. Every piece carved is a fresh slice that
// nothing else uses, with its capacity cut to its length (an append to it
// reallocates rather than reaching a neighbour), so the node may keep and
// modify what it decodes exactly as with one allocation per piece; a
// chunk is freed once nothing carved from it is alive. Pieces bigger than
// a quarter of a chunk get an allocation of their own, so a chunk is never
// mostly waste.
type decodeArena struct {
	versions []Version
	bytes    []byte
	clocks   []ClockEntry
	keys     map[string]string // interned keys, at most arenaKeys
}

const (
	arenaVersions = 64   // versions per chunk
	arenaBytes    = 4096 // value bytes per chunk
	arenaClocks   = 128  // clock entries per chunk
	arenaKeys     = 4096 // keys interned at most; later keys are allocated
)

// newVersions returns n zero versions, empty but not nil for 0.
func (a *decodeArena) newVersions(n int) []Version {
	if n == 0 {
		return []Version{}
	}
	if n > arenaVersions/4 {
		return make([]Version, n)
	}
	if len(a.versions) < n {
		a.versions = make([]Version, arenaVersions)
	}
	vs := a.versions[:n:n]
	a.versions = a.versions[n:]
	return vs
}

// copyBytes returns a copy of p, empty but not nil when p is empty.
func (a *decodeArena) copyBytes(p []byte) []byte {
	n := len(p)
	if n == 0 {
		return []byte{}
	}
	if n > arenaBytes/4 {
		return append(make([]byte, 0, n), p...)
	}
	if len(a.bytes) < n {
		a.bytes = make([]byte, arenaBytes)
	}
	out := a.bytes[:n:n]
	a.bytes = a.bytes[n:]
	copy(out, p)
	return out
}

// newClock returns a clock of n zero entries, empty but not nil for 0.
func (a *decodeArena) newClock(n int) VClock {
	if n == 0 {
		return VClock{}
	}
	if n > arenaClocks/4 {
		return make(VClock, n)
	}
	if len(a.clocks) < n {
		a.clocks = make([]ClockEntry, arenaClocks)
	}
	c := a.clocks[:n:n]
	a.clocks = a.clocks[n:]
	return c
}

// key returns p as a string, the same string for the same bytes while
// fewer than arenaKeys keys have been seen.
func (a *decodeArena) key(p []byte) string {
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
