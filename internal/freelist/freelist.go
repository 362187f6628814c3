// Package freelist reuses retired objects: code that makes many short-lived
// objects of one type (a coordinator's operations, a checker's searchers, a
// network's packets in flight) keeps the retired ones in a slice and takes
// them back instead of allocating. It imports nothing and may be imported
// by any package.
package freelist

// Pop removes and returns the last object of *free, or nil if there is
// none. Its slot is cleared, so the list keeps no reference to an object it
// handed out.
func Pop[T any](free *[]*T) *T {
	k := len(*free)
	if k == 0 {
		return nil
	}
	x := (*free)[k-1]
	(*free)[k-1] = nil
	*free = (*free)[:k-1]
	return x
}
