package cluster

import (
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport"
)

// TraceLine is one line of a readable run trace: what happened, where and
// when in virtual time, and what it concerns (keys, the client operation),
// so a reader can follow one key or one operation through the run.
type TraceLine struct {
	// Time is the virtual time.
	Time sim.Time
	// Node is the node concerned (the receiver of a delivered or dropped
	// message, the sender of a sent one, the coordinator of a client
	// event, the victim of a fault).
	Node sim.NodeID
	// Kind is "send", "recv", "drop", "dup", "client", "fault", "phase",
	// or "node" (a node explaining itself, e.g. why it ignored a message).
	Kind string
	// Keys are the keys the line concerns (from the node's Describer for
	// messages; the operation's key for client events).
	Keys []string
	// Op is the history index of the invocation of the client operation
	// the line belongs to, or -1: a client event, the coordinator's
	// messages for it (fan-out, replies, forwarding, repairs it started).
	Op int
	// Event says what happened, e.g. `recv write-ack from n2 key="k1"`.
	Event string
}

// String formats the line as aligned time, node and event.
func (l TraceLine) String() string {
	return fmt.Sprintf("%12v %-4v %s", l.Time, l.Node, l.Event)
}

// Concerns reports whether the line is about key.
func (l TraceLine) Concerns(key string) bool { return slices.Contains(l.Keys, key) }

// SetTrace makes the cluster call fn for every message sent, delivered,
// duplicated or dropped (with its cause), every client event, fault and
// phase change, in order. Tracing does not change the run.
func (c *Cluster) SetTrace(fn func(TraceLine)) {
	c.tracer = fn
	if fn == nil {
		c.net.SetObserver(nil)
		return
	}
	c.opOf = map[opRef]int{}
	c.reqOp = map[uint64]int{}
	c.current = -1
	c.net.SetObserver(c.traceNet)
	for _, ns := range c.nodes {
		c.traceNode(ns)
	}
}

// traceNode gives a running node that can explain itself (node.Traced)
// the trace: its lines are about the input it is handling.
func (c *Cluster) traceNode(ns *nodeState) {
	t, ok := ns.node.(node.Traced)
	if !ok || c.tracer == nil {
		return
	}
	c.wake(ns)
	t.SetTracer(func(line string) {
		c.emit(TraceLine{Node: ns.id, Kind: "node", Keys: c.currentKeys, Op: c.current, Event: line})
	})
}

// opRef names an operation at the node that runs it.
type opRef struct {
	node sim.NodeID
	op   uint64
}

func (c *Cluster) emit(l TraceLine) {
	l.Time = c.loop.Now()
	c.tracer(l)
}

func (c *Cluster) traceFault(node sim.NodeID, format string, args ...any) {
	if c.tracer != nil {
		c.emit(TraceLine{Node: node, Kind: "fault", Op: -1, Event: fmt.Sprintf(format, args...)})
	}
}

func (c *Cluster) tracePhase(node sim.NodeID, format string, args ...any) {
	if c.tracer != nil {
		c.emit(TraceLine{Node: node, Kind: "phase", Op: -1, Event: fmt.Sprintf(format, args...)})
	}
}

// describe asks the node that produced or receives a message what it is.
func (c *Cluster) describe(id sim.NodeID, payload []byte) (node.Description, bool) {
	if int(id) >= len(c.nodes) {
		return node.Description{}, false
	}
	ns := c.nodes[id]
	if ns.describer == nil {
		return node.Description{}, false
	}
	c.wake(ns)
	return ns.describer.Describe(payload), true
}

// opFor returns the client operation a message between from and to
// belongs to: the operation it is part of at either end, else, for a
// message sent while the cluster hands a node a tracked input, that
// input's operation (so fan-out and forwarding inherit it).
func (c *Cluster) opFor(from, to sim.NodeID, d node.Description, sending bool) int {
	if d.Op != 0 {
		runner := from // the node whose operation d.Op is
		if d.Reply {
			runner = to
		}
		if op, ok := c.opOf[opRef{runner, d.Op}]; ok {
			return op
		}
		if sending && c.current >= 0 && !d.Reply {
			c.opOf[opRef{from, d.Op}] = c.current
			return c.current
		}
	}
	if sending {
		return c.current
	}
	return -1
}

func line(kind, verb string, d node.Description, ok bool, size int, peer string) string {
	if !ok {
		return fmt.Sprintf("%s %d bytes %s", verb, size, peer)
	}
	s := fmt.Sprintf("%s %s %s", verb, d.Kind, peer)
	if d.Text != "" {
		s += " " + d.Text
	}
	return s
}

// traceNet traces what the network reports: sends, duplicates, drops.
func (c *Cluster) traceNet(ev transport.Event) {
	d, ok := c.describe(ev.From, ev.Payload)
	op := c.opFor(ev.From, ev.To, d, ev.Kind == transport.Sent)
	switch ev.Kind {
	case transport.Sent:
		c.emit(TraceLine{Node: ev.From, Kind: "send", Keys: d.Keys, Op: op, Event: line("send", "send", d, ok, len(ev.Payload), "to "+ev.To.String())})
	case transport.Duplicated:
		c.emit(TraceLine{Node: ev.From, Kind: "dup", Keys: d.Keys, Op: op, Event: line("dup", "dup", d, ok, len(ev.Payload), "to "+ev.To.String())})
	case transport.Dropped:
		c.emit(TraceLine{Node: ev.To, Kind: "drop", Keys: d.Keys, Op: op,
			Event: line("drop", "drop ("+ev.Cause+")", d, ok, len(ev.Payload), "from "+ev.From.String())})
	}
}

// traceMsg traces a delivery as "recv TYPE from NODE DETAILS" and makes
// the message's operation current while the node handles it.
func (c *Cluster) traceMsg(ns *nodeState, from sim.NodeID, payload []byte) {
	if c.tracer == nil {
		return
	}
	d, ok := c.describe(ns.id, payload)
	op := c.opFor(from, ns.id, d, false)
	c.current, c.currentKeys = op, d.Keys
	c.emit(TraceLine{Node: ns.id, Kind: "recv", Keys: d.Keys, Op: op, Event: line("recv", "recv", d, ok, len(payload), "from "+from.String())})
}

// traceClient traces a recorded client event.
func (c *Cluster) traceClient(ev *history.Event, op int) {
	if c.tracer == nil {
		return
	}
	var keys []string
	if ev.Key != "" {
		keys = []string{ev.Key}
	}
	c.emit(TraceLine{Node: ev.Node, Kind: "client", Keys: keys, Op: op, Event: fmt.Sprintf("client %d %s", ev.Client, ev.String())})
}
