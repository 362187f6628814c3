package nemesis

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// GenOptions configure schedule generation (Generate, Swarm, Plan).
type GenOptions struct {
	// Nodes are the cluster's initial members.
	Nodes []sim.NodeID
	// Spares are nodes that are not members at the start and may join
	// (churn only).
	Spares []sim.NodeID
	// MinMembers is the fewest members churn may leave: a member leaves only
	// if at least MinMembers others remain. Required (1..len(Nodes)) when
	// Mix has churn.
	MinMembers int
	// Mix is the set of fault families to draw from.
	Mix Mix
	// Duration is the run length: every fault starts and is undone within
	// [0, Duration].
	Duration time.Duration
	// Interval is the mean time from one fault's start to the next's.
	Interval time.Duration
	// FaultDuration is the mean time a fault lasts before its undo (drawn
	// uniformly from [FaultDuration/2, 3*FaultDuration/2], cut at Duration).
	FaultDuration time.Duration
	// MaxSkew is the largest clock offset, step or drift-accumulated offset
	// a clock fault causes. Required (> 0) when Mix has skew.
	MaxSkew time.Duration
	// MaxDelay is the largest extra delay of a link fault's delay spike;
	// 0 means link faults never add delay.
	MaxDelay time.Duration
	// MaxFaults caps the number of faults (undos not counted); 0 means the
	// run length is the only limit.
	MaxFaults int
}

// Validate reports the first option that cannot work, saying what to change.
func (o GenOptions) Validate() error {
	if len(o.Nodes) == 0 {
		return errors.New("nemesis options: no nodes (give the cluster's initial members)")
	}
	all := append(append([]sim.NodeID(nil), o.Nodes...), o.Spares...)
	if err := distinct(all); err != nil {
		return fmt.Errorf("nemesis options: nodes and spares: %w", err)
	}
	if o.Mix&^mixKnown != 0 {
		return fmt.Errorf("nemesis options: mix %#x has unknown family bits", uint8(o.Mix))
	}
	if o.Duration <= 0 {
		return fmt.Errorf("nemesis options: duration %v must be > 0", o.Duration)
	}
	if o.MaxFaults < 0 {
		return fmt.Errorf("nemesis options: max faults %d must be >= 0 (0 = no cap)", o.MaxFaults)
	}
	if o.Mix == MixNone {
		return nil
	}
	if o.Interval <= 0 {
		return fmt.Errorf("nemesis options: interval (mean time between faults) %v must be > 0", o.Interval)
	}
	if o.FaultDuration <= 0 {
		return fmt.Errorf("nemesis options: fault duration %v must be > 0", o.FaultDuration)
	}
	if o.FaultDuration > time.Duration(sim.Never)/4 || o.Interval > time.Duration(sim.Never)/8 {
		return fmt.Errorf("nemesis options: interval %v or fault duration %v too large", o.Interval, o.FaultDuration)
	}
	if o.Mix.Has(FamilySkew) && o.MaxSkew <= 0 {
		return fmt.Errorf("nemesis options: the skew family needs a max skew > 0 (got %v)", o.MaxSkew)
	}
	if o.MaxDelay < 0 {
		return fmt.Errorf("nemesis options: max delay %v must be >= 0", o.MaxDelay)
	}
	if o.Mix.Has(FamilyChurn) {
		if o.MinMembers < 1 || o.MinMembers > len(o.Nodes) {
			return fmt.Errorf("nemesis options: the churn family needs 1 <= min members <= %d (the initial members; got %d)", len(o.Nodes), o.MinMembers)
		}
		if len(o.Spares) == 0 && o.MinMembers >= len(o.Nodes) {
			return fmt.Errorf("nemesis options: churn can do nothing: no spares to join and min members %d leaves no member free to leave", o.MinMembers)
		}
	}
	return nil
}

// Chooser makes the choices of schedule generation. Generate draws them
// from a sim.RNG; nemesistest draws them with rapid. Each choice's simplest
// answer is its smallest, so a shrinking chooser shrinks schedules toward
// fewer, earlier, shorter and simpler faults on the first nodes.
type Chooser interface {
	// More reports whether to draw another fault (false is simplest).
	More(label string) bool
	// Gap returns the wait from the previous fault's start to the next
	// fault's, about mean on average (0 is simplest).
	Gap(mean time.Duration, label string) time.Duration
	// Choose returns a choice in [0, n) for n >= 1 (0 is simplest).
	Choose(n int, label string) int
	// Between returns a duration in [lo, hi] (lo is simplest).
	Between(lo, hi time.Duration, label string) time.Duration
}

// Generate draws a schedule from rng: faults of opts.Mix start about every
// opts.Interval (exponential gaps), each followed by its undo after about
// opts.FaultDuration; everything is undone by opts.Duration. The same rng
// state and options give the same schedule.
func Generate(rng *sim.RNG, opts GenOptions) (Schedule, error) {
	if rng == nil {
		return nil, errors.New("nemesis: Generate needs an rng")
	}
	return Plan(rngChooser{rng}, opts)
}

// Swarm draws the mix and intensity themselves from rng, as TigerBeetle's
// VOPR swarm-tests: each family of base.Mix is kept with probability 1/2
// (at least one is kept), and Interval and FaultDuration are base's scaled
// by 1/4, 1/2, 1, 2 or 4. It returns the schedule and the options it drew.
func Swarm(rng *sim.RNG, base GenOptions) (Schedule, GenOptions, error) {
	if rng == nil {
		return nil, base, errors.New("nemesis: Swarm needs an rng")
	}
	if err := base.Validate(); err != nil {
		return nil, base, err
	}
	draw := rng.Fork("swarm/options")
	opts := base
	opts.Nodes = append([]sim.NodeID(nil), base.Nodes...)
	opts.Spares = append([]sim.NodeID(nil), base.Spares...)
	fams := base.Mix.Families()
	if len(fams) > 0 {
		var m Mix
		for _, f := range fams {
			if draw.Chance(half) {
				m |= 1 << f
			}
		}
		if m == MixNone {
			m = 1 << fams[draw.IntN(len(fams))]
		}
		opts.Mix = m
		scale := func(d time.Duration) time.Duration {
			switch draw.IntN(5) {
			case 0:
				return max(d/4, 1)
			case 1:
				return max(d/2, 1)
			case 3:
				return d * 2
			case 4:
				return d * 4
			}
			return d
		}
		opts.Interval = scale(base.Interval)
		opts.FaultDuration = scale(base.FaultDuration)
	}
	s, err := Plan(rngChooser{rng.Fork("swarm/schedule")}, opts)
	return s, opts, err
}

var half, _ = sim.Ratio(1, 2)

// rngChooser makes Plan's choices from a seeded stream.
type rngChooser struct{ r *sim.RNG }

// More always says yes: generation stops at the run length.
func (c rngChooser) More(string) bool { return true }

// Gap draws an exponential gap with the given mean.
func (c rngChooser) Gap(mean time.Duration, _ string) time.Duration {
	d, err := sim.Exponential(0, mean)
	if err != nil {
		return mean
	}
	return d.Sample(c.r)
}

// Choose draws uniformly from [0, n).
func (c rngChooser) Choose(n int, _ string) int { return c.r.IntN(n) }

// Between draws uniformly from [lo, hi].
func (c rngChooser) Between(lo, hi time.Duration, _ string) time.Duration {
	return time.Duration(c.r.Int64Range(int64(lo), int64(hi)))
}

// span is a closed interval of virtual time.
type span struct{ from, to sim.Time }

func (s span) overlaps(t, u sim.Time) bool { return s.from <= u && t <= s.to }

// planner is Plan's state: what is in effect when, per family and per node.
type planner struct {
	c      Chooser
	o      GenOptions
	nodes  []sim.NodeID // initial members, sorted
	spares []sim.NodeID // sorted
	free   [numFamilies]sim.Time
	down   map[sim.NodeID][]span // crashed or paused (looked up only)
	out    map[sim.NodeID][]span // initial member away (left)
	in     map[sim.NodeID][]span // spare joined
	faults []Fault
}

// Plan builds a schedule from the choices c makes: it repeatedly asks c
// whether to add a fault, how long after the previous fault's start, of
// which family, kind and victims, and how long it lasts; a family has at
// most one fault in effect at a time, so a fault of a busy family starts
// when the family's previous fault is undone. Victims are chosen so that the
// schedule is consistent: only up members crash or pause (for the whole
// fault), only up members leave, at least MinMembers stay. Every fault is
// followed by its undo and the schedule ends healed by opts.Duration.
func Plan(c Chooser, opts GenOptions) (Schedule, error) {
	if c == nil {
		return nil, errors.New("nemesis: Plan needs a chooser")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	fams := opts.Mix.Families()
	if len(fams) == 0 {
		return nil, nil
	}
	p := &planner{
		c: c, o: opts,
		nodes:  sortedUnion(opts.Nodes),
		spares: sortedUnion(opts.Spares),
		down:   map[sim.NodeID][]span{},
		out:    map[sim.NodeID][]span{},
		in:     map[sim.NodeID][]span{},
	}
	end := sim.Time(opts.Duration)
	minLen := max(opts.FaultDuration/2, 1)
	maxLen := opts.FaultDuration + opts.FaultDuration/2
	var t sim.Time
	count := 0
	for (opts.MaxFaults == 0 || count < opts.MaxFaults) && c.More("more faults") {
		t = t.Add(c.Gap(opts.Interval, "gap"))
		if t >= end {
			break
		}
		fam := fams[c.Choose(len(fams), "family")]
		start := max(t, p.free[fam])
		if start >= end {
			// The family is busy until the end; later draws may pick
			// another family, but time has not passed here.
			p.free[fam] = sim.Never
			if p.allBusy(fams, end) {
				break
			}
			continue
		}
		t = start
		undoAt := min(start.Add(c.Between(minLen, maxLen, "duration")), end)
		if undoAt <= start {
			undoAt = start + 1
			if undoAt > end {
				break
			}
		}
		if p.add(fam, start, undoAt) {
			count++
			p.free[fam] = undoAt
		} else {
			// No victim fits now: keep the family quiet for a while so the
			// loop makes progress.
			p.free[fam] = min(start.Add(minLen), sim.Never-1)
		}
	}
	sort.SliceStable(p.faults, func(i, j int) bool { return p.faults[i].At < p.faults[j].At })
	return Schedule(p.faults), nil
}

func (p *planner) allBusy(fams []Family, end sim.Time) bool {
	for _, f := range fams {
		if p.free[f] < end {
			return false
		}
	}
	return true
}

// members returns the members at time t, sorted.
func (p *planner) members(t sim.Time) []sim.NodeID {
	var out []sim.NodeID
	for _, n := range p.nodes {
		if !anyOverlap(p.out[n], t, t) {
			out = append(out, n)
		}
	}
	for _, n := range p.spares {
		if containedStrict(p.in[n], t, t) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// stable returns the nodes that are members and up during all of [t, u], so
// they can crash, pause or leave then.
func (p *planner) stable(t, u sim.Time) []sim.NodeID {
	var out []sim.NodeID
	for _, n := range p.nodes {
		if !anyOverlap(p.out[n], t, u) && !anyOverlap(p.down[n], t, u) {
			out = append(out, n)
		}
	}
	for _, n := range p.spares {
		if containedStrict(p.in[n], t, u) && !anyOverlap(p.down[n], t, u) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func anyOverlap(ss []span, t, u sim.Time) bool {
	for _, s := range ss {
		if s.overlaps(t, u) {
			return true
		}
	}
	return false
}

// containedStrict reports whether [t, u] lies inside a join span, strictly
// before its leave (so an undo at the leave's time cannot follow it).
func containedStrict(ss []span, t, u sim.Time) bool {
	for _, s := range ss {
		if s.from <= t && u < s.to {
			return true
		}
	}
	return false
}

// pick chooses k distinct nodes from cands (k <= len(cands)), returned in
// the order chosen.
func (p *planner) pick(cands []sim.NodeID, k int, label string) []sim.NodeID {
	rest := append([]sim.NodeID(nil), cands...)
	out := make([]sim.NodeID, 0, k)
	for i := 0; i < k && len(rest) > 0; i++ {
		j := p.c.Choose(len(rest), label)
		out = append(out, rest[j])
		rest = append(rest[:j], rest[j+1:]...)
	}
	return out
}

func sortedIDs(ns []sim.NodeID) []sim.NodeID {
	out := append([]sim.NodeID(nil), ns...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// minority is the most victims a fault takes among n members: at least 1,
// at most a minority.
func minority(n int) int { return max(1, (n-1)/2) }

func (p *planner) emit(f, undo Fault) {
	p.faults = append(p.faults, f, undo)
}

// add draws one fault of family fam lasting [start, undoAt] and its undo;
// false if no victim fits.
func (p *planner) add(fam Family, start, undoAt sim.Time) bool {
	c := p.c
	switch fam {
	case FamilyPartition:
		m := p.members(start)
		n := len(m)
		if n < 2 {
			return false
		}
		kinds := []Kind{PartitionIsolate, PartitionHalves, PartitionOneWay}
		if n >= 3 {
			kinds = append(kinds, PartitionBridge)
		}
		if n >= 4 {
			kinds = append(kinds, PartitionRing)
		}
		f := Fault{At: start, Kind: kinds[c.Choose(len(kinds), "partition kind")]}
		order := p.pick(m, n, "partition order")
		switch f.Kind {
		case PartitionIsolate:
			f.Groups = [][]sim.NodeID{{order[0]}, sortedIDs(order[1:])}
		case PartitionHalves, PartitionOneWay:
			f.Groups = [][]sim.NodeID{sortedIDs(order[:n/2]), sortedIDs(order[n/2:])}
		case PartitionBridge:
			bridge, rest := order[0], order[1:]
			h := len(rest) / 2
			f.Groups = [][]sim.NodeID{
				sortedIDs(append(append([]sim.NodeID(nil), rest[:h]...), bridge)),
				sortedIDs(append(append([]sim.NodeID(nil), rest[h:]...), bridge)),
			}
		case PartitionRing:
			f.Nodes = order
		}
		p.emit(f, Fault{At: undoAt, Kind: Heal})
		return true

	case FamilyCrash, FamilyPause:
		cands := p.stable(start, undoAt)
		if len(cands) == 0 {
			return false
		}
		k := 1 + c.Choose(min(minority(len(p.members(start))), len(cands)), "victims")
		victims := sortedIDs(p.pick(cands, k, "victim"))
		f := Fault{At: start, Kind: Crash, Nodes: victims}
		undo := Fault{At: undoAt, Kind: Restart, Nodes: victims}
		if fam == FamilyPause {
			f.Kind, undo.Kind = Pause, Resume
		} else {
			f.LoseUnsynced = c.Choose(2, "lose unsynced") == 1
		}
		for _, v := range victims {
			p.down[v] = append(p.down[v], span{start, undoAt})
		}
		p.emit(f, undo)
		return true

	case FamilySkew:
		m := p.members(start)
		if len(m) == 0 {
			return false
		}
		k := 1 + c.Choose(minority(len(m)), "victims")
		victims := sortedIDs(p.pick(m, k, "victim"))
		f := Fault{At: start, Nodes: victims}
		mag := c.Between(max(p.o.MaxSkew/10, 1), p.o.MaxSkew, "skew")
		if c.Choose(2, "skew sign") == 1 {
			mag = -mag
		}
		length := undoAt.Sub(start)
		kinds := []Kind{ClockSkew, ClockBump, ClockDrift}
		if length >= 2 {
			kinds = append(kinds, ClockStrobe)
		}
		f.Kind = kinds[c.Choose(len(kinds), "clock kind")]
		switch f.Kind {
		case ClockSkew, ClockBump:
			f.Offset = mag
		case ClockStrobe:
			cycles := 1 + c.Choose(10, "strobe cycles")
			period := length / time.Duration(2*cycles)
			if period < 1 {
				cycles, period = 1, length/2
			}
			f.Offset, f.Period, f.Cycles = mag, period, cycles
		case ClockDrift:
			// A rate that accumulates about mag over the fault.
			ppm := driftPPM(mag, length)
			if ppm == 0 {
				ppm = 1
				if mag < 0 {
					ppm = -1
				}
			}
			f.PPM = max(-MaxDriftPPM, min(MaxDriftPPM, ppm))
		}
		p.emit(f, Fault{At: undoAt, Kind: ClockReset, Nodes: victims})
		return true

	case FamilyLoss:
		m := p.members(start)
		if len(m) < 2 {
			return false
		}
		k := 1 + c.Choose(minority(len(m)), "victims")
		victims := p.pick(m, k, "victim")
		var links []Link
		for _, v := range victims {
			for _, u := range m {
				if u != v {
					links = append(links, Link{v, u}, Link{u, v})
				}
			}
		}
		sortLinks(links)
		dedup := links[:0]
		for i, l := range links {
			if i == 0 || l != links[i-1] {
				dedup = append(dedup, l)
			}
		}
		var lf LinkFaults
		lf.Loss, _ = sim.Ratio(uint64(1+c.Choose(50, "loss percent")), 100)
		if d := c.Choose(21, "dup percent"); d > 0 {
			lf.Duplicate, _ = sim.Ratio(uint64(d), 100)
		}
		if p.o.MaxDelay > 0 && c.Choose(2, "delay spike") == 1 {
			lf.Delay = c.Between(max(p.o.MaxDelay/10, 1), p.o.MaxDelay, "delay")
		}
		p.emit(Fault{At: start, Kind: LinkFault, Links: dedup, Link: lf},
			Fault{At: undoAt, Kind: LinkClear, Links: append([]Link(nil), dedup...)})
		return true

	case FamilyStall:
		// Stall the links from a few victims to everyone (one direction:
		// what they send waits, what they receive flows), as a stuck send
		// queue does.
		m := p.members(start)
		if len(m) < 2 {
			return false
		}
		victims := p.pick(m, 1+c.Choose(minority(len(m)), "victims"), "victim")
		links := victimLinks(victims, m, false)
		p.emit(Fault{At: start, Kind: LinkHold, Links: links},
			Fault{At: undoAt, Kind: LinkRelease, Links: append([]Link(nil), links...)})
		return true

	case FamilyClog:
		// Clog every link into and out of a few victims (a congested NIC):
		// their messages wait for the clog's end, then flow in order. The
		// clog ends by itself at undoAt; the unclog there closes the
		// family's window like every other undo.
		m := p.members(start)
		if len(m) < 2 {
			return false
		}
		victims := p.pick(m, 1+c.Choose(minority(len(m)), "victims"), "victim")
		links := victimLinks(victims, m, true)
		p.emit(Fault{At: start, Kind: LinkClog, Links: links, ClogFor: undoAt.Sub(start)},
			Fault{At: undoAt, Kind: LinkUnclog, Links: append([]Link(nil), links...)})
		return true

	case FamilyChurn:
		var opts []Kind
		if len(p.spares) > 0 {
			opts = append(opts, Join)
		}
		var leavers []sim.NodeID
		if len(p.nodes)-1 >= p.o.MinMembers {
			for _, n := range p.stable(start, undoAt) {
				if i := sort.Search(len(p.nodes), func(j int) bool { return p.nodes[j] >= n }); i < len(p.nodes) && p.nodes[i] == n {
					leavers = append(leavers, n)
				}
			}
			if len(leavers) > 0 {
				opts = append(opts, Leave)
			}
		}
		if len(opts) == 0 {
			return false
		}
		if opts[c.Choose(len(opts), "churn kind")] == Join {
			s := p.spares[c.Choose(len(p.spares), "spare")]
			p.in[s] = append(p.in[s], span{start, undoAt})
			p.emit(Fault{At: start, Kind: Join, Nodes: []sim.NodeID{s}}, Fault{At: undoAt, Kind: Leave, Nodes: []sim.NodeID{s}})
			return true
		}
		n := leavers[c.Choose(len(leavers), "leaver")]
		p.out[n] = append(p.out[n], span{start, undoAt})
		p.emit(Fault{At: start, Kind: Leave, Nodes: []sim.NodeID{n}}, Fault{At: undoAt, Kind: Join, Nodes: []sim.NodeID{n}})
		return true
	}
	return false
}

// driftPPM returns the rate (parts per million, truncated, saturating at
// ±MaxDriftPPM) at which a clock accumulates offset mag over length, in
// integer arithmetic.
func driftPPM(mag, length time.Duration) int64 {
	if length <= 0 {
		return 0
	}
	neg := mag < 0
	a := uint64(mag)
	if neg {
		a = uint64(-mag)
	}
	hi, lo := bits.Mul64(a, 1_000_000)
	var q uint64
	if hi >= uint64(length) {
		q = MaxDriftPPM
	} else {
		q, _ = bits.Div64(hi, lo, uint64(length))
		q = min(q, MaxDriftPPM)
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// victimLinks returns the links from each victim to every other member
// (and back, with both), sorted, each once.
func victimLinks(victims, members []sim.NodeID, both bool) []Link {
	var links []Link
	for _, v := range victims {
		for _, u := range members {
			if u != v {
				links = append(links, Link{v, u})
				if both {
					links = append(links, Link{u, v})
				}
			}
		}
	}
	sortLinks(links)
	return slices.Compact(links)
}
