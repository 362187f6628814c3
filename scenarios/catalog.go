package scenarios

import (
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/internal/sim"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
)

// Checker names, shortened for the catalogue.
const (
	lin  = checker.NameLinearizable
	lost = checker.NameLostWrites
	dur  = checker.NameDurability
	sib  = checker.NameSiblings
	conv = checker.NameConvergence
)

// base is the catalogue's starting point: cluster.DefaultConfig (5 nodes,
// N=3 W=2 R=2 strict quorum, LWW, blocking read repair, hinted handoff,
// sync before ack, register workload of 10 clients on 5 keys) with ops
// sized so the workload runs while faults are drawn.
func base(ops int) cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.WorkloadConfig.Ops = ops
	cfg.SettleTime = time.Second
	return cfg
}

// drawn returns faults of the given families drawn over d, about one every
// 200 ms, each lasting about 250 ms, with clock faults up to 2 s and delay
// spikes up to 50 ms.
func drawn(mix string, d time.Duration) Faults {
	m, err := nemesis.ParseMix(mix)
	if err != nil {
		panic(err) // the catalogue's mixes are constants; tests cover them
	}
	return Faults{Mix: m, Duration: d, Interval: 200 * time.Millisecond, FaultDuration: 250 * time.Millisecond,
		MaxSkew: 2 * time.Second, MaxDelay: 50 * time.Millisecond}
}

// fixed parses a constant schedule of the catalogue.
func fixed(text string) nemesis.Schedule {
	s, err := nemesis.Parse(text)
	if err != nil {
		panic(err) // constant text; tests cover it
	}
	return s
}

func expect(kv ...any) map[string]Expectation {
	m := map[string]Expectation{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(Expectation)
	}
	return m
}

// SkewSweep lists the clock offsets of the clock-skew sweep scenarios.
var SkewSweep = []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second}

// builtin returns the built-in scenarios.
func builtin() []Spec {
	specs := []Spec{
		{
			Name:        "strict-quorum",
			Description: "N=3 W=2 R=2 strict quorum, blocking read repair, synced replicas, true clocks, under partitions and crashes: linearizable",
			Truth:       "strict quorum, W+R>N, blocking read repair, synchronised clocks: linearizable under partitions and crashes with durable replicas",
			Base:        base(2000),
			Faults:      drawn("partition,crash", time.Second),
			Expect:      expect(lin, AlwaysValid, lost, AlwaysValid, dur, AlwaysValid),
			Seeds:       5,
		},
		{
			Name:        "strict-quorum-skew",
			Description: "strict-quorum with clock faults (up to 2 s): LWW loses acknowledged writes, not linearizable",
			Truth:       "the same with clock skew: LWW loses acknowledged writes; non-linearizable",
			Base:        base(2000),
			Faults:      drawn("partition,crash,skew", time.Second),
			Expect:      expect(lin, FoundInvalid, lost, FoundInvalid),
			Seeds:       5,
		},
		{
			Name:        "weak-quorum",
			Description: "W=1 R=1 (W+R<=N), no read repair, under partitions: stale reads, not linearizable",
			Truth:       "W+R<=N: stale reads; non-linearizable",
			Base: func() cluster.Config {
				c := base(2000)
				c.KV.W, c.KV.R, c.KV.ReadRepair = 1, 1, kv.RepairOff
				return c
			}(),
			Faults: drawn("partition", time.Second),
			Expect: expect(lin, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "sloppy-partition",
			Description: "W=2 R=2 sloppy quorum without hinted handoff under partitions: fallbacks count, not linearizable, LWW loses acknowledged writes",
			Truth:       "W+R>N with sloppy quorum (fallback replicas count) under partitions: non-linearizable; acknowledged writes can be lost under LWW",
			Base: func() cluster.Config {
				c := base(2000)
				c.KV.Quorum, c.KV.HintedHandoff = kv.Sloppy, false
				return c
			}(),
			Faults: drawn("partition", time.Second),
			Expect: expect(lin, FoundInvalid, lost, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "async-read-repair",
			Description: "W=2 R=2 with asynchronous read repair and failed or concurrent writes (partitions, pauses, lossy links): new-then-old reads",
			Truth:       "W+R>N without blocking read repair, with failed or concurrent writes: non-linearizable (new-then-old reads)",
			Base: func() cluster.Config {
				c := base(2000)
				c.KV.ReadRepair = kv.RepairAsync
				return c
			}(),
			Faults: drawn("partition,pause,loss", time.Second),
			Expect: expect(lin, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "lww-set",
			Description: "concurrent read-modify-write adds to one set under LWW, with partitions: acknowledged elements are lost",
			Truth:       "concurrent read-modify-write of a set under LWW: acknowledged elements lost (Jepsen measured 71% on Riak)",
			Base:        setConfig(kv.LWW),
			Faults:      drawn("partition", time.Second),
			Expect:      expect(lost, FoundInvalid),
			Seeds:       5,
		},
		{
			Name:        "vclock-set",
			Description: "the lww-set workload with vector clocks, siblings and a union merge: no acknowledged element is lost",
			Truth:       "the same with vector clocks, siblings and a union merge: zero acknowledged elements lost",
			Base:        setConfig(kv.VectorClock),
			Faults:      drawn("partition", time.Second),
			Expect:      expect(lost, AlwaysValid, dur, AlwaysValid),
			Seeds:       5,
		},
		{
			Name:        "divergence",
			Description: "no anti-entropy, hinted handoff or read repair, writes during partitions: replicas stay divergent after healing",
			Truth:       "anti-entropy, hinted handoff and read repair off, writes during a partition: replicas stay divergent",
			Base: func() cluster.Config {
				c := base(2000)
				c.KV.HintedHandoff, c.KV.ReadRepair = false, kv.RepairOff
				return c
			}(),
			Faults: drawn("partition", time.Second),
			Expect: expect(conv, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "unsynced-crash",
			Description: "W=1 with writes acknowledged before they are synced, then crashes that lose unsynced data: acknowledged writes lost",
			Truth:       "un-synced writes acknowledged with W=1, then a crash: acknowledged writes lost",
			Base: func() cluster.Config {
				c := base(2000)
				c.KV.W, c.KV.R = 1, 3
				c.KV.SyncBeforeAck = false
				c.KV.SyncIntervalTicks = 500
				return c
			}(),
			Faults: func() Faults {
				f := drawn("crash", time.Second)
				return f
			}(),
			Expect: expect(dur, FoundInvalid, lost, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "hinted-handoff",
			Description: "sloppy quorum with hinted handoff through partitions: writes stay available and the hints reach their owners after healing",
			Truth:       "hinted handoff keeps writes available through a partition and loses none once the hints are handed off",
			Base: func() cluster.Config {
				c := base(2000)
				c.KV.Quorum = kv.Sloppy
				return c
			}(),
			Faults: drawn("partition", time.Second),
			Checks: []Check{AvailabilityCheck(nemesis.FamilyPartition, 90, 50*time.Millisecond)},
			Expect: expect(NameAvailability, AlwaysValid, lost, AlwaysValid, lin, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "strict-partition-availability",
			Description: "the hinted-handoff partitions under a strict quorum: writes whose coordinator cannot reach W home replicas fail",
			Truth:       "a strict quorum gives up availability under partitions (the price of strict-quorum's linearizability)",
			Base:        base(2000),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{AvailabilityCheck(nemesis.FamilyPartition, 90, 50*time.Millisecond)},
			Expect:      expect(NameAvailability, FoundInvalid, lin, AlwaysValid, lost, AlwaysValid),
			Seeds:       5,
		},
		{
			Name:        "zombie-tombstone",
			Description: "deletes with a 5 ms tombstone grace, no hinted handoff, partitions: a replica that missed a delete resurrects the value",
			Truth:       "too short a tombstone grace resurrects deleted data (zombies) when a replica that missed the delete repairs the others",
			Base:        tombstoneConfig(5),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{ZombiesCheck()},
			Expect:      expect(NameZombies, FoundInvalid, lin, FoundInvalid),
			Seeds:       5,
		},
		{
			Name:        "tombstone-grace",
			Description: "zombie-tombstone with a 10 s tombstone grace (longer than any partition): no zombies, linearizable",
			Truth:       "a tombstone grace longer than any partition keeps deleted data deleted",
			Base:        tombstoneConfig(10_000),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{ZombiesCheck()},
			Expect:      expect(NameZombies, AlwaysValid, lin, AlwaysValid),
			Seeds:       5,
		},
		{
			Name:        "churn",
			Description: "strict-quorum with nodes joining and leaving under load (ranges are not transferred): new owners start empty",
			Truth:       "membership changes without range transfer: new owners start empty, so quorums miss acknowledged writes",
			Base: func() cluster.Config {
				c := base(2000)
				c.Spares = 2
				return c
			}(),
			Faults: drawn("churn", time.Second),
			Expect: expect(lin, FoundInvalid, lost, FoundInvalid),
			Seeds:  5,
		},
		{
			Name:        "swarm",
			Description: "swarm testing: per seed a random cluster size, W/R with W+R>N, workload size and a random subset and intensity of partitions, crashes, pauses and lossy links; strict quorum with blocking read repair must stay linearizable",
			Truth:       "strict quorum, W+R>N, blocking read repair, synced replicas, true clocks: linearizable and lossless under any mix of non-clock faults",
			Base:        base(2000),
			Vary:        varySafe,
			Faults: func() Faults {
				f := drawn("partition,crash,pause,loss", time.Second)
				f.Swarm = true
				return f
			}(),
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid, dur, AlwaysValid),
			Seeds:  10,
		},
	}
	for _, off := range SkewSweep {
		specs = append(specs, skewSpec(off))
	}
	return specs
}

// setConfig is Jepsen's Riak set test: every client adds to one set key by
// read-modify-write.
func setConfig(res kv.ResolveMode) cluster.Config {
	c := base(1000)
	c.Workload = "set"
	c.KV.Resolve = res
	c.WorkloadConfig.Keys = 1
	c.WorkloadConfig.ReadRatio = 0
	return c
}

// tombstoneConfig is a register workload with deletes, strict quorum and
// blocking read repair but no hinted handoff, with the given grace.
func tombstoneConfig(graceTicks int) cluster.Config {
	c := base(2000)
	c.KV.HintedHandoff = false
	c.KV.TombstoneGraceTicks = graceTicks
	c.WorkloadConfig.ReadRatio = 0.4
	c.WorkloadConfig.DeleteRatio = 0.2
	return c
}

// skewSpec is one point of the clock-skew sweep: node n0's clock runs off
// by off for the whole workload, on an otherwise fault-free strict-quorum
// cluster.
func skewSpec(off time.Duration) Spec {
	name := "skew/" + shortDuration(off)
	exp := FoundInvalid
	return Spec{
		Name:        name,
		Description: fmt.Sprintf("clock-skew sweep: n0's clock %s ahead, no other fault, strict quorum: LWW discards the writes that follow n0's within %s", off, off),
		Truth:       "clock skew makes LWW discard acknowledged writes; the more skew, the more are lost",
		Base:        base(2000),
		Faults: Faults{Schedule: fixed(fmt.Sprintf("0s clock-skew n0 offset=%s\n2s clock-reset n0\n", off))},
		Expect: expect(lin, exp, lost, exp),
		Seeds:  5,
	}
}

func shortDuration(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

// varySafe draws a cluster that keeps strict-quorum's guarantees: 3 to 7
// nodes, N=3 with W+R>N, 4 to 32 vnodes, 2 to 10 clients on 1 to 8 keys and
// 300 to 2000 operations.
func varySafe(rng *sim.RNG, cfg *cluster.Config) {
	cfg.Nodes = 3 + rng.IntN(5)
	quorums := [][2]int{{2, 2}, {2, 3}, {3, 2}, {3, 1}, {1, 3}, {3, 3}}
	q := quorums[rng.IntN(len(quorums))]
	cfg.KV.W, cfg.KV.R = q[0], q[1]
	cfg.VNodes = 4 << rng.IntN(4)
	cfg.WorkloadConfig.Clients = 2 + rng.IntN(9)
	cfg.WorkloadConfig.Keys = 1 + rng.IntN(8)
	cfg.WorkloadConfig.Ops = 300 + rng.IntN(1701)
}
