package cluster

// TickEveryNode makes c call Tick on every running node at every tick,
// ignoring node.Sleeper, for tests that compare a run with and without
// spared ticks.
func (c *Cluster) TickEveryNode() { c.tickAll = true }
