package ring

import "sync/atomic"

// Holder publishes the current ring to concurrent readers outside the
// simulator. Readers Load a ring and keep using that immutable value;
// writers replace it whole. The zero Holder holds a nil (empty) ring.
type Holder struct {
	p atomic.Pointer[Ring]
}

// NewHolder returns a holder publishing r.
func NewHolder(r *Ring) *Holder {
	h := &Holder{}
	h.p.Store(r)
	return h
}

// Load returns the current ring (nil, an empty ring, if none was stored).
func (h *Holder) Load() *Ring { return h.p.Load() }

// Store publishes r.
func (h *Holder) Store(r *Ring) { h.p.Store(r) }

// Update applies f to the current ring and publishes its result, retrying
// when another writer published first, so concurrent updates are never
// lost. If f fails, nothing is published and its error is returned. f may
// run more than once and must have no side effects.
func (h *Holder) Update(f func(*Ring) (*Ring, error)) (*Ring, error) {
	for {
		cur := h.p.Load()
		next, err := f(cur)
		if err != nil {
			return nil, err
		}
		if h.p.CompareAndSwap(cur, next) {
			return next, nil
		}
	}
}
