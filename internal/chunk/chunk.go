// Package chunk carves small slices out of shared chunks, so code that
// makes many short slices (decoded messages, kept versions, copied
// replies, a history's strings) allocates once per chunk instead of once
// per slice. It imports nothing and may be imported by any package.
package chunk

// Chunks hands out slices of T carved from chunks of Size elements. Every
// slice Take returns is fresh zeroed memory no other result overlaps,
// with its capacity cut to its length (an append to it reallocates rather
// than reaching a neighbour), so its holder may keep, modify or append to
// it exactly as to a slice of its own. A chunk is freed once nothing
// carved from it is alive, so a long-lived slice keeps its whole chunk
// alive: Size trades allocations against that. A request for more than a
// quarter of Size gets an allocation of its own, so a chunk is never
// mostly waste; the zero value (Size 0) allocates every slice.
type Chunks[T any] struct {
	Size int
	free []T // the rest of the current chunk
}

// Take returns n zero elements; empty but not nil for 0.
func (c *Chunks[T]) Take(n int) []T {
	if n == 0 {
		return []T{}
	}
	if n > c.Size/4 {
		return make([]T, n)
	}
	if len(c.free) < n {
		c.free = make([]T, c.Size)
	}
	s := c.free[:n:n]
	c.free = c.free[n:]
	return s
}

// Copy returns a copy of s taken with Take: empty but not nil when s is
// empty.
func (c *Chunks[T]) Copy(s []T) []T {
	out := c.Take(len(s))
	copy(out, s)
	return out
}
