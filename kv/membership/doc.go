// Package membership is a faultline kv node's view of its cluster: a gossip
// membership table with heartbeat failure detection and SWIM-style
// suspicion, written as a pure state machine the node drives.
//
// Every node keeps a Table of entries (node id, incarnation, heartbeat,
// status alive/suspect/dead/left, weight and opaque claims such as shards
// or tokens). Tick advances the node's own heartbeat, runs the failure
// detector (alive -> suspect after SuspectTicks ticks without heartbeat
// progress, suspect -> dead after DeadTicks more) and returns the full
// table to push to Fanout random peers. Receive merges a peer's table and
// answers a push with the entries the peer is missing (push-pull), so a
// change reaches every node in O(log N) rounds.
//
// Entries merge by a join (Merge), so views converge whatever the order,
// duplication or loss of messages: the higher incarnation wins; within an
// incarnation left is final, and otherwise the higher heartbeat wins, then
// the stronger status (dead over suspect over alive). A verdict is thus
// overridden by any later heartbeat of the node, and only a node raises its
// own incarnation: told that it is suspect or dead as of its current
// heartbeat, it refutes by incarnating above the claim, which overrides the
// verdict everywhere. A join is a new node pushing its own entry (with its
// claims) to a seed; a leave is status left, spread by gossip and never
// undone within the node's incarnation. A node id that left may rejoin as a
// new life at a higher incarnation: told of its earlier leave, it
// incarnates above it too. Persist Table.Incarnation so that a new life
// starts above every incarnation the earlier one reached.
//
// The node builds its ring from its own view (RingVersion says when to
// rebuild; Members and ClaimOwners give the input), so views, and rings,
// may differ during partitions, as in production. Events report other
// nodes joining, becoming suspect, dead or alive again, and leaving, for
// hinted-handoff decisions.
//
// Bad input — a sender id out of range or not matching the message, an
// unknown sender that does not announce itself, unsorted or duplicate
// entries, entries with an id out of range, a bad status or too many
// claims, stale incarnations — is ignored and counted in Stats, never a
// panic and never a corrupted table.
//
// Layer L2 (docs/design.md §2), inside kv: membership imports only the standard
// library, sim (NodeID, RNG) and ring (MaxWeight). Randomness comes
// only from the injected sim.RNG; there is no clock, goroutine or map.
package membership
