// Package merkle is the anti-entropy machinery of a faultline kv node: a
// Merkle tree per key range over (key -> version fingerprint), kept up to
// date incrementally on every write, and the exchange protocol two replicas
// of a range run to find exactly the keys on which they differ.
//
// A Tree covers one ring arc (Start, End]. Its leaves are Fanout^Depth
// buckets that cut the arc into equal sub-arcs by key hash (ring.HashKey),
// so sibling leaves hold neighbouring hashes whatever the arc's size. A
// leaf's hash is the wrapping sum of mixed (key hash, version) item hashes,
// and an inner node's hash is the wrapping sum of its children's hashes,
// each mixed with the child's position. Both sums are order-independent and
// exact, so Set and Delete update one leaf and its Depth ancestors in O(Depth)
// and the result is bit-for-bit the tree Build would make from scratch.
//
// The exchange is a pure state machine. The initiating replica runs a
// Session that produces Requests and consumes Responses; the other replica
// answers each Request statelessly with Tree.Respond (or Forest.Respond,
// which also finds the tree by range). The Session compares the roots,
// descends only into children whose hashes differ, and at differing leaves
// compares the key/version lists, yielding every key that is missing on one
// side or held at different versions (Diff). Repairing the data, merged by
// the node's conflict-resolution mode, is the kv node's job. For d differing
// keys the exchange costs at most 2·Depth+2 messages when d = 1 and grows
// with d, not with the number of keys in the range. Every message has an
// exact msgpack size (Size), and a Session counts messages and bytes.
//
// Malformed input never panics: a request for a range the responder does not
// hold, a bad level, index or configuration is an error value and is
// counted; a response that does not answer the outstanding request is
// rejected, counted and leaves the session unchanged.
//
// Layer L2 (docs/design.md §2), inside kv: merkle imports only the standard
// library and ring (for HashKey, and ring.Arc, which Range is). It has no
// clock, no randomness, no goroutines and no map iteration that reaches its
// output.
package merkle
