package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/scenarios"
)

// BenchmarkScenario measures whole runs, checking included: seeds/s and
// how much faster than real time the simulation runs.
func BenchmarkScenario(b *testing.B) {
	cases := []struct {
		name string
		cfg  func(seed uint64) scenarios.Config
	}{
		{"register/nodes=5,ops=2000,partition+crash", func(seed uint64) scenarios.Config {
			cfg := scenarios.DefaultConfig()
			cfg.WorkloadConfig.Ops = 2000
			return withFaults(b, cfg, seed, "partition,crash", 2*time.Second)
		}},
		// The same with a settle phase ten times as long: nodes idle
		// through 10 s instead of 1 s, which should cost almost nothing
		// (the loop skips idle ticks), so sim/wall rises while seeds/s
		// barely moves.
		{"register/nodes=5,ops=2000,settle=10s,partition+crash", func(seed uint64) scenarios.Config {
			cfg := scenarios.DefaultConfig()
			cfg.WorkloadConfig.Ops = 2000
			cfg.SettleTime = 10 * time.Second
			return withFaults(b, cfg, seed, "partition,crash", 2*time.Second)
		}},
		{"register/nodes=5,ops=2000,no-faults", func(seed uint64) scenarios.Config {
			cfg := scenarios.DefaultConfig()
			cfg.WorkloadConfig.Ops = 2000
			return cfg
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var simTime time.Duration
			var msgs, bytes uint64
			for i := 0; i < b.N; i++ {
				seed := uint64(i + 1)
				cfg := tc.cfg(seed)
				c, err := cluster.New(cfg.Cluster(), seed)
				require.NoError(b, err)
				r, err := c.Run()
				require.NoError(b, err)
				_, err = cluster.Judge(r, scenarios.JudgeOptionsFor(cfg))
				require.NoError(b, err)
				simTime += r.Stats.SimTime
				msgs += r.Stats.Net.Sent
				bytes += r.Stats.Net.BytesSent
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
			b.ReportMetric(simTime.Seconds()/b.Elapsed().Seconds(), "sim/wall")
			b.ReportMetric(float64(msgs)/float64(b.N), "msgs/seed")
			b.ReportMetric(float64(bytes)/float64(b.N), "msg-B/seed")
		})
	}
}

// BenchmarkStandardSplit runs the standard seed (5 nodes, N=3 W=2 R=2,
// 2000-op register workload, partitions and crashes) and times the
// simulation, the whole judge and the linearizability check alone
// separately: run-ns, judge-ns and linear-ns per seed, and linear-% (the
// linearizability check's share of run plus judge).
func BenchmarkStandardSplit(b *testing.B) {
	var runNs, judgeNs, linNs int64
	seeds := 0
	for b.Loop() {
		seeds++
		seed := uint64(seeds)
		cfg := scenarios.DefaultConfig()
		cfg.WorkloadConfig.Ops = 2000
		cfg = withFaults(b, cfg, seed, "partition,crash", 2*time.Second)
		t0 := time.Now()
		c, err := cluster.New(cfg.Cluster(), seed)
		require.NoError(b, err)
		r, err := c.Run()
		require.NoError(b, err)
		t1 := time.Now()
		_, err = cluster.Judge(r, scenarios.JudgeOptionsFor(cfg))
		require.NoError(b, err)
		t2 := time.Now()
		_, err = checker.Linearizable(r.Ops, checker.LinearOptions{})
		require.NoError(b, err)
		t3 := time.Now()
		runNs += t1.Sub(t0).Nanoseconds()
		judgeNs += t2.Sub(t1).Nanoseconds()
		linNs += t3.Sub(t2).Nanoseconds()
	}
	n := float64(seeds)
	b.ReportMetric(float64(runNs)/n, "run-ns/seed")
	b.ReportMetric(float64(judgeNs)/n, "judge-ns/seed")
	b.ReportMetric(float64(linNs)/n, "linear-ns/seed")
	b.ReportMetric(100*float64(linNs)/float64(runNs+judgeNs), "linear-%")
}
