package history

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faultline-sim/faultline/sim"
)

// ReadEDN reads a Jepsen history with one EDN map per line, e.g.
//
//	{:process 0, :type :invoke, :f :write, :key "x", :value 3, :time 1200}
//	{:process 0, :type :ok, :f :write, :key "x", :value 3, :time 5400}
//	{:process 1, :type :ok, :f :cas, :key "x", :value [3 4]}
//
// :type is :invoke, :ok, :fail (did not happen) or :info (unknown outcome).
// :f is :read or :get (read), :write or :put (write), :cas (value [old new]),
// :append (element add) or :delete. Values may be integers, strings,
// keywords or nil; they become strings (3 and "3" are the same value). An ok
// read of nil is NotFound; of a vector or set, its elements. A missing :key
// is the empty key. Lines whose :process is a keyword (Jepsen's :nemesis)
// are skipped. :time is in nanoseconds; if no line has one, events are
// timed by their order. Blank lines and ;-comments are skipped, tagged
// literals (#jepsen.history.Op{...}) are read as their value, and other
// keys (:index, :node, ...) are ignored. Errors name the line and column;
// ReadEDN never panics.
func ReadEDN(r io.Reader) ([]Event, error) {
	var events []Event
	timed := 0 // 0 unknown, 1 every line has :time, -1 none has
	err := eachLine(r, func(lineNo int, line []byte) error {
		if !utf8.Valid(line) {
			return fmt.Errorf("history: line %d: not valid UTF-8", lineNo)
		}
		p := ednParser{src: string(line)}
		p.skipSpace()
		if p.pos == len(p.src) {
			return nil
		}
		v, err := p.value(0)
		if err == nil {
			p.skipSpace()
			if p.pos != len(p.src) {
				err = p.errorf("unexpected %q after the map (want one map per line)", p.src[p.pos:min(p.pos+10, len(p.src))])
			}
		}
		if err != nil {
			return fmt.Errorf("history: line %d, %w", lineNo, err)
		}
		e, skip, err := ednEvent(v)
		if err != nil {
			return fmt.Errorf("history: line %d: %w", lineNo, err)
		}
		if skip {
			return nil
		}
		hasTime := e.Time >= 0
		switch {
		case timed == 0 && hasTime:
			timed = 1
		case timed == 0:
			timed = -1
		case timed == 1 && !hasTime:
			return fmt.Errorf("history: line %d: no :time, but earlier lines have one (give every line a :time or none)", lineNo)
		case timed == -1 && hasTime:
			return fmt.Errorf("history: line %d: has a :time, but earlier lines have none (give every line a :time or none)", lineNo)
		}
		e.Index = len(events)
		if !hasTime {
			e.Time = sim.Time(e.Index)
		}
		if n := len(events); n > 0 && e.Time < events[n-1].Time {
			return fmt.Errorf("history: line %d: :time %d goes backwards (previous event at %d)", lineNo, e.Time, events[n-1].Time)
		}
		if err := e.check(); err != nil {
			return fmt.Errorf("history: line %d: %w", lineNo, err)
		}
		events = append(events, e)
		return nil
	})
	return events, err
}

// ednEvent converts one parsed line to an Event. Time is -1 when the line
// has no :time. skip reports a nemesis line.
func ednEvent(v ednValue) (e Event, skip bool, err error) {
	if v.kind != ednMap {
		return e, false, fmt.Errorf("want a map {:process .., :type .., :f ..}, got %s", v.kind)
	}
	fields := map[string]ednValue{}
	for i := 0; i+1 < len(v.items); i += 2 {
		k := v.items[i]
		if k.kind == ednKeyword {
			fields[k.s] = v.items[i+1]
		}
	}
	proc, ok := fields["process"]
	switch {
	case !ok:
		return e, false, fmt.Errorf("missing :process")
	case proc.kind == ednKeyword:
		return e, true, nil // :nemesis and other non-client processes
	case proc.kind != ednInt:
		return e, false, fmt.Errorf(":process must be an integer or a keyword, got %s", proc.kind)
	}
	client, perr := strconv.Atoi(proc.s)
	if perr != nil || client < 0 {
		return e, false, fmt.Errorf(":process %s is not a non-negative int", proc.s)
	}
	e.Client = client

	typ, ok := fields["type"]
	if !ok || typ.kind != ednKeyword {
		return e, false, fmt.Errorf("missing or non-keyword :type (want :invoke, :ok, :fail or :info)")
	}
	e.Type = Type(typ.s)
	if !e.Type.Valid() {
		return e, false, fmt.Errorf(":type :%s (want :invoke, :ok, :fail or :info)", typ.s)
	}
	f, ok := fields["f"]
	if !ok || f.kind != ednKeyword {
		return e, false, fmt.Errorf("missing or non-keyword :f")
	}
	switch f.s {
	case "read", "get":
		e.Kind = Read
	case "write", "put":
		e.Kind = Write
	case "cas":
		e.Kind = CAS
	case "append":
		e.Kind = Add
	case "delete":
		e.Kind = Delete
	default:
		return e, false, fmt.Errorf(":f :%s not supported (want :read, :get, :write, :put, :cas, :append or :delete)", f.s)
	}
	if k, ok := fields["key"]; ok {
		if e.Key, err = k.scalar(); err != nil {
			return e, false, fmt.Errorf(":key: %w", err)
		}
	}
	e.Time = -1
	if t, ok := fields["time"]; ok {
		if t.kind != ednInt {
			return e, false, fmt.Errorf(":time must be an integer (nanoseconds), got %s", t.kind)
		}
		n, terr := strconv.ParseInt(t.s, 10, 64)
		if terr != nil || n < 0 {
			return e, false, fmt.Errorf(":time %s is not a non-negative int64", t.s)
		}
		e.Time = sim.Time(n)
	}
	if x, ok := fields["error"]; ok && x.kind != ednNil {
		e.Err = x.String()
	}
	val, hasVal := fields["value"]
	if !hasVal {
		val = ednValue{kind: ednNil}
	}
	switch {
	case e.Kind == Read:
		if e.Type != OK {
			return e, false, nil // an invocation's or failed read's value means nothing
		}
		switch val.kind {
		case ednNil:
			e.NotFound = true
		case ednVector, ednList, ednSet:
			e.Values = make([]string, 0, len(val.items))
			for _, it := range val.items {
				s, err := it.scalar()
				if err != nil {
					return e, false, fmt.Errorf(":value element: %w", err)
				}
				e.Values = append(e.Values, s)
			}
		default:
			s, _ := val.scalar()
			e.Values = []string{s}
		}
	case e.Kind == Delete:
	case e.Type == Invoke && e.Kind == CAS:
		if (val.kind != ednVector && val.kind != ednList) || len(val.items) != 2 {
			return e, false, fmt.Errorf(":cas :value must be [old new], got %s", val)
		}
		if val.items[0].kind == ednNil {
			return e, false, fmt.Errorf(":cas expecting nil is not supported (compare against a written value)")
		}
		if e.Expect, err = val.items[0].scalar(); err != nil {
			return e, false, fmt.Errorf(":cas old value: %w", err)
		}
		if e.Value, err = val.items[1].scalar(); err != nil {
			return e, false, fmt.Errorf(":cas new value: %w", err)
		}
	case e.Type == Invoke:
		if val.kind == ednNil {
			return e, false, fmt.Errorf(":%s of nil (want a value)", f.s)
		}
		if e.Value, err = val.scalar(); err != nil {
			return e, false, fmt.Errorf(":value: %w", err)
		}
	}
	return e, false, nil
}

type ednKind int

const (
	ednNil ednKind = iota
	ednBool
	ednInt
	ednFloat
	ednString
	ednKeyword
	ednSymbol
	ednChar
	ednVector
	ednList
	ednSet
	ednMap
)

func (k ednKind) String() string {
	return [...]string{"nil", "boolean", "integer", "float", "string", "keyword", "symbol", "character", "vector", "list", "set", "map"}[k]
}

// ednValue is a parsed EDN value: s holds a scalar's text (a keyword's
// name without the colon), items a collection's elements (a map's keys and
// values alternating).
type ednValue struct {
	kind  ednKind
	s     string
	items []ednValue
}

// scalar returns a scalar value as a history string.
func (v ednValue) scalar() (string, error) {
	switch v.kind {
	case ednNil:
		return "", fmt.Errorf("nil where a value is needed")
	case ednVector, ednList, ednSet, ednMap:
		return "", fmt.Errorf("a %s where a scalar is needed", v.kind)
	}
	return v.s, nil
}

// String renders v back as (normalised) EDN.
func (v ednValue) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v ednValue) write(b *strings.Builder) {
	open, closing := "", ""
	switch v.kind {
	case ednNil:
		b.WriteString("nil")
		return
	case ednString:
		b.WriteString(strconv.Quote(v.s))
		return
	case ednKeyword:
		b.WriteString(":" + v.s)
		return
	case ednChar:
		b.WriteString(`\` + v.s)
		return
	case ednVector:
		open, closing = "[", "]"
	case ednList:
		open, closing = "(", ")"
	case ednSet:
		open, closing = "#{", "}"
	case ednMap:
		open, closing = "{", "}"
	default:
		b.WriteString(v.s)
		return
	}
	b.WriteString(open)
	for i, it := range v.items {
		if i > 0 {
			b.WriteByte(' ')
		}
		it.write(b)
	}
	b.WriteString(closing)
}

// maxEDNDepth bounds nesting so a hostile line cannot exhaust the stack.
const maxEDNDepth = 64

// ednParser parses the EDN subset Jepsen histories use: nil, booleans,
// integers, floats, strings, characters, keywords, symbols, vectors, lists,
// sets, maps, tagged literals (the tag is dropped) and #_ discards.
type ednParser struct {
	src string
	pos int
}

func (p *ednParser) errorf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", p.pos+1, fmt.Sprintf(format, args...))
}

func (p *ednParser) skipSpace() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f':
			p.pos++
		case c == ';':
			p.pos = len(p.src)
		default:
			return
		}
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', '\f', '(', ')', '[', ']', '{', '}', '"', ';':
		return true
	}
	return false
}

// token returns the run of non-delimiter bytes at pos.
func (p *ednParser) token() string {
	start := p.pos
	for p.pos < len(p.src) && !isDelimiter(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *ednParser) value(depth int) (ednValue, error) {
	if depth > maxEDNDepth {
		return ednValue{}, p.errorf("nested deeper than %d", maxEDNDepth)
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return ednValue{}, p.errorf("unexpected end of line")
	}
	switch c := p.src[p.pos]; c {
	case '{':
		p.pos++
		v, err := p.collection(ednMap, '}', depth)
		if err == nil && len(v.items)%2 != 0 {
			err = p.errorf("map has a key without a value")
		}
		return v, err
	case '[':
		p.pos++
		return p.collection(ednVector, ']', depth)
	case '(':
		p.pos++
		return p.collection(ednList, ')', depth)
	case ')', ']', '}':
		return ednValue{}, p.errorf("unexpected %q", c)
	case '"':
		return p.str()
	case '\\':
		p.pos++
		start := p.pos
		if p.pos < len(p.src) {
			_, size := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
		}
		p.token()
		if p.pos == start {
			return ednValue{}, p.errorf("empty character literal")
		}
		return ednValue{kind: ednChar, s: p.src[start:p.pos]}, nil
	case '#':
		p.pos++
		if p.pos >= len(p.src) {
			return ednValue{}, p.errorf("dangling #")
		}
		switch p.src[p.pos] {
		case '{':
			p.pos++
			return p.collection(ednSet, '}', depth)
		case '_':
			p.pos++
			if _, err := p.value(depth + 1); err != nil {
				return ednValue{}, err
			}
			return p.value(depth + 1)
		}
		if tag := p.token(); tag == "" {
			return ednValue{}, p.errorf("# must be followed by a tag, { or _")
		}
		return p.value(depth + 1)
	case ':':
		p.pos++
		name := p.token()
		if name == "" {
			return ednValue{}, p.errorf("empty keyword")
		}
		return ednValue{kind: ednKeyword, s: name}, nil
	}
	start := p.pos
	tok := p.token()
	if tok == "" {
		return ednValue{}, p.errorf("unexpected %q", p.src[p.pos])
	}
	switch tok {
	case "nil":
		return ednValue{kind: ednNil}, nil
	case "true", "false":
		return ednValue{kind: ednBool, s: tok}, nil
	}
	c := tok[0]
	if c >= '0' && c <= '9' || (c == '-' || c == '+') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9' {
		return p.number(start, tok)
	}
	return ednValue{kind: ednSymbol, s: tok}, nil
}

func (p *ednParser) number(start int, tok string) (ednValue, error) {
	t := strings.TrimPrefix(tok, "+")
	if n := strings.TrimSuffix(t, "N"); n != "" {
		if _, err := strconv.ParseInt(n, 10, 64); err == nil {
			return ednValue{kind: ednInt, s: n}, nil
		}
		if isDigits(strings.TrimPrefix(n, "-")) {
			return ednValue{kind: ednInt, s: n}, nil // a big integer, kept as text
		}
	}
	if f := strings.TrimSuffix(t, "M"); f != "" {
		if _, err := strconv.ParseFloat(f, 64); err == nil {
			return ednValue{kind: ednFloat, s: f}, nil
		}
	}
	p.pos = start
	return ednValue{}, p.errorf("malformed number %q", tok)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *ednParser) collection(kind ednKind, closing byte, depth int) (ednValue, error) {
	v := ednValue{kind: kind}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return ednValue{}, p.errorf("unterminated %s (missing %q)", kind, closing)
		}
		if p.src[p.pos] == closing {
			p.pos++
			return v, nil
		}
		if p.src[p.pos] == '#' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '_' {
			p.pos += 2
			if _, err := p.value(depth + 1); err != nil {
				return ednValue{}, err
			}
			continue
		}
		it, err := p.value(depth + 1)
		if err != nil {
			return ednValue{}, err
		}
		v.items = append(v.items, it)
	}
}

func (p *ednParser) str() (ednValue, error) {
	start := p.pos
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return ednValue{kind: ednString, s: b.String()}, nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				return ednValue{}, p.errorf("unterminated string")
			}
			esc := p.src[p.pos+1]
			p.pos += 2
			switch esc {
			case '"', '\\':
				b.WriteByte(esc)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if p.pos+4 > len(p.src) {
					return ednValue{}, p.errorf("short \\u escape")
				}
				n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
				if err != nil {
					return ednValue{}, p.errorf("bad \\u escape %q", p.src[p.pos:p.pos+4])
				}
				b.WriteRune(rune(n))
				p.pos += 4
			default:
				p.pos -= 2
				return ednValue{}, p.errorf("unknown escape \\%c in string", esc)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.pos = start
	return ednValue{}, p.errorf("unterminated string")
}
