// Package ring is faultline's consistent-hash ring: it decides which
// physical nodes hold a key, what has to stream when membership changes and
// which hash ranges anti-entropy compares.
//
// Two placement strategies share one lookup structure (a sorted slice of
// 64-bit tokens with a parallel owner slice and a prefix table over the top
// bits of the hash):
//
//   - virtual-node mode (Config.Shards == 0): every member places
//     VNodes × Weight tokens at seeded xxhash64 positions of the fixed-width
//     (seed, node id, token index) triple, as in Dynamo, Cassandra and most Go
//     libraries. The ring is a pure function of (seed, membership).
//   - fixed-shard mode (Config.Shards == Q > 0): the hash space is cut into Q
//     equal shards and members claim about Q·weight/W of them each, as in
//     Dynamo's strategy 3, riak_core and fogfish/ring. A join steals shards
//     from the most loaded members and a leave hands its shards to the least
//     loaded, so exactly the shards that must move do move. The assignment
//     depends on the order of joins and leaves.
//
// Arc, a wrapping arc (Start, End] of hashes, is the one range type: a
// Range and a RangeChange embed it, and kv and kv/merkle use it for
// handoff arcs and Merkle tree ranges.
//
// Rings are immutable values: Add, Remove and SetWeight return a new ring,
// so readers never lock.
//
// Layer L1 (docs/design.md §2): ring imports only the standard library,
// sim (for NodeID) and github.com/cespare/xxhash/v2. It uses no
// randomness, clocks, goroutines, locks or atomics.
package ring
