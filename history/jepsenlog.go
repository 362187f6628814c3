package history

import (
	"bytes"
	"fmt"
	"io"
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
// the value and an error, as EDN separated by tabs or spaces. Lines that
// are not such operations (other loggers, a type that is not :invoke,
// :ok, :fail or :info) are skipped; a line that starts like one but does
// not parse is an error naming the line. The log has no times: events are
// ordered by position. Every line is bounded by MaxLineBytes.
func ReadJepsenLog(r io.Reader) (*Parsed, error) {
	var raws []rawOp
	err := eachLine(r, func(lineNo int, line []byte) error {
		i := bytes.Index(line, []byte("jepsen.util - "))
		if i < 0 {
			return nil
		}
		rest := line[i+len("jepsen.util - "):]
		if !utf8.Valid(rest) {
			return fmt.Errorf("history: line %d: not valid UTF-8", lineNo)
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
		raws = append(raws, op)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fromRaw(raws, FormatJepsenLog)
}
