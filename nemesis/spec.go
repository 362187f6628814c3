package nemesis

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// shape is what a kind's target field holds.
type shape uint8

const (
	shapeNone   shape = iota // no target (heal)
	shapeNodes               // a node list: n1,n2
	shapeRing                // a node list in ring order (at least 3)
	shapeGroups              // two groups: n1,n2|n3,n4
	shapeLinks               // directed links: n1>n2,n2>n1
)

// Parameter keys of the text form.
const (
	pLoseUnsynced = "lose-unsynced"
	pOffset       = "offset"
	pDelta        = "delta"
	pPeriod       = "period"
	pCycles       = "cycles"
	pPPM          = "ppm"
	pLoss         = "loss"
	pDup          = "dup"
	pDelay        = "delay"
	pFor          = "for"
)

// kindSpec describes one kind: its family, its target shape, its
// parameters in print order, and whether it is an undo.
type kindSpec struct {
	family Family
	shape  shape
	params []string
	undo   bool
}

// kindOrder lists every kind in a fixed order (for messages); specs is only
// ever looked up, never iterated.
var kindOrder = []Kind{
	PartitionIsolate, PartitionHalves, PartitionOneWay, PartitionBridge, PartitionRing, Heal,
	Crash, Restart, Pause, Resume,
	ClockSkew, ClockBump, ClockStrobe, ClockDrift, ClockReset,
	LinkFault, LinkClear, Join, Leave, LinkHold, LinkRelease, LinkClog, LinkUnclog,
}

var specs = map[Kind]kindSpec{
	PartitionIsolate: {family: FamilyPartition, shape: shapeGroups},
	PartitionHalves:  {family: FamilyPartition, shape: shapeGroups},
	PartitionOneWay:  {family: FamilyPartition, shape: shapeGroups},
	PartitionBridge:  {family: FamilyPartition, shape: shapeGroups},
	PartitionRing:    {family: FamilyPartition, shape: shapeRing},
	Heal:             {family: FamilyPartition, shape: shapeNone, undo: true},
	Crash:            {family: FamilyCrash, shape: shapeNodes, params: []string{pLoseUnsynced}},
	Restart:          {family: FamilyCrash, shape: shapeNodes, undo: true},
	Pause:            {family: FamilyPause, shape: shapeNodes},
	Resume:           {family: FamilyPause, shape: shapeNodes, undo: true},
	ClockSkew:        {family: FamilySkew, shape: shapeNodes, params: []string{pOffset}},
	ClockBump:        {family: FamilySkew, shape: shapeNodes, params: []string{pDelta}},
	ClockStrobe:      {family: FamilySkew, shape: shapeNodes, params: []string{pDelta, pPeriod, pCycles}},
	ClockDrift:       {family: FamilySkew, shape: shapeNodes, params: []string{pPPM}},
	ClockReset:       {family: FamilySkew, shape: shapeNodes, undo: true},
	LinkFault:        {family: FamilyLoss, shape: shapeLinks, params: []string{pLoss, pDup, pDelay}},
	LinkClear:        {family: FamilyLoss, shape: shapeLinks, undo: true},
	Join:             {family: FamilyChurn, shape: shapeNodes},
	Leave:            {family: FamilyChurn, shape: shapeNodes},
	LinkHold:         {family: FamilyStall, shape: shapeLinks},
	LinkRelease:      {family: FamilyStall, shape: shapeLinks, undo: true},
	LinkClog:         {family: FamilyClog, shape: shapeLinks, params: []string{pFor}},
	LinkUnclog:       {family: FamilyClog, shape: shapeLinks, undo: true},
}

// MaxStrobeCycles bounds a clock-strobe's cycles (each cycle is two loop
// events).
const MaxStrobeCycles = 100_000

// MaxDriftPPM bounds the magnitude of a clock-drift rate: a clock may run at
// most (almost) twice as fast, and never stop or run backwards.
const MaxDriftPPM = 999_999

// Kinds returns every fault kind in a fixed order.
func Kinds() []Kind { return append([]Kind(nil), kindOrder...) }

// Family returns the family k belongs to and whether k is a known kind.
func (k Kind) Family() (Family, bool) {
	s, ok := specs[k]
	return s.family, ok
}

// IsUndo reports whether k undoes faults (heal, restart, resume,
// clock-reset, link-clear, link-release, link-unclog) rather than causing
// one. Join and leave undo
// each other and count as faults.
func (k Kind) IsUndo() bool { return specs[k].undo }

func kindList() string {
	names := make([]string, len(kindOrder))
	for i, k := range kindOrder {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// check reports what is wrong with f on its own (not against a node set).
func (f *Fault) check() error {
	sp, ok := specs[f.Kind]
	if !ok {
		return fmt.Errorf("unknown fault kind %q (known: %s)", f.Kind, kindList())
	}
	if f.At < 0 || f.At == sim.Never {
		return fmt.Errorf("%s: time %d is not a valid virtual time (want >= 0)", f.Kind, int64(f.At))
	}
	// Fields the kind does not use must be zero, so the text form is exact.
	if sp.shape != shapeNodes && sp.shape != shapeRing && len(f.Nodes) > 0 {
		return fmt.Errorf("%s takes no node list (got %s)", f.Kind, nodeList(f.Nodes))
	}
	if sp.shape != shapeGroups && len(f.Groups) > 0 {
		return fmt.Errorf("%s takes no groups", f.Kind)
	}
	if sp.shape != shapeLinks && len(f.Links) > 0 {
		return fmt.Errorf("%s takes no links", f.Kind)
	}
	uses := func(p string) bool {
		for _, q := range sp.params {
			if q == p {
				return true
			}
		}
		return false
	}
	if f.LoseUnsynced && !uses(pLoseUnsynced) {
		return fmt.Errorf("%s takes no %s", f.Kind, pLoseUnsynced)
	}
	if f.Offset != 0 && !uses(pOffset) && !uses(pDelta) {
		return fmt.Errorf("%s takes no offset", f.Kind)
	}
	if (f.Period != 0 || f.Cycles != 0) && !uses(pPeriod) {
		return fmt.Errorf("%s takes no period or cycles", f.Kind)
	}
	if f.PPM != 0 && !uses(pPPM) {
		return fmt.Errorf("%s takes no ppm", f.Kind)
	}
	if !f.Link.IsZero() && !uses(pLoss) {
		return fmt.Errorf("%s takes no link faults", f.Kind)
	}
	if f.ClogFor != 0 && !uses(pFor) {
		return fmt.Errorf("%s takes no %s (only %s does)", f.Kind, pFor, LinkClog)
	}

	switch sp.shape {
	case shapeNodes:
		if len(f.Nodes) == 0 {
			return fmt.Errorf("%s needs at least one node", f.Kind)
		}
		if err := distinct(f.Nodes); err != nil {
			return fmt.Errorf("%s: %w", f.Kind, err)
		}
	case shapeRing:
		if len(f.Nodes) < 3 {
			return fmt.Errorf("%s needs at least 3 nodes in ring order (got %d)", f.Kind, len(f.Nodes))
		}
		if err := distinct(f.Nodes); err != nil {
			return fmt.Errorf("%s: %w", f.Kind, err)
		}
	case shapeGroups:
		if err := f.checkGroups(); err != nil {
			return err
		}
	case shapeLinks:
		if len(f.Links) == 0 {
			return fmt.Errorf("%s needs at least one link", f.Kind)
		}
		seen := make(map[Link]bool, len(f.Links))
		for _, l := range f.Links {
			if l.From == l.To {
				return fmt.Errorf("%s: link %s connects a node to itself", f.Kind, l)
			}
			if seen[l] {
				return fmt.Errorf("%s: link %s listed twice", f.Kind, l)
			}
			seen[l] = true
		}
	}

	switch f.Kind {
	case ClockBump:
		if f.Offset == 0 {
			return fmt.Errorf("%s needs a non-zero delta", f.Kind)
		}
	case ClockStrobe:
		if f.Offset == 0 {
			return fmt.Errorf("%s needs a non-zero delta", f.Kind)
		}
		if f.Period <= 0 {
			return fmt.Errorf("%s needs a period > 0 (got %v)", f.Kind, f.Period)
		}
		if f.Cycles < 1 || f.Cycles > MaxStrobeCycles {
			return fmt.Errorf("%s needs 1 <= cycles <= %d (got %d)", f.Kind, MaxStrobeCycles, f.Cycles)
		}
		if f.strobeEnd() == sim.Never {
			return fmt.Errorf("%s: %d cycles of %v overflow virtual time", f.Kind, f.Cycles, f.Period)
		}
	case ClockDrift:
		if f.PPM == 0 || f.PPM > MaxDriftPPM || f.PPM < -MaxDriftPPM {
			return fmt.Errorf("%s needs a rate with 0 < |ppm| <= %d (got %d)", f.Kind, MaxDriftPPM, f.PPM)
		}
	case LinkFault:
		if f.Link.Delay < 0 {
			return fmt.Errorf("%s needs delay >= 0 (got %v)", f.Kind, f.Link.Delay)
		}
		if f.Link.IsZero() {
			return fmt.Errorf("%s with no loss, duplication or delay does nothing (use %s to clear links)", f.Kind, LinkClear)
		}
	case LinkClog:
		if f.ClogFor <= 0 {
			return fmt.Errorf("%s needs %s= a duration > 0 (got %v): a clog lasts a positive time (%s ends one early)", f.Kind, pFor, f.ClogFor, LinkUnclog)
		}
		if f.clogEnd() == sim.Never {
			return fmt.Errorf("%s: %s=%v from %v overflows virtual time", f.Kind, pFor, f.ClogFor, time.Duration(f.At))
		}
	}
	return nil
}

// clogEnd is the time a link-clog's clog ends (sim.Never on overflow or for
// a clog that does not last).
func (f *Fault) clogEnd() sim.Time {
	if f.ClogFor <= 0 || f.ClogFor >= time.Duration(sim.Never-f.At) {
		return sim.Never
	}
	return f.At.Add(f.ClogFor)
}

// strobeEnd is the time of a strobe's last flip (sim.Never on overflow).
func (f *Fault) strobeEnd() sim.Time {
	flips := int64(2*f.Cycles - 1)
	if f.Period > 0 && flips > int64(sim.Never-f.At)/int64(f.Period) {
		return sim.Never
	}
	return f.At.Add(time.Duration(flips) * f.Period)
}

func (f *Fault) checkGroups() error {
	if len(f.Groups) != 2 {
		return fmt.Errorf("%s needs exactly 2 groups (got %d)", f.Kind, len(f.Groups))
	}
	a, b := f.Groups[0], f.Groups[1]
	if len(a) == 0 || len(b) == 0 {
		return fmt.Errorf("%s: both groups need at least one node", f.Kind)
	}
	if err := distinct(a); err != nil {
		return fmt.Errorf("%s: first group: %w", f.Kind, err)
	}
	if err := distinct(b); err != nil {
		return fmt.Errorf("%s: second group: %w", f.Kind, err)
	}
	var common []sim.NodeID
	for _, x := range a {
		for _, y := range b {
			if x == y {
				common = append(common, x)
			}
		}
	}
	switch f.Kind {
	case PartitionBridge:
		if len(common) != 1 {
			return fmt.Errorf("%s needs exactly one bridge node in both groups (got %d in both)", f.Kind, len(common))
		}
		if len(a) < 2 || len(b) < 2 {
			return fmt.Errorf("%s: each group needs a node besides the bridge %s", f.Kind, common[0])
		}
	default:
		if len(common) > 0 {
			return fmt.Errorf("%s: groups overlap in %s (they must be disjoint)", f.Kind, common[0])
		}
		if f.Kind == PartitionIsolate && len(a) != 1 {
			return fmt.Errorf("%s: first group must be the one isolated node (got %d nodes)", f.Kind, len(a))
		}
	}
	return nil
}

func distinct(ns []sim.NodeID) error {
	for i := range ns {
		for j := 0; j < i; j++ {
			if ns[i] == ns[j] {
				return fmt.Errorf("node %s listed twice", ns[i])
			}
		}
	}
	return nil
}

// nodesOf returns every node f names, in field order (with repeats).
func (f *Fault) nodesOf() []sim.NodeID {
	out := append([]sim.NodeID(nil), f.Nodes...)
	for _, g := range f.Groups {
		out = append(out, g...)
	}
	for _, l := range f.Links {
		out = append(out, l.From, l.To)
	}
	return out
}
