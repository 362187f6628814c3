package history

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

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

func (v ednValue) isSeq() bool { return v.kind == ednVector || v.kind == ednList }

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

// maxEDNDepth bounds nesting so a hostile input cannot exhaust the stack.
const maxEDNDepth = 64

// ednStream parses the EDN subset Jepsen histories use, reading its input
// as a stream: nil, booleans, integers, floats, strings, characters,
// keywords, symbols, vectors, lists, sets, maps, tagged literals (the tag
// is dropped), #_ discards and ; comments. It tracks the line and column
// of every byte and refuses a physical line, or one value (one operation),
// longer than MaxLineBytes.
type ednStream struct {
	br        *bufio.Reader
	line, col int // of the next byte, from 1
	lineBytes int // bytes of the current line so far
	valBytes  int // bytes of the current top-level value so far
	inValue   bool
	err       error // sticky: a read error or a limit
}

func newEDNStream(r io.Reader) *ednStream {
	return newEDNStreamSize(r, 64<<10)
}

// newEDNStreamSize is newEDNStream with a read buffer of size bytes.
func newEDNStreamSize(r io.Reader, size int) *ednStream {
	return &ednStream{br: bufio.NewReaderSize(r, size), line: 1, col: 1}
}

// ednError is a parse error at a position.
type ednError struct {
	line, col int
	msg       string
}

func (e *ednError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.line, e.col, e.msg)
}

func (s *ednStream) errorf(format string, args ...any) error {
	return &ednError{s.line, s.col, fmt.Sprintf(format, args...)}
}

// peek returns the next byte without consuming it; ok is false at the end
// of the input or after an error.
func (s *ednStream) peek() (byte, bool) {
	if s.err != nil {
		return 0, false
	}
	b, err := s.br.Peek(1)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.err = s.errorf("%v", err)
		}
		return 0, false
	}
	return b[0], true
}

// next consumes one byte.
func (s *ednStream) next() (byte, bool) {
	c, ok := s.peek()
	if !ok {
		return 0, false
	}
	_, _ = s.br.ReadByte()
	if c == '\n' {
		s.line++
		s.col = 1
		s.lineBytes = 0
	} else {
		s.col++
		s.lineBytes++
		if s.lineBytes > MaxLineBytes {
			s.err = &ednError{s.line, s.col, fmt.Sprintf("line longer than %d bytes (split the history into one operation per line)", MaxLineBytes)}
			return 0, false
		}
	}
	if s.inValue {
		s.valBytes++
		if s.valBytes > MaxLineBytes {
			s.err = &ednError{s.line, s.col, fmt.Sprintf("one operation longer than %d bytes", MaxLineBytes)}
			return 0, false
		}
	}
	return c, true
}

// skipSpace skips whitespace, commas and ; comments.
func (s *ednStream) skipSpace() {
	for {
		c, ok := s.peek()
		if !ok {
			return
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f':
			s.next()
		case c == ';':
			for {
				c, ok := s.peek()
				if !ok || c == '\n' {
					break
				}
				s.next()
			}
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

// token consumes the run of non-delimiter bytes at the cursor. A token
// that is not valid UTF-8 sets the sticky error (distinct keys would
// otherwise collapse to U+FFFD when written out).
func (s *ednStream) token() string {
	var b []byte
	line, col := s.line, s.col
	for {
		c, ok := s.peek()
		if !ok || isDelimiter(c) {
			break
		}
		s.next()
		b = append(b, c)
	}
	if !utf8.Valid(b) && s.err == nil {
		s.err = &ednError{line, col, "not valid UTF-8"}
		return ""
	}
	return string(b)
}

// fail returns the sticky error if there is one, else err.
func (s *ednStream) fail(err error) error {
	if s.err != nil {
		return s.err
	}
	return err
}

func (s *ednStream) value(depth int) (ednValue, error) {
	if depth > maxEDNDepth {
		return ednValue{}, s.errorf("nested deeper than %d", maxEDNDepth)
	}
	s.skipSpace()
	c, ok := s.peek()
	if !ok {
		return ednValue{}, s.fail(s.errorf("unexpected end of input"))
	}
	switch c {
	case '{':
		s.next()
		v, err := s.collection(ednMap, '}', depth)
		if err == nil && len(v.items)%2 != 0 {
			err = s.errorf("map has a key without a value")
		}
		return v, err
	case '[':
		s.next()
		return s.collection(ednVector, ']', depth)
	case '(':
		s.next()
		return s.collection(ednList, ')', depth)
	case ')', ']', '}':
		return ednValue{}, s.errorf("unexpected %q", c)
	case '"':
		return s.str()
	case '\\':
		s.next()
		tok := s.token()
		if tok == "" {
			if c, ok := s.next(); ok {
				tok = string(c) // \( \space-like delimiters
			}
		}
		if tok == "" {
			return ednValue{}, s.fail(s.errorf("empty character literal"))
		}
		return ednValue{kind: ednChar, s: tok}, nil
	case '#':
		s.next()
		c, ok := s.peek()
		if !ok {
			return ednValue{}, s.fail(s.errorf("dangling #"))
		}
		switch c {
		case '{':
			s.next()
			return s.collection(ednSet, '}', depth)
		case '_':
			s.next()
			if _, err := s.value(depth + 1); err != nil {
				return ednValue{}, err
			}
			return s.value(depth + 1)
		}
		if tag := s.token(); tag == "" {
			return ednValue{}, s.fail(s.errorf("# must be followed by a tag, { or _"))
		}
		return s.value(depth + 1)
	case ':':
		s.next()
		name := s.token()
		if name == "" {
			return ednValue{}, s.fail(s.errorf("empty keyword"))
		}
		return ednValue{kind: ednKeyword, s: name}, nil
	}
	line, col := s.line, s.col
	tok := s.token()
	if tok == "" {
		return ednValue{}, s.fail(s.errorf("unexpected %q", c))
	}
	switch tok {
	case "nil":
		return ednValue{kind: ednNil}, nil
	case "true", "false":
		return ednValue{kind: ednBool, s: tok}, nil
	}
	c = tok[0]
	if c >= '0' && c <= '9' || (c == '-' || c == '+') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9' {
		v, ok := number(tok)
		if !ok {
			return ednValue{}, &ednError{line, col, fmt.Sprintf("malformed number %q", tok)}
		}
		return v, nil
	}
	return ednValue{kind: ednSymbol, s: tok}, nil
}

func number(tok string) (ednValue, bool) {
	t := strings.TrimPrefix(tok, "+")
	if n := strings.TrimSuffix(t, "N"); n != "" {
		if _, err := strconv.ParseInt(n, 10, 64); err == nil {
			return ednValue{kind: ednInt, s: n}, true
		}
		if isDigits(strings.TrimPrefix(n, "-")) {
			return ednValue{kind: ednInt, s: n}, true // a big integer, kept as text
		}
	}
	if f := strings.TrimSuffix(t, "M"); f != "" {
		if _, err := strconv.ParseFloat(f, 64); err == nil {
			return ednValue{kind: ednFloat, s: f}, true
		}
	}
	return ednValue{}, false
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

func (s *ednStream) collection(kind ednKind, closing byte, depth int) (ednValue, error) {
	v := ednValue{kind: kind}
	line, col := s.line, s.col-1
	for {
		s.skipSpace()
		c, ok := s.peek()
		if !ok {
			return ednValue{}, s.fail(&ednError{s.line, s.col, fmt.Sprintf("unterminated %s opened at line %d, column %d (missing %q)", kind, line, col, closing)})
		}
		if c == closing {
			s.next()
			return v, nil
		}
		it, err := s.value(depth + 1)
		if err != nil {
			return ednValue{}, err
		}
		v.items = append(v.items, it)
	}
}

func (s *ednStream) str() (ednValue, error) {
	line, col := s.line, s.col
	s.next() // opening quote
	var b []byte
	unterminated := func() error {
		return s.fail(&ednError{line, col, "unterminated string"})
	}
	for {
		c, ok := s.next()
		if !ok {
			return ednValue{}, unterminated()
		}
		switch c {
		case '"':
			if !utf8.Valid(b) {
				return ednValue{}, &ednError{line, col, "string is not valid UTF-8"}
			}
			return ednValue{kind: ednString, s: string(b)}, nil
		case '\\':
			esc, ok := s.next()
			if !ok {
				return ednValue{}, unterminated()
			}
			switch esc {
			case '"', '\\':
				b = append(b, esc)
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'u':
				var hex [4]byte
				for i := range hex {
					h, ok := s.next()
					if !ok {
						return ednValue{}, s.fail(s.errorf("short \\u escape"))
					}
					hex[i] = h
				}
				n, err := strconv.ParseUint(string(hex[:]), 16, 32)
				if err != nil {
					return ednValue{}, s.errorf("bad \\u escape %q", hex[:])
				}
				b = utf8.AppendRune(b, rune(n))
			default:
				return ednValue{}, s.errorf("unknown escape \\%c in string", esc)
			}
		default:
			b = append(b, c)
		}
	}
}
