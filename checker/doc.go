// Package checker judges histories and replica snapshots. Every checker is
// a pure function of plain data (history.Op slices, Snapshot values) that
// returns a Result: Valid, Invalid or Unknown (a budget ran out or nothing
// could be judged; never a silent pass), a human explanation, and the
// smallest witness it can name.
//
//   - Linearizable: porcupine over a per-key register / cas-register / KV
//     model, after patching info writes (see PatchInfo).
//   - LostWrites: acknowledged writes and set elements missing from the
//     final reads, under LWW (real-time) or vector-clock (causal) rules.
//   - Durability: the lost writes that were acknowledged before a crash.
//   - Siblings: under vector clocks, the final siblings of each key are
//     exactly the acknowledged writes no other write superseded.
//   - Convergence: every replica of every key holds the same versions.
//
// Layer 1 (DESIGN.md §2): imports the standard library, sim,
// history and github.com/anishathalye/porcupine only.
package checker
