// Package history is faultline's plain history model: the events a simulated
// (or external) client run produces, their pairing into operations, a
// deterministic recorder, and the file formats faultline reads and writes
// (its own JSON lines; Jepsen and Knossos EDN, one operation per line or a
// whole file that is one collection of operations; jepsen.log text lines),
// read as streams with every line bounded (MaxLineBytes).
//
// The cluster records histories with a Recorder, workloads describe the
// operations they issue as Events, and the checker judges the paired Ops.
// A history is plain data: no pointers between events, no maps, nothing
// whose order comes from the runtime.
//
// Layer: history sits beside sim at the bottom of the stack. It imports the standard library and sim only;
// every other faultline package may import it.
package history
