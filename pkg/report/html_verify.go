package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/cachectl/cachectl/pkg/verify"
)

// verifyHTML keeps the failed checks, the table's rows (both capped) and a
// TTFB histogram per cache status, and writes the page at Close: the
// verdict and every failed check with its owner and rollback first, then
// the hit ratio and TTFB charts, then every check.
type verifyHTML struct {
	w               io.Writer
	opts            VerifyOptions
	problems        []htmlRow
	problemsOmitted int
	rows            []htmlRow
	rowsOmitted     int
	hists           map[string]*ttfbHist
}

func newVerifyHTML(w io.Writer, opts VerifyOptions) *verifyHTML {
	return &verifyHTML{w: w, opts: opts, hists: map[string]*ttfbHist{}}
}

func (h *verifyHTML) Route(recs []verify.Record) error {
	for i, r := range recs {
		first := i == 0 || recs[i-1].Variant != r.Variant
		if first && r.Probe.Error == "" {
			st := string(r.Probe.Cache)
			if h.hists[st] == nil {
				h.hists[st] = &ttfbHist{}
			}
			h.hists[st].add(r.Probe.TTFBMs)
		}
		if !r.Passed {
			if len(h.problems) < htmlMaxProblems {
				h.problems = append(h.problems, verifyProblemRow(r))
			} else {
				h.problemsOmitted++
			}
		}
		if len(h.rows) < htmlMaxRows {
			h.rows = append(h.rows, verifyTableRow(r, i == 0, first))
		} else {
			h.rowsOmitted++
		}
	}
	return nil
}

func verifyProblemRow(r verify.Record) htmlRow {
	return htmlRow{Class: "fail", Cells: []htmlCell{
		codeCell(r.Route), variantCell(string(r.Variant)), codeCell(r.Check), cell(r.Expected),
		{Text: r.Actual, Class: "actual"}, {Text: orNone(r.Owner), Class: "owner"}, codeCell(orNone(r.Rollback)),
	}}
}

// verifyTableRow is one check; the route and variant are shown where they
// change, as in the table format.
func verifyTableRow(r verify.Record, firstOfRoute, firstOfVariant bool) htmlRow {
	route, variant := "", ""
	if firstOfRoute {
		route = r.Route
	}
	if firstOfVariant {
		variant = string(r.Variant)
	}
	class, result := "pass", "ok"
	if !r.Passed {
		class, result = "fail", "FAIL"
	}
	facts := []htmlCell{cell(""), cell(""), cell("")}
	if r.Probe.Error == "" {
		facts = []htmlCell{cell(string(r.Probe.Cache)), {Text: strconv.Itoa(r.Probe.StatusCode), Class: "num"}, {Text: fmtMS(r.Probe.TTFBMs), Class: "num"}}
	}
	cells := []htmlCell{codeCell(route), variantCell(variant), codeCell(r.Check), {Text: result, Class: "result"}, cell(r.Expected), cell(r.Actual)}
	cells = append(cells, facts...)
	return htmlRow{Class: class, Cells: append(cells, cell(orNone(r.Owner)))}
}

func (h *verifyHTML) Close(s *verify.Summary) error {
	title := "cachectl verify"
	if h.opts.Env != "" {
		title += ": " + h.opts.Env
	}
	p := &htmlPage{
		Title:   title,
		Verdict: htmlVerdictOf(s.Result(), "PASSED", "FAILED", verifyHeadline(s)),
		Meta:    htmlMeta(h.opts.Timestamp, s.ElapsedMS),
		Stats:   verifyStats(s),
		Table: htmlTable{
			Heading: "Every check",
			Columns: []string{"route", "variant", "check", "result", "expected", "actual", "cache", "status", "TTFB", "owner"},
			Rows:    h.rows,
			Note:    omittedNote(h.rowsOmitted, "checks"),
		},
		Footer: "Written by cachectl verify. The same run with -o jsonl has every field of every check.",
	}
	if len(h.problems) > 0 {
		p.Problems = &htmlTable{
			Heading: fmt.Sprintf("Failed checks (%d), with their owners and rollbacks", s.Failed),
			Columns: []string{"route", "variant", "check", "expected", "actual", "owner", "rollback"},
			Rows:    h.problems,
			Note:    omittedNote(h.problemsOmitted, "failed checks"),
		}
	}
	if len(s.ByStatus) > 0 {
		p.HitBars = []statusBar{newStatusBar("", s.ByStatus, s.HitRatio)}
	}
	p.Chart = ttfbChart(h.series(s), "time to first byte of every answered probe, one row per cache status")
	return writeHTML(h.w, p)
}

func verifyHeadline(s *verify.Summary) string {
	switch s.Result() {
	case verify.ChecksFailed:
		return fmt.Sprintf("%d of %d checks failed on %d of %s.", s.Failed, s.Checks, s.FailedRoutes, plural(s.Routes, "route", "routes"))
	case verify.Unreachable:
		return fmt.Sprintf("%d of %d probes got no response; %d of %d checks failed.", s.Errors, s.Probes, s.Failed, s.Checks)
	}
	return fmt.Sprintf("All %d checks passed on %s.", s.Checks, plural(s.Routes, "route", "routes"))
}

func verifyStats(s *verify.Summary) []htmlStat {
	return []htmlStat{
		{Value: fmt.Sprintf("%d of %d", s.Failed, s.Checks), Label: "checks failed", Bad: s.Failed > 0},
		{Value: fmt.Sprintf("%d of %d", s.FailedRoutes, s.Routes), Label: "routes with a failure", Bad: s.FailedRoutes > 0},
		{Value: fmt.Sprintf("%.1f%%", s.HitRatio*100), Label: "hit ratio (served from cache)"},
		{Value: fmt.Sprintf("%d of %d", s.Errors, s.Probes), Label: "probes without a response", Bad: s.Errors > 0},
	}
}

// series is one chart row per cache status, with the percentiles every
// other format prints.
func (h *verifyHTML) series(s *verify.Summary) []chartSeries {
	var out []chartSeries
	for _, st := range statusOrder(h.hists) {
		hist := h.hists[st]
		p, ok := s.TTFB[st]
		if !ok {
			p = verify.Percentiles{P50: hist.quantile(0.5), P95: hist.quantile(0.95)}
		}
		out = append(out, chartSeries{Label: st, Status: st, Hist: hist, P50: p.P50, P95: p.P95})
	}
	return out
}
