package scenarios

import (
	"fmt"
	"github.com/faultline-sim/faultline/cluster"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
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
// sync before ack, register workload of 10 clients on 5 keys), whose
// clients run for 1 s of virtual time (the span faults are drawn over), at
// most 3×ops operations.
func base(ops int) Config {
	cfg := DefaultConfig()
	cfg.WorkloadConfig.Ops = 3 * ops
	cfg.TimeLimit = time.Second
	cfg.SettleTime = time.Second
	return cfg
}

// crashesMark counts a run's crashes; unsyncedLostMark the disk writes
// crashes dropped because they were not synced.
var (
	crashesMark      = Mark{Name: "crashes", Count: func(r *cluster.Result) uint64 { return uint64(len(r.Crashes)) }}
	unsyncedLostMark = Mark{Name: "unsynced-writes-lost", Count: func(r *cluster.Result) uint64 { return r.Stats.UnsyncedLost }}
	duplicatesMark   = Mark{Name: "duplicates-delivered", Count: func(r *cluster.Result) uint64 { return r.Stats.Net.Duplicated }}
	clogsMark        = Mark{Name: "clogs", Count: func(r *cluster.Result) uint64 {
		n := uint64(0)
		for _, w := range r.Windows {
			if w.Family == nemesis.FamilyClog {
				n++
			}
		}
		return n
	}}
)

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

// with returns cfg changed by mut (for building catalogue entries inline).
func with(cfg Config, mut func(c *Config)) Config {
	mut(&cfg)
	return cfg
}

// every returns f with faults starting about every d.
func every(f Faults, d time.Duration) Faults {
	f.Interval = d
	return f
}

// builtin returns the built-in scenarios. Each one's parameters (keys,
// fault intensity, fixed faults, seeds) are tuned so that its expectations
// hold reliably; the rates measured over 50 seeds are in the package tests'
// -faultline.measure output.
func builtin() []Spec {
	specs := []Spec{
		{
			Name:        "strict-quorum",
			Description: "N=3 W=2 R=2 strict quorum, blocking read repair, synced replicas, true clocks, under partitions and crashes: linearizable, nothing lost",
			Truth:       "strict quorum, W+R>N, blocking read repair, synchronised clocks: linearizable under partitions and crashes with durable replicas",
			Base:        base(2000),
			Faults:      every(drawn("partition,crash", time.Second), 100*time.Millisecond),
			// Durability is not pinned: lost-writes judges every write it
			// would (and more), and a seed without a crash (or a run with
			// -nemesis none) leaves it Unknown; synced-crash pins it.
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:  []Mark{crashesMark, CounterMark("read-repairs", kv.CounterReadRepairs)},
			Seeds:  20,
		},
		{
			Name:        "gossip-membership",
			Description: "strict-quorum with gossip membership: each node routes with its own view, in which nodes across a partition or crashed turn suspect, then dead; they stay on the ring, so diverging views change whom a coordinator believes reachable, never a key's home replicas: linearizable, nothing lost",
			Truth:       "a strict quorum stays linearizable when each node routes with its own gossip view, as long as views only disagree on liveness, not on the ring",
			Base:        with(base(2000), func(c *Config) { c.KV.Membership = kv.MembershipGossip }),
			Faults:      every(drawn("partition,crash", time.Second), 100*time.Millisecond),
			// Durability is not pinned: lost-writes judges every write it
			// would (and more), and a seed without a crash (or a run with
			// -nemesis none) leaves it Unknown; synced-crash pins it.
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:  []Mark{CounterMark("gossip-rounds", kv.CounterGossipRounds), CounterMark("suspicions", kv.CounterSuspicions)},
			Seeds:  20,
		},
		{
			Name:        "strict-quorum-skew",
			Description: "strict-quorum with clock faults (skews, jumps, drift, strobe up to 2 s): LWW loses acknowledged writes, not linearizable",
			Truth:       "the same with clock skew: LWW loses acknowledged writes; non-linearizable",
			Base:        with(base(2000), func(c *Config) { c.WorkloadConfig.Keys = 50 }),
			Faults:      every(drawn("partition,crash,skew", time.Second), 100*time.Millisecond),
			Expect:      expect(lin, FoundInvalid, lost, FoundInvalid),
			Seeds:       6,
		},
		{
			Name:        "weak-quorum",
			Description: "W=1 R=1 (W+R<=N), no read repair, under partitions: stale reads, not linearizable",
			Truth:       "W+R<=N: stale reads; non-linearizable",
			Base: with(base(2000), func(c *Config) {
				c.KV.W, c.KV.R, c.KV.ReadRepair = 1, 1, kv.RepairOff
			}),
			Faults: drawn("partition", time.Second),
			Expect: expect(lin, FoundInvalid),
			Seeds:  3,
		},
		{
			Name:        "sloppy-partition",
			Description: "W=2 R=2 sloppy quorum without hinted handoff, partitions ending with n0,n1|n2,n3,n4 until the workload is over: writes acknowledged by fallbacks are lost, not linearizable",
			Truth:       "W+R>N with sloppy quorum (fallback replicas count) under partitions: non-linearizable; acknowledged writes can be lost under LWW",
			Base: with(base(2000), func(c *Config) {
				c.KV.Quorum, c.KV.HintedHandoff = kv.Sloppy, false
				c.WorkloadConfig.Keys = 200
			}),
			Faults: func() Faults {
				f := drawn("partition", 500*time.Millisecond)
				f.Schedule = fixed("600ms partition-halves n0,n1|n2,n3,n4\n1s heal\n")
				return f
			}(),
			Expect: expect(lin, FoundInvalid, lost, FoundInvalid),
			Marks:  []Mark{CounterMark("fallback-writes", kv.CounterHintsStored)},
			Seeds:  3,
		},
		{
			Name:        "async-read-repair",
			Description: "3 nodes, W=2 R=2 with asynchronous read repair, 2 keys, partitions and lossy links leaving writes on one replica: new-then-old reads",
			Truth:       "W+R>N without blocking read repair, with failed or concurrent writes: non-linearizable (new-then-old reads)",
			Base:        readRepairConfig(kv.RepairAsync),
			Faults:      readRepairFaults(),
			Expect:      expect(lin, FoundInvalid),
			Marks:       []Mark{CounterMark("read-repairs", kv.CounterReadRepairs)},
			Seeds:       10,
		},
		{
			Name:        "blocking-read-repair",
			Description: "async-read-repair with blocking read repair (the value is written back to W replicas before a read returns): linearizable",
			Truth:       "strict quorum, W+R>N, blocking read repair: linearizable with failed and concurrent writes",
			Base:        readRepairConfig(kv.RepairBlocking),
			Faults:      readRepairFaults(),
			Expect:      expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:       []Mark{CounterMark("read-repairs", kv.CounterReadRepairs)},
			Seeds:       20,
		},
		{
			Name:        "lww-set",
			Description: "concurrent read-modify-write adds to one set under LWW, with partitions: acknowledged elements are lost",
			Truth:       "concurrent read-modify-write of a set under LWW: acknowledged elements lost (Jepsen measured 71% on Riak)",
			Base:        setConfig(kv.LWW),
			Faults:      drawn("partition", 0),
			Expect:      expect(lost, FoundInvalid),
			Seeds:       3,
		},
		{
			Name:        "vclock-set",
			Description: "the lww-set workload with vector clocks, siblings and a union merge: no acknowledged element is lost (partitions only: durability is not exercised, and the set key's merged reads are judged by lost-writes, not siblings)",
			Truth:       "the same with vector clocks, siblings and a union merge: zero acknowledged elements lost",
			Base:        setConfig(kv.VectorClock),
			Faults:      drawn("partition", 0),
			Expect:      expect(lost, AlwaysValid),
			Seeds:       20,
		},
		{
			Name:        "vclock-register",
			Description: "the register workload with vector clocks and siblings (each write carries the context of its client's last read) on 20 keys, under partitions and churn with range handoff: no acknowledged write is lost, and every final read returns exactly the unsuperseded writes as siblings",
			Truth:       "vector clocks keep concurrent writes as siblings instead of discarding them: no acknowledged register write is lost, and the final sibling sets are exactly the writes nothing superseded",
			Base:        vclockRegisterConfig(),
			Faults:      every(drawn("partition,churn", time.Second), 100*time.Millisecond),
			Expect:      expect(lost, AlwaysValid, sib, AlwaysValid),
			Marks:       []Mark{CounterMark("handoff-keys", kv.CounterHandoffKeysSent)},
			Seeds:       20,
		},
		{
			Name:        "divergence",
			Description: "no anti-entropy, hinted handoff or read repair; 4000 operations (80% writes) on 2000 keys under partitions, the last (n0,n1|n2,n3,n4) healed at 3 s after the workload: replicas that missed writes stay divergent",
			Truth:       "anti-entropy, hinted handoff and read repair off, writes during a partition: replicas stay divergent",
			Base:        aeConfig(0),
			Faults:      aeFaults(),
			Expect:      expect(conv, FoundInvalid),
			Seeds:       3,
		},
		{
			Name:        "anti-entropy",
			Description: "divergence with Merkle anti-entropy on (8^3-leaf trees, an exchange every ~10 ms per node): after the heal every replica converges, and the quiescent traffic stays within exchanges × an equal-roots exchange + repaired keys × a descent (~160 B per exchange while a compared range holds ~1.4 KB)",
			Truth:       "anti-entropy (Merkle) on, after heal and quiescence: all replicas converge; repair traffic proportional to the divergence, not the data size",
			Base:        aeConfig(10),
			Faults:      aeFaults(),
			Checks:      []Check{RepairTrafficCheck()},
			Expect:      expect(conv, AlwaysValid, lost, AlwaysValid, NameRepairTraffic, AlwaysValid),
			Marks:       []Mark{CounterMark("anti-entropy-repairs", kv.CounterAntiEntropyKeysRepaired)},
			Seeds:       20,
		},
		{
			Name:        "unsynced-crash",
			Description: "W=1 R=3, writes acknowledged before they are synced (sync every 1 s); n0 is cut off, then crashes losing unsynced data: acknowledged writes lost",
			Truth:       "un-synced writes acknowledged with W=1, then a crash: acknowledged writes lost",
			Base:        crashConfig(false),
			Faults:      crashFaults(),
			Expect:      expect(dur, FoundInvalid, lost, FoundInvalid),
			Marks:       []Mark{unsyncedLostMark},
			Seeds:       3,
		},
		{
			Name:        "synced-crash",
			Description: "unsynced-crash with every write synced before it is acknowledged: the crash loses nothing acknowledged",
			Truth:       "acknowledged writes synced to disk survive crashes, even with W=1",
			Base:        crashConfig(true),
			Faults:      crashFaults(),
			Expect:      expect(dur, AlwaysValid, lost, AlwaysValid),
			Marks:       []Mark{crashesMark},
			Seeds:       20,
		},
		{
			Name:        "hinted-handoff",
			Description: "sloppy quorum with hinted handoff through partitions: writes stay available wherever W nodes are reachable, and none is lost once the hints are handed off",
			Truth:       "hinted handoff keeps writes available through a partition and loses none once the hints are handed off",
			Base:        with(base(2000), func(c *Config) { c.KV.Quorum = kv.Sloppy }),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{AvailabilityCheck(nemesis.FamilyPartition, 90, 50*time.Millisecond)},
			Expect:      expect(NameAvailability, AlwaysValid, lost, AlwaysValid, lin, FoundInvalid),
			Marks:       []Mark{CounterMark("hints-stored", kv.CounterHintsStored), CounterMark("hints-replayed", kv.CounterHintsDelivered)},
			Seeds:       20,
		},
		{
			Name:        "strict-partition-availability",
			Description: "the hinted-handoff partitions under a strict quorum: writes whose coordinator reaches W nodes but not W home replicas fail",
			Truth:       "a strict quorum gives up availability under partitions (the price of strict-quorum's linearizability)",
			Base:        base(2000),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{AvailabilityCheck(nemesis.FamilyPartition, 90, 50*time.Millisecond)},
			Expect:      expect(NameAvailability, FoundInvalid, lin, AlwaysValid, lost, AlwaysValid),
			Seeds:       20,
		},
		{
			Name:        "zombie-tombstone",
			Description: "deletes with a 5 ms tombstone grace, no hinted handoff, partitions: a replica that missed a delete resurrects the value",
			Truth:       "too short a tombstone grace resurrects deleted data (zombies) when a replica that missed the delete repairs the others",
			Base:        tombstoneConfig(5),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{ZombiesCheck()},
			Expect:      expect(NameZombies, FoundInvalid, lin, FoundInvalid),
			Marks:       []Mark{CounterMark("tombstones-purged", kv.CounterTombstonesPurged)},
			Seeds:       3,
		},
		{
			Name:        "tombstone-grace",
			Description: "zombie-tombstone with a 10 s tombstone grace (longer than any partition): no zombies, linearizable",
			Truth:       "a tombstone grace longer than any partition keeps deleted data deleted",
			Base:        tombstoneConfig(10_000),
			Faults:      drawn("partition", time.Second),
			Checks:      []Check{ZombiesCheck()},
			Expect:      expect(NameZombies, AlwaysValid, lin, AlwaysValid),
			Seeds:       20,
		},
		{
			Name:        "churn",
			Description: "the control for churn-handoff: strict-quorum with nodes joining and leaving under load and range handoff off: new owners start empty, stale reads",
			Truth:       "membership changes without range transfer: new owners start empty and quorum reads return stale values",
			Base:        churnConfig(false),
			Faults:      every(drawn("churn", time.Second), 100*time.Millisecond),
			Expect:      expect(lin, FoundInvalid),
			Seeds:       4,
		},
		{
			Name:        "churn-handoff",
			Description: "churn with range handoff on: a joining node pulls the ranges it gains before it serves them, a leaving node streams its ranges to their new owners before it stops: linearizable, nothing lost (replicas may still differ, so convergence is not judged: without anti-entropy a replica that missed a write acknowledged by W=2 others keeps missing it, and a joiner copies the previous replica it pulls from)",
			Truth:       "membership changes with range handoff (joiners pull their ranges, leavers stream theirs) keep a strict quorum linearizable and lose no acknowledged write",
			Base:        churnConfig(true),
			Faults:      every(drawn("churn", time.Second), 100*time.Millisecond),
			Expect:      expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:       []Mark{CounterMark("handoff-keys", kv.CounterHandoffKeysSent)},
			Seeds:       20,
		},
		{
			Name:        "churn-handoff-batched",
			Description: "churn-handoff with handoff streams of 2 keys a batch (TransferBatchKeys=2, against 64 by default), so a gained range arrives in many batches: a joiner must serve a range only after its last batch: linearizable, nothing lost",
			Truth:       "a range handed off in many batches is served only once every batch has arrived",
			Base: with(churnConfig(true), func(c *Config) {
				c.KV.TransferBatchKeys = 2
			}),
			Faults: every(drawn("churn", time.Second), 100*time.Millisecond),
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:  []Mark{CounterMark("handoff-keys", kv.CounterHandoffKeysSent)},
			Seeds:  20,
		},
		{
			Name:        "churn-handoff-faults",
			Description: "churn-handoff on 50 keys with crashes, pauses and partitions among the joins and leaves (a fault every 50 ms): a gainer counts an arc received only after N-W+1 previous replicas streamed it in full, a node restarted mid-handoff (or on a later membership epoch) pulls its arcs again, and a node that rejoins keeps its old data as a partial source: linearizable, nothing lost",
			Truth:       "range handoff that takes each arc from a write quorum's worth of previous replicas, and re-pulls after a restart, keeps a strict quorum linearizable and loses no acknowledged write through churn with crashes, pauses and partitions",
			Base:        with(churnConfig(true), func(c *Config) { c.WorkloadConfig.Keys = 50 }),
			Faults:      every(drawn("churn,crash,pause,partition", time.Second), 50*time.Millisecond),
			Expect:      expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:       []Mark{CounterMark("handoff-keys", kv.CounterHandoffKeysSent), crashesMark},
			Seeds:       60,
		},
		{
			Name:        "joiner-crash-handoff",
			Description: "range handoff on 50 keys with hinted handoff off: n0 is down 100-250 ms and misses writes (no hint catches it up), n5 joins at 300 ms and crashes 1 ms later, before any arc has arrived, and restarts at 330 ms: it must pull its arcs again before it serves them (which arcs were pending is not on disk): linearizable, nothing lost",
			Truth:       "a node restarted in the middle of a handoff serves none of the arcs it had not received before the crash",
			Base: with(churnConfig(true), func(c *Config) {
				c.WorkloadConfig.Keys = 50
				c.KV.HintedHandoff = false
			}),
			Faults: Faults{Schedule: fixed("100ms crash n0 lose-unsynced=false\n250ms restart n0\n300ms join n5\n301ms crash n5 lose-unsynced=false\n330ms restart n5\n")},
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:  []Mark{CounterMark("handoff-keys", kv.CounterHandoffKeysSent), crashesMark},
			Seeds:  60,
		},
		{
			Name:        "hinted-handoff-long",
			Description: "sloppy quorum with hinted handoff on 200 keys; n0,n1 are cut off from 300 ms until after the workload, so fallbacks hold many hints that are handed off only in the settle phase: nothing acknowledged is lost",
			Truth:       "hinted handoff loses no acknowledged write, even when the partition outlasts the workload",
			Base: with(base(2000), func(c *Config) {
				c.KV.Quorum = kv.Sloppy
				c.WorkloadConfig.Keys = 200
			}),
			Faults: Faults{Schedule: fixed("300ms partition-halves n0,n1|n2,n3,n4\n")},
			Expect: expect(lost, AlwaysValid),
			Marks:  []Mark{CounterMark("hints-stored", kv.CounterHintsStored), CounterMark("hints-replayed", kv.CounterHintsDelivered)},
			Seeds:  20,
		},
		{
			Name:        "duplicate-acks",
			Description: "N=3 W=3 R=1 strict quorum (W=N: every replica must ack) with blocking read repair, every link duplicating 10% of its messages, under lossy links and partitions: a duplicated acknowledgement must never count twice, so a read from any one replica sees every acknowledged write",
			Truth:       "W=N with R=1 is linearizable only if W counts distinct replicas: duplicates must not forge a quorum",
			Base: with(base(2000), func(c *Config) {
				c.KV.W, c.KV.R = 3, 1
				c.Link.Duplicate = tenPercent // every link duplicates 10% of its messages
			}),
			Faults: func() Faults {
				f := every(drawn("loss,partition", time.Second), 100*time.Millisecond)
				return f
			}(),
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:  []Mark{duplicatesMark},
			Seeds:  20,
		},
		{
			Name:        "crash-in-flight",
			Description: "W=1 R=3 (W=1 exposes what W=2 hides: one replica's acknowledgement is the whole quorum) with sync before ack, crashes drawn per seed every ~100 ms while writes are in flight, some losing unsynced data: nothing acknowledged is lost",
			Truth:       "acknowledged writes synced to disk survive crashes at any instant, even with W=1",
			Base: with(base(2000), func(c *Config) {
				c.KV.W, c.KV.R = 1, 3
				c.WorkloadConfig.Keys = 50
			}),
			Faults: every(drawn("crash", time.Second), 100*time.Millisecond),
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid, dur, AlwaysValid),
			Marks:  []Mark{crashesMark},
			Seeds:  20,
		},
		{
			Name:        "clogged-links",
			Description: "strict-quorum with congested links instead of cuts: clogs hold every message into and out of a few nodes for a while, then deliver the backlog at once, in order, next to crashes: late acknowledgements and read replies of finished operations arrive in bursts and must not count: linearizable, nothing lost",
			Truth:       "a quorum counts only replies to the operation it is running: a backlog of late replies changes no outcome",
			Base:        base(2000),
			Faults:      every(drawn("clog,crash", time.Second), 100*time.Millisecond),
			Expect:      expect(lin, AlwaysValid, lost, AlwaysValid),
			Marks:       []Mark{clogsMark, CounterMark("ignored", kv.CounterIgnored)},
			Seeds:       20,
		},
		{
			Name:        "vclock-crash",
			Description: "vector clocks and siblings on 20 keys with crashes that lose unsynced data, pauses and partitions (replicas sync before acknowledging, so what a crash loses was never acknowledged): no acknowledged write is lost and the final reads return exactly the unsuperseded writes",
			Truth:       "vector clocks survive crashes and restarts: a restarted node never reissues a dot",
			Base: with(vclockRegisterConfig(), func(c *Config) {
				c.Spares = 0
			}),
			Faults: every(drawn("crash,pause,partition", time.Second), 150*time.Millisecond),
			Expect: expect(lost, AlwaysValid, sib, AlwaysValid, dur, AlwaysValid),
			Marks:  []Mark{crashesMark},
			Seeds:  20,
		},
		{
			Name:        "vclock-sloppy-dup",
			Description: "vector clocks with W=1 R=3 under a sloppy quorum, lossy and duplicating links, partitions and pauses: a duplicated forwarded write must be coordinated once (two dots for one write are two siblings of one value), no acknowledged write is lost",
			Truth:       "a request the network duplicates takes effect once: siblings are exactly the unsuperseded writes",
			Base: with(vclockRegisterConfig(), func(c *Config) {
				c.Spares = 0
				c.KV.W, c.KV.R, c.KV.Quorum = 1, 3, kv.Sloppy
			}),
			Faults: drawn("partition,loss,pause", time.Second),
			Expect: expect(lost, AlwaysValid, sib, AlwaysValid),
			Marks:  []Mark{duplicatesMark},
			Seeds:  20,
		},
		{
			Name:        "liveness-core",
			Description: "TigerBeetle's liveness mode: sloppy quorum with hinted handoff and anti-entropy under partitions, crashes and pauses; the settle phase heals only the core (n0,n1,n2) and the other members keep their faults: the core must quiesce (an anti-entropy sweep among its replicas), converge and answer every final read",
			Truth:       "a sloppy quorum with hinted handoff stays live on any majority core: it converges and serves without the faulty minority",
			Base: with(base(2000), func(c *Config) {
				c.KV.Quorum = kv.Sloppy
				c.KV.AntiEntropyIntervalTicks = 10 // what repairs the core once the others are gone
				c.KV.VNodes = 4
				c.LivenessCore = true
				c.WorkloadConfig.Keys = 50
			}),
			Faults: func() Faults {
				f := drawn("partition,crash,pause", 700*time.Millisecond)
				// Faults the settle phase leaves in place: n4 crashed, n3 cut off.
				f.Schedule = fixed("800ms crash n4 lose-unsynced=true\n850ms partition-isolate n3|n0,n1,n2,n4\n")
				return f
			}(),
			Expect: expect(conv, AlwaysValid),
			Marks:  []Mark{CounterMark("hints-stored", kv.CounterHintsStored), CounterMark("anti-entropy-repairs", kv.CounterAntiEntropyKeysRepaired)},
			Seeds:  20,
		},
		{
			Name:        "coarse-clocks",
			Description: "strict quorum with anti-entropy, every wall clock in 1 ms steps, 2 keys written concurrently by 10 clients: LWW timestamps tie all the time, and replicas converge only because ties are broken the same way everywhere (by dot)",
			Truth:       "last-write-wins needs a deterministic tie-break: with coarse clocks, equal timestamps are the common case",
			Base: with(base(2000), func(c *Config) {
				c.ClockResolution = time.Millisecond
				c.KV.AntiEntropyIntervalTicks = 10
				c.KV.HintedHandoff, c.KV.ReadRepair = false, kv.RepairOff
				c.KV.VNodes = 4
				c.WorkloadConfig.Keys = 2
				c.WorkloadConfig.ReadRatio = 0.2
			}),
			Faults: drawn("partition", time.Second),
			Expect: expect(conv, AlwaysValid),
			Marks:  []Mark{CounterMark("anti-entropy-repairs", kv.CounterAntiEntropyKeysRepaired)},
			Seeds:  20,
		},
		{
			Name:        "gossip-churn",
			Description: "gossip membership with pauses, crashes and nodes leaving and rejoining (range handoff on): views converge, no acknowledged write is lost, and writes stay available outside partitions",
			Truth:       "gossip membership with range handoff loses nothing through churn, pauses and crashes",
			Base: with(churnConfig(true), func(c *Config) {
				c.KV.Membership = kv.MembershipGossip
				c.TimeLimit = 600 * time.Millisecond
			}),
			Faults: every(drawn("churn,pause,crash", 0), 150*time.Millisecond), // over the 600 ms time limit
			Expect: expect(lost, AlwaysValid),
			Marks:  []Mark{CounterMark("gossip-rounds", kv.CounterGossipRounds), CounterMark("suspicions", kv.CounterSuspicions), CounterMark("handoff-keys", kv.CounterHandoffKeysSent)},
			Seeds:  20,
		},
		{
			Name:        "swarm",
			Description: "swarm testing: per seed a random cluster size, W/R with W+R>N, workload size, and a random subset and intensity of partitions, crashes, pauses and lossy links; strict quorum with blocking read repair stays linearizable",
			Truth:       "strict quorum, W+R>N, blocking read repair, synced replicas, true clocks: linearizable and lossless under any mix of non-clock faults",
			Base:        base(2000),
			Vary:        varySafe,
			Faults: func() Faults {
				f := drawn("partition,crash,pause,loss,stall", 0) // over the seed's time limit
				f.Swarm = true
				return f
			}(),
			// Durability is judged whenever a seed's random fault subset
			// crashed a node (without a crash it is not exercised).
			Expect: expect(lin, AlwaysValid, lost, AlwaysValid, dur, AlwaysValid),
			Seeds:  20,
		},
	}
	for _, off := range SkewSweep {
		specs = append(specs, skewSpec(off))
	}
	return specs
}

// churnConfig is strict-quorum on 200 keys with two spare nodes for the
// churn family to join, with or without range handoff (oracle membership:
// every node gets each new ring at once).
func churnConfig(handoff bool) Config {
	c := base(2000)
	c.Spares = 2
	c.KV.RangeHandoff = handoff
	c.WorkloadConfig.Keys = 200
	return c
}

// aeConfig is a register workload of 4000 operations, 80% writes, on
// 2000 keys with hinted handoff and read repair off, so only anti-entropy
// (every intervalTicks on average; 0: off) can repair replicas that missed
// writes. Two vnodes per node make big ranges (a replica of one holds
// ~1.6 KB), so traffic that followed the data size would show.
func aeConfig(intervalTicks int) Config {
	c := base(4000)
	c.TimeLimit = 600 * time.Millisecond
	c.KV.HintedHandoff, c.KV.ReadRepair = false, kv.RepairOff
	c.KV.AntiEntropyIntervalTicks = intervalTicks
	c.KV.VNodes = 2
	c.WorkloadConfig.Keys = 2000
	c.WorkloadConfig.ReadRatio = 0.2
	return c
}

// aeFaults are partitions drawn over the workload's first 350 ms, then
// n0,n1 cut off from the rest from 400 ms until the workload ends: the
// divergence of the writes it kept from replicas is still there when the
// settle phase begins, so anti-entropy repairs it after heal and
// quiescence (RepairTrafficCheck judges that phase).
func aeFaults() Faults {
	f := drawn("partition", 350*time.Millisecond)
	f.Schedule = fixed("400ms partition-halves n0,n1|n2,n3,n4\n600ms heal\n")
	return f
}

// readRepairConfig is a 3-node cluster (every node a replica of every key)
// with 2 keys and mostly reads, so a write left on one replica is read
// before and after a repair.
func readRepairConfig(mode kv.ReadRepairMode) Config {
	c := base(2000)
	c.Nodes = 3
	c.KV.ReadRepair = mode
	c.WorkloadConfig.Keys = 2
	c.WorkloadConfig.ReadRatio = 0.7
	return c
}

// readRepairFaults are short partitions and lossy links about every
// 100 ms: writes that reach only their coordinator.
func readRepairFaults() Faults {
	f := every(drawn("partition,loss", time.Second), 100*time.Millisecond)
	f.FaultDuration = 100 * time.Millisecond
	return f
}

// crashConfig is W=1 R=3 with 200 keys and a 1 s background sync; synced
// says whether replicas sync before they acknowledge.
func crashConfig(synced bool) Config {
	c := base(2000)
	c.KV.W, c.KV.R = 1, 3
	c.KV.SyncBeforeAck = synced
	c.KV.SyncIntervalTicks = 1000
	c.WorkloadConfig.Keys = 200
	return c
}

// crashFaults cut n0 off (so its clients' writes are acknowledged by n0
// alone), then crash it losing unsynced data while still cut off.
func crashFaults() Faults {
	return Faults{Schedule: fixed("300ms partition-isolate n0|n1,n2,n3,n4\n600ms crash n0 lose-unsynced=true\n600ms heal\n700ms restart n0\n")}
}

// setConfig is Jepsen's Riak set test: every client adds to one set key by
// read-modify-write.
func setConfig(res kv.ResolveMode) Config {
	c := base(600)
	c.TimeLimit = 300 * time.Millisecond // a set grows with every add: keep it short
	c.Workload = "set"
	c.KV.Resolve = res
	c.WorkloadConfig.Keys = 1
	c.WorkloadConfig.ReadRatio = 0
	return c
}

// vclockRegisterConfig is the register workload under vector clocks on 20
// keys, with two spare nodes for churn and range handoff on.
func vclockRegisterConfig() Config {
	c := base(2000)
	c.KV.Resolve = kv.VectorClock
	c.Spares = 2
	c.KV.RangeHandoff = true
	c.WorkloadConfig.Keys = 20
	return c
}

// tombstoneConfig is a register workload with deletes, strict quorum and
// blocking read repair but no hinted handoff, with the given grace.
func tombstoneConfig(graceTicks int) Config {
	c := base(2000)
	c.KV.HintedHandoff = false
	c.KV.TombstoneGraceTicks = graceTicks
	c.WorkloadConfig.Keys = 200
	c.WorkloadConfig.ReadRatio = 0.4
	c.WorkloadConfig.DeleteRatio = 0.2
	return c
}

// skewSpec is one point of the clock-skew sweep: node n0's clock runs off
// by off for the whole workload, on an otherwise fault-free strict-quorum
// cluster.
func skewSpec(off time.Duration) Spec {
	// An offset below the operations' latency (a few ms) reorders no
	// acknowledged writes in practice, but nothing guarantees it does not:
	// such points are reported, not judged.
	exp := FoundInvalid
	if off < 10*time.Millisecond {
		exp = Any
	}
	return Spec{
		Name: "skew/" + shortDuration(off),
		Description: fmt.Sprintf("clock-skew sweep: n0's clock %s ahead for the whole workload, no other fault, strict quorum: LWW discards writes that follow n0's within %s",
			shortDuration(off), shortDuration(off)),
		Truth:  "clock skew makes LWW discard acknowledged writes; the more skew, the more are lost",
		Base:   base(2000),
		Faults: Faults{Schedule: fixed(fmt.Sprintf("0s clock-skew n0 offset=%s\n1s clock-reset n0\n", off))},
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
// nodes, N=3 with W+R>N, 4 to 32 vnodes, anti-entropy off or every 10 or
// 50 ticks, 2 to 10 clients on 1 to 8 keys and 300 to 2000 operations.
func varySafe(rng *sim.RNG, cfg *Config) {
	cfg.Nodes = 3 + rng.IntN(5)
	quorums := [][2]int{{2, 2}, {2, 3}, {3, 2}, {3, 1}, {1, 3}, {3, 3}}
	q := quorums[rng.IntN(len(quorums))]
	cfg.KV.W, cfg.KV.R = q[0], q[1]
	cfg.KV.VNodes = 4 << rng.IntN(4)
	cfg.KV.AntiEntropyIntervalTicks = []int{0, 10, 50}[rng.IntN(3)]
	cfg.WorkloadConfig.Clients = 2 + rng.IntN(9)
	cfg.WorkloadConfig.Keys = 1 + rng.IntN(8)
	cfg.WorkloadConfig.Ops = 6 * (300 + rng.IntN(1701)) // a cap: the time limit ends the workload
	cfg.TimeLimit = time.Duration(300+rng.IntN(701)) * time.Millisecond
}

// tenPercent is a probability of 1/10.
var tenPercent = func() sim.Prob {
	p, err := sim.Ratio(1, 10)
	if err != nil {
		panic(err) // a constant ratio
	}
	return p
}()
