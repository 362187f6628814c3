package nemesis

import (
	"fmt"
	"sort"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// fakeTarget records every call with the loop time, and enforces the
// Target contract like a strict cluster would.
type fakeTarget struct {
	loop    *sim.Loop
	calls   []string
	known   map[sim.NodeID]bool
	member  map[sim.NodeID]bool
	crashed map[sim.NodeID]bool
	paused  map[sim.NodeID]bool
	cuts    map[Link]bool
	links   map[Link]LinkFaults
	held    map[Link]bool
	clogged map[Link]sim.Time // until
	offset  map[sim.NodeID]time.Duration
	drift   map[sim.NodeID]int64
	minMem  int
	failOn  string // a call prefix that fails
}

func newFake(loop *sim.Loop, members, spares []sim.NodeID) *fakeTarget {
	f := &fakeTarget{
		loop: loop, known: map[sim.NodeID]bool{}, member: map[sim.NodeID]bool{},
		crashed: map[sim.NodeID]bool{}, paused: map[sim.NodeID]bool{},
		cuts: map[Link]bool{}, links: map[Link]LinkFaults{}, held: map[Link]bool{}, clogged: map[Link]sim.Time{},
		offset: map[sim.NodeID]time.Duration{}, drift: map[sim.NodeID]int64{},
	}
	for _, n := range members {
		f.known[n], f.member[n] = true, true
	}
	for _, n := range spares {
		f.known[n] = true
	}
	return f
}

func (f *fakeTarget) call(format string, args ...any) error {
	s := fmt.Sprintf("%v ", time.Duration(f.loop.Now())) + fmt.Sprintf(format, args...)
	f.calls = append(f.calls, s)
	if f.failOn != "" && len(s) >= len(f.failOn) && contains(s, f.failOn) {
		return fmt.Errorf("injected failure")
	}
	return nil
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func (f *fakeTarget) need(n sim.NodeID) error {
	if !f.known[n] {
		return fmt.Errorf("unknown node %s", n)
	}
	return nil
}

func (f *fakeTarget) up(n sim.NodeID) error {
	if err := f.need(n); err != nil {
		return err
	}
	if !f.member[n] {
		return fmt.Errorf("%s is not a member", n)
	}
	if f.crashed[n] || f.paused[n] {
		return fmt.Errorf("%s is down", n)
	}
	return nil
}

func (f *fakeTarget) CutLink(from, to sim.NodeID) error {
	if err := f.call("cut %s>%s", from, to); err != nil {
		return err
	}
	if err := f.need(from); err != nil {
		return err
	}
	if err := f.need(to); err != nil {
		return err
	}
	f.cuts[Link{from, to}] = true
	return nil
}

func (f *fakeTarget) Heal() error {
	if err := f.call("heal"); err != nil {
		return err
	}
	f.cuts = map[Link]bool{}
	return nil
}

func (f *fakeTarget) Crash(n sim.NodeID, lose bool) error {
	if err := f.call("crash %s %v", n, lose); err != nil {
		return err
	}
	if err := f.up(n); err != nil {
		return err
	}
	f.crashed[n] = true
	return nil
}

func (f *fakeTarget) Restart(n sim.NodeID) error {
	if err := f.call("restart %s", n); err != nil {
		return err
	}
	if !f.crashed[n] {
		return fmt.Errorf("%s is not crashed", n)
	}
	delete(f.crashed, n)
	return nil
}

func (f *fakeTarget) Pause(n sim.NodeID) error {
	if err := f.call("pause %s", n); err != nil {
		return err
	}
	if err := f.up(n); err != nil {
		return err
	}
	f.paused[n] = true
	return nil
}

func (f *fakeTarget) Resume(n sim.NodeID) error {
	if err := f.call("resume %s", n); err != nil {
		return err
	}
	if !f.paused[n] {
		return fmt.Errorf("%s is not paused", n)
	}
	delete(f.paused, n)
	return nil
}

func (f *fakeTarget) SetClockOffset(n sim.NodeID, off time.Duration) error {
	if err := f.call("offset %s %v", n, off); err != nil {
		return err
	}
	if err := f.need(n); err != nil {
		return err
	}
	f.offset[n] = off
	return nil
}

func (f *fakeTarget) BumpClock(n sim.NodeID, d time.Duration) error {
	if err := f.call("bump %s %v", n, d); err != nil {
		return err
	}
	if err := f.need(n); err != nil {
		return err
	}
	f.offset[n] += d
	return nil
}

func (f *fakeTarget) SetClockDrift(n sim.NodeID, ppm int64) error {
	if err := f.call("drift %s %d", n, ppm); err != nil {
		return err
	}
	if err := f.need(n); err != nil {
		return err
	}
	f.drift[n] = ppm
	return nil
}

func (f *fakeTarget) SetLinkFaults(from, to sim.NodeID, lf LinkFaults) error {
	if err := f.call("link %s>%s loss=%v dup=%v delay=%v", from, to, lf.Loss, lf.Duplicate, lf.Delay); err != nil {
		return err
	}
	if err := f.need(from); err != nil {
		return err
	}
	if err := f.need(to); err != nil {
		return err
	}
	if lf.IsZero() {
		delete(f.links, Link{from, to})
	} else {
		f.links[Link{from, to}] = lf
	}
	return nil
}

func (f *fakeTarget) Join(n sim.NodeID) error {
	if err := f.call("join %s", n); err != nil {
		return err
	}
	if err := f.need(n); err != nil {
		return err
	}
	if f.member[n] {
		return fmt.Errorf("%s is already a member", n)
	}
	f.member[n] = true
	return nil
}

func (f *fakeTarget) Leave(n sim.NodeID) error {
	if err := f.call("leave %s", n); err != nil {
		return err
	}
	if err := f.up(n); err != nil {
		return err
	}
	if f.minMem > 0 && len(f.member)-1 < f.minMem {
		return fmt.Errorf("leaving %s would leave %d members, fewer than %d", n, len(f.member)-1, f.minMem)
	}
	delete(f.member, n)
	return nil
}

// residue lists what is still in effect (sorted), compared with the
// initial membership.
func (f *fakeTarget) residue(initial []sim.NodeID) []string {
	var out []string
	for l := range f.cuts {
		out = append(out, "cut "+l.String())
	}
	for n := range f.crashed {
		out = append(out, "crashed "+n.String())
	}
	for n := range f.paused {
		out = append(out, "paused "+n.String())
	}
	for n, o := range f.offset {
		if o != 0 {
			out = append(out, fmt.Sprintf("offset %s %v", n, o))
		}
	}
	for n, d := range f.drift {
		if d != 0 {
			out = append(out, fmt.Sprintf("drift %s %d", n, d))
		}
	}
	for l := range f.links {
		out = append(out, "link "+l.String())
	}
	for l := range f.held {
		out = append(out, "held "+l.String())
	}
	for l, until := range f.clogged {
		if until > f.loop.Now() {
			out = append(out, "clogged "+l.String())
		}
	}
	init := map[sim.NodeID]bool{}
	for _, n := range initial {
		init[n] = true
		if !f.member[n] {
			out = append(out, "left "+n.String())
		}
	}
	for n := range f.member {
		if !init[n] {
			out = append(out, "joined "+n.String())
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeTarget) HoldLink(from, to sim.NodeID) error {
	if err := f.call("hold %s>%s", from, to); err != nil {
		return err
	}
	if err := f.need(from); err != nil {
		return err
	}
	if err := f.need(to); err != nil {
		return err
	}
	f.held[Link{from, to}] = true
	return nil
}

func (f *fakeTarget) ReleaseLink(from, to sim.NodeID) error {
	if err := f.call("release %s>%s", from, to); err != nil {
		return err
	}
	delete(f.held, Link{from, to})
	return nil
}

func (f *fakeTarget) ClogLink(from, to sim.NodeID, until sim.Time) error {
	if err := f.call("clog %s>%s until %v", from, to, time.Duration(until)); err != nil {
		return err
	}
	if err := f.need(from); err != nil {
		return err
	}
	if err := f.need(to); err != nil {
		return err
	}
	if until < 0 {
		return fmt.Errorf("clog until %d: not a virtual time", int64(until))
	}
	f.clogged[Link{from, to}] = until
	return nil
}
