package kv

import "github.com/faultline-sim/faultline/sim"

// forwards is the memory of the forwarded requests a node took, so that a
// copy the network duplicated is not coordinated twice (two dots for one
// client write would be two siblings of one value). It is bounded both in
// entries (forwardMemory, oldest forgotten first) and in time (ttl ticks),
// and not durable: a duplicate that arrives after a restart is
// coordinated again.
type forwards struct {
	ttl   int64
	seen  map[fwdKey]int64 // arrival tick; lookup only
	order []fwdEntry       // the same, in arrival order, for expiry
}

// fwdKey names a forwarded request: the node that forwarded it and the
// id of its forwarding op there (unique per node across restarts).
type fwdKey struct {
	origin sim.NodeID
	op     uint64
}

type fwdEntry struct {
	key fwdKey
	at  int64
}

// forwardMemory bounds how many forwarded requests a node remembers.
const forwardMemory = 4096

// newForwards returns an empty memory keeping entries ttl ticks: the
// forwarding node waits 2*RequestTimeoutTicks for an answer, and a
// duplicate copy is in flight no longer than the original plus its own
// latency, so 4*RequestTimeoutTicks covers it.
func newForwards(ttl int64) forwards {
	return forwards{ttl: ttl, seen: map[fwdKey]int64{}}
}

// remember records the forwarded request (origin, op) taken at tick now and
// reports whether it is new; false means a copy of it was already taken.
func (f *forwards) remember(origin sim.NodeID, op uint64, now int64) bool {
	k := fwdKey{origin: origin, op: op}
	if _, ok := f.seen[k]; ok {
		return false
	}
	if len(f.order) >= forwardMemory {
		delete(f.seen, f.order[0].key)
		f.order = f.order[1:]
	}
	f.seen[k] = now
	f.order = append(f.order, fwdEntry{key: k, at: now})
	return true
}

// expire forgets, at tick now, the requests older than ttl.
func (f *forwards) expire(now int64) {
	drop := 0
	for _, e := range f.order {
		if now < f.expiresAt(e) {
			break
		}
		delete(f.seen, e.key)
		drop++
	}
	if drop > 0 {
		f.order = append(f.order[:0], f.order[drop:]...)
	}
}

// expiresAt is the tick at which e is forgotten.
func (f *forwards) expiresAt(e fwdEntry) int64 { return e.at + f.ttl }

// nextDue returns the first tick at which expire would forget anything
// (never if nothing is remembered).
func (f *forwards) nextDue() int64 {
	if len(f.order) == 0 {
		return never
	}
	return f.expiresAt(f.order[0])
}
