package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxLineBytes bounds one line of every history format, and one
// operation of an EDN history.
const MaxLineBytes = 1 << 20

// WriteJSONL writes events to w as JSON lines: one object per event, fields
// in a fixed order, so equal histories give byte-identical files.
func WriteJSONL(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("history: writing event %d: %w", i, err)
		}
	}
	return bw.Flush()
}

// ReadJSONL reads a history written by WriteJSONL. Blank lines are skipped.
// Every event is checked on its own (known type and kind, no unknown
// fields, increasing indices, non-decreasing time); errors name the line.
// Pairing is left to Pair.
func ReadJSONL(r io.Reader) ([]Event, error) {
	var events []Event
	err := EachJSONL(r, func(e *Event) error {
		events = append(events, *e)
		return nil
	})
	return events, err
}

// EachJSONL reads a history written by WriteJSONL like ReadJSONL, checking
// each event the same way, but hands the events to fn one at a time instead
// of keeping them; e is only valid during the call. It stops at the first
// error, fn's included.
func EachJSONL(r io.Reader, fn func(e *Event) error) error {
	var prev Event
	n := 0
	return eachLine(r, func(lineNo int, line []byte) error {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			return nil
		}
		if !utf8.Valid(line) {
			return fmt.Errorf("history: line %d: not valid UTF-8 (JSON text must be UTF-8; distinct keys would otherwise collapse to U+FFFD)", lineNo)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var e Event
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("history: line %d: %w", lineNo, err)
		}
		if dec.More() {
			return fmt.Errorf("history: line %d: more than one JSON value (want one event object per line)", lineNo)
		}
		if err := e.check(); err != nil {
			return fmt.Errorf("history: line %d: %w", lineNo, err)
		}
		if n > 0 {
			if e.Index <= prev.Index {
				return fmt.Errorf("history: line %d: index %d does not increase (previous %d)", lineNo, e.Index, prev.Index)
			}
			if e.Time < prev.Time {
				return fmt.Errorf("history: line %d: time %d goes backwards (previous %d)", lineNo, e.Time, prev.Time)
			}
		}
		n++
		prev.Index, prev.Time = e.Index, e.Time
		return fn(&e)
	})
}

// eachLine calls fn for each line of r (numbered from 1, without the line
// terminator), stopping at the first error.
func eachLine(r io.Reader, fn func(lineNo int, line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			if len(line) > MaxLineBytes {
				return fmt.Errorf("history: line %d: longer than %d bytes", lineNo, MaxLineBytes)
			}
			if ferr := fn(lineNo, line); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("history: line %d: %w", lineNo, err)
		}
	}
}

// readLine returns the next line without its terminator; of an overlong
// line it reads a little more than MaxLineBytes and stops, so the caller
// can refuse it without reading the rest.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line) <= MaxLineBytes {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line) > MaxLineBytes {
				return line, nil // overlong: stop here, the caller refuses it
			}
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		}
		return line, err
	}
}
