// Package idtable maps sequentially issued ids to values, cheaply while
// the ids held at once are few and close together (requests, operations
// that end within a timeout). It imports nothing and may be imported by
// any package.
package idtable

// Table maps ids to values. Each id has a slot, the id modulo the
// table's size, that remembers which id it holds; only an id whose slot
// another held id already has goes to a map. Where ids are issued in
// sequence and forgotten soon after (a request once answered, an
// operation once done), a lookup almost never hashes; an id never
// forgotten costs one slot or one map entry, however many come after it.
// The zero Table is not usable: make one with New.
type Table[V any] struct {
	slots []entry[V]
	spill map[uint64]V
}

// entry holds the value of id key-1; key 0 is an empty slot (so the id
// 2^64-1, which has no key, always goes to the map).
type entry[V any] struct {
	key uint64
	v   V
}

// Slots is the number of slots, a power of two.
const Slots = 256

// New returns an empty table.
func New[V any]() Table[V] {
	return Table[V]{slots: make([]entry[V], Slots)}
}

func (t *Table[V]) slotOf(id uint64) *entry[V] { return &t.slots[id&(Slots-1)] }

// Put sets id's value.
func (t *Table[V]) Put(id uint64, v V) {
	s := t.slotOf(id)
	if (s.key != 0 && s.key != id+1) || id+1 == 0 {
		if t.spill == nil {
			t.spill = map[uint64]V{}
		}
		t.spill[id] = v
		return
	}
	if len(t.spill) > 0 {
		delete(t.spill, id) // put there while another id had the slot
	}
	*s = entry[V]{key: id + 1, v: v}
}

// Get returns id's value and whether it has one.
func (t *Table[V]) Get(id uint64) (V, bool) {
	if s := t.slotOf(id); s.key == id+1 && s.key != 0 {
		return s.v, true
	}
	v, ok := t.spill[id]
	return v, ok
}

// Has reports whether id has a value.
func (t *Table[V]) Has(id uint64) bool {
	_, ok := t.Get(id)
	return ok
}

// Delete forgets id.
func (t *Table[V]) Delete(id uint64) {
	if s := t.slotOf(id); s.key == id+1 && s.key != 0 {
		*s = entry[V]{}
		return
	}
	delete(t.spill, id)
}

// DeleteIf forgets every id whose value drop accepts (in no particular
// order: drop must not depend on it).
func (t *Table[V]) DeleteIf(drop func(V) bool) {
	for i := range t.slots {
		if s := &t.slots[i]; s.key != 0 && drop(s.v) {
			*s = entry[V]{}
		}
	}
	for id, v := range t.spill {
		if drop(v) {
			delete(t.spill, id)
		}
	}
}
