// Package verify turns each route's expectations into checks, runs them
// against one environment, totals the outcome, merges the outputs of sharded
// runs, and compares the cache behaviour of two environments.
package verify

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
)

// Check names. They are part of the output contract (the check field) and
// follow the config keys they come from.
const (
	CheckReachable = "reachable"
	CheckStatus    = "status"
	CheckCache     = "cache"
	CheckPrivate   = "private"
	CheckNoStore   = "no_store"
	CheckMinMaxAge = "min_max_age"
	CheckMaxMaxAge = "max_max_age"
	CheckMaxTTFB   = "max_ttfb_ms"
	CheckFindings  = "findings"
	// Header checks are named headers.present:NAME, headers.absent:NAME,
	// headers.equal:NAME and headers.match:NAME.
	checkHeaderPresent = "headers.present:"
	checkHeaderAbsent  = "headers.absent:"
	checkHeaderEqual   = "headers.equal:"
	checkHeaderMatch   = "headers.match:"
	// Server-Timing checks are named server_timing.max_ms:NAME and
	// server_timing.present:NAME.
	checkServerTimingMax     = "server_timing.max_ms:"
	checkServerTimingPresent = "server_timing.present:"
)

// DefaultFindingsSeverity is the threshold of the findings check a route gets
// when neither it nor the defaults section states any expectation: a route
// nobody described still fails on a finding as serious as a logged-in page
// served from a shared cache.
const DefaultFindingsSeverity = finding.Error

// Outcome is one evaluated check.
type Outcome struct {
	Check    string
	Passed   bool
	Expected string
	Actual   string
}

// Checklist is an expectation compiled into checks, ready to evaluate
// against probes. It is immutable and shared by every route it applies to.
type Checklist struct {
	checks []check
}

type check struct {
	name string
	eval func(r *probe.Result, now time.Time) (passed bool, expected, actual string)
}

// Compile turns an expectation into a checklist. A nil expectation yields
// the findings check alone, at DefaultFindingsSeverity. Errors name the
// problem the way config validation does; a loaded config has none.
func Compile(e *config.Expectation) (*Checklist, error) {
	if e == nil {
		return &Checklist{checks: []check{findingsCheck(DefaultFindingsSeverity)}}, nil
	}
	var cl Checklist
	if e.Status != nil {
		want := *e.Status
		expected := strconv.Itoa(want)
		cl.add(CheckStatus, func(r *probe.Result, _ time.Time) (bool, string, string) {
			return r.StatusCode == want, expected, strconv.Itoa(r.StatusCode)
		})
	}
	if err := cl.addCache(e.Cache); err != nil {
		return nil, err
	}
	cl.addDirectives(e)
	cl.addLimits(e)
	if err := cl.addHeaders(e.Headers); err != nil {
		return nil, err
	}
	cl.addServerTiming(e.ServerTiming)
	if e.FailOnFindings != "" {
		sev := finding.Severity(e.FailOnFindings)
		if sev.Rank() == 0 {
			return nil, fmt.Errorf("fail_on_findings: %q is not a severity (expected one of %s)", e.FailOnFindings, strings.Join(config.Severities, ", "))
		}
		cl.checks = append(cl.checks, findingsCheck(sev))
	}
	if len(cl.checks) == 0 {
		// An expectation that states nothing checkable still gets the
		// safety net a route without one gets.
		cl.checks = append(cl.checks, findingsCheck(DefaultFindingsSeverity))
	}
	return &cl, nil
}

func (c *Checklist) add(name string, eval func(*probe.Result, time.Time) (bool, string, string)) {
	c.checks = append(c.checks, check{name: name, eval: eval})
}

// addCache adds the cache check: the normalized status is one of those listed.
func (c *Checklist) addCache(statuses []string) error {
	if len(statuses) == 0 {
		return nil
	}
	allowed := make([]cachestatus.Status, 0, len(statuses))
	for _, s := range statuses {
		st, ok := cachestatus.ParseStatus(s)
		if !ok {
			return fmt.Errorf("cache: %q is not a cache status (expected one of %s)", s, strings.Join(config.Statuses, ", "))
		}
		allowed = append(allowed, st)
	}
	expected := "one of " + joinStatuses(allowed)
	if len(allowed) == 1 {
		expected = string(allowed[0])
	}
	c.add(CheckCache, func(r *probe.Result, _ time.Time) (bool, string, string) {
		passed := slices.Contains(allowed, r.Cache.Status)
		if !passed && r.Cache.Status == cachestatus.UNKNOWN {
			return false, expected, unprovenCache(r)
		}
		return passed, expected, describeCache(r.Cache)
	})
	return nil
}

// addDirectives adds the private and no_store checks on Cache-Control.
func (c *Checklist) addDirectives(e *config.Expectation) {
	if e.Private != nil {
		want := *e.Private
		c.add(CheckPrivate, func(r *probe.Result, _ time.Time) (bool, string, string) {
			got := analyze.ParseCacheControl(r.CacheControl).PrivateAll()
			return got == want, directiveExpectation("private", want), describeCacheControl(r.CacheControl)
		})
	}
	if e.NoStore != nil {
		want := *e.NoStore
		c.add(CheckNoStore, func(r *probe.Result, _ time.Time) (bool, string, string) {
			got := analyze.ParseCacheControl(r.CacheControl).NoStore
			return got == want, directiveExpectation("no-store", want), describeCacheControl(r.CacheControl)
		})
	}
}

// addLimits adds the bounds on the shared-cache lifetime and on TTFB.
func (c *Checklist) addLimits(e *config.Expectation) {
	if e.MinMaxAge != nil {
		lo := *e.MinMaxAge
		expected := fmt.Sprintf("shared-cache lifetime ≥ %d s", lo)
		c.add(CheckMinMaxAge, func(r *probe.Result, now time.Time) (bool, string, string) {
			f := analyze.SharedFreshness(r.Header, now)
			return f.TTLSeconds >= lo, expected, describeFreshness(f)
		})
	}
	if e.MaxMaxAge != nil {
		hi := *e.MaxMaxAge
		expected := fmt.Sprintf("shared-cache lifetime ≤ %d s", hi)
		c.add(CheckMaxMaxAge, func(r *probe.Result, now time.Time) (bool, string, string) {
			f := analyze.SharedFreshness(r.Header, now)
			return f.TTLSeconds <= hi, expected, describeFreshness(f)
		})
	}
	if e.MaxTTFBMs != nil {
		limit := *e.MaxTTFBMs
		expected := "TTFB ≤ " + formatMS(limit)
		c.add(CheckMaxTTFB, func(r *probe.Result, _ time.Time) (bool, string, string) {
			return r.Timing.TTFB <= limit, expected, formatMS(r.Timing.TTFB)
		})
	}
}

// addHeaders adds one check per header named in h: present, absent, equal
// to a value, matching a regular expression, in that order and by name.
func (c *Checklist) addHeaders(h *config.HeaderExpect) error {
	if h == nil {
		return nil
	}
	for _, name := range sortedUnique(h.Present) {
		c.add(checkHeaderPresent+name, func(r *probe.Result, _ time.Time) (bool, string, string) {
			v, ok := headerValue(r.Header, name)
			return ok, name + " present", describeHeader(name, v, ok)
		})
	}
	for _, name := range sortedUnique(h.Absent) {
		c.add(checkHeaderAbsent+name, func(r *probe.Result, _ time.Time) (bool, string, string) {
			v, ok := headerValue(r.Header, name)
			return !ok, name + " absent", describeHeader(name, v, ok)
		})
	}
	for _, key := range sortedKeys(h.Equal) {
		name, want := http.CanonicalHeaderKey(key), h.Equal[key]
		c.add(checkHeaderEqual+name, func(r *probe.Result, _ time.Time) (bool, string, string) {
			v, ok := headerValue(r.Header, name)
			return ok && v == want, name + ": " + want, describeHeader(name, v, ok)
		})
	}
	for _, key := range sortedKeys(h.Match) {
		name := http.CanonicalHeaderKey(key)
		re, err := regexp.Compile(h.Match[key])
		if err != nil {
			return fmt.Errorf("headers.match.%s: %q is not a valid regular expression: %w", key, h.Match[key], err)
		}
		c.add(checkHeaderMatch+name, func(r *probe.Result, _ time.Time) (bool, string, string) {
			v, ok := headerValue(r.Header, name)
			return ok && re.MatchString(v), name + " matching " + re.String(), describeHeader(name, v, ok)
		})
	}
	return nil
}

// addServerTiming adds, for each metric named, in name order, a check that
// it is present (or absent) and one that its duration is within max_ms. A
// response served from cache carries the Server-Timing stored with it.
func (c *Checklist) addServerTiming(m map[string]config.ServerTimingExpect) {
	for _, name := range sortedKeys(m) {
		e := m[name]
		if e.Present != nil {
			want := *e.Present
			c.add(checkServerTimingPresent+name, func(r *probe.Result, _ time.Time) (bool, string, string) {
				_, ok := r.ServerTiming.Lookup(name)
				expected := name + " in Server-Timing"
				if !want {
					expected = name + " not in Server-Timing"
				}
				return ok == want, expected, describeMetric(r, name)
			})
		}
		if e.MaxMs != nil {
			limit := *e.MaxMs
			c.add(checkServerTimingMax+name, func(r *probe.Result, _ time.Time) (bool, string, string) {
				m, ok := r.ServerTiming.Lookup(name)
				return ok && m.Dur != nil && *m.Dur <= limit, name + " ≤ " + formatMS(limit), describeMetric(r, name)
			})
		}
	}
}

// describeMetric says what a response reported under a Server-Timing name.
func describeMetric(r *probe.Result, name string) string {
	m, ok := r.ServerTiming.Lookup(name)
	switch {
	case !ok && len(r.ServerTiming) == 0:
		return "no Server-Timing"
	case !ok:
		return name + " absent (Server-Timing has " + strings.Join(r.ServerTiming.Names(), ", ") + ")"
	case m.Dur == nil:
		return name + " without a duration"
	case m.Desc != "":
		return name + " " + formatMS(*m.Dur) + " (" + m.Desc + ")"
	}
	return name + " " + formatMS(*m.Dur)
}

// NeedsFindings reports whether the checklist judges findings (its
// findings check): only then must probes be analyzed.
func (c *Checklist) NeedsFindings() bool {
	return slices.ContainsFunc(c.checks, func(ch check) bool { return ch.name == CheckFindings })
}

// NeedsServerTiming reports whether the checklist judges Server-Timing
// metrics (its server_timing checks).
func (c *Checklist) NeedsServerTiming() bool {
	return slices.ContainsFunc(c.checks, func(ch check) bool { return strings.HasPrefix(ch.name, "server_timing.") })
}

// Len is the number of checks.
func (c *Checklist) Len() int { return len(c.checks) }

// Names lists the checks in evaluation order.
func (c *Checklist) Names() []string {
	names := make([]string, len(c.checks))
	for i, ch := range c.checks {
		names[i] = ch.name
	}
	return names
}

// Evaluate runs every check against one probe. A probe that got no complete
// response (no answer, or one cut off mid-body) yields a single failed
// reachable check: nothing else can be judged.
func (c *Checklist) Evaluate(r *probe.Result, now time.Time) []Outcome {
	if r.Error != "" {
		return []Outcome{{Check: CheckReachable, Passed: false, Expected: "a response", Actual: r.Error}}
	}
	out := make([]Outcome, len(c.checks))
	for i, ch := range c.checks {
		passed, expected, actual := ch.eval(r, now)
		out[i] = Outcome{Check: ch.name, Passed: passed, Expected: expected, Actual: actual}
	}
	return out
}

func findingsCheck(sev finding.Severity) check {
	expected := fmt.Sprintf("no finding at or above %s", sev)
	return check{name: CheckFindings, eval: func(r *probe.Result, _ time.Time) (bool, string, string) {
		var hits []string
		for _, f := range r.Findings {
			if f.Severity.Rank() >= sev.Rank() {
				hits = append(hits, string(f.Severity)+" "+f.ID)
			}
		}
		if len(hits) == 0 {
			return true, expected, "none"
		}
		return false, expected, strings.Join(hits, ", ")
	}}
}

// unprovenCache says why an UNKNOWN status fails a cache check: nothing
// says what the cache did, and how to make the cache that answered say it.
func unprovenCache(r *probe.Result) string {
	return "UNKNOWN: cannot prove what the cache did, the answer carries no cache status header cachectl can read; " +
		cachestatus.EnableHint(cachestatus.Software(r.Header))
}

func describeCache(c cachestatus.Result) string {
	if c.Source == "" {
		return string(c.Status) + " (no cache status header)"
	}
	if c.Raw == "" {
		return string(c.Status) + " (" + c.Source + ")"
	}
	return string(c.Status) + " (" + c.Source + ": " + c.Raw + ")"
}

func directiveExpectation(name string, want bool) string {
	if want {
		return "Cache-Control: " + name
	}
	return "Cache-Control without " + name
}

func describeCacheControl(v string) string {
	if strings.TrimSpace(v) == "" {
		return "no Cache-Control"
	}
	return "Cache-Control: " + v
}

func describeFreshness(f analyze.Freshness) string {
	return strconv.FormatInt(f.TTLSeconds, 10) + " s (" + f.Source + ")"
}

func describeHeader(name, v string, ok bool) string {
	if !ok {
		return name + " absent"
	}
	return name + ": " + v
}

// headerValue reads a response header, all field lines joined.
func headerValue(h http.Header, name string) (string, bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ", "), true
}

func formatMS(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64) + " ms"
}

func joinStatuses(ss []cachestatus.Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

func sortedUnique(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, http.CanonicalHeaderKey(strings.TrimSpace(n)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
