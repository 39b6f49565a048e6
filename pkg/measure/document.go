package measure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// FormatVersion is the version of the measure document this cachectl
// writes and compares. It changes only when a field changes meaning.
const FormatVersion = 1

// State is the cache state a sample was taken in.
type State string

// The two states.
const (
	// Cold samples are real misses: the cache fetched the page from the origin.
	Cold State = "cold"
	// Warm samples are real hits: the cache served its stored copy.
	Warm State = "warm"
)

// Metric names, as they appear in summaries and comparisons; a
// Server-Timing metric NAME is ServerTimingPrefix + NAME.
const (
	TTFB               = "ttfb_ms"
	Total              = "total_ms"
	ServerTimingPrefix = "server_timing."
)

// Document is the output of one measure run, which compare reads back.
type Document struct {
	FormatVersion int       `json:"format_version"`
	Started       time.Time `json:"started"`
	Machine       Machine   `json:"machine"`
	// Env is the environment measured; empty for full URLs without one.
	Env string `json:"env,omitempty"`
	// Samples is the number of samples asked for per route, variant and state.
	Samples int `json:"samples"`
	// Bust is how cold samples were made: query or purge.
	Bust string `json:"bust"`
	Runs []Run  `json:"runs"`
}

// Machine is where a measurement ran: figures from different machines
// differ for reasons that are not the site's.
type Machine struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
	Cachectl string `json:"cachectl"`
}

// Run is the samples of one URL, visitor variant and cache state.
type Run struct {
	URL     string        `json:"url"`
	Variant probe.Variant `json:"variant"`
	State   State         `json:"state"`
	// Samples are those in the intended state, in the order taken.
	Samples []Sample `json:"samples"`
	// Discarded counts the responses that were not in the intended state
	// (or failed); DiscardedBy counts them by cache status, ERROR for a
	// failed request.
	Discarded   int            `json:"discarded"`
	DiscardedBy map[string]int `json:"discarded_by,omitempty"`
	// Error is the last failure's message, when requests failed.
	Error string `json:"error,omitempty"`
	// Summary has the median, p95, minimum and maximum of each metric.
	Summary map[string]Stats `json:"summary"`
}

// Sample is one response kept.
type Sample struct {
	TTFBMs      float64            `json:"ttfb_ms"`
	TotalMs     float64            `json:"total_ms"`
	StatusCode  int                `json:"status_code"`
	CacheStatus cachestatus.Status `json:"cache_status"`
	// ServerTiming holds the response's metrics; on a warm sample only the
	// CDN's own, since the origin's were stored with the cached copy.
	ServerTiming servertiming.Set `json:"server_timing,omitempty"`
}

// Key identifies a run across documents: compare pairs runs by it.
type Key struct {
	URL     string
	Variant probe.Variant
	State   State
}

func (k Key) String() string {
	return fmt.Sprintf("%s (%s, %s)", k.URL, k.Variant, k.State)
}

// Key is the run's pairing key.
func (r *Run) Key() Key { return Key{URL: r.URL, Variant: r.Variant, State: r.State} }

// Values are the samples' values of a metric, in the order taken:
// TTFB, Total, or a Server-Timing metric (the samples that carried it
// with a duration).
func (r *Run) Values(metric string) []float64 {
	vs := make([]float64, 0, len(r.Samples))
	name, isST := strings.CutPrefix(metric, ServerTimingPrefix)
	for _, s := range r.Samples {
		switch {
		case metric == TTFB:
			vs = append(vs, s.TTFBMs)
		case metric == Total:
			vs = append(vs, s.TotalMs)
		case isST:
			if e, ok := s.ServerTiming[name]; ok && e.Dur != nil {
				vs = append(vs, *e.Dur)
			}
		}
	}
	return vs
}

// Metrics lists the run's metrics: TTFB, Total, then each Server-Timing
// metric some sample carried with a duration, by name.
func (r *Run) Metrics() []string {
	var names []string
	for _, s := range r.Samples {
		for n, e := range s.ServerTiming {
			if e.Dur != nil && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	metrics := []string{TTFB, Total}
	for _, n := range names {
		metrics = append(metrics, ServerTimingPrefix+n)
	}
	return metrics
}

// Summarize computes the run's Summary from its samples.
func (r *Run) Summarize() {
	r.Summary = map[string]Stats{}
	for _, m := range r.Metrics() {
		if vs := r.Values(m); len(vs) > 0 {
			r.Summary[m] = Summarize(vs)
		}
	}
}

// NotComparableError is a document compare cannot use: not measure
// output, another format version, or runs that do not pair
// unambiguously.
type NotComparableError struct {
	// Reason says what was found and what was expected.
	Reason string
}

func (e *NotComparableError) Error() string { return e.Reason }

func notComparable(format string, args ...any) error {
	return &NotComparableError{Reason: fmt.Sprintf(format, args...)}
}

// Read reads a measure document, refusing what compare cannot use: input
// that is not a measure document, another format version, a run without
// url, variant or a known state, and a run that appears twice, with a
// *NotComparableError.
func Read(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxDocumentBytes {
		return nil, notComparable("larger than %d MiB", MaxDocumentBytes>>20)
	}
	var probeDoc struct {
		FormatVersion *int            `json:"format_version"`
		Runs          json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(data, &probeDoc); err != nil || probeDoc.FormatVersion == nil || probeDoc.Runs == nil {
		return nil, notComparable("not the JSON output of cachectl measure -o json (expected an object with format_version and runs)")
	}
	if v := *probeDoc.FormatVersion; v != FormatVersion {
		return nil, notComparable("format version %d, this cachectl reads version %d (measure again with this version)", v, FormatVersion)
	}
	var doc Document
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, notComparable("%v", err)
	}
	return &doc, doc.check()
}

// MaxDocumentBytes bounds a measure document compare reads.
const MaxDocumentBytes = 256 << 20

// check refuses runs compare could not pair unambiguously.
func (d *Document) check() error {
	seen := map[Key]int{}
	for i, r := range d.Runs {
		switch {
		case r.URL == "":
			return notComparable("runs[%d] has no url", i)
		case r.Variant != probe.Anonymous && r.Variant != probe.LoggedIn:
			return notComparable("runs[%d] has variant %q (expected anonymous or logged_in)", i, r.Variant)
		case r.State != Cold && r.State != Warm:
			return notComparable("runs[%d] has state %q (expected cold or warm)", i, r.State)
		}
		if j, dup := seen[r.Key()]; dup {
			return notComparable("runs[%d] and runs[%d] are both %s", j, i, r.Key())
		}
		seen[r.Key()] = i
	}
	return nil
}
