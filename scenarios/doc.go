// Package scenarios is faultline's catalogue of named runs: each Spec is a
// cluster configuration, a workload, a nemesis schedule drawn from the seed,
// the checkers that judge the run and the verdict each checker must give.
// Together the built-in specs demonstrate the truths of Dynamo-style stores
// (docs/design.md §6): which configurations are linearizable under faults and
// which lose acknowledged writes, read stale values, resurrect deleted data
// or never converge.
//
// Expectations are honest about nondeterminism. AlwaysValid and
// AlwaysInvalid hold for every seed; FoundInvalid holds for a suite of seeds
// when at least one seed is Invalid (a seed that happens to be Valid is
// fine, a suite that never finds the violation fails); Any is not judged.
// Unknown (a checker's budget ran out) is never a pass.
//
// RunSeed runs one seed and returns an Outcome (verdicts, failure class,
// counters, trace hash, the one-line repro); RunSuite and RunSuites apply the
// FoundInvalid rule across seeds, RunSuites on several goroutines, one
// independent seed per goroutine (each run itself is single-threaded and a
// pure function of its seed). Run plugs a spec into a go test suite.
// The subpackage scenarios/fuzz draws fault schedules with rapid and
// shrinks a failing one to a minimal schedule.
//
// Besides the standard checkers, scenario-specific Checks judge what they
// do not cover: write availability under partitions, zombies after
// deletes, and anti-entropy repair traffic after heal (RepairTrafficCheck,
// a bound from the Merkle tree shape, judged over the quiescent phase by
// replaying the run up to its settle phase).
//
// Layer: scenarios is layer 4 of docs/design.md §2. It imports cluster, checker,
// kv (and kv/merkle for message sizes), nemesis, workloads, sim, history and the standard
// library (testing only for Run), and nothing above; cmd/faultline imports it.
package scenarios
