package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
		{"register/nodes=5,ops=2000,no-faults", func(seed uint64) scenarios.Config {
			cfg := scenarios.DefaultConfig()
			cfg.WorkloadConfig.Ops = 2000
			return cfg
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var simTime time.Duration
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
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
			b.ReportMetric(simTime.Seconds()/b.Elapsed().Seconds(), "sim/wall")
		})
	}
}
