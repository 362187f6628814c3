package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/internal/chunk"
	"github.com/faultline-sim/faultline/internal/idtable"
	"github.com/faultline-sim/faultline/node"
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

// nodeState is one node slot: its disk survives crashes, its node does not.
type nodeState struct {
	id       sim.NodeID
	node     node.Node // nil while crashed or not a member
	disk     *node.MemDisk
	member   bool
	leaving  bool // left the ring, still streaming its ranges until LeaveDone
	departed bool // left the cluster at least once
	crashed  bool
	paused   bool
	inbox    []func() // inputs that arrived while paused, run at resume
	clock    wallClock

	// The optional interfaces the running node implements (nil if not).
	membership node.Member
	snapshots  node.Snapshotter
	counted    node.Counted
	describer  node.Describer
	settler    node.Settler
	sleeper    node.Sleeper

	// Spared ticks (node.Sleeper): while idle > 0 (and fresh), a tick
	// only counts one more owed tick, handed over with SkipTicks before
	// the next call into the node (wake).
	idle  int64 // ticks left that the node said have nothing to do
	owed  int64 // ticks spared and not yet handed over
	fresh bool  // idle is the node's answer since its last call
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
	id         int
	node       sim.NodeID
	op         *workloads.Op
	reqID      uint64 // the request awaiting a reply, 0 if none
	done       bool
	final      bool
	key        string // final reads: the key
	tries      int    // final reads: attempts so far
	invoked    sim.Time
	invokedIdx int  // the history index of the op's invocation
	backoff    bool // the last request was refused: wait ReconnectDelay
	failed     bool // the last operation failed: wait FailBackoff

	next      *workloads.Op // the op to invoke after its think time
	arrivals  fifo[arrival] // requests on their way to the node, oldest first
	refusals  fifo[arrival] // requests a down node refused, oldest first
	timeouts  fifo[timeout] // requests whose timeouts are pending, oldest first; the first's is queued
	invokeFn  func()        // the client's events, made once (newClient)
	arriveFn  func()
	refuseFn  func()
	timeoutFn func()
}

// Cluster is one simulated run. Build it with New, run it once with Run.
type Cluster struct {
	tickFn   func() // c.tick, made once
	replyFn  func() // c.deliverReply, made once
	replies  fifo[pendingReply]
	replyMem replyArena // what the replies' copies are carved from
	cfg      Config
	seed     uint64
	loop     *sim.Loop
	rng      *sim.RNG
	net      *transport.Network[[]byte]
	view     node.View
	nodes    []*nodeState
	wl       workloads.Workload
	rec      history.Recorder

	phase        phase
	clients      []*client
	clientsDone  int
	reqSeq       uint64
	reqClient    idtable.Table[int]        // request id -> client index, until answered
	submitted    idtable.Table[sim.NodeID] // request id -> the node it was submitted to, until it replies
	finalNext    map[int][]string          // final reader id -> keys left (lookups only)
	finalPending int
	crashes      []sim.Time
	unsyncedLost uint64 // disk writes crashes dropped
	targetErrs   []string
	snapshot     []node.Snapshot
	retired      map[string]uint64 // counters of stopped node incarnations (looked up, sorted on output)
	settleAt     sim.Time          // when the settle phase began; sim.Never until it does
	core         []sim.NodeID      // liveness mode: the members the settle phase heals
	quiescentAt  sim.Time          // when every node was quiescent; sim.Never until then
	failure      error
	latencies    []time.Duration
	ran          bool
	tickAll      bool // call Tick every tick, ignoring node.Sleeper (tests)
	tracer       func(TraceLine)
	// Tracing only: which client operation (its invocation's history
	// index) each node-level operation and request belongs to, and the
	// operation whose input a node is handling now (-1: none).
	opOf        map[opRef]int
	reqOp       map[uint64]int
	current     int
	currentKeys []string
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
	c := &Cluster{cfg: cfg, seed: seed, loop: loop, rng: root, reqClient: idtable.New[int](),
		submitted: idtable.New[sim.NodeID](), finalNext: map[int][]string{}, settleAt: sim.Never, quiescentAt: sim.Never, retired: map[string]uint64{}}
	all := append(cfg.members(), cfg.spares()...)
	c.net, err = transport.NewRaw(loop, root.Fork("net"),
		transport.Config{IDs: all, Link: cfg.Link}, c.deliver)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	c.view = node.View{Initial: cfg.members()}
	for _, id := range all {
		ns := &nodeState{id: id, disk: node.NewMemDisk()}
		c.nodes = append(c.nodes, ns)
		if int(id) < cfg.Nodes {
			ns.member = true
			if err := c.startNode(ns, c.view); err != nil {
				// A node that cannot start at time 0 is a configuration
				// the system under test refuses.
				return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
			}
		} else if err := c.net.SetDown(id, true); err != nil {
			return nil, err
		}
	}
	c.wl, err = workloads.New(cfg.Workload, cfg.WorkloadConfig, root.Fork("workload"))
	if err != nil {
		return nil, fmt.Errorf("%w: workload: %w", ErrBadConfig, err)
	}
	if wc := cfg.WorkloadConfig; cfg.TimeLimit == 0 && wc.Ops > 0 {
		// Only the op count ends the workload: the history will hold about
		// that many operations (plus a final read or so per key), so
		// reserve them at once rather than grow and join chunks.
		c.rec.Reserve(wc.Ops + 2*wc.Keys)
	}
	return c, nil
}

// stopNode takes a node's process away (crash or completed leave), keeping
// its counters for the run's stats. It first hands the node the ticks it
// was spared (they count, and may sync its disk).
func (c *Cluster) stopNode(ns *nodeState) {
	if ns.node != nil {
		c.wake(ns)
		c.retire(ns)
	}
	ns.node, ns.leaving, ns.paused, ns.inbox = nil, false, false, nil
	ns.membership, ns.snapshots, ns.counted, ns.describer, ns.settler, ns.sleeper = nil, nil, nil, nil, nil, nil
	ns.idle, ns.owed, ns.fresh = 0, 0, false
	_ = c.net.SetDown(ns.id, true)
}

// retire adds a stopping node's counters to the run's.
func (c *Cluster) retire(ns *nodeState) {
	if ns.counted == nil {
		return
	}
	var counters []node.Counter
	if !c.guard(ns, "Counters", func() error { counters = ns.counted.Counters(); return nil }) {
		return
	}
	for _, k := range counters {
		c.retired[k.Name] += k.Value
	}
}

// wallTime is what ns's wall clock shows now, in steps of
// Config.ClockResolution when set.
func (c *Cluster) wallTime(ns *nodeState) int64 {
	t := ns.clock.at(c.loop.Now())
	if r := int64(c.cfg.ClockResolution); r > 1 {
		t -= ((t % r) + r) % r // floor, also for negative times
	}
	return t
}

// startNode starts ns's node from its disk with the given view.
func (c *Cluster) startNode(ns *nodeState, v node.View) error {
	env := node.Env{
		ID: ns.id, Seed: c.seed, View: v, Disk: ns.disk,
		WallClock: func() int64 { return c.wallTime(ns) },
		Rand:      c.rng.Fork("node/" + ns.id.String()),
	}
	var n node.Node
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = c.nodeError(ns, "start", fmt.Errorf("the factory panicked: %v", r), true)
			}
		}()
		n, err = c.cfg.Node(env)
	}()
	switch {
	case err != nil:
		var ne *NodeError
		if errors.As(err, &ne) {
			return err
		}
		return c.nodeError(ns, "start", fmt.Errorf("the factory failed: %w", err), false)
	case n == nil:
		return c.nodeError(ns, "start", errors.New("the factory returned a nil node and no error"), false)
	}
	ns.node = n
	ns.membership, _ = n.(node.Member)
	ns.snapshots, _ = n.(node.Snapshotter)
	ns.counted, _ = n.(node.Counted)
	ns.describer, _ = n.(node.Describer)
	ns.settler, _ = n.(node.Settler)
	ns.sleeper, _ = n.(node.Sleeper)
	ns.idle, ns.owed, ns.fresh = 0, 0, false
	if c.tracer != nil {
		c.traceNode(ns)
	}
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
	c.tickFn = c.tick // one method value for every tick (no allocation per tick)
	c.replyFn = c.deliverReply
	c.replyMem = newReplyArena()
	c.loop.At(0, c.tickFn)
	for i := 0; i < c.wl.Clients(); i++ {
		cl := c.newClient(i, sim.NodeID(i%c.cfg.Nodes), false)
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
// A node that said its next ticks have nothing to do (node.Sleeper) is
// spared them: they are owed, and handed over before its next call.
func (c *Cluster) tick() {
	if c.phase == phaseDone {
		return
	}
	for _, ns := range c.nodes {
		if ns.node != nil && !ns.paused {
			if !c.spare(ns) {
				c.tickNode(ns)
			}
			if c.phase == phaseDone {
				return
			}
		}
	}
	c.loop.After(c.cfg.Tick, c.tickFn)
}

// spare reports whether ns is spared this tick, which it then owes. A
// leaving node is never spared: the simulator checks LeaveDone after
// each of its ticks.
func (c *Cluster) spare(ns *nodeState) bool {
	if ns.sleeper == nil || ns.leaving || c.tickAll {
		return false
	}
	if !ns.fresh {
		c.askIdle(ns)
		if c.phase == phaseDone {
			return true
		}
	}
	if ns.idle == 0 {
		return false
	}
	ns.idle--
	ns.owed++
	return true
}

// askIdle asks a node how many of its next ticks have nothing to do.
func (c *Cluster) askIdle(ns *nodeState) {
	defer c.recoverNode(ns, "IdleTicks")
	c.wake(ns)
	ns.idle, ns.fresh = max(0, ns.sleeper.IdleTicks()), true
}

// wake hands a node the ticks it was spared, before any other call into
// it, and forgets what it said of its next ticks (the call may give it
// work). It reports whether the run goes on.
func (c *Cluster) wake(ns *nodeState) bool {
	ns.fresh = false
	if ns.owed > 0 {
		c.skipTicks(ns)
	}
	return c.failure == nil
}

func (c *Cluster) skipTicks(ns *nodeState) {
	defer c.recoverNode(ns, "SkipTicks")
	k := ns.owed
	ns.owed = 0
	ns.sleeper.SkipTicks(k)
}

// tickNode ticks one running node and stops it once its leave is done.
func (c *Cluster) tickNode(ns *nodeState) {
	defer c.recoverNode(ns, "Tick")
	if !c.wake(ns) {
		return
	}
	ns.node.Tick()
	c.drain(ns)
	if ns.leaving && ns.node != nil && ns.membership.LeaveDone() {
		c.tracePhase(ns.id, "leave done: ranges handed off, node stops")
		c.stopNode(ns)
	}
}

// deliver hands a network message to its node (or its inbox if paused).
// The payload is the network's buffer, valid only during the call.
func (c *Cluster) deliver(from, to sim.NodeID, payload []byte) {
	ns := c.nodes[to]
	if ns.paused {
		held := append([]byte(nil), payload...) // only a held message is copied
		ns.inbox = append(ns.inbox, func() { c.step(ns, from, held) })
		return
	}
	c.step(ns, from, payload)
}

// step runs one network message through a running node.
func (c *Cluster) step(ns *nodeState, from sim.NodeID, payload []byte) {
	if ns.node == nil || !c.wake(ns) {
		return
	}
	defer c.recoverNode(ns, "Step")
	c.traceMsg(ns, from, payload)
	if c.tracer != nil {
		defer func() { c.current, c.currentKeys = -1, nil }()
	}
	if err := ns.node.Step(from, payload); err != nil {
		c.fail(c.nodeError(ns, "Step", err, false))
		return
	}
	c.drain(ns)
}

// submit hands a client request to a running node.
func (c *Cluster) submit(ns *nodeState, req node.Request) {
	if !c.wake(ns) {
		return
	}
	defer c.recoverNode(ns, "Submit")
	c.submitted.Put(req.ID, ns.id)
	if c.tracer != nil {
		c.current = c.reqOp[req.ID]
		defer func() { c.current = -1 }()
	}
	ns.node.Submit(req)
	c.drain(ns)
}

// drain sends what a node produced and routes its client replies. It runs
// inside a guarded node call (Step, Submit, Tick or a membership call).
func (c *Cluster) drain(ns *nodeState) {
	if ns.node == nil {
		return
	}
	rd := ns.node.Ready()
	for _, e := range rd.Messages {
		if int(e.To) >= len(c.nodes) || e.To == ns.id {
			c.fail(c.nodeError(ns, "Ready", fmt.Errorf("sent a message to %v, which is %s", e.To, c.notPeer(ns.id, e.To)), false))
			return
		}
		if err := c.net.SendBytes(ns.id, e.To, e.Payload); err != nil {
			c.fail(c.nodeError(ns, "Ready", err, false))
			return
		}
	}
	for _, r := range rd.Replies {
		if to, ok := c.submitted.Get(r.ID); !ok || to != ns.id {
			c.fail(c.nodeError(ns, "Ready", fmt.Errorf("replied to request %d, which it was never given (or answered already)", r.ID), false))
			return
		}
		c.submitted.Delete(r.ID)
		resp, err := c.replyMem.toResponse(r)
		if err != nil {
			c.fail(c.nodeError(ns, "Ready", err, false))
			return
		}
		c.replies.push(pendingReply{id: r.ID, resp: resp})
		c.loop.After(c.cfg.ClientLatency, c.replyFn)
	}
}

func (c *Cluster) notPeer(self, to sim.NodeID) string {
	if to == self {
		return "itself"
	}
	return fmt.Sprintf("not in the cluster (ids are n0..n%d)", len(c.nodes)-1)
}

// replyArena is memory for the copies toResponse makes, carved out of
// shared chunks (internal/chunk): each piece is a fresh slice nothing else
// uses, with its capacity cut to its length, exactly as with one
// allocation per piece. Make it with newReplyArena.
type replyArena struct {
	bytes chunk.Chunks[byte]
	vals  chunk.Chunks[[]byte]
}

const (
	replyChunk = 4096 // bytes per chunk
	valsChunk  = 64   // value slices per chunk
)

// newReplyArena returns an empty replyArena with its chunk sizes.
func newReplyArena() replyArena {
	return replyArena{bytes: chunk.Chunks[byte]{Size: replyChunk}, vals: chunk.Chunks[[]byte]{Size: valsChunk}}
}

// copyBytes returns a copy of p: nil for nil, empty (not nil) for empty.
func (a *replyArena) copyBytes(p []byte) []byte {
	if p == nil {
		return nil
	}
	return a.bytes.Copy(p)
}

// toResponse copies a node's reply into the workload's vocabulary: the
// node's reply memory is valid only until its next call, and the reply
// reaches its client ClientLatency later.
func (a *replyArena) toResponse(r node.Reply) (workloads.Response, error) {
	resp := workloads.Response{Context: a.copyBytes(r.Context), Err: r.Err}
	if len(r.Values) > 0 {
		resp.Values = a.vals.Take(len(r.Values))
		for i, v := range r.Values {
			resp.Values[i] = a.bytes.Copy(v)
		}
	}
	switch r.Status {
	case node.OK, node.Fail, node.Info:
		resp.Status = r.Status // workloads speak the boundary's statuses
	default:
		return resp, fmt.Errorf("replied to request %d with status %v: want node.OK, node.Fail or node.Info", r.ID, r.Status)
	}
	return resp, nil
}
