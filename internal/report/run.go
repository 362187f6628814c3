package report

import (
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/scenarios"
)

// Verdict is one checker's judgement next to what was expected of it.
type Verdict struct {
	checker.Result
	// Expected is the expectation as the scenario names it (e.g.
	// "always-valid", "found-invalid"); empty when nothing was expected
	// (ad-hoc runs).
	Expected string
	// AsExpected reports whether the verdict met the expectation (for
	// ad-hoc runs: whether it is not Invalid).
	AsExpected bool
}

// Run is what a report shows: one seed of one scenario (or ad-hoc
// configuration), how it ended, what the checkers said and what the run
// observed.
type Run struct {
	// Scenario names the scenario ("ad-hoc" for a run built from flags).
	Scenario string
	// Seed is the run's seed.
	Seed uint64
	// Class is how the run ended: ok, correctness, liveness or crash.
	Class string
	// Failure says why in one line when Class is not ok.
	Failure string
	// Repro is the command line that replays the run.
	Repro string
	// Config is the configuration that ran, with its nemesis schedule.
	Config scenarios.Config
	// Result is everything the run observed; nil if it never ran (a panic
	// before the run started).
	Result *cluster.Result
	// Verdicts are the checkers' verdicts in judging order.
	Verdicts []Verdict
	// WallTime is the real time the run and its checks took.
	WallTime time.Duration
	// Files lists sibling files the page links to (e.g. history.jsonl),
	// by name relative to the page.
	Files []string
	// Why are the witnesses' explanations (scenarios.Explain): WriteDir
	// writes each to WhyFile(n) and the witness table links to it.
	Why []scenarios.Why
}

// WhyFile is the name of the file that explains witness n.
func WhyFile(n int) string { return fmt.Sprintf("why-%d.txt", n) }

// Settings is a configuration's knobs as the CLI spells them: the part of
// cluster.Config a person tunes, flat and JSON-friendly.
type Settings struct {
	Nodes         int    `json:"nodes"`
	Spares        int    `json:"spares,omitempty"`
	N             int    `json:"n"`
	W             int    `json:"w"`
	R             int    `json:"r"`
	Quorum        string `json:"quorum"`
	Resolve       string `json:"resolve"`
	ReadRepair    string `json:"read_repair"`
	HintedHandoff bool   `json:"hinted_handoff"`
	AntiEntropy   string `json:"anti_entropy"`
	Membership    string `json:"membership"`
	VNodes        int    `json:"vnodes"`
	Shards        int    `json:"shards,omitempty"`
	Sync          bool   `json:"sync"`
	Workload      string `json:"workload"`
	Clients       int    `json:"clients"`
	Keys          int    `json:"keys"`
	Ops           int    `json:"ops"`
	Faults        int    `json:"faults"`
}

// SettingsOf extracts cfg's knobs.
func SettingsOf(cfg scenarios.Config) Settings {
	return Settings{
		Nodes: cfg.Nodes, Spares: cfg.Spares,
		N: cfg.KV.N, W: cfg.KV.W, R: cfg.KV.R,
		Quorum: cfg.KV.Quorum.String(), Resolve: cfg.KV.Resolve.String(),
		ReadRepair: cfg.KV.ReadRepair.String(), HintedHandoff: cfg.KV.HintedHandoff,
		AntiEntropy: antiEntropyOf(cfg), Membership: cfg.KV.Membership.String(),
		VNodes: cfg.KV.VNodes, Shards: cfg.KV.Shards, Sync: cfg.KV.SyncBeforeAck,
		Workload: cfg.Workload, Clients: cfg.WorkloadConfig.Clients, Keys: cfg.WorkloadConfig.Keys,
		Ops: cfg.WorkloadConfig.Ops, Faults: cfg.Nemesis.Faults(),
	}
}

// String formats the settings on one line, e.g.
// "5 nodes N=3 W=2 R=2 strict lww read-repair=blocking ...".
func (s Settings) String() string {
	ring := fmt.Sprintf("vnodes=%d", s.VNodes)
	if s.Shards > 0 {
		ring = fmt.Sprintf("shards=%d", s.Shards)
	}
	return fmt.Sprintf("%d nodes N=%d W=%d R=%d %s %s read-repair=%s hinted-handoff=%t anti-entropy=%s membership=%s %s sync=%t; %s workload, %d clients, %d keys, %d ops; %d faults",
		s.Nodes, s.N, s.W, s.R, s.Quorum, s.Resolve, s.ReadRepair, s.HintedHandoff, s.AntiEntropy, s.Membership, ring, s.Sync,
		s.Workload, s.Clients, s.Keys, s.Ops, s.Faults)
}

// antiEntropyOf spells cfg's anti-entropy setting as the CLI's
// -anti-entropy flag: "off" or the interval between two rounds.
func antiEntropyOf(cfg scenarios.Config) string {
	if cfg.KV.AntiEntropyIntervalTicks <= 0 {
		return "off"
	}
	return (time.Duration(cfg.KV.AntiEntropyIntervalTicks) * cfg.Tick).String()
}
