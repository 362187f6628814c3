// Package primarybackup is a small primary-backup register store written
// against faultline's public node boundary, as a second system under test
// deliberately unlike the built-in Dynamo store (package kv): one fixed
// coordinator instead of leaderless quorums, a total order of writes
// instead of per-key timestamps, and state transfer instead of read
// repair, hinted handoff and anti-entropy.
//
// # Design
//
// Node 0 is the primary, for ever: there is no failover. It coordinates
// every request. A request submitted to a backup is forwarded to the
// primary, and the primary's answer is relayed back. A backup that has not
// heard from the primary for Config.SuspectTicks holds requests back: it
// forwards them when it hears from the primary again, and refuses them
// with node.Fail after Config.TimeoutTicks (they certainly took effect
// nowhere, since they were never forwarded). A forwarded request that gets
// no answer in
// Config.TimeoutTicks ends Info for a write (it may have been applied) and
// Fail for a read.
//
// The primary numbers every write with a Version (its epoch, a durable
// counter bumped at each start, then a sequence number within the epoch),
// applies it to its in-memory map and its node.Disk, and replicates it.
// Replication is state transfer: a Replicate message carries every key
// whose version is newer than what the backup last acknowledged (a delta),
// or, when the primary does not know what the backup holds (after either
// restarts), the primary's whole state, which the backup installs in place
// of its own (a full snapshot: the primary is authoritative). A backup
// applies a message, syncs its disk, and acknowledges the highest version
// it now holds; the primary resends on every heartbeat
// (Config.HeartbeatTicks) until each backup has caught up, so after a heal
// every backup converges to the primary's state.
//
// Config.Mode chooses when a write is acknowledged:
//
//   - Sync: the primary syncs its disk before the write is visible to any
//     read, and acknowledges it once Config.Acks backups (0: all of them)
//     have acknowledged a version at least as new. A write that does not
//     gather its acks in Config.TimeoutTicks ends Info (it is applied on the
//     primary and will reach the backups later).
//   - Async: the primary acknowledges right after its local, unsynced
//     write, replicates in the background, and syncs its disk only every
//     Config.SyncEveryTicks (0: never).
//
// Reads are served by the primary from its current state, so every
// operation is ordered by one process: linearizable as long as the
// primary never forgets a write a client could have seen. Config.
// ReadFromBackups makes backups serve reads from their own copies instead
// (stale reads). node.Request.ReadAll is ignored: the primary's copy is the
// truth, and a final read must not resurrect from a backup a write the
// primary lost.
//
// Timeouts count ticks. The store keeps no clock, no goroutine and no
// randomness of its own: it is deterministic, as the simulator needs. It
// implements node.Node, node.Snapshotter (so the convergence checker
// compares every member's copy of every key), node.Counted and
// node.Describer, but not node.Member: the membership is fixed.
//
// # What the verdicts prove
//
// The tests in this package run faultline scenarios against the store:
//
//   - Sync under partitions and backup crashes, ending with a backup cut
//     off for the rest of the workload: linearizable, no acknowledged
//     write lost, replicas converge. The primary orders and serves
//     everything, so partitions and backup crashes only cost availability
//     (writes end Info while too few backups are reachable), never safety;
//     convergence shows that retransmission and state transfer repair every
//     backup after the heal.
//   - Sync with crashes of the primary losing unsynced data: still
//     linearizable, nothing acknowledged lost (durability), because nothing
//     is visible or acknowledged before the primary's disk holds it. The
//     primary's crash only makes the store unavailable.
//   - The same two with a planted bug: acknowledging before syncing and
//     before the backups ack turns lost-writes and durability Invalid;
//     counting a Replicate as acknowledged when it is sent (so what a
//     partition drops is never resent) turns convergence Invalid, and
//     nothing else, since no client reads a backup. Both scenarios can fail.
//   - Async with crashes of the primary losing unsynced data: acknowledged
//     writes are lost (lost-writes and durability Invalid) and reads that
//     saw them are contradicted (not linearizable), yet the replicas still
//     converge, to the primary's reduced state.
//   - Reads from backups under partitions: a backup that missed writes
//     serves old values after the primary served new ones, so the history
//     is not linearizable, while no acknowledged write is lost.
package primarybackup
