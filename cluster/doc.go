// Package cluster is faultline's simulator: kv nodes on a consistent-hash
// ring over the simulated network, with per-node wall clocks, per-node
// storage and closed-loop clients, all driven by one sim.Loop from one seed.
//
// A run has three phases. In the workload phase the clients issue the
// workload's operations while the nemesis schedule breaks things. In the
// settle phase the cluster heals everything (cuts, link faults, clocks,
// crashed and paused nodes) and lets hinted handoff, read repair and anti-
// entropy run for a bounded time. Then every written key is read once more
// (final reads) and the replicas' state is snapshotted for the checkers. A
// run that cannot finish within its limits is a liveness failure.
//
// cluster implements nemesis.Target. It is layer 3 (docs/design.md §2): it may
// import sim, history, ring, checker, kv, transport,
// nemesis and workloads, and nothing above.
package cluster
