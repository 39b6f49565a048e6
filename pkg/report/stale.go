package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/stale"
)

// StaleSummary totals a stale run.
type StaleSummary struct {
	URLs int `json:"urls"`
	// Stale counts the URLs whose edge copy is older than the origin's.
	Stale int `json:"stale"`
	// Errors counts the URLs without a verdict (Result.Error).
	Errors int `json:"errors"`
	// ByReason counts the URLs with a verdict per reason.
	ByReason  map[string]int `json:"by_reason"`
	ElapsedMS float64        `json:"elapsed_ms"`
}

// Add counts one URL's result.
func (s *StaleSummary) Add(r stale.Result) {
	if s.ByReason == nil {
		s.ByReason = map[string]int{}
	}
	s.URLs++
	if r.Error != "" {
		s.Errors++
		return
	}
	if r.Stale {
		s.Stale++
	}
	s.ByReason[r.Reason]++
}

// StaleWriter writes stale results as they arrive.
type StaleWriter interface {
	// Result writes one URL's verdict.
	Result(r stale.Result) error
	// Close writes what comes after the last URL (the summary, the JSON document's end).
	Close(s StaleSummary) error
}

// StaleOptions shape stale output.
type StaleOptions struct {
	Style Style
	// Env names the environment in the JSON document.
	Env string
	// URLWidth is the URL column's width for tables (the longest URL).
	URLWidth int
}

// NewStaleWriter returns a writer for format f.
func NewStaleWriter(f Format, w io.Writer, opts StaleOptions) (StaleWriter, error) {
	switch f {
	case Table:
		return &staleTable{w: w, opts: opts}, nil
	case JSON:
		return &staleJSON{doc: newJSONDoc(w, "results", "env", opts.Env)}, nil
	case JSONL:
		return &staleJSONL{enc: newEncoder(w)}, nil
	}
	return nil, fmt.Errorf("stale cannot write %s (expected table, json or jsonl)", f)
}

type staleJSONL struct{ enc *json.Encoder }

func (j *staleJSONL) Result(r stale.Result) error { return j.enc.Encode(&r) }
func (j *staleJSONL) Close(StaleSummary) error    { return nil }

// staleJSON streams the results array and ends the document with the
// summary, so memory stays flat however many URLs there are.
type staleJSON struct{ doc *jsonDoc }

func (j *staleJSON) Result(r stale.Result) error { return j.doc.item(&r) }
func (j *staleJSON) Close(s StaleSummary) error {
	if s.ByReason == nil {
		s.ByReason = map[string]int{}
	}
	return j.doc.close(s)
}

type staleTable struct {
	w       io.Writer
	opts    StaleOptions
	started bool
}

// Verdicts as the table shows them.
const (
	verdictStale  = "stale"
	verdictFresh  = "fresh"
	verdictUnsure = "unsure"
	verdictError  = "error"
)

func (t *staleTable) urlWidth() int {
	return min(max(t.opts.URLWidth, len("URL")), maxURLWidth)
}

func (t *staleTable) row(url, verdict, edge, age, origin, reason string) string {
	return strings.TrimRight(fmt.Sprintf("%s  %-7s  %-15s  %5s  %-6s  %s",
		pad(url, utf8.RuneCountInString(url), t.urlWidth()), verdict, edge, age, origin, reason), " ")
}

// header writes the column names before the first row.
func (t *staleTable) header() {
	if !t.started {
		t.started = true
		fmt.Fprintln(t.w, t.opts.Style.Bold(t.row("URL", "VERDICT", "EDGE", "AGE", "ORIGIN", "REASON")))
	}
}

func (t *staleTable) Result(r stale.Result) error {
	t.header()
	st := t.opts.Style
	verdict := staleVerdict(r)
	edge, age, origin := "-", "-", "-"
	if r.Edge.StatusCode != 0 {
		edge = fmt.Sprintf("%s %d", r.Edge.Cache.Status, r.Edge.StatusCode)
	}
	if r.Edge.AgeS != nil {
		age = fmt.Sprint(*r.Edge.AgeS)
	}
	if r.Origin.StatusCode != 0 {
		origin = fmt.Sprint(r.Origin.StatusCode)
	}
	line := t.row(shorten(r.URL, t.urlWidth()), "\x00", edge, age, origin, r.Reason)
	// The verdict is coloured after alignment so escape codes don't skew widths.
	line = strings.Replace(line, "\x00"+strings.Repeat(" ", 6), pad(colorStaleVerdict(st, verdict), len(verdict), 7), 1)
	if _, err := fmt.Fprintln(t.w, line); err != nil {
		return err
	}
	if d := staleDetails(r); len(d) > 0 {
		fmt.Fprintln(t.w, "    "+st.Dim(strings.Join(d, " | ")))
	}
	if r.Error != "" {
		fmt.Fprintf(t.w, "    %s %s\n", st.Red("error:"), r.Error)
	}
	return nil
}

// staleVerdict is a result's word in the table: unsure when nothing could
// tell (bodies not comparable, or the edge's cache status unknown).
func staleVerdict(r stale.Result) string {
	switch {
	case r.Error != "":
		return verdictError
	case r.Stale:
		return verdictStale
	case r.Reason == string(stale.NotComparable) || strings.HasSuffix(r.Reason, stale.UnknownStatusNote):
		return verdictUnsure
	}
	return verdictFresh
}

func colorStaleVerdict(st Style, v string) string {
	switch v {
	case verdictStale, verdictError:
		return st.Red(v)
	case verdictUnsure:
		return st.Yellow(v)
	}
	return st.Green(v)
}

// staleDetails are the values behind a verdict: the validators or hashes
// that differ, why bodies could not be compared, what the ignore patterns
// removed.
func staleDetails(r stale.Result) []string {
	var d []string
	e, o := r.Edge, r.Origin
	switch stale.Reason(strings.TrimSuffix(r.Reason, stale.UnknownStatusNote)) {
	case stale.ETagDiffers:
		d = append(d, fmt.Sprintf("etag %s → %s", e.ETag, o.ETag))
	case stale.LastModifiedNewer:
		d = append(d, fmt.Sprintf("last-modified %s → %s", e.LastModified, o.LastModified))
	case stale.BodyDiffers:
		d = append(d, fmt.Sprintf("body sha256 %s → %s", shortHash(e.BodySHA256), shortHash(o.BodySHA256)))
	case stale.StoredBeforeModified, stale.StoredAfterModified:
		d = append(d, fmt.Sprintf("stored at %s, origin last-modified %s", e.StoredAt, o.LastModified))
	}
	if e.NotComparable != "" {
		d = append(d, "edge body not comparable: "+e.NotComparable)
	}
	if o.NotComparable != "" {
		d = append(d, "origin body not comparable: "+o.NotComparable)
	}
	for _, ig := range r.Ignored {
		d = append(d, fmt.Sprintf("ignored %s (edge %d, origin %d)", ig.Pattern, ig.Edge, ig.Origin))
	}
	return d
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return "-"
	}
	return h
}

func (t *staleTable) Close(s StaleSummary) error {
	t.header()
	st := t.opts.Style
	line := fmt.Sprintf("%d stale of %d URL(s)", s.Stale, s.URLs)
	if s.Stale > 0 {
		line = st.Red(line)
	}
	if s.Errors > 0 {
		line += ", " + st.Red(fmt.Sprintf("%d failed", s.Errors))
	}
	unsure := 0
	for reason, n := range s.ByReason {
		if staleVerdict(stale.Result{Reason: reason}) == verdictUnsure {
			unsure += n
		}
	}
	if unsure > 0 {
		line += ", " + st.Yellow(fmt.Sprintf("%d unsure", unsure))
	}
	// A cold cache has nothing stale; saying so keeps "0 stale" honest.
	if n := s.ByReason[string(stale.NotCached)]; n > 0 {
		line += fmt.Sprintf("; %d not cached at edge", n)
	}
	_, err := fmt.Fprintf(t.w, "\n%s (%s)\n", line, fmtMS(s.ElapsedMS))
	return err
}
