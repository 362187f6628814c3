package sim

// Queue is a binary min-heap of values ordered by (virtual time, insertion
// sequence): the one priority queue of the simulator, used by the event
// loop and by the network's packets in flight. Values with equal times come
// out in the order of their sequence numbers, which the caller assigns
// (increasing), so nothing about the order comes from the runtime. The
// ordering keys are plain fields: no comparison goes through an interface
// or a function value.
type Queue[T any] struct {
	items []queued[T]
}

type queued[T any] struct {
	at  Time
	seq uint64
	v   T
}

func (a *queued[T]) before(b *queued[T]) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// NewQueue returns an empty queue with room for capacity values.
func NewQueue[T any](capacity int) Queue[T] {
	return Queue[T]{items: make([]queued[T], 0, capacity)}
}

// Len returns the number of queued values.
func (q *Queue[T]) Len() int { return len(q.items) }

// Peek returns the time of the first value; false if the queue is empty.
func (q *Queue[T]) Peek() (Time, bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	return q.items[0].at, true
}

// Push queues v at (at, seq).
func (q *Queue[T]) Push(at Time, seq uint64, v T) {
	q.items = append(q.items, queued[T]{at: at, seq: seq, v: v})
	h := q.items
	i := len(h) - 1
	x := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !x.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

// Pop removes and returns the first value and its time; the queue must not
// be empty.
func (q *Queue[T]) Pop() (Time, T) {
	h := q.items
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h[n] = queued[T]{} // drop the reference for the garbage collector
	h = h[:n]
	q.items = h
	if n > 0 {
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n && h[c+1].before(&h[c]) {
				c++
			}
			if !h[c].before(&last) {
				break
			}
			h[i] = h[c]
			i = c
		}
		h[i] = last
	}
	return top.at, top.v
}
