package nemesis

import (
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// Kind names one fault (or undo) of the vocabulary. The names are the
// schedule text form's second word.
type Kind string

// The fault kinds. Each lists the Fault fields it uses; every other field
// must be zero.
const (
	// PartitionIsolate cuts one node off from the others.
	// Groups: [[victim], [the others]].
	PartitionIsolate Kind = "partition-isolate"
	// PartitionHalves splits the nodes into two sides that cannot talk.
	// Groups: [[one side], [the other side]].
	PartitionHalves Kind = "partition-halves"
	// PartitionOneWay drops messages from one side to the other, in that
	// direction only. Groups: [[senders], [receivers]].
	PartitionOneWay Kind = "partition-oneway"
	// PartitionBridge splits the nodes into two sides plus one bridge node
	// that talks to both. Groups: [[side A + bridge], [side B + bridge]]:
	// exactly one node in both groups.
	PartitionBridge Kind = "partition-bridge"
	// PartitionRing arranges the nodes in a ring (Nodes, in ring order):
	// each node talks to itself and its nearest neighbours, enough that it
	// sees a majority, but no two nodes see the same majority.
	PartitionRing Kind = "partition-ring"
	// Heal removes every partition (Target.Heal). No fields.
	Heal Kind = "heal"

	// Crash crashes Nodes; LoseUnsynced says whether unsynced writes are lost.
	Crash Kind = "crash"
	// Restart restarts crashed Nodes.
	Restart Kind = "restart"
	// Pause pauses Nodes.
	Pause Kind = "pause"
	// Resume resumes paused Nodes.
	Resume Kind = "resume"

	// ClockSkew sets the clock offset of Nodes to Offset (from true time).
	ClockSkew Kind = "clock-skew"
	// ClockBump jumps the clocks of Nodes by Offset (negative: backward).
	ClockBump Kind = "clock-bump"
	// ClockStrobe flips the clocks of Nodes Cycles times forward by Offset
	// and back again, one flip every Period, starting at At; it ends where
	// it started, at At + (2*Cycles-1)*Period.
	ClockStrobe Kind = "clock-strobe"
	// ClockDrift makes the clocks of Nodes drift by PPM parts per million.
	ClockDrift Kind = "clock-drift"
	// ClockReset stops the drift of Nodes and sets their offset to 0.
	ClockReset Kind = "clock-reset"

	// LinkFault sets Link on each of Links.
	LinkFault Kind = "link-faults"
	// LinkClear clears the faults of each of Links.
	LinkClear Kind = "link-clear"
	// LinkHold stalls each of Links: its messages wait (a full TCP buffer, a
	// stuck NIC queue) until link-release delivers them in order.
	LinkHold Kind = "link-hold"
	// LinkRelease ends the stall of each of Links.
	LinkRelease Kind = "link-release"
	// LinkClog clogs each of Links for ClogFor (a congested link): nothing
	// on it is delivered before At + ClogFor; what was due meanwhile is
	// delivered then, in order. The clog ends by itself.
	LinkClog Kind = "link-clog"
	// LinkUnclog ends the clog of each of Links now, if one is in force.
	LinkUnclog Kind = "link-unclog"

	// Join adds Nodes to the membership.
	Join Kind = "join"
	// Leave removes Nodes from the membership.
	Leave Kind = "leave"
)

// Fault is one timed fault (or undo) of a schedule: plain data, fully
// resolved (the victims are named, nothing is left to draw at install time),
// so a schedule replays exactly.
type Fault struct {
	// At is the virtual time the fault is applied.
	At sim.Time
	// Kind is what the fault does.
	Kind Kind
	// Nodes are the victims (crash, restart, pause, resume, clock, join,
	// leave), or the ring order (partition-ring).
	Nodes []sim.NodeID
	// Groups are the two groups of a partition-isolate, -halves, -oneway or
	// -bridge.
	Groups [][]sim.NodeID
	// Links are the directed links of link-faults and link-clear.
	Links []Link
	// LoseUnsynced marks a crash that loses unsynced writes.
	LoseUnsynced bool
	// Offset is clock-skew's offset, or clock-bump's and clock-strobe's step.
	Offset time.Duration
	// Period is the time between clock-strobe flips.
	Period time.Duration
	// Cycles is the number of clock-strobe forward-and-back cycles.
	Cycles int
	// PPM is clock-drift's rate in parts per million.
	PPM int64
	// Link is link-faults' fault set.
	Link LinkFaults
	// ClogFor is how long link-clog clogs its links, from At.
	ClogFor time.Duration
}

// Schedule is a list of faults sorted by At (faults with equal At apply in
// list order). It is plain data: print it with String, read it back with
// Parse.
type Schedule []Fault

// Family is a group of related fault kinds, the unit of a Mix: a generated
// fault of a family is always followed by its family's undo.
type Family uint8

// The fault families, in the order Plan prefers them when shrinking.
const (
	// FamilyPartition: the partition kinds, undone by heal.
	FamilyPartition Family = iota
	// FamilyCrash: crash, undone by restart.
	FamilyCrash
	// FamilyPause: pause, undone by resume.
	FamilyPause
	// FamilySkew: the clock kinds, undone by clock-reset.
	FamilySkew
	// FamilyLoss: link-faults, undone by link-clear.
	FamilyLoss
	// FamilyChurn: join and leave, each undone by the other.
	FamilyChurn
	// FamilyStall: link-hold, undone by link-release.
	FamilyStall
	// FamilyClog: link-clog, which ends by itself, undone early by
	// link-unclog. MixAll leaves it out.
	FamilyClog
	numFamilies
)

var familyNames = [numFamilies]string{"partition", "crash", "pause", "skew", "loss", "churn", "stall", "clog"}

// String returns the family's name as the CLI spells it.
func (f Family) String() string {
	if f < numFamilies {
		return familyNames[f]
	}
	return "family(" + itoa(int(f)) + ")"
}

// Families returns every family in order.
func Families() []Family {
	out := make([]Family, numFamilies)
	for i := range out {
		out[i] = Family(i)
	}
	return out
}

// Window is the span during which one fault was in effect: from the fault
// to its undo. Reports shade these on timelines.
type Window struct {
	// Start is when the fault was applied; End when it was undone (sim.Never
	// if the schedule never undoes it).
	Start, End sim.Time
	// Family is the fault's family.
	Family Family
	// Kind is the fault's kind.
	Kind Kind
	// Label is the fault in text form without its time, e.g.
	// "crash n3 lose-unsynced=true".
	Label string
}
