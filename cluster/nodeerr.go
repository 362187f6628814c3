package cluster

import (
	"fmt"
	"runtime/debug"

	"github.com/faultline-sim/faultline/sim"
)

// NodeError reports a node under test that broke the node boundary's
// contract: its factory failed or returned nil, it panicked, a message did
// not decode, it sent to an unknown node or replied to a request it never
// got. It names the node, the seed and the virtual time; the run stops and
// is classed as a crash, never as a pass.
type NodeError struct {
	// Seed replays the run.
	Seed uint64
	// Node is the node at fault.
	Node sim.NodeID
	// Time is the virtual time of the failure.
	Time sim.Time
	// Call is the boundary call that failed: start, Step, Submit, Tick,
	// Ready, IdleTicks, SkipTicks, SetView, Join, Leave, Counters,
	// Snapshot, Healed or Quiescent.
	Call string
	// Err says what went wrong.
	Err error
	// Panic is true when the node panicked; Stack is then its stack.
	Panic bool
	Stack string
}

// Error formats the failure with its node, call, time and seed.
func (e *NodeError) Error() string {
	what := "failed"
	if e.Panic {
		what = "panicked"
	}
	return fmt.Sprintf("node %v %s in %s at %v (seed %d): %v", e.Node, what, e.Call, e.Time, e.Seed, e.Err)
}

// Unwrap returns the underlying error.
func (e *NodeError) Unwrap() error { return e.Err }

func (c *Cluster) nodeError(ns *nodeState, call string, err error, panicked bool) *NodeError {
	ne := &NodeError{Seed: c.seed, Node: ns.id, Time: c.loop.Now(), Call: call, Err: err, Panic: panicked}
	if panicked {
		ne.Stack = string(debug.Stack())
	}
	return ne
}

// recoverNode, deferred around a call into a node, turns a panic into a
// NodeError that stops the run.
func (c *Cluster) recoverNode(ns *nodeState, call string) {
	if r := recover(); r != nil {
		c.fail(c.nodeError(ns, call, fmt.Errorf("%v", r), true))
	}
}

// guard runs fn, a call into ns's node, and reports whether it succeeded;
// an error or a panic stops the run with a NodeError.
func (c *Cluster) guard(ns *nodeState, call string, fn func() error) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.fail(c.nodeError(ns, call, fmt.Errorf("%v", r), true))
			ok = false
		}
	}()
	if err := fn(); err != nil {
		c.fail(c.nodeError(ns, call, err, false))
		return false
	}
	return true
}
