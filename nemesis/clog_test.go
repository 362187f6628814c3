package nemesis

import (
	"testing"
	"time"

	"github.com/faultline-sim/faultline/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noClogTarget is a Target without ClogLink: the fake with that method
// hidden, as the cluster is until it implements LinkClogger.
type noClogTarget struct{ Target }

func TestClogTextRoundTrip(t *testing.T) {
	text := "1s link-clog n1>n2,n2>n1 for=200ms\n1.1s link-unclog n1>n2\n"
	s, err := Parse(text)
	require.NoError(t, err)
	require.Equal(t, Schedule{
		{At: sim.Time(time.Second), Kind: LinkClog, Links: []Link{{1, 2}, {2, 1}}, ClogFor: 200 * time.Millisecond},
		{At: sim.Time(1100 * time.Millisecond), Kind: LinkUnclog, Links: []Link{{1, 2}}},
	}, s)
	assert.Equal(t, text, s.String())
	fam, ok := LinkClog.Family()
	assert.True(t, ok)
	assert.Equal(t, FamilyClog, fam)
	assert.Equal(t, "clog", fam.String())
	assert.False(t, LinkClog.IsUndo())
	assert.True(t, LinkUnclog.IsUndo())
	assert.Contains(t, Kinds(), LinkClog)
	assert.Contains(t, Kinds(), LinkUnclog)
}

func TestClogBadInputErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"1s link-clog n1>n2", "missing parameter for="},
		{"1s link-clog n1>n2 for=0s", "needs for= a duration > 0 (got 0s)"},
		{"1s link-clog n1>n2 for=-5ms", "needs for= a duration > 0 (got -5ms)"},
		{"1s link-clog n1>n2 for=soon", `for="soon"`},
		{"1s link-clog n1>n2 for=1s for=2s", "given twice"},
		{"1s link-clog for=1s", "needs a target"},
		{"1s link-clog n1 for=1s", "from>to"},
		{"1s link-clog n1>n1 for=1s", "to itself"},
		{"1s link-clog n1>n2,n1>n2 for=1s", "listed twice"},
		{"1s link-clog n1>n2 for=1s delay=1s", `unknown parameter "delay"`},
		{"1s link-clog n1>n2 for=2562047h47m16s", "overflows virtual time"},
		{"1s link-unclog n1>n2 for=1s", "takes no parameters"},
		{"1s link-unclog", "needs a target"},
	} {
		_, err := Parse(tc.text)
		require.Error(t, err, "input %q", tc.text)
		require.Contains(t, err.Error(), tc.want, "input %q", tc.text)
		require.Contains(t, err.Error(), "line 1", "input %q", tc.text)
	}
	// Faults built in code are checked the same way, never panicking.
	for _, tc := range []struct {
		f    Fault
		want string
	}{
		{Fault{Kind: LinkClog, Links: []Link{{1, 2}}}, "needs for= a duration > 0"},
		{Fault{Kind: LinkClog, Links: []Link{{1, 2}}, ClogFor: -time.Second}, "got -1s"},
		{Fault{Kind: LinkClog, ClogFor: time.Second}, "needs at least one link"},
		{Fault{At: sim.Never - 5, Kind: LinkClog, Links: []Link{{1, 2}}, ClogFor: time.Second}, "overflows virtual time"},
		{Fault{Kind: LinkUnclog, Links: []Link{{1, 2}}, ClogFor: time.Second}, "link-unclog takes no for (only link-clog does)"},
		{Fault{Kind: LinkHold, Links: []Link{{1, 2}}, ClogFor: time.Second}, "link-hold takes no for"},
		{Fault{Kind: Crash, Nodes: ids(1), ClogFor: time.Second}, "crash takes no for"},
		{Fault{Kind: LinkClog, Nodes: ids(1), Links: []Link{{1, 2}}, ClogFor: time.Second}, "takes no node list"},
	} {
		require.ErrorContains(t, Schedule{tc.f}.Check(), tc.want, "fault %#v", tc.f)
		if tc.f.Kind == LinkClog {
			// Apply checks a clog itself: a bad one never clogs forever.
			ft := newFake(newTestLoop(t), ids(1, 2), nil)
			require.ErrorContains(t, Apply(tc.f, ft), tc.want, "fault %#v", tc.f)
			require.Empty(t, ft.calls)
		}
	}
}

func TestClogInstall(t *testing.T) {
	s, err := Parse(`100ms link-clog n1>n2,n2>n1 for=200ms
150ms link-hold n1>n2
200ms link-unclog n2>n1
250ms link-release n1>n2
300ms link-unclog n1>n2
400ms link-clog n2>n3 for=1ms
`)
	require.NoError(t, err)
	loop := newTestLoop(t)
	ft := newFake(loop, ids(1, 2, 3), nil)
	var errs []error
	require.NoError(t, s.Install(loop, ft, func(_ Fault, err error) { errs = append(errs, err) }))
	require.NoError(t, loop.Run())
	require.Empty(t, errs)
	require.NoError(t, loop.RunUntil(sim.Time(time.Second)))
	assert.Equal(t, []string{
		"100ms clog n1>n2 until 300ms",
		"100ms clog n2>n1 until 300ms",
		"150ms hold n1>n2",
		"200ms clog n2>n1 until 0s",
		"250ms release n1>n2",
		"300ms clog n1>n2 until 0s",
		"400ms clog n2>n3 until 401ms",
	}, ft.calls)
	assert.Empty(t, ft.residue(ids(1, 2, 3)), "every clog ended")
	assert.Equal(t, uint64(6), loop.Trace().Records())

	// A clog applied late (Install after its time) still ends at its own time.
	late := newTestLoop(t)
	require.NoError(t, late.RunUntil(sim.Time(150*time.Millisecond)))
	ft = newFake(late, ids(1, 2), nil)
	require.NoError(t, Schedule{s[0]}.Install(late, ft, func(_ Fault, err error) { errs = append(errs, err) }))
	require.NoError(t, late.Run())
	assert.Equal(t, []string{"150ms clog n1>n2 until 300ms", "150ms clog n2>n1 until 300ms"}, ft.calls)

	// Target errors are reported per link, the others still clogged.
	loop = newTestLoop(t)
	ft = newFake(loop, ids(1, 2), nil)
	var got []string
	bad := Schedule{{At: 1, Kind: LinkClog, Links: []Link{{1, 9}, {2, 1}}, ClogFor: time.Millisecond}}
	require.NoError(t, bad.Install(loop, ft, func(_ Fault, err error) { got = append(got, err.Error()) }))
	require.NoError(t, loop.Run())
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "link clog n1>n9: unknown node n9")
	assert.Contains(t, ft.calls, "1ns clog n2>n1 until 1.000001ms")
}

func TestClogNeedsALinkClogger(t *testing.T) {
	s, err := Parse("1s crash n1 lose-unsynced=false\n2s restart n1\n3s link-unclog n1>n2\n")
	require.NoError(t, err)
	loop := newTestLoop(t)
	plain := noClogTarget{newFake(loop, ids(1, 2), nil)}
	err = s.Install(loop, plain, func(Fault, error) {})
	require.ErrorContains(t, err, "fault 3 (3s link-unclog n1>n2)")
	require.ErrorContains(t, err, "cannot clog links: it needs the method ClogLink(from, to sim.NodeID, until sim.Time) error (nemesis.LinkClogger)")
	assert.Zero(t, loop.Pending(), "a refused schedule schedules nothing")
	require.ErrorContains(t, Apply(Fault{Kind: LinkClog, Links: []Link{{1, 2}}, ClogFor: 1}, plain), "nemesis.LinkClogger")
	// Schedules without clogs install on such a target as before.
	require.NoError(t, s[:2].Install(loop, plain, func(Fault, error) {}))
	var _ LinkClogger = (*fakeTarget)(nil)
}

func TestClogWindowsAndEnd(t *testing.T) {
	s, err := Parse(`1s link-clog n1>n2,n2>n1 for=500ms
2s link-clog n1>n3 for=1s
2.5s link-unclog n1>n3
4s link-clog n2>n3 for=1s
4.5s link-clog n2>n3 for=2s
`)
	require.NoError(t, err)
	at := func(ms int) sim.Time { return sim.Time(time.Duration(ms) * time.Millisecond) }
	assert.Equal(t, []Window{
		{at(1000), at(1500), FamilyClog, LinkClog, "link-clog n1>n2,n2>n1 for=500ms"},
		{at(2000), at(2500), FamilyClog, LinkClog, "link-clog n1>n3 for=1s"},
		{at(4000), at(4500), FamilyClog, LinkClog, "link-clog n2>n3 for=1s"},
		{at(4500), at(6500), FamilyClog, LinkClog, "link-clog n2>n3 for=2s"},
	}, s.Windows(), "a clog ends by itself, when unclogged, or when clogged anew")
	require.NoError(t, s.Healed(), "clogs end by themselves")
	assert.Equal(t, at(6500), s.End(), "the end of the last clog is the schedule's last action")
	assert.Equal(t, 4, s.Faults())
}

func TestGenerateClog(t *testing.T) {
	opts := baseOpts()
	opts.Mix = MixOf(FamilyClog)
	clogs := 0
	for seed := uint64(0); seed < 30; seed++ {
		s, err := Generate(sim.NewRNG(seed), opts)
		require.NoError(t, err)
		require.NoError(t, s.Check())
		open := map[sim.Time]Fault{} // clog end -> clog, looked up only
		for _, f := range s {
			switch f.Kind {
			case LinkClog:
				clogs++
				require.Positive(t, f.ClogFor)
				for _, l := range f.Links {
					require.Contains(t, f.Links, Link{l.To, l.From}, "seed %d: a clog takes both directions: %s", seed, f)
				}
				open[f.At.Add(f.ClogFor)] = f
			case LinkUnclog:
				c, ok := open[f.At]
				require.True(t, ok, "seed %d: %s undoes no clog ending then", seed, f)
				require.Equal(t, c.Links, f.Links)
			default:
				t.Fatalf("seed %d: the clog mix drew %s", seed, f)
			}
		}
		require.Empty(t, applyStrict(t, s, opts), "seed %d:\n%s", seed, s)
	}
	require.Greater(t, clogs, 30, "the clog family draws clogs")

	// Adding clog to a mix leaves the schedules of the other families'
	// draws valid; MixAll's draws never hold a clog.
	for seed := uint64(0); seed < 20; seed++ {
		s, err := Generate(sim.NewRNG(seed), baseOpts())
		require.NoError(t, err)
		for _, f := range s {
			fam, _ := f.Kind.Family()
			require.NotEqual(t, FamilyClog, fam, "MixAll drew %s", f)
		}
	}
}
