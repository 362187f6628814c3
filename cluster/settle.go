package cluster

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

// finalReaders is how many clients read the written keys after the settle
// phase; their ids follow the workload's clients, so none collide in the
// history.
const finalReaders = 8

// beginSettle runs once every client is done: it waits for the nemesis
// schedule to end, heals everything and lets the cluster settle.
func (c *Cluster) beginSettle() {
	if c.phase != phaseWorkload {
		return
	}
	at := c.cfg.Nemesis.End()
	if at < c.loop.Now() {
		at = c.loop.Now()
	}
	c.loop.At(at, func() {
		if c.phase != phaseWorkload {
			return
		}
		c.phase = phaseSettle
		c.settleAt = c.loop.Now()
		c.tracePhase(0, "settle: every client is done; healing everything, then at least %v until the nodes are quiescent (at most %v)", c.cfg.SettleTime, c.settleLimit())
		c.healAll()
		var excluded []sim.NodeID // the members left faulty (liveness mode)
		for _, id := range c.memberIDs() {
			if c.cfg.LivenessCore && !slices.Contains(c.core, id) {
				excluded = append(excluded, id)
			}
		}
		for _, ns := range c.nodes {
			if ns.node != nil && ns.settler != nil && (!c.wake(ns) || !c.guard(ns, "Healed", func() error { ns.settler.Healed(excluded); return nil })) {
				return
			}
		}
		c.loop.After(c.cfg.SettleTime, c.settleCheck)
	})
}

// settleLimit is the longest the settle phase may last.
func (c *Cluster) settleLimit() time.Duration {
	if c.cfg.SettleLimit > 0 {
		return max(c.cfg.SettleLimit, c.cfg.SettleTime)
	}
	return max(10*c.cfg.SettleTime, 10*time.Second)
}

// settleCheck ends the settle phase once every running member that
// implements node.Settler is quiescent, or fails the run (liveness) when
// the limit passes first, naming what each node still owes.
func (c *Cluster) settleCheck() {
	if c.phase != phaseSettle {
		return
	}
	var owed []string
	for _, ns := range c.nodes {
		if ns.node == nil || ns.settler == nil || (c.cfg.LivenessCore && !slices.Contains(c.core, ns.id)) {
			continue
		}
		var ok bool
		var what string
		if !c.wake(ns) || !c.guard(ns, "Quiescent", func() error { ok, what = ns.settler.Quiescent(); return nil }) {
			return
		}
		if !ok {
			owed = append(owed, fmt.Sprintf("%v: %s", ns.id, what))
		}
	}
	if len(owed) == 0 {
		c.quiescentAt = c.loop.Now()
		c.beginFinalReads()
		return
	}
	if time.Duration(c.loop.Now()-c.settleAt) >= c.settleLimit() {
		c.fail(&LivenessError{Seed: c.seed, Phase: "settle",
			Reason: fmt.Sprintf("the healed cluster did not quiesce within %v (Config.SettleLimit): %s", c.settleLimit(), strings.Join(owed, "; "))})
		return
	}
	c.loop.After(c.cfg.Tick, c.settleCheck)
}

// healAll undoes every fault: cuts, link faults, clocks, pauses, crashes.
// In liveness mode (Config.LivenessCore) it undoes only the faults within
// the core: links between core members, and the core members' clocks,
// pauses and crashes; every other fault stays.
func (c *Cluster) healAll() {
	inCore := func(sim.NodeID) bool { return true }
	if c.cfg.LivenessCore {
		members := c.memberIDs()
		c.core = members[:len(members)/2+1]
		inCore = func(id sim.NodeID) bool { return slices.Contains(c.core, id) }
		for _, a := range c.core {
			for _, b := range c.core {
				if a != b {
					c.healErr(c.net.HealLink(a, b))
				}
			}
		}
		c.tracePhase(0, "liveness mode: healing the core %v only; the faults of the other members stay", c.core)
	} else {
		c.net.Heal()
	}
	for _, ns := range c.nodes {
		if !ns.member || !inCore(ns.id) {
			continue
		}
		for _, o := range c.nodes {
			if o.member && inCore(o.id) {
				c.healErr(c.SetLinkFaults(ns.id, o.id, nemesis.LinkFaults{}))
				if c.net.Held(ns.id, o.id) {
					c.healErr(c.ReleaseLink(ns.id, o.id))
				}
				if c.net.Clogged(ns.id, o.id) {
					c.healErr(c.ClogLink(ns.id, o.id, 0))
				}
			}
		}
		ns.clock = wallClock{}
		if ns.paused {
			c.healErr(c.Resume(ns.id))
		}
		if ns.crashed {
			c.healErr(c.Restart(ns.id))
		}
	}
	c.loop.Trace().Record("settle", uint64(c.loop.Now()))
}

// healErr records a failed undo of the settle phase with the target errors,
// so a run that could not heal says why.
func (c *Cluster) healErr(err error) {
	if err != nil {
		c.targetErrs = append(c.targetErrs, fmt.Sprintf("%v settle: %v", c.loop.Now(), err))
	}
}

// beginFinalReads snapshots the replicas (before final reads can repair
// them) and reads every written key.
func (c *Cluster) beginFinalReads() {
	if c.phase != phaseSettle {
		return
	}
	c.phase = phaseFinal
	c.snapshot = c.snapshots()
	keys := c.wl.WrittenKeys()
	c.tracePhase(0, "final reads of %d keys", len(keys))
	if len(keys) == 0 {
		c.finish()
		return
	}
	readers := finalReaders
	if len(keys) < readers {
		readers = len(keys)
	}
	// Reader r reads keys r, r+readers, ... in order.
	queues := make([][]string, readers)
	for i, k := range keys {
		queues[i%readers] = append(queues[i%readers], k)
	}
	members := c.readers()
	for r := 0; r < readers; r++ {
		cl := c.newClient(c.wl.Clients()+r, members[r%len(members)], true)
		c.clients = append(c.clients, cl)
		q := queues[r]
		c.finalPending += len(q)
		c.finalQueue(cl, q)
	}
}

// finalQueue remembers a reader's remaining keys and starts the first.
func (c *Cluster) finalQueue(cl *client, keys []string) {
	if len(keys) == 0 {
		return
	}
	cl.key = keys[0]
	cl.tries = 0
	rest := keys[1:]
	cl.done = false
	c.finalNext[cl.id] = rest
	c.finalRead(cl)
}

func (c *Cluster) finalRead(cl *client) {
	op, err := c.wl.FinalRead(cl.id, cl.key)
	if err != nil {
		c.fail(fmt.Errorf("cluster: final read of %q: %w", cl.key, err))
		return
	}
	cl.tries++
	c.invoke(cl, op)
}

// finalDone continues a reader after one final read completed.
func (c *Cluster) finalDone(cl *client, ok bool) {
	if !ok {
		if cl.tries >= c.cfg.FinalReadAttempts {
			c.fail(&LivenessError{Seed: c.seed, Phase: "final-reads",
				Reason: fmt.Sprintf("the final read of key %q failed %d times after the %s was healed", cl.key, cl.tries, c.healedWhat())})
			return
		}
		// Rotate to the next member: the coordinator may be the problem.
		members := c.readers()
		cl.node = members[(indexOf(members, cl.node)+1)%len(members)]
		c.loop.After(50*time.Millisecond, func() { c.finalRead(cl) })
		return
	}
	c.finalPending--
	rest := c.finalNext[cl.id]
	if len(rest) > 0 {
		c.finalQueue(cl, rest)
		return
	}
	if c.finalPending == 0 {
		c.finish()
	}
}

func (c *Cluster) finish() {
	c.phase = phaseDone
}

// healedWhat says what the settle phase healed: the cluster, or its core.
func (c *Cluster) healedWhat() string {
	if c.cfg.LivenessCore {
		return fmt.Sprintf("core %v", c.core)
	}
	return "cluster"
}

// readers are the members final reads may use as coordinators: the core
// in liveness mode, else every member.
func (c *Cluster) readers() []sim.NodeID {
	if c.cfg.LivenessCore {
		return c.core
	}
	return c.memberIDs()
}

func (c *Cluster) memberIDs() []sim.NodeID {
	var ids []sim.NodeID
	for _, ns := range c.nodes {
		if ns.member {
			ids = append(ids, ns.id)
		}
	}
	return ids
}

func indexOf(ids []sim.NodeID, id sim.NodeID) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return 0
}
