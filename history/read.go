package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/faultline-sim/faultline/sim"
)

// Format names a history file format.
type Format string

// The formats ReadHistory detects.
const (
	// FormatJSONL is faultline's own history.jsonl (WriteJSONL).
	FormatJSONL Format = "jsonl"
	// FormatEDN is Jepsen's or Knossos's EDN (ReadEDNHistory).
	FormatEDN Format = "edn"
	// FormatJepsenLog is jepsen.log text lines (ReadJepsenLog).
	FormatJepsenLog Format = "jepsen-log"
)

// Order says how the events of a Parsed history are ordered in time.
type Order string

// The orders. OrderTime: by the file's times (they never run backwards);
// OrderPosition: by position in the file, each event's Time being its
// index (the file has no times, or they run backwards).
const (
	OrderTime     Order = "time"
	OrderPosition Order = "position"
)

// NemesisEvent is an operation of a non-client process (Jepsen's
// :nemesis): it is not judged, only shown.
type NemesisEvent struct {
	// Line is where it was read; Process the process keyword.
	Line    int
	Process string
	// Type, F and Value are as written (Value as EDN text).
	Type  Type
	F     string
	Value string
	// Time is on the history's time line (see Parsed.Order); After is the
	// number of client events read before it.
	Time  sim.Time
	After int
}

// Parsed is a history read from a file: its client events, its nemesis
// operations, and what the reader decided about it.
type Parsed struct {
	// Format is the detected format.
	Format Format
	// Events are the client events, in order, indexed from 0.
	Events []Event
	// Nemesis holds the non-client operations, in file order.
	Nemesis []NemesisEvent
	// Order is how Events are timed; OrderReason says why position was
	// used (empty for OrderTime).
	Order       Order
	OrderReason string
	// Independent reports that every value was a [key value] pair and the
	// keys came from the pairs.
	Independent bool
}

// sniffBytes bounds how much of the input ReadHistory looks at to decide the
// format.
const sniffBytes = 64 << 10

// ReadAny reads a history in any format ReadHistory detects and returns its
// client events.
func ReadAny(r io.Reader) ([]Event, error) {
	p, err := ReadHistory(r)
	if err != nil {
		return nil, err
	}
	return p.Events, nil
}

// ReadHistory reads a history, detecting its format from the first meaningful
// bytes (at most 64 KiB are looked at): a JSON object ({") means faultline
// JSON lines; {, [, (, # or ; means EDN; a line mentioning "jepsen.util -"
// (or starting like a log line: INFO, WARN, DEBUG, ERROR, a date) means
// jepsen.log text. Empty input is an empty history.
func ReadHistory(r io.Reader) (*Parsed, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("history: %w", err)
	}
	t := bytes.TrimLeft(head, " \t\r\n\f")
	switch {
	case len(t) == 0:
		if len(head) == sniffBytes {
			return nil, fmt.Errorf("history: the first %d bytes are blank (not a history)", sniffBytes)
		}
		return &Parsed{Format: FormatJSONL, Order: OrderTime}, nil
	case bytes.HasPrefix(bytes.Join(bytes.Fields(firstLine(t)), nil), []byte(`{"`)):
		events, err := ReadJSONL(br)
		if err != nil {
			return nil, err
		}
		return &Parsed{Format: FormatJSONL, Events: events, Order: OrderTime}, nil
	case t[0] == '{' || t[0] == '[' || t[0] == '(' || t[0] == '#' || t[0] == ';':
		return ReadEDNHistory(br)
	case looksLikeLog(t):
		return ReadJepsenLog(br)
	}
	return nil, fmt.Errorf("history: line %d: neither JSON lines, EDN nor jepsen.log (a history line starts with {\" or {:, a file may be one [ ... ] of operations, a log line mentions jepsen.util)", 1+bytes.Count(head[:len(head)-len(t)], []byte("\n")))
}

// ReadPaired reads a history like ReadHistory and pairs its events into
// operations (Pair). A JSON lines history is paired as it is read, so its
// events are never all in memory at once: the returned Parsed has no Events
// (its other fields are ReadHistory's), and events is how many were read.
// Errors are ReadHistory's, then Pair's as a *PairError: a file that cannot
// be read is reported as such even when an earlier event does not pair.
func ReadPaired(r io.Reader) (p *Parsed, ops []Op, events int, err error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, perr := br.Peek(sniffBytes)
	t := bytes.TrimLeft(head, " \t\r\n\f")
	if perr != nil && !errors.Is(perr, io.EOF) && !errors.Is(perr, bufio.ErrBufferFull) || len(t) == 0 ||
		!bytes.HasPrefix(bytes.Join(bytes.Fields(firstLine(t)), nil), []byte(`{"`)) {
		p, err := ReadHistory(br)
		if err != nil {
			return nil, nil, 0, err
		}
		events := len(p.Events)
		ops, err := Pair(p.Events)
		if err != nil {
			return nil, nil, events, &PairError{Err: err}
		}
		p.Events = nil
		return p, ops, events, nil
	}
	pairer := NewPairer(0)
	var pairErr error
	err = EachJSONL(br, func(e *Event) error {
		if pairErr == nil {
			pairErr = pairer.Add(e)
		} else {
			pairer.n++
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if pairErr != nil {
		return nil, nil, pairer.n, &PairError{Err: pairErr}
	}
	return &Parsed{Format: FormatJSONL, Order: OrderTime}, pairer.Ops(), pairer.n, nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

func looksLikeLog(t []byte) bool {
	if bytes.Contains(t, []byte("jepsen.util - ")) {
		return true
	}
	for _, p := range []string{"INFO", "WARN", "DEBUG", "ERROR", "TRACE"} {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	return len(t) >= 5 && isDigits(string(t[:4])) && t[4] == '-'
}
