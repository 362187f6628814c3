package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/kv"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport"
	"github.com/faultline-sim/faultline/workloads"
)

type phase uint8

const (
	phaseWorkload phase = iota
	phaseSettle
	phaseFinal
	phaseDone
)

// nodeState is one node slot: its store survives crashes, its kv.Node does not.
type nodeState struct {
	id       sim.NodeID
	node     *kv.Node // nil while crashed or not a member
	store    *kv.MemStore
	member   bool
	leaving  bool     // left the ring, still streaming its ranges until LeaveDone
	departed bool     // left the cluster at least once
	retired  kv.Stats // counters of this slot's earlier incarnations
	crashed  bool
	paused   bool
	inbox    []func() // inputs that arrived while paused, run at resume
	clock    wallClock
}

// wallClock is a node's wall clock: true time + offset, plus drift since
// anchor. Monotonic timers (ticks) are not affected.
type wallClock struct {
	offset time.Duration
	ppm    int64
	anchor sim.Time
}

func (w wallClock) at(t sim.Time) int64 {
	return int64(t) + int64(w.offset) + int64(t-w.anchor)*w.ppm/1_000_000
}

// currentOffset is the total offset at t (fixed part plus accumulated drift).
func (w wallClock) currentOffset(t sim.Time) time.Duration {
	return time.Duration(w.at(t) - int64(t))
}

// client is one closed-loop client.
type client struct {
	id      int
	node    sim.NodeID
	op      *workloads.Op
	reqID   uint64 // the request awaiting a reply, 0 if none
	done    bool
	final   bool
	key     string // final reads: the key
	tries   int    // final reads: attempts so far
	invoked sim.Time
	backoff bool // the last request was refused: wait ReconnectDelay
}

// Cluster is one simulated run. Build it with New, run it once with Run.
type Cluster struct {
	cfg   Config
	seed  uint64
	loop  *sim.Loop
	rng   *sim.RNG
	net   *transport.Network[kv.Message]
	ring  *ring.Ring
	nodes []*nodeState
	wl    workloads.Workload
	rec   history.Recorder

	phase        phase
	clients      []*client
	clientsDone  int
	reqSeq       uint64
	reqClient    map[uint64]int   // request id -> client index (lookups only)
	finalNext    map[int][]string // final reader id -> keys left (lookups only)
	finalPending int
	crashes      []sim.Time
	targetErrs   []string
	snapshot     []kv.Snapshot
	settleAt     sim.Time // when the settle phase began; sim.Never until it does
	failure      error
	latencies    []time.Duration
	ran          bool
	tracer       func(TraceLine)
}

// New builds the cluster for seed without running it.
func New(cfg Config, seed uint64) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loop, err := sim.NewLoop(cfg.Limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	root := sim.NewRNG(seed)
	c := &Cluster{cfg: cfg, seed: seed, loop: loop, rng: root, reqClient: map[uint64]int{}, finalNext: map[int][]string{}, settleAt: sim.Never}
	all := append(cfg.members(), cfg.spares()...)
	c.net, err = transport.New[kv.Message](loop, root.Fork("net"),
		transport.Config{IDs: all, Link: cfg.Link}, c.deliver)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	members := make([]ring.Member, cfg.Nodes)
	for i := range members {
		members[i] = ring.Member{ID: sim.NodeID(i), Weight: 1}
	}
	c.ring, err = ring.New(ring.Config{Seed: seed, VNodes: cfg.VNodes, Shards: cfg.Shards}, members...)
	if err != nil {
		return nil, fmt.Errorf("%w: ring: %w", ErrBadConfig, err)
	}
	for _, id := range all {
		ns := &nodeState{id: id, store: kv.NewMemStore()}
		c.nodes = append(c.nodes, ns)
		if int(id) < cfg.Nodes {
			ns.member = true
			if err := c.startNode(ns); err != nil {
				return nil, err
			}
		} else if err := c.net.SetDown(id, true); err != nil {
			return nil, err
		}
	}
	c.wl, err = workloads.New(cfg.Workload, cfg.WorkloadConfig, root.Fork("workload"))
	if err != nil {
		return nil, fmt.Errorf("%w: workload: %w", ErrBadConfig, err)
	}
	return c, nil
}

// stopNode takes a node's process away (crash or completed leave), keeping
// its counters for the run's stats.
func (c *Cluster) stopNode(ns *nodeState) {
	if ns.node != nil {
		addStats(&ns.retired, ns.node.Stats())
	}
	ns.node, ns.leaving, ns.paused, ns.inbox = nil, false, false, nil
	_ = c.net.SetDown(ns.id, true)
}

func (c *Cluster) startNode(ns *nodeState) error {
	return c.startNodeWith(ns, c.ring)
}

func (c *Cluster) startNodeWith(ns *nodeState, r *ring.Ring) error {
	n, err := kv.NewNode(ns.id, c.cfg.KV, r, ns.store,
		func() int64 { return ns.clock.at(c.loop.Now()) }, c.rng.Fork("node/"+ns.id.String()))
	if err != nil {
		return fmt.Errorf("cluster: start %v: %w", ns.id, err)
	}
	ns.node = n
	return nil
}

// Loop returns the run's event loop (for tracing and tests).
func (c *Cluster) Loop() *sim.Loop { return c.loop }

// Run executes the whole run: workload with faults, settle, final reads.
// The returned Result is complete even when err is non-nil; err is a
// *LivenessError when the run could not finish within its limits.
func (c *Cluster) Run() (*Result, error) {
	if c.ran {
		return nil, errors.New("cluster: Run called twice; build a new Cluster for another run")
	}
	c.ran = true
	if err := c.cfg.Nemesis.Install(c.loop, c, func(f nemesisFault, err error) {
		c.targetErrs = append(c.targetErrs, fmt.Sprintf("%v %s: %v", f.At, f.Label(), err))
	}); err != nil {
		return nil, err
	}
	c.loop.At(0, c.tick)
	for i := 0; i < c.wl.Clients(); i++ {
		cl := &client{id: i, node: sim.NodeID(i % c.cfg.Nodes)}
		c.clients = append(c.clients, cl)
		c.loop.At(0, func() { c.nextOp(cl) })
	}
	err := c.loop.Run()
	var le *sim.LimitError
	switch {
	case errors.As(err, &le):
		c.fail(&LivenessError{Seed: c.seed, Phase: c.phaseName(), Reason: le.Error()})
	case err != nil:
		c.fail(err)
	case c.phase != phaseDone:
		c.fail(&LivenessError{Seed: c.seed, Phase: c.phaseName(), Reason: "the event queue ran dry before the run finished"})
	}
	return c.result(), c.failure
}

func (c *Cluster) fail(err error) {
	if c.failure == nil {
		c.failure = err
	}
	c.phase = phaseDone
	c.loop.Stop()
}

func (c *Cluster) phaseName() string {
	return [...]string{"workload", "settle", "final-reads", "done"}[c.phase]
}

// tick advances every running member's timers by one tick, in id order.
func (c *Cluster) tick() {
	if c.phase == phaseDone {
		return
	}
	for _, ns := range c.nodes {
		if ns.node != nil && !ns.paused {
			ns.node.Tick()
			c.drain(ns)
			if ns.leaving && ns.node != nil && ns.node.LeaveDone() {
				c.trace(ns.id, "leave done: ranges handed off, node stops")
				c.stopNode(ns)
			}
		}
	}
	c.loop.After(c.cfg.Tick, c.tick)
}

// deliver hands a network message to its node (or its inbox if paused).
func (c *Cluster) deliver(from, to sim.NodeID, m kv.Message) {
	ns := c.nodes[to]
	if ns.paused {
		held := m // only a held message is captured (and heap-allocated)
		ns.inbox = append(ns.inbox, func() { c.step(ns, from, to, held) })
		return
	}
	c.step(ns, from, to, m)
}

// step runs one network message through a running node.
func (c *Cluster) step(ns *nodeState, from, to sim.NodeID, m kv.Message) {
	if ns.node == nil {
		return
	}
	c.traceMsg(from, to, m)
	ns.node.Step(from, m)
	c.drain(ns)
}

// drain sends what a node produced and routes its client replies.
func (c *Cluster) drain(ns *nodeState) {
	if ns.node == nil || !ns.node.HasReady() {
		return
	}
	rd := ns.node.Ready()
	for _, e := range rd.Messages {
		if err := c.net.Send(ns.id, e.To, e.Msg); err != nil {
			c.fail(fmt.Errorf("cluster: %v cannot send to %v: %w", ns.id, e.To, err))
			return
		}
	}
	for _, r := range rd.Replies {
		r := r
		c.loop.After(c.cfg.ClientLatency, func() { c.reply(r.ID, toResponse(r)) })
	}
}

func toResponse(r kv.Reply) workloads.Response {
	resp := workloads.Response{Values: r.Values, Context: r.Context, Err: r.Err}
	switch r.Status {
	case kv.OK:
		resp.Status = workloads.OK
	case kv.Fail:
		resp.Status = workloads.Fail
	default:
		resp.Status = workloads.Unknown
	}
	return resp
}
