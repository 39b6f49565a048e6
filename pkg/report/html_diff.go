package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/verify"
)

// diffHTML keeps the differences, the table's rows (both capped) and, per
// environment, the cache statuses and a TTFB histogram per status; it
// writes the page at Close: the verdict and every difference with its
// owner and rollback first, then each side's hit ratio and TTFB, then
// every route.
type diffHTML struct {
	w               io.Writer
	opts            DiffOptions
	problems        []htmlRow
	problemsOmitted int
	rows            []htmlRow
	rowsOmitted     int
	sides           [2]diffSideStats
}

// diffSideStats totals one environment's answered probes.
type diffSideStats struct {
	byStatus map[string]int
	hists    map[string]*ttfbHist
	answered int
	hits     int
}

func (d *diffSideStats) add(s verify.Side) {
	if s.Error != "" {
		return
	}
	if d.byStatus == nil {
		d.byStatus, d.hists = map[string]int{}, map[string]*ttfbHist{}
	}
	st := string(s.Cache)
	d.byStatus[st]++
	d.answered++
	if s.Cache.FromCache() {
		d.hits++
	}
	if d.hists[st] == nil {
		d.hists[st] = &ttfbHist{}
	}
	d.hists[st].add(s.TTFBMs)
}

func (d *diffSideStats) hitRatio() float64 {
	if d.answered == 0 {
		return 0
	}
	return float64(d.hits) / float64(d.answered)
}

func (h *diffHTML) Route(r verify.DiffRecord) error {
	for i, v := range r.Variants {
		h.sides[0].add(v.A)
		h.sides[1].add(v.B)
		for _, d := range v.Differences {
			if len(h.problems) >= htmlMaxProblems {
				h.problemsOmitted++
				continue
			}
			h.problems = append(h.problems, htmlRow{Class: "fail", Cells: []htmlCell{
				codeCell(r.Route), variantCell(string(v.Variant)), codeCell(d.Field), cell(d.A), {Text: d.B, Class: "actual"},
				{Text: orNone(r.Owner), Class: "owner"}, codeCell(orNone(r.Rollback)),
			}})
		}
		if len(h.rows) >= htmlMaxRows {
			h.rowsOmitted++
			continue
		}
		h.rows = append(h.rows, diffTableRow(r, i, v))
	}
	return nil
}

// diffTableRow is one route and variant: each side in brief and what differs.
func diffTableRow(r verify.DiffRecord, i int, v verify.VariantDiff) htmlRow {
	route := ""
	if i == 0 {
		route = r.Route
	}
	class, result := "pass", "same"
	diffs := make([]string, len(v.Differences))
	for j, d := range v.Differences {
		diffs[j] = fmt.Sprintf("%s: %s → %s", d.Field, d.A, d.B)
	}
	if len(diffs) > 0 {
		class, result = "fail", "drift"
	}
	return htmlRow{Class: class, Cells: []htmlCell{
		codeCell(route), variantCell(string(v.Variant)), {Text: result, Class: "result"},
		cell(sideBrief(v.A)), cell(sideBrief(v.B)), {Text: strings.Join(diffs, "; "), Class: "diff"},
	}}
}

func sideBrief(s verify.Side) string {
	if s.Error != "" {
		return "no response: " + s.Error
	}
	return fmt.Sprintf("%s · %d · ttl %s · %s", s.Cache, s.StatusCode, s.FieldValue(verify.FieldTTL), fmtMS(s.TTFBMs))
}

func (h *diffHTML) Close(s *verify.DiffSummary) error {
	a, b := h.opts.EnvA, h.opts.EnvB
	p := &htmlPage{
		Title:   fmt.Sprintf("cachectl diff: %s vs %s", a, b),
		Verdict: htmlVerdictOf(s.Result(), "SAME", "DRIFT", diffHeadline(s, a, b)),
		Meta:    htmlMeta(h.opts.Timestamp, s.ElapsedMS),
		Stats:   h.stats(s),
		Table: htmlTable{
			Heading: "Every route",
			Columns: []string{"route", "variant", "result", a, b, "differences (" + a + " → " + b + ")"},
			Rows:    h.rows,
			Note:    omittedNote(h.rowsOmitted, "route/variant pairs"),
		},
		Footer: "Written by cachectl diff. The same run with -o jsonl has both sides of every route in full.",
	}
	if len(h.problems) > 0 {
		p.Problems = &htmlTable{
			Heading: fmt.Sprintf("Differences (%d), with their owners and rollbacks", len(h.problems)+h.problemsOmitted),
			Columns: []string{"route", "variant", "field", a, b, "owner", "rollback"},
			Rows:    h.problems,
			Note:    omittedNote(h.problemsOmitted, "differences"),
		}
	}
	var series []chartSeries
	for i, env := range []string{a, b} {
		if side := &h.sides[i]; side.answered > 0 {
			p.HitBars = append(p.HitBars, newStatusBar(env, side.byStatus, side.hitRatio()))
		}
	}
	for _, st := range cachestatus.All() {
		for i, env := range []string{a, b} {
			if hist := h.sides[i].hists[string(st)]; hist != nil {
				series = append(series, chartSeries{Label: string(st) + " · " + env, Status: string(st), Hist: hist, P50: hist.quantile(0.5), P95: hist.quantile(0.95)})
			}
		}
	}
	p.Chart = ttfbChart(series, "time to first byte of every answered probe, one row per cache status and environment")
	return writeHTML(h.w, p)
}

func diffHeadline(s *verify.DiffSummary, a, b string) string {
	switch s.Result() {
	case verify.ChecksFailed:
		return fmt.Sprintf("%d of %d route/variant pairs differ between %s and %s.", s.Drifted, s.Pairs, a, b)
	case verify.Unreachable:
		return fmt.Sprintf("%d of %d route/variant pairs got no response on one side; %d differ.", s.Errors, s.Pairs, s.Drifted)
	}
	return fmt.Sprintf("%s and %s cache all %s alike.", a, b, plural(s.Routes, "route", "routes"))
}

func (h *diffHTML) stats(s *verify.DiffSummary) []htmlStat {
	var fields []string
	for _, f := range verify.DiffFields {
		if n := s.ByField[f]; n > 0 {
			fields = append(fields, fmt.Sprintf("%s %d", f, n))
		}
	}
	byField := "none"
	if len(fields) > 0 {
		byField = strings.Join(fields, ", ")
	}
	return []htmlStat{
		{Value: fmt.Sprintf("%d of %d", s.Drifted, s.Pairs), Label: "route/variant pairs differ", Bad: s.Drifted > 0},
		{Value: byField, Label: "differences by field", Bad: len(fields) > 0},
		{Value: fmt.Sprintf("%.1f%%", h.sides[0].hitRatio()*100), Label: "hit ratio, " + h.opts.EnvA},
		{Value: fmt.Sprintf("%.1f%%", h.sides[1].hitRatio()*100), Label: "hit ratio, " + h.opts.EnvB},
	}
}
