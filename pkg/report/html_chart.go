package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/cachectl/cachectl/pkg/cachestatus"
)

// ttfbHist counts times to first byte in logarithmic buckets, histPerDecade
// to a decade from histLoMS up, so an HTML report's charts and percentiles
// take the same small memory whatever the number of probes.
type ttfbHist struct {
	counts [histDecades * histPerDecade]int
	n      int
	lo, hi int // the lowest and highest bucket used
}

const (
	histPerDecade = 100
	histDecades   = 9
	histLoMS      = 0.001 // 1 µs; the last bucket ends at 1,000 s
)

func histBucket(ms float64) int {
	if ms <= histLoMS {
		return 0
	}
	i := int(math.Floor(math.Log10(ms/histLoMS) * histPerDecade))
	return min(i, histDecades*histPerDecade-1)
}

// histEdge is the lower bound of bucket i in milliseconds.
func histEdge(i int) float64 {
	return histLoMS * math.Pow(10, float64(i)/histPerDecade)
}

func (h *ttfbHist) add(ms float64) {
	i := histBucket(ms)
	if h.n == 0 || i < h.lo {
		h.lo = i
	}
	if h.n == 0 || i > h.hi {
		h.hi = i
	}
	h.counts[i]++
	h.n++
}

// quantile is the upper bound of the bucket holding the q-th value: within
// 2.4% of the value itself.
func (h *ttfbHist) quantile(q float64) float64 {
	rank := max(int(math.Ceil(q*float64(h.n))), 1)
	seen := 0
	for i := h.lo; i <= h.hi; i++ {
		if seen += h.counts[i]; seen >= rank {
			return round2(histEdge(i + 1))
		}
	}
	return 0
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// chartSeries is one row of a TTFB chart: the probes of one cache status
// (of one environment, in a diff).
type chartSeries struct {
	Label string
	// Status picks the row's colour.
	Status   string
	Hist     *ttfbHist
	P50, P95 float64
}

// Chart geometry, in SVG user units; the SVG scales to the page's width.
const (
	chartWidth   = 960
	chartLabelW  = 190
	chartPlotW   = chartWidth - chartLabelW - 40
	chartRowH    = 62
	chartBarMaxH = 40
	chartAxisH   = 26
	barsPerDec   = 10
)

// svgChart is a TTFB chart laid out for the template: every number is
// already a string, so the template only places them.
type svgChart struct {
	Width, Height string
	// PlotX1 and PlotX2 are where the time axis starts and ends.
	PlotX1, PlotX2 string
	Rows           []svgRow
	Ticks          []svgTick
	AxisY          string
	Label          string
}

type svgRow struct {
	Y, TextY, SubY, BaseY string
	Label, Sub            string
	Class                 string
	Bars                  []svgBar
	Marks                 []svgMark
}

type svgBar struct{ X, Y, W, H, Title string }

type svgMark struct{ X, Y1, Y2, Class string }

type svgTick struct{ X, TextY, Label string }

// ttfbChart lays out one row per series on a shared logarithmic time axis
// spanning whole decades from the fastest probe to the slowest; each bar is
// a tenth of a decade, scaled to the row's largest bar. The median is a
// solid mark, p95 a dashed one. nil when no series has a probe.
func ttfbChart(series []chartSeries, label string) *svgChart {
	lo, hi, ok := chartRange(series)
	if !ok {
		return nil
	}
	decades := hi - lo
	x := func(ms float64) float64 {
		d := math.Log10(max(ms, histLoMS)) - float64(lo)
		return chartLabelW + math.Max(0, math.Min(d/float64(decades), 1))*chartPlotW
	}
	c := &svgChart{Label: label, PlotX1: num(chartLabelW), PlotX2: num(chartLabelW + chartPlotW)}
	for i, s := range series {
		c.Rows = append(c.Rows, chartRow(i, s, lo, decades, x))
	}
	height := len(series)*chartRowH + chartAxisH
	c.Width, c.Height = strconv.Itoa(chartWidth), strconv.Itoa(height)
	c.AxisY = num(float64(len(series) * chartRowH))
	for d := 0; d <= decades; d++ {
		ms := math.Pow(10, float64(lo+d))
		c.Ticks = append(c.Ticks, svgTick{X: num(x(ms)), TextY: num(float64(len(series)*chartRowH + 17)), Label: tickLabel(ms)})
	}
	return c
}

// chartRange is the span of whole decades (as powers of ten of
// milliseconds) holding every series' probes, at least two decades wide.
func chartRange(series []chartSeries) (lo, hi int, ok bool) {
	first := true
	for _, s := range series {
		if s.Hist == nil || s.Hist.n == 0 {
			continue
		}
		l := int(math.Floor(math.Log10(histEdge(s.Hist.lo))))
		h := int(math.Ceil(math.Log10(histEdge(s.Hist.hi + 1))))
		if first || l < lo {
			lo = l
		}
		if first || h > hi {
			hi = h
		}
		first = false
	}
	if first {
		return 0, 0, false
	}
	if hi-lo < 2 {
		hi = lo + 2
	}
	return lo, hi, true
}

func chartRow(i int, s chartSeries, lo, decades int, x func(float64) float64) svgRow {
	top := float64(i * chartRowH)
	base := top + chartRowH - 10
	row := svgRow{
		Y: num(top), TextY: num(top + 24), SubY: num(top + 42), BaseY: num(base),
		Label: s.Label, Class: statusClass(s.Status),
		Sub: fmt.Sprintf("%s · p50 %s · p95 %s", plural(s.Hist.n, "probe", "probes"), fmtMS(s.P50), fmtMS(s.P95)),
	}
	bars := make([]int, decades*barsPerDec)
	peak := 0
	for b := s.Hist.lo; b <= s.Hist.hi; b++ {
		if s.Hist.counts[b] == 0 {
			continue
		}
		k := int(math.Floor((math.Log10(histEdge(b)) - float64(lo)) * barsPerDec))
		k = max(0, min(k, len(bars)-1))
		bars[k] += s.Hist.counts[b]
		peak = max(peak, bars[k])
	}
	w := float64(chartPlotW) / float64(len(bars))
	for k, n := range bars {
		if n == 0 {
			continue
		}
		h := math.Max(2, float64(n)/float64(peak)*chartBarMaxH)
		from, to := math.Pow(10, float64(lo)+float64(k)/barsPerDec), math.Pow(10, float64(lo)+float64(k+1)/barsPerDec)
		row.Bars = append(row.Bars, svgBar{
			X: num(chartLabelW + float64(k)*w + 1), Y: num(base - h), W: num(w - 2), H: num(h),
			Title: fmt.Sprintf("%s: %s from %s to %s", s.Label, plural(n, "probe", "probes"), fmtMS(from), fmtMS(to)),
		})
	}
	for _, m := range []struct {
		v     float64
		class string
	}{{s.P50, "p50"}, {s.P95, "p95"}} {
		row.Marks = append(row.Marks, svgMark{X: num(x(m.v)), Y1: num(top + 6), Y2: num(base), Class: m.class})
	}
	return row
}

// num formats an SVG coordinate: one decimal, no trailing ".0".
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func tickLabel(ms float64) string {
	switch {
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'f', -1, 64) + " s"
	case ms >= 1:
		return strconv.FormatFloat(ms, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(ms*1000, 'f', -1, 64) + " µs"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// statusClass is the CSS class that colours a cache status. The class comes
// from the fixed vocabulary, never from the data: a value that is not a
// status (a merged file can hold anything) is coloured as UNKNOWN.
func statusClass(s string) string {
	st := cachestatus.Status(s)
	if !st.Valid() {
		st = cachestatus.UNKNOWN
	}
	return "s-" + string(st)
}

// statusBar is the share of each cache status among a run's answered
// probes: one stacked bar, labelled with the hit ratio, and its legend.
type statusBar struct {
	Label    string
	HitRatio string
	Segments []statusSegment
}

type statusSegment struct {
	X, W   string
	Class  string
	Status string
	Count  int
	Share  string
}

// newStatusBar lays out counts (per status) on a bar chartPlotW wide,
// statuses in the vocabulary's order and unknown names after them.
func newStatusBar(label string, counts map[string]int, hitRatio float64) statusBar {
	b := statusBar{Label: label, HitRatio: fmt.Sprintf("%.1f%%", hitRatio*100)}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return b
	}
	x := 0.0
	for _, st := range statusOrder(counts) {
		n := counts[st]
		w := float64(n) / float64(total) * chartWidth
		b.Segments = append(b.Segments, statusSegment{
			X: num(x), W: num(w), Class: statusClass(st), Status: st, Count: n,
			Share: fmt.Sprintf("%.1f%%", float64(n)/float64(total)*100),
		})
		x += w
	}
	return b
}

// statusOrder lists the statuses in counts: the vocabulary's order first,
// then any other name sorted.
func statusOrder[V any](counts map[string]V) []string {
	var out []string
	for _, st := range cachestatus.All() {
		if _, ok := counts[string(st)]; ok {
			out = append(out, string(st))
		}
	}
	for _, k := range sortedStatuses(counts) {
		if !cachestatus.Status(k).Valid() {
			out = append(out, k)
		}
	}
	return out
}
