package nemesis

import (
	"fmt"
	"strconv"
	"strings"
)

// Mix is a set of fault families: the ones a generated schedule may use.
// The zero Mix (MixNone) has no faults.
type Mix uint8

// MixNone is no fault at all. MixAll ("all") is every family from
// partition to stall: clog, added later, is left out, so that schedules
// drawn with "all" (and every run's trace hash) stay as they were; name clog
// to draw it, e.g. "partition,clog".
const (
	MixNone Mix = 0
	MixAll  Mix = 1<<FamilyClog - 1
	// mixKnown is every family.
	mixKnown Mix = 1<<numFamilies - 1
)

// MixOf returns the mix holding exactly fams.
func MixOf(fams ...Family) Mix {
	var m Mix
	for _, f := range fams {
		if f < numFamilies {
			m |= 1 << f
		}
	}
	return m
}

// Has reports whether the mix holds family f.
func (m Mix) Has(f Family) bool { return f < numFamilies && m&(1<<f) != 0 }

// Families returns the mix's families in family order.
func (m Mix) Families() []Family {
	var out []Family
	for f := Family(0); f < numFamilies; f++ {
		if m.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// String formats the mix as ParseMix reads it: "none", "all", or the family
// names comma-separated in family order, e.g. "partition,crash".
func (m Mix) String() string {
	m &= mixKnown
	switch m {
	case MixNone:
		return "none"
	case MixAll:
		return "all"
	}
	names := make([]string, 0, numFamilies)
	for _, f := range m.Families() {
		names = append(names, f.String())
	}
	return strings.Join(names, ",")
}

// ParseMix reads a comma-separated list of family names (partition, crash,
// pause, skew, loss, churn, stall, clog), or "none", or "all" (MixAll:
// every family but clog), as the CLI's -nemesis
// flag takes it. Spaces around names are ignored; repeating a name is
// harmless; "none" and "all" must stand alone.
func ParseMix(s string) (Mix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("nemesis mix is empty: give a comma-separated list of %s, or none, or all", familyList())
	}
	parts := strings.Split(s, ",")
	var m Mix
	for _, p := range parts {
		p = strings.TrimSpace(p)
		switch p {
		case "none", "all":
			if len(parts) > 1 {
				return 0, fmt.Errorf("nemesis mix %q: %q must stand alone, not in a list", s, p)
			}
			if p == "all" {
				return MixAll, nil
			}
			return MixNone, nil
		case "":
			return 0, fmt.Errorf("nemesis mix %q: empty name in the list (stray comma?)", s)
		}
		f, ok := familyByName(p)
		if !ok {
			return 0, fmt.Errorf("nemesis mix %q: unknown fault family %q (want %s, or none, or all)", s, p, familyList())
		}
		m |= 1 << f
	}
	return m, nil
}

func familyByName(name string) (Family, bool) {
	for i, n := range familyNames {
		if n == name {
			return Family(i), true
		}
	}
	return 0, false
}

func familyList() string { return strings.Join(familyNames[:], ", ") }

func itoa(i int) string { return strconv.Itoa(i) }
