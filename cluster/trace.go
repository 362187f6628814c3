package cluster

import (
	"fmt"
	"strings"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// TraceLine is one line of a readable run trace: what happened, where and
// when in virtual time.
type TraceLine struct {
	// Time is the virtual time.
	Time sim.Time
	// Node is the node concerned (the receiver of a message, the
	// coordinator of a client event, the victim of a fault).
	Node sim.NodeID
	// Event says what happened, e.g. "recv write-ack from n2 key=\"k1\"".
	Event string
}

// String formats the line as aligned time, node and event.
func (l TraceLine) String() string {
	return fmt.Sprintf("%12v %-4v %s", l.Time, l.Node, l.Event)
}

// SetTrace makes the cluster call fn for every delivered message, client
// event, fault and phase change, in order. Tracing does not change the run.
func (c *Cluster) SetTrace(fn func(TraceLine)) { c.tracer = fn }

func (c *Cluster) trace(node sim.NodeID, format string, args ...any) {
	if c.tracer != nil {
		c.tracer(TraceLine{Time: c.loop.Now(), Node: node, Event: fmt.Sprintf(format, args...)})
	}
}

// traceMsg traces a delivery as "recv TYPE from NODE DETAILS", with the
// type and details from the node's Describer (or the payload's size).
func (c *Cluster) traceMsg(ns *nodeState, from sim.NodeID, payload []byte) {
	if c.tracer == nil {
		return
	}
	if ns.describer == nil {
		c.trace(ns.id, "recv %d bytes from %v", len(payload), from)
		return
	}
	desc := ns.describer.Describe(payload)
	kind, rest, _ := strings.Cut(desc, " ")
	if rest != "" {
		rest = " " + rest
	}
	c.trace(ns.id, "recv %s from %v%s", kind, from, rest)
}

func (c *Cluster) traceClient(ev history.Event) {
	if c.tracer == nil {
		return
	}
	c.trace(ev.Node, "client %d %s", ev.Client, ev.String())
}
