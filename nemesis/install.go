package nemesis

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// Install schedules every fault of s on loop at its time, applied to t.
// When a fault is applied, its text form and time are mixed into the loop's
// trace hash (with whether the target accepted it); if the target returns
// errors, onErr is called once for that fault with them joined. A
// clock-strobe schedules its flips (BumpClock by +Offset, then -Offset,
// Cycles times, one flip every Period) and mixes each into the trace.
// Faults whose time has passed are applied at the loop's current time, in
// order. Install returns an error, scheduling nothing, if s fails Check, an
// argument is nil, or s clogs links and t is not a LinkClogger.
func (s Schedule) Install(loop *sim.Loop, t Target, onErr func(Fault, error)) error {
	switch {
	case loop == nil:
		return errors.New("nemesis: Install needs a loop")
	case t == nil:
		return errors.New("nemesis: Install needs a target")
	case onErr == nil:
		return errors.New("nemesis: Install needs an onErr callback (target errors must not pass silently)")
	}
	if err := s.Check(); err != nil {
		return err
	}
	if _, ok := t.(LinkClogger); !ok {
		for i := range s {
			if k := s[i].Kind; k == LinkClog || k == LinkUnclog {
				return fmt.Errorf("nemesis schedule fault %d (%s): %w", i+1, s[i], errNoClogger(t))
			}
		}
	}
	for i := range s {
		f := cloneFault(s[i])
		loop.At(f.At, func() {
			err := Apply(f, t)
			if f.Kind == ClockStrobe && err == nil {
				scheduleStrobe(loop, t, f, onErr)
			}
			record(loop, "nemesis", f.Label(), err)
			if err != nil {
				onErr(f, err)
			}
		})
	}
	return nil
}

// Apply applies one fault to t at once (a clock-strobe applies only its
// first flip; Install schedules the rest) and returns the target's errors
// joined, each naming the call that failed.
func Apply(f Fault, t Target) error {
	var errs []error
	add := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	switch f.Kind {
	case PartitionIsolate, PartitionHalves, PartitionOneWay, PartitionBridge, PartitionRing:
		for _, l := range f.Cuts() {
			add("cut "+l.String(), t.CutLink(l.From, l.To))
		}
	case Heal:
		add("heal", t.Heal())
	case Crash:
		for _, n := range f.Nodes {
			add("crash "+n.String(), t.Crash(n, f.LoseUnsynced))
		}
	case Restart:
		for _, n := range f.Nodes {
			add("restart "+n.String(), t.Restart(n))
		}
	case Pause:
		for _, n := range f.Nodes {
			add("pause "+n.String(), t.Pause(n))
		}
	case Resume:
		for _, n := range f.Nodes {
			add("resume "+n.String(), t.Resume(n))
		}
	case ClockSkew:
		for _, n := range f.Nodes {
			add("clock offset "+n.String(), t.SetClockOffset(n, f.Offset))
		}
	case ClockBump, ClockStrobe:
		for _, n := range f.Nodes {
			add("clock bump "+n.String(), t.BumpClock(n, f.Offset))
		}
	case ClockDrift:
		for _, n := range f.Nodes {
			add("clock drift "+n.String(), t.SetClockDrift(n, f.PPM))
		}
	case ClockReset:
		for _, n := range f.Nodes {
			add("clock drift "+n.String(), t.SetClockDrift(n, 0))
			add("clock offset "+n.String(), t.SetClockOffset(n, 0))
		}
	case LinkFault:
		for _, l := range f.Links {
			add("link faults "+l.String(), t.SetLinkFaults(l.From, l.To, f.Link))
		}
	case LinkClear:
		for _, l := range f.Links {
			add("link clear "+l.String(), t.SetLinkFaults(l.From, l.To, LinkFaults{}))
		}
	case LinkHold:
		for _, l := range f.Links {
			add("link hold "+l.String(), t.HoldLink(l.From, l.To))
		}
	case LinkRelease:
		for _, l := range f.Links {
			add("link release "+l.String(), t.ReleaseLink(l.From, l.To))
		}
	case LinkClog, LinkUnclog:
		c, ok := t.(LinkClogger)
		if !ok {
			return errNoClogger(t)
		}
		if err := f.check(); err != nil {
			return err
		}
		until, what := sim.Time(0), "link unclog "
		if f.Kind == LinkClog {
			until, what = f.clogEnd(), "link clog "
		}
		for _, l := range f.Links {
			add(what+l.String(), c.ClogLink(l.From, l.To, until))
		}
	case Join:
		for _, n := range f.Nodes {
			add("join "+n.String(), t.Join(n))
		}
	case Leave:
		for _, n := range f.Nodes {
			add("leave "+n.String(), t.Leave(n))
		}
	default:
		return fmt.Errorf("unknown fault kind %q (known: %s)", f.Kind, kindList())
	}
	return errors.Join(errs...)
}

func errNoClogger(t Target) error {
	return fmt.Errorf("the target (%T) cannot clog links: it needs the method ClogLink(from, to sim.NodeID, until sim.Time) error (nemesis.LinkClogger)", t)
}

// scheduleStrobe schedules flips 1..2*Cycles-1 of a strobe whose first flip
// (forward) was just applied.
func scheduleStrobe(loop *sim.Loop, t Target, f Fault, onErr func(Fault, error)) {
	for k := 1; k < 2*f.Cycles; k++ {
		delta := f.Offset
		if k%2 == 1 {
			delta = -delta
		}
		at := f.At.Add(time.Duration(k) * f.Period)
		loop.At(at, func() {
			var errs []error
			for _, n := range f.Nodes {
				if err := t.BumpClock(n, delta); err != nil {
					errs = append(errs, fmt.Errorf("clock bump %s: %w", n, err))
				}
			}
			err := errors.Join(errs...)
			record(loop, "nemesis/strobe", fmt.Sprintf("%s flip %d delta=%v", f.Label(), k, delta), err)
			if err != nil {
				onErr(f, err)
			}
		})
	}
}

func record(loop *sim.Loop, tag, label string, err error) {
	h := loop.Trace()
	h.WriteString(label)
	ok := uint64(1)
	if err != nil {
		ok = 0
	}
	h.Record(tag, uint64(loop.Now()), ok)
}

func cloneFault(f Fault) Fault {
	f.Nodes = append([]sim.NodeID(nil), f.Nodes...)
	if f.Groups != nil {
		gs := make([][]sim.NodeID, len(f.Groups))
		for i, g := range f.Groups {
			gs[i] = append([]sim.NodeID(nil), g...)
		}
		f.Groups = gs
	}
	f.Links = append([]Link(nil), f.Links...)
	return f
}
