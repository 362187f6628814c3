package primarybackup

import (
	"testing"
	"time"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/scenarios"
)

// Checker names.
const (
	lin  = checker.NameLinearizable
	lost = checker.NameLostWrites
	dur  = checker.NameDurability
	conv = checker.NameConvergence
)

// base is a 3-node cluster (the primary and two backups) running the
// register workload on keys keys with 2000 operations, the store configured
// by pb.
func base(pb Config, keys int) scenarios.Config {
	cfg := scenarios.DefaultConfig()
	cfg.Nodes = 3
	cfg.Node = NewFactory(pb)
	cfg.WorkloadConfig.Ops = 2000
	cfg.WorkloadConfig.Keys = keys
	cfg.SettleTime = time.Second
	return cfg
}

// partitions draws partitions over the first second, about one every
// 150 ms, each lasting about 200 ms, merged with the fixed schedule text.
func partitions(t *testing.T, text string) scenarios.Faults {
	t.Helper()
	mix, err := nemesis.ParseMix("partition")
	if err != nil {
		t.Fatal(err)
	}
	sched, err := nemesis.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return scenarios.Faults{Mix: mix, Duration: time.Second, Interval: 150 * time.Millisecond,
		FaultDuration: 200 * time.Millisecond, Schedule: sched}
}

// sparse makes the drawn partitions of f rarer and shorter: about one
// every 300 ms, each lasting about 100 ms.
func sparse(f scenarios.Faults) scenarios.Faults {
	f.Interval, f.FaultDuration = 300*time.Millisecond, 100*time.Millisecond
	return f
}

// backupFaults crashes each backup once, losing unsynced data (a backup
// syncs before it acknowledges, so there is none to lose), then, after the
// drawn partitions (which end by 550 ms), cuts n2 off from 600 ms until the
// settle phase heals everything, so that n2 misses every later write and
// only retransmission after the heal can bring it up to date.
const backupFaults = "100ms crash n1 lose-unsynced=true\n250ms restart n1\n300ms crash n2 lose-unsynced=true\n450ms restart n2\n" +
	"600ms partition-isolate n2|n0,n1\n"

// primaryCrashes crashes the primary twice, losing unsynced data.
const primaryCrashes = "300ms crash n0 lose-unsynced=true\n400ms restart n0\n700ms crash n0 lose-unsynced=true\n800ms restart n0\n"

func expect(kv ...any) map[string]scenarios.Expectation {
	m := map[string]scenarios.Expectation{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(scenarios.Expectation)
	}
	return m
}

func syncConfig() Config { return DefaultConfig() }

// noBug plants nothing.
func noBug(*Config) {}

func asyncConfig() Config {
	c := DefaultConfig()
	c.Mode = Async
	return c
}

// syncBackupFaults: the primary orders every write and serves every read,
// so partitions and backup crashes cannot break linearizability or lose an
// acknowledged write; they only cost availability (with Acks=0, writes end
// Info while any backup is out of reach; with Acks=1, while both are).
// After the heal, state transfer brings every backup to the primary's
// state: convergence. The workload has 3000 operations so that it is still
// running at 600 ms even against a store that acknowledges at once (the
// planted assume-delivered bug), or n2 would miss nothing.
func syncBackupFaults(t *testing.T, plant func(*Config)) scenarios.Spec {
	f := partitions(t, backupFaults)
	f.Duration = 550 * time.Millisecond
	pb := syncConfig()
	plant(&pb)
	cfg := base(pb, 5)
	cfg.WorkloadConfig.Ops = 3000
	name, acks := "pb-sync-backup-faults", "both backups"
	if pb.Acks == 1 {
		name, acks = "pb-sync-backup-faults-acks1", "one of two backups"
	}
	return scenarios.Spec{
		Name:        name,
		Description: "synchronous replication to " + acks + " under partitions and backup crashes, n2 cut off from 600 ms to the end: linearizable, nothing lost, converged",
		Base:        cfg,
		Faults:      f,
		Expect:      expect(lin, scenarios.AlwaysValid, lost, scenarios.AlwaysValid, conv, scenarios.AlwaysValid),
		Seeds:       4,
	}
}

// syncPrimaryCrash: in Sync mode the primary syncs a write before any read
// can see it and before it is acknowledged, so a crash of the primary
// losing unsynced data loses nothing a client saw: linearizable, nothing
// acknowledged lost, durability (writes acknowledged before the last crash)
// holds. 200 keys, so a write lost to a crash is rarely superseded by a
// later one and the lost-writes checker would see it. Durability is only
// exercised if some write is acknowledged before the last crash, at 700 ms,
// so the partitions are sparser than elsewhere (about one every 300 ms,
// lasting about 100 ms: seed 1349 of the denser ones cut the primary off
// from both backups until 863 ms) and one backup ack is enough (Acks=1:
// with both, seed 1035 kept a backup cut off until the last crash).
func syncPrimaryCrash(t *testing.T, plant func(*Config)) scenarios.Spec {
	pb := syncConfig()
	pb.Acks = 1
	plant(&pb)
	return scenarios.Spec{
		Name:        "pb-sync-primary-crash",
		Description: "synchronous replication to one of two backups, the primary crashing twice losing unsynced data, with partitions: linearizable, nothing acknowledged lost",
		Base:        base(pb, 200),
		Faults:      sparse(partitions(t, primaryCrashes)),
		Expect: expect(lin, scenarios.AlwaysValid, lost, scenarios.AlwaysValid, dur, scenarios.AlwaysValid,
			conv, scenarios.AlwaysValid),
		Seeds: 4,
	}
}

func TestSyncBackupFaults(t *testing.T) {
	scenarios.Run(t, syncBackupFaults(t, noBug))
	scenarios.Run(t, syncBackupFaults(t, func(c *Config) { c.Acks = 1 }))
}

func TestSyncPrimaryCrash(t *testing.T) { scenarios.Run(t, syncPrimaryCrash(t, noBug)) }

// TestAsyncPrimaryCrash: in Async mode the primary acknowledges unsynced
// writes (it syncs every second); its crash drops them, and after the
// restart it serves its older durable state, so acknowledged writes are
// lost (lost-writes, durability) and reads that saw them are contradicted
// (not linearizable). The restarted primary's full-state transfer still
// makes every backup converge to what it holds.
func TestAsyncPrimaryCrash(t *testing.T) {
	scenarios.Run(t, scenarios.Spec{
		Name:        "pb-async-primary-crash",
		Description: "asynchronous replication, the primary crashing twice losing unsynced data: acknowledged writes lost, not linearizable, yet converged",
		Base:        base(asyncConfig(), 200),
		Faults:      sparse(partitions(t, primaryCrashes)),
		Expect: expect(lin, scenarios.FoundInvalid, lost, scenarios.FoundInvalid, dur, scenarios.FoundInvalid,
			conv, scenarios.AlwaysValid),
		Seeds: 4,
	})
}

// TestBackupReads: backups serving reads from their own copies return old
// values after the primary acknowledged (and served) newer ones, above all
// while partitioned from it: not linearizable. Nothing acknowledged is
// lost (the primary never crashes), and the backups converge after the
// heal, when the final reads see the primary's state everywhere.
func TestBackupReads(t *testing.T) {
	pb := asyncConfig()
	pb.ReadFromBackups = true
	scenarios.Run(t, scenarios.Spec{
		Name:        "pb-backup-reads",
		Description: "asynchronous replication with reads served by backups, under partitions: stale reads, not linearizable, nothing lost",
		Base:        base(pb, 5),
		Faults:      partitions(t, ""),
		Expect:      expect(lin, scenarios.FoundInvalid, lost, scenarios.AlwaysValid, conv, scenarios.AlwaysValid),
		Seeds:       4,
	})
}

// TestPlantedBugsAreCaught plants a bug in the store and runs against it
// a scenario that passes on the correct store: the scenario must fail
// (its verdict flips on at least one seed), and a variant expecting the
// violation must find it.
//
//   - ack-early in pb-sync-primary-crash: the Sync primary acknowledges
//     right after its local write, before syncing and before the backups
//     ack; the primary's crash drops acknowledged writes (lost-writes,
//     durability).
//   - assume-delivered in pb-sync-backup-faults: the primary counts a
//     Replicate as acknowledged when it sends it, so what a partition
//     dropped is never resent; n2, cut off for the end of the workload,
//     keeps old values for ever (convergence). No client sees it: reads are
//     served by the primary, so convergence is the only witness.
func TestPlantedBugsAreCaught(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    func(*testing.T, func(*Config)) scenarios.Spec
		plant   func(*Config)
		checker []string
	}{
		{"ack-early", syncPrimaryCrash, func(c *Config) { c.bugAckEarly = true }, []string{lost, dur}},
		{"assume-delivered", syncBackupFaults, func(c *Config) { c.bugAssumeDelivered = true }, []string{conv}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec(t, tc.plant)

			failed := 0
			for seed := uint64(1); seed <= uint64(spec.Seeds); seed++ {
				o, err := scenarios.RunSeed(spec, seed, scenarios.RunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s seed %d with the bug: %s: %s (%d lost, %d divergent)", spec.Name, seed, o.Class, o.VerdictSummary(), o.Lost, o.Divergent)
				if o.Class == scenarios.ClassCorrectness {
					failed++
				}
			}
			if failed == 0 {
				t.Fatalf("the planted bug went unnoticed over %d seeds: %s cannot fail", spec.Seeds, spec.Name)
			}

			spec.Name += "-bug-" + tc.name
			spec.Expect = map[string]scenarios.Expectation{}
			for _, c := range tc.checker {
				spec.Expect[c] = scenarios.FoundInvalid
			}
			scenarios.Run(t, spec)
		})
	}
}

// TestDeterministic runs one seed twice: the same trace hash and verdicts.
func TestDeterministic(t *testing.T) {
	spec := syncPrimaryCrash(t, noBug)
	a, err := scenarios.RunSeed(spec, 7, scenarios.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := scenarios.RunSeed(spec, 7, scenarios.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.TraceHash != b.TraceHash || a.VerdictSummary() != b.VerdictSummary() || a.Events != b.Events {
		t.Fatalf("seed 7 twice: trace %x vs %x, %s vs %s", a.TraceHash, b.TraceHash, a.VerdictSummary(), b.VerdictSummary())
	}
	c, err := scenarios.RunSeed(spec, 8, scenarios.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.TraceHash == a.TraceHash {
		t.Fatalf("seeds 7 and 8 have the same trace hash %x", a.TraceHash)
	}
	t.Logf("seed 7: trace %x (%d events, %s); seed 8: trace %x", a.TraceHash, a.Events, a.VerdictSummary(), c.TraceHash)
}
