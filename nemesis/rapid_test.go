package nemesis_test

import (
	"testing"
	"time"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/nemesis/nemesistest"
	"github.com/faultline-sim/faultline/sim"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func drawOpts(t *rapid.T) nemesis.GenOptions {
	n := rapid.IntRange(1, 7).Draw(t, "nodes")
	spares := rapid.IntRange(0, 2).Draw(t, "spares")
	var o nemesis.GenOptions
	for i := 0; i < n; i++ {
		o.Nodes = append(o.Nodes, sim.NodeID(i+1))
	}
	for i := 0; i < spares; i++ {
		o.Spares = append(o.Spares, sim.NodeID(n+i+1))
	}
	allFams := nemesis.MixAll | nemesis.MixOf(nemesis.FamilyClog)
	o.Mix = nemesis.Mix(rapid.IntRange(0, int(allFams)).Draw(t, "mix"))
	o.Duration = time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(20*time.Second)).Draw(t, "duration"))
	o.Interval = time.Duration(rapid.Int64Range(1, int64(2*time.Second)).Draw(t, "interval"))
	o.FaultDuration = time.Duration(rapid.Int64Range(1, int64(3*time.Second)).Draw(t, "fault duration"))
	o.MaxSkew = time.Duration(rapid.Int64Range(1, int64(time.Minute)).Draw(t, "max skew"))
	o.MaxDelay = time.Duration(rapid.Int64Range(0, int64(time.Second)).Draw(t, "max delay"))
	o.MinMembers = rapid.IntRange(1, n).Draw(t, "min members")
	if o.Mix.Has(nemesis.FamilyChurn) && spares == 0 && o.MinMembers >= n {
		o.Mix &^= nemesis.MixOf(nemesis.FamilyChurn)
	}
	return o
}

// Drawn schedules of every shape are valid, consistent against a strict
// target, end healed, and survive the text round trip exactly.
func TestDrawnSchedulesProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := drawOpts(t)
		s := nemesistest.DrawSchedule(t, o)
		require.NoError(t, s.Validate(append(append([]sim.NodeID(nil), o.Nodes...), o.Spares...)))
		require.NoError(t, s.Healed())
		require.NoError(t, s.ValidateFor(o.Nodes, o.Spares))
		require.LessOrEqual(t, s.End(), sim.Time(o.Duration))
		back, err := nemesis.Parse(s.String())
		require.NoError(t, err)
		require.Equal(t, s, back, "round trip of:\n%s", s)
		require.Empty(t, nemesis.ApplyStrict(t, s, o), "schedule:\n%s", s)
	})
}

// The same options drawn with rapid and with Generate cover every kind.
func TestDrawnSchedulesCoverEveryKind(t *testing.T) {
	o := nemesis.GenOptions{
		Nodes: []sim.NodeID{1, 2, 3, 4, 5}, Spares: []sim.NodeID{6}, MinMembers: 3,
		Mix: nemesis.MixAll | nemesis.MixOf(nemesis.FamilyClog), Duration: 20 * time.Second, Interval: 300 * time.Millisecond,
		FaultDuration: time.Second, MaxSkew: time.Second, MaxDelay: 50 * time.Millisecond,
	}
	seen := map[nemesis.Kind]bool{}
	rapid.Check(t, func(t *rapid.T) {
		for _, f := range nemesistest.Schedules(o).Draw(t, "schedule") {
			seen[f.Kind] = true
		}
	})
	for seed := uint64(0); seed < 50; seed++ {
		s, err := nemesis.Generate(sim.NewRNG(seed), o)
		require.NoError(t, err)
		for _, f := range s {
			seen[f.Kind] = true
		}
	}
	for _, k := range nemesis.Kinds() {
		require.True(t, seen[k], "no drawn or generated schedule used %s", k)
	}
}

// Arbitrary faults (not only generated ones) round-trip through the text
// form.
func TestFaultTextRoundTrip(t *testing.T) {
	node := rapid.Custom(func(t *rapid.T) sim.NodeID { return sim.NodeID(rapid.Uint32().Draw(t, "id")) })
	prob := rapid.Custom(func(t *rapid.T) sim.Prob {
		switch rapid.IntRange(0, 2).Draw(t, "prob form") {
		case 0:
			return sim.Prob{}
		case 1:
			den := rapid.Uint64Range(1, 1<<40).Draw(t, "den")
			p, err := sim.Ratio(rapid.Uint64Range(1, den).Draw(t, "num"), den)
			require.NoError(t, err)
			return p
		}
		p, err := sim.P(rapid.Float64Range(1e-9, 1).Draw(t, "float"))
		require.NoError(t, err)
		return p
	})
	rapid.Check(t, func(t *rapid.T) {
		kinds := nemesis.Kinds()
		f := nemesis.Fault{
			At:   sim.Time(rapid.Int64Range(0, 1<<62).Draw(t, "at")),
			Kind: kinds[rapid.IntRange(0, len(kinds)-1).Draw(t, "kind")],
		}
		nodes := rapid.SliceOfNDistinct(node, 3, 8, func(n sim.NodeID) sim.NodeID { return n }).Draw(t, "nodes")
		switch f.Kind {
		case nemesis.PartitionIsolate:
			f.Groups = [][]sim.NodeID{nodes[:1], nodes[1:]}
		case nemesis.PartitionHalves, nemesis.PartitionOneWay:
			h := rapid.IntRange(1, len(nodes)-1).Draw(t, "split")
			f.Groups = [][]sim.NodeID{nodes[:h], nodes[h:]}
		case nemesis.PartitionBridge:
			h := rapid.IntRange(2, len(nodes)-1).Draw(t, "split")
			f.Groups = [][]sim.NodeID{nodes[:h], append([]sim.NodeID{nodes[h-1]}, nodes[h:]...)}
		case nemesis.PartitionRing:
			f.Nodes = nodes
		case nemesis.Heal:
		case nemesis.LinkFault, nemesis.LinkClear, nemesis.LinkHold, nemesis.LinkRelease, nemesis.LinkClog, nemesis.LinkUnclog:
			f.Links = []nemesis.Link{{From: nodes[0], To: nodes[1]}, {From: nodes[2], To: nodes[0]}}
			if f.Kind == nemesis.LinkFault {
				f.Link = nemesis.LinkFaults{Loss: prob.Draw(t, "loss"), Duplicate: prob.Draw(t, "dup"),
					Delay: time.Duration(rapid.Int64Range(1, 1<<40).Draw(t, "delay"))}
			}
		default:
			f.Nodes = nodes[:rapid.IntRange(1, len(nodes)).Draw(t, "victims")]
		}
		switch f.Kind {
		case nemesis.Crash:
			f.LoseUnsynced = rapid.Bool().Draw(t, "lose")
		case nemesis.ClockSkew:
			f.Offset = time.Duration(rapid.Int64().Draw(t, "offset"))
		case nemesis.ClockBump, nemesis.ClockStrobe:
			f.Offset = time.Duration(rapid.Int64Range(1, 1<<50).Draw(t, "delta"))
			if rapid.Bool().Draw(t, "neg") {
				f.Offset = -f.Offset
			}
			if f.Kind == nemesis.ClockStrobe {
				f.Period = time.Duration(rapid.Int64Range(1, int64(time.Hour)).Draw(t, "period"))
				f.Cycles = rapid.IntRange(1, 1000).Draw(t, "cycles")
				f.At = min(f.At, 1<<50)
			}
		case nemesis.ClockDrift:
			f.PPM = rapid.Int64Range(1, nemesis.MaxDriftPPM).Draw(t, "ppm")
		case nemesis.LinkClog:
			f.ClogFor = time.Duration(rapid.Int64Range(1, 1<<61).Draw(t, "for"))
		}
		require.NoError(t, nemesis.Schedule{f}.Check(), "drawn fault %v", f)
		g, err := nemesis.ParseFault(f.String())
		require.NoError(t, err, "line %q", f.String())
		require.Equal(t, f, g, "line %q", f.String())
	})
}
