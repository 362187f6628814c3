package kv

import (
	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// The wire format of kv's messages, and of what kv keeps on node.Disk (a
// KeySnapshot per key, a Hint per hint), is msgpack written and read by the
// code below, without reflection (Message, KeySnapshot and Hint implement
// node.SelfCoder, so node.Codec uses it):
//
//   - A struct is a map from field number to value holding only the fields
//     that are not zero, in increasing field number. A field's number is
//     its index in the Go struct declaration (Message: Type 0, Op 1, Key 2,
//     Versions 3, ...). Fields tagged codec:"-" (Message's Ring, Point and
//     Peer: local inputs) are never written. Zero is the Go zero value: 0,
//     false, "", a nil slice or pointer, a struct whose fields are all zero.
//     An empty slice that is not nil is not zero: it is written (an empty
//     array or binary) and decodes as empty, not nil, as it did under the
//     go-msgpack codec this replaced.
//   - The pairs Dot, ClockEntry, ring.Arc (merkle.Range) and merkle.Entry
//     are arrays of their two fields: [Node, Counter], [Start, End],
//     [Key, Version].
//   - A pointer is written as what it points to; a slice as an array of its
//     elements, except []byte, which is binary (a nil element of
//     Reply.Values is msgpack nil). Integers take their shortest form.
//
// So a write to a replica, Message{Type: MsgWrite, Op: 7, Key: "k",
// Versions: []Version{{Value: []byte("v"), Timestamp: 1000, Dot: Dot{Node:
// 1, Counter: 1<<32 | 1}}}}, is these 31 bytes (TestWireFormatExample):
//
//	84                         map of 4 fields
//	00 01                      0 Type: 1 (MsgWrite)
//	01 07                      1 Op: 7
//	02 a1 6b                   2 Key: "k"
//	03 91                      3 Versions: array of 1
//	   83                        map of 3 fields
//	   00 c4 01 76               0 Value: binary "v"
//	   02 cd 03 e8               2 Timestamp: 1000
//	   03 92 01 cf 00 00 00 01 00 00 00 01    3 Dot: [1, 1<<32|1]
//
// Decoding accepts any msgpack integer form that fits the field and str or
// binary for strings and []byte alike, and fails (never panics) on
// anything else: an unknown field, fields out of order (or repeated), a
// value of the wrong type or out of range, a length the rest of the input
// cannot hold (checked before anything is allocated for it), trailing
// bytes. Decoded slices and strings are fresh: they share no memory with
// the payload. The tests in codec_test.go check the encoding against this
// description by reflection over the wire types (wireForm), every field at
// once and each alone, so a field added to a wire type and not to the code
// below fails them.

var (
	_ node.SelfCoder = (*Message)(nil)
	_ node.SelfCoder = (*KeySnapshot)(nil)
	_ node.SelfCoder = (*Hint)(nil)
)

// AppendMsgpack appends m's wire encoding to b. It never fails.
func (m *Message) AppendMsgpack(b []byte) ([]byte, error) { return appendMessage(b, m), nil }

// DecodeMsgpack decodes a whole payload into m, which should be the zero
// Message; on an error m may be partly filled.
func (m *Message) DecodeMsgpack(p []byte) error {
	r := newReader(p)
	r.message(m)
	return r.done()
}

// decodeFrom is DecodeMsgpack taking the decoded pieces from a (see
// arena): the same message, in fewer allocations.
func (m *Message) decodeFrom(p []byte, a *arena) error {
	r := newReader(p)
	r.a = a
	r.message(m)
	return r.done()
}

// AppendMsgpack appends k's encoding (as on the wire and the disk) to b. It
// never fails.
func (k *KeySnapshot) AppendMsgpack(b []byte) ([]byte, error) { return appendKeySnapshot(b, k), nil }

// DecodeMsgpack decodes a whole payload into k, which should be the zero
// KeySnapshot.
func (k *KeySnapshot) DecodeMsgpack(p []byte) error {
	r := newReader(p)
	r.keySnapshot(k)
	return r.done()
}

// AppendMsgpack appends h's disk encoding to b. It never fails.
func (h *Hint) AppendMsgpack(b []byte) ([]byte, error) { return appendHint(b, h), nil }

// DecodeMsgpack decodes a whole payload into h, which should be the zero
// Hint.
func (h *Hint) DecodeMsgpack(p []byte) error {
	r := newReader(p)
	r.hint(h)
	return r.done()
}

func appendMessage(b []byte, m *Message) []byte {
	w := startMap(b)
	w.uint(0, uint64(m.Type))
	w.uint(1, m.Op)
	w.str(2, m.Key)
	if m.Versions != nil {
		w.key(3)
		w.b = appendVersions(w.b, m.Versions)
	}
	w.bool(4, m.Hinted)
	w.uint(5, uint64(m.HintFor))
	w.bool(6, m.Repair)
	w.bool(7, m.Refused)
	w.str(8, m.Err)
	w.uint(9, m.HintID)
	w.uint(10, m.HintSeq)
	if m.Req != nil {
		w.key(11)
		w.b = appendRequest(w.b, m.Req)
	}
	if m.Reply != nil {
		w.key(12)
		w.b = appendReply(w.b, m.Reply)
	}
	if m.Tree != nil {
		w.key(13)
		w.b = appendTreeRequest(w.b, m.Tree)
	}
	if m.TreeReply != nil {
		w.key(14)
		w.b = appendTreeResponse(w.b, m.TreeReply)
	}
	if m.Items != nil {
		w.key(15)
		w.b = appendArrayHdr(w.b, len(m.Items))
		for i := range m.Items {
			w.b = appendKeySnapshot(w.b, &m.Items[i])
		}
	}
	if m.Gossip != nil {
		w.key(16)
		w.b = appendGossip(w.b, m.Gossip)
	}
	w.uint(17, m.ArcStart)
	w.uint(18, m.ArcEnd)
	w.bool(19, m.Force)
	w.bool(20, m.Last)
	w.bool(21, m.Wait)
	w.bool(22, m.Partial)
	return w.end()
}

func (r *reader) message(m *Message) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			m.Type = MsgType(r.uint(8))
		case 1:
			m.Op = r.uint(64)
		case 2:
			m.Key = r.key()
		case 3:
			m.Versions = r.versions()
		case 4:
			m.Hinted = r.bool()
		case 5:
			m.HintFor = sim.NodeID(r.uint(32))
		case 6:
			m.Repair = r.bool()
		case 7:
			m.Refused = r.bool()
		case 8:
			m.Err = r.str()
		case 9:
			m.HintID = r.uint(64)
		case 10:
			m.HintSeq = r.uint(64)
		case 11:
			m.Req = new(Request)
			r.request(m.Req)
		case 12:
			m.Reply = new(Reply)
			r.reply(m.Reply)
		case 13:
			m.Tree = new(merkle.Request)
			r.treeRequest(m.Tree)
		case 14:
			m.TreeReply = new(merkle.Response)
			r.treeResponse(m.TreeReply)
		case 15:
			n := r.arrayLen(1)
			if r.err != nil {
				return
			}
			m.Items = make([]KeySnapshot, n)
			for i := range m.Items {
				r.keySnapshot(&m.Items[i])
			}
		case 16:
			m.Gossip = new(membership.Message)
			r.gossip(m.Gossip)
		case 17:
			m.ArcStart = r.uint(64)
		case 18:
			m.ArcEnd = r.uint(64)
		case 19:
			m.Force = r.bool()
		case 20:
			m.Last = r.bool()
		case 21:
			m.Wait = r.bool()
		case 22:
			m.Partial = r.bool()
		default:
			r.unknownField(&it, "Message")
		}
	}
}

func appendPair(b []byte, x, y uint64) []byte { return appendUint(appendUint(append(b, 0x92), x), y) }

func (r *reader) dot(d *Dot) {
	r.pair()
	d.Node = sim.NodeID(r.uint(32))
	d.Counter = r.uint(64)
}

func appendVersions(b []byte, vs []Version) []byte {
	b = appendArrayHdr(b, len(vs))
	for i := range vs {
		b = appendVersion(b, &vs[i])
	}
	return b
}

func (r *reader) versions() []Version {
	n := r.arrayLen(1)
	if r.err != nil {
		return nil
	}
	var vs []Version
	if r.a != nil {
		vs = r.a.newVersions(n)
	} else {
		vs = make([]Version, n)
	}
	for i := range vs {
		r.version(&vs[i])
	}
	return vs
}

func appendVersion(b []byte, v *Version) []byte {
	w := startMap(b)
	w.bin(0, v.Value)
	w.bool(1, v.Tombstone)
	w.int(2, v.Timestamp)
	if v.Dot != (Dot{}) {
		w.key(3)
		w.b = appendPair(w.b, uint64(v.Dot.Node), v.Dot.Counter)
	}
	if v.Context != nil {
		w.key(4)
		w.b = appendArrayHdr(w.b, len(v.Context))
		for _, e := range v.Context {
			w.b = appendPair(w.b, uint64(e.Node), e.Counter)
		}
	}
	return w.end()
}

func (r *reader) version(v *Version) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			v.Value = r.bin()
		case 1:
			v.Tombstone = r.bool()
		case 2:
			v.Timestamp = r.int64()
		case 3:
			r.dot(&v.Dot)
		case 4:
			n := r.arrayLen(3)
			if r.err != nil {
				return
			}
			if r.a != nil {
				v.Context = r.a.newClock(n)
			} else {
				v.Context = make(VClock, n)
			}
			for i := range v.Context {
				e := &v.Context[i]
				r.pair()
				e.Node = sim.NodeID(r.uint(32))
				e.Counter = r.uint(64)
			}
		default:
			r.unknownField(&it, "Version")
		}
	}
}

func appendKeySnapshot(b []byte, k *KeySnapshot) []byte {
	w := startMap(b)
	w.str(0, k.Key)
	if k.Versions != nil {
		w.key(1)
		w.b = appendVersions(w.b, k.Versions)
	}
	return w.end()
}

func (r *reader) keySnapshot(k *KeySnapshot) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			k.Key = r.key()
		case 1:
			k.Versions = r.versions()
		default:
			r.unknownField(&it, "KeySnapshot")
		}
	}
}

func appendHint(b []byte, h *Hint) []byte {
	w := startMap(b)
	w.uint(0, h.ID)
	w.uint(1, h.Seq)
	w.uint(2, uint64(h.Owner))
	w.str(3, h.Key)
	if h.Versions != nil {
		w.key(4)
		w.b = appendVersions(w.b, h.Versions)
	}
	return w.end()
}

func (r *reader) hint(h *Hint) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			h.ID = r.uint(64)
		case 1:
			h.Seq = r.uint(64)
		case 2:
			h.Owner = sim.NodeID(r.uint(32))
		case 3:
			h.Key = r.key()
		case 4:
			h.Versions = r.versions()
		default:
			r.unknownField(&it, "Hint")
		}
	}
}

func appendRequest(b []byte, q *Request) []byte {
	w := startMap(b)
	w.uint(0, q.ID)
	w.uint(1, uint64(q.Op))
	w.str(2, q.Key)
	w.bin(3, q.Value)
	w.bin(4, q.Context)
	w.int(5, int64(q.N))
	w.int(6, int64(q.W))
	w.int(7, int64(q.R))
	return w.end()
}

func (r *reader) request(q *Request) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			q.ID = r.uint(64)
		case 1:
			q.Op = OpKind(r.uint(8))
		case 2:
			q.Key = r.key()
		case 3:
			q.Value = r.bin()
		case 4:
			q.Context = r.bin()
		case 5:
			q.N = r.int()
		case 6:
			q.W = r.int()
		case 7:
			q.R = r.int()
		default:
			r.unknownField(&it, "Request")
		}
	}
}

func appendReply(b []byte, p *Reply) []byte {
	w := startMap(b)
	w.uint(0, p.ID)
	w.uint(1, uint64(p.Status))
	if p.Values != nil {
		w.key(2)
		w.b = appendArrayHdr(w.b, len(p.Values))
		for _, v := range p.Values {
			w.b = appendBin(w.b, v)
		}
	}
	w.bool(3, p.Found)
	w.bin(4, p.Context)
	w.str(5, p.Err)
	w.uint(6, uint64(p.Coordinator))
	return w.end()
}

func (r *reader) reply(p *Reply) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			p.ID = r.uint(64)
		case 1:
			p.Status = Status(r.uint(8))
		case 2:
			n := r.arrayLen(1)
			if r.err != nil {
				return
			}
			p.Values = make([][]byte, n)
			for i := range p.Values {
				p.Values[i] = r.binOrNil()
			}
		case 3:
			p.Found = r.bool()
		case 4:
			p.Context = r.bin()
		case 5:
			p.Err = r.str()
		case 6:
			p.Coordinator = sim.NodeID(r.uint(32))
		default:
			r.unknownField(&it, "Reply")
		}
	}
}

func (r *reader) arc(a *merkle.Range) {
	r.pair()
	a.Start = r.uint(64)
	a.End = r.uint(64)
}

func appendTreeRequest(b []byte, q *merkle.Request) []byte {
	w := startMap(b)
	w.uint(0, q.ID)
	if q.Range != (merkle.Range{}) {
		w.key(1)
		w.b = appendPair(w.b, q.Range.Start, q.Range.End)
	}
	w.uint(2, uint64(q.Depth))
	w.uint(3, uint64(q.Fanout))
	w.uint(4, uint64(q.Kind))
	w.uint(5, uint64(q.Level))
	w.uint(6, q.Root)
	if q.Indexes != nil {
		w.key(7)
		w.b = appendArrayHdr(w.b, len(q.Indexes))
		for _, x := range q.Indexes {
			w.b = appendUint(w.b, uint64(x))
		}
	}
	return w.end()
}

func (r *reader) treeRequest(q *merkle.Request) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			q.ID = r.uint(64)
		case 1:
			r.arc(&q.Range)
		case 2:
			q.Depth = uint8(r.uint(8))
		case 3:
			q.Fanout = uint16(r.uint(16))
		case 4:
			q.Kind = merkle.Kind(r.uint(8))
		case 5:
			q.Level = uint8(r.uint(8))
		case 6:
			q.Root = r.uint(64)
		case 7:
			n := r.arrayLen(1)
			if r.err != nil {
				return
			}
			q.Indexes = make([]uint32, n)
			for i := range q.Indexes {
				q.Indexes[i] = uint32(r.uint(32))
			}
		default:
			r.unknownField(&it, "merkle.Request")
		}
	}
}

func appendTreeResponse(b []byte, p *merkle.Response) []byte {
	w := startMap(b)
	w.uint(0, p.ID)
	if p.Range != (merkle.Range{}) {
		w.key(1)
		w.b = appendPair(w.b, p.Range.Start, p.Range.End)
	}
	w.uint(2, uint64(p.Kind))
	w.uint(3, uint64(p.Level))
	w.bool(4, p.Equal)
	if p.Hashes != nil {
		w.key(5)
		w.b = appendArrayHdr(w.b, len(p.Hashes))
		for _, h := range p.Hashes {
			w.b = appendUint(w.b, h)
		}
	}
	if p.Entries != nil {
		w.key(6)
		w.b = appendArrayHdr(w.b, len(p.Entries))
		for _, e := range p.Entries {
			w.b = appendUint(appendStr(append(w.b, 0x92), e.Key), e.Version)
		}
	}
	w.bool(7, p.Refused)
	return w.end()
}

func (r *reader) treeResponse(p *merkle.Response) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			p.ID = r.uint(64)
		case 1:
			r.arc(&p.Range)
		case 2:
			p.Kind = merkle.Kind(r.uint(8))
		case 3:
			p.Level = uint8(r.uint(8))
		case 4:
			p.Equal = r.bool()
		case 5:
			n := r.arrayLen(1)
			if r.err != nil {
				return
			}
			p.Hashes = make([]uint64, n)
			for i := range p.Hashes {
				p.Hashes[i] = r.uint(64)
			}
		case 6:
			n := r.arrayLen(3)
			if r.err != nil {
				return
			}
			p.Entries = make([]merkle.Entry, n)
			for i := range p.Entries {
				e := &p.Entries[i]
				r.pair()
				e.Key = r.key()
				e.Version = r.uint(64)
			}
		case 7:
			p.Refused = r.bool()
		default:
			r.unknownField(&it, "merkle.Response")
		}
	}
}

func appendGossip(b []byte, g *membership.Message) []byte {
	w := startMap(b)
	w.uint(0, uint64(g.Kind))
	w.uint(1, uint64(g.From))
	if g.Entries != nil {
		w.key(2)
		w.b = appendArrayHdr(w.b, len(g.Entries))
		for i := range g.Entries {
			w.b = appendMember(w.b, &g.Entries[i])
		}
	}
	return w.end()
}

func (r *reader) gossip(g *membership.Message) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			g.Kind = membership.Kind(r.uint(8))
		case 1:
			g.From = sim.NodeID(r.uint(32))
		case 2:
			n := r.arrayLen(1)
			if r.err != nil {
				return
			}
			g.Entries = make([]membership.Entry, n)
			for i := range g.Entries {
				r.member(&g.Entries[i])
			}
		default:
			r.unknownField(&it, "membership.Message")
		}
	}
}

func appendMember(b []byte, e *membership.Entry) []byte {
	w := startMap(b)
	w.uint(0, uint64(e.ID))
	w.uint(1, e.Incarnation)
	w.uint(2, e.Heartbeat)
	w.uint(3, uint64(e.Status))
	w.uint(4, uint64(e.Weight))
	w.uint(5, e.Epoch)
	if e.Claims != nil {
		w.key(6)
		w.b = appendArrayHdr(w.b, len(e.Claims))
		for _, c := range e.Claims {
			w.b = appendUint(w.b, c)
		}
	}
	return w.end()
}

func (r *reader) member(e *membership.Entry) {
	for it := r.fields(); r.nextField(&it); {
		switch it.k {
		case 0:
			e.ID = sim.NodeID(r.uint(32))
		case 1:
			e.Incarnation = r.uint(64)
		case 2:
			e.Heartbeat = r.uint(64)
		case 3:
			e.Status = membership.Status(r.uint(8))
		case 4:
			e.Weight = uint32(r.uint(32))
		case 5:
			e.Epoch = r.uint(64)
		case 6:
			n := r.arrayLen(1)
			if r.err != nil {
				return
			}
			e.Claims = make([]uint64, n)
			for i := range e.Claims {
				e.Claims[i] = r.uint(64)
			}
		default:
			r.unknownField(&it, "membership.Entry")
		}
	}
}
