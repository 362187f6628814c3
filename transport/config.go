package transport

import (
	"errors"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/sim"
)

// MaxNodes bounds node ids: every id must be below MaxNodes. Per-node and
// per-link state lives in slices indexed by id, so the bound also bounds
// memory.
const MaxNodes = 1024

// DefaultCapacity is a reasonable per-link bound on messages in flight for
// ordinary scenario runs. LinkConfig.Capacity has no implicit default; use
// this constant when no particular limit is wanted.
const DefaultCapacity = 4096

// LinkConfig describes one directed link. The zero LinkConfig is invalid: it
// needs a latency distribution and a capacity.
type LinkConfig struct {
	// Latency is the one-way delay distribution. Reordering on non-FIFO links
	// arises from its variance. A zero latency delivers at the send time, after
	// the events already queued for that time.
	Latency sim.Dist
	// Loss is the probability that a message vanishes on the wire.
	Loss sim.Prob
	// Duplicate is the probability that the network makes a second copy of a
	// message (the copy gets its own latency draw and meets the same faults).
	Duplicate sim.Prob
	// FIFO links never reorder: a message is delivered no earlier than the
	// message sent before it on the same link.
	FIFO bool
	// Capacity is the most messages that may be in flight on the link at
	// once (including held and clogged ones); a message that would exceed it
	// is dropped and counted. It must be > 0.
	Capacity int
}

// Validate reports what is wrong with c, or nil.
func (c LinkConfig) Validate() error {
	if err := c.Latency.Validate(); err != nil {
		return fmt.Errorf("link config: %w", err)
	}
	if c.Capacity <= 0 {
		return fmt.Errorf("link config: Capacity %d must be > 0 (max messages in flight on the link; transport.DefaultCapacity is %d)", c.Capacity, DefaultCapacity)
	}
	return nil
}

// Config configures a Network. Exactly one of Nodes and IDs names the nodes
// present at start; more can join later with AddNode.
type Config struct {
	// Nodes is the number of nodes present at start, with ids 0..Nodes-1.
	Nodes int
	// IDs is an explicit, strictly increasing list of the node ids present
	// at start, for clusters whose ids are not dense.
	IDs []sim.NodeID
	// Link is the configuration of every link without a SetLink override.
	Link LinkConfig
}

// Validate reports what is wrong with c, or nil.
func (c Config) Validate() error {
	_, err := c.initialIDs()
	if err != nil {
		return err
	}
	if err := c.Link.Validate(); err != nil {
		return fmt.Errorf("transport config: default %w", err)
	}
	return nil
}

func (c Config) initialIDs() ([]sim.NodeID, error) {
	switch {
	case c.Nodes < 0:
		return nil, fmt.Errorf("transport config: Nodes %d must be >= 0", c.Nodes)
	case c.Nodes > 0 && len(c.IDs) > 0:
		return nil, errors.New("transport config: set either Nodes (ids 0..Nodes-1) or IDs (an explicit list), not both")
	case c.Nodes == 0 && len(c.IDs) == 0:
		return nil, errors.New("transport config: no nodes: set Nodes (ids 0..Nodes-1) or IDs")
	case c.Nodes > MaxNodes:
		return nil, fmt.Errorf("transport config: Nodes %d exceeds MaxNodes %d", c.Nodes, MaxNodes)
	}
	if c.Nodes > 0 {
		ids := make([]sim.NodeID, c.Nodes)
		for i := range ids {
			ids[i] = sim.NodeID(i)
		}
		return ids, nil
	}
	for i, id := range c.IDs {
		if id >= MaxNodes {
			return nil, fmt.Errorf("transport config: IDs[%d] = %v: ids must be below MaxNodes %d", i, id, MaxNodes)
		}
		if i > 0 && id <= c.IDs[i-1] {
			return nil, fmt.Errorf("transport config: IDs must be strictly increasing, but IDs[%d] = %v follows %v", i, id, c.IDs[i-1])
		}
	}
	return slices.Clone(c.IDs), nil
}
