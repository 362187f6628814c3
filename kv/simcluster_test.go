package kv

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// simCluster is a small randomized driver for property tests: every
// message goes through the wire codec (as on the simulated wire), delivery order
// is drawn from a seeded stream, messages may be dropped, and a running
// FNV hash covers everything delivered and replied.
type simCluster struct {
	t       testing.TB
	cfg     Config
	ring    *ring.Ring
	nodes   []*Node // index = node id - 1; nil: stopped or not started
	stores  []*MemStore
	group   []int // partition group per node (index id-1); different groups cannot talk
	rng     *sim.RNG
	root    *sim.RNG
	now     int64
	net     []flight
	replies []Reply
	trace   uint64
	codec   *node.Codec[Message]
	buf     []byte
	// tap, if set, sees every encoded message.
	tap func(payload []byte)
	// wireMsgs and wireBytes count the messages sent and their msgpack
	// size on the simulated wire, by type.
	wireMsgs, wireBytes [msgTypeEnd]uint64
	// Idle ticks (IdleTicks, SkipTicks; see idle_test.go), per node slot.
	// With spare, a node is not ticked while what its last IdleTicks
	// promised lasts: the ticks are owed and handed over (SkipTicks)
	// before its next input. With checkIdle, every node is ticked, and a
	// tick its IdleTicks promised idle must produce no message, reply,
	// write or sync of anything unsynced, and change nothing but its clock
	// and re-arming timers (idleState). Either way the trace covers every
	// message's bytes.
	spare, checkIdle bool
	idle, owed       []int64
	fresh            []bool   // idle is the node's answer since its last input
	spared           int      // ticks spared (spare) or checked (checkIdle)
	lines            []string // what the trace covers, to show where two runs part
}

func newSimCluster(t testing.TB, cfg Config, size int, seed uint64) *simCluster {
	return newSimClusterRing(t, cfg, size, seed, ring.Config{Seed: seed, VNodes: 8})
}

// newSimClusterRing builds size running nodes 1..size over a ring with
// configuration rc.
func newSimClusterRing(t testing.TB, cfg Config, size int, seed uint64, rc ring.Config) *simCluster {
	var members []ring.Member
	for i := 1; i <= size; i++ {
		members = append(members, ring.Member{ID: sim.NodeID(i), Weight: 1})
	}
	r, err := ring.New(rc, members...)
	require.NoError(t, err)
	c := &simCluster{t: t, cfg: cfg, ring: r, rng: sim.NewRNG(seed), root: sim.NewRNG(seed), codec: node.NewCodec[Message](), trace: 14695981039346656037}
	for i := 1; i <= size; i++ {
		id := c.addSlot()
		c.start(id, r)
	}
	return c
}

// addSlot adds a node slot (not running) with an empty store and returns
// its id.
func (c *simCluster) addSlot() sim.NodeID {
	c.nodes = append(c.nodes, nil)
	c.stores = append(c.stores, NewMemStore())
	c.group = append(c.group, 0)
	c.idle, c.owed, c.fresh = append(c.idle, 0), append(c.owed, 0), append(c.fresh, false)
	return sim.NodeID(len(c.nodes))
}

// start runs node id over its store with ring r.
func (c *simCluster) start(id sim.NodeID, r *ring.Ring) *Node {
	n, err := NewNode(id, c.cfg, r, c.stores[id-1], func() int64 { return c.now * 1_000_000 }, c.root.Fork(fmt.Sprintf("%v/%d", id, c.now)))
	require.NoError(c.t, err)
	c.nodes[id-1] = n
	c.idle[id-1], c.owed[id-1], c.fresh[id-1] = 0, 0, false
	c.collect(id)
	return n
}

// stop halts node id: it gets no more input (messages to it are lost).
func (c *simCluster) stop(id sim.NodeID) {
	c.hash(fmt.Sprintf("stop %v", id))
	c.wake(id)
	c.nodes[id-1] = nil
}

// running returns the running nodes in id order.
func (c *simCluster) running() []*Node {
	var out []*Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// partition puts each listed group of nodes in its own partition group;
// unlisted nodes form group 0.
func (c *simCluster) partition(groups ...[]sim.NodeID) {
	clear(c.group)
	for g, ids := range groups {
		for _, id := range ids {
			c.group[id-1] = g + 1
		}
	}
}

func (c *simCluster) node(id sim.NodeID) *Node { return c.nodes[id-1] }

func (c *simCluster) hash(s string) {
	if c.spare || c.checkIdle {
		c.lines = append(c.lines, fmt.Sprintf("t%d %s", c.now, s))
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s", c.trace, s)
	c.trace = h.Sum64()
}

// wire encodes and decodes m with the wire codec, as the simulated network
// does, and counts its bytes.
func (c *simCluster) wire(m Message) Message {
	var err error
	c.buf, err = c.codec.Append(c.buf[:0], &m)
	require.NoError(c.t, err)
	if m.Type < msgTypeEnd {
		c.wireMsgs[m.Type]++
		c.wireBytes[m.Type] += uint64(len(c.buf))
	}
	if c.tap != nil {
		c.tap(c.buf)
	}
	var out Message
	require.NoError(c.t, c.codec.Decode(c.buf, &out))
	return out
}

// totalWire returns the messages and bytes sent so far.
func (c *simCluster) totalWire() (msgs, bytes uint64) {
	for t := range c.wireMsgs {
		msgs += c.wireMsgs[t]
		bytes += c.wireBytes[t]
	}
	return msgs, bytes
}

// size returns m's size on the wire.
func (c *simCluster) size(m Message) int {
	b, err := c.codec.Encode(&m)
	require.NoError(c.t, err)
	return len(b)
}

// ready takes node id's Ready and applies its writes to the node's store,
// as a driver must before it sends anything.
func (c *simCluster) ready(id sim.NodeID) Ready {
	rd := c.node(id).Ready()
	rd.Apply(c.stores[id-1])
	return rd
}

func (c *simCluster) collect(id sim.NodeID) {
	if c.node(id) == nil {
		return
	}
	rd := c.ready(id)
	for _, e := range rd.Messages {
		c.net = append(c.net, flight{from: id, to: e.To, msg: c.wire(e.Msg)})
		if c.spare || c.checkIdle {
			c.hash(fmt.Sprintf("send %v>%v %x", id, e.To, c.buf))
		}
	}
	for _, r := range rd.Replies {
		c.hash(fmt.Sprintf("reply %d %v %q %v", r.ID, r.Status, r.Values, r.Coordinator))
		c.replies = append(c.replies, r)
	}
}

func (c *simCluster) submit(id sim.NodeID, req Request) {
	c.wake(id)
	c.node(id).Submit(req)
	c.collect(id)
}

// step delivers (or, with probability drop/100, drops) one random
// in-flight message. It reports false when the network is empty.
func (c *simCluster) step(dropPct uint64) bool {
	if len(c.net) == 0 {
		return false
	}
	i := c.rng.IntN(len(c.net))
	f := c.net[i]
	c.net = slices.Delete(c.net, i, i+1)
	if f.to < 1 || int(f.to) > len(c.nodes) || c.node(f.to) == nil || c.group[f.to-1] != c.group[f.from-1] {
		return true // addressed to a node that does not exist, is stopped or is cut off
	}
	if dropPct > 0 && c.rng.Uint64N(100) < dropPct {
		c.hash(fmt.Sprintf("drop %v>%v %v", f.from, f.to, f.msg.Type))
		return true
	}
	c.hash(fmt.Sprintf("deliver %v>%v %v %s %d", f.from, f.to, f.msg.Type, f.msg.Key, len(f.msg.Versions)))
	c.wake(f.to)
	c.node(f.to).Step(f.from, f.msg)
	c.collect(f.to)
	return true
}

// restart crashes node id (dropping its unsynced writes and its pending
// outputs) and builds a new Node over the same store.
func (c *simCluster) restart(id sim.NodeID) {
	c.hash(fmt.Sprintf("restart %v", id))
	c.wake(id) // the ticks it was spared come before the crash
	c.stores[id-1].Crash()
	n, err := NewNode(id, c.cfg, c.ring, c.stores[id-1], func() int64 { return c.now * 1_000_000 }, sim.NewRNG(uint64(c.now)).Fork(id.String()))
	require.NoError(c.t, err)
	c.nodes[id-1] = n
	c.idle[id-1], c.owed[id-1], c.fresh[id-1] = 0, 0, false
	c.collect(id)
}

func (c *simCluster) tick() {
	c.now++
	for _, n := range c.running() {
		if !c.spare && !c.checkIdle {
			n.Tick()
			c.collect(n.ID())
			continue
		}
		i := n.ID() - 1
		if !c.fresh[i] {
			c.idle[i], c.fresh[i] = n.IdleTicks(), true
		}
		claimed := c.idle[i] > 0
		if claimed {
			c.idle[i]--
			c.spared++
			if c.spare {
				c.owed[i]++
				continue
			}
		}
		if c.spare {
			c.wake(n.ID())
		}
		var before string
		if claimed {
			before = idleState(n)
		}
		n.Tick()
		if claimed && (len(n.out) > 0 || len(n.replies) > 0 || len(n.state.writes) > 0 || (n.state.mustSync && c.stores[i].Unsynced() > 0)) {
			c.t.Fatalf("tick %d of %v (its %d): IdleTicks promised %d more idle ticks, but it produced %d messages (%v), %d replies, %d writes, a sync of %d unsynced writes",
				c.now, n.ID(), n.Now(), c.idle[i]+1, len(n.out), msgTypes(n.out), len(n.replies), len(n.state.writes), c.stores[i].Unsynced())
		}
		if claimed {
			if after := idleState(n); after != before {
				c.t.Fatalf("tick %d of %v (its %d): IdleTicks promised %d more idle ticks, but it changed\n%s\ninto\n%s", c.now, n.ID(), n.Now(), c.idle[i]+1, before, after)
			}
		}
		if !claimed {
			c.fresh[i] = false
		}
		c.collect(n.ID())
	}
}

// wake hands node id the ticks it was spared before its next input, and
// voids what its IdleTicks promised: an input may give it work.
func (c *simCluster) wake(id sim.NodeID) {
	n := c.node(id)
	if n == nil || (!c.spare && !c.checkIdle) {
		return
	}
	c.fresh[id-1], c.idle[id-1] = false, 0
	if k := c.owed[id-1]; k > 0 {
		c.owed[id-1] = 0
		n.SkipTicks(k)
		c.collect(id)
	}
}

// call runs fn, an input to node id, the way every input runs: the node
// first gets the ticks it was spared, and what it produced is collected.
func (c *simCluster) call(id sim.NodeID, fn func(n *Node)) {
	c.wake(id)
	fn(c.node(id))
	c.collect(id)
}

func msgTypes(es []Envelope) []MsgType {
	var ts []MsgType
	for _, e := range es {
		ts = append(ts, e.Msg.Type)
	}
	return ts
}

// settle delivers everything and ticks until no node has work left.
func (c *simCluster) settle() {
	for round := 0; round < 10_000; round++ {
		for c.step(0) {
		}
		busy := false
		for _, n := range c.running() {
			busy = busy || n.Pending() > 0
		}
		if !busy {
			return
		}
		c.tick()
	}
	c.t.Fatalf("cluster did not settle")
}

func (c *simCluster) takeReply(id uint64) (Reply, bool) {
	for i, r := range c.replies {
		if r.ID == id {
			c.replies = slices.Delete(c.replies, i, i+1)
			return r, true
		}
	}
	return Reply{}, false
}

// setClient does read-modify-write cycles adding its own elements to the
// set stored under one key, with a union merge of siblings.
type setClient struct {
	id      int
	node    sim.NodeID
	state   int // 0 idle, 1 reading, 2 writing
	req     uint64
	pending string
	acked   []string
	next    int
}

func parseSet(values [][]byte) []string {
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(string(v), ",") {
			if e != "" && !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}

// runSetWorkload runs clients concurrent RMW clients for the given number
// of steps, then settles and returns the acknowledged elements missing
// from a final read of all N replicas, and the trace hash.
//
// With restarts, a random node now and then crashes (losing what it did
// not sync) and restarts over its store at once.
func runSetWorkload(t testing.TB, cfg Config, size, clients, steps int, dropPct uint64, restarts bool, seed uint64) (lost []string, acked int, trace uint64) {
	c := newSimCluster(t, cfg, size, seed)
	var cs []*setClient
	for i := 0; i < clients; i++ {
		cs = append(cs, &setClient{id: i, node: sim.NodeID(1 + i%size)})
	}
	var reqID uint64
	for s := 0; s < steps; s++ {
		if restarts && c.rng.Uint64N(100) == 0 {
			c.restart(sim.NodeID(1 + c.rng.IntN(size)))
		}
		switch r := c.rng.Uint64N(10); {
		case r < 2:
			cl := cs[c.rng.IntN(len(cs))]
			if cl.state == 0 {
				reqID++
				cl.req, cl.state = reqID, 1
				c.submit(cl.node, Request{ID: reqID, Op: Get, Key: "set"})
			}
		case r < 3:
			c.tick()
		default:
			c.step(dropPct)
		}
		for _, cl := range cs {
			rep, ok := c.takeReply(cl.req)
			if !ok {
				continue
			}
			switch {
			case cl.state == 1 && rep.Status == OK:
				cl.pending = fmt.Sprintf("c%d-%d", cl.id, cl.next)
				cl.next++
				elems := append(parseSet(rep.Values), cl.pending)
				reqID++
				cl.req, cl.state = reqID, 2
				c.submit(cl.node, Request{ID: reqID, Op: Put, Key: "set", Value: []byte(strings.Join(elems, ",")), Context: rep.Context})
			case cl.state == 2 && rep.Status == OK:
				cl.acked = append(cl.acked, cl.pending)
				cl.state = 0
			default:
				cl.state = 0
			}
		}
	}
	c.settle()
	reqID++
	c.submit(1, Request{ID: reqID, Op: Get, Key: "set", R: cfg.N})
	c.settle()
	rep, ok := c.takeReply(reqID)
	require.True(t, ok)
	require.Equal(t, OK, rep.Status, rep.Err)
	final := parseSet(rep.Values)
	for _, cl := range cs {
		acked += len(cl.acked)
		for _, e := range cl.acked {
			if !slices.Contains(final, e) {
				lost = append(lost, e)
			}
		}
	}
	return lost, acked, c.trace
}
