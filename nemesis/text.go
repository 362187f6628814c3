package nemesis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-sim/faultline/sim"
)

// String formats f as one line of a schedule's text form:
//
//	<at> <kind> [<target>] [<key>=<value> ...]
//
// where at is a Go duration since the start of the run, the target is a
// node list ("n1,n2"), two groups ("n1,n2|n3,n4,n5") or directed links
// ("n1>n2,n2>n1"), and every parameter of the kind is printed, e.g.
//
//	1.5s crash n3 lose-unsynced=true
//	2s clock-strobe n1,n4 delta=-200ms period=10ms cycles=20
//	2.5s link-faults n2>n5,n5>n2 loss=1/20 dup=0 delay=50ms
//	3s link-clog n1>n2,n2>n1 for=200ms
func (f Fault) String() string {
	return time.Duration(f.At).String() + " " + f.Label()
}

// Label formats f without its time: the kind, target and parameters.
func (f Fault) Label() string {
	var b strings.Builder
	b.WriteString(string(f.Kind))
	sp := specs[f.Kind]
	switch sp.shape {
	case shapeNodes, shapeRing:
		b.WriteString(" " + nodeList(f.Nodes))
	case shapeGroups:
		b.WriteString(" ")
		for i, g := range f.Groups {
			if i > 0 {
				b.WriteString("|")
			}
			b.WriteString(nodeList(g))
		}
	case shapeLinks:
		b.WriteString(" ")
		for i, l := range f.Links {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(l.String())
		}
	}
	for _, p := range sp.params {
		b.WriteString(" " + p + "=")
		switch p {
		case pLoseUnsynced:
			b.WriteString(strconv.FormatBool(f.LoseUnsynced))
		case pOffset, pDelta:
			b.WriteString(f.Offset.String())
		case pPeriod:
			b.WriteString(f.Period.String())
		case pCycles:
			b.WriteString(strconv.Itoa(f.Cycles))
		case pPPM:
			b.WriteString(strconv.FormatInt(f.PPM, 10))
		case pLoss:
			b.WriteString(f.Link.Loss.String())
		case pDup:
			b.WriteString(f.Link.Duplicate.String())
		case pDelay:
			b.WriteString(f.Link.Delay.String())
		case pFor:
			b.WriteString(f.ClogFor.String())
		}
	}
	return b.String()
}

// String formats the schedule one fault per line (each line ending in a
// newline), in the form Parse reads back. The empty schedule is "".
func (s Schedule) String() string {
	var b strings.Builder
	for _, f := range s {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Bounds on what Parse and ParseFault read, so that no input can make them
// slow or large: checking a target is quadratic in its node list at worst,
// and a list is bounded by the simulator's node limit.
const (
	// MaxScheduleBytes bounds a schedule's text.
	MaxScheduleBytes = 1 << 20
	// MaxFaultLineBytes bounds one line (one fault).
	MaxFaultLineBytes = 64 << 10
	// MaxFaults bounds the faults of one schedule.
	MaxFaults = 100_000
	// MaxTargetNodes bounds a node list, each group of a partition, and a
	// link list (the simulator runs at most 1024 nodes).
	MaxTargetNodes = 1024
)

// Parse reads a schedule in the text form String writes. Blank lines and
// lines starting with '#' are skipped. Every parameter of a kind must be
// given. A malformed line, an invalid fault or a time earlier than the
// previous fault's gives an error naming the line, and so does input over
// the bounds above.
func Parse(text string) (Schedule, error) {
	if len(text) > MaxScheduleBytes {
		return nil, fmt.Errorf("nemesis schedule: %d bytes, more than the %d a schedule may have", len(text), MaxScheduleBytes)
	}
	var s Schedule
	for i, line := range strings.Split(text, "\n") {
		lineNo := i + 1
		if len(line) > MaxFaultLineBytes {
			return nil, fmt.Errorf("nemesis schedule line %d: %d bytes, more than the %d a fault may have", lineNo, len(line), MaxFaultLineBytes)
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(s) == MaxFaults {
			return nil, fmt.Errorf("nemesis schedule line %d: more than %d faults", lineNo, MaxFaults)
		}
		f, err := parseFault(line)
		if err != nil {
			return nil, fmt.Errorf("nemesis schedule line %d: %w", lineNo, err)
		}
		if n := len(s); n > 0 && f.At < s[n-1].At {
			return nil, fmt.Errorf("nemesis schedule line %d: time %v is before the previous fault's %v (faults must be sorted by time)", lineNo, time.Duration(f.At), time.Duration(s[n-1].At))
		}
		s = append(s, f)
	}
	return s, nil
}

// ParseFault reads one fault in the form Fault.String writes.
func ParseFault(line string) (Fault, error) {
	if len(line) > MaxFaultLineBytes {
		return Fault{}, fmt.Errorf("fault: %d bytes, more than the %d a fault may have", len(line), MaxFaultLineBytes)
	}
	return parseFault(strings.TrimSpace(line))
}

func parseFault(line string) (Fault, error) {
	var f Fault
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return f, fmt.Errorf("%q: want \"<time> <kind> [target] [key=value ...]\"", line)
	}
	at, err := time.ParseDuration(fields[0])
	if err != nil {
		return f, fmt.Errorf("time %q: %v (want a Go duration such as 1.5s)", fields[0], err)
	}
	if at < 0 {
		return f, fmt.Errorf("time %q is negative", fields[0])
	}
	f.At = sim.Time(at)
	f.Kind = Kind(fields[1])
	sp, ok := specs[f.Kind]
	if !ok {
		return f, fmt.Errorf("unknown fault kind %q (known: %s)", fields[1], kindList())
	}
	rest := fields[2:]
	if sp.shape != shapeNone {
		if len(rest) == 0 || strings.Contains(rest[0], "=") {
			return f, fmt.Errorf("%s needs a target (%s) before its parameters", f.Kind, shapeHint(sp.shape))
		}
		target := rest[0]
		rest = rest[1:]
		switch sp.shape {
		case shapeNodes, shapeRing:
			f.Nodes, err = parseNodeList(target)
		case shapeGroups:
			parts := strings.Split(target, "|")
			if len(parts) != 2 {
				err = fmt.Errorf("groups %q: want two node lists separated by '|'", target)
				break
			}
			f.Groups = make([][]sim.NodeID, 2)
			for i, p := range parts {
				if f.Groups[i], err = parseNodeList(p); err != nil {
					break
				}
			}
		case shapeLinks:
			f.Links, err = parseLinks(target)
		}
		if err != nil {
			return f, fmt.Errorf("%s: %w", f.Kind, err)
		}
	}
	given := make(map[string]bool, len(rest))
	for _, kv := range rest {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return f, fmt.Errorf("%s: %q is not a key=value parameter", f.Kind, kv)
		}
		if !hasParam(sp, k) {
			if len(sp.params) == 0 {
				return f, fmt.Errorf("%s takes no parameters (got %q)", f.Kind, kv)
			}
			return f, fmt.Errorf("%s: unknown parameter %q (want %s)", f.Kind, k, strings.Join(sp.params, ", "))
		}
		if given[k] {
			return f, fmt.Errorf("%s: parameter %q given twice", f.Kind, k)
		}
		given[k] = true
		if err := f.setParam(k, v); err != nil {
			return f, fmt.Errorf("%s: %s=%q: %w", f.Kind, k, v, err)
		}
	}
	for _, p := range sp.params {
		if !given[p] {
			return f, fmt.Errorf("%s: missing parameter %s= (every parameter must be given: %s)", f.Kind, p, strings.Join(sp.params, ", "))
		}
	}
	if err := f.check(); err != nil {
		return f, err
	}
	return f, nil
}

func shapeHint(s shape) string {
	switch s {
	case shapeNodes:
		return "a node list such as n1,n2"
	case shapeRing:
		return "nodes in ring order such as n1,n3,n5,n2,n4"
	case shapeGroups:
		return "two groups such as n1,n2|n3,n4,n5"
	case shapeLinks:
		return "directed links such as n1>n2,n2>n1"
	}
	return "none"
}

func hasParam(sp kindSpec, k string) bool {
	for _, p := range sp.params {
		if p == k {
			return true
		}
	}
	return false
}

func (f *Fault) setParam(k, v string) error {
	var err error
	switch k {
	case pLoseUnsynced:
		f.LoseUnsynced, err = strconv.ParseBool(v)
	case pOffset, pDelta:
		f.Offset, err = time.ParseDuration(v)
	case pPeriod:
		f.Period, err = time.ParseDuration(v)
	case pCycles:
		f.Cycles, err = strconv.Atoi(v)
	case pPPM:
		f.PPM, err = strconv.ParseInt(v, 10, 64)
	case pLoss:
		f.Link.Loss, err = ParseProb(v)
	case pDup:
		f.Link.Duplicate, err = ParseProb(v)
	case pDelay:
		f.Link.Delay, err = time.ParseDuration(v)
	case pFor:
		f.ClogFor, err = time.ParseDuration(v)
	}
	return err
}

// ParseProb reads a probability as sim.Prob prints it: "0", a ratio
// "num/den" or a decimal in [0,1] such as "0.05". "0" gives the zero Prob.
func ParseProb(s string) (sim.Prob, error) {
	if s == "0" {
		return sim.Prob{}, nil
	}
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseUint(num, 10, 64)
		d, err2 := strconv.ParseUint(den, 10, 64)
		if err1 != nil || err2 != nil {
			return sim.Prob{}, fmt.Errorf("probability %q: want num/den with non-negative integers", s)
		}
		return sim.Ratio(n, d)
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) {
		return sim.Prob{}, fmt.Errorf("probability %q: want 0, num/den or a decimal in [0,1]", s)
	}
	return sim.P(x)
}

func nodeList(ns []sim.NodeID) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.String()
	}
	return strings.Join(parts, ",")
}

func parseNodeList(s string) ([]sim.NodeID, error) {
	if s == "" {
		return nil, fmt.Errorf("empty node list")
	}
	if n := strings.Count(s, ",") + 1; n > MaxTargetNodes {
		return nil, fmt.Errorf("node list of %d nodes: at most %d", n, MaxTargetNodes)
	}
	parts := strings.Split(s, ",")
	out := make([]sim.NodeID, len(parts))
	for i, p := range parts {
		id, err := ParseNodeID(p)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// ParseNodeID reads a node id as sim.NodeID prints it, e.g. "n3".
func ParseNodeID(s string) (sim.NodeID, error) {
	if len(s) < 2 || s[0] != 'n' {
		return 0, fmt.Errorf("node %q: want n<number> such as n3", s)
	}
	v, err := strconv.ParseUint(s[1:], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("node %q: want n<number> such as n3", s)
	}
	return sim.NodeID(v), nil
}

func parseLinks(s string) ([]Link, error) {
	if s == "" {
		return nil, fmt.Errorf("empty link list")
	}
	if n := strings.Count(s, ",") + 1; n > MaxTargetNodes {
		return nil, fmt.Errorf("link list of %d links: at most %d", n, MaxTargetNodes)
	}
	parts := strings.Split(s, ",")
	out := make([]Link, len(parts))
	for i, p := range parts {
		a, b, ok := strings.Cut(p, ">")
		if !ok {
			return nil, fmt.Errorf("link %q: want from>to such as n1>n2", p)
		}
		from, err := ParseNodeID(a)
		if err != nil {
			return nil, fmt.Errorf("link %q: %w", p, err)
		}
		to, err := ParseNodeID(b)
		if err != nil {
			return nil, fmt.Errorf("link %q: %w", p, err)
		}
		out[i] = Link{From: from, To: to}
	}
	return out, nil
}
