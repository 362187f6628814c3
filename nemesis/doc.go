// Package nemesis is faultline's fault vocabulary: network partitions of
// several shapes, crashes (with or without losing unsynced writes) and
// restarts, pauses, clock faults (skew, bumps, strobe, drift), link faults
// (loss, duplication, delay spikes), stalled and clogged links (their
// messages wait, then flow in order) and membership churn, as plain data.
//
// A Schedule is a sorted list of timed Faults. It prints one fault per line
// and parses back (so a failing run's schedule can be pasted into a
// regression test), validates against a cluster's nodes, lists its fault
// windows for reports, and installs itself on a sim.Loop against a Target,
// the interface the simulated cluster implements (clogs need the optional
// LinkClogger too). Schedules are generated
// from a seed with a configurable mix of fault families and an intensity
// (Generate), with the mix and intensity themselves drawn from the seed
// (Swarm), or by any other Chooser through Plan (nemesistest draws them
// with rapid, so failing schedules shrink).
//
// Layer: nemesis is at layer 2 of docs/design.md §2. It imports the standard
// library and sim only; the cluster (layer 3) implements Target.
package nemesis
