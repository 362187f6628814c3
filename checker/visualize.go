package checker

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/anishathalye/porcupine"
)

// visualize writes porcupine's HTML visualization of info to w, with its
// partial linearizations in a canonical order. Porcupine collects each
// partition's partial linearizations from a map and sorts them by length
// alone, so the page's bytes (and which linearization it shows first for
// an operation) change from run to run; the page is part of a seed's
// output, which must be the same byte for byte. visualize sorts them by
// length, longest first, then by their operations, and recomputes which is
// the largest for each operation by porcupine's own rule.
func visualize(model porcupine.Model, info porcupine.LinearizationInfo, w io.Writer) error {
	var page bytes.Buffer
	if err := porcupine.Visualize(model, info, &page); err != nil {
		return err
	}
	out, err := canonicalVisualization(page.Bytes())
	if err != nil {
		return fmt.Errorf("porcupine's visualization page is not in the form faultline knows (a porcupine upgrade?): %w", err)
	}
	_, err = w.Write(out)
	return err
}

// visualDataMarker starts the line of porcupine's page that holds its data.
var visualDataMarker = []byte("const data = ")

// visualStep is one step of a partial linearization, as porcupine encodes it.
type visualStep struct {
	Index            int
	StateDescription string
}

// canonicalVisualization returns page with its data's partial
// linearizations in canonical order (see visualize).
func canonicalVisualization(page []byte) ([]byte, error) {
	at := bytes.Index(page, visualDataMarker)
	if at < 0 || bytes.Index(page[at+1:], visualDataMarker) >= 0 {
		return nil, fmt.Errorf("want one %q in the page", visualDataMarker)
	}
	start := at + len(visualDataMarker)
	dec := json.NewDecoder(bytes.NewReader(page[start:]))
	var data map[string]json.RawMessage
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("its data: %w", err)
	}
	end := start + int(dec.InputOffset())
	var parts []map[string]json.RawMessage
	if err := json.Unmarshal(data["Partitions"], &parts); err != nil {
		return nil, fmt.Errorf("its partitions: %w", err)
	}
	for i, p := range parts {
		var lins [][]visualStep
		if err := json.Unmarshal(p["PartialLinearizations"], &lins); err != nil {
			return nil, fmt.Errorf("partition %d's partial linearizations: %w", i, err)
		}
		if lins == nil {
			lins = [][]visualStep{} // porcupine writes [], never null
		}
		if _, ok := p["Largest"]; !ok {
			return nil, fmt.Errorf("partition %d has no Largest", i)
		}
		slices.SortStableFunc(lins, func(a, b []visualStep) int {
			if c := cmp.Compare(len(b), len(a)); c != 0 {
				return c
			}
			return slices.CompareFunc(a, b, func(x, y visualStep) int { return cmp.Compare(x.Index, y.Index) })
		})
		largest, size := map[int]int{}, map[int]int{}
		for j, lin := range lins {
			for _, s := range lin {
				if size[s.Index] < len(lin) {
					size[s.Index], largest[s.Index] = len(lin), j
				}
			}
		}
		var err error
		if p["PartialLinearizations"], err = json.Marshal(lins); err != nil {
			return nil, err
		}
		if p["Largest"], err = json.Marshal(largest); err != nil {
			return nil, err
		}
	}
	var err error
	if data["Partitions"], err = json.Marshal(parts); err != nil {
		return nil, err
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(page)+len(b)-(end-start))
	out = append(out, page[:start]...)
	out = append(out, b...)
	return append(out, page[end:]...), nil
}
