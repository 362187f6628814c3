package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// Geometry of the charts, in SVG user units (the page scales them to its
// width). The script draws the zoomable charts with the same numbers.
const (
	chartWidth  = 1360.0
	marginLeft  = 96.0
	marginRight = 18.0
	badgeHeight = 14.0
	badgePitch  = 16.0
	badgeGap    = 3.0
	badgeCharW  = 6.4
	ovWinRow    = 6.0
	ovDensity   = 30.0
	ovColumns   = 246
)

// badge is one witness label laid out on a track above a chart: its row,
// its left edge and width, and the x it points at.
type badge struct {
	n           int
	anchor      float64
	left, width float64
	row         int
}

// badgeWidth is the width of a badge labelled label.
func badgeWidth(label string) float64 { return 8 + badgeCharW*float64(len(label)) }

// layoutBadges places one badge per anchor (sorted by anchor, then number)
// on rows between x0 and x1 so that no two overlap: each goes centred on
// its anchor in the first row with room, else right after the row that
// ends first if it still fits, else on a new row. The page's script lays
// out the zoomed timeline's badges the same way.
func layoutBadges(ns []int, anchors []float64, x0, x1 float64) []badge {
	const preferredRows = 3
	out := make([]badge, len(ns))
	var ends []float64
	for i := range ns {
		w := badgeWidth(strconv.Itoa(ns[i]))
		left := max(x0, min(anchors[i]-w/2, x1-w))
		row := -1
		for r, e := range ends {
			if e+badgeGap <= left {
				row = r
				break
			}
		}
		if row < 0 && len(ends) >= preferredRows {
			first := 0
			for r, e := range ends {
				if e < ends[first] {
					first = r
				}
			}
			if ends[first]+badgeGap+w <= x1 {
				row, left = first, ends[first]+badgeGap
			}
		}
		if row < 0 {
			row = len(ends)
			ends = append(ends, 0)
		}
		ends[row] = left + w
		out[i] = badge{n: ns[i], anchor: anchors[i], left: left, width: w, row: row}
	}
	return out
}

// writeOverview draws the whole run in one strip the zoom brush moves on:
// the witnesses, the fault windows and how many operations were called
// when, by outcome.
func writeOverview(b *strings.Builder, v *view, d *pageData, marks []mark) {
	x0, x1 := marginLeft, chartWidth-marginRight
	ax, _ := v.axisOf()
	px := func(t sim.Time) float64 { return x0 + ax.x(t)*(x1-x0) }

	// Witness badges, in order of the time they point at.
	type anchored struct {
		n int
		x float64
		m mark
	}
	var as []anchored
	for _, m := range marks {
		if m.op >= 0 {
			as = append(as, anchored{m.n, px(v.ops[m.op].Call), m})
		}
	}
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].x != as[j].x {
			return as[i].x < as[j].x
		}
		return as[i].n < as[j].n
	})
	ns := make([]int, len(as))
	xs := make([]float64, len(as))
	for i, a := range as {
		ns[i], xs[i] = a.n, a.x
	}
	badges := layoutBadges(ns, xs, x0, x1)
	rows := 0
	for _, bd := range badges {
		rows = max(rows, bd.row+1)
	}
	top := 4.0
	winTop := top + float64(rows)*badgePitch + 4
	densTop := winTop + float64(max(d.WinRows, 1))*ovWinRow + 3
	densBottom := densTop + ovDensity
	height := densBottom + 18

	fmt.Fprintf(b, "<svg class=\"chart\" id=\"overview\" viewBox=\"0 0 %s %s\" xmlns=\"http://www.w3.org/2000/svg\">\n", f1(chartWidth), f1(height))
	fmt.Fprintf(b, "<text class=\"lane\" x=\"%s\" y=\"%s\">whole run</text>", f1(x0-6), f1(densTop+12))
	fmt.Fprintf(b, "<text class=\"lane sub\" x=\"%s\" y=\"%s\">drag to zoom</text>\n", f1(x0-6), f1(densTop+24))
	if rows > 0 {
		fmt.Fprintf(b, "<text class=\"lane\" x=\"%s\" y=\"%s\">witnesses</text>\n", f1(x0-6), f1(top+11))
	}

	// Fault windows.
	for i, w := range d.Windows {
		xa := px(sim.Time(w.Start))
		xb := x0 + ax.workEnd()*(x1-x0)
		if w.End >= 0 {
			xb = px(sim.Time(w.End))
		}
		xb = max(xb, xa+1.5)
		y := winTop + float64(w.Row)*ovWinRow
		fmt.Fprintf(b, "<rect class=\"ovwin\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"><title>%s</title></rect>",
			f1(xa), f1(y), f1(xb-xa), f1(ovWinRow-1), d.Families[w.Fam].Color, esc(v.windows[i].Label))
		fmt.Fprintf(b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" opacity=\"0.12\"/>\n",
			f1(xa), f1(densTop), f1(xb-xa), f1(ovDensity), d.Families[w.Fam].Color)
	}

	// Operations called per column, stacked by outcome (every operation,
	// even on a sampled page).
	var counts [ovColumns][3]int
	peak := 1
	for i := range v.ops {
		o := &v.ops[i]
		c := int(ax.x(o.Call) * ovColumns)
		c = max(0, min(c, ovColumns-1))
		k := outcomeIndex(o.Outcome)
		counts[c][k]++
		peak = max(peak, counts[c][0]+counts[c][1]+counts[c][2])
	}
	colW := (x1 - x0) / ovColumns
	for c := range counts {
		y := densBottom
		for k, cls := range []string{"ok", "fail", "info"} {
			if counts[c][k] == 0 {
				continue
			}
			h := max(1.5, float64(counts[c][k])/float64(peak)*ovDensity)
			y -= h
			fmt.Fprintf(b, "<rect class=\"ovd %s\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", cls, f1(x0+float64(c)*colW), f1(y), f1(colW-0.4), f1(h))
		}
	}
	fmt.Fprintf(b, "\n<rect id=\"ovbrush\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>\n", f1(x0), f1(winTop-2), f1(x1-x0), f1(densBottom-winTop+2))

	// Badges with their leader lines.
	for _, bd := range badges {
		y := top + float64(bd.row)*badgePitch
		var m mark
		for _, a := range as {
			if a.n == bd.n {
				m = a.m
			}
		}
		label := strconv.Itoa(bd.n)
		fmt.Fprintf(b, "<g class=\"wb\" data-w=\"%d\"><title>witness %d (%s): %s</title>", bd.n, bd.n, esc(m.checker), esc(opTitle(v.ops[m.op])))
		fmt.Fprintf(b, "<line class=\"lead\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>", f1(bd.left+bd.width/2), f1(y+badgeHeight), f1(bd.anchor), f1(densBottom))
		fmt.Fprintf(b, "<rect class=\"wbox\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"7\" style=\"fill:%s;stroke:%s\"/>", f1(bd.left), f1(y), f1(bd.width), f1(badgeHeight), m.color, m.color)
		fmt.Fprintf(b, "<text class=\"wnum\" x=\"%s\" y=\"%s\">%s</text></g>\n", f1(bd.left+bd.width/2), f1(y+10.5), label)
	}

	// Time axis.
	writeAxis(b, ax, densBottom, x0, x1)
	b.WriteString("</svg>\n")
}

// writeAxis draws ax (on [0, 1]) between the pixels x0 and x1 at height y.
func writeAxis(b *strings.Builder, ax axis, y, x0, x1 float64) {
	for _, s := range ax.segs {
		fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>", f1(x0+s.x0*(x1-x0)), f1(y), f1(x0+s.x1*(x1-x0)), f1(y))
	}
	for _, t := range ax.ticks(110 / (x1 - x0)) {
		x := x0 + t.x*(x1-x0)
		fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/><text class=\"tick\" x=\"%s\" y=\"%s\">%s</text>",
			f1(x), f1(y), f1(x), f1(y+4), f1(x), f1(y+15), esc(t.label))
	}
	b.WriteString("\n")
}

// opTitle describes an operation in one line.
func opTitle(o history.Op) string {
	s := o.String()
	if o.Err != "" {
		s += " — " + o.Err
	}
	if o.End != sim.Never {
		s += fmt.Sprintf(" (latency %s)", fmtDur(o.End.Sub(o.Call)))
	} else {
		s += " (never completed)"
	}
	return s
}
