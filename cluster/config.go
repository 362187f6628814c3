package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport"
	"github.com/faultline-sim/faultline/workloads"
)

// Config is everything a run depends on besides its seed. Build one from
// DefaultConfig and change what you need; Validate says what cannot work.
type Config struct {
	// Nodes is the number of initial members, with ids 0..Nodes-1.
	Nodes int
	// Spares is the number of extra node ids (Nodes..Nodes+Spares-1) that a
	// nemesis may Join.
	Spares int
	// Node starts the system under test's nodes (required), e.g.
	// kv.NewFactory(kv.DefaultConfig()) for the built-in Dynamo store.
	Node node.Factory
	// Placement, if set, names each key's home replicas in a view, so the
	// convergence checker compares exactly those (kv.Placement for kv);
	// nil means every member holds every key.
	Placement func(seed uint64, v node.View) (func(key string) ([]sim.NodeID, error), error)
	// MinMembers is the fewest members a graceful leave may leave behind
	// (e.g. the replication factor); a leave below it is refused. 0 means 1.
	MinMembers int
	// Link is every network link's configuration (latency, loss, ...).
	Link transport.LinkConfig
	// Tick is the virtual time between two node ticks; kv timeouts count
	// ticks.
	Tick time.Duration
	// Workload names the workload: register, set or kv.
	Workload string
	// WorkloadConfig sizes the workload (clients, keys, ratios, ops).
	WorkloadConfig workloads.Config
	// ClockResolution, when > 0, is the step of every node's wall clock (a
	// coarse clock, e.g. 1 ms): writes that land in the same step carry
	// equal timestamps, so last-write-wins needs its tie-break.
	ClockResolution time.Duration
	// TimeLimit, when > 0, bounds the workload in virtual time as well as by
	// its op count (Jepsen's time limit): no client invokes an operation at
	// or after it, so faults drawn over [0, TimeLimit] meet a busy cluster.
	TimeLimit time.Duration
	// ClientLatency is the one-way delay between a client and the node it
	// talks to; client connections are not affected by network partitions
	// (as with Jepsen clients co-located with their node).
	ClientLatency time.Duration
	// ClientTimeout is how long a client waits for a reply before it gives
	// up; an abandoned write's outcome is unknown (info).
	ClientTimeout time.Duration
	// ReconnectDelay is how long a client whose node refused a connection
	// (the node is down) waits before its next operation, so a dead node
	// does not burn the operation budget in a tight fail loop.
	ReconnectDelay time.Duration
	// FailBackoff is how long a client whose last operation failed (it
	// took effect nowhere, e.g. too few replicas reachable) waits before its
	// next one, so an unavailable cluster does not burn the operation budget
	// in a fast fail loop.
	FailBackoff time.Duration
	// Nemesis is the fault schedule (plain data; may be empty).
	Nemesis nemesis.Schedule
	// SettleTime is how long the healed cluster runs at least before the
	// final reads; nodes that implement node.Settler then get until
	// SettleLimit to report quiescence.
	SettleTime time.Duration
	// SettleLimit bounds the settle phase: a cluster not quiescent by then
	// is a liveness failure. 0 means max(10×SettleTime, 10 s).
	SettleLimit time.Duration
	// LivenessCore selects TigerBeetle's liveness mode: the settle phase
	// heals only a core, the lowest-id majority of the members, and leaves
	// every fault of the other members in place (crashed, paused, cut off,
	// lossy, skewed); the core must then quiesce, its replicas converge and
	// it must answer every final read with the store's own quorums.
	LivenessCore bool
	// FinalReadAttempts is how many times a final read is tried before the
	// run is declared a liveness failure.
	FinalReadAttempts int
	// Limits bound the whole run (events and virtual time).
	Limits sim.Limits
}

// DefaultConfig returns a 5-node cluster with 1 ms ticks, 0.5–5 ms links and
// a register workload of 10 clients and 500 operations, without faults.
// Set Node (and, for a replicated store, Placement and MinMembers) before
// running it.
func DefaultConfig() Config {
	lat, _ := sim.Exponential(500*time.Microsecond, 2*time.Millisecond)
	think, _ := sim.Uniform(0, 2*time.Millisecond)
	return Config{
		Nodes:    5,
		Link:     transport.LinkConfig{Latency: lat, Capacity: transport.DefaultCapacity},
		Tick:     time.Millisecond,
		Workload: "register",
		WorkloadConfig: workloads.Config{
			Clients: 10, Keys: 5, ReadRatio: 0.5, Ops: 500, Think: think,
		},
		ClientLatency:     100 * time.Microsecond,
		ClientTimeout:     200 * time.Millisecond,
		ReconnectDelay:    50 * time.Millisecond,
		FailBackoff:       10 * time.Millisecond,
		SettleTime:        2 * time.Second,
		FinalReadAttempts: 10,
		Limits:            sim.Limits{MaxEvents: 20_000_000, Horizon: sim.Time(30 * time.Minute)},
	}
}

// ErrBadConfig is wrapped by every Validate error.
var ErrBadConfig = errors.New("cluster: bad config")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...)
}

// Validate reports the first problem that keeps c from running, saying what
// to change.
func (c Config) Validate() error {
	if c.Nodes < 1 {
		return bad("Nodes is %d: a cluster needs at least 1 node", c.Nodes)
	}
	if c.Spares < 0 {
		return bad("Spares is %d: must be >= 0", c.Spares)
	}
	if c.Nodes+c.Spares > transport.MaxNodes {
		return bad("Nodes+Spares is %d: at most %d", c.Nodes+c.Spares, transport.MaxNodes)
	}
	if c.Node == nil {
		return bad("Node is nil: set the factory of the nodes under test, e.g. kv.NewFactory(kv.DefaultConfig())")
	}
	if c.MinMembers < 0 || c.MinMembers > c.Nodes {
		return bad("MinMembers is %d: must be between 0 and Nodes (%d)", c.MinMembers, c.Nodes)
	}
	if err := c.Link.Validate(); err != nil {
		return fmt.Errorf("%w: link: %w", ErrBadConfig, err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		zero bool
	}{
		{"Tick", c.Tick, false}, {"ClientTimeout", c.ClientTimeout, false},
		{"ClientLatency", c.ClientLatency, true}, {"SettleTime", c.SettleTime, true},
		{"ReconnectDelay", c.ReconnectDelay, true}, {"SettleLimit", c.SettleLimit, true},
		{"TimeLimit", c.TimeLimit, true}, {"FailBackoff", c.FailBackoff, true},
		{"ClockResolution", c.ClockResolution, true},
	} {
		if d.v < 0 || (!d.zero && d.v == 0) {
			want := "> 0"
			if d.zero {
				want = ">= 0"
			}
			return bad("%s is %v: must be %s", d.name, d.v, want)
		}
	}
	if c.FinalReadAttempts < 1 {
		return bad("FinalReadAttempts is %d: must be >= 1", c.FinalReadAttempts)
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if c.WorkloadConfig.Clients < 1 {
		return bad("WorkloadConfig.Clients is %d: a run needs at least 1 client", c.WorkloadConfig.Clients)
	}
	if _, err := workloads.New(c.Workload, c.WorkloadConfig, sim.NewRNG(0)); err != nil {
		return fmt.Errorf("%w: workload: %w", ErrBadConfig, err)
	}
	if err := c.Nemesis.ValidateFor(c.members(), c.spares()); err != nil {
		return fmt.Errorf("%w: nemesis: %w", ErrBadConfig, err)
	}
	return nil
}

func (c Config) members() []sim.NodeID {
	ids := make([]sim.NodeID, c.Nodes)
	for i := range ids {
		ids[i] = sim.NodeID(i)
	}
	return ids
}

func (c Config) spares() []sim.NodeID {
	ids := make([]sim.NodeID, c.Spares)
	for i := range ids {
		ids[i] = sim.NodeID(c.Nodes + i)
	}
	return ids
}
