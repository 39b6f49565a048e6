package report

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

// siteRun is a verify run over the demo site's pages as cachectl reports
// it, TTFBs drawn from a seeded generator: anonymous visitors get HITs (a
// few MISSes), logged-in ones go to the origin. With broken, /dashboard is
// the demo's misconfigured page: a logged-in visitor gets a shared copy.
func siteRun(broken bool) [][]verify.Record {
	rng := rand.New(rand.NewPCG(14, 4))
	paths := []string{"/", "/feed.xml", "/now", "/account", "/dashboard"}
	for _, slug := range []string{"go-context-cancellation", "python-asyncio-basics", "rust-ownership-explained", "http-caching-headers", "postgres-index-tuning", "typescript-generics-guide", "kubernetes-readiness-probes"} {
		paths = append(paths, "/articles/"+slug)
	}
	for _, tag := range []string{"go", "python", "rust", "http", "caching", "postgres", "typescript", "kubernetes", "ops", "concurrency"} {
		paths = append(paths, "/tags/"+tag)
	}
	var run [][]verify.Record
	for i, path := range paths {
		rec := func(v probe.Variant, check, exp, act string, passed bool, cache cachestatus.Status, ttfb float64) verify.Record {
			return verify.Record{Route: path, Variant: v, Check: check, Passed: passed, Expected: exp, Actual: act,
				Owner: "web-team", Rollback: "cachectl purge --env production " + path, URL: "https://www.example.com" + path, Env: "production",
				Index: i, Attempts: 1, Probe: verify.ProbeFacts{StatusCode: 200, Cache: cache, TTFBMs: ttfb, TotalMs: ttfb + 0.3}}
		}
		anon, anonTTFB := cachestatus.HIT, 0.4+rng.ExpFloat64()*0.6
		if rng.IntN(8) == 0 {
			anon, anonTTFB = cachestatus.MISS, 6+rng.ExpFloat64()*9
		}
		logged, loggedTTFB := cachestatus.MISS, 5+rng.ExpFloat64()*12
		var recs []verify.Record
		recs = append(recs,
			rec(probe.Anonymous, "status", "200", "200", true, anon, anonTTFB),
			rec(probe.Anonymous, "cache", "one of HIT, MISS", fmt.Sprintf("%s (X-Cache: %s)", anon, anon), true, anon, anonTTFB))
		switch {
		case path == "/dashboard" && broken:
			hit := 0.5 + rng.ExpFloat64()*0.3
			recs = append(recs,
				rec(probe.LoggedIn, "cache", "one of BYPASS, MISS, DYNAMIC", "HIT (X-Cache: HIT)", false, cachestatus.HIT, hit),
				rec(probe.LoggedIn, "private", "Cache-Control: private", "Cache-Control: public, max-age=120", false, cachestatus.HIT, hit))
			recs[len(recs)-1].Rollback = "remove the /dashboard rule from production.vcl and reload Varnish"
			recs[len(recs)-2].Rollback = recs[len(recs)-1].Rollback
		default:
			recs = append(recs,
				rec(probe.LoggedIn, "cache", "one of BYPASS, MISS, DYNAMIC", "MISS (X-Cache: MISS)", true, logged, loggedTTFB),
				rec(probe.LoggedIn, "private", "Cache-Control: private", "Cache-Control: private, no-cache", true, logged, loggedTTFB))
		}
		run = append(run, recs)
	}
	return run
}

// siteDiff compares the demo site's pages in staging, which caps every
// lifetime at 60 s, and production: each article's anonymous variant
// drifts in ttl, the rest agree.
func siteDiff() []verify.DiffRecord {
	rng := rand.New(rand.NewPCG(14, 5))
	side := func(env, path string, cache cachestatus.Status, ttl int64) verify.Side {
		ttfb := 0.4 + rng.ExpFloat64()*0.5
		if !cache.FromCache() {
			ttfb = 5 + rng.ExpFloat64()*10
		}
		return verify.Side{URL: "https://" + env + ".example.com" + path, StatusCode: 200, Cache: cache, TTLSeconds: ttl,
			CacheControl: []string{"max-age", "public"}, Vary: []string{"Accept-Encoding"}, CDN: "varnish", Findings: []string{}, TTFBMs: ttfb}
	}
	var out []verify.DiffRecord
	for i, path := range []string{"/", "/articles/go-context-cancellation", "/articles/python-asyncio-basics", "/articles/rust-ownership-explained", "/tags/go", "/tags/python", "/feed.xml", "/account"} {
		prodTTL := int64(60)
		if strings.HasPrefix(path, "/articles/") {
			prodTTL = 600
		}
		r := verify.DiffRecord{Route: path, EnvA: "staging", EnvB: "production", Index: i, Owner: "content-team", Rollback: "cachectl purge --env production " + path}
		anon := verify.VariantDiff{Variant: probe.Anonymous, A: side("staging", path, cachestatus.HIT, 60), B: side("www", path, cachestatus.HIT, prodTTL), Differences: []verify.Difference{}}
		if prodTTL != 60 {
			anon.Differences = append(anon.Differences, verify.Difference{Field: verify.FieldTTL, A: "60 s", B: fmt.Sprintf("%d s", prodTTL)})
			r.Drift = true
		}
		logged := verify.VariantDiff{Variant: probe.LoggedIn, A: side("staging", path, cachestatus.MISS, 0), B: side("www", path, cachestatus.MISS, 0), Differences: []verify.Difference{}}
		r.Variants = []verify.VariantDiff{anon, logged}
		out = append(out, r)
	}
	return out
}

// siteVerifyHTML and siteDiffHTML are the HTML reports of site runs.
func siteVerifyHTML(t *testing.T, run [][]verify.Record) []byte {
	return writeVerifyRun(t, HTML, VerifyOptions{Env: "production", RouteWidth: 40, Timestamp: pinnedStart}, run, 812.4)
}

func siteDiffHTML(t *testing.T, run []verify.DiffRecord) []byte {
	return writeDiffRun(t, HTML, DiffOptions{EnvA: "staging", EnvB: "production", Timestamp: pinnedStart}, run, 230)
}

func TestSiteHTMLGolden(t *testing.T) {
	golden.Check(t, "verify_html_site", siteVerifyHTML(t, siteRun(true)))
	golden.Check(t, "diff_html_site", siteDiffHTML(t, siteDiff()))
}

// hostile is text a server or a config could put in a report, written to
// break out of the markup it lands in: element content, an attribute, an
// SVG title, a <code> block.
const hostile = `</code></td></tr></table><script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">"' onmouseover="x" <style>body{display:none}</style><svg onload=alert(1)>`

// hostileRun is one route whose name, owner, rollback, expected and actual
// values (a header value from the server) are all hostile, and whose cache
// status is not a status.
func hostileRun() [][]verify.Record {
	r := verify.Record{Route: "/x" + hostile, Variant: probe.Anonymous, Check: "headers.equal:X-Echo", Passed: false,
		Expected: "X-Echo: " + hostile, Actual: "X-Echo: " + hostile, Owner: hostile, Rollback: hostile,
		URL: "https://www.example.com/x", Env: "production", Attempts: 1,
		Probe: verify.ProbeFacts{StatusCode: 200, Cache: cachestatus.Status(`HIT" onclick="x`), TTFBMs: 1.5}}
	return [][]verify.Record{{r}}
}

// TestHTMLEscapesEverything: hostile values reach the page as text. Beyond
// the page's own markup there is no script, event handler, style or image
// element, and the text is all there, escaped.
func TestHTMLEscapesEverything(t *testing.T) {
	page := string(siteVerifyHTML(t, hostileRun()))
	for _, bad := range []string{"<script", "<img", "<style>body", "<svg onload", `"' onmouseover`, `HIT" onclick`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: hostile markup got through", bad)
		}
	}
	if n := strings.Count(page, "<style>"); n != 1 {
		t.Errorf("%d <style> elements, want the page's own one", n)
	}
	if !strings.Contains(page, "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;") {
		t.Error("the hostile value is not shown as escaped text")
	}
	if !strings.Contains(page, `class="bar s-UNKNOWN"`) {
		t.Error("a cache status outside the vocabulary should be coloured as UNKNOWN")
	}
}
