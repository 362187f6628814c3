package kv

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// Dot names one write event: the node that coordinated it and a counter
// that node never reuses. The counter's high 32 bits are the node's
// incarnation (bumped, durably, at every NewNode) and its low 32 bits a
// sequence within the incarnation, so a restarted node never reissues a dot.
type Dot struct {
	Node    sim.NodeID // the coordinating node
	Counter uint64     // incarnation<<32 | sequence
}

// String formats the dot as "n1:2.7" (node, incarnation, sequence).
func (d Dot) String() string {
	return fmt.Sprintf("%v:%s", d.Node, formatCounter(d.Counter))
}

// formatCounter formats a dot counter as "incarnation.sequence".
func formatCounter(c uint64) string {
	return fmt.Sprintf("%d.%d", c>>32, c&(1<<32-1))
}

func cmpDot(a, b Dot) int {
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Counter, b.Counter)
}

// ClockEntry is one actor of a vector clock: a node in one incarnation
// (the high half of Counter) and the greatest counter of that actor seen.
type ClockEntry struct {
	Node    sim.NodeID // the node
	Counter uint64     // incarnation<<32 | greatest sequence seen
}

// epoch returns the incarnation half of a counter.
func epoch(c uint64) uint64 { return c >> 32 }

// cmpActor orders clock entries by (node, incarnation).
func cmpActor(a ClockEntry, node sim.NodeID, ep uint64) int {
	if c := cmp.Compare(a.Node, node); c != 0 {
		return c
	}
	return cmp.Compare(epoch(a.Counter), ep)
}

// VClock is a vector clock whose actors are (node, incarnation) pairs:
// entries sorted by node, then incarnation, at most one per actor, with
// positive counters. A node that may have forgotten dots it issued (a
// restart, or deleting a handed-off hint or a purged tombstone holding
// them) moves to a new incarnation, so a clock covering its new dots never
// claims its forgotten ones. The nil clock has seen nothing. Clocks are
// values: no method modifies its receiver.
type VClock []ClockEntry

// get returns the counter recorded for actor (node, ep), 0 if absent.
func (v VClock) get(node sim.NodeID, ep uint64) uint64 {
	i, ok := slices.BinarySearchFunc(v, node, func(e ClockEntry, n sim.NodeID) int { return cmpActor(e, n, ep) })
	if !ok {
		return 0
	}
	return v[i].Counter
}

// CoversDot reports whether the clock has seen the write event d.
func (v VClock) CoversDot(d Dot) bool { return v.get(d.Node, epoch(d.Counter)) >= d.Counter }

// Descends reports whether v has seen everything o has (v >= o for every
// actor). Every clock descends itself and the nil clock.
func (v VClock) Descends(o VClock) bool {
	i := 0
	for _, e := range o {
		ep := epoch(e.Counter)
		for i < len(v) && cmpActor(v[i], e.Node, ep) < 0 {
			i++
		}
		if i == len(v) || cmpActor(v[i], e.Node, ep) != 0 || v[i].Counter < e.Counter {
			return false
		}
	}
	return true
}

// Equal reports whether v and o are the same clock.
func (v VClock) Equal(o VClock) bool { return slices.Equal(v, o) }

// Concurrent reports whether neither clock descends the other.
func Concurrent(a, b VClock) bool { return !a.Descends(b) && !b.Descends(a) }

// Merge returns the actor-wise maximum of v and o: the least clock that
// descends both.
func (v VClock) Merge(o VClock) VClock {
	out := make(VClock, 0, max(len(v), len(o)))
	i, j := 0, 0
	for i < len(v) || j < len(o) {
		c := 0
		switch {
		case i == len(v):
			c = 1
		case j == len(o):
			c = -1
		default:
			c = cmpActor(v[i], o[j].Node, epoch(o[j].Counter))
		}
		switch {
		case c < 0:
			out = append(out, v[i])
			i++
		case c > 0:
			out = append(out, o[j])
			j++
		default:
			out = append(out, ClockEntry{Node: v[i].Node, Counter: max(v[i].Counter, o[j].Counter)})
			i++
			j++
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// WithDot returns v advanced to include the event d.
func (v VClock) WithDot(d Dot) VClock {
	return v.Merge(VClock{{Node: d.Node, Counter: d.Counter}})
}

// Validate reports an error unless entries are sorted by (node,
// incarnation) without duplicates and every counter is positive.
func (v VClock) Validate() error {
	for i, e := range v {
		if e.Counter == 0 {
			return fmt.Errorf("vector clock entry %v has counter 0", e.Node)
		}
		if i > 0 && cmpActor(v[i-1], e.Node, epoch(e.Counter)) >= 0 {
			return fmt.Errorf("vector clock entries not strictly sorted by (node, incarnation) at %v", e.Node)
		}
	}
	return nil
}

// String formats the clock as "{n1:1.3 n1:2.1 n2:1.1}" (node:incarnation.sequence).
func (v VClock) String() string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v:%s", e.Node, formatCounter(e.Counter))
	}
	b.WriteByte('}')
	return b.String()
}

// Version is one stored version of a key. Under LWW a replica keeps one
// version per key, the greatest by (Timestamp, Dot); under vector clocks it
// keeps a set of siblings, each a dotted version vector: the write event
// Dot plus the Context (the versions its client had seen). A version
// supersedes another exactly when its Context covers the other's Dot.
type Version struct {
	// Value is the written value (nil for a tombstone).
	Value []byte
	// Tombstone marks a delete.
	Tombstone bool
	// Timestamp is the coordinator's wall-clock time of the write, in
	// nanoseconds; it orders versions under LWW.
	Timestamp int64
	// Dot is the write event: unique per write, cluster-wide.
	Dot Dot
	// Context is the causal context the write superseded (vector clocks).
	Context VClock
}

// Clock returns the version's full causal history as a vector clock: its
// Context advanced by its Dot.
func (v Version) Clock() VClock { return v.Context.WithDot(v.Dot) }

// validate checks one version received from the network.
func (v Version) validate(maxValue int) error {
	if v.Tombstone && len(v.Value) > 0 {
		return errors.New("tombstone carries a value")
	}
	if len(v.Value) > maxValue {
		return fmt.Errorf("value of %d bytes exceeds MaxValueBytes=%d", len(v.Value), maxValue)
	}
	if v.Dot.Counter == 0 {
		return errors.New("version has no dot (counter 0)")
	}
	if err := v.Context.Validate(); err != nil {
		return err
	}
	return nil
}

func (v Version) clone() Version {
	if v.Value != nil {
		v.Value = slices.Clone(v.Value)
	}
	v.Context = slices.Clone(v.Context)
	return v
}

func cloneVersions(vs []Version) []Version {
	if vs == nil {
		return nil
	}
	out := make([]Version, len(vs))
	for i, v := range vs {
		out[i] = v.clone()
	}
	return out
}

// lwwCompare orders versions by (Timestamp, Dot.Node, Dot.Counter).
func lwwCompare(a, b Version) int {
	if c := cmp.Compare(a.Timestamp, b.Timestamp); c != 0 {
		return c
	}
	return cmpDot(a.Dot, b.Dot)
}

// lwwMax returns the greatest version of vs by lwwCompare; vs must be
// non-empty.
func lwwMax(vs []Version) Version {
	best := vs[0]
	for _, v := range vs[1:] {
		if lwwCompare(v, best) > 0 {
			best = v
		}
	}
	return best
}

// reconcile merges two version sets of one key under mode. Under LWW the
// result is the single greatest version; under vector clocks it is the
// dotted-version-vector sync: the union, deduplicated by dot, minus every
// version whose dot another version's context covers, sorted by dot. The
// inputs are not modified; the result shares their byte slices (under LWW
// it is a one-element, full-capacity subslice of an input: no allocation).
func reconcile(mode ResolveMode, a, b []Version) []Version {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	if mode == LWW {
		// lwwMax over a then b, without building their union.
		src, at := a, 0
		if len(a) == 0 {
			src = b
		}
		best := src[0]
		for i, v := range a {
			if i > 0 && lwwCompare(v, best) > 0 {
				best, src, at = v, a, i
			}
		}
		for j, v := range b {
			if (len(a) > 0 || j > 0) && lwwCompare(v, best) > 0 {
				best, src, at = v, b, j
			}
		}
		return src[at : at+1 : at+1]
	}
	all := make([]Version, 0, len(a)+len(b))
	all = append(all, a...)
	all = append(all, b...)
	slices.SortStableFunc(all, func(x, y Version) int { return cmpDot(x.Dot, y.Dot) })
	all = slices.CompactFunc(all, func(x, y Version) bool { return x.Dot == y.Dot })
	out := all[:0:0]
	for i, v := range all {
		superseded := false
		for j, w := range all {
			// Causal histories are acyclic, so w's context covering v's dot
			// never comes with v's context covering w's dot; if corrupt
			// input claims both, keep both rather than lose both.
			if i != j && w.Context.CoversDot(v.Dot) && !v.Context.CoversDot(w.Dot) {
				superseded = true
				break
			}
		}
		if !superseded {
			out = append(out, v)
		}
	}
	return out
}

// covers reports whether a replica holding have already holds everything
// in want (so writing want back would change nothing).
func covers(mode ResolveMode, have, want []Version) bool {
	if len(want) == 0 {
		return true
	}
	if len(have) == 0 {
		return false
	}
	if mode == LWW {
		return lwwCompare(lwwMax(have), lwwMax(want)) >= 0
	}
	for _, w := range want {
		held := false
		for _, h := range have {
			if h.Dot == w.Dot || h.Context.CoversDot(w.Dot) {
				held = true
				break
			}
		}
		if !held {
			return false
		}
	}
	return true
}

// allTombstones reports whether vs is non-empty and holds only tombstones.
func allTombstones(vs []Version) bool {
	for _, v := range vs {
		if !v.Tombstone {
			return false
		}
	}
	return len(vs) > 0
}

// joinClocks returns the merge of every version's Clock: the causal context
// a client that saw vs hands back with its next write.
func joinClocks(vs []Version) VClock {
	var c VClock
	for _, v := range vs {
		c = c.Merge(v.Clock())
	}
	return c
}

// contextMagic starts every encoded causal context.
var contextMagic = []byte("kvc1")

// ErrBadContext is wrapped by every error about a causal context.
var ErrBadContext = errors.New("kv: bad causal context")

// EncodeContext returns the opaque causal context for key after having
// seen clock c: magic, key, clock entries and a CRC-32. The key is part of
// the context so a context from another key is rejected.
func EncodeContext(key string, c VClock) []byte {
	b := slices.Clone(contextMagic)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(c)))
	for _, e := range c {
		b = binary.AppendUvarint(b, uint64(e.Node))
		b = binary.AppendUvarint(b, e.Counter)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// DecodeContext returns the clock encoded in a context for key. An empty
// context is the nil clock. Errors wrap ErrBadContext and say whether the
// context is corrupt or belongs to another key.
func DecodeContext(key string, b []byte) (VClock, error) {
	if len(b) == 0 {
		return nil, nil
	}
	bad := func(format string, args ...any) (VClock, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrBadContext}, args...)...)
	}
	if len(b) < len(contextMagic)+4 || !bytes.Equal(b[:len(contextMagic)], contextMagic) {
		return bad("not a context produced by a Get (wrong magic or too short)")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return bad("checksum mismatch: the context was altered")
	}
	r := body[len(contextMagic):]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(r)
		if n <= 0 {
			return 0, false
		}
		r = r[n:]
		return v, true
	}
	klen, ok := next()
	if !ok || klen > uint64(len(r)) {
		return bad("truncated key")
	}
	if got := string(r[:klen]); got != key {
		return bad("context belongs to key %q, not %q: pass the context of a Get of the same key", got, key)
	}
	r = r[klen:]
	n, ok := next()
	if !ok || n > uint64(len(r)) {
		return bad("truncated clock")
	}
	c := make(VClock, 0, n)
	for i := uint64(0); i < n; i++ {
		node, ok1 := next()
		ctr, ok2 := next()
		if !ok1 || !ok2 || node > uint64(^uint32(0)) {
			return bad("truncated or invalid clock entry %d", i)
		}
		c = append(c, ClockEntry{Node: sim.NodeID(node), Counter: ctr})
	}
	if len(r) != 0 {
		return bad("%d trailing bytes", len(r))
	}
	if err := c.Validate(); err != nil {
		return bad("%v", err)
	}
	if len(c) == 0 {
		return nil, nil
	}
	return c, nil
}
