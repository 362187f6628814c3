package kv

import "github.com/faultline-sim/faultline/sim"

// The node's side of its coordinator (kv/coordinator.go): the client API
// that feeds it, the services it asks for (nodeHost), and the delivery
// of what it produced.

// Submit hands the node a client request to coordinate. Invalid requests
// are answered at once with a Fail reply whose Err says what to change.
func (n *Node) Submit(req Request) {
	n.stats.Submitted++
	n.coord.submit(req)
	n.deliver()
}

// Pending returns the number of operations this node is coordinating or
// waiting on.
func (n *Node) Pending() int { return n.coord.pending() }

// coordinated finishes a Step case handed to the coordinator: it counts
// (and traces) the reason the coordinator ignored the message, if any,
// then delivers what the coordinator produced.
func (n *Node) coordinated(r ignoreReason) {
	if r != ignoreNone {
		n.ignore(r)
	}
	n.deliver()
}

// deliver sends the coordinator's messages, through send (suspicion
// clocks, counters), and queues its client replies, in the order the
// coordinator made them.
func (n *Node) deliver() {
	out, replies := n.coord.take()
	for i := range out {
		n.send(out[i].To, &out[i].Msg)
	}
	n.replies = append(n.replies, replies...)
}

// localVersions returns everything this node holds for key: its data and
// any hints for the key.
func (n *Node) localVersions(key string) []Version {
	vs, _ := n.state.Get(key)
	for _, owner := range n.route.nodes {
		if h, ok := n.state.Hint(owner, key); ok {
			vs = reconcile(n.cfg.Resolve, vs, h.Versions)
		}
	}
	return vs
}

// nodeHost is the narrow face a node shows its coordinator (coordHost):
// its ring, its beliefs, its local replica, its wall clock and counter.
type nodeHost struct{ n *Node }

func (h nodeHost) preferenceList(key string, nn int, dst []sim.NodeID) ([]sim.NodeID, error) {
	return h.n.route.ring.PreferenceList(key, nn, dst[:0])
}

func (h nodeHost) fallbacks(key string, nn int, dst []sim.NodeID) []sim.NodeID {
	fb, _ := h.n.route.ring.Fallbacks(key, nn, h.n.route.ring.Len()-nn, dst[:0])
	return fb
}

func (h nodeHost) ringLen() int                    { return h.n.route.ring.Len() }
func (h nodeHost) believedDown(id sim.NodeID) bool { return h.n.believedDown(id) }
func (h nodeHost) applyWrite(key string, vs []Version, hinted bool, hintFor sim.NodeID) error {
	return h.n.applyWrite(key, vs, hinted, hintFor)
}
func (h nodeHost) checkReplica(key string, read bool) error { return h.n.checkReplica(key, read) }
func (h nodeHost) readLocal(key string, hinted bool, hintFor sim.NodeID) []Version {
	return h.n.readLocal(key, hinted, hintFor)
}
func (h nodeHost) localVersions(key string) []Version { return h.n.localVersions(key) }
func (h nodeHost) wall() int64                        { return h.n.wall() }
func (h nodeHost) next() uint64                       { return h.n.next() }
func (h nodeHost) forget(vs []Version)                { h.n.forget(vs) }
