package verify

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/pool"
	"github.com/cachectl/cachectl/pkg/probe"
)

// The fields diff compares, in report order. --ignore takes these names.
const (
	FieldStatus       = "status"
	FieldCache        = "cache"
	FieldTTL          = "ttl"
	FieldCacheControl = "cache_control"
	FieldVary         = "vary"
	FieldSetCookie    = "set_cookie"
	FieldCDN          = "cdn"
	FieldFindings     = "findings"
	// FieldReachable differs when only one side answered.
	FieldReachable = "reachable"
)

// DiffFields lists the comparable fields.
var DiffFields = []string{FieldReachable, FieldStatus, FieldCache, FieldTTL, FieldCacheControl, FieldVary, FieldSetCookie, FieldCDN, FieldFindings}

// Side is what one environment did with one route and variant, normalized
// so that two environments can be compared field by field.
type Side struct {
	URL        string             `json:"url"`
	StatusCode int                `json:"status_code"`
	Cache      cachestatus.Status `json:"cache"`
	// TTLSeconds is the effective shared-cache lifetime.
	TTLSeconds int64 `json:"ttl_s"`
	// CacheControl lists the directive names of the header a shared cache
	// follows (values differ with TTL, which is compared on its own).
	CacheControl []string `json:"cache_control"`
	Vary         []string `json:"vary"`
	SetCookie    bool     `json:"set_cookie"`
	CDN          string   `json:"cdn"`
	// Findings lists finding IDs with their severity, "error logged-in-cached".
	Findings []string `json:"findings"`
	// TTFBMs is the probe's time to first byte; it is reported, never
	// compared (timings always differ).
	TTFBMs float64 `json:"ttfb_ms"`
	Error  string  `json:"error,omitempty"`
}

// Difference is one field that differs.
type Difference struct {
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
}

// VariantDiff compares one variant of a route.
type VariantDiff struct {
	Variant     probe.Variant `json:"variant"`
	A           Side          `json:"a"`
	B           Side          `json:"b"`
	Differences []Difference  `json:"differences"`
}

// DiffRecord is one route compared in two environments: a line of diff's
// jsonl output.
type DiffRecord struct {
	Route    string        `json:"route"`
	EnvA     string        `json:"env_a"`
	EnvB     string        `json:"env_b"`
	Drift    bool          `json:"drift"`
	Index    int           `json:"index"`
	Variants []VariantDiff `json:"variants"`
	// Owner and Rollback are the config route's, when the route is one.
	Owner    string `json:"owner,omitempty"`
	Rollback string `json:"rollback,omitempty"`
}

// DiffTarget is one route resolved in both environments.
type DiffTarget struct {
	Index int
	Route string
	URLA  string
	URLB  string
	// Owner and Rollback come from the config's route of the same path.
	Owner, Rollback string
}

// DiffOptions control a diff run.
type DiffOptions struct {
	EnvA, EnvB string
	// Variants to compare; logged_in needs both sessions.
	Variants           []probe.Variant
	SessionA, SessionB *probe.Session
	Concurrency        int
	Limiter            *rate.Limiter
	// Ignore names fields whose differences are expected (DiffFields).
	Ignore []string
	// Now is the clock lifetimes are judged by.
	Now func() time.Time
}

// Diff probes every route in both environments, warmed (each variant is
// requested once before the request that counts, on both sides), and calls
// emit with each comparison in input order.
func Diff(ctx context.Context, pa, pb *probe.Prober, targets iter.Seq[DiffTarget], opts DiffOptions, emit func(DiffRecord) error) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Variants) == 0 {
		opts.Variants = []probe.Variant{probe.Anonymous}
	}
	return pool.Ordered(ctx, targets, opts.Concurrency, func(ctx context.Context, _ int, t DiffTarget) DiffRecord {
		ga := inspect.One(ctx, pa, t.Index, inspect.Job{URL: t.URLA, Variants: opts.Variants}, inspect.Options{Repeat: 2, Session: opts.SessionA, Limiter: opts.Limiter})
		gb := inspect.One(ctx, pb, t.Index, inspect.Job{URL: t.URLB, Variants: opts.Variants}, inspect.Options{Repeat: 2, Session: opts.SessionB, Limiter: opts.Limiter})
		return Compare(t, ga, gb, opts)
	}, emit)
}

// Compare builds the record for one route from both environments' probes
// (the last probe of each variant counts).
func Compare(t DiffTarget, ga, gb inspect.Group, opts DiffOptions) DiffRecord {
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	la, lb := lastByVariant(ga), lastByVariant(gb)
	rec := DiffRecord{Route: t.Route, EnvA: opts.EnvA, EnvB: opts.EnvB, Index: t.Index, Variants: []VariantDiff{}, Owner: t.Owner, Rollback: t.Rollback}
	for _, v := range opts.Variants {
		ra, rb := la[v], lb[v]
		if ra == nil || rb == nil {
			continue
		}
		vd := VariantDiff{Variant: v, A: sideOf(ra, now), B: sideOf(rb, now)}
		vd.Differences = compareSides(vd.A, vd.B, opts.Ignore)
		if len(vd.Differences) > 0 {
			rec.Drift = true
		}
		rec.Variants = append(rec.Variants, vd)
	}
	return rec
}

func lastByVariant(g inspect.Group) map[probe.Variant]*probe.Result {
	m := map[probe.Variant]*probe.Result{}
	for i := range g.Probes {
		m[g.Probes[i].Variant] = &g.Probes[i]
	}
	return m
}

func sideOf(r *probe.Result, now time.Time) Side {
	s := Side{URL: r.URL, StatusCode: r.StatusCode, Cache: r.Cache.Status, SetCookie: r.SetCookie, CDN: r.Cache.CDN,
		CacheControl: []string{}, Vary: []string{}, Findings: []string{}}
	if r.Error != "" {
		s.Error = r.Error
		return s
	}
	s.TTFBMs = r.Timing.TTFB
	h := r.Header
	if h == nil {
		h = http.Header{}
	}
	s.TTLSeconds = analyze.SharedFreshness(h, now).TTLSeconds
	s.CacheControl = analyze.ParseCacheControl(r.CacheControl).Names()
	for v := range strings.SplitSeq(r.Vary, ",") {
		if v = strings.TrimSpace(v); v != "" {
			s.Vary = append(s.Vary, http.CanonicalHeaderKey(v))
		}
	}
	slices.Sort(s.Vary)
	s.Vary = slices.Compact(s.Vary)
	for _, f := range r.Findings {
		s.Findings = append(s.Findings, string(f.Severity)+" "+f.ID)
	}
	slices.Sort(s.Findings)
	s.Findings = slices.Compact(s.Findings)
	return s
}

// FieldValue renders one field of a side for reports.
func (s Side) FieldValue(field string) string {
	switch field {
	case FieldReachable:
		if s.Error != "" {
			return "no: " + s.Error
		}
		return "yes"
	case FieldStatus:
		return strconv.Itoa(s.StatusCode)
	case FieldCache:
		return string(s.Cache)
	case FieldTTL:
		return fmt.Sprintf("%d s", s.TTLSeconds)
	case FieldCacheControl:
		return listOrNone(s.CacheControl)
	case FieldVary:
		return listOrNone(s.Vary)
	case FieldSetCookie:
		return strconv.FormatBool(s.SetCookie)
	case FieldCDN:
		if s.CDN == "" {
			return "unknown"
		}
		return s.CDN
	case FieldFindings:
		return listOrNone(s.Findings)
	}
	return ""
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func compareSides(a, b Side, ignore []string) []Difference {
	diffs := []Difference{}
	unreachable := a.Error != "" || b.Error != ""
	for _, f := range DiffFields {
		if slices.Contains(ignore, f) {
			continue
		}
		if unreachable && f != FieldReachable {
			// Without both responses only reachability can be compared.
			continue
		}
		va, vb := a.FieldValue(f), b.FieldValue(f)
		if f == FieldReachable {
			// Two different network errors are not cache drift.
			va, vb = reachableValue(a), reachableValue(b)
		}
		if va != vb {
			diffs = append(diffs, Difference{Field: f, A: a.FieldValue(f), B: b.FieldValue(f)})
		}
	}
	return diffs
}

func reachableValue(s Side) string {
	if s.Error != "" {
		return "no"
	}
	return "yes"
}

// DiffSummary totals a diff run.
type DiffSummary struct {
	Routes  int `json:"routes"`
	Pairs   int `json:"pairs"`
	Drifted int `json:"drifted"`
	// Errors counts pairs where a side got no response.
	Errors int `json:"errors"`
	// ByField counts differences per field.
	ByField   map[string]int `json:"by_field"`
	ElapsedMS float64        `json:"elapsed_ms,omitempty"`
}

// Add counts one route.
func (s *DiffSummary) Add(r DiffRecord) {
	if s.ByField == nil {
		s.ByField = map[string]int{}
	}
	s.Routes++
	for _, v := range r.Variants {
		s.Pairs++
		if len(v.Differences) > 0 {
			s.Drifted++
		}
		if v.A.Error != "" || v.B.Error != "" {
			s.Errors++
		}
		for _, d := range v.Differences {
			s.ByField[d.Field]++
		}
	}
}

// Result is the verdict: Unreachable when a side got no response, else
// ChecksFailed on drift, else AllPassed.
func (s *DiffSummary) Result() Result {
	switch {
	case s.Errors > 0:
		return Unreachable
	case s.Drifted > 0:
		return ChecksFailed
	}
	return AllPassed
}
