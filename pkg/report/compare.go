package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/measure"
)

// CompareSide describes one of the two measurements compared.
type CompareSide struct {
	File    string          `json:"file"`
	Started time.Time       `json:"started"`
	Machine measure.Machine `json:"machine"`
}

// CompareOptions shape compare output.
type CompareOptions struct {
	Style Style
	// Old and New are the two measurements.
	Old, New CompareSide
	// MaxRows caps the rows of a Markdown report (default 200).
	MaxRows int
}

// compareSummary totals a comparison by verdict.
type compareSummary struct {
	Improved  int `json:"improved"`
	Regressed int `json:"regressed"`
	Unchanged int `json:"unchanged"`
	Missing   int `json:"missing"`
}

// WriteComparison writes a comparison in format f: one JSON document,
// one JSON object per result, an aligned table or a Markdown table for a
// pull request.
func WriteComparison(f Format, w io.Writer, c *measure.Comparison, opts CompareOptions) error {
	switch f {
	case JSONL:
		enc := newEncoder(w)
		for i := range c.Results {
			if err := enc.Encode(&c.Results[i]); err != nil {
				return err
			}
		}
		return nil
	case JSON:
		return writeCompareJSON(w, c, opts)
	case Table:
		return writeCompareTable(w, c, opts)
	case Markdown:
		return writeCompareMarkdown(w, c, opts)
	}
	return fmt.Errorf("compare cannot write %s (expected table, json, jsonl or markdown)", f)
}

func writeCompareJSON(w io.Writer, c *measure.Comparison, opts CompareOptions) error {
	results := c.Results
	if results == nil {
		results = []measure.Result{}
	}
	enc := newEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Old         CompareSide      `json:"old"`
		New         CompareSide      `json:"new"`
		Alpha       float64          `json:"alpha"`
		MinDeltaPct float64          `json:"min_delta_pct"`
		MinDeltaMs  float64          `json:"min_delta_ms"`
		Results     []measure.Result `json:"results"`
		Summary     compareSummary   `json:"summary"`
	}{opts.Old, opts.New, c.Options.Alpha, c.Options.MinDeltaPct, c.Options.MinDeltaMs, results, summaryOf(c)})
}

func summaryOf(c *measure.Comparison) compareSummary {
	return compareSummary{Improved: c.Improved, Regressed: c.Regressed, Unchanged: c.Unchanged, Missing: c.Missing}
}

// compareCells are one result's cells as a table shows them: the delta is
// "~" when the verdict is unchanged, as benchstat prints a difference that
// is not one.
func compareCells(r measure.Result) (old, new, delta, p string) {
	old, new, delta, p = "-", "-", "", ""
	if r.Old != nil {
		old = fmtSampleMS(*r.Old)
	}
	if r.New != nil {
		new = fmtSampleMS(*r.New)
	}
	switch {
	case r.Verdict == measure.Missing:
	case r.Verdict == measure.Unchanged:
		delta = "~"
	case r.DeltaPct != nil:
		delta = signedPct(*r.DeltaPct)
	default:
		delta = "new"
	}
	if r.PValue != nil {
		p = fmt.Sprintf("p=%.3f n=%d+%d", *r.PValue, r.OldN, r.NewN)
	}
	return old, new, delta, p
}

// signedPct prints a change in percent with its sign.
func signedPct(v float64) string {
	if v > 0 {
		return "+" + strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	return "−" + strconv.FormatFloat(-v, 'f', 1, 64) + "%"
}

func colorVerdict(st Style, v measure.Verdict) string {
	switch v {
	case measure.Improved:
		return st.Green(string(v))
	case measure.Regressed:
		return st.Red(string(v))
	case measure.Missing:
		return st.Yellow(string(v))
	}
	return st.Dim(string(v))
}

func writeCompareTable(w io.Writer, c *measure.Comparison, opts CompareOptions) error {
	st := opts.Style
	uw, mw := len("URL"), len("METRIC")
	for _, r := range c.Results {
		uw = max(uw, utf8.RuneCountInString(r.URL))
		mw = max(mw, len(r.Metric))
	}
	uw = min(uw, maxURLWidth)
	row := func(url, variant, state, metric, old, new, delta, p, verdict string) string {
		return strings.TrimRight(fmt.Sprintf("%s  %-9s  %-5s  %-*s  %9s  %9s  %9s  %-18s  %s", pad(url, utf8.RuneCountInString(url), uw),
			variant, state, mw, metric, old, new, delta, p, verdict), " ")
	}
	var b strings.Builder
	b.WriteString(st.Bold(row("URL", "VARIANT", "STATE", "METRIC", "OLD", "NEW", "DELTA", "P", "VERDICT")) + "\n")
	for _, r := range c.Results {
		old, new, delta, p := compareCells(r)
		verdict := colorVerdict(st, r.Verdict)
		if r.Note != "" {
			verdict += st.Dim(" (" + r.Note + ")")
		}
		b.WriteString(row(shorten(r.URL, uw), string(r.Variant), string(r.State), r.Metric, old, new, delta, p, verdict) + "\n")
	}
	b.WriteString("\n" + compareFooter(st, c, opts) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// compareFooter counts the verdicts and states the thresholds, and warns
// when the two measurements ran on different machines.
func compareFooter(st Style, c *measure.Comparison, opts CompareOptions) string {
	counts := fmt.Sprintf("%d improved, %d regressed, %d unchanged", c.Improved, c.Regressed, c.Unchanged)
	if c.Regressed > 0 {
		counts = fmt.Sprintf("%d improved, %s, %d unchanged", c.Improved, st.Red(fmt.Sprintf("%d regressed", c.Regressed)), c.Unchanged)
	}
	if c.Missing > 0 {
		counts += fmt.Sprintf(", %d missing", c.Missing)
	}
	o := c.Options
	line := fmt.Sprintf("%s (Mann-Whitney U test; a change counts when p < %g and the median moves by at least %g%% and %g ms)", counts, o.Alpha, o.MinDeltaPct, o.MinDeltaMs)
	if m := differentMachines(opts.Old.Machine, opts.New.Machine); m != "" {
		line += "\n" + st.Yellow("note: measured on different machines ("+m+"); differences may be the machines'")
	}
	return line
}

// differentMachines describes how two machines differ; "" when they do not.
func differentMachines(a, b measure.Machine) string {
	switch {
	case a.Hostname != b.Hostname:
		return a.Hostname + " and " + b.Hostname
	case a.CPUs != b.CPUs || a.OS != b.OS || a.Arch != b.Arch:
		return fmt.Sprintf("%s/%s %d CPUs and %s/%s %d CPUs", a.OS, a.Arch, a.CPUs, b.OS, b.Arch, b.CPUs)
	}
	return ""
}

func writeCompareMarkdown(w io.Writer, c *measure.Comparison, opts CompareOptions) error {
	maxRows := opts.MaxRows
	if maxRows <= 0 {
		maxRows = defaultMaxRows
	}
	var b strings.Builder
	b.WriteString("### cachectl compare\n\n")
	fmt.Fprintf(&b, "%s\n\n", compareFooter(Style{}, c, opts))
	b.WriteString("| URL | variant | state | metric | old | new | delta | p | verdict |\n|---|---|---|---|---:|---:|---:|---:|---|\n")
	for i, r := range c.Results {
		if i == maxRows {
			fmt.Fprintf(&b, "\n%d more result(s) not shown (see -o jsonl)\n", len(c.Results)-maxRows)
			break
		}
		old, new, delta, p := compareCells(r)
		verdict := map[measure.Verdict]string{measure.Improved: "✅ improved", measure.Regressed: "❌ **regressed**"}[r.Verdict]
		if verdict == "" {
			verdict = string(r.Verdict)
		}
		if r.Note != "" {
			verdict += " (" + r.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdCode(r.URL), r.Variant, r.State, mdCode(r.Metric),
			old, new, mdCell(delta), mdCell(p), mdCell(verdict))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
