package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/workloads"
)

// nextOp starts the client's next workload operation, or marks it done.
func (c *Cluster) nextOp(cl *client) {
	if c.phase != phaseWorkload {
		return
	}
	op, err := c.wl.Next(cl.id)
	if err == nil && c.cfg.TimeLimit > 0 && c.loop.Now().Add(op.Delay) >= sim.Time(c.cfg.TimeLimit) {
		err = workloads.ErrDone // the time limit: this client is done
	}
	if errors.Is(err, workloads.ErrDone) {
		cl.done = true
		c.clientsDone++
		if c.clientsDone == len(c.clients) {
			c.beginSettle()
		}
		return
	}
	if err != nil {
		c.fail(fmt.Errorf("cluster: workload: %w", err))
		return
	}
	delay := op.Delay
	if cl.backoff {
		cl.backoff = false
		delay += c.cfg.ReconnectDelay
	} else if cl.failed {
		delay += c.cfg.FailBackoff
	}
	cl.failed = false
	c.loop.After(delay, func() { c.invoke(cl, op) })
}

// invoke records op's invocation and sends its first request.
func (c *Cluster) invoke(cl *client, op *workloads.Op) {
	if c.phase == phaseDone {
		return
	}
	cl.op = op
	ev := op.Invocation()
	ev.Time = c.loop.Now()
	ev.Node = cl.node
	idx, err := c.rec.Invoke(ev)
	if err != nil {
		c.fail(fmt.Errorf("cluster: recording an invocation: %w", err))
		return
	}
	ev = c.rec.Last() // as recorded: index and fields filled in
	cl.invoked = ev.Time
	cl.invokedIdx = idx
	c.traceEvent(ev)
	c.traceClient(ev, idx)
	c.send(cl, op.Start())
}

// send delivers one request to the client's node after the client latency,
// with a client-side timeout.
func (c *Cluster) send(cl *client, req workloads.Request) {
	c.reqSeq++
	id := c.reqSeq
	cl.reqID = id
	c.reqClient[id] = cl.id
	if c.tracer != nil {
		c.reqOp[id] = cl.invokedIdx
	}
	nreq := node.Request{ID: id, Method: req.Method, Key: req.Key, Value: req.Value, Context: req.Context}
	// Final reads ask every replica, so they see what any holds; in
	// liveness mode the core must answer with the store's own quorums.
	nreq.ReadAll = req.Method == node.Get && cl.final && !c.cfg.LivenessCore
	if !c.nodes[cl.node].member {
		// The client's node left the cluster: reconnect to the next member.
		members := c.memberIDs()
		next := members[0]
		for _, m := range members {
			if m > cl.node {
				next = m
				break
			}
		}
		cl.node = next
	}
	target := c.nodes[cl.node]
	c.loop.After(c.cfg.ClientLatency, func() {
		if target.node == nil {
			// Connection refused: the request certainly reached no replica.
			c.loop.After(c.cfg.ClientLatency, func() {
				if c.reqClient[id] == cl.id && cl.reqID == id {
					cl.backoff = true
				}
				c.reply(id, workloads.Response{Status: workloads.Fail, Err: fmt.Sprintf("%v is down: connection refused", target.id)})
			})
			return
		}
		submit := func() {
			if target.node == nil {
				return // crashed while the request waited: the client times out
			}
			c.submit(target, nreq)
		}
		if target.paused {
			target.inbox = append(target.inbox, submit)
			return
		}
		submit()
	})
	c.loop.After(c.cfg.ClientTimeout, func() {
		if _, waiting := c.reqClient[id]; !waiting {
			return // answered: the timeout is moot (and its message never built)
		}
		c.reply(id, workloads.Response{Status: workloads.Info, Err: fmt.Sprintf("client timeout after %v", c.cfg.ClientTimeout)})
	})
}

// reply feeds a response to the client waiting for request id; responses
// to abandoned requests are ignored.
func (c *Cluster) reply(id uint64, resp workloads.Response) {
	ci, ok := c.reqClient[id]
	if !ok {
		return
	}
	delete(c.reqClient, id)
	cl := c.clientByIndex(ci)
	if cl == nil || cl.reqID != id || cl.op == nil || c.phase == phaseDone {
		return
	}
	cl.reqID = 0
	next, done := cl.op.Step(resp)
	if !done {
		c.send(cl, next)
		return
	}
	ev := cl.op.Completion()
	ev.Time = c.loop.Now()
	ev.Node = cl.node
	_, err := c.rec.Complete(ev)
	if err != nil {
		c.fail(fmt.Errorf("cluster: recording a completion: %w", err))
		return
	}
	ev = c.rec.Last()
	c.traceEvent(ev)
	c.traceClient(ev, cl.invokedIdx)
	if ev.Type == history.OK {
		c.latencies = append(c.latencies, time.Duration(ev.Time-cl.invoked))
	}
	cl.op = nil
	// A failed operation (e.g. not enough replicas reachable) usually fails
	// fast: back off, so an unavailable cluster does not burn the budget.
	cl.failed = ev.Type == history.Fail
	if cl.final {
		c.finalDone(cl, ev.Type == history.OK)
		return
	}
	c.nextOp(cl)
}

// clientByIndex returns client i: workload clients are 0..Clients()-1 and
// final readers follow them, so a client's id is its index.
func (c *Cluster) clientByIndex(i int) *client {
	if i < 0 || i >= len(c.clients) {
		return nil
	}
	return c.clients[i]
}

// traceEvent mixes a client event into the run's trace hash.
func (c *Cluster) traceEvent(ev history.Event) {
	h := sim.NewHash()
	h.WriteString(string(ev.Type))
	h.WriteString(string(ev.Kind))
	h.WriteString(ev.Key)
	h.WriteString(ev.Value)
	for _, v := range ev.Values {
		h.WriteString(v)
	}
	c.loop.Trace().Record("client", uint64(ev.Client), uint64(ev.Time), uint64(ev.Node), h.Sum64())
}
