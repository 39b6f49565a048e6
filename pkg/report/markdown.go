package report

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/cachectl/cachectl/pkg/verify"
)

// defaultMaxRows caps the rows of a Markdown table: a job summary or a pull
// request comment has a size limit, and the full list is in jsonl or JUnit.
const defaultMaxRows = 200

// mdCell escapes a value for a Markdown table cell. Markup characters
// become the entities html.EscapeString writes, the form the secret
// scrubber also looks for.
func mdCell(s string) string {
	if s == "" {
		return "—"
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	s = html.EscapeString(s)
	return strings.ReplaceAll(s, "\n", "<br>")
}

// mdCode shows a value as a code span in a table cell. A code span is
// literal text (no HTML, no entities), so only what ends the span, the cell
// or the row is replaced.
func mdCode(s string) string {
	if s == "" {
		return "—"
	}
	s = strings.NewReplacer("|", `\|`, "`", "'", "\r", "", "\n", " ").Replace(s)
	return "`" + s + "`"
}

// verifyMarkdown keeps only the failed checks (capped) and writes the
// report at Close, summary first, as a reader of a job summary wants it.
type verifyMarkdown struct {
	w       io.Writer
	opts    VerifyOptions
	failed  []verify.Record
	omitted int
}

func (m *verifyMarkdown) maxRows() int {
	if m.opts.MaxRows > 0 {
		return m.opts.MaxRows
	}
	return defaultMaxRows
}

func (m *verifyMarkdown) Route(recs []verify.Record) error {
	for _, r := range recs {
		if r.Passed {
			continue
		}
		if len(m.failed) >= m.maxRows() {
			m.omitted++
			continue
		}
		m.failed = append(m.failed, r)
	}
	return nil
}

func (m *verifyMarkdown) Close(s *verify.Summary) error {
	var b strings.Builder
	title := "cachectl verify"
	if m.opts.Env != "" {
		title += ": " + m.opts.Env
	}
	icon := "✅"
	verdict := "all checks passed"
	switch s.Result() {
	case verify.ChecksFailed:
		icon, verdict = "❌", fmt.Sprintf("%d of %d checks failed on %d of %d routes", s.Failed, s.Checks, s.FailedRoutes, s.Routes)
	case verify.Unreachable:
		icon, verdict = "⚠️", fmt.Sprintf("%d of %d probes got no response; %d of %d checks failed", s.Errors, s.Probes, s.Failed, s.Checks)
	}
	fmt.Fprintf(&b, "## %s %s\n\n%s.\n\n", icon, mdCell(title), verdict)
	b.WriteString("| routes | probes | checks | passed | failed | error rate | hit ratio |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %.1f%% | %.1f%% |\n\n", s.Routes, s.Probes, s.Checks, s.Passed, s.Failed, s.ErrorRate*100, s.HitRatio*100)
	if len(m.failed) > 0 {
		b.WriteString("### Failed checks\n\n| route | variant | check | expected | actual | owner | rollback |\n|---|---|---|---|---|---|---|\n")
		for _, r := range m.failed {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdCode(r.Route), r.Variant, mdCode(r.Check), mdCell(r.Expected), mdCell(r.Actual), mdCell(r.Owner), mdCell(r.Rollback))
		}
		if m.omitted > 0 {
			fmt.Fprintf(&b, "\n…and %d more failed checks (see the jsonl or JUnit report).\n", m.omitted)
		}
		b.WriteString("\n")
	}
	if len(s.TTFB) > 0 {
		b.WriteString("<details><summary>Time to first byte by cache status</summary>\n\n| cache | count | p50 | p95 | p99 |\n|---|---:|---:|---:|---:|\n")
		for _, k := range sortedStatuses(s.TTFB) {
			p := s.TTFB[k]
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", k, p.Count, fmtMS(p.P50), fmtMS(p.P95), fmtMS(p.P99))
		}
		if len(s.Slowest) > 0 {
			b.WriteString("\nSlowest: ")
			for i, sl := range s.Slowest {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s %s %s (%s)", mdCode(sl.Route), sl.Variant, fmtMS(sl.TTFBMs), sl.Cache)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(m.w, b.String())
	return err
}
