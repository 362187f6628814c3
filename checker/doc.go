// Package checker judges histories and replica snapshots. Every checker is
// a pure function of plain data (history.Op slices, Snapshot values) that
// returns a Result: Valid, Invalid or Unknown (a budget ran out or nothing
// could be judged; never a silent pass), a human explanation, and the
// smallest witness it can name.
//
//   - Linearizable: a per-key register, cas-register, kv (with string
//     append and set adds), set or mutex model, after patching info writes
//     (see PatchInfo): a sound stale/future-read pre-pass, then a
//     Wing-Gong-Lowe search (porcupine's algorithm) whose step and memory
//     budgets make Unknown a function of the history; porcupine draws the
//     visualization.
//   - LostWrites: acknowledged writes and set elements missing from the
//     final reads, under LWW (real-time) or vector-clock (causal) rules.
//   - Durability: the lost writes that were acknowledged before a crash.
//   - Siblings: under vector clocks, the final siblings of each key are
//     exactly the acknowledged writes no other write superseded.
//   - Convergence: every replica of every key holds the same versions.
//
// Layer 1: imports the standard library, sim,
// history and github.com/anishathalye/porcupine only.
package checker
