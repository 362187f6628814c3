package cluster

// idTable maps request ids to values. The cluster numbers requests in
// sequence and a request is forgotten once answered (a client waits for
// one at a time, at most ClientTimeout), so the ids held at once are few
// and close together: each has a slot, its id modulo the table's size,
// that remembers which id it holds, and only an id whose slot another
// held id already has goes to a map. A lookup therefore almost never
// hashes, and an id that is never forgotten (a node that never answers)
// costs one slot or one map entry, whatever the run's length.
type idTable[V any] struct {
	slots []idSlot[V]
	spill map[uint64]V
}

type idSlot[V any] struct {
	id   uint64
	used bool
	v    V
}

// idTableSlots is the number of slots: a power of two.
const idTableSlots = 512

func newIDTable[V any]() idTable[V] {
	return idTable[V]{slots: make([]idSlot[V], idTableSlots)}
}

func (t *idTable[V]) slot(id uint64) *idSlot[V] { return &t.slots[id&(idTableSlots-1)] }

// put sets id's value.
func (t *idTable[V]) put(id uint64, v V) {
	s := t.slot(id)
	if s.used && s.id != id {
		if t.spill == nil {
			t.spill = map[uint64]V{}
		}
		t.spill[id] = v
		return
	}
	if len(t.spill) > 0 {
		delete(t.spill, id) // put there while another id had the slot
	}
	*s = idSlot[V]{id: id, used: true, v: v}
}

// get returns id's value and whether it has one.
func (t *idTable[V]) get(id uint64) (V, bool) {
	if s := t.slot(id); s.used && s.id == id {
		return s.v, true
	}
	v, ok := t.spill[id]
	return v, ok
}

// has reports whether id has a value.
func (t *idTable[V]) has(id uint64) bool {
	_, ok := t.get(id)
	return ok
}

// delete forgets id.
func (t *idTable[V]) delete(id uint64) {
	if s := t.slot(id); s.used && s.id == id {
		*s = idSlot[V]{}
		return
	}
	delete(t.spill, id)
}

// deleteIf forgets every id whose value drop accepts (in no particular
// order: drop must not depend on it).
func (t *idTable[V]) deleteIf(drop func(V) bool) {
	for i := range t.slots {
		if s := &t.slots[i]; s.used && drop(s.v) {
			*s = idSlot[V]{}
		}
	}
	for id, v := range t.spill {
		if drop(v) {
			delete(t.spill, id)
		}
	}
}
