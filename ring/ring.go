package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/faultline-sim/faultline/sim"
)

// Limits that keep a ring's memory and build time bounded.
const (
	// MaxTokens bounds the number of tokens a virtual-node ring may hold
	// (the sum of VNodes × Weight over its members).
	MaxTokens = 1 << 22
	// MaxShards bounds Config.Shards in fixed-shard mode.
	MaxShards = 1 << 20
	// MaxWeight bounds a member's weight.
	MaxWeight = 1 << 16
)

// Errors returned by ring constructors and lookups. They are wrapped with
// details, so compare them with errors.Is.
var (
	// ErrEmptyRing is returned by lookups on a ring without members.
	ErrEmptyRing = errors.New("ring: the ring has no members")
	// ErrBadConfig is returned for a Config that cannot describe a ring.
	ErrBadConfig = errors.New("ring: bad config")
	// ErrBadWeight is returned for a member weight outside [1, MaxWeight].
	ErrBadWeight = errors.New("ring: bad weight")
	// ErrDuplicateNode is returned when a node id is already a member.
	ErrDuplicateNode = errors.New("ring: duplicate node id")
	// ErrUnknownNode is returned when a node id is not a member.
	ErrUnknownNode = errors.New("ring: unknown node id")
	// ErrBadReplicas is returned when a replica count n is below 1 or
	// above the number of nodes that own part of the ring.
	ErrBadReplicas = errors.New("ring: bad replica count")
	// ErrTooManyTokens is returned when a virtual-node ring would exceed
	// MaxTokens tokens.
	ErrTooManyTokens = errors.New("ring: too many tokens")
	// ErrTooFewShards is returned in fixed-shard mode when the shards cannot
	// give every member its weight's worth (Shards < total weight).
	ErrTooFewShards = errors.New("ring: too few shards")
)

// Member is one physical node of the ring. Its Weight (>= 1) scales its
// share of the ring: VNodes × Weight tokens, or about Q·Weight/W shards.
type Member struct {
	ID     sim.NodeID
	Weight int
}

// Config fixes how a ring places tokens. Seed moves every token; VNodes is
// the number of tokens per unit of weight in virtual-node mode; Shards = 0
// selects virtual-node mode and Shards = Q > 0 selects fixed-shard mode
// with Q equal shards (VNodes must then be 0).
type Config struct {
	Seed   uint64
	VNodes int
	Shards int
}

// Ring is an immutable consistent-hash ring. The zero value and a nil *Ring
// are empty rings: every lookup returns ErrEmptyRing.
type Ring struct {
	cfg     Config
	members []Member // sorted by ID
	weight  int      // sum of member weights

	// tokens holds the ring positions in ascending order; owners[i] owns
	// the range (tokens[i-1], tokens[i]], wrapping for i = 0.
	tokens []uint64
	owners []sim.NodeID
	// prefix[p] is the first index whose token has top bits >= p; it has
	// 2^(64-shift) + 1 entries so prefix[p+1] is always valid.
	prefix []uint32
	shift  uint8 // 64 - the number of top bits indexing prefix
	// hidden holds virtual-node tokens that collided with an equal token
	// of a lower node id (or the same node) and so own nothing. It is
	// almost always empty; when it is not, updates rebuild from scratch.
	hidden []placed
	// place positions virtual-node tokens (TokenHash outside tests).
	place placer
	// owning is the number of distinct nodes owning at least one token.
	owning int
}

// placed is one token and its owner.
type placed struct {
	token uint64
	owner sim.NodeID
}

// The prefix table indexes the top bits of a hash: with about two entries
// per token (prefixExtra = 1) the binary search that follows covers about
// one token, and the table stays small enough to rebuild quickly and to
// stay in cache (15,000 tokens: 2^15 entries, 128 KiB). It never exceeds
// 2^maxPrefixBits + 1 entries (256 KiB). Measured on 100×150 tokens, a
// 2^16 table made lookups no faster and an Add twice as slow.
const (
	maxPrefixBits = 16
	prefixExtra   = 1
)

// prefixShift returns the shift for a ring of n tokens.
func prefixShift(n int) uint8 {
	b := min(max(bits.Len(uint(n))+prefixExtra, 1), maxPrefixBits)
	return uint8(64 - b)
}

// HashKey returns the key's position on the ring: the xxhash64 of its bytes.
func HashKey(key string) uint64 { return xxhash.Sum64String(key) }

// TokenHash returns the position of token number index of node id under
// seed: the xxhash64 of the fixed-width little-endian triple (seed, id,
// index), so distinct labels never share an encoding.
func TokenHash(seed uint64, id sim.NodeID, index uint32) uint64 {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], seed)
	binary.LittleEndian.PutUint32(b[8:], uint32(id))
	binary.LittleEndian.PutUint32(b[12:], index)
	return xxhash.Sum64(b[:])
}

// New builds a ring under cfg with the given members. It is an error for
// cfg to be invalid (VNodes <= 0 in virtual-node mode, Shards < 0 or >
// MaxShards, both set), for a weight to be outside [1, MaxWeight] or for an
// id to repeat. A ring with no members is valid; its lookups fail with
// ErrEmptyRing. In fixed-shard mode the initial claim is a smooth weighted
// round robin over the members in id order.
func New(cfg Config, members ...Member) (*Ring, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b Member) int { return cmpID(a.ID, b.ID) })
	for i, m := range ms {
		if err := checkWeight(m); err != nil {
			return nil, err
		}
		if i > 0 && ms[i-1].ID == m.ID {
			return nil, fmt.Errorf("%w: node %v appears twice", ErrDuplicateNode, m.ID)
		}
	}
	if cfg.Shards > 0 {
		return newSharded(cfg, ms)
	}
	return buildVNodes(cfg, ms, TokenHash)
}

func (c Config) validate() error {
	switch {
	case c.Shards < 0:
		return fmt.Errorf("%w: Shards=%d is negative; use 0 for virtual-node mode or Q>0 for fixed-shard mode", ErrBadConfig, c.Shards)
	case c.Shards > MaxShards:
		return fmt.Errorf("%w: Shards=%d exceeds the limit %d", ErrBadConfig, c.Shards, MaxShards)
	case c.Shards > 0 && c.VNodes != 0:
		return fmt.Errorf("%w: VNodes=%d with Shards=%d: fixed-shard mode places no per-node tokens; set VNodes to 0", ErrBadConfig, c.VNodes, c.Shards)
	case c.Shards == 0 && c.VNodes <= 0:
		return fmt.Errorf("%w: VNodes=%d must be at least 1 in virtual-node mode", ErrBadConfig, c.VNodes)
	case c.Shards == 0 && c.VNodes > MaxTokens:
		return fmt.Errorf("%w: VNodes=%d exceeds the token limit %d", ErrBadConfig, c.VNodes, MaxTokens)
	}
	return nil
}

func checkWeight(m Member) error {
	if m.Weight < 1 || m.Weight > MaxWeight {
		return fmt.Errorf("%w: node %v has weight %d; weights must be in [1, %d]", ErrBadWeight, m.ID, m.Weight, MaxWeight)
	}
	return nil
}

func cmpID(a, b sim.NodeID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Config returns the configuration the ring was built with.
func (r *Ring) Config() Config {
	if r == nil {
		return Config{}
	}
	return r.cfg
}

// Members returns the members with their weights, sorted by id.
func (r *Ring) Members() []Member {
	if r == nil {
		return nil
	}
	return slices.Clone(r.members)
}

// Nodes returns the member ids in ascending order.
func (r *Ring) Nodes() []sim.NodeID {
	if r == nil {
		return nil
	}
	ids := make([]sim.NodeID, len(r.members))
	for i, m := range r.members {
		ids[i] = m.ID
	}
	return ids
}

// Len returns the number of members.
func (r *Ring) Len() int {
	if r == nil {
		return 0
	}
	return len(r.members)
}

// Contains reports whether id is a member.
func (r *Ring) Contains(id sim.NodeID) bool {
	_, ok := r.find(id)
	return ok
}

// Weight returns the weight of member id, or 0 if it is not a member.
func (r *Ring) Weight(id sim.NodeID) int {
	i, ok := r.find(id)
	if !ok {
		return 0
	}
	return r.members[i].Weight
}

func (r *Ring) find(id sim.NodeID) (int, bool) {
	if r == nil {
		return 0, false
	}
	return slices.BinarySearchFunc(r.members, id, func(m Member, id sim.NodeID) int { return cmpID(m.ID, id) })
}

// Tokens returns the number of tokens (ranges) on the ring: the owning
// tokens in virtual-node mode, Q in fixed-shard mode.
func (r *Ring) Tokens() int {
	if r == nil {
		return 0
	}
	return len(r.tokens)
}

// Add returns a new ring with m added; r is unchanged. In virtual-node mode
// the result equals New with the larger membership; in fixed-shard mode m
// steals about Q·w/W shards, one at a time from the most loaded member.
func (r *Ring) Add(m Member) (*Ring, error) {
	if r == nil || (r.cfg.Shards == 0 && r.place == nil) {
		return nil, fmt.Errorf("%w: Add on a ring not built by New; build one with New", ErrBadConfig)
	}
	if err := checkWeight(m); err != nil {
		return nil, err
	}
	i, ok := r.find(m.ID)
	if ok {
		return nil, fmt.Errorf("%w: node %v is already a member", ErrDuplicateNode, m.ID)
	}
	ms := slices.Insert(slices.Clone(r.members), i, m)
	if r.cfg.Shards > 0 {
		return r.shardAdd(ms, i)
	}
	return r.vnodeAdd(ms, m)
}

// Remove returns a new ring without node id; r is unchanged. In
// virtual-node mode only id's ranges change owner; in fixed-shard mode id's
// shards go one at a time to the least loaded remaining member.
func (r *Ring) Remove(id sim.NodeID) (*Ring, error) {
	i, ok := r.find(id)
	if !ok {
		return nil, fmt.Errorf("%w: node %v is not a member", ErrUnknownNode, id)
	}
	ms := slices.Delete(slices.Clone(r.members), i, i+1)
	if r.cfg.Shards > 0 {
		return r.shardRemove(ms, id)
	}
	return r.vnodeRemove(ms, id)
}

// SetWeight returns a new ring in which node id has the given weight; r is
// unchanged. Only ranges to or from id change owner.
func (r *Ring) SetWeight(id sim.NodeID, weight int) (*Ring, error) {
	i, ok := r.find(id)
	if !ok {
		return nil, fmt.Errorf("%w: node %v is not a member", ErrUnknownNode, id)
	}
	if err := checkWeight(Member{ID: id, Weight: weight}); err != nil {
		return nil, err
	}
	ms := slices.Clone(r.members)
	ms[i].Weight = weight
	if r.cfg.Shards > 0 {
		return r.shardSetWeight(ms, i)
	}
	return buildVNodes(r.cfg, ms, r.place)
}

// Owner returns the node owning key: the owner of the first token at or
// clockwise after HashKey(key).
func (r *Ring) Owner(key string) (sim.NodeID, error) {
	if r == nil || len(r.tokens) == 0 {
		return 0, ErrEmptyRing
	}
	return r.owners[r.search(xxhash.Sum64String(key))], nil
}

// OwnerHash returns the node owning ring position h.
func (r *Ring) OwnerHash(h uint64) (sim.NodeID, error) {
	if r == nil || len(r.tokens) == 0 {
		return 0, ErrEmptyRing
	}
	return r.owners[r.search(h)], nil
}

// search returns the index of the first token >= h, wrapping to 0 past the
// last token. The ring must be non-empty.
//
// The prefix table narrows the search to the tokens sharing h's top bits,
// t[lo:hi]; t[hi] (the next bucket's first token, or the MaxUint64 sentinel
// past the end) is >= h, so the answer lies in t[lo:hi+1] and the halving
// below needs no final comparison. Each step is arithmetic on the borrow
// of a subtraction, never a branch on the comparison, so random keys cause
// no mispredictions inside the loop.
func (r *Ring) search(h uint64) int {
	p := h >> r.shift
	base := int(r.prefix[p])
	m := int(r.prefix[p+1]) - base + 1
	t := r.tokens[:len(r.tokens)+1] // include the sentinel
	for m > 1 {
		half := m >> 1
		// borrow is 1 exactly when t[base+half-1] < h.
		_, borrow := bits.Sub64(t[base+half-1], h, 0)
		base += half & -int(borrow)
		m -= half
	}
	if base == len(r.tokens) {
		base = 0
	}
	return base
}

// PreferenceList returns the n distinct physical nodes holding key, walking
// clockwise from its position and skipping tokens of nodes already chosen;
// the coordinator comes first. The result is written into buf[:0] and does
// not allocate when cap(buf) >= n. n must be in [1, number of owning nodes].
func (r *Ring) PreferenceList(key string, n int, buf []sim.NodeID) ([]sim.NodeID, error) {
	return r.PreferenceListHash(xxhash.Sum64String(key), n, buf)
}

// PreferenceListHash is PreferenceList for ring position h.
func (r *Ring) PreferenceListHash(h uint64, n int, buf []sim.NodeID) ([]sim.NodeID, error) {
	if err := r.checkN(n); err != nil {
		return buf[:0], err
	}
	return r.walk(r.search(h), n, buf[:0]), nil
}

// checkN validates a replica count against the ring.
func (r *Ring) checkN(n int) error {
	if r == nil || len(r.tokens) == 0 {
		return ErrEmptyRing
	}
	if n < 1 || n > r.owning {
		return fmt.Errorf("%w: n=%d but the ring has %d nodes owning ranges", ErrBadReplicas, n, r.owning)
	}
	return nil
}

// walk appends to the empty buf the first n distinct owners clockwise from
// token i. n must be in [1, r.owning].
func (r *Ring) walk(i, n int, buf []sim.NodeID) []sim.NodeID {
	owners := r.owners
	buf = append(buf, owners[i])
	for len(buf) < n {
		i++
		if i == len(owners) {
			i = 0
		}
		if o := owners[i]; !slices.Contains(buf, o) {
			buf = append(buf, o)
		}
	}
	return buf
}

// Fallbacks returns the next count distinct nodes clockwise after key's
// preference list of n: the nodes a sloppy quorum uses for hinted replicas.
// It returns fewer when the ring has fewer than n+count owning nodes. buf is
// used as scratch space; there is no allocation when cap(buf) >= n+count.
func (r *Ring) Fallbacks(key string, n, count int, buf []sim.NodeID) ([]sim.NodeID, error) {
	return r.FallbacksHash(xxhash.Sum64String(key), n, count, buf)
}

// FallbacksHash is Fallbacks for ring position h.
func (r *Ring) FallbacksHash(h uint64, n, count int, buf []sim.NodeID) ([]sim.NodeID, error) {
	if err := r.checkN(n); err != nil {
		return buf[:0], err
	}
	if count < 0 {
		return buf[:0], fmt.Errorf("%w: fallback count %d is negative", ErrBadReplicas, count)
	}
	total := min(n+count, r.owning)
	buf = r.walk(r.search(h), total, buf[:0])
	k := copy(buf, buf[n:])
	return buf[:k], nil
}
