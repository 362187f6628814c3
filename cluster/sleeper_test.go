package cluster

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// sleepyNode is a fakeNode with a timer (node.Sleeper): at every beat-th
// tick it sends its tick count to its next peer, which writes it to its
// disk, and between beats it says it is idle (which it is: it only writes
// its tick count to its own disk, unsynced, which SkipTicks does too; a
// restart goes on from the count the disk kept). It
// mixes its tick count into a log at every call but Tick, so a tick handed
// over late (or never) shows in its counters, and it panics when it is
// skipped ticks it did not promise. It can leave (node.Member): it is done
// leaveTicks ticks after Leave, a change no Ready shows.
type sleepyNode struct {
	*fakeNode
	beat     int
	promised int64 // what the last IdleTicks promised; -1 once a call came since
	log      uint64
	calls    *int // Tick calls, every node together
	bug      string
	leaveAt  int // the tick count at Leave; -1 if not leaving
}

const leaveTicks = 30

func sleepyFactory(beat int, calls *int, bug string) node.Factory {
	inner := fakeFactory(fakeBugs{})
	return func(env node.Env) (node.Node, error) {
		n, err := inner(env)
		if err != nil {
			return nil, err
		}
		s := &sleepyNode{fakeNode: n.(*fakeNode), beat: beat, promised: -1, calls: calls, bug: bug, leaveAt: -1}
		if b, ok := env.Disk.Get(s.ticksKey()); ok {
			s.ticks, _ = strconv.Atoi(string(b)) // a restart goes on counting
		}
		return s, nil
	}
}

func (s *sleepyNode) note(call string) {
	s.promised = -1
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %s %d", s.log, call, s.ticks)
	s.log = h.Sum64()
}

func (s *sleepyNode) Tick() {
	s.promised = -1
	*s.calls++
	s.fakeNode.Tick()
	s.writeTicks()
	if s.ticks%s.beat == 0 && len(s.peers) > 1 {
		to := s.peers[(indexOf(s.peers, s.id)+1)%len(s.peers)]
		s.ready.Messages = append(s.ready.Messages, node.Envelope{To: to, Payload: fmt.Appendf(nil, "beat/%v=%d", s.id, s.ticks)})
	}
}

func (s *sleepyNode) IdleTicks() int64 {
	if s.bug == "panic-idle" {
		panic("sleepy node: no idea")
	}
	s.promised = int64(s.beat - 1 - s.ticks%s.beat)
	return s.promised
}

func (s *sleepyNode) SkipTicks(k int64) {
	if s.bug == "panic-skip" {
		panic("sleepy node: cannot skip")
	}
	if k <= 0 || k > s.promised {
		panic(fmt.Sprintf("sleepy node %v: skipped %d ticks, promised %d", s.id, k, s.promised))
	}
	s.ticks += int(k)
	s.writeTicks()
	s.promised = -1
}

func (s *sleepyNode) ticksKey() string { return "ticks/" + s.id.String() }

func (s *sleepyNode) writeTicks() { s.disk.Put(s.ticksKey(), fmt.Append(nil, s.ticks)) }

func (s *sleepyNode) SetView(node.View) error { s.note("set-view"); return nil }
func (s *sleepyNode) Join() error             { s.note("join"); return nil }
func (s *sleepyNode) Leave() error            { s.note("leave"); s.leaveAt = s.ticks; return nil }
func (s *sleepyNode) LeaveDone() bool         { return s.leaveAt >= 0 && s.ticks >= s.leaveAt+leaveTicks }

func (s *sleepyNode) Step(from sim.NodeID, payload []byte) error {
	s.note("step")
	return s.fakeNode.Step(from, payload)
}

func (s *sleepyNode) Submit(req node.Request) {
	s.note("submit")
	s.fakeNode.Submit(req)
}

func (s *sleepyNode) Counters() []node.Counter {
	s.note("counters")
	return append(s.fakeNode.Counters(), node.Counter{Name: "log", Value: s.log})
}

// TestSparedTicksChangeNothing: nodes that say their next ticks are idle
// (node.Sleeper) are not ticked then, and handed the ticks they owe before
// every other call (Step, Submit, Counters, a crash): the run is the same
// as with every node ticked every tick, under partitions, crashes, pauses,
// clock skew and loss, with far fewer Tick calls.
func TestSparedTicksChangeNothing(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		var results [2]*Result
		var calls [2]int
		for i, tickAll := range []bool{true, false} {
			cfg := withFaults(t, DefaultConfig(), seed, "partition,crash,pause,skew,loss", 2*time.Second)
			cfg.Node = sleepyFactory(7, &calls[i], "")
			c, err := New(cfg, seed)
			require.NoError(t, err)
			c.tickAll = tickAll
			results[i], err = c.Run()
			require.NoError(t, err)
		}
		all, spared := results[0], results[1]
		require.Equal(t, all.TraceHash, spared.TraceHash, "seed %d", seed)
		require.Equal(t, all.Stats, spared.Stats, "seed %d", seed)
		require.Equal(t, all.Ops, spared.Ops, "seed %d", seed)
		require.Less(t, calls[1]*5, calls[0], "seed %d: a node idle 6 ticks in 7 gets far fewer Tick calls", seed)
	}
}

// TestSparedTicksOfLeaversAndCrashes: leaving nodes are ticked every tick
// (their LeaveDone may turn true at any tick), a paused node owes nothing
// for the ticks it misses, a node stopped while paused (a Leave straight
// from the Target API; the nemesis refuses it) gets the ticks it owed
// before, and a crash comes after the ticks owed (their writes to the disk
// are unsynced, and lost).
func TestSparedTicksOfLeaversAndCrashes(t *testing.T) {
	sched, err := nemesis.Parse("100ms leave n1\n200ms pause n2\n250ms resume n2\n" +
		"300ms crash n3 lose-unsynced=true\n400ms restart n3\n600ms join n1\n800ms leave n4\n")
	require.NoError(t, err)
	var results [2]*Result
	var calls [2]int
	for i, tickAll := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.Spares = 0
		cfg.Nemesis = sched
		cfg.Node = sleepyFactory(7, &calls[i], "")
		c, err := New(cfg, 1)
		require.NoError(t, err)
		c.tickAll = tickAll
		c.loop.At(sim.Time(900*time.Millisecond), func() { require.NoError(t, c.Pause(0)) })
		c.loop.At(sim.Time(950*time.Millisecond), func() { require.NoError(t, c.Leave(0)) })
		results[i], err = c.Run()
		require.NoError(t, err)
		require.Empty(t, results[i].TargetErrors)
	}
	all, spared := results[0], results[1]
	require.Equal(t, all.TraceHash, spared.TraceHash)
	require.Equal(t, all.Stats, spared.Stats)
	require.Equal(t, all.Ops, spared.Ops)
	require.Positive(t, all.Stats.UnsyncedLost)
	require.Less(t, calls[1]*3, calls[0])
}

// TestBrokenSleepersAreNamed: a node that panics in IdleTicks or SkipTicks
// stops the run with a NodeError naming the call.
func TestBrokenSleepersAreNamed(t *testing.T) {
	for bug, call := range map[string]string{"panic-idle": "IdleTicks", "panic-skip": "SkipTicks"} {
		var calls int
		cfg := DefaultConfig()
		cfg.Node = sleepyFactory(7, &calls, bug)
		c, err := New(cfg, 1)
		require.NoError(t, err)
		_, err = c.Run()
		var ne *NodeError
		require.ErrorAs(t, err, &ne, bug)
		require.Equal(t, call, ne.Call, bug)
		require.True(t, ne.Panic, bug)
	}
}
