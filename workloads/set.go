package workloads

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// EncodeSet encodes a set of elements as the set workload stores it: the
// distinct elements sorted and joined by newlines (the empty set is empty
// bytes). Equal sets encode to equal bytes.
func EncodeSet(elems []string) []byte {
	s := append([]string(nil), elems...)
	sort.Strings(s)
	var b bytes.Buffer
	for i, e := range s {
		if i > 0 && e == s[i-1] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e)
	}
	return b.Bytes()
}

// DecodeSet decodes a value written by EncodeSet into its sorted elements.
// It returns an error for a value EncodeSet cannot have produced (empty
// elements, unsorted or repeated elements).
func DecodeSet(v []byte) ([]string, error) {
	if len(v) == 0 {
		return nil, nil
	}
	elems := strings.Split(string(v), "\n")
	for i, e := range elems {
		if e == "" {
			return nil, fmt.Errorf("set value %.40q: empty element at position %d (not written by the set workload)", v, i)
		}
		if i > 0 && elems[i-1] >= e {
			return nil, fmt.Errorf("set value %.40q: elements not sorted and distinct at position %d (not written by the set workload)", v, i)
		}
	}
	return elems, nil
}

// unionSets decodes every sibling and returns the sorted union of their
// elements: how a set client merges siblings.
func unionSets(siblings [][]byte) ([]string, error) {
	var all []string
	for i, v := range siblings {
		elems, err := DecodeSet(v)
		if err != nil {
			return nil, fmt.Errorf("sibling %d: %w", i, err)
		}
		all = append(all, elems...)
	}
	sort.Strings(all)
	out := all[:0]
	for i, e := range all {
		if i == 0 || e != all[i-1] {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// addElement returns the sorted union of elems and e.
func addElement(elems []string, e string) []string {
	i := sort.SearchStrings(elems, e)
	if i < len(elems) && elems[i] == e {
		return append([]string(nil), elems...)
	}
	out := make([]string, 0, len(elems)+1)
	out = append(out, elems[:i]...)
	out = append(out, e)
	return append(out, elems[i:]...)
}
