package history

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ReadJepsenLog reads the operations in jepsen.log text, as Jepsen's
// jepsen.util logs them and as porcupine's etcd data holds them:
//
//	INFO  jepsen.util - 3	:invoke	:read	nil
//	INFO  jepsen.util - 3	:ok	:cas	[3 0]
//
// After "jepsen.util - " come the process, the type, :f, then optionally
// the value and an error, as EDN separated by tabs or spaces. Newer Jepsen
// logs write "jepsen.util: [ 1350999542 ] 2	:invoke	:read	nil": the
// bracketed number is the operation's time in nanoseconds. Lines that are
// not such operations (other loggers, a type that is not :invoke, :ok,
// :fail or :info) are skipped; a line that starts like one but does not
// parse is an error naming the line. Without times, events are ordered by
// position. Every line is bounded by MaxLineBytes.
func ReadJepsenLog(r io.Reader) (*Parsed, error) {
	var raws []rawOp
	err := eachLine(r, func(lineNo int, line []byte) error {
		var rest []byte
		for _, marker := range []string{"jepsen.util - ", "jepsen.util: "} {
			if i := bytes.Index(line, []byte(marker)); i >= 0 {
				rest = line[i+len(marker):]
				break
			}
		}
		if rest == nil {
			return nil
		}
		if !utf8.Valid(rest) {
			return fmt.Errorf("history: line %d: not valid UTF-8", lineNo)
		}
		// Newer Jepsen logs put the operation's relative time first:
		// "jepsen.util: [ 1350999542 ] 2	:invoke	:read	nil".
		t := int64(-1)
		if r := bytes.TrimLeft(rest, " \t"); len(r) > 0 && r[0] == '[' {
			end := bytes.IndexByte(r, ']')
			if end < 0 {
				return nil
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(r[1:end])), 10, 64)
			if err != nil || n < 0 {
				return nil // not an operation's time: some other message
			}
			t, rest = n, r[end+1:]
		}
		s := newEDNStreamSize(bytes.NewReader(rest), len(rest)+16)
		var vals []ednValue
		for len(vals) < 6 {
			s.skipSpace()
			if _, ok := s.peek(); !ok {
				break
			}
			v, err := s.value(0)
			if err != nil {
				if len(vals) < 2 {
					return nil // not an operation line
				}
				return fmt.Errorf("history: line %d, %s", lineNo, strings.TrimPrefix(err.Error(), "line 1, "))
			}
			vals = append(vals, v)
		}
		if len(vals) < 3 || vals[1].kind != ednKeyword || !Type(vals[1].s).Valid() {
			return nil // some other jepsen.util message
		}
		tuple := ednValue{kind: ednVector, items: vals[:min(len(vals), 4)]}
		op, err := rawFromEDN(tuple)
		if err != nil {
			return fmt.Errorf("history: line %d: %w", lineNo, err)
		}
		if len(vals) >= 5 && vals[4].kind != ednNil {
			op.err = vals[4].String()
		}
		op.line = lineNo
		op.time = t
		raws = append(raws, op)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fromRaw(raws, FormatJepsenLog)
}
