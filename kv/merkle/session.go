package merkle

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-sim/faultline/ring"
)

// Diff is one key on which the two replicas differ: missing on one side or
// held at different version fingerprints.
type Diff struct {
	Key string
	// Local is this replica's version; HasLocal is false if it lacks Key.
	Local    uint64
	HasLocal bool
	// Remote is the peer's version; HasRemote is false if it lacks Key.
	Remote    uint64
	HasRemote bool
}

// Stats counts one exchange's traffic as seen by its initiator.
type Stats struct {
	// Messages is Requests + Responses: the messages of the exchange.
	Messages int
	// Bytes is RequestBytes + ResponseBytes (exact msgpack sizes).
	Bytes         int
	Requests      int
	Responses     int
	RequestBytes  int
	ResponseBytes int
	// HashesCompared counts the remote node hashes compared with local ones.
	HashesCompared int
	// LeavesFetched counts the leaves whose key lists were exchanged.
	LeavesFetched int
	// Rejected counts responses Step refused (not counted in Messages).
	Rejected int
}

// Session is the initiator's side of one exchange with one peer over one
// range. Start returns the first request; each Step consumes the response
// to the outstanding request and returns the next one, until the exchange
// is done and Diffs holds the differing keys. A Session holds no timer: the
// node abandons it (by dropping it) if the peer does not answer in time.
//
// The session compares against the local tree as it is at each step, so
// writes during an exchange are harmless: a key written meanwhile is at
// worst reported or repaired once more.
type Session struct {
	t  *Tree
	id uint64

	level   int      // level of queue's indexes
	queue   []uint32 // differing nodes at level still to ask about
	next    []uint32 // differing nodes found at level+1
	pending Request
	diffs   []Diff
	done    bool
	refused bool
	stats   Stats
}

// NewSession starts an exchange of t's range with a peer; id is echoed in
// every response so the node can route responses to sessions.
func NewSession(t *Tree, id uint64) *Session { return &Session{t: t, id: id} }

// Start returns the first request: the local root hash.
func (s *Session) Start() Request {
	q := s.request(KindRoot, 0, nil)
	q.Root = s.t.Root()
	return s.send(q)
}

// Done reports whether the exchange has ended.
func (s *Session) Done() bool { return s.done }

// Refused reports whether the exchange ended because the peer refused it.
func (s *Session) Refused() bool { return s.refused }

// Diffs returns the differing keys found, sorted by key; complete once Done.
func (s *Session) Diffs() []Diff { return slices.Clone(s.diffs) }

// Stats returns the traffic counted so far.
func (s *Session) Stats() Stats { return s.stats }

// ID returns the session's id.
func (s *Session) ID() uint64 { return s.id }

// Range returns the range being compared.
func (s *Session) Range() Range { return s.t.rng }

// Step consumes the response to the outstanding request. It returns the
// next request and true, or false once the exchange is done. A response
// that does not answer the outstanding request (wrong id, range, kind or
// level, wrong number of hashes, entries outside the requested leaves or
// out of order) is rejected with ErrBadResponse, counted, and leaves the
// session unchanged, still waiting for a proper answer. A refusal ends the
// session with ErrRefused and no diffs.
func (s *Session) Step(p Response) (Request, bool, error) {
	if s.done {
		s.stats.Rejected++
		return Request{}, false, fmt.Errorf("%w: response %d after the exchange of %v ended", ErrSessionDone, p.ID, s.t.rng)
	}
	if err := s.check(p); err != nil {
		s.stats.Rejected++
		return Request{}, false, err
	}
	s.stats.Responses++
	s.stats.Messages++
	sz := p.Size()
	s.stats.ResponseBytes += sz
	s.stats.Bytes += sz

	q := s.pending
	if p.Refused {
		s.refused = true
		s.diffs = nil
		s.finish()
		return Request{}, false, fmt.Errorf("%w: %v request %d over %v", ErrRefused, q.Kind, q.ID, q.Range)
	}
	switch q.Kind {
	case KindRoot:
		if p.Equal {
			return s.finish()
		}
		s.compareHashes(1, []uint32{0}, p.Hashes)
	case KindHashes:
		s.compareHashes(int(q.Level)+1, q.Indexes, p.Hashes)
	case KindLeaves:
		s.compareLeaves(q.Indexes, p.Entries)
	}
	s.queue = s.queue[min(len(q.Indexes), len(s.queue)):]
	if q.Kind == KindRoot {
		s.queue = nil
	}
	if len(s.queue) == 0 {
		if len(s.next) == 0 {
			return s.finish()
		}
		s.level++
		s.queue, s.next = s.next, nil
	}
	kind, batch := KindHashes, s.t.cfg.batch()
	if s.level == s.t.cfg.Depth {
		kind, batch = KindLeaves, s.t.cfg.leafBatch()
	}
	n := min(batch, len(s.queue))
	return s.send(s.request(kind, s.level, slices.Clone(s.queue[:n]))), true, nil
}

func (s *Session) request(k Kind, level int, xs []uint32) Request {
	return Request{ID: s.id, Range: s.t.rng, Depth: uint8(s.t.cfg.Depth), Fanout: uint16(s.t.cfg.Fanout), Kind: k, Level: uint8(level), Indexes: xs}
}

func (s *Session) send(q Request) Request {
	s.pending = q
	s.stats.Requests++
	s.stats.Messages++
	sz := q.Size()
	s.stats.RequestBytes += sz
	s.stats.Bytes += sz
	return q
}

func (s *Session) finish() (Request, bool, error) {
	s.done = true
	s.queue, s.next = nil, nil
	slices.SortFunc(s.diffs, func(a, b Diff) int { return strings.Compare(a.Key, b.Key) })
	return Request{}, false, nil
}

// check validates p against the outstanding request without changing s.
func (s *Session) check(p Response) error {
	q := s.pending
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: session %d over %v: %s", ErrBadResponse, s.id, s.t.rng, fmt.Sprintf(format, args...))
	}
	if q.Kind == 0 {
		return bad("no request is outstanding; call Start first")
	}
	if p.ID != q.ID || p.Range != q.Range || p.Kind != q.Kind {
		return bad("response (id %d, range %v, kind %v) does not answer request (id %d, range %v, kind %v)", p.ID, p.Range, p.Kind, q.ID, q.Range, q.Kind)
	}
	if p.Refused {
		if p.Equal || len(p.Hashes) != 0 || len(p.Entries) != 0 {
			return bad("a refusal carries data")
		}
		return nil
	}
	f, d := s.t.cfg.Fanout, s.t.cfg.Depth
	switch q.Kind {
	case KindRoot:
		if p.Equal {
			if len(p.Hashes) != 0 || len(p.Entries) != 0 {
				return bad("an equal-roots response carries data")
			}
			return nil
		}
		if int(p.Level) != 1 || len(p.Hashes) != f || len(p.Entries) != 0 {
			return bad("root response has level %d, %d hashes, %d entries; want level 1 and %d hashes", p.Level, len(p.Hashes), len(p.Entries), f)
		}
	case KindHashes:
		if int(p.Level) != int(q.Level)+1 || p.Equal || len(p.Hashes) != len(q.Indexes)*f || len(p.Entries) != 0 {
			return bad("hashes response has level %d, %d hashes; want level %d and %d hashes", p.Level, len(p.Hashes), int(q.Level)+1, len(q.Indexes)*f)
		}
	case KindLeaves:
		if int(p.Level) != d || p.Equal || len(p.Hashes) != 0 {
			return bad("leaves response has level %d and %d hashes; want level %d and none", p.Level, len(p.Hashes), d)
		}
		// Entries must come leaf by leaf in request order, sorted by key
		// within a leaf, and only from requested leaves.
		nl := len(s.t.leaves)
		j := 0
		prev := -1
		for i, e := range p.Entries {
			h := ring.HashKey(e.Key)
			if !s.t.rng.Contains(h) {
				return bad("entry %q hashes outside the range", e.Key)
			}
			b := bucket(s.t.rng, h, nl)
			for j < len(q.Indexes) && int(q.Indexes[j]) < b {
				j++
			}
			if j == len(q.Indexes) || int(q.Indexes[j]) != b {
				return bad("entry %q belongs to leaf %d, which was not requested or is out of order", e.Key, b)
			}
			if b == prev && p.Entries[i-1].Key >= e.Key {
				return bad("entries %q and %q are not strictly sorted", p.Entries[i-1].Key, e.Key)
			}
			prev = b
		}
	}
	return nil
}

// compareHashes compares remote hashes of the children of parents (at
// level) with local ones and queues the differing children.
func (s *Session) compareHashes(level int, parents []uint32, remote []uint64) {
	f := s.t.cfg.Fanout
	local := s.t.levels[level]
	for i, par := range parents {
		for c := range f {
			x := int(par)*f + c
			s.stats.HashesCompared++
			if local[x] != remote[i*f+c] {
				s.next = append(s.next, uint32(x))
			}
		}
	}
}

// compareLeaves merges the local and remote sorted key lists of each
// requested leaf and records every difference.
func (s *Session) compareLeaves(leaves []uint32, remote []Entry) {
	nl := len(s.t.leaves)
	k := 0
	for _, b := range leaves {
		s.stats.LeavesFetched++
		end := k
		for end < len(remote) && uint32(bucket(s.t.rng, ring.HashKey(remote[end].Key), nl)) == b {
			end++
		}
		rs := remote[k:end]
		k = end
		ls := s.t.leafEntries(int(b))
		i, j := 0, 0
		for i < len(ls) || j < len(rs) {
			switch {
			case j == len(rs) || (i < len(ls) && ls[i].Key < rs[j].Key):
				s.diffs = append(s.diffs, Diff{Key: ls[i].Key, Local: ls[i].Version, HasLocal: true})
				i++
			case i == len(ls) || rs[j].Key < ls[i].Key:
				s.diffs = append(s.diffs, Diff{Key: rs[j].Key, Remote: rs[j].Version, HasRemote: true})
				j++
			default:
				if ls[i].Version != rs[j].Version {
					s.diffs = append(s.diffs, Diff{Key: ls[i].Key, Local: ls[i].Version, HasLocal: true, Remote: rs[j].Version, HasRemote: true})
				}
				i++
				j++
			}
		}
	}
}
