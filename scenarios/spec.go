package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// ErrBadSpec is wrapped by every error about a Spec itself (its name, its
// expectations, its fault options) rather than about a run.
var ErrBadSpec = errors.New("scenarios: bad spec")

func badSpec(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadSpec}, args...)...)
}

// Expectation is the verdict a checker must give over a scenario's seeds.
type Expectation string

// The expectations. A checker a spec does not mention is not judged (Any).
const (
	// AlwaysValid: every seed must be Valid; Invalid or Unknown fails the
	// seed.
	AlwaysValid Expectation = "always-valid"
	// AlwaysInvalid: every seed must be Invalid (for violations the
	// configuration makes certain, not merely likely).
	AlwaysInvalid Expectation = "always-invalid"
	// FoundInvalid: at least one seed of a suite must be Invalid. A single
	// seed that is Valid or Unknown is fine; a suite that never finds the
	// violation fails.
	FoundInvalid Expectation = "found-invalid"
	// Any: the verdict is reported but not judged.
	Any Expectation = "any"
)

// Expectations lists every expectation, in the order above.
func Expectations() []Expectation {
	return []Expectation{AlwaysValid, AlwaysInvalid, FoundInvalid, Any}
}

// ParseExpectation reads an expectation as String writes it.
func ParseExpectation(s string) (Expectation, error) {
	for _, e := range Expectations() {
		if string(e) == s {
			return e, nil
		}
	}
	return "", fmt.Errorf("scenarios: unknown expectation %q (want always-valid, always-invalid, found-invalid or any)", s)
}

// Valid reports whether e is one of the four expectations.
func (e Expectation) Valid() bool {
	_, err := ParseExpectation(string(e))
	return err == nil
}

// String returns the expectation's name.
func (e Expectation) String() string { return string(e) }

// Short returns a compact form for tables: valid, invalid, found-invalid,
// any.
func (e Expectation) Short() string {
	switch e {
	case AlwaysValid:
		return "valid"
	case AlwaysInvalid:
		return "invalid"
	}
	return string(e)
}

// SeedOK reports whether verdict v, given by one seed, is compatible with
// e. FoundInvalid and Any accept every verdict for a single seed (the
// suite rule decides FoundInvalid). An Unknown is never compatible; see
// ResultOK for a check that had nothing to judge.
func (e Expectation) SeedOK(v checker.Verdict) bool {
	switch e {
	case AlwaysValid:
		return v == checker.Valid
	case AlwaysInvalid:
		return v == checker.Invalid
	}
	return true
}

// ResultOK is SeedOK for a whole result: under AlwaysValid a check that had
// nothing to judge (Unknown and Idle: e.g. no write was acknowledged
// because W nodes were never reachable) is "not exercised", neither a pass
// nor a correctness failure; the suite fails if it is never exercised.
func (e Expectation) ResultOK(r checker.Result) bool {
	if e == AlwaysValid && r.Verdict == checker.Unknown && r.Idle {
		return true
	}
	return e.SeedOK(r.Verdict)
}

// Mark is a mechanism a scenario exists to exercise, proven from a run's
// counters (Antithesis's "sometimes" assertions, TigerBeetle's marks): a
// seed in which it did not run is reported as not exercising it, and a
// suite in which it never ran fails.
type Mark struct {
	// Name names the mechanism, e.g. "hints-replayed".
	Name string
	// Count returns how often the run exercised it.
	Count func(r *cluster.Result) uint64
}

// CounterMark is a mark counted by a node counter, e.g.
// CounterMark("hints-replayed", kv.CounterHintsDelivered).
func CounterMark(name, counter string) Mark {
	return Mark{Name: name, Count: func(r *cluster.Result) uint64 { return r.Stats.Counter(counter) }}
}

// Check is a scenario-specific judge that runs after the standard checkers,
// for truths the standard checkers do not cover (availability, zombies,
// repair traffic). Its Result's Checker must be Name.
type Check struct {
	// Name identifies the check in verdict lists and in Spec.Expect.
	Name string
	// Description says in one line what the check verifies.
	Description string
	// Judge decides the verdict from the configuration that ran and its
	// result. An error means the result cannot be judged at all (a bug).
	Judge func(cfg Config, r *cluster.Result) (checker.Result, error)
}

// Faults says how a run's nemesis schedule is made from its seed: drawn
// from the seed's "nemesis" stream with Mix and the intensity options
// (nemesis.Generate, or nemesis.Swarm when Swarm is set), merged with the
// fixed Schedule. The zero Faults injects nothing.
type Faults struct {
	// Mix is the families to draw faults from (nemesis.MixNone: none).
	Mix nemesis.Mix
	// Swarm draws the mix (a random subset of Mix) and the intensity from
	// the seed too, as nemesis.Swarm does.
	Swarm bool
	// Duration is how long faults are drawn for: every drawn fault starts
	// and is undone within [0, Duration]. 0 means the workload's time limit
	// (Config.TimeLimit), so faults meet clients that are running.
	Duration time.Duration
	// Interval is the mean time from one drawn fault's start to the next.
	Interval time.Duration
	// FaultDuration is the mean time a drawn fault lasts.
	FaultDuration time.Duration
	// MaxSkew bounds clock faults (required with the skew family).
	MaxSkew time.Duration
	// MaxDelay bounds the delay spikes of link faults (0: none).
	MaxDelay time.Duration
	// MaxFaults caps the number of drawn faults (0: no cap).
	MaxFaults int
	// Schedule is applied in every seed, merged with the drawn faults (at
	// equal times the fixed faults apply first). It may be used alone.
	Schedule nemesis.Schedule
}

// Options returns the generation options for a cluster configured as cfg:
// its members and spares as nodes, and churn keeping at least N members.
func (f Faults) Options(cfg Config) nemesis.GenOptions {
	nodes := make([]sim.NodeID, cfg.Nodes)
	for i := range nodes {
		nodes[i] = sim.NodeID(i)
	}
	var spares []sim.NodeID
	for i := 0; i < cfg.Spares; i++ {
		spares = append(spares, sim.NodeID(cfg.Nodes+i))
	}
	return nemesis.GenOptions{
		Nodes: nodes, Spares: spares, MinMembers: cfg.minMembers(),
		Mix: f.Mix, Duration: f.span(cfg), Interval: f.Interval, FaultDuration: f.FaultDuration,
		MaxSkew: f.MaxSkew, MaxDelay: f.MaxDelay, MaxFaults: f.MaxFaults,
	}
}

// span is how long faults are drawn for in cfg.
func (f Faults) span(cfg Config) time.Duration {
	if f.Duration == 0 {
		return cfg.TimeLimit
	}
	return f.Duration
}

// Draw returns the schedule for cfg and seed: the drawn faults (from
// sim.NewRNG(seed).Fork("nemesis"), as cluster's own tests draw them)
// merged with the fixed Schedule.
func (f Faults) Draw(cfg Config, seed uint64) (nemesis.Schedule, error) {
	var drawn nemesis.Schedule
	if f.Mix != nemesis.MixNone {
		rng := sim.NewRNG(seed).Fork("nemesis")
		var err error
		if f.Swarm {
			drawn, _, err = nemesis.Swarm(rng, f.Options(cfg))
		} else {
			drawn, err = nemesis.Generate(rng, f.Options(cfg))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: faults: %w", ErrBadSpec, err)
		}
	} else if f.Swarm {
		return nil, badSpec("faults: Swarm needs a Mix to draw from")
	}
	if err := f.Schedule.Check(); err != nil {
		return nil, fmt.Errorf("%w: fixed schedule: %w", ErrBadSpec, err)
	}
	out := make(nemesis.Schedule, 0, len(f.Schedule)+len(drawn))
	out = append(out, f.Schedule...)
	out = append(out, drawn...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, nil
}

// Spec is one named scenario: a cluster without faults, how faults are made
// from the seed, the checkers and the verdict each must give. A Spec is a
// value: copy it and change Base, Faults or Expect to make a variant.
type Spec struct {
	// Name is a short lowercase identifier (letters, digits, '-', '/').
	Name string
	// Description says in one line what the scenario shows.
	Description string
	// Truth is the claim the scenario demonstrates, e.g. a docs/design.md §6 row.
	Truth string
	// Base is the cluster configuration without a nemesis schedule.
	Base Config
	// Vary, if set, changes Base per seed (from the seed's "scenario/vary"
	// stream) before the faults are drawn, e.g. to draw cluster sizes in a
	// swarm. It must keep the expectations true.
	Vary func(rng *sim.RNG, cfg *Config)
	// Faults says how the nemesis schedule is made from the seed.
	Faults Faults
	// Judge chooses the standard checkers for a configuration; nil means
	// cluster.JudgeOptionsFor.
	Judge func(cfg Config) cluster.JudgeOptions
	// Checks are extra scenario-specific judges, run after the standard
	// checkers in this order.
	Checks []Check
	// Marks are the mechanisms the scenario exists to exercise: each must
	// run in at least one seed of a suite.
	Marks []Mark
	// Expect maps checker names (checker.Name* or a Check's Name) to the
	// verdict they must give. Unmentioned checkers are reported, not judged.
	Expect map[string]Expectation
	// Seeds is how many seeds a default suite run uses (enough for every
	// FoundInvalid expectation to be met reliably).
	Seeds int
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+([-/][a-z0-9]+)*$`)

// Validate reports the first problem with the spec that does not depend
// on the seed, saying what to change.
func (s Spec) Validate() error {
	if !nameRE.MatchString(s.Name) {
		return badSpec("name %q: use lowercase letters and digits separated by '-' or '/'", s.Name)
	}
	if s.Description == "" {
		return badSpec("%s: no description", s.Name)
	}
	if s.Seeds < 1 {
		return badSpec("%s: Seeds is %d: a suite needs at least 1 seed", s.Name, s.Seeds)
	}
	names := map[string]bool{}
	for _, c := range s.Checks {
		if c.Name == "" || c.Judge == nil {
			return badSpec("%s: a check needs a name and a Judge function", s.Name)
		}
		if names[c.Name] || isStandard(c.Name) {
			return badSpec("%s: check name %q is used twice", s.Name, c.Name)
		}
		names[c.Name] = true
	}
	for _, name := range sortedKeys(s.Expect) {
		e := s.Expect[name]
		if !e.Valid() {
			return badSpec("%s: %s: unknown expectation %q (want always-valid, always-invalid, found-invalid or any)", s.Name, name, e)
		}
		if !names[name] && !isStandard(name) {
			return badSpec("%s: expects a verdict from %q, which is neither a standard checker (%s) nor one of the spec's checks", s.Name, name, standardList())
		}
	}
	marks := map[string]bool{}
	for _, m := range s.Marks {
		if m.Name == "" || m.Count == nil || marks[m.Name] {
			return badSpec("%s: a mark needs a unique name and a Count function", s.Name)
		}
		marks[m.Name] = true
	}
	if s.Faults.Swarm && s.Faults.Mix == nemesis.MixNone {
		return badSpec("%s: faults: Swarm needs a Mix to draw from", s.Name)
	}
	return nil
}

func standardNames() []string {
	return []string{checker.NameLinearizable, checker.NameLostWrites, checker.NameDurability,
		checker.NameSiblings, checker.NameConvergence}
}

func standardList() string {
	out := ""
	for i, n := range standardNames() {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func isStandard(name string) bool {
	for _, n := range standardNames() {
		if n == name {
			return true
		}
	}
	return false
}

// Config returns the configuration seed runs: Base, varied by Vary, with
// the schedule Faults makes for the seed. The error says what to change
// (it wraps ErrBadSpec or cluster.ErrBadConfig).
func (s Spec) Config(seed uint64) (Config, error) {
	if err := s.Validate(); err != nil {
		return Config{}, err
	}
	cfg := s.Base
	if s.Vary != nil {
		s.Vary(sim.NewRNG(seed).Fork("scenario/vary"), &cfg)
	}
	if len(cfg.Nemesis) > 0 {
		return Config{}, badSpec("%s: Base has a nemesis schedule; put fixed faults in Faults.Schedule", s.Name)
	}
	sched, err := s.Faults.Draw(cfg, seed)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	cfg.Nemesis = sched
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	return cfg, nil
}

// JudgeOptions returns the standard checkers to run for cfg.
func (s Spec) JudgeOptions(cfg Config) cluster.JudgeOptions {
	if s.Judge != nil {
		return s.Judge(cfg)
	}
	return JudgeOptionsFor(cfg)
}

// Expected returns the expectation for a checker (Any if unmentioned).
func (s Spec) Expected(name string) Expectation {
	if e, ok := s.Expect[name]; ok {
		return e
	}
	return Any
}

// ExpectSummary formats the judged expectations on one line in checker
// order, e.g. "linearizable=valid lost-writes=found-invalid".
func (s Spec) ExpectSummary() string {
	out := ""
	for _, name := range s.checkOrder() {
		e, ok := s.Expect[name]
		if !ok || e == Any {
			continue
		}
		if out != "" {
			out += " "
		}
		out += name + "=" + e.Short()
	}
	if out == "" {
		return "nothing judged"
	}
	return out
}

// checkOrder lists the standard checker names then the spec's checks.
func (s Spec) checkOrder() []string {
	out := standardNames()
	for _, c := range s.Checks {
		out = append(out, c.Name)
	}
	return out
}

// clone returns a deep enough copy that changing the copy's Expect,
// Checks or fixed schedule leaves s alone.
func (s Spec) clone() Spec {
	out := s
	if s.Expect != nil {
		out.Expect = make(map[string]Expectation, len(s.Expect))
		for k, v := range s.Expect {
			out.Expect[k] = v
		}
	}
	out.Checks = append([]Check(nil), s.Checks...)
	out.Marks = append([]Mark(nil), s.Marks...)
	out.Faults.Schedule = append(nemesis.Schedule(nil), s.Faults.Schedule...)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
