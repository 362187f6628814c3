package scenarios

import (
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/kv"
)

// Config is what a scenario runs: the simulator's configuration and, for
// the built-in kv store, its policy. When Config.Node (the embedded
// cluster.Config's factory) is nil the nodes are kv nodes configured by
// KV; set Node to test your own store, and KV is ignored.
type Config struct {
	cluster.Config
	// KV is the built-in kv nodes' policy: N/W/R, quorum, conflict
	// resolution, read repair, hinted handoff, syncing, the ring's shape.
	KV kv.Config
}

// DefaultConfig returns cluster.DefaultConfig with kv's defaults: a 5-node
// N=3 W=2 R=2 strict-quorum cluster with blocking read repair, 16 vnodes,
// and a register workload of 10 clients and 500 operations, without faults.
func DefaultConfig() Config {
	return Config{Config: cluster.DefaultConfig(), KV: kv.DefaultConfig()}
}

// BuiltIn reports whether the nodes are the built-in kv store.
func (c Config) BuiltIn() bool { return c.Node == nil }

// Cluster returns the simulator's configuration: with the built-in store,
// kv's factory and placement, and graceful leaves bounded by N.
func (c Config) Cluster() cluster.Config {
	cc := c.Config
	if cc.Node == nil {
		cc.Node = kv.NewFactory(c.KV)
		cc.Placement = kv.Placement(c.KV)
		if cc.MinMembers == 0 {
			cc.MinMembers = min(max(c.KV.N, 1), c.Nodes)
		}
		if cc.SettleLimit == 0 {
			cc.SettleLimit = c.kvSettleLimit()
		}
	}
	return cc
}

// kvSettleLimit derives how long kv nodes may take to quiesce after the
// heal: twice a worst-case anti-entropy sweep (every range a node
// replicates compared with each other replica, one exchange per jittered
// interval of at most 1.5 intervals), plus 10 s for hints and handoffs.
func (c Config) kvSettleLimit() time.Duration {
	limit := c.SettleTime + 10*time.Second
	if iv := c.KV.AntiEntropyIntervalTicks; iv > 0 {
		ranges := c.KV.N * c.KV.VNodes
		if c.KV.Shards > 0 {
			ranges = max(1, c.KV.N*c.KV.Shards/max(c.Nodes, 1))
		}
		sweep := time.Duration(ranges*max(c.KV.N-1, 1)) * time.Duration(iv) * c.Tick * 3 / 2
		limit += 2 * sweep
	}
	return limit
}

// Validate reports the first problem that keeps c from running, saying
// what to change.
func (c Config) Validate() error {
	if c.BuiltIn() {
		if err := c.KV.Validate(c.Nodes); err != nil {
			return fmt.Errorf("%w: %w", cluster.ErrBadConfig, err)
		}
		if err := c.KV.ValidateRing(); err != nil {
			return fmt.Errorf("%w: %w", cluster.ErrBadConfig, err)
		}
	}
	return c.Cluster().Validate()
}

// minMembers is the fewest members churn may leave.
func (c Config) minMembers() int {
	if cc := c.Cluster(); cc.MinMembers > 0 {
		return cc.MinMembers
	}
	return 1
}

// JudgeOptionsFor returns the standard checkers that apply to cfg:
// linearizability unless the workload is a set or the store keeps
// siblings (vector clocks), causal rules for lost writes and the siblings
// checker under vector clocks. Your own store is judged like kv under LWW
// unless the spec's Judge says otherwise.
func JudgeOptionsFor(cfg Config) cluster.JudgeOptions {
	causal := cfg.BuiltIn() && cfg.KV.Resolve == kv.VectorClock
	return cluster.JudgeOptions{
		Linearizable:  cfg.Workload != "set" && !causal,
		LinearTimeout: 10 * time.Minute, // a safety net: the budget is the search's steps
		Causal:        causal,
	}
}
