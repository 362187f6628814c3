package merkle

import (
	"fmt"

	"github.com/faultline-sim/faultline/internal/wiresize"
)

// Kind says what a Request asks for and what its Response carries.
type Kind uint8

// The request kinds of an exchange.
const (
	// KindRoot carries the initiator's root hash. The response says Equal,
	// or carries the responder's level-1 hashes.
	KindRoot Kind = 1
	// KindHashes asks for the children's hashes of the inner nodes Indexes
	// at Level; the response carries them at Level+1, Fanout per index.
	KindHashes Kind = 2
	// KindLeaves asks for the key lists of the leaves Indexes (Level =
	// Depth); the response carries their entries, leaf by leaf, each leaf's
	// sorted by key.
	KindLeaves Kind = 3
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindRoot:
		return "root"
	case KindHashes:
		return "hashes"
	case KindLeaves:
		return "leaves"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Request is one message from the initiating replica. Every request names
// the range and the tree shape, so the responder can answer it without
// remembering the exchange.
type Request struct {
	// ID is chosen by the initiator and echoed in the response.
	ID     uint64 `codec:"i"`
	Range  Range  `codec:"r"`
	Depth  uint8  `codec:"d"`
	Fanout uint16 `codec:"f"`
	Kind   Kind   `codec:"k"`
	// Level is the level of Indexes (0 for KindRoot).
	Level uint8 `codec:"l"`
	// Root is the initiator's root hash (KindRoot only).
	Root uint64 `codec:"h"`
	// Indexes are node indexes at Level, strictly increasing.
	Indexes []uint32 `codec:"x"`
}

// Response is the responder's answer to one Request.
type Response struct {
	ID    uint64 `codec:"i"`
	Range Range  `codec:"r"`
	Kind  Kind   `codec:"k"`
	// Level is the level of Hashes, or Depth for entries.
	Level uint8 `codec:"l"`
	// Equal reports that the roots are equal (KindRoot only).
	Equal bool `codec:"q"`
	// Hashes are the requested children's hashes, Fanout per index.
	Hashes []uint64 `codec:"h"`
	// Entries are the requested leaves' entries (KindLeaves only).
	Entries []Entry `codec:"n"`
	// Refused reports that the responder could not answer (it does not
	// hold the range, its tree has another shape, or the request was
	// malformed); the initiator's session ends with ErrRefused.
	Refused bool `codec:"x"`
}

// Size returns the exact length of the msgpack encoding of q under
// hashicorp/go-msgpack/v2's default MsgpackHandle (structs as maps keyed by
// their codec tags).
func (q Request) Size() int {
	n := mapHdr(8)
	n += 1 + uintSize(q.ID)
	n += 1 + rangeSize(q.Range)
	n += 1 + uintSize(uint64(q.Depth))
	n += 1 + uintSize(uint64(q.Fanout))
	n += 1 + uintSize(uint64(q.Kind))
	n += 1 + uintSize(uint64(q.Level))
	n += 1 + uintSize(q.Root)
	n += 1 + arrHdr(len(q.Indexes))
	for _, x := range q.Indexes {
		n += uintSize(uint64(x))
	}
	return n + 8 // eight one-character keys
}

// Size returns the exact length of the msgpack encoding of p under
// hashicorp/go-msgpack/v2's default MsgpackHandle.
func (p Response) Size() int {
	n := mapHdr(8)
	n += 1 + uintSize(p.ID)
	n += 1 + rangeSize(p.Range)
	n += 1 + uintSize(uint64(p.Kind))
	n += 1 + uintSize(uint64(p.Level))
	n += 1 + 1 // bool
	n += 1 + arrHdr(len(p.Hashes))
	for _, h := range p.Hashes {
		n += uintSize(h)
	}
	n += 1 + arrHdr(len(p.Entries))
	for _, e := range p.Entries {
		n += e.size()
	}
	n += 1 + 1 // Refused
	return n + 8
}

func rangeSize(r Range) int { return mapHdr(2) + 2*(1+1) + uintSize(r.Start) + uintSize(r.End) }

func (e Entry) size() int {
	return mapHdr(2) + 2*(1+1) + strHdr(len(e.Key)) + len(e.Key) + uintSize(e.Version)
}

func uintSize(x uint64) int { return wiresize.Uint(x) }
func arrHdr(n int) int      { return wiresize.Container(n) }
func mapHdr(n int) int      { return wiresize.Container(n) }
func strHdr(n int) int      { return wiresize.Str(n) }

// ResponderStats counts the requests a responder answered and rejected.
type ResponderStats struct {
	// Served is the number of requests answered.
	Served int
	// UnknownRange counts requests for a range the responder holds no tree
	// for.
	UnknownRange int
	// BadRequest counts malformed requests and shape mismatches.
	BadRequest int
	// Bytes is the total size of the responses produced.
	Bytes int
}

// Respond answers one request from a replica running a Session against this
// tree. It never panics: a request for another range is ErrUnknownRange, a
// different tree shape ErrConfigMismatch, and a bad kind, level or index
// ErrBadRequest; each is counted in Stats, and the Response returned with
// the error is a refusal the node may send back so that the initiator ends
// the exchange at once instead of waiting for a timeout.
func (t *Tree) Respond(q Request) (Response, error) {
	p, err := t.respond(q)
	if err != nil {
		if q.Range != t.rng {
			t.stats.UnknownRange++
		} else {
			t.stats.BadRequest++
		}
		return refusal(q), err
	}
	t.stats.Served++
	t.stats.Bytes += p.Size()
	return p, nil
}

// Stats returns what Respond has served and rejected.
func (t *Tree) Stats() ResponderStats { return t.stats }

func (t *Tree) respond(q Request) (Response, error) {
	if q.Range != t.rng {
		return Response{}, fmt.Errorf("%w: this tree covers %v, the request names %v", ErrUnknownRange, t.rng, q.Range)
	}
	if int(q.Depth) != t.cfg.Depth || int(q.Fanout) != t.cfg.Fanout {
		return Response{}, fmt.Errorf("%w: request for depth %d fanout %d, this tree has depth %d fanout %d; configure both replicas alike",
			ErrConfigMismatch, q.Depth, q.Fanout, t.cfg.Depth, t.cfg.Fanout)
	}
	p := Response{ID: q.ID, Range: t.rng, Kind: q.Kind}
	f, d := t.cfg.Fanout, t.cfg.Depth
	switch q.Kind {
	case KindRoot:
		if q.Level != 0 || len(q.Indexes) != 0 {
			return Response{}, fmt.Errorf("%w: a root request has level 0 and no indexes, got level %d and %d indexes", ErrBadRequest, q.Level, len(q.Indexes))
		}
		if q.Root == t.Root() {
			p.Equal = true
			return p, nil
		}
		p.Level = 1
		p.Hashes = append([]uint64(nil), t.levels[1]...)
		return p, nil
	case KindHashes:
		l := int(q.Level)
		if l < 1 || l >= d {
			return Response{}, fmt.Errorf("%w: hashes requested below level %d; inner levels are 1..%d", ErrBadRequest, l, d-1)
		}
		if err := t.checkIndexes(q.Indexes, l); err != nil {
			return Response{}, err
		}
		p.Level = uint8(l + 1)
		p.Hashes = make([]uint64, 0, len(q.Indexes)*f)
		for _, x := range q.Indexes {
			c := int(x) * f
			p.Hashes = append(p.Hashes, t.levels[l+1][c:c+f]...)
		}
		return p, nil
	case KindLeaves:
		if int(q.Level) != d {
			return Response{}, fmt.Errorf("%w: leaves are at level %d, the request says %d", ErrBadRequest, d, q.Level)
		}
		if err := t.checkIndexes(q.Indexes, d); err != nil {
			return Response{}, err
		}
		p.Level = uint8(d)
		for _, x := range q.Indexes {
			p.Entries = append(p.Entries, t.leafEntries(int(x))...)
		}
		return p, nil
	}
	return Response{}, fmt.Errorf("%w: unknown kind %v", ErrBadRequest, q.Kind)
}

// refusal is the Response that tells the initiator of q that it will get no
// answer.
func refusal(q Request) Response {
	return Response{ID: q.ID, Range: q.Range, Kind: q.Kind, Refused: true}
}

// checkIndexes validates a request's node indexes at level l: at least one,
// at most MaxBatch, strictly increasing and inside the level.
func (t *Tree) checkIndexes(xs []uint32, l int) error {
	if len(xs) == 0 || len(xs) > MaxBatch {
		return fmt.Errorf("%w: %d indexes; a request carries 1..%d", ErrBadRequest, len(xs), MaxBatch)
	}
	w := len(t.levels[l])
	for i, x := range xs {
		if int(x) >= w {
			return fmt.Errorf("%w: index %d at level %d, which has %d nodes", ErrBadRequest, x, l, w)
		}
		if i > 0 && xs[i-1] >= x {
			return fmt.Errorf("%w: indexes must be strictly increasing (%d then %d)", ErrBadRequest, xs[i-1], x)
		}
	}
	return nil
}
