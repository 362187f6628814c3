package main

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
	"github.com/faultline-sim/faultline/sim"
)

// Defaults of an ad-hoc run's faults (the built-in catalogue's intensity):
// faults drawn over the first second, about one every 200 ms, each lasting
// about 250 ms.
const (
	adHocFaultsFor   = time.Second
	adHocInterval    = 200 * time.Millisecond
	adHocFaultLength = 250 * time.Millisecond
	adHocMaxSkew     = 2 * time.Second
	adHocMaxDelay    = 50 * time.Millisecond
	adHocOps         = 10_000
	adHocTimeLimit   = time.Second
	adHocSpares      = 2
	adHocNemesis     = "partition,crash"
	maxKnobNodes     = 64
	maxKnobOps       = 10_000_000
	maxKnobClients   = 10_000
)

// knobs are the cluster flags shared by run, replay and swarm. A knob the
// user did not set leaves the scenario's (or the ad-hoc default's) value
// alone.
type knobs struct {
	fs *flag.FlagSet

	nodes, n, w, r, vnodes      int
	quorum, resolve, readRepair string
	membership                  string
	hintedHandoff, sync         bool
	antiEntropy                 string
	nemesisMix                  string
	skew                        time.Duration
	workload                    string
	clients, keys, ops          int
	timeLimit                   time.Duration
	maxEvents                   uint64
	horizon                     time.Duration
	linearTimeout               time.Duration
	linearSteps                 int64
	set                         map[string]bool
	parsedQuorum                kv.QuorumMode
	parsedResolve               kv.ResolveMode
	parsedRepair                kv.ReadRepairMode
	parsedMembership            kv.MembershipMode
	parsedMix                   nemesis.Mix
	parsedAntiEntropy           time.Duration
}

// knobNames lists the knob flags in the order their usage shows them.
var knobNames = []string{"nodes", "n", "w", "r", "quorum", "resolve", "read-repair", "hinted-handoff",
	"anti-entropy", "membership", "vnodes", "sync", "nemesis", "skew", "workload", "clients", "keys", "ops", "time-limit",
	"max-events", "horizon", "linear-steps", "linear-timeout"}

// addKnobs registers the knob flags on fs.
func addKnobs(fs *flag.FlagSet) *knobs {
	k := &knobs{fs: fs}
	def := scenarios.DefaultConfig()
	fs.IntVar(&k.nodes, "nodes", def.Nodes, "number of nodes")
	fs.IntVar(&k.n, "n", def.KV.N, "replication factor N")
	fs.IntVar(&k.w, "w", def.KV.W, "write quorum W (acks a write waits for), 1..N")
	fs.IntVar(&k.r, "r", def.KV.R, "read quorum R (replies a read waits for), 1..N")
	fs.StringVar(&k.quorum, "quorum", "strict", "strict or sloppy (fallback replicas count towards W and R)")
	fs.StringVar(&k.resolve, "resolve", "lww", "conflict resolution: lww (last write wins) or vclock (vector clocks and siblings)")
	fs.StringVar(&k.readRepair, "read-repair", "blocking", "read repair: off, async or blocking")
	fs.StringVar(&k.membership, "membership", "oracle", "where nodes' rings come from: oracle (set by the cluster) or gossip (each node's own view)")
	fs.BoolVar(&k.hintedHandoff, "hinted-handoff", def.KV.HintedHandoff, "replay hints to their home replicas")
	fs.StringVar(&k.antiEntropy, "anti-entropy", "off", "Merkle anti-entropy: off, or the interval between rounds (e.g. 100ms)")
	fs.IntVar(&k.vnodes, "vnodes", def.KV.VNodes, "ring tokens per node")
	fs.BoolVar(&k.sync, "sync", def.KV.SyncBeforeAck, "replicas sync to disk before acknowledging a write")
	fs.StringVar(&k.nemesisMix, "nemesis", adHocNemesis, "fault families, comma-separated: "+nemesisFamilies()+"; or none, or all (every family but clog)")
	fs.DurationVar(&k.skew, "skew", adHocMaxSkew, "largest clock offset of clock faults; setting it adds skew to -nemesis")
	fs.StringVar(&k.workload, "workload", def.Workload, "register, set or kv")
	fs.IntVar(&k.clients, "clients", def.WorkloadConfig.Clients, "closed-loop clients")
	fs.IntVar(&k.keys, "keys", def.WorkloadConfig.Keys, "keys the workload spreads over")
	fs.IntVar(&k.ops, "ops", adHocOps, "operations over all clients, at most (the time limit usually ends the workload first)")
	fs.DurationVar(&k.timeLimit, "time-limit", adHocTimeLimit, "clients invoke no operation from this virtual time on (Jepsen's time limit), and faults are drawn over it; 0: only -ops bounds the workload (faults then over the first second)")
	fs.Uint64Var(&k.maxEvents, "max-events", def.Limits.MaxEvents, "most loop events a run may execute (beyond: liveness failure)")
	fs.DurationVar(&k.horizon, "horizon", time.Duration(def.Limits.Horizon), "latest virtual time a run may reach (beyond: liveness failure)")
	fs.Int64Var(&k.linearSteps, "linear-steps", checker.DefaultSteps, "model steps the linearizability search may take (beyond: unknown); the verdict is a function of the history and this budget")
	fs.DurationVar(&k.linearTimeout, "linear-timeout", 10*time.Minute, "wall-clock safety net of the linearizability check only: if it fires the unknown says it depends on the machine (budget the search with -linear-steps)")
	return k
}

// validate records which knobs were set and checks each on its own; the
// error says what to change.
func (k *knobs) validate() error {
	k.set = map[string]bool{}
	k.fs.Visit(func(f *flag.Flag) { k.set[f.Name] = true })
	var err error
	if k.parsedQuorum, err = parseQuorum(k.quorum); err != nil {
		return err
	}
	if k.parsedResolve, err = parseResolve(k.resolve); err != nil {
		return err
	}
	if k.parsedRepair, err = parseReadRepair(k.readRepair); err != nil {
		return err
	}
	if k.parsedMembership, err = parseMembership(k.membership); err != nil {
		return err
	}
	if k.parsedAntiEntropy, err = parseAntiEntropy(k.antiEntropy); err != nil {
		return err
	}
	if k.parsedMix, err = nemesis.ParseMix(k.nemesisMix); err != nil {
		return fmt.Errorf("-nemesis %q: use a comma-separated list of none, partition, crash, pause, skew, loss, churn, or all", k.nemesisMix)
	}
	if k.set["skew"] {
		if k.skew <= 0 {
			return fmt.Errorf("-skew %v: must be > 0 (it bounds the clock offsets of skew faults)", k.skew)
		}
		if k.set["nemesis"] && k.parsedMix == nemesis.MixNone {
			return fmt.Errorf("-skew with -nemesis none: drop -skew or add skew to -nemesis")
		}
	}
	switch k.workload {
	case "register", "set", "kv":
	default:
		return fmt.Errorf("-workload %q: want register, set or kv", k.workload)
	}
	for _, c := range []struct {
		name    string
		v, lo   int
		hi      int
		meaning string
	}{
		{"nodes", k.nodes, 1, maxKnobNodes, "nodes"},
		{"n", k.n, 1, maxKnobNodes, "replicas per key"},
		{"w", k.w, 1, maxKnobNodes, "write acks"},
		{"r", k.r, 1, maxKnobNodes, "read replies"},
		{"vnodes", k.vnodes, 1, 4096, "tokens per node"},
		{"clients", k.clients, 1, maxKnobClients, "clients"},
		{"keys", k.keys, 1, 1_000_000, "keys"},
		{"ops", k.ops, 1, maxKnobOps, "operations"},
	} {
		if c.v < c.lo || c.v > c.hi {
			return fmt.Errorf("-%s %d: want %d..%d %s", c.name, c.v, c.lo, c.hi, c.meaning)
		}
	}
	if k.set["max-events"] && k.maxEvents == 0 {
		return fmt.Errorf("-max-events 0: must be >= 1")
	}
	if k.timeLimit < 0 {
		return fmt.Errorf("-time-limit %v: must be >= 0 (0: no time limit)", k.timeLimit)
	}
	if k.set["horizon"] && k.horizon <= 0 {
		return fmt.Errorf("-horizon %v: must be > 0", k.horizon)
	}
	if k.linearTimeout <= 0 {
		return fmt.Errorf("-linear-timeout %v: must be > 0", k.linearTimeout)
	}
	if k.linearSteps <= 0 {
		return fmt.Errorf("-linear-steps %d: must be > 0", k.linearSteps)
	}
	return nil
}

// any reports whether the user set a knob that changes the configuration.
func (k *knobs) any() bool {
	for _, n := range knobNames {
		if k.set[n] && n != "linear-timeout" && n != "linear-steps" {
			return true
		}
	}
	return false
}

// apply sets on cfg the knobs the user set (all of them when all is true,
// for an ad-hoc run), then checks the quorum arithmetic, which is the
// common mistake, with a message naming the flags.
func (k *knobs) apply(cfg *scenarios.Config, all bool) error {
	on := func(name string) bool { return all || k.set[name] }
	if on("nodes") {
		cfg.Nodes = k.nodes
	}
	if on("n") {
		cfg.KV.N = k.n
	}
	if on("w") {
		cfg.KV.W = k.w
	}
	if on("r") {
		cfg.KV.R = k.r
	}
	if on("quorum") {
		cfg.KV.Quorum = k.parsedQuorum
	}
	if on("resolve") {
		cfg.KV.Resolve = k.parsedResolve
	}
	if on("read-repair") {
		cfg.KV.ReadRepair = k.parsedRepair
	}
	if on("membership") {
		cfg.KV.Membership = k.parsedMembership
	}
	if on("hinted-handoff") {
		cfg.KV.HintedHandoff = k.hintedHandoff
	}
	if on("anti-entropy") {
		if err := setAntiEntropy(cfg, k.parsedAntiEntropy); err != nil {
			return err
		}
	}
	if on("vnodes") {
		cfg.KV.VNodes = k.vnodes
	}
	if on("sync") {
		cfg.KV.SyncBeforeAck = k.sync
	}
	if on("workload") {
		if k.workload == "set" && cfg.Workload != "set" {
			// Jepsen's set test: read-modify-write adds only.
			cfg.WorkloadConfig.ReadRatio, cfg.WorkloadConfig.DeleteRatio = 0, 0
		} else if k.workload != "set" && cfg.Workload == "set" {
			cfg.WorkloadConfig.ReadRatio = scenarios.DefaultConfig().WorkloadConfig.ReadRatio
		}
		cfg.Workload = k.workload
	}
	if on("clients") {
		cfg.WorkloadConfig.Clients = k.clients
	}
	if on("keys") {
		cfg.WorkloadConfig.Keys = k.keys
	}
	if on("ops") {
		cfg.WorkloadConfig.Ops = k.ops
		cfg.WorkloadConfig.OpsPerClient = 0
	}
	if on("time-limit") {
		cfg.TimeLimit = k.timeLimit
	}
	if k.set["max-events"] {
		cfg.Limits.MaxEvents = k.maxEvents
	}
	if k.set["horizon"] {
		cfg.Limits.Horizon = sim.Time(k.horizon)
	}
	if (on("nemesis") || k.set["skew"]) && k.mix().Has(nemesis.FamilyChurn) && cfg.Spares == 0 {
		cfg.Spares = adHocSpares
	}
	switch {
	case cfg.KV.N > cfg.Nodes:
		return fmt.Errorf("N=%d exceeds the %d nodes: lower -n or raise -nodes", cfg.KV.N, cfg.Nodes)
	case cfg.KV.W > cfg.KV.N:
		return fmt.Errorf("W=%d exceeds N=%d: lower -w or raise -n", cfg.KV.W, cfg.KV.N)
	case cfg.KV.R > cfg.KV.N:
		return fmt.Errorf("R=%d exceeds N=%d: lower -r or raise -n", cfg.KV.R, cfg.KV.N)
	}
	return nil
}

// mix returns the fault families the knobs ask for: -nemesis, plus skew
// when -skew is set.
func (k *knobs) mix() nemesis.Mix {
	m := k.parsedMix
	if k.set["skew"] {
		m |= nemesis.MixOf(nemesis.FamilySkew)
	}
	return m
}

// applyFaults changes f as the fault knobs ask: -nemesis replaces the
// families (none drops every fault, fixed ones included), -skew bounds clock
// faults. Drawn faults get the ad-hoc intensity if f had none.
func (k *knobs) applyFaults(f *scenarios.Faults, all bool) {
	if !all && !k.set["nemesis"] && !k.set["skew"] {
		return
	}
	mix := k.mix()
	if !all && !k.set["nemesis"] {
		mix = f.Mix | nemesis.MixOf(nemesis.FamilySkew)
	}
	if mix == nemesis.MixNone {
		*f = scenarios.Faults{}
		return
	}
	f.Mix = mix
	if f.Duration == 0 {
		f.Duration, f.Interval, f.FaultDuration = adHocFaultsFor, adHocInterval, adHocFaultLength
		f.MaxDelay = adHocMaxDelay
	}
	if k.set["skew"] || f.MaxSkew == 0 {
		f.MaxSkew = k.skew
	}
}

// adHocSpec builds the spec of a run made from flags alone: the catalogue's
// base configuration with every knob applied and no expectation (the run
// fails if any checker says invalid).
func (k *knobs) adHocSpec() (scenarios.Spec, error) {
	cfg := scenarios.DefaultConfig()
	cfg.SettleTime = time.Second
	if err := k.apply(&cfg, true); err != nil {
		return scenarios.Spec{}, err
	}
	spec := scenarios.Spec{
		Name:        adHocName,
		Description: "ad-hoc run: " + k.describe(),
		Base:        cfg,
		Seeds:       1,
	}
	k.applyFaults(&spec.Faults, true)
	if cfg.TimeLimit > 0 && spec.Faults.Mix != nemesis.MixNone {
		spec.Faults.Duration = 0 // over the time limit: where the clients run
	}
	return spec, nil
}

// override applies the knobs the user set to a named scenario.
func (k *knobs) override(spec *scenarios.Spec) error {
	if !k.any() {
		return nil
	}
	probe := spec.Base
	if err := k.apply(&probe, false); err != nil {
		return err
	}
	spec.Base = probe
	if vary := spec.Vary; vary != nil {
		spec.Vary = func(rng *sim.RNG, cfg *scenarios.Config) {
			vary(rng, cfg)
			_ = k.apply(cfg, false) // checked per seed again by Spec.Config's Validate
		}
	}
	k.applyFaults(&spec.Faults, false)
	if spec.Faults.Mix == nemesis.MixNone {
		spec.Faults.Swarm = false
	}
	return nil
}

// describe formats the knobs the user set as flags, in a fixed order.
func (k *knobs) describe() string {
	var parts []string
	for _, n := range k.setFlags() {
		parts = append(parts, "-"+n+" "+k.fs.Lookup(n).Value.String())
	}
	if len(parts) == 0 {
		return "defaults"
	}
	return strings.Join(parts, " ")
}

// setFlags returns the names of the knobs the user set, in knobNames order.
func (k *knobs) setFlags() []string {
	var out []string
	for _, n := range knobNames {
		if k.set[n] {
			out = append(out, n)
		}
	}
	return out
}

// reproArgs formats the knobs the user set as command-line arguments that
// reproduce them (booleans as -flag=BOOL).
func (k *knobs) reproArgs() []string {
	var out []string
	for _, n := range k.setFlags() {
		v := k.fs.Lookup(n).Value.String()
		if isBoolFlag(k.fs.Lookup(n)) {
			out = append(out, "-"+n+"="+v)
			continue
		}
		out = append(out, "-"+n, shellQuote(v))
	}
	return out
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,/:=+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func parseQuorum(s string) (m kv.QuorumMode, err error) {
	return m, flagMode("quorum", m.UnmarshalText([]byte(s)))
}

func parseResolve(s string) (m kv.ResolveMode, err error) {
	return m, flagMode("resolve", m.UnmarshalText([]byte(s)))
}

func parseReadRepair(s string) (m kv.ReadRepairMode, err error) {
	return m, flagMode("read-repair", m.UnmarshalText([]byte(s)))
}

func parseMembership(s string) (m kv.MembershipMode, err error) {
	return m, flagMode("membership", m.UnmarshalText([]byte(s)))
}

// flagMode turns a mode's parse error into the flag's: "-quorum "x": want
// strict, sloppy".
func flagMode(flag string, err error) error {
	if err == nil {
		return nil
	}
	_, msg, _ := strings.Cut(err.Error(), flag+" ")
	return fmt.Errorf("-%s %s", flag, msg)
}

// parseAntiEntropy reads "off" (0) or a positive duration.
func parseAntiEntropy(s string) (time.Duration, error) {
	if s == "off" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("-anti-entropy %q: want off or a positive duration such as 100ms", s)
	}
	return d, nil
}

// parseSeeds reads -seed and -seeds: exactly one seed, a range A-B, or
// (neither set) nil.
func parseSeeds(seed, seeds string) ([]uint64, error) {
	if seed != "" && seeds != "" {
		return nil, fmt.Errorf("give -seed or -seeds, not both")
	}
	if seed != "" {
		s, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-seed %q: want a non-negative integer", seed)
		}
		return []uint64{s}, nil
	}
	if seeds == "" {
		return nil, nil
	}
	lo, hi, isRange := strings.Cut(seeds, "-")
	a, err1 := strconv.ParseUint(lo, 10, 64)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.ParseUint(hi, 10, 64)
	}
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("-seeds %q: want a range A-B of non-negative integers, e.g. 1-20", seeds)
	}
	if b < a {
		return nil, fmt.Errorf("-seeds %q: the range is empty (A must be <= B)", seeds)
	}
	if b-a >= maxSeeds {
		return nil, fmt.Errorf("-seeds %q: at most %d seeds per run", seeds, maxSeeds)
	}
	out := make([]uint64, 0, b-a+1)
	for s := a; ; s++ {
		out = append(out, s)
		if s == b {
			break
		}
	}
	return out, nil
}

// maxSeeds bounds the seeds of one run or swarm.
const maxSeeds = 1_000_000

// sortedNames returns m's keys sorted.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nemesisFamilies names every fault family, as -nemesis takes them.
func nemesisFamilies() string {
	var names []string
	for _, f := range nemesis.Families() {
		names = append(names, f.String())
	}
	return strings.Join(names, ", ")
}
