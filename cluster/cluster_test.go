package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// withFaults returns cfg with a nemesis schedule of the given mix drawn
// from the seed's "nemesis" stream.
func withFaults(t testing.TB, cfg Config, seed uint64, mix string, d time.Duration) Config {
	t.Helper()
	m, err := nemesis.ParseMix(mix)
	require.NoError(t, err)
	s, err := nemesis.Generate(sim.NewRNG(seed).Fork("nemesis"), nemesis.GenOptions{
		Nodes: cfg.members(), Mix: m, Duration: d, Interval: 250 * time.Millisecond,
		FaultDuration: 300 * time.Millisecond, MaxSkew: time.Second, MinMembers: 1,
	})
	require.NoError(t, err)
	cfg.Nemesis = s
	return cfg
}

// TestFaultFreeRunIsCleanAndSettles: without faults every operation of the
// fake store completes, the settle phase is recorded, the nodes' counters
// are summed by name and every member is a home replica of every key (no
// Placement).
func TestFaultFreeRunIsCleanAndSettles(t *testing.T) {
	c, err := New(fakeConfig(fakeBugs{}), 1)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err)
	require.Zero(t, r.Stats.Pending)
	require.Zero(t, r.Stats.Fail+r.Stats.Info)
	require.Positive(t, r.Stats.OK)
	require.NotEqual(t, sim.Never, r.SettleAt)
	// 5 nodes tick once per millisecond, through the 2 s settle phase too.
	require.GreaterOrEqual(t, r.Stats.Counter("ticks"), uint64(5*2000))
	require.LessOrEqual(t, r.Stats.Counter("ticks"), uint64(5*r.Stats.SimTime/time.Millisecond)+5)
	require.Zero(t, r.Stats.Counter("no-such-counter"))
	require.Len(t, r.Nodes, 5)
	require.NotEmpty(t, r.Replicas.Keys)
	for _, k := range r.Replicas.Keys {
		require.Len(t, k.Replicas, 5, "key %q", k.Key)
	}
}

// TestLivenessFailureHasNoSettlePhase: a run stopped by its event budget
// during the workload reports a liveness error and SettleAt = Never.
func TestLivenessFailureHasNoSettlePhase(t *testing.T) {
	cfg := fakeConfig(fakeBugs{})
	cfg.Limits.MaxEvents = 2000
	c, err := New(cfg, 1)
	require.NoError(t, err)
	r, err := c.Run()
	var le *LivenessError
	require.ErrorAs(t, err, &le)
	require.Equal(t, uint64(1), le.Seed)
	require.Equal(t, sim.Never, r.SettleAt)
}

// TestSameSeedSameRun: the fake store under faults gives the same trace
// hash and history twice; another seed differs.
func TestSameSeedSameRun(t *testing.T) {
	cfg := withFaults(t, fakeConfig(fakeBugs{}), 4, "partition,crash,pause,skew,loss", 2*time.Second)
	var hashes []uint64
	for range 2 {
		c, err := New(cfg, 4)
		require.NoError(t, err)
		r, err := c.Run()
		require.NoError(t, err)
		hashes = append(hashes, r.TraceHash)
	}
	require.Equal(t, hashes[0], hashes[1])
	c, err := New(cfg, 5)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err)
	require.NotEqual(t, hashes[0], r.TraceHash)
}

// TestTraceDoesNotChangeTheRun: tracing observes, it never perturbs.
func TestTraceDoesNotChangeTheRun(t *testing.T) {
	cfg := withFaults(t, fakeConfig(fakeBugs{}), 2, "partition,crash,pause", 2*time.Second)
	c1, err := New(cfg, 2)
	require.NoError(t, err)
	r1, err := c1.Run()
	require.NoError(t, err)
	c2, err := New(cfg, 2)
	require.NoError(t, err)
	var lines []TraceLine
	c2.SetTrace(func(l TraceLine) { lines = append(lines, l) })
	r2, err := c2.Run()
	require.NoError(t, err)
	require.Equal(t, r1.TraceHash, r2.TraceHash)
	require.Greater(t, len(lines), 1000)
	var sawFault, sawRecv, sawClient bool
	for i, l := range lines {
		if i > 0 {
			require.GreaterOrEqual(t, l.Time, lines[i-1].Time, "trace goes back in time at line %d", i)
		}
		s := l.String()
		sawFault = sawFault || strings.Contains(s, "pause") || strings.Contains(s, "cut link")
		// The fake node has no Describer: deliveries show their size.
		sawRecv = sawRecv || strings.Contains(s, "recv ") && strings.Contains(s, " bytes from n")
		if strings.HasPrefix(l.Event, "client ") {
			sawClient = true
			require.Regexp(t, `client \d+ #\d+ (invoke|ok|fail|info) c\d+ (read|write|delete|add) "`, l.Event)
		}
	}
	require.True(t, sawFault && sawRecv && sawClient, "trace lacks fault/recv/client lines")
}

// TestCrashLosesUnsyncedWrites: the harness's disk, not the node, decides
// what a crash keeps: a crash with lose-unsynced drops what the node wrote
// but did not sync, and the restarted node sees only the synced state.
func TestCrashLosesUnsyncedWrites(t *testing.T) {
	var disks []*node.MemDisk
	cfg := DefaultConfig()
	cfg.Nodes, cfg.WorkloadConfig.Clients, cfg.WorkloadConfig.Ops = 1, 1, 1
	cfg.Node = func(env node.Env) (node.Node, error) {
		d := env.Disk.(*node.MemDisk)
		if len(disks) == 0 {
			d.Put("synced", []byte("1"))
			d.Sync()
			d.Put("unsynced", []byte("1"))
		} else {
			_, hasSynced := d.Get("synced")
			_, hasUnsynced := d.Get("unsynced")
			require.True(t, hasSynced, "a synced write survives a crash")
			require.False(t, hasUnsynced, "an unsynced write is lost in a crash")
		}
		disks = append(disks, d)
		return &fakeNode{id: env.ID, disk: env.Disk}, nil
	}
	s, err := nemesis.Parse("0s crash n0 lose-unsynced=true\n1ms restart n0\n")
	require.NoError(t, err)
	cfg.Nemesis = s
	c, err := New(cfg, 1)
	require.NoError(t, err)
	_, err = c.Run()
	require.NoError(t, err)
	require.Len(t, disks, 2, "started, then restarted")
	require.Same(t, disks[0], disks[1], "a restart gets the same disk")
}

// TestBrokenNodesAreNamed: every way a node can break the boundary's
// contract stops the run with a NodeError naming the node, the call, the
// seed and the time: never a harness panic, never a pass.
func TestBrokenNodesAreNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		bugs fakeBugs
		call string
		msg  string
	}{
		"send to unknown": {fakeBugs{sendToUnknown: true}, "Ready", "sent a message to n99, which is not in the cluster"},
		"bogus reply":     {fakeBugs{bogusReply: true}, "Ready", "which it was never given"},
		"panic":           {fakeBugs{panicOnStep: true}, "Step", "fake node: boom"},
		"undecodable":     {fakeBugs{rejectSteps: true}, "Step", "unexpected EOF"},
		"bad status":      {fakeBugs{badStatus: true}, "Ready", "want node.OK, node.Fail or node.Info"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := New(fakeConfig(tc.bugs), 7)
			require.NoError(t, err)
			r, err := c.Run()
			require.NotNil(t, r, "a failed run still has its result")
			var ne *NodeError
			require.ErrorAs(t, err, &ne)
			require.Equal(t, uint64(7), ne.Seed)
			require.Equal(t, tc.call, ne.Call)
			require.Contains(t, ne.Error(), tc.msg)
			require.Contains(t, ne.Error(), "(seed 7)")
			require.Equal(t, tc.bugs.panicOnStep, ne.Panic)
			if ne.Panic {
				require.Contains(t, ne.Stack, "fakeNode", "the stack shows where the node panicked")
			}
		})
	}
}

// TestBadFactories: a factory that fails or returns nil at the start of
// the run is a configuration the system refuses (ErrBadConfig, naming the
// node); at a restart mid-run it stops the run with a NodeError.
func TestBadFactories(t *testing.T) {
	for name, f := range map[string]node.Factory{
		"error": func(node.Env) (node.Node, error) { return nil, errors.New("no such store") },
		"nil":   func(node.Env) (node.Node, error) { return nil, nil },
		"panic": func(node.Env) (node.Node, error) { panic("factory boom") },
	} {
		cfg := DefaultConfig()
		cfg.Node = f
		_, err := New(cfg, 3)
		require.ErrorIs(t, err, ErrBadConfig, name)
		require.ErrorContains(t, err, "node n0", name)
		require.ErrorContains(t, err, "(seed 3)", name)
	}
	starts := 0
	cfg := fakeConfig(fakeBugs{})
	good := cfg.Node
	cfg.Node = func(env node.Env) (node.Node, error) {
		starts++
		if starts > cfg.Nodes {
			return nil, errors.New("disk is corrupt")
		}
		return good(env)
	}
	s, err := nemesis.Parse("10ms crash n2 lose-unsynced=false\n20ms restart n2\n")
	require.NoError(t, err)
	cfg.Nemesis = s
	c, err := New(cfg, 3)
	require.NoError(t, err)
	_, err = c.Run()
	var ne *NodeError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, sim.NodeID(2), ne.Node)
	require.Equal(t, "start", ne.Call)
	require.Equal(t, sim.Time(20*time.Millisecond), ne.Time)
	require.ErrorContains(t, err, "disk is corrupt")
}

// TestMembershipNeedsMember: a join of a node that does not implement
// node.Member stops the run with a NodeError that says so.
func TestMembershipNeedsMember(t *testing.T) {
	cfg := fakeConfig(fakeBugs{})
	cfg.Spares = 1
	s, err := nemesis.Parse("10ms join n5\n")
	require.NoError(t, err)
	cfg.Nemesis = s
	c, err := New(cfg, 1)
	require.NoError(t, err)
	_, err = c.Run()
	var ne *NodeError
	require.ErrorAs(t, err, &ne)
	require.Contains(t, ne.Error(), "does not implement node.Member")
}

func TestBadConfig(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"no node":         func(c *Config) { c.Node = nil },
		"min members":     func(c *Config) { c.MinMembers = 6 },
		"zero clients":    func(c *Config) { c.WorkloadConfig.Clients = 0 },
		"negative settle": func(c *Config) { c.SettleTime = -time.Second },
		"zero tick":       func(c *Config) { c.Tick = 0 },
		"unknown node": func(c *Config) {
			s, err := nemesis.Parse("1s crash n9 lose-unsynced=false\n2s restart n9\n")
			require.NoError(t, err)
			c.Nemesis = s
		},
		"unknown workload": func(c *Config) { c.Workload = "bank" },
	} {
		cfg := fakeConfig(fakeBugs{})
		mut(&cfg)
		_, err := New(cfg, 1)
		require.Error(t, err, name)
		require.ErrorIs(t, err, ErrBadConfig, name)
	}
}

// TestSettleWaitsForQuiescence: nodes that implement node.Settler keep the
// settle phase going past SettleTime until they are quiescent; a node that
// never quiesces is a liveness failure naming what it still owes.
func TestSettleWaitsForQuiescence(t *testing.T) {
	settling := func(busy int) node.Factory {
		return func(env node.Env) (node.Node, error) {
			return &settlingNode{fakeNode: &fakeNode{id: env.ID, peers: env.View.Members(), disk: env.Disk}, busyTicks: busy}, nil
		}
	}
	cfg := DefaultConfig()
	cfg.SettleTime = 100 * time.Millisecond
	cfg.Node = settling(500) // 500 ticks of 1 ms after the heal
	c, err := New(cfg, 1)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err)
	require.Equal(t, r.SettleAt+sim.Time(500*time.Millisecond), r.QuiescentAt, "the final reads wait for the last node")

	cfg.Node = settling(-1)
	cfg.SettleLimit = 2 * time.Second
	c, err = New(cfg, 1)
	require.NoError(t, err)
	r, err = c.Run()
	var le *LivenessError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "settle", le.Phase)
	require.Contains(t, le.Error(), "did not quiesce within 2s (Config.SettleLimit): n0: 3 hints to hand off; n1: 3 hints")
	require.Equal(t, sim.Never, r.QuiescentAt)
}

// TestLivenessModeHealsOnlyTheCore: with LivenessCore the settle phase
// restarts a crashed core member but leaves a crashed non-core member down,
// and the final reads go to core coordinators only; without it, both
// restart.
func TestLivenessModeHealsOnlyTheCore(t *testing.T) {
	for _, core := range []bool{false, true} {
		starts := map[sim.NodeID]int{}
		cfg := fakeConfig(fakeBugs{})
		good := cfg.Node
		cfg.Node = func(env node.Env) (node.Node, error) { starts[env.ID]++; return good(env) }
		cfg.LivenessCore = core
		s, err := nemesis.Parse("10ms crash n1 lose-unsynced=false\n10ms crash n4 lose-unsynced=false\n")
		require.NoError(t, err)
		cfg.Nemesis = s
		c, err := New(cfg, 1)
		require.NoError(t, err)
		r, err := c.Run()
		require.NoError(t, err, "core=%v", core)
		require.Equal(t, 2, starts[1], "core=%v: n1 (in the core n0,n1,n2) restarts", core)
		if core {
			require.Equal(t, 1, starts[4], "n4 is outside the core: it stays crashed")
			for _, op := range r.Ops {
				if op.Final {
					require.Less(t, int(op.Node), 3, "final reads use core coordinators: %v", op)
				}
			}
			for _, k := range r.Replicas.Keys {
				for _, rep := range k.Replicas {
					require.Less(t, int(rep.Node), 3, "only the core's replicas are judged")
				}
			}
		} else {
			require.Equal(t, 2, starts[4], "a full heal restarts every member")
		}
	}
}

// TestClockResolution: a coarse wall clock shows the start of its step,
// also when skewed before time zero; without a resolution it is exact.
func TestClockResolution(t *testing.T) {
	cfg := fakeConfig(fakeBugs{})
	cfg.ClockResolution = time.Millisecond
	c, err := New(cfg, 1)
	require.NoError(t, err)
	ns := c.nodes[0]
	c.loop.At(sim.Time(2500*time.Microsecond), func() {
		require.Equal(t, int64(2*time.Millisecond), c.wallTime(ns))
		ns.clock.offset = -5 * time.Millisecond
		require.Equal(t, int64(-3*time.Millisecond), c.wallTime(ns), "floor, not truncation, below zero")
		c.cfg.ClockResolution = 0
		require.Equal(t, int64(-2500*time.Microsecond), c.wallTime(ns))
	})
	require.NoError(t, c.loop.RunUntil(sim.Time(3*time.Millisecond)))
}
