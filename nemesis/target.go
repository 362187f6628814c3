package nemesis

import (
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// Target is what a nemesis breaks: the simulated cluster implements it.
// Every method acts at the loop's current virtual time and returns an error
// (never panics) when the request makes no sense for the cluster's state,
// e.g. restarting a node that is not crashed; Install reports such errors
// through its onErr callback.
//
// Which nodes each method accepts:
//   - CutLink, SetLinkFaults, SetClockOffset, BumpClock and SetClockDrift
//     accept any node the cluster knows (members, spares, crashed, paused or
//     departed nodes alike): links and clocks are state of the simulated
//     environment, not of the node process.
//   - Crash and Pause accept a current member that is up (not crashed, not
//     paused); Restart accepts a crashed node, Resume a paused one.
//   - Join accepts a known node that is not a member (a spare, or a node
//     that left, which rejoins as a fresh node with empty storage); Leave
//     accepts a member that is up.
type Target interface {
	// CutLink drops every message sent from one node to the other, in that
	// direction only, until Heal. Cutting a cut link again is not an error.
	// Every partition shape reduces to a set of cut links (Fault.Cuts).
	CutLink(from, to sim.NodeID) error
	// Heal removes every cut link. It leaves link faults (SetLinkFaults),
	// clocks, crashes, pauses and membership alone.
	Heal() error
	// Crash stops a node at once. With loseUnsynced its storage keeps only
	// what it had synced; without, it keeps everything it wrote.
	Crash(id sim.NodeID, loseUnsynced bool) error
	// Restart starts a crashed node again from its durable storage.
	Restart(id sim.NodeID) error
	// Pause freezes a node (SIGSTOP): it keeps its state but handles no
	// message and no timer until Resume; messages to it wait in its inbox.
	Pause(id sim.NodeID) error
	// Resume unfreezes a paused node.
	Resume(id sim.NodeID) error
	// SetClockOffset sets the node's wall-clock offset from true (virtual)
	// time; 0 is a correct clock. Drift, if any, continues from the new
	// offset.
	SetClockOffset(id sim.NodeID, offset time.Duration) error
	// BumpClock jumps the node's wall clock by delta (forward if positive,
	// backward if negative) from whatever it shows now.
	BumpClock(id sim.NodeID, delta time.Duration) error
	// SetClockDrift makes the node's clock gain ppm microseconds per second
	// of true time from now on (negative: lose), starting from its current
	// offset; the offset drift accumulated so far is kept. 0 stops drifting.
	SetClockDrift(id sim.NodeID, ppm int64) error
	// SetLinkFaults sets the faults of one directed link; the zero
	// LinkFaults clears them.
	SetLinkFaults(from, to sim.NodeID, f LinkFaults) error
	// HoldLink stalls one directed link: its messages wait, in order,
	// until ReleaseLink (or the settle phase's heal) delivers them.
	HoldLink(from, to sim.NodeID) error
	// ReleaseLink ends a stall and delivers what waited, in order.
	ReleaseLink(from, to sim.NodeID) error
	// Join adds a node to the cluster's membership (the ring).
	Join(id sim.NodeID) error
	// Leave removes a member from the cluster's membership.
	Leave(id sim.NodeID) error
}

// LinkClogger is a Target that can clog links (the clog family). Install
// refuses a schedule with link-clog or link-unclog for a target that is not
// one.
type LinkClogger interface {
	// ClogLink clogs one directed link until the virtual time until:
	// nothing on it is delivered before until; what was due meanwhile is
	// delivered then, in order. A later call replaces the time; an until
	// at or before now ends the clog. Holds and cuts are separate: a held
	// link stays held.
	ClogLink(from, to sim.NodeID, until sim.Time) error
}

// LinkFaults are the faults of one directed link. The zero value is a
// healthy link.
type LinkFaults struct {
	// Loss is the probability that a message on the link is dropped.
	Loss sim.Prob
	// Duplicate is the probability that a delivered message is delivered
	// twice.
	Duplicate sim.Prob
	// Delay is extra latency added to every message on the link (a delay
	// spike), on top of the network's latency distribution.
	Delay time.Duration
}

// IsZero reports whether f is a healthy link.
func (f LinkFaults) IsZero() bool {
	return f.Loss.IsZero() && f.Duplicate.IsZero() && f.Delay == 0
}

// Link is one directed link between two nodes.
type Link struct {
	From, To sim.NodeID
}

// String formats l as "n1>n2".
func (l Link) String() string { return l.From.String() + ">" + l.To.String() }
