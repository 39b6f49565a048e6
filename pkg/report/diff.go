package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/verify"
)

// DiffOptions shape diff output.
type DiffOptions struct {
	Style Style
	// EnvA and EnvB name the two environments (column headings).
	EnvA, EnvB string
	// RouteWidth is the route column's width for tables.
	RouteWidth int
	// Timestamp is when the run started (JUnit); zero leaves it out.
	Timestamp time.Time
	// MaxRows caps the differences a Markdown report lists (default 200).
	MaxRows int
}

// DiffWriter writes diff results as they arrive.
type DiffWriter interface {
	// Route writes one route's comparison.
	Route(r verify.DiffRecord) error
	// Close writes what comes after the last route.
	Close(s *verify.DiffSummary) error
}

// NewDiffWriter returns a writer for format f.
func NewDiffWriter(f Format, w io.Writer, opts DiffOptions) (DiffWriter, error) {
	switch f {
	case Table:
		return &diffTable{w: w, opts: opts}, nil
	case JSON:
		return &diffJSON{doc: newJSONDoc(w, "routes", "env_a", opts.EnvA, "env_b", opts.EnvB)}, nil
	case JSONL:
		return &diffJSONL{enc: newEncoder(w)}, nil
	case JUnit:
		return &diffJUnit{j: newJUnitWriter(w, "cachectl diff "+opts.EnvA+" "+opts.EnvB), opts: opts}, nil
	case Markdown:
		return &diffMarkdown{w: w, opts: opts}, nil
	case HTML:
		return &diffHTML{w: w, opts: opts}, nil
	}
	return nil, fmt.Errorf("diff cannot write %s (expected table, json, jsonl, junit, markdown or html)", f)
}

type diffJSONL struct{ enc *json.Encoder }

func (d *diffJSONL) Route(r verify.DiffRecord) error { return d.enc.Encode(&r) }
func (d *diffJSONL) Close(*verify.DiffSummary) error { return nil }

type diffJSON struct{ doc *jsonDoc }

func (d *diffJSON) Route(r verify.DiffRecord) error   { return d.doc.item(&r) }
func (d *diffJSON) Close(s *verify.DiffSummary) error { return d.doc.close(s) }

// diffTable prints every route and variant on one line when both sides
// agree, and the differing fields side by side when they do not.
type diffTable struct {
	w       io.Writer
	opts    DiffOptions
	started bool
}

const diffColWidth = 28

func (t *diffTable) width() int {
	return min(max(t.opts.RouteWidth, len("ROUTE")), maxURLWidth)
}

func (t *diffTable) Route(r verify.DiffRecord) error {
	st := t.opts.Style
	var b strings.Builder
	if !t.started {
		t.started = true
		fmt.Fprintf(&b, "%s %-9s %-14s %-*s %s\n", st.Bold(pad("ROUTE", 5, t.width())), "VARIANT", "FIELD", diffColWidth, t.opts.EnvA, t.opts.EnvB)
	}
	for i, v := range r.Variants {
		route := ""
		if i == 0 {
			route = shorten(r.Route, t.width())
		}
		route = pad(route, utf8.RuneCountInString(route), t.width())
		if len(v.Differences) == 0 {
			same := fmt.Sprintf("same: %s, %d, ttl %s", v.A.Cache, v.A.StatusCode, v.A.FieldValue(verify.FieldTTL))
			fmt.Fprintf(&b, "%s %-9s %-14s %s\n", route, v.Variant, st.Green("="), st.Dim(same))
			continue
		}
		for j, d := range v.Differences {
			variant := ""
			if j == 0 {
				variant = string(v.Variant)
			} else {
				route = strings.Repeat(" ", t.width())
			}
			a := shortenEnd(d.A, diffColWidth)
			fmt.Fprintf(&b, "%s %-9s %s %s %s\n", route, variant, pad(st.Red(d.Field), len(d.Field), 14), pad(st.Yellow(a), utf8.RuneCountInString(a), diffColWidth), st.Yellow(d.B))
		}
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

// shortenEnd keeps the start of a long value.
func shortenEnd(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

func (t *diffTable) Close(s *verify.DiffSummary) error {
	st := t.opts.Style
	var b strings.Builder
	if t.started {
		b.WriteString("\n")
	}
	verdict := st.Green("SAME")
	if s.Drifted > 0 {
		verdict = st.Red("DRIFT")
	}
	fmt.Fprintf(&b, "%s  %d of %d route/variant pairs differ between %s and %s (%d routes", verdict, s.Drifted, s.Pairs, t.opts.EnvA, t.opts.EnvB, s.Routes)
	if s.Errors > 0 {
		fmt.Fprintf(&b, ", %d unreachable", s.Errors)
	}
	b.WriteString(")")
	if s.ElapsedMS > 0 {
		fmt.Fprintf(&b, ", %s", fmtMS(s.ElapsedMS))
	}
	b.WriteString("\n")
	if len(s.ByField) > 0 {
		b.WriteString("by field:")
		for _, f := range verify.DiffFields {
			if n := s.ByField[f]; n > 0 {
				fmt.Fprintf(&b, " %s %d", f, n)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

// diffJUnit writes a suite per route and a test case per variant; a drifted
// variant fails with every differing field.
type diffJUnit struct {
	j    *junitWriter
	opts DiffOptions
}

func (d *diffJUnit) Route(r verify.DiffRecord) error {
	s := JUnitTestSuite{Name: r.Route, Timestamp: junitTimestamp(d.opts.Timestamp), Time: junitSeconds(0)}
	for _, v := range r.Variants {
		s.Properties = append(s.Properties,
			JUnitProperty{Name: string(v.Variant) + ".url." + r.EnvA, Value: v.A.URL},
			JUnitProperty{Name: string(v.Variant) + ".url." + r.EnvB, Value: v.B.URL})
		tc := JUnitTestCase{Classname: r.Route, Name: fmt.Sprintf("%s %s = %s", v.Variant, r.EnvA, r.EnvB), Time: junitSeconds(0)}
		s.Tests++
		if len(v.Differences) > 0 {
			fields := make([]string, len(v.Differences))
			lines := make([]string, len(v.Differences))
			for i, df := range v.Differences {
				fields[i] = df.Field
				lines[i] = fmt.Sprintf("%s: %s %s, %s %s", df.Field, r.EnvA, df.A, r.EnvB, df.B)
			}
			f := &JUnitFailure{
				Message:  fmt.Sprintf("%s differs in %s", v.Variant, strings.Join(fields, ", ")),
				Type:     "drift",
				Contents: strings.Join(lines, "\n"),
			}
			if v.A.Error != "" || v.B.Error != "" {
				tc.Error = f
				s.Errors++
			} else {
				tc.Failure = f
				s.Failures++
			}
		}
		s.TestCases = append(s.TestCases, tc)
	}
	return d.j.suite(s)
}

func (d *diffJUnit) Close(*verify.DiffSummary) error { return d.j.close() }

// diffMarkdown lists the differences (capped) after a summary line.
type diffMarkdown struct {
	w       io.Writer
	opts    DiffOptions
	rows    []string
	omitted int
}

func (m *diffMarkdown) Route(r verify.DiffRecord) error {
	limit := m.opts.MaxRows
	if limit <= 0 {
		limit = defaultMaxRows
	}
	for _, v := range r.Variants {
		for _, d := range v.Differences {
			if len(m.rows) >= limit {
				m.omitted++
				continue
			}
			m.rows = append(m.rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", mdCode(r.Route), v.Variant, mdCode(d.Field), mdCell(d.A), mdCell(d.B)))
		}
	}
	return nil
}

func (m *diffMarkdown) Close(s *verify.DiffSummary) error {
	var b strings.Builder
	icon, verdict := "✅", "no drift"
	switch s.Result() {
	case verify.ChecksFailed:
		icon, verdict = "❌", fmt.Sprintf("%d of %d route/variant pairs differ", s.Drifted, s.Pairs)
	case verify.Unreachable:
		icon, verdict = "⚠️", fmt.Sprintf("%d of %d route/variant pairs could not be compared (no response); %d differ", s.Errors, s.Pairs, s.Drifted)
	}
	fmt.Fprintf(&b, "## %s cachectl diff: %s vs %s\n\n%s across %d routes.\n\n", icon, mdCell(m.opts.EnvA), mdCell(m.opts.EnvB), verdict, s.Routes)
	if len(m.rows) > 0 {
		fmt.Fprintf(&b, "| route | variant | field | %s | %s |\n|---|---|---|---|---|\n", mdCell(m.opts.EnvA), mdCell(m.opts.EnvB))
		b.WriteString(strings.Join(m.rows, "\n"))
		b.WriteString("\n")
		if m.omitted > 0 {
			fmt.Fprintf(&b, "\n…and %d more differences (see the jsonl or JUnit report).\n", m.omitted)
		}
	}
	_, err := io.WriteString(m.w, b.String())
	return err
}
