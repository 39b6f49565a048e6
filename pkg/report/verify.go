package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/verify"
)

// VerifyOptions shape verify output.
type VerifyOptions struct {
	Style Style
	// Env names the environment in headings.
	Env string
	// RouteWidth is the route column's width for tables (the longest route).
	RouteWidth int
	// Timestamp is when the run started (JUnit); zero leaves it out.
	Timestamp time.Time
	// MaxRows caps the failed checks a Markdown report lists (default 200).
	MaxRows int
}

// VerifyWriter writes verify results as they arrive.
type VerifyWriter interface {
	// Route writes the checks of one route (all variants), in order.
	Route(recs []verify.Record) error
	// Close writes what comes after the last route; s must be finished.
	Close(s *verify.Summary) error
}

// NewVerifyWriter returns a writer for format f.
func NewVerifyWriter(f Format, w io.Writer, opts VerifyOptions) (VerifyWriter, error) {
	switch f {
	case Table:
		return &verifyTable{w: w, opts: opts}, nil
	case JSON:
		return &verifyJSON{doc: newJSONDoc(w, "checks", "env", opts.Env)}, nil
	case JSONL:
		return newVerifyJSONL(w), nil
	case JUnit:
		return &verifyJUnit{j: newJUnitWriter(w, junitName("cachectl verify", opts.Env)), opts: opts}, nil
	case Markdown:
		return &verifyMarkdown{w: w, opts: opts}, nil
	case HTML:
		return newVerifyHTML(w, opts), nil
	}
	return nil, fmt.Errorf("verify cannot write %s (expected table, json, jsonl, junit, markdown or html)", f)
}

func junitName(cmd, env string) string {
	if env == "" {
		return cmd
	}
	return cmd + " " + env
}

// verifyJSONL writes a route's lines with one write: thousands of routes
// should not cost a system call per check. A line is what encoding/json
// writes for the record (without HTML escaping), appended field by field.
type verifyJSONL struct {
	w   io.Writer
	buf []byte
}

func newVerifyJSONL(w io.Writer) *verifyJSONL {
	return &verifyJSONL{w: w}
}

func (j *verifyJSONL) Route(recs []verify.Record) error {
	j.buf = j.buf[:0]
	for i := range recs {
		var err error
		if j.buf, err = appendRecordLine(j.buf, &recs[i]); err != nil {
			return err
		}
	}
	_, err := j.w.Write(j.buf)
	return err
}

// appendRecordLine appends r's jsonl line to b. A duration that is not a
// finite number, which JSON cannot carry, is refused as encoding/json
// refuses it.
func appendRecordLine(b []byte, r *verify.Record) ([]byte, error) {
	if !finite(r.Probe.TTFBMs) || !finite(r.Probe.TotalMs) {
		var line bytes.Buffer
		err := newEncoder(&line).Encode(r)
		return append(b, line.Bytes()...), err
	}
	b = appendField(b, `{"route":`, r.Route)
	b = appendField(b, `,"variant":`, string(r.Variant))
	b = appendField(b, `,"check":`, r.Check)
	b = strconv.AppendBool(append(b, `,"passed":`...), r.Passed)
	b = appendField(b, `,"expected":`, r.Expected)
	b = appendField(b, `,"actual":`, r.Actual)
	b = appendField(b, `,"owner":`, r.Owner)
	b = appendField(b, `,"rollback":`, r.Rollback)
	b = appendField(b, `,"url":`, r.URL)
	if r.Env != "" {
		b = appendField(b, `,"env":`, r.Env)
	}
	if r.Shard != "" {
		b = appendField(b, `,"shard":`, r.Shard)
	}
	b = strconv.AppendInt(append(b, `,"index":`...), int64(r.Index), 10)
	b = strconv.AppendInt(append(b, `,"attempts":`...), int64(r.Attempts), 10)
	p := &r.Probe
	b = strconv.AppendInt(append(b, `,"probe":{"status_code":`...), int64(p.StatusCode), 10)
	b = appendField(b, `,"cache":`, string(p.Cache))
	b = appendJSONFloat(append(b, `,"ttfb_ms":`...), p.TTFBMs)
	b = appendJSONFloat(append(b, `,"total_ms":`...), p.TotalMs)
	if p.Error != "" {
		b = appendField(b, `,"error":`, p.Error)
	}
	return append(b, "}}\n"...), nil
}

func (j *verifyJSONL) Close(*verify.Summary) error { return nil }

// verifyJSON streams the checks array and ends the document with the
// summary, so memory stays flat however many routes there are.
type verifyJSON struct {
	doc *jsonDoc
}

func (j *verifyJSON) Route(recs []verify.Record) error {
	for i := range recs {
		if err := j.doc.item(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (j *verifyJSON) Close(s *verify.Summary) error { return j.doc.close(s) }

type verifyTable struct {
	w       io.Writer
	opts    VerifyOptions
	started bool
}

func (t *verifyTable) width() int {
	return min(max(t.opts.RouteWidth, len("ROUTE")), maxURLWidth)
}

func (t *verifyTable) Route(recs []verify.Record) error {
	st := t.opts.Style
	var b strings.Builder
	if !t.started {
		t.started = true
		fmt.Fprintf(&b, "%s %-9s %-4s %-22s %s\n", st.Bold(pad("ROUTE", 5, t.width())), "VARIANT", "", "CHECK", "EXPECTED → ACTUAL")
	}
	for i, r := range recs {
		route := ""
		if i == 0 || recs[i-1].Variant != r.Variant {
			route = shorten(r.Route, t.width())
		}
		mark := st.Green("ok")
		if !r.Passed {
			mark = st.Red("FAIL")
		}
		mark = pad(mark, len(plainMark(r.Passed)), 4)
		detail := r.Actual
		if !r.Passed {
			detail = r.Expected + " → " + st.Red(r.Actual)
		}
		fmt.Fprintf(&b, "%s %-9s %s %-22s %s\n", pad(route, utf8.RuneCountInString(route), t.width()), variantLabel(r, i, recs), mark, r.Check, detail)
		if !r.Passed && (i+1 == len(recs) || recs[i+1].Variant != r.Variant || recs[i+1].Passed) {
			fmt.Fprintf(&b, "%s %s\n", strings.Repeat(" ", t.width()+15), st.Dim(ownerLine(r)))
		}
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

func plainMark(passed bool) string {
	if passed {
		return "ok"
	}
	return "FAIL"
}

func variantLabel(r verify.Record, i int, recs []verify.Record) string {
	if i == 0 || recs[i-1].Variant != r.Variant {
		return string(r.Variant)
	}
	return ""
}

func ownerLine(r verify.Record) string {
	return "owner: " + orNone(r.Owner) + " · rollback: " + orNone(r.Rollback)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (t *verifyTable) Close(s *verify.Summary) error {
	st := t.opts.Style
	var b strings.Builder
	if t.started {
		b.WriteString("\n")
	}
	verdict := st.Green("PASSED")
	if s.Failed > 0 {
		verdict = st.Red("FAILED")
	}
	fmt.Fprintf(&b, "%s  %d checks: %d passed, %d failed (%d of %d routes)\n", verdict, s.Checks, s.Passed, s.Failed, s.FailedRoutes, s.Routes)
	fmt.Fprintf(&b, "probes %d, errors %d (%.1f%%), hit ratio %.1f%%", s.Probes, s.Errors, s.ErrorRate*100, s.HitRatio*100)
	if s.ElapsedMS > 0 {
		fmt.Fprintf(&b, ", %s", fmtMS(s.ElapsedMS))
	}
	b.WriteString("\n")
	if len(s.TTFB) > 0 {
		fmt.Fprintf(&b, "%-12s %7s %9s %9s %9s\n", "TTFB", "count", "p50", "p95", "p99")
		for _, k := range sortedStatuses(s.TTFB) {
			p := s.TTFB[k]
			fmt.Fprintf(&b, "%-12s %7d %9s %9s %9s\n", k, p.Count, fmtMS(p.P50), fmtMS(p.P95), fmtMS(p.P99))
		}
	}
	if len(s.Slowest) > 0 {
		b.WriteString("slowest:")
		for _, sl := range s.Slowest {
			fmt.Fprintf(&b, " %s (%s, %s, %s)", sl.Route, sl.Variant, sl.Cache, fmtMS(sl.TTFBMs))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

func sortedStatuses[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// verifyJUnit writes one suite per route and one test case per variant ×
// check. A check whose probe got no response is an <error>, a check that
// judged a response and found it wrong a <failure>; both carry expected,
// actual, owner and rollback.
type verifyJUnit struct {
	j    *junitWriter
	opts VerifyOptions
}

func (v *verifyJUnit) Route(recs []verify.Record) error {
	if len(recs) == 0 {
		return nil
	}
	first := recs[0]
	s := JUnitTestSuite{
		Name:      first.Route,
		Timestamp: junitTimestamp(v.opts.Timestamp),
		Properties: []JUnitProperty{
			{Name: "url", Value: first.URL},
			{Name: "env", Value: first.Env},
			{Name: "owner", Value: first.Owner},
			{Name: "rollback", Value: first.Rollback},
		},
	}
	var total float64
	seen := map[string]bool{}
	for _, r := range recs {
		tc := JUnitTestCase{Classname: r.Route, Name: string(r.Variant) + " " + r.Check, Time: junitSeconds(r.Probe.TTFBMs)}
		if !seen[string(r.Variant)] {
			seen[string(r.Variant)] = true
			total += r.Probe.TotalMs
		}
		s.Tests++
		if !r.Passed {
			f := &JUnitFailure{
				Message:  fmt.Sprintf("%s %s: expected %s, got %s (owner: %s)", r.Variant, r.Check, r.Expected, r.Actual, orNone(r.Owner)),
				Type:     r.Check,
				Contents: failureText(r),
			}
			if r.Check == verify.CheckReachable {
				tc.Error = f
				s.Errors++
			} else {
				tc.Failure = f
				s.Failures++
			}
		}
		s.TestCases = append(s.TestCases, tc)
	}
	s.Time = junitSeconds(total)
	return v.j.suite(s)
}

func failureText(r verify.Record) string {
	return fmt.Sprintf("route:    %s\nurl:      %s\nvariant:  %s\ncheck:    %s\nexpected: %s\nactual:   %s\nowner:    %s\nrollback: %s\nattempts: %d",
		r.Route, r.URL, r.Variant, r.Check, r.Expected, r.Actual, orNone(r.Owner), orNone(r.Rollback), r.Attempts)
}

func (v *verifyJUnit) Close(*verify.Summary) error { return v.j.close() }
