package verify

import (
	"fmt"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
)

// The cache-status families a recorded expectation allows. A page the
// cache keeps may also show a MISS or EXPIRED (the first request after a
// purge or an expiry) or a STALE, UPDATING or REVALIDATED copy; a page the
// cache does not keep may show any status that is not a stored copy.
var (
	CachedFamily   = []string{"HIT", "MISS", "EXPIRED", "STALE", "UPDATING", "REVALIDATED"}
	UncachedFamily = []string{"MISS", "EXPIRED", "BYPASS", "DYNAMIC"}
)

// Observed is what one variant of a route does now, as the expectations it
// satisfies: what `cachectl init` and `verify --record` write.
type Observed struct {
	Expect *config.Expectation
	// Summary says what was seen, for a comment beside the expectations:
	// "HIT (X-Cache: HIT), 200, Cache-Control: public, max-age=600".
	Summary string
	// Warnings are what the expectations leave unchecked because the page
	// fails it now: findings at error severity, an unrecognized cache status.
	Warnings []string
}

// Observe records what a variant does from its probes, in order (a cold
// request and a warm one): the status code of the last; the cached family
// when any came from a cache, else the uncached one (nothing when no cache
// status header was recognized); private and no-store when the last says
// so; its shared-cache lifetime as both bounds when a directive states it
// (no bound when it comes from Expires or a heuristic); and no finding at
// error severity when it has none. The last probe, answered, satisfies
// every expectation recorded.
func Observe(probes []probe.Result, now time.Time) Observed {
	last := &probes[len(probes)-1]
	e := &config.Expectation{Status: new(last.StatusCode)}
	o := Observed{Expect: e, Summary: fmt.Sprintf("%s, %d, %s", describeCache(last.Cache), last.StatusCode, describeCacheControl(last.CacheControl))}
	switch cacheFamily(probes) {
	case "cached":
		e.Cache = CachedFamily
	case "uncached":
		e.Cache = UncachedFamily
	default:
		o.Warnings = append(o.Warnings, "no cache status header was recognized: name the site's own with cache_headers to check the cache")
	}
	cc := analyze.ParseCacheControl(last.CacheControl)
	if cc.PrivateAll() {
		e.Private = new(true)
	}
	if cc.NoStore {
		e.NoStore = new(true)
	}
	observeLifetime(e, analyze.SharedFreshness(last.Header, now))
	var errs []string
	for _, f := range last.Findings {
		if f.Severity.Rank() >= finding.Error.Rank() {
			errs = append(errs, f.ID+": "+f.Message)
		}
	}
	if len(errs) == 0 {
		e.FailOnFindings = string(finding.Error)
	}
	o.Warnings = append(o.Warnings, errs...)
	return o
}

func cacheFamily(probes []probe.Result) string {
	family := ""
	for _, r := range probes {
		switch {
		case r.Error != "":
		case r.Cache.Status.FromCache():
			return "cached"
		case r.Cache.Status != cachestatus.UNKNOWN && r.Cache.Status != "":
			family = "uncached"
		}
	}
	return family
}

// observeLifetime bounds the shared-cache lifetime where a directive
// states it: exactly, so a change shows; zero where no-cache or max-age=0
// says a shared cache must not reuse the page (private and no-store are
// recorded as such).
func observeLifetime(e *config.Expectation, f analyze.Freshness) {
	switch {
	case !f.Explicit || strings.HasPrefix(f.Source, "Expires"):
	case f.TTLSeconds > 0:
		e.MinMaxAge, e.MaxMaxAge = new(f.TTLSeconds), new(f.TTLSeconds)
	case e.Private == nil && e.NoStore == nil:
		e.MaxMaxAge = new(int64(0))
	}
}
