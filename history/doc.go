// Package history is faultline's plain history model: the events a simulated
// (or external) client run produces, their pairing into operations, a
// deterministic recorder, and the file formats faultline reads and writes
// (its own JSON lines, and Jepsen EDN histories with one map per line).
//
// The cluster records histories with a Recorder, workloads describe the
// operations they issue as Events, and the checker judges the paired Ops.
// A history is plain data: no pointers between events, no maps, nothing
// whose order comes from the runtime.
//
// Layer: history sits beside sim at the bottom of the stack (see
// DESIGN.md §2). It imports the standard library and sim only;
// every other faultline package may import it.
package history
