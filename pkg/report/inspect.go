package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/probe"
)

// InspectSummary totals an inspect run.
type InspectSummary struct {
	URLs     int            `json:"urls"`
	Probes   int            `json:"probes"`
	Errors   int            `json:"errors"`
	ByStatus map[string]int `json:"by_status"`
	Findings map[string]int `json:"findings"`
	// Unreached counts URL/variant pairs that never showed the --until status.
	Unreached int     `json:"unreached,omitempty"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

// Add counts a group.
func (s *InspectSummary) Add(g inspect.Group) {
	if s.ByStatus == nil {
		s.ByStatus = map[string]int{}
		s.Findings = map[string]int{}
	}
	s.URLs++
	s.Unreached += len(g.Unreached)
	for _, p := range g.Probes {
		s.Probes++
		if p.Error != "" {
			s.Errors++
			continue
		}
		s.ByStatus[string(p.Cache.Status)]++
		for _, f := range p.Findings {
			s.Findings[string(f.Severity)]++
		}
	}
}

// InspectWriter writes inspect results as they arrive.
type InspectWriter interface {
	// Group writes one URL's probes.
	Group(g inspect.Group) error
	// Close writes what comes after the last group (the summary, the JSON document's end).
	Close(s InspectSummary) error
}

// InspectOptions shape inspect output.
type InspectOptions struct {
	Style Style
	// RequestHeaders are shown once at the top of a table.
	RequestHeaders map[string]string
	// URLWidth is the URL column's width for tables (the longest input URL).
	URLWidth int
	// Fresh notes that every probe used a fresh connection.
	Fresh bool
}

// NewInspectWriter returns a writer for format f.
func NewInspectWriter(f Format, w io.Writer, opts InspectOptions) (InspectWriter, error) {
	switch f {
	case Table:
		return &inspectTable{w: w, opts: opts}, nil
	case JSON:
		return &inspectJSON{w: w}, nil
	case JSONL:
		return &inspectJSONL{enc: newEncoder(w)}, nil
	}
	return nil, fmt.Errorf("inspect cannot write %s (expected table, json or jsonl)", f)
}

func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

type inspectJSONL struct{ enc *json.Encoder }

func (j *inspectJSONL) Group(g inspect.Group) error {
	for i := range g.Probes {
		if err := j.enc.Encode(&g.Probes[i]); err != nil {
			return err
		}
	}
	return nil
}

func (j *inspectJSONL) Close(InspectSummary) error { return nil }

type inspectJSON struct {
	w      io.Writer
	probes []probe.Result
}

func (j *inspectJSON) Group(g inspect.Group) error {
	j.probes = append(j.probes, g.Probes...)
	return nil
}

func (j *inspectJSON) Close(s InspectSummary) error {
	if j.probes == nil {
		j.probes = []probe.Result{}
	}
	enc := newEncoder(j.w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Probes  []probe.Result `json:"probes"`
		Summary InspectSummary `json:"summary"`
	}{j.probes, s})
}

type inspectTable struct {
	w       io.Writer
	opts    InspectOptions
	started bool
}

const maxURLWidth = 64

func (t *inspectTable) header() {
	st := t.opts.Style
	if len(t.opts.RequestHeaders) > 0 {
		var parts []string
		for _, k := range probe.SortedHeaderNames(t.opts.RequestHeaders) {
			if k == "User-Agent" {
				continue
			}
			parts = append(parts, k+": "+t.opts.RequestHeaders[k])
		}
		note := ""
		if t.opts.Fresh {
			note = " (fresh connection per probe)"
		}
		fmt.Fprintln(t.w, st.Dim("request headers: "+strings.Join(parts, " | ")+note))
	}
	fmt.Fprintln(t.w, st.Bold(t.row("URL", "VARIANT", "CODE", "CACHE", "SOURCE", "AGE", "TTFB", "TOTAL", "CACHE-CONTROL")))
}

func (t *inspectTable) urlWidth() int {
	w := t.opts.URLWidth
	if w < 12 {
		w = 12
	}
	return min(w, maxURLWidth)
}

func (t *inspectTable) row(url, variant, code, cache, source, age, ttfb, total, cc string) string {
	uw := t.urlWidth()
	return strings.TrimRight(fmt.Sprintf("%s  %-11s  %-4s  %-14s  %-16s  %5s  %8s  %8s  %s",
		pad(url, utf8.RuneCountInString(url), uw), variant, code, cache, source, age, ttfb, total, cc), " ")
}

func (t *inspectTable) Group(g inspect.Group) error {
	if !t.started {
		t.header()
		t.started = true
	}
	st := t.opts.Style
	for _, p := range g.Probes {
		url := shorten(p.URL, t.urlWidth())
		variant := string(p.Variant)
		if p.Seq > 0 {
			variant = fmt.Sprintf("%s#%d", shortVariant(p.Variant), p.Seq)
		}
		if p.Error != "" {
			line := t.row(url, variant, "-", "ERROR", "", "", "", fmtMS(p.Timing.Total), "")
			fmt.Fprintln(t.w, st.Red(line))
			fmt.Fprintf(t.w, "    %s %s\n", st.Red("error:"), p.Error)
			continue
		}
		cache := string(p.Cache.Status)
		if len(p.Cache.Layers) > 1 {
			var ls []string
			for _, l := range p.Cache.Layers {
				ls = append(ls, string(l.Status))
			}
			cache += " (" + strings.Join(ls, ">") + ")"
		}
		age := "-"
		if p.Cache.AgeS != nil {
			age = fmt.Sprint(*p.Cache.AgeS)
		}
		cc := p.CacheControl
		if cc == "" {
			cc = "-"
		}
		line := t.row(url, variant, fmt.Sprint(p.StatusCode), "\x00", sourceName(p.Cache), age, fmtMS(p.Timing.TTFB), fmtMS(p.Timing.Total), cc)
		// The cache column is coloured after alignment so escape codes don't skew widths.
		line = strings.Replace(line, "\x00"+strings.Repeat(" ", 13), pad(colorStatus(st, p.Cache.Status, cache), len(cache), 14), 1)
		fmt.Fprintln(t.w, line)
		if extra := extraFields(&p); len(extra) > 0 {
			fmt.Fprintln(t.w, "    "+st.Dim(strings.Join(extra, " | ")))
		}
		if len(p.ServerTiming) > 0 {
			fmt.Fprintln(t.w, "    "+st.Dim("server-timing: "+serverTimingLine(p.ServerTiming, p.Cache.Status)))
		}
		for _, f := range p.Findings {
			fmt.Fprintf(t.w, "    %s %s: %s\n", colorSeverity(st, f.Severity), f.ID, f.Message)
		}
	}
	for _, v := range g.Unreached {
		fmt.Fprintf(t.w, "    %s %s never reached the expected cache status\n", st.Red("until:"), v)
	}
	return nil
}

// extraFields are the response's fields shown under its row when present:
// Vary, Set-Cookie, CDN-only directives, Location, redirects followed.
func extraFields(p *probe.Result) []string {
	var extra []string
	if p.Vary != "" {
		extra = append(extra, "vary: "+p.Vary)
	}
	if p.SetCookie {
		extra = append(extra, "set-cookie: yes")
	}
	for _, k := range sortedKeys(p.CDNCacheControl) {
		extra = append(extra, strings.ToLower(k)+": "+p.CDNCacheControl[k])
	}
	if p.Location != "" {
		extra = append(extra, "location: "+p.Location)
	}
	for _, h := range p.Redirects {
		extra = append(extra, fmt.Sprintf("redirect: %d %s -> %s", h.StatusCode, h.URL, h.Location))
	}
	return extra
}

func (t *inspectTable) Close(s InspectSummary) error {
	if !t.started {
		t.header()
	}
	st := t.opts.Style
	var parts []string
	for _, k := range cachestatus.All() {
		if n := s.ByStatus[string(k)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	line := fmt.Sprintf("\n%d URL(s), %d probe(s)", s.URLs, s.Probes)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if s.Errors > 0 {
		line += ", " + st.Red(fmt.Sprintf("%d failed", s.Errors))
	}
	var fs []string
	for _, sev := range []finding.Severity{finding.Error, finding.Warn, finding.Info} {
		if n := s.Findings[string(sev)]; n > 0 {
			fs = append(fs, fmt.Sprintf("%d %s", n, sev))
		}
	}
	if len(fs) > 0 {
		line += "; findings: " + strings.Join(fs, ", ")
	}
	if s.Unreached > 0 {
		line += "; " + st.Red(fmt.Sprintf("%d never reached the --until status", s.Unreached))
	}
	_, err := fmt.Fprintf(t.w, "%s (%s)\n", line, fmtMS(s.ElapsedMS))
	return err
}

func shortVariant(v probe.Variant) string {
	if v == probe.LoggedIn {
		return "logged_in"
	}
	return "anon"
}

func sourceName(c cachestatus.Result) string {
	if c.Source == "" {
		return "-"
	}
	return c.Source
}

func colorStatus(st Style, s cachestatus.Status, text string) string {
	switch s {
	case cachestatus.HIT, cachestatus.REVALIDATED:
		return st.Green(text)
	case cachestatus.MISS, cachestatus.EXPIRED:
		return st.Yellow(text)
	case cachestatus.STALE, cachestatus.UPDATING, cachestatus.BYPASS, cachestatus.DYNAMIC:
		return st.Cyan(text)
	}
	return text
}

func colorSeverity(st Style, s finding.Severity) string {
	switch s {
	case finding.Error:
		return st.Red("✖ error")
	case finding.Warn:
		return st.Yellow("▲ warn ")
	}
	return st.Dim("• info ")
}

func fmtMS(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// shorten keeps the end of a long URL, where the path that matters is.
func shorten(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n <= width {
		return s
	}
	r := []rune(s)
	return "…" + string(r[n-width+1:])
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
