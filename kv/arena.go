package kv

import "github.com/faultline-sim/faultline/internal/chunk"

// arena is memory for versions, carved out of shared chunks
// (internal/chunk): a server's decoder takes decoded messages from one (and
// interns their keys), a node's state its copies of the versions it keeps,
// and the coordinator the versions it writes and the values it replies
// with. Every piece is a fresh slice nothing else uses, its capacity cut
// to its length, so the holder may keep and modify it exactly as with one
// allocation per piece; a long-lived piece keeps its chunk alive, so the
// chunk sizes trade allocations against that.
type arena struct {
	versions chunk.Chunks[Version]
	bytes    chunk.Chunks[byte]
	clocks   chunk.Chunks[ClockEntry]
	values   chunk.Chunks[[]byte] // a read reply's values (the coordinator's)
	keys     map[string]string    // interned keys, at most arenaKeys
	// recent holds the last key seen per slot (by length and last byte),
	// so a workload's few hot keys are found with one comparison and no
	// hashing.
	recent [recentKeys]string
}

const (
	decodeChunk = 64   // the decoder's chunk: what it decodes is mostly short-lived
	stateChunk  = 16   // the state's chunk: what it keeps lives until its key's next write
	arenaKeys   = 4096 // keys interned at most; later keys are allocated
	recentKeys  = 16   // slots of recent keys (a power of two)
)

// newArena returns an arena whose chunks hold n versions, 64n value bytes,
// 2n clock entries and n read values.
func newArena(n int) arena {
	return arena{
		versions: chunk.Chunks[Version]{Size: n},
		bytes:    chunk.Chunks[byte]{Size: 64 * n},
		clocks:   chunk.Chunks[ClockEntry]{Size: 2 * n},
		values:   chunk.Chunks[[]byte]{Size: n},
	}
}

// newVersions returns n zero versions, empty but not nil for 0.
func (a *arena) newVersions(n int) []Version { return a.versions.Take(n) }

// copyBytes returns a copy of p, empty but not nil when p is empty.
func (a *arena) copyBytes(p []byte) []byte { return a.bytes.Copy(p) }

// newClock returns a clock of n zero entries, empty but not nil for 0.
func (a *arena) newClock(n int) VClock { return a.clocks.Take(n) }

// newValues returns an empty slice of values with room for n (appending
// more reallocates), nil for 0.
func (a *arena) newValues(n int) [][]byte {
	if n == 0 {
		return nil
	}
	return a.values.Take(n)[:0]
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
			v.Context = a.clocks.Copy(v.Context)
		}
		out[i] = v
	}
	return out
}

// key returns p as a string, the same string for the same bytes while
// fewer than arenaKeys keys have been seen.
func (a *arena) key(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	slot := &a.recent[(len(p)+int(p[len(p)-1]))&(recentKeys-1)]
	if *slot == string(p) {
		return *slot
	}
	s := a.intern(p)
	*slot = s
	return s
}

// intern is key without the recent slots.
func (a *arena) intern(p []byte) string {
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
