package history

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// ReadAny reads a history in either format, deciding from its first
// meaningful line: a JSON object ({") means faultline JSON lines, anything
// else that starts with {, # or ; means Jepsen EDN.
func ReadAny(r io.Reader) ([]Event, error) {
	br := bufio.NewReader(r)
	var seen bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		seen.Write(line)
		t := bytes.TrimSpace(line)
		rest := io.MultiReader(&seen, br)
		switch {
		case len(t) == 0 && err == nil:
			continue
		case len(t) == 0:
			return nil, nil // empty input: an empty history
		case bytes.HasPrefix(t, []byte(`{"`)) || bytes.HasPrefix(bytes.Join(bytes.Fields(t), nil), []byte(`{"`)):
			return ReadJSONL(rest)
		case t[0] == '{' || t[0] == '#' || t[0] == ';':
			return ReadEDN(rest)
		}
		return nil, fmt.Errorf("history: line 1: neither JSON lines nor EDN (a history line starts with {\" or {:)")
	}
}
