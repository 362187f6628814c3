package nemesis

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faultline-sim/faultline/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ids(xs ...uint32) []sim.NodeID {
	out := make([]sim.NodeID, len(xs))
	for i, x := range xs {
		out[i] = sim.NodeID(x)
	}
	return out
}

func baseOpts() GenOptions {
	return GenOptions{
		Nodes:         ids(1, 2, 3, 4, 5),
		Spares:        ids(6, 7),
		MinMembers:    3,
		Mix:           MixAll,
		Duration:      10 * time.Second,
		Interval:      500 * time.Millisecond,
		FaultDuration: time.Second,
		MaxSkew:       2 * time.Second,
		MaxDelay:      100 * time.Millisecond,
	}
}

func newTestLoop(t require.TestingT) *sim.Loop {
	l, err := sim.NewLoop(sim.Limits{MaxEvents: 1 << 30, Horizon: sim.Time(time.Hour)})
	require.NoError(t, err)
	return l
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mix
	}{
		{"none", MixNone},
		{"all", MixAll},
		{"partition", MixOf(FamilyPartition)},
		{" crash , partition,crash", MixOf(FamilyPartition, FamilyCrash)},
		{"partition,crash,pause,skew,loss,churn,stall", MixAll},
		{"skew,loss", MixOf(FamilySkew, FamilyLoss)},
	} {
		got, err := ParseMix(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for i := 0; i <= int(mixKnown); i++ {
		m := Mix(i)
		back, err := ParseMix(m.String())
		require.NoError(t, err, m.String())
		require.Equal(t, m, back, m.String())
	}
	// "all" is every family but clog, so that schedules drawn with it stay
	// as they were; clog is named.
	assert.False(t, MixAll.Has(FamilyClog))
	for _, f := range Families()[:FamilyClog] {
		assert.True(t, MixAll.Has(f), f.String())
	}
	m, err := ParseMix("all")
	require.NoError(t, err)
	assert.False(t, m.Has(FamilyClog))
	m, err = ParseMix("clog")
	require.NoError(t, err)
	assert.Equal(t, MixOf(FamilyClog), m)
	assert.Equal(t, "partition,crash,pause,skew,loss,churn,stall,clog", (MixAll | MixOf(FamilyClog)).String())
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"  ", "empty"},
		{"crsh", `unknown fault family "crsh"`},
		{"partition,,crash", "empty name"},
		{"all,crash", "must stand alone"},
		{"none,crash", "must stand alone"},
		{"Partition", "unknown fault family"},
	} {
		_, err := ParseMix(tc.in)
		require.ErrorContains(t, err, tc.want, "input %q", tc.in)
	}
	assert.Equal(t, "partition,skew", MixOf(FamilyPartition, FamilySkew).String())
	assert.Equal(t, []Family{FamilyCrash, FamilyChurn}, MixOf(FamilyChurn, FamilyCrash).Families())
}

func TestGenerateDeterministicPerSeed(t *testing.T) {
	opts := baseOpts()
	seen := map[string]uint64{}
	for seed := uint64(0); seed < 30; seed++ {
		a, err := Generate(sim.NewRNG(seed).Fork("nemesis"), opts)
		require.NoError(t, err)
		b, err := Generate(sim.NewRNG(seed).Fork("nemesis"), opts)
		require.NoError(t, err)
		require.Equal(t, a, b, "seed %d: same seed, different schedule", seed)
		require.NotEmpty(t, a, "seed %d: an all-families 10s run with 500ms interval drew no fault", seed)
		if prev, dup := seen[a.String()]; dup {
			t.Fatalf("seeds %d and %d drew the same schedule:\n%s", prev, seed, a)
		}
		seen[a.String()] = seed
	}
}

func TestGeneratedSchedulesValidateAndEndHealed(t *testing.T) {
	mixes := []Mix{MixAll, MixOf(FamilyPartition), MixOf(FamilyCrash, FamilyPause), MixOf(FamilySkew),
		MixOf(FamilyLoss), MixOf(FamilyChurn), MixOf(FamilyCrash, FamilyChurn),
		MixOf(FamilyClog), MixOf(FamilyClog, FamilyStall, FamilyCrash)}
	universe := ids(1, 2, 3, 4, 5, 6, 7)
	for _, mix := range mixes {
		for seed := uint64(0); seed < 40; seed++ {
			opts := baseOpts()
			opts.Mix = mix
			if seed%3 == 0 {
				opts.Interval = 50 * time.Millisecond // saturate: families always busy
			}
			s, err := Generate(sim.NewRNG(seed), opts)
			require.NoError(t, err)
			require.NoError(t, s.Validate(universe), "mix %v seed %d:\n%s", mix, seed, s)
			require.NoError(t, s.Healed(), "mix %v seed %d:\n%s", mix, seed, s)
			require.LessOrEqual(t, s.End(), sim.Time(opts.Duration), "mix %v seed %d", mix, seed)
			for _, f := range s {
				fam, ok := f.Kind.Family()
				require.True(t, ok)
				require.True(t, mix.Has(fam), "mix %v seed %d drew %s", mix, seed, f)
			}
			require.NoError(t, s.ValidateFor(opts.Nodes, opts.Spares), "mix %v seed %d:\n%s", mix, seed, s)
			residue := applyStrict(t, s, opts)
			require.Empty(t, residue, "mix %v seed %d:\n%s", mix, seed, s)
		}
	}
}

// applyStrict installs s against a target that enforces the Target
// contract (only up members crash, pause or leave; restarts only crashed
// nodes; ...) and returns what is left in effect at the end. Any target
// error fails the test.
func applyStrict(t require.TestingT, s Schedule, opts GenOptions) []string {
	loop := newTestLoop(t)
	ft := newFake(loop, opts.Nodes, opts.Spares)
	ft.minMem = opts.MinMembers
	var errs []string
	require.NoError(t, s.Install(loop, ft, func(f Fault, err error) { errs = append(errs, f.String()+": "+err.Error()) }))
	require.NoError(t, loop.Run())
	require.Empty(t, errs, "schedule:\n%s", s)
	return ft.residue(opts.Nodes)
}

func TestGenerateRespectsLimits(t *testing.T) {
	opts := baseOpts()
	opts.MaxFaults = 3
	for seed := uint64(0); seed < 20; seed++ {
		s, err := Generate(sim.NewRNG(seed), opts)
		require.NoError(t, err)
		require.LessOrEqual(t, s.Faults(), 3)
		require.Equal(t, s.Faults()*2, len(s), "every fault has exactly one undo:\n%s", s)
	}
	opts = baseOpts()
	opts.Mix = MixNone
	s, err := Generate(sim.NewRNG(1), opts)
	require.NoError(t, err)
	require.Empty(t, s)
}

func TestSwarm(t *testing.T) {
	base := baseOpts()
	mixes := map[Mix]bool{}
	for seed := uint64(0); seed < 40; seed++ {
		s, drawn, err := Swarm(sim.NewRNG(seed), base)
		require.NoError(t, err)
		s2, drawn2, err := Swarm(sim.NewRNG(seed), base)
		require.NoError(t, err)
		require.Equal(t, s, s2)
		require.Equal(t, drawn, drawn2)
		require.NotEqual(t, MixNone, drawn.Mix)
		require.Zero(t, drawn.Mix&^base.Mix, "swarm drew a family outside the base mix")
		require.NoError(t, s.Validate(ids(1, 2, 3, 4, 5, 6, 7)))
		require.NoError(t, s.Healed())
		mixes[drawn.Mix] = true
		for _, f := range s {
			fam, _ := f.Kind.Family()
			require.True(t, drawn.Mix.Has(fam))
		}
	}
	require.Greater(t, len(mixes), 10, "swarm should draw varied mixes")

	base.Mix = MixOf(FamilyCrash)
	_, drawn, err := Swarm(sim.NewRNG(3), base)
	require.NoError(t, err)
	require.Equal(t, MixOf(FamilyCrash), drawn.Mix)

	bad := baseOpts()
	bad.Duration = 0
	_, _, err = Swarm(sim.NewRNG(1), bad)
	require.ErrorContains(t, err, "duration")
}

func TestGenOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*GenOptions)
		want string
	}{
		{func(o *GenOptions) { o.Nodes = nil }, "no nodes"},
		{func(o *GenOptions) { o.Spares = ids(5) }, "n5 listed twice"},
		{func(o *GenOptions) { o.Duration = -1 }, "duration"},
		{func(o *GenOptions) { o.Interval = 0 }, "interval"},
		{func(o *GenOptions) { o.FaultDuration = 0 }, "fault duration"},
		{func(o *GenOptions) { o.MaxSkew = 0 }, "max skew"},
		{func(o *GenOptions) { o.MaxDelay = -time.Second }, "max delay"},
		{func(o *GenOptions) { o.MaxFaults = -1 }, "max faults"},
		{func(o *GenOptions) { o.MinMembers = 0 }, "min members"},
		{func(o *GenOptions) { o.MinMembers = 6 }, "min members"},
		{func(o *GenOptions) { o.Spares = nil; o.MinMembers = 5 }, "churn can do nothing"},
	} {
		o := baseOpts()
		tc.mod(&o)
		_, err := Generate(sim.NewRNG(1), o)
		require.ErrorContains(t, err, tc.want)
	}
	_, err := Generate(nil, baseOpts())
	require.Error(t, err)
	_, err = Plan(nil, baseOpts())
	require.Error(t, err)
	// The eight families fill Mix's eight bits: 0xff is every family.
	o := baseOpts()
	o.Mix = 0xff
	_, err = Generate(sim.NewRNG(1), o)
	require.NoError(t, err)
	require.Equal(t, MixAll|MixOf(FamilyClog), Mix(0xff))
	// Options a family does not use are not required.
	o = baseOpts()
	o.Mix = MixOf(FamilyCrash)
	o.MaxSkew, o.MinMembers = 0, 0
	_, err = Generate(sim.NewRNG(1), o)
	require.NoError(t, err)
}

// firstChooser always makes the simplest choice, and adds exactly one
// fault: what a fully shrunk rapid draw looks like.
type firstChooser struct{ asked int }

func (c *firstChooser) More(string) bool                                    { c.asked++; return c.asked == 1 }
func (c *firstChooser) Gap(time.Duration, string) time.Duration             { return 0 }
func (c *firstChooser) Choose(int, string) int                              { return 0 }
func (c *firstChooser) Between(lo, _ time.Duration, _ string) time.Duration { return lo }

func TestPlanSimplestChoices(t *testing.T) {
	s, err := Plan(&firstChooser{}, baseOpts())
	require.NoError(t, err)
	assert.Equal(t, "0s partition-isolate n1|n2,n3,n4,n5\n500ms heal\n", s.String())
	o := baseOpts()
	o.Mix = MixOf(FamilyCrash)
	s, err = Plan(&firstChooser{}, o)
	require.NoError(t, err)
	assert.Equal(t, "0s crash n1 lose-unsynced=false\n500ms restart n1\n", s.String())
}

func TestCuts(t *testing.T) {
	halves := Fault{Kind: PartitionHalves, Groups: [][]sim.NodeID{ids(1, 2), ids(3)}}
	assert.Equal(t, []Link{{1, 3}, {2, 3}, {3, 1}, {3, 2}}, halves.Cuts())

	iso := Fault{Kind: PartitionIsolate, Groups: [][]sim.NodeID{ids(2), ids(1, 3)}}
	assert.Equal(t, []Link{{1, 2}, {2, 1}, {2, 3}, {3, 2}}, iso.Cuts())

	oneway := Fault{Kind: PartitionOneWay, Groups: [][]sim.NodeID{ids(1), ids(2, 3)}}
	assert.Equal(t, []Link{{1, 2}, {1, 3}}, oneway.Cuts())

	bridge := Fault{Kind: PartitionBridge, Groups: [][]sim.NodeID{ids(1, 2, 3), ids(3, 4, 5)}}
	cuts := bridge.Cuts()
	assert.Len(t, cuts, 8) // {1,2} x {4,5} both ways
	for _, l := range cuts {
		assert.NotEqual(t, sim.NodeID(3), l.From, "bridge node must keep its links")
		assert.NotEqual(t, sim.NodeID(3), l.To, "bridge node must keep its links")
	}

	for n := 4; n <= 9; n++ {
		order := make([]sim.NodeID, n)
		for i := range order {
			order[i] = sim.NodeID(i + 1)
		}
		rng := sim.NewRNG(uint64(n))
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		ring := Fault{Kind: PartitionRing, Nodes: order}
		cut := map[Link]bool{}
		for _, l := range ring.Cuts() {
			cut[l] = true
		}
		views := map[string]bool{}
		for _, u := range order {
			var sees []string
			for _, v := range order {
				if !cut[Link{u, v}] {
					sees = append(sees, v.String())
					require.False(t, cut[Link{v, u}], "ring cuts must be symmetric")
				}
			}
			require.GreaterOrEqual(t, len(sees), n/2+1, "n=%d: %s sees %v, not a majority", n, u, sees)
			require.Less(t, len(sees), n, "n=%d: %s sees everyone: no partition", n, u)
			views[strings.Join(sees, ",")] = true
		}
		require.Len(t, views, n, "n=%d: no two nodes may see the same majority", n)
	}
	assert.Nil(t, Fault{Kind: Crash, Nodes: ids(1)}.Cuts())
}

const sample = `# a hand-written schedule
0s partition-halves n1,n2|n3,n4,n5
1s heal

1.5s crash n3 lose-unsynced=true
2s clock-strobe n1,n4 delta=-200ms period=10ms cycles=3
2.5s link-faults n2>n5,n5>n2 loss=1/20 dup=0 delay=50ms
3s restart n3
3s clock-reset n1,n4
3.25s link-clear n2>n5,n5>n2
4s partition-ring n1,n3,n5,n2,n4
4s clock-drift n2 ppm=-500
4.5s heal
5s clock-reset n2
6s join n6
6s pause n1
6s clock-skew n5 offset=1.5s
6s clock-bump n4 delta=-1s
7s leave n6
7s resume n1
7s clock-reset n4,n5
8s partition-bridge n1,n2,n3|n3,n4,n5
8s partition-oneway n1|n2,n3
8s partition-isolate n4|n1,n2,n3,n5
9s heal
`

func TestParseRoundTrip(t *testing.T) {
	s, err := Parse(sample)
	require.NoError(t, err)
	require.Len(t, s, 23)
	require.NoError(t, s.Validate(ids(1, 2, 3, 4, 5, 6)))
	require.NoError(t, s.Healed())
	back, err := Parse(s.String())
	require.NoError(t, err)
	require.Equal(t, s, back)
	assert.Equal(t, Fault{At: sim.Time(1500 * time.Millisecond), Kind: Crash, Nodes: ids(3), LoseUnsynced: true}, s[2])
	loss, _ := sim.Ratio(1, 20)
	assert.Equal(t, LinkFaults{Loss: loss, Delay: 50 * time.Millisecond}, s[4].Link)

	empty, err := Parse("\n# nothing\n")
	require.NoError(t, err)
	require.Empty(t, empty)
	assert.Equal(t, "", Schedule(nil).String())

	// Decimal probabilities survive the round trip too.
	p, err := sim.P(0.05)
	require.NoError(t, err)
	f := Fault{At: 7, Kind: LinkFault, Links: []Link{{1, 2}}, Link: LinkFaults{Loss: p, Duplicate: sim.Always1}}
	g, err := ParseFault(f.String())
	require.NoError(t, err)
	require.Equal(t, f, g)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"1s", "line 1"},
		{"0s heal\nbogus heal", `line 2: time "bogus"`},
		{"-1s heal", "negative"},
		{"1s crsh n1", `unknown fault kind "crsh"`},
		{"1s crash", "needs a target"},
		{"1s crash lose-unsynced=true", "needs a target"},
		{"1s crash n1", "missing parameter lose-unsynced="},
		{"1s crash x1 lose-unsynced=true", `node "x1"`},
		{"1s crash n1,n1 lose-unsynced=true", "listed twice"},
		{"1s crash n1 lose-unsynced=maybe", "lose-unsynced"},
		{"1s crash n1 lose-unsynced=true lose-unsynced=false", "given twice"},
		{"1s crash n1 lose-unsynced=true color=red", `unknown parameter "color"`},
		{"1s heal now", "not a key=value"},
		{"1s heal x=1", "takes no parameters"},
		{"1s restart n1 extra", "not a key=value"},
		{"2s heal\n1s heal", "line 2: time 1s is before"},
		{"1s partition-halves n1,n2", "two node lists"},
		{"1s partition-halves n1,n2|n2,n3", "overlap in n2"},
		{"1s partition-halves n1|", "empty node list"},
		{"1s partition-isolate n1,n2|n3", "one isolated node"},
		{"1s partition-bridge n1,n2|n3,n4", "exactly one bridge"},
		{"1s partition-bridge n1|n1,n2", "besides the bridge"},
		{"1s partition-ring n1,n2", "at least 3"},
		{"1s clock-bump n1 delta=0s", "non-zero delta"},
		{"1s clock-strobe n1 delta=1s period=0s cycles=2", "period > 0"},
		{"1s clock-strobe n1 delta=1s period=1ms cycles=0", "cycles"},
		{"1s clock-drift n1 ppm=0", "ppm"},
		{"1s clock-drift n1 ppm=2000000", "ppm"},
		{"1s clock-skew n1 offset=soon", "offset"},
		{"1s link-faults n1>n1 loss=0 dup=0 delay=1ms", "to itself"},
		{"1s link-faults n1-n2 loss=0 dup=0 delay=1ms", "from>to"},
		{"1s link-faults n1>n2 loss=0 dup=0 delay=0s", "does nothing"},
		{"1s link-faults n1>n2 loss=3/2 dup=0 delay=0s", "[0,1]"},
		{"1s link-faults n1>n2 loss=1.5 dup=0 delay=0s", "[0,1]"},
		{"1s link-faults n1>n2 loss=x dup=0 delay=0s", "probability"},
		{"1s link-faults n1>n2,n1>n2 loss=1/2 dup=0 delay=0s", "listed twice"},
		{"1s link-faults n1>n2 loss=1/2 dup=0 delay=-1s", "delay >= 0"},
	} {
		_, err := Parse(tc.text)
		require.Error(t, err, "input %q", tc.text)
		require.Contains(t, err.Error(), tc.want, "input %q", tc.text)
		require.Contains(t, err.Error(), "line ", "input %q", tc.text)
	}
}

func TestValidateAndCheckErrors(t *testing.T) {
	s, err := Parse(sample)
	require.NoError(t, err)
	err = s.Validate(ids(1, 2, 3, 4, 5))
	require.ErrorContains(t, err, "names node n6, which is not a node of this cluster (nodes: n1,n2,n3,n4,n5)")

	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{{At: 2, Kind: Heal}, {At: 1, Kind: Heal}}, "sorted by time"},
		{Schedule{{At: -1, Kind: Heal}}, "not a valid virtual time"},
		{Schedule{{Kind: "explode"}}, "unknown fault kind"},
		{Schedule{{Kind: Heal, Nodes: ids(1)}}, "takes no node list"},
		{Schedule{{Kind: Crash, Nodes: ids(1), Offset: time.Second}}, "takes no offset"},
		{Schedule{{Kind: Restart, Nodes: ids(1), LoseUnsynced: true}}, "takes no lose-unsynced"},
		{Schedule{{Kind: Pause}}, "at least one node"},
		{Schedule{{Kind: Join, Nodes: ids(1), Groups: [][]sim.NodeID{ids(1), ids(2)}}}, "takes no groups"},
		{Schedule{{Kind: LinkClear, Links: []Link{{1, 2}}, Link: LinkFaults{Delay: 1}}}, "takes no link faults"},
		{Schedule{{Kind: LinkClear}}, "at least one link"},
		{Schedule{{Kind: ClockSkew, Nodes: ids(1), PPM: 3}}, "takes no ppm"},
		{Schedule{{Kind: ClockSkew, Nodes: ids(1), Cycles: 3}}, "no period or cycles"},
		{Schedule{{Kind: Heal, Links: []Link{{1, 2}}}}, "takes no links"},
		{Schedule{{Kind: Heal, At: sim.Never}}, "not a valid virtual time"},
		{Schedule{{Kind: ClockStrobe, Nodes: ids(1), Offset: 1, Period: time.Hour, Cycles: MaxStrobeCycles, At: sim.Never - 5}}, "overflow"},
		{Schedule{{Kind: ClockStrobe, Nodes: ids(1), Offset: 1, Period: 1 << 61, Cycles: 4, At: 1}}, "overflow"},
	} {
		err := tc.s.Check()
		require.ErrorContains(t, err, tc.want)
		require.ErrorContains(t, tc.s.Validate(ids(1, 2)), tc.want)
	}
}

func TestWindowsAndHealed(t *testing.T) {
	s, err := Parse(sample)
	require.NoError(t, err)
	wins := s.Windows()
	ms := func(x float64) sim.Time { return sim.Time(x * float64(time.Second)) }
	want := []Window{
		{ms(0), ms(1), FamilyPartition, PartitionHalves, "partition-halves n1,n2|n3,n4,n5"},
		{ms(1.5), ms(3), FamilyCrash, Crash, "crash n3 lose-unsynced=true"},
		{ms(2), ms(3), FamilySkew, ClockStrobe, "clock-strobe n1,n4 delta=-200ms period=10ms cycles=3"},
		{ms(2.5), ms(3.25), FamilyLoss, LinkFault, "link-faults n2>n5,n5>n2 loss=1/20 dup=0 delay=50ms"},
		{ms(4), ms(4.5), FamilyPartition, PartitionRing, "partition-ring n1,n3,n5,n2,n4"},
		{ms(4), ms(5), FamilySkew, ClockDrift, "clock-drift n2 ppm=-500"},
		{ms(6), ms(7), FamilyChurn, Join, "join n6"},
		{ms(6), ms(7), FamilyPause, Pause, "pause n1"},
		{ms(6), ms(7), FamilySkew, ClockSkew, "clock-skew n5 offset=1.5s"},
		{ms(6), ms(7), FamilySkew, ClockBump, "clock-bump n4 delta=-1s"},
		{ms(8), ms(9), FamilyPartition, PartitionBridge, "partition-bridge n1,n2,n3|n3,n4,n5"},
		{ms(8), ms(9), FamilyPartition, PartitionOneWay, "partition-oneway n1|n2,n3"},
		{ms(8), ms(9), FamilyPartition, PartitionIsolate, "partition-isolate n4|n1,n2,n3,n5"},
	}
	assert.Equal(t, want, wins)

	// A crash of two nodes lasts until both restarted; a leave then join.
	s2, err := Parse("1s crash n1,n2 lose-unsynced=false\n2s restart n1\n3s leave n3\n4s restart n2\n5s join n3\n")
	require.NoError(t, err)
	w2 := s2.Windows()
	require.Len(t, w2, 2)
	assert.Equal(t, sim.Time(4*time.Second), w2[0].End)
	assert.Equal(t, Leave, w2[1].Kind)
	assert.Equal(t, sim.Time(5*time.Second), w2[1].End)
	require.NoError(t, s2.Healed())

	unhealed, err := Parse("1s crash n1 lose-unsynced=false\n2s pause n2\n3s resume n2\n4s partition-halves n1|n2\n")
	require.NoError(t, err)
	err = unhealed.Healed()
	require.ErrorContains(t, err, "crash n1 lose-unsynced=false at 1s")
	require.ErrorContains(t, err, "partition-halves n1|n2 at 4s")
	require.NotContains(t, err.Error(), "pause")
	ws := unhealed.Windows()
	assert.Equal(t, sim.Never, ws[0].End)
}

func TestInstallAppliesInOrderAtTimes(t *testing.T) {
	s, err := Parse(`0s partition-halves n1|n2
100ms crash n2 lose-unsynced=true
100ms clock-strobe n1 delta=5ms period=10ms cycles=2
200ms link-faults n1>n2 loss=1/2 dup=1/10 delay=3ms
250ms heal
300ms restart n2
300ms clock-reset n1
300ms link-clear n1>n2
400ms join n3
400ms pause n1
500ms resume n1
500ms leave n3
`)
	require.NoError(t, err)
	loop := newTestLoop(t)
	ft := newFake(loop, ids(1, 2), ids(3))
	var errs []error
	require.NoError(t, s.Install(loop, ft, func(_ Fault, err error) { errs = append(errs, err) }))
	require.NoError(t, loop.Run())
	require.Empty(t, errs)
	assert.Equal(t, []string{
		"0s cut n1>n2",
		"0s cut n2>n1",
		"100ms crash n2 true",
		"100ms bump n1 5ms",
		"110ms bump n1 -5ms",
		"120ms bump n1 5ms",
		"130ms bump n1 -5ms",
		"200ms link n1>n2 loss=1/2 dup=1/10 delay=3ms",
		"250ms heal",
		"300ms restart n2",
		"300ms drift n1 0",
		"300ms offset n1 0s",
		"300ms link n1>n2 loss=0 dup=0 delay=0s",
		"400ms join n3",
		"400ms pause n1",
		"500ms resume n1",
		"500ms leave n3",
	}, ft.calls)
	assert.Empty(t, ft.residue(ids(1, 2)))
	// 12 faults plus 3 strobe flips mixed into the trace.
	assert.Equal(t, uint64(15), loop.Trace().Records())
}

func TestInstallTraceDependsOnSchedule(t *testing.T) {
	hash := func(text string) uint64 {
		s, err := Parse(text)
		require.NoError(t, err)
		loop := newTestLoop(t)
		require.NoError(t, s.Install(loop, newFake(loop, ids(1, 2, 3), nil), func(Fault, error) {}))
		require.NoError(t, loop.Run())
		return loop.Trace().Sum64()
	}
	a := hash("1s crash n1 lose-unsynced=true\n2s restart n1\n")
	require.Equal(t, a, hash("1s crash n1 lose-unsynced=true\n2s restart n1\n"))
	require.NotEqual(t, a, hash("1s crash n1 lose-unsynced=false\n2s restart n1\n"))
	require.NotEqual(t, a, hash("1s crash n2 lose-unsynced=true\n2s restart n2\n"))
	require.NotEqual(t, a, hash("1s crash n1 lose-unsynced=true\n3s restart n1\n"))
}

func TestInstallReportsTargetErrors(t *testing.T) {
	s, err := Parse("1s restart n1\n2s crash n1,n2 lose-unsynced=false\n3s restart n1,n2\n4s crash n9 lose-unsynced=false\n")
	require.NoError(t, err)
	loop := newTestLoop(t)
	ft := newFake(loop, ids(1, 2), nil)
	ft.failOn = "crash n2"
	var got []string
	require.NoError(t, s.Install(loop, ft, func(f Fault, err error) {
		got = append(got, fmt.Sprintf("%v | %v", f, err))
	}))
	require.NoError(t, loop.Run())
	require.Len(t, got, 4)
	assert.Equal(t, "1s restart n1 | restart n1: n1 is not crashed", got[0])
	assert.Equal(t, "2s crash n1,n2 lose-unsynced=false | crash n2: injected failure", got[1])
	assert.Equal(t, "3s restart n1,n2 | restart n2: n2 is not crashed", got[2])
	assert.Contains(t, got[3], "unknown node n9")
	assert.Contains(t, ft.calls, "2s crash n1 false", "a failing node does not stop the others")

	require.Error(t, s.Install(nil, ft, func(Fault, error) {}))
	require.Error(t, s.Install(loop, nil, func(Fault, error) {}))
	require.ErrorContains(t, s.Install(loop, ft, nil), "onErr")
	bad := Schedule{{At: 5, Kind: Heal}, {At: 1, Kind: Heal}}
	require.ErrorContains(t, bad.Install(newTestLoop(t), ft, func(Fault, error) {}), "sorted")
	require.Error(t, Apply(Fault{Kind: "nope"}, ft))
	require.True(t, errors.Is(Apply(Fault{Kind: Heal}, ft), nil))
}

func TestDriftPPM(t *testing.T) {
	assert.Equal(t, int64(1000), driftPPM(time.Millisecond, time.Second))
	assert.Equal(t, int64(-1000), driftPPM(-time.Millisecond, time.Second))
	assert.Equal(t, int64(MaxDriftPPM), driftPPM(time.Hour, time.Millisecond))
	assert.Equal(t, int64(MaxDriftPPM), driftPPM(1<<62, 3))
	assert.Equal(t, int64(0), driftPPM(time.Second, 0))
}

func BenchmarkGenerate(b *testing.B) {
	opts := baseOpts()
	opts.Duration = time.Minute
	faults := 0
	for i := 0; i < b.N; i++ {
		s, err := Generate(sim.NewRNG(uint64(i)), opts)
		if err != nil {
			b.Fatal(err)
		}
		faults += len(s)
	}
	b.ReportMetric(float64(faults)/float64(b.N), "faults/schedule")
}

func TestValidateFor(t *testing.T) {
	s, err := Parse(sample)
	require.NoError(t, err)
	require.NoError(t, s.ValidateFor(ids(1, 2, 3, 4, 5), ids(6)))
	require.ErrorContains(t, s.ValidateFor(ids(1, 2, 3, 4, 5, 6), nil), "n6 is already a member")
	require.ErrorContains(t, s.ValidateFor(ids(1, 2, 3, 4), ids(6)), "not a node of this cluster")
	require.ErrorContains(t, s.ValidateFor(ids(1, 2, 3, 4, 5), ids(5)), "listed twice")
	for _, tc := range []struct{ text, want string }{
		{"1s restart n1", "fault 1 (1s restart n1): n1 is not crashed"},
		{"1s resume n1", "n1 is not paused"},
		{"1s crash n1 lose-unsynced=false\n2s pause n1", "n1 is crashed"},
		{"1s pause n1\n2s leave n1", "n1 is paused"},
		{"1s pause n1\n2s crash n1 lose-unsynced=true", "n1 is paused"},
		{"1s crash n3 lose-unsynced=true", "n3 is not a member"},
		{"1s leave n2\n2s pause n2", "n2 is not a member"},
		{"1s join n2", "n2 is already a member"},
	} {
		s, err := Parse(tc.text)
		require.NoError(t, err)
		require.ErrorContains(t, s.ValidateFor(ids(1, 2), ids(3)), tc.want, tc.text)
	}
	ok, err := Parse("1s leave n2\n2s join n2\n3s join n3\n4s crash n3 lose-unsynced=true\n5s restart n3\n6s leave n3")
	require.NoError(t, err)
	require.NoError(t, ok.ValidateFor(ids(1, 2), ids(3)))
}
