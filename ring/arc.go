package ring

import "fmt"

// Arc is an arc of the ring: the hashes in (Start, End], wrapping past
// 2^64-1 when Start > End; Start == End is the whole ring. It is the one
// range type of ring, kv and kv/merkle, and its codec tags keep its msgpack
// encoding a map {"s": Start, "e": End}.
type Arc struct {
	Start uint64 `codec:"s"`
	End   uint64 `codec:"e"`
}

// Contains reports whether hash h lies in the arc.
func (a Arc) Contains(h uint64) bool {
	switch {
	case a.Start < a.End:
		return a.Start < h && h <= a.End
	case a.Start > a.End:
		return h > a.Start || h <= a.End
	}
	return true
}

// Overlaps reports whether two arcs share a hash. Every arc contains its
// End, so two arcs intersect exactly when one contains the other's End.
func (a Arc) Overlaps(b Arc) bool { return a.Contains(b.End) || b.Contains(a.End) }

// Full reports whether the arc is the whole ring.
func (a Arc) Full() bool { return a.Start == a.End }

// String formats the arc as "(start,end]" in hex.
func (a Arc) String() string { return fmt.Sprintf("(%#x,%#x]", a.Start, a.End) }
