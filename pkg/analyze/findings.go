package analyze

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
)

// Finding IDs. They are part of the public interface: scripts filter on them
// and config expectations may name them.
const (
	// IDLoggedInCached: a logged-in response came out of a shared cache.
	IDLoggedInCached = "logged-in-cached"
	// IDSetCookieCacheable: a response that sets a cookie may be stored by,
	// or was served from, a shared cache.
	IDSetCookieCacheable = "set-cookie-cacheable"
	// IDPrivateServedFromCache: a private or no-store response was served
	// from a shared cache anyway.
	IDPrivateServedFromCache = "private-served-from-cache"
	// IDPersonalizedNotPrivate: the logged-in body differs from the anonymous
	// one yet the logged-in response is neither private nor no-store.
	IDPersonalizedNotPrivate = "personalized-not-private"
	// IDNoExplicitFreshness: the response is cacheable only heuristically.
	IDNoExplicitFreshness = "no-explicit-freshness"
	// IDVaryStar: Vary: * makes every stored copy unusable.
	IDVaryStar = "vary-star"
	// IDVaryCookie: Vary: Cookie splits the cache per cookie header.
	IDVaryCookie = "vary-cookie"
	// IDAgeOverMaxAge: the cache served a copy older than its lifetime.
	IDAgeOverMaxAge = "age-over-max-age"
	// IDNoValidator: a cacheable response has neither ETag nor Last-Modified.
	IDNoValidator = "no-validator"
	// IDConflictingDirectives: directives in one header contradict each
	// other (no-store with max-age, public with private, max-age given twice
	// with different values, ...).
	IDConflictingDirectives = "conflicting-directives"
	// IDInvalidDirective: a cache directive is malformed.
	IDInvalidDirective = "invalid-directive"
	// IDCDNOverride: a CDN-targeted field replaces Cache-Control at the CDN.
	IDCDNOverride = "cdn-override"
	// IDCacheStatusUnknown: no recognized cache-status header.
	IDCacheStatusUnknown = "cache-status-unknown"
	// IDSameBodyLoggedIn: the logged-in body equals the anonymous one.
	IDSameBodyLoggedIn = "same-body-logged-in"
	// IDServerTimingInvalid: a Server-Timing metric breaks the grammar and
	// was left out (browsers drop it too).
	IDServerTimingInvalid = "server-timing-invalid"
)

// maxQuoted bounds header values quoted in messages so one odd header does
// not flood a table.
const maxQuoted = 120

// Findings analyzes one probe. A failed probe (Error set) or nil yields no
// findings. Messages quote the header values behind each finding but never
// a cookie value. The result is sorted by severity (error first), then ID.
func Findings(r *probe.Result) []finding.Finding {
	if r == nil || r.Error != "" {
		return nil
	}
	a := newAnalysis(r)
	var fs findingList
	a.sharing(&fs)
	a.lifetime(&fs)
	a.directives(&fs)
	if r.Cache.Status == cachestatus.UNKNOWN || r.Cache.Status == "" {
		fs.add(IDCacheStatusUnknown, finding.Info,
			"no recognized cache-status header (Cache-Status, X-Cache, CF-Cache-Status, Age, ...): %s", cachestatus.EnableHint(cachestatus.Software(a.h)))
	}
	if ps := r.ServerTimingProblems; len(ps) > 0 {
		more := ""
		if len(ps) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(ps)-1)
		}
		fs.add(IDServerTimingInvalid, finding.Info, "Server-Timing metric %q left out: %s%s", clip(ps[0].Metric), ps[0].Reason, more)
	}
	sortFindings(fs)
	return fs
}

// findingList collects findings in the order they are found; sortFindings
// keeps that order among findings of the same severity and ID.
type findingList []finding.Finding

func (l *findingList) add(id string, sev finding.Severity, format string, args ...any) {
	*l = append(*l, finding.Finding{ID: id, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// sharing finds responses one visitor's page could reach another through:
// a logged-in page, a cookie or a private response in a shared cache.
func (a *analysis) sharing(fs *findingList) {
	if a.r.Variant == probe.LoggedIn && a.fromCache {
		fs.add(IDLoggedInCached, finding.Error,
			"logged-in response was served from a shared cache (%s); another visitor can receive this user's page — send Cache-Control: private or no-store for sessions, or bypass the cache when the session cookie is present",
			a.cacheEvidence())
	}
	if a.setCookie && !a.cookieFieldPrivate() {
		switch {
		case a.fromCache:
			fs.add(IDSetCookieCacheable, finding.Error,
				"response with Set-Cookie was served from a shared cache (%s); the cookie, and any session in it, is handed to every visitor who gets this copy",
				a.cacheEvidence())
		case a.cacheable:
			fs.add(IDSetCookieCacheable, finding.Error,
				"response sets a cookie and a shared cache may store it (%s; RFC 9111 §7.3: Set-Cookie does not prevent caching) — add private or no-store",
				a.cacheReason)
		}
	}
	if a.fromCache && (a.pol.d.NoStore || a.pol.d.PrivateAll()) {
		fs.add(IDPrivateServedFromCache, finding.Error,
			"response marked %s was served from a shared cache (%s); the CDN ignores the origin's directive, likely through an edge TTL override",
			a.fieldValue(a.pol.field, a.pol.raw), a.cacheEvidence())
	}
}

// lifetime finds what makes a copy live too long, too short or not be
// reusable at all: heuristic freshness, Vary, an Age past the lifetime and
// missing validators.
func (a *analysis) lifetime(fs *findingList) {
	if a.cacheable && !a.fresh.Explicit {
		fs.add(IDNoExplicitFreshness, finding.Warn,
			"status %d is cacheable only heuristically: no s-maxage, max-age, CDN-Cache-Control or Expires, so each cache picks its own lifetime (%s)",
			a.r.StatusCode, a.fresh.Source)
	}
	a.vary(fs)
	if a.hasAge && a.fresh.Explicit && a.fresh.TTLSeconds > 0 {
		allowed := a.fresh.TTLSeconds
		if swr := a.pol.d.StaleWhileRevalidate; swr != nil {
			allowed += int64(*swr)
		}
		if a.age > allowed {
			fs.add(IDAgeOverMaxAge, finding.Warn,
				"Age %d exceeds the shared lifetime of %ds (%s)%s; the CDN keeps serving longer than the origin intends, likely through an edge TTL override",
				a.age, a.fresh.TTLSeconds, a.fresh.Source, a.swrNote())
		}
	}
	if a.cacheable && a.h.Get("ETag") == "" && a.h.Get("Last-Modified") == "" {
		fs.add(IDNoValidator, finding.Info,
			"cacheable response has neither ETag nor Last-Modified, so a cache cannot revalidate it and must fetch the full body again once it expires")
	}
}

// vary finds Vary values that defeat a shared cache.
func (a *analysis) vary(fs *findingList) {
	if varyStar(a.h) {
		fs.add(IDVaryStar, finding.Warn,
			"%s: a shared cache can never reuse this response; name the request headers that select the variant instead",
			a.fieldValue("Vary", joined(a.h, "Vary")))
	}
	if !slices.Contains(varyFields(a.h), "Cookie") {
		return
	}
	if a.cacheable {
		fs.add(IDVaryCookie, finding.Warn,
			"%s keys the cache on the whole Cookie header, so analytics and consent cookies give nearly every visitor a separate copy and the hit rate collapses; strip irrelevant cookies at the CDN or mark session responses private",
			a.fieldValue("Vary", joined(a.h, "Vary")))
	} else {
		fs.add(IDVaryCookie, finding.Info,
			"%s has no effect on shared caching here because the response is not stored (%s)",
			a.fieldValue("Vary", joined(a.h, "Vary")), a.cacheReason)
	}
}

// directives finds contradictory, malformed and CDN-targeted directives.
func (a *analysis) directives(fs *findingList) {
	for _, c := range a.conflicts() {
		fs.add(IDConflictingDirectives, finding.Warn, "%s", c)
	}
	for _, iv := range a.invalid() {
		fs.add(IDInvalidDirective, finding.Warn, "%s", iv)
	}
	if a.pol.targeted() {
		cc := "there is no Cache-Control for browsers"
		if !a.pol.cc.Empty() {
			cc = "browsers still follow " + a.fieldValue("Cache-Control", joined(a.h, "Cache-Control"))
		}
		fs.add(IDCDNOverride, finding.Info,
			"%s overrides Cache-Control at the CDN (RFC 9213); %s",
			a.fieldValue(a.pol.field, a.pol.raw), cc)
	}
	for _, name := range a.pol.ignored {
		fs.add(IDInvalidDirective, finding.Warn,
			"%s is empty or malformed, so CDNs ignore it and fall back to Cache-Control (RFC 9213 §2.1)",
			a.fieldValue(name, joined(a.h, name)))
	}
}

// Pair analyzes the anonymous and logged-in probes of the same URL. Each gets
// its own findings; the findings that need both (personalization without
// private) are attached to the logged-in probe.
func Pair(anon, loggedIn *probe.Result) (anonFindings, loggedInFindings []finding.Finding) {
	anonFindings = Findings(anon)
	loggedInFindings = Findings(loggedIn)
	if anon == nil || loggedIn == nil || anon.Error != "" || loggedIn.Error != "" ||
		anon.BodySHA256 == "" || loggedIn.BodySHA256 == "" {
		return anonFindings, loggedInFindings
	}
	pol := sharedPolicy(ResponseHeader(loggedIn))
	if anon.BodySHA256 != loggedIn.BodySHA256 {
		if !pol.d.NoStore && !pol.d.PrivateAll() {
			loggedInFindings = append(loggedInFindings, finding.Finding{
				ID:       IDPersonalizedNotPrivate,
				Severity: finding.Warn,
				Message: fmt.Sprintf(
					"logged-in body (status %d, sha256 %s) differs from the anonymous one (status %d, sha256 %s) but %s; a shared cache that ignores cookies in its key can serve this user's page to others — send private or no-store",
					loggedIn.StatusCode, shortHash(loggedIn.BodySHA256), anon.StatusCode, shortHash(anon.BodySHA256), describeNotPrivate(pol)),
			})
		}
	} else if anon.StatusCode == loggedIn.StatusCode {
		loggedInFindings = append(loggedInFindings, finding.Finding{
			ID:       IDSameBodyLoggedIn,
			Severity: finding.Info,
			Message: fmt.Sprintf(
				"logged-in and anonymous bodies are identical (status %d, sha256 %s): the page is not personalized, or the session cookie was not accepted",
				loggedIn.StatusCode, shortHash(loggedIn.BodySHA256)),
		})
	}
	sortFindings(loggedInFindings)
	return anonFindings, loggedInFindings
}

// MaxSeverity returns the highest severity among fs, or "" when fs is empty.
func MaxSeverity(fs []finding.Finding) finding.Severity {
	var top finding.Severity
	for _, f := range fs {
		if f.Severity.Rank() > top.Rank() {
			top = f.Severity
		}
	}
	return top
}

func sortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// analysis holds what every check needs about one probe.
type analysis struct {
	r           *probe.Result
	h           http.Header
	pol         policy
	fresh       Freshness
	cacheable   bool
	cacheReason string
	fromCache   bool
	age         int64
	hasAge      bool
	setCookie   bool
}

func newAnalysis(r *probe.Result) *analysis {
	a := &analysis{r: r, h: ResponseHeader(r)}
	a.pol = sharedPolicy(a.h)
	// The Date header pins "now" for Expires; without one the wall clock is
	// the best stand-in, as a cache would use its own clock.
	a.fresh = a.pol.freshness(a.h, time.Now())
	a.cacheable, a.cacheReason = a.pol.cacheable(a.h, r.StatusCode)
	if a.cacheable {
		a.cacheable, a.cacheReason = a.requestAllows(a.cacheReason)
	}
	if r.Cache.AgeS != nil && *r.Cache.AgeS >= 0 {
		a.age, a.hasAge = *r.Cache.AgeS, true
	} else {
		a.age, a.hasAge = ageSeconds(a.h)
	}
	a.fromCache = r.Cache.Status.FromCache() || (a.hasAge && a.age > 0)
	_, sc := a.h[http.CanonicalHeaderKey("Set-Cookie")]
	a.setCookie = r.SetCookie || sc
	return a
}

// requestAllows applies the request-side conditions of RFC 9111 §3 that
// SharedCacheable cannot see: the method and Authorization.
func (a *analysis) requestAllows(reason string) (bool, string) {
	switch a.r.Method {
	case "", http.MethodGet, http.MethodHead:
	default:
		return false, "responses to " + a.r.Method + " are not reused by shared caches"
	}
	for k := range a.r.RequestHeaders {
		if !strings.EqualFold(k, "Authorization") {
			continue
		}
		d := a.pol.d
		if !d.Public && d.SMaxAge == nil && !d.MustRevalidate {
			return false, "the request carried Authorization and the response has no public, s-maxage or must-revalidate (RFC 9111 §3.5)"
		}
		return true, reason + ", although the request carried Authorization"
	}
	return true, reason
}

// ResponseHeader returns the probe's response header; for a probe read back
// from JSON, which carries no Header, it rebuilds the cache-relevant part
// (Cache-Control, CDN-targeted fields, Vary, validators, Expires, Age and the
// presence of Set-Cookie) from the serialized fields.
func ResponseHeader(r *probe.Result) http.Header {
	if r == nil {
		return http.Header{}
	}
	if r.Header != nil {
		return r.Header
	}
	h := http.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("Cache-Control", r.CacheControl)
	set("Vary", r.Vary)
	set("ETag", r.ETag)
	set("Last-Modified", r.LastModified)
	set("Expires", r.Expires)
	for k, v := range r.CDNCacheControl {
		set(k, v)
	}
	if r.Cache.AgeS != nil {
		h.Set("Age", strconv.FormatInt(*r.Cache.AgeS, 10))
	}
	if r.SetCookie {
		h["Set-Cookie"] = []string{""}
	}
	return h
}

// cacheEvidence says why the response counts as served from cache.
func (a *analysis) cacheEvidence() string {
	var parts []string
	if a.r.Cache.Status.FromCache() {
		s := "cache status " + string(a.r.Cache.Status)
		if a.r.Cache.Source != "" {
			s += " from " + a.r.Cache.Source
			if a.r.Cache.Raw != "" {
				s += ": " + clip(a.r.Cache.Raw)
			}
		}
		parts = append(parts, s)
	}
	if a.hasAge && a.age > 0 {
		parts = append(parts, fmt.Sprintf("Age %d", a.age))
	}
	return strings.Join(parts, ", ")
}

// cookieFieldPrivate reports whether the origin told shared caches to drop
// Set-Cookie from the stored copy (private="Set-Cookie" or
// no-cache="Set-Cookie"), so storing the rest is safe.
func (a *analysis) cookieFieldPrivate() bool {
	d := a.pol.d
	return slices.Contains(d.PrivateFields, "Set-Cookie") || slices.Contains(d.NoCacheFields, "Set-Cookie")
}

func (a *analysis) swrNote() string {
	if swr := a.pol.d.StaleWhileRevalidate; swr != nil {
		return fmt.Sprintf(" plus stale-while-revalidate=%d", *swr)
	}
	return ""
}

func (a *analysis) fieldValue(name, v string) string {
	return name + ": " + clip(v)
}

// conflicts lists contradictions inside Cache-Control and the targeted field.
func (a *analysis) conflicts() []string {
	var out []string
	check := func(field string, d Directives) {
		if d.Empty() {
			return
		}
		pairs := []struct {
			on   bool
			what string
		}{
			{d.NoStore && (d.MaxAge != nil || d.SMaxAge != nil), "no-store with a max-age or s-maxage: no-store wins and nothing is cached"},
			{d.NoStore && d.Public, "no-store with public: no-store wins and nothing is cached"},
			{d.PrivateAll() && d.Public, "private with public: caches honour the more restrictive private"},
			{d.PrivateAll() && d.SMaxAge != nil, "private with s-maxage: shared caches must not store it, so s-maxage is ignored"},
			{d.NoCacheAll() && d.Immutable, "no-cache with immutable: every use is revalidated, so immutable has no effect"},
		}
		for _, p := range pairs {
			if p.on {
				out = append(out, fmt.Sprintf("%s has %s", a.fieldValue(field, joined(a.h, field)), p.what))
			}
		}
		for _, name := range repeatedWithDifferentValues(d) {
			out = append(out, fmt.Sprintf("%s repeats %s with different values; caches use the first or treat the response as stale (RFC 9111 §4.2.1)",
				a.fieldValue(field, joined(a.h, field)), name))
		}
	}
	check("Cache-Control", a.pol.cc)
	if a.pol.targeted() {
		check(a.pol.field, a.pol.d)
	}
	return out
}

func repeatedWithDifferentValues(d Directives) []string {
	first := map[string]string{}
	var out []string
	for _, e := range d.List {
		v, seen := first[e.Name]
		if !seen {
			first[e.Name] = e.Value
			continue
		}
		if v != e.Value && !slices.Contains(out, e.Name) {
			out = append(out, e.Name)
		}
	}
	return out
}

// invalid describes malformed directives in Cache-Control (targeted fields
// with errors are reported as ignored instead).
func (a *analysis) invalid() []string {
	var out []string
	for _, iv := range a.pol.cc.Invalid {
		out = append(out, fmt.Sprintf("Cache-Control has the malformed directive %s; caches ignore it or treat the response as stale", clip(iv)))
	}
	return out
}

// describeNotPrivate says which directives leave a response shareable.
func describeNotPrivate(p policy) string {
	if p.d.Empty() {
		return "it has no " + p.field
	}
	s := "it is marked " + p.field + ": " + clip(p.raw)
	if len(p.d.PrivateFields) > 0 {
		s += " (private names only some fields, not the whole response)"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// clip shortens a header value for a message.
func clip(v string) string {
	if len(v) <= maxQuoted {
		return v
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}
