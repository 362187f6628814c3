package history

import (
	"fmt"
	"io"
	"strconv"

	"github.com/faultline-sim/faultline/sim"
)

// ReadEDN reads a Jepsen or Knossos history in EDN and returns its client
// events (see ReadEDNHistory for the nemesis operations and the order used).
func ReadEDN(r io.Reader) ([]Event, error) {
	p, err := ReadEDNHistory(r)
	if err != nil {
		return nil, err
	}
	return p.Events, nil
}

// ReadEDNHistory reads a Jepsen or Knossos history in EDN as these tools
// write it: either one operation after another (one map per line, as
// Jepsen's history.edn) or a whole file that is one vector or list of
// operations (as Knossos's data set), maps spread over any number of
// lines, ; comments anywhere. An operation is a map
//
//	{:process 0, :type :invoke, :f :write, :key "x", :value 3, :time 1200}
//
// or the old tuple [process :type :f value]. :type is :invoke, :ok, :fail
// (did not happen) or :info (unknown outcome). :f is :read or :get (read),
// :write or :put (write), :cas (value [old new]), :append (string
// concatenation, porcupine's kv), :add (set element), :delete, :acquire or
// :release (mutex). Values may be integers, strings, keywords or nil; they
// become strings (3 and "3" are the same value). An ok read of nil is
// NotFound; of a vector or set, its elements. A missing :key is the empty
// key, unless every operation's value is a [key value] pair
// (jepsen.independent, Maelstrom's lin-kv): then the pair's first element is
// the key. Operations whose :process is a keyword (Jepsen's :nemesis) are
// returned as Nemesis, never as client events. Tagged literals
// (#jepsen.history.Op{...}) are read as their value; other keys (:index,
// :node, ...) are ignored. Errors name the line and column, and ReadEDN
// never panics. The order of the events is the file's (see Parsed.Order).
func ReadEDNHistory(r io.Reader) (*Parsed, error) {
	s := newEDNStream(r)
	var raws []rawOp
	add := func(v ednValue, line int) error {
		op, err := rawFromEDN(v)
		if err != nil {
			return fmt.Errorf("history: line %d: %w", line, err)
		}
		op.line = line
		raws = append(raws, op)
		return nil
	}
	// readOne reads the next top-level value (one operation).
	readOne := func() (ednValue, int, error) {
		s.inValue, s.valBytes = true, 0
		line := s.line
		v, err := s.value(0)
		s.inValue = false
		return v, line, err
	}
	wrap := func(err error) error { return fmt.Errorf("history: %w", err) }

	s.skipSpace()
	c, ok := s.peek()
	if s.err != nil {
		return nil, wrap(s.err)
	}
	if ok && (c == '[' || c == '(') {
		// Either a whole-file collection of operations, or a first tuple.
		closing := byte(']')
		kind := ednVector
		if c == '(' {
			closing, kind = ')', ednList
		}
		openLine, openCol := s.line, s.col
		s.next()
		first := true
		for {
			s.skipSpace()
			c, ok := s.peek()
			if s.err != nil {
				return nil, wrap(s.err)
			}
			if !ok {
				return nil, wrap(&ednError{s.line, s.col, fmt.Sprintf("unterminated %s opened at line %d, column %d (missing %q)", kind, openLine, openCol, closing)})
			}
			if c == closing {
				s.next()
				break
			}
			if first && c != '{' && c != '[' && c != '(' && c != '#' {
				// A tuple [process :type :f value] at top level: read the
				// rest of it and go on reading operations one by one.
				s.inValue, s.valBytes = true, 0
				v, err := s.collection(kind, closing, 0)
				s.inValue = false
				if err != nil {
					return nil, wrap(err)
				}
				if err := add(v, openLine); err != nil {
					return nil, err
				}
				if err := readRest(s, readOne, add); err != nil {
					return nil, err
				}
				return fromRaw(raws, FormatEDN)
			}
			first = false
			v, line, err := readOne()
			if err != nil {
				return nil, wrap(err)
			}
			if err := add(v, line); err != nil {
				return nil, err
			}
		}
		s.skipSpace()
		if _, ok := s.peek(); ok {
			return nil, wrap(s.errorf("unexpected input after the %s of operations that began at line %d (want one collection of operations, or one operation after another)", kind, openLine))
		}
		if s.err != nil {
			return nil, wrap(s.err)
		}
		return fromRaw(raws, FormatEDN)
	}
	if err := readRest(s, readOne, add); err != nil {
		return nil, err
	}
	return fromRaw(raws, FormatEDN)
}

// readRest reads operations one after another to the end of the input.
func readRest(s *ednStream, readOne func() (ednValue, int, error), add func(ednValue, int) error) error {
	for {
		s.skipSpace()
		if _, ok := s.peek(); !ok {
			break
		}
		v, line, err := readOne()
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		if err := add(v, line); err != nil {
			return err
		}
	}
	if s.err != nil {
		return fmt.Errorf("history: %w", s.err)
	}
	return nil
}

// rawOp is one operation as read, before independent keys and the order
// are decided.
type rawOp struct {
	line    int
	nemesis string // the keyword process (e.g. "nemesis"), or ""
	client  int
	typ     Type
	f       string
	value   ednValue
	key     *ednValue
	time    int64 // -1: none
	err     string
}

// rawFromEDN converts one parsed operation (a map or a tuple).
func rawFromEDN(v ednValue) (rawOp, error) {
	op := rawOp{time: -1}
	var proc, typ, f ednValue
	var hasProc, hasType, hasF bool
	switch {
	case v.kind == ednMap:
		for i := 0; i+1 < len(v.items); i += 2 {
			k, val := v.items[i], v.items[i+1]
			if k.kind != ednKeyword {
				continue
			}
			switch k.s {
			case "process":
				proc, hasProc = val, true
			case "type":
				typ, hasType = val, true
			case "f":
				f, hasF = val, true
			case "value":
				op.value = val
			case "key":
				kv := val
				op.key = &kv
			case "time":
				if val.kind != ednInt {
					return op, fmt.Errorf(":time must be an integer (nanoseconds), got %s", val.kind)
				}
				n, err := strconv.ParseInt(val.s, 10, 64)
				if err != nil || n < 0 {
					return op, fmt.Errorf(":time %s is not a non-negative int64", val.s)
				}
				op.time = n
			case "error":
				if val.kind != ednNil {
					op.err = val.String()
				}
			}
		}
	case v.isSeq() && len(v.items) >= 3 && len(v.items) <= 4:
		proc, typ, f = v.items[0], v.items[1], v.items[2]
		hasProc, hasType, hasF = true, true, true
		if len(v.items) == 4 {
			op.value = v.items[3]
		}
	default:
		return op, fmt.Errorf("want an operation: a map {:process .., :type .., :f ..} or a tuple [process :type :f value], got %s", short(v))
	}
	switch {
	case !hasProc:
		return op, fmt.Errorf("missing :process")
	case proc.kind == ednKeyword:
		op.nemesis = proc.s
	case proc.kind != ednInt:
		return op, fmt.Errorf(":process must be an integer or a keyword, got %s", proc.kind)
	default:
		n, err := strconv.Atoi(proc.s)
		if err != nil || n < 0 {
			return op, fmt.Errorf(":process %s is not a non-negative int", proc.s)
		}
		op.client = n
	}
	if !hasType || typ.kind != ednKeyword {
		return op, fmt.Errorf("missing or non-keyword :type (want :invoke, :ok, :fail or :info)")
	}
	op.typ = Type(typ.s)
	if !op.typ.Valid() {
		return op, fmt.Errorf(":type :%s (want :invoke, :ok, :fail or :info)", typ.s)
	}
	if !hasF || (f.kind != ednKeyword && f.kind != ednSymbol && f.kind != ednString) {
		if op.nemesis != "" {
			op.f = short(f)
			return op, nil
		}
		return op, fmt.Errorf("missing or non-keyword :f")
	}
	op.f = f.s
	return op, nil
}

// short renders v for an error message, cut to a readable length.
func short(v ednValue) string {
	s := v.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// kindOf maps a Jepsen :f to a Kind.
func kindOf(f string) (Kind, bool) {
	switch f {
	case "read", "get":
		return Read, true
	case "write", "put":
		return Write, true
	case "cas":
		return CAS, true
	case "append":
		return Append, true
	case "add":
		return Add, true
	case "delete":
		return Delete, true
	case "acquire":
		return Acquire, true
	case "release":
		return Release, true
	}
	return "", false
}

// independent reports whether every client operation's value is a
// [key value] pair (a cas's value then being [key [old new]]).
func independent(raws []rawOp) bool {
	n := 0
	for i := range raws {
		r := &raws[i]
		if r.nemesis != "" {
			continue
		}
		if r.key != nil || !r.value.isSeq() || len(r.value.items) != 2 {
			return false
		}
		if k := r.value.items[0].kind; k == ednNil || k >= ednVector {
			return false
		}
		if r.f == "cas" && r.typ == Invoke {
			if inner := r.value.items[1]; !inner.isSeq() || len(inner.items) != 2 {
				return false
			}
		}
		n++
	}
	return n > 0
}

// fromRaw turns raw operations into a Parsed history: it decides whether
// keys are independent and which order to use, then converts each
// operation.
func fromRaw(raws []rawOp, format Format) (*Parsed, error) {
	p := &Parsed{Format: format, Independent: independent(raws)}
	// Order by :time if every client operation has one and it never runs
	// backwards in file order; otherwise by position.
	timed, prev := true, int64(-1)
	var reason string
	for i := range raws {
		r := &raws[i]
		if r.nemesis != "" {
			continue
		}
		if r.time < 0 {
			timed, reason = false, fmt.Sprintf("line %d has no :time", r.line)
			break
		}
		if r.time < prev {
			timed, reason = false, fmt.Sprintf(":time runs backwards at line %d (by %dns)", r.line, prev-r.time)
			break
		}
		prev = r.time
	}
	if timed {
		p.Order = OrderTime
	} else {
		p.Order = OrderPosition
		p.OrderReason = reason
	}
	for i := range raws {
		r := &raws[i]
		t := sim.Time(len(p.Events))
		if timed && r.time >= 0 {
			t = sim.Time(r.time)
		}
		if r.nemesis != "" {
			val := ""
			if r.value.kind != ednNil {
				val = short(r.value)
			}
			p.Nemesis = append(p.Nemesis, NemesisEvent{
				Line: r.line, Process: r.nemesis, Type: r.typ, F: r.f, Value: val,
				Time: t, After: len(p.Events),
			})
			continue
		}
		e, err := r.event(p.Independent)
		if err != nil {
			return nil, fmt.Errorf("history: line %d: %w", r.line, err)
		}
		e.Index = len(p.Events)
		e.Time = t
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("history: line %d: %w", r.line, err)
		}
		p.Events = append(p.Events, e)
	}
	if timed {
		// Nemesis operations without :time sit at the time of the event
		// before them.
		for i := range p.Nemesis {
			n := &p.Nemesis[i]
			if raws := n.After; raws > 0 && n.Time < p.Events[raws-1].Time {
				n.Time = p.Events[raws-1].Time
			}
		}
	}
	return p, nil
}

// event converts one client operation.
func (r *rawOp) event(indep bool) (Event, error) {
	e := Event{Type: r.typ, Client: r.client, Err: r.err}
	kind, ok := kindOf(r.f)
	if !ok {
		return e, fmt.Errorf(":f :%s not supported (want :read, :get, :write, :put, :cas, :append, :add, :delete, :acquire or :release)", r.f)
	}
	e.Kind = kind
	val := r.value
	if indep {
		k, err := val.items[0].scalar()
		if err != nil {
			return e, fmt.Errorf("independent key: %w", err)
		}
		e.Key = k
		val = val.items[1]
	} else if r.key != nil {
		k, err := r.key.scalar()
		if err != nil {
			return e, fmt.Errorf(":key: %w", err)
		}
		e.Key = k
	}
	switch {
	case kind == Read:
		if e.Type != OK {
			return e, nil // an invocation's or unfinished read's value means nothing
		}
		switch val.kind {
		case ednNil:
			e.NotFound = true
		case ednVector, ednList, ednSet:
			e.Values = make([]string, 0, len(val.items))
			for _, it := range val.items {
				s, err := it.scalar()
				if err != nil {
					return e, fmt.Errorf(":value element: %w", err)
				}
				e.Values = append(e.Values, s)
			}
		case ednMap:
			return e, fmt.Errorf(":read of a map is not supported (want a scalar, nil, or a collection of elements)")
		default:
			e.Values = []string{val.s}
		}
	case kind == Delete || kind == Acquire || kind == Release:
	case e.Type == Invoke && kind == CAS:
		if !val.isSeq() || len(val.items) != 2 {
			return e, fmt.Errorf(":cas :value must be [old new], got %s", short(val))
		}
		if val.items[0].kind == ednNil {
			return e, fmt.Errorf(":cas expecting nil is not supported (compare against a written value)")
		}
		var err error
		if e.Expect, err = val.items[0].scalar(); err != nil {
			return e, fmt.Errorf(":cas old value: %w", err)
		}
		if e.Value, err = val.items[1].scalar(); err != nil {
			return e, fmt.Errorf(":cas new value: %w", err)
		}
	case e.Type == Invoke:
		if val.kind == ednNil {
			return e, fmt.Errorf(":%s of nil (want a value)", r.f)
		}
		var err error
		if e.Value, err = val.scalar(); err != nil {
			return e, fmt.Errorf(":value: %w", err)
		}
	}
	return e, nil
}
