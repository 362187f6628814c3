package workloads

import (
	"fmt"
	"sort"

	"github.com/faultline-sim/faultline/history"
)

// Step feeds the op the response to its last request. It returns the next
// request to send and false, or a zero Request and true when the op is done
// (then Completion is final). Outcome mapping:
//   - reads: OK -> ok with the values read; anything else -> fail (a read
//     takes effect nowhere).
//   - writes and deletes: OK -> ok, Fail -> fail, Info (or an invalid
//     status) -> info.
//   - set adds: the Get failing or timing out -> fail (no write was sent);
//     then the Put as a write.
//
// Stepping a done op changes nothing and returns done again.
func (o *Op) Step(r Response) (Request, bool) {
	if o.done {
		return Request{}, true
	}
	switch o.prog {
	case progRead:
		if r.Status != OK {
			o.complete(history.Fail, errText(r), r)
			break
		}
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = string(v)
		}
		sort.Strings(vals)
		o.completeRead(vals, r)
	case progSetRead:
		if r.Status != OK {
			o.complete(history.Fail, errText(r), r)
			break
		}
		elems, err := unionSets(r.Values)
		if err != nil {
			o.complete(history.Fail, err.Error(), r)
			break
		}
		o.completeRead(elems, r)
	case progWrite, progDelete:
		o.complete(writeOutcome(r.Status), errText(r), r)
	case progSetAdd:
		if o.stage == 0 {
			if r.Status != OK {
				o.complete(history.Fail, "read before add: "+errText(r), r)
				break
			}
			elems, err := unionSets(r.Values)
			if err != nil {
				o.complete(history.Fail, "read before add: "+err.Error(), r)
				break
			}
			o.seen = elems
			o.stage = 1
			return Request{Method: Put, Key: o.inv.Key, Value: EncodeSet(addElement(elems, o.element)), Context: cloneBytes(r.Context)}, false
		}
		o.complete(writeOutcome(r.Status), errText(r), r)
	default:
		o.complete(history.Info, fmt.Sprintf("op has unknown program %d", o.prog), r)
	}
	return Request{}, true
}

// writeOutcome maps a write's response status to its history outcome.
func writeOutcome(s Status) history.Type {
	switch s {
	case OK:
		return history.OK
	case Fail:
		return history.Fail
	}
	return history.Info
}

// errText is the Err to record for a non-OK response.
func errText(r Response) string {
	switch r.Status {
	case OK:
		return ""
	case Fail, Info:
		if r.Err != "" {
			return r.Err
		}
		return r.Status.String()
	}
	if r.Err != "" {
		return fmt.Sprintf("invalid response status %d: %s", uint8(r.Status), r.Err)
	}
	return fmt.Sprintf("invalid response status %d", uint8(r.Status))
}

func (o *Op) completeRead(vals []string, r Response) {
	o.comp = history.Event{Client: o.inv.Client, Type: history.OK}
	if len(vals) == 0 {
		o.comp.NotFound = true
	} else {
		o.comp.Values = vals
	}
	o.finishWith(r)
}

func (o *Op) complete(t history.Type, err string, r Response) {
	if t == history.OK {
		err = ""
	}
	o.comp = history.Event{Client: o.inv.Client, Type: t, Err: err}
	o.finishWith(r)
}

// finishWith marks the op done and updates what its client knows of the
// key: a read's context and values, or the context a write or delete
// created.
func (o *Op) finishWith(r Response) {
	o.done = true
	if o.cl == nil || r.Status != OK {
		return
	}
	switch o.prog {
	case progRead:
		o.cl.state[o.k] = keyState{ctx: cloneBytes(r.Context), seen: o.comp.Values}
	case progDelete:
		if r.Context != nil {
			o.cl.state[o.k] = keyState{ctx: cloneBytes(r.Context)}
		}
	case progWrite:
		if r.Context != nil {
			o.cl.state[o.k] = keyState{ctx: cloneBytes(r.Context), seen: []string{o.inv.Value}}
		}
	}
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
