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

// arrival is a client request on its way to a node.
type arrival struct {
	id     uint64
	req    node.Request
	target *nodeState
}

// pendingReply is a node's reply on its way to the client.
type pendingReply struct {
	id   uint64
	resp workloads.Response
}

// fifo is a first-in first-out queue that reuses its slice: once emptied,
// or by moving what is left to the front once most of it is popped, so
// its memory is bounded by what it holds, not by how much went through.
// The cluster's client events each wait a fixed delay, so the events of one
// kind come due in the order they were queued: the event carries no data,
// and takes its own from the head of its fifo.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

func (q *fifo[T]) len() int { return len(q.items) - q.head }

// peek returns the oldest item; the queue must not be empty.
func (q *fifo[T]) peek() T { return q.items[q.head] }

// last returns the newest item; the queue must not be empty.
func (q *fifo[T]) last() T { return q.items[len(q.items)-1] }

// dropLast removes the newest item; the queue must not be empty.
func (q *fifo[T]) dropLast() {
	var zero T
	q.items[len(q.items)-1] = zero
	q.items = q.items[:len(q.items)-1]
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
}

func (q *fifo[T]) pop() T {
	v := q.items[q.head]
	var zero T
	q.items[q.head] = zero
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 64 && 2*q.head >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}

// newClient makes client id on node, with the event functions it
// schedules made once.
func (c *Cluster) newClient(id int, on sim.NodeID, final bool) *client {
	cl := &client{id: id, node: on, final: final}
	cl.invokeFn = func() { op := cl.next; cl.next = nil; c.invoke(cl, op) }
	cl.arriveFn = func() { c.arrive(cl) }
	cl.refuseFn = func() { c.refuse(cl) }
	cl.timeoutFn = func() { c.timeout(cl) }
	return cl
}

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
	cl.next = op
	c.loop.After(delay, cl.invokeFn)
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
	c.traceEvent(&ev)
	c.traceClient(&ev, idx)
	c.send(cl, op.Start())
}

// send delivers one request to the client's node after the client latency,
// with a client-side timeout.
func (c *Cluster) send(cl *client, req workloads.Request) {
	c.reqSeq++
	id := c.reqSeq
	cl.reqID = id
	c.reqClient.Put(id, cl.id)
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
	cl.arrivals.push(arrival{id: id, req: nreq, target: c.nodes[cl.node]})
	c.loop.After(c.cfg.ClientLatency, cl.arriveFn)
	// Behind the oldest (whose event is queued), a timeout whose request
	// was answered is moot: a client sends its next request once answered,
	// so this keeps the queue at about two.
	for cl.timeouts.len() > 1 {
		if c.reqClient.Has(cl.timeouts.last().id) {
			break
		}
		cl.timeouts.dropLast()
	}
	cl.timeouts.push(timeout{id: id, slot: c.loop.Reserve(c.loop.Now().Add(c.cfg.ClientTimeout))})
	if cl.timeouts.len() == 1 {
		c.loop.AtSlot(cl.timeouts.peek().slot, cl.timeoutFn)
	}
}

// timeout is a request's pending timeout and its place in the event
// order. Timeouts come due in the order they were set, so only the
// client's oldest is queued: when it runs it queues the next that still
// waits, in the slot it would have had, and leaves out those already
// answered. The order of events is exactly that of one event per request.
type timeout struct {
	id   uint64
	slot sim.Slot
}

// arrive runs when the client's oldest request in flight reaches its
// node: the node takes it (or its inbox, if paused), or a crashed node
// refuses the connection. Every request takes ClientLatency, so requests
// arrive in the order they were sent.
func (c *Cluster) arrive(cl *client) {
	a := cl.arrivals.pop()
	target := a.target
	if target.node == nil {
		// Connection refused: the request certainly reached no replica.
		cl.refusals.push(a)
		c.loop.After(c.cfg.ClientLatency, cl.refuseFn)
		return
	}
	if target.paused {
		req := a.req
		target.inbox = append(target.inbox, func() {
			if target.node == nil {
				return // crashed while the request waited: the client times out
			}
			c.submit(target, req)
		})
		return
	}
	c.submit(target, a.req)
}

// refuse answers the client's oldest refused request with a failure.
func (c *Cluster) refuse(cl *client) {
	a := cl.refusals.pop()
	if ci, _ := c.reqClient.Get(a.id); ci == cl.id && cl.reqID == a.id {
		cl.backoff = true
	}
	c.reply(a.id, workloads.Response{Status: workloads.Fail, Err: fmt.Sprintf("%v is down: connection refused", a.target.id)})
}

// timeout answers the client's oldest request with info if it still
// waits. It first queues the timeout of the next request that still
// waits, so a request the answer makes the client send finds its
// predecessor's timeout queued (or none left) as push expects.
func (c *Cluster) timeout(cl *client) {
	id := cl.timeouts.pop().id
	waiting := c.reqClient.Has(id)
	for cl.timeouts.len() > 0 {
		next := cl.timeouts.peek()
		if c.reqClient.Has(next.id) {
			c.loop.AtSlot(next.slot, cl.timeoutFn)
			break
		}
		cl.timeouts.pop() // answered: the timeout is moot (and its message never built)
	}
	if waiting {
		c.reply(id, workloads.Response{Status: workloads.Info, Err: fmt.Sprintf("client timeout after %v", c.cfg.ClientTimeout)})
	}
}

// deliverReply hands the oldest node reply on its way to its client.
// Every reply takes ClientLatency, so they arrive in the order sent.
func (c *Cluster) deliverReply() {
	r := c.replies.pop()
	c.reply(r.id, r.resp)
}

// reply feeds a response to the client waiting for request id; responses
// to abandoned requests are ignored.
func (c *Cluster) reply(id uint64, resp workloads.Response) {
	ci, ok := c.reqClient.Get(id)
	if !ok {
		return
	}
	c.reqClient.Delete(id)
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
	c.traceEvent(&ev)
	c.traceClient(&ev, cl.invokedIdx)
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
func (c *Cluster) traceEvent(ev *history.Event) {
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
