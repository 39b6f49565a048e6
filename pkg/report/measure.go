package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/measure"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// MeasureOptions shape measure output.
type MeasureOptions struct {
	Style Style
	// URLWidth is the URL column's width for tables (the longest URL).
	URLWidth int
	// Samples is the number of samples asked for per run.
	Samples int
}

// MeasureWriter writes measure runs as they finish.
type MeasureWriter interface {
	// Run writes one finished run.
	Run(r measure.Run) error
	// Close writes what comes after the last run; doc holds the
	// measurement's settings and, for JSON, every run.
	Close(doc *measure.Document, elapsedMS float64) error
}

// NewMeasureWriter returns a writer for format f. JSON is the document
// compare reads back, written at Close.
func NewMeasureWriter(f Format, w io.Writer, opts MeasureOptions) (MeasureWriter, error) {
	switch f {
	case Table:
		return &measureTable{w: w, opts: opts}, nil
	case JSON:
		return &measureJSON{w: w}, nil
	case JSONL:
		return &measureJSONL{enc: newEncoder(w)}, nil
	}
	return nil, fmt.Errorf("measure cannot write %s (expected table, json or jsonl)", f)
}

type measureJSONL struct{ enc *json.Encoder }

func (j *measureJSONL) Run(r measure.Run) error                { return j.enc.Encode(&r) }
func (j *measureJSONL) Close(*measure.Document, float64) error { return nil }

type measureJSON struct{ w io.Writer }

func (j *measureJSON) Run(measure.Run) error { return nil }

func (j *measureJSON) Close(doc *measure.Document, _ float64) error {
	if doc.Runs == nil {
		doc.Runs = []measure.Run{}
	}
	enc := newEncoder(j.w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// measureTable prints one line per run — medians, p95, range, and the
// samples in the order taken as a sparkline — with the Server-Timing
// medians and the discarded responses under it.
type measureTable struct {
	w       io.Writer
	opts    MeasureOptions
	started bool
	runs    int
	kept    int
	short   int
}

func (t *measureTable) width() int {
	return min(max(t.opts.URLWidth, len("URL")), maxURLWidth)
}

func (t *measureTable) row(url, variant, state, kept, p50, p95, rng, total, spark string) string {
	return strings.TrimRight(fmt.Sprintf("%s  %-9s  %-5s  %7s  %8s  %8s  %-15s  %9s  %s",
		pad(url, utf8.RuneCountInString(url), t.width()), variant, state, kept, p50, p95, rng, total, spark), " ")
}

func (t *measureTable) Run(r measure.Run) error {
	st := t.opts.Style
	if !t.started {
		t.started = true
		fmt.Fprintln(t.w, st.Bold(t.row("URL", "VARIANT", "STATE", "KEPT", "TTFB P50", "TTFB P95", "TTFB RANGE", "TOTAL P50", "TTFB OF EACH SAMPLE, IN ORDER")))
	}
	t.runs++
	t.kept += len(r.Samples)
	ttfb, total := r.Summary[measure.TTFB], r.Summary[measure.Total]
	kept := fmt.Sprintf("%d/%d", len(r.Samples), t.opts.Samples)
	if len(r.Samples) < t.opts.Samples {
		t.short++
	}
	p50, p95, rng, tot := "-", "-", "-", "-"
	if ttfb.N > 0 {
		p50, p95, tot = fmtSampleMS(ttfb.Median), fmtSampleMS(ttfb.P95), fmtSampleMS(total.Median)
		rng = fmtSampleMS(ttfb.Min) + "–" + fmtSampleMS(ttfb.Max)
	}
	state := pad(colorState(st, r.State), len(r.State), 5)
	line := t.row(shorten(r.URL, t.width()), string(r.Variant), "\x00", kept, p50, p95, rng, tot, sparkline(r.Values(measure.TTFB)))
	line = strings.Replace(line, "\x00"+strings.Repeat(" ", 4), state, 1)
	fmt.Fprintln(t.w, line)
	if stl := medianServerTiming(r); stl != "" {
		fmt.Fprintln(t.w, "    "+st.Dim("server-timing p50: "+stl))
	}
	if r.Discarded > 0 {
		fmt.Fprintln(t.w, "    "+st.Yellow(discardedLine(r)))
	}
	return nil
}

func (t *measureTable) Close(doc *measure.Document, elapsedMS float64) error {
	st := t.opts.Style
	line := fmt.Sprintf("\n%d run(s), %d sample(s) kept; cold = MISS or EXPIRED (%s), warm = HIT after a priming request", t.runs, t.kept, bustName(doc.Bust))
	if t.short > 0 {
		line += "; " + st.Red(fmt.Sprintf("%d run(s) short of %d samples", t.short, t.opts.Samples))
	}
	_, err := fmt.Fprintf(t.w, "%s (%s)\n", line, fmtMS(elapsedMS))
	return err
}

func bustName(b string) string {
	if b == "purge" {
		return "purged before each sample"
	}
	return "a unique query parameter"
}

// colorState colours a state as the cache status it stands for.
func colorState(st Style, s measure.State) string {
	if s == measure.Warm {
		return colorStatus(st, cachestatus.HIT, string(s))
	}
	return colorStatus(st, cachestatus.MISS, string(s))
}

// discardedLine says how many responses were not in the run's state, by
// cache status, with the last error.
func discardedLine(r measure.Run) string {
	var parts []string
	for _, k := range sortedStatuses(r.DiscardedBy) {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.DiscardedBy[k]))
	}
	line := fmt.Sprintf("discarded %d (%s): not %s", r.Discarded, strings.Join(parts, ", "), stateWord(r.State))
	if r.Error != "" {
		line += "; last error: " + r.Error
	}
	return line
}

func stateWord(s measure.State) string {
	if s == measure.Warm {
		return "a hit"
	}
	return "a miss"
}

// medianServerTiming lists the run's Server-Timing medians, in the order a
// request meets them.
func medianServerTiming(r measure.Run) string {
	set := servertiming.Set{}
	for m, s := range r.Summary {
		name, ok := strings.CutPrefix(m, measure.ServerTimingPrefix)
		if !ok {
			continue
		}
		k := servertiming.Classify(name)
		med := s.Median
		set[name] = servertiming.Entry{Dur: &med, Part: k.Part, CDN: k.CDN}
	}
	if len(set) == 0 {
		return ""
	}
	return serverTimingLine(set, "")
}

// fmtSampleMS prints a sample's milliseconds; below a millisecond in
// microseconds, where a cache hit on the same machine lives.
func fmtSampleMS(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.0fµs", v*1000)
	}
	return fmtMS(v)
}

var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values in order, scaled from their minimum to maximum.
func sparkline(values []float64) string {
	if len(values) == 0 {
		return ""
	}
	lo, hi := slices.Min(values), slices.Max(values)
	var b strings.Builder
	for _, v := range values {
		i := 0
		if hi > lo {
			i = int(math.Round((v - lo) / (hi - lo) * float64(len(sparkLevels)-1)))
		}
		b.WriteRune(sparkLevels[i])
	}
	return b.String()
}
