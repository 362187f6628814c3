package kv

// tombstones is the purge schedule of a node's tombstones, a plain state
// machine: a key whose versions became all tombstones is noted with the
// tick its grace period starts; a value (or a newer tombstone) written
// over it clears or restarts it; due hands out the keys whose grace
// period has passed. The node purges a due key only if it still holds
// nothing but tombstones.
type tombstones struct {
	grace  int64
	order  []tombEntry      // tombstones in the order they were noted
	at     map[string]int64 // tick the key's current tombstone was noted; lookup only
	dueBuf []string         // due's result buffer
}

type tombEntry struct {
	key string
	at  int64
}

func newTombstones(graceTicks int) tombstones {
	return tombstones{grace: int64(graceTicks), at: map[string]int64{}}
}

// note starts the grace period of key's tombstone at tick now.
func (t *tombstones) note(key string, now int64) {
	t.at[key] = now
	t.order = append(t.order, tombEntry{key: key, at: now})
}

// cleared forgets key's tombstone: a value replaced it.
func (t *tombstones) cleared(key string) { delete(t.at, key) }

// due returns, at tick now, the keys whose current tombstone is older than
// the grace period, oldest first, and forgets them; entries a later
// write superseded are dropped on the way. The slice is reused by the
// next call.
func (t *tombstones) due(now int64) []string {
	t.dueBuf = t.dueBuf[:0]
	drop := 0
	for _, e := range t.order {
		if !t.current(e) {
			drop++ // superseded by a value or a newer tombstone
			continue
		}
		if now < t.dueAt(e) {
			break
		}
		drop++
		delete(t.at, e.key)
		t.dueBuf = append(t.dueBuf, e.key)
	}
	if drop > 0 {
		t.order = append(t.order[:0], t.order[drop:]...)
	}
	return t.dueBuf
}

// current reports whether e is its key's current tombstone (not
// superseded by a value or a newer tombstone).
func (t *tombstones) current(e tombEntry) bool {
	at, ok := t.at[e.key]
	return ok && at == e.at
}

// dueAt is the tick at which e's grace period has passed.
func (t *tombstones) dueAt(e tombEntry) int64 { return e.at + t.grace }

// nextDue returns, at tick now, the first tick at which due would do
// anything: the next tick if the oldest entry is superseded (due drops
// it), else the oldest entry's end of grace; never if none is noted.
func (t *tombstones) nextDue(now int64) int64 {
	if len(t.order) == 0 {
		return never
	}
	if e := t.order[0]; t.current(e) {
		return t.dueAt(e)
	}
	return now + 1
}
