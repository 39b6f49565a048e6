package cachetest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// cacheCase is what cachectl must report for one cache.
type cacheCase struct {
	kind stacktest.Kind
	// source is the header the cache's status is read from.
	source string
	// loggedInCached: the cache serves a signed-in visitor the copy an
	// anonymous one filled (its cache key ignores cookies).
	loggedInCached bool
	// neverCached is the state of a purge of a URL the cache never held:
	// not_cached where the node says so, purged where it cannot tell.
	neverCached string
	// refusedHint is in the error of a purge its access list refuses.
	refusedHint string
}

var cacheCases = []cacheCase{
	{kind: stacktest.Nginx, source: "X-Cache-Status", loggedInCached: true, neverCached: "not_cached",
		refusedHint: "nginx refused PURGE from this machine: add its address to allow in the purge location"},
	{kind: stacktest.Squid, source: "X-Cache", loggedInCached: true, neverCached: "not_cached",
		refusedHint: "Squid refused PURGE from this machine: in squid.conf, acl purge method PURGE and http_access allow localhost purge"},
	{kind: stacktest.TrafficServer, source: "Via", loggedInCached: true, neverCached: "not_cached",
		refusedHint: "Traffic Server refused PURGE from this machine: allow the method for its address in ip_allow.yaml"},
	{kind: stacktest.VarnishXkey, source: "X-Cache", loggedInCached: false, neverCached: "purged",
		refusedHint: "Varnish refused PURGE from this machine: add its address to the acl that vcl_recv checks"},
}

// TestCaches runs the same story against every cache: inspect MISS then
// HIT, the signed-in visitor's variant flagged where the cache serves it
// from its copy, purge with --verify, a Vary: Accept-Encoding page really
// evicted, a URL never cached reported as such, and a refused purge that
// names the setting of the cache that refused.
func TestCaches(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real caches")
	}
	for _, tc := range cacheCases {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.kind)
			t.Run("inspect MISS then HIT", func(t *testing.T) { f.missThenHit(t, tc) })
			t.Run("logged-in variant", func(t *testing.T) { f.loggedIn(t, tc) })
			t.Run("purge --verify", func(t *testing.T) { f.purgeVerified(t, "/articles/"+string(tc.kind)+"-purged") })
			t.Run("Vary: Accept-Encoding page", func(t *testing.T) { f.purgeVerified(t, "/styles.css") })
			t.Run("never cached", func(t *testing.T) { f.neverCached(t, tc) })
			t.Run("refused", func(t *testing.T) { f.refused(t, tc) })
		})
	}
}

func (f *fixture) missThenHit(t *testing.T, tc cacheCase) {
	code, out, stderr := f.run(t, "inspect", "--env", "prod", "--as", "anonymous", "-o", "jsonl", "--repeat", "2", "/articles/"+string(tc.kind)+"-inspected")
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s", code, stderr)
	}
	ps := lines[probe](t, out, "variant")
	if got, want := statuses(ps), []string{"MISS", "HIT"}; !slices.Equal(got, want) {
		t.Fatalf("statuses = %v, want %v\n%s", got, want, out)
	}
	if got := ps[1].Cache.Source; got != tc.source {
		t.Errorf("source = %q, want %q", got, tc.source)
	}
}

// loggedIn probes a page as an anonymous visitor (which fills the cache)
// and then as a signed-in one.
func (f *fixture) loggedIn(t *testing.T, tc cacheCase) {
	ps := f.inspect(t, "prod", "both", "/articles/"+string(tc.kind)+"-shared")
	if len(ps) != 2 || ps[1].Variant != "logged_in" {
		t.Fatalf("probes = %+v, want anonymous then logged_in", ps)
	}
	if got := hasFinding(ps[1], "logged-in-cached"); got != tc.loggedInCached {
		t.Errorf("logged-in probe (%s) flagged logged-in-cached = %v, want %v", ps[1].Cache.Status, got, tc.loggedInCached)
	}
}

// purgeVerified fills the cache with path as visitors get it, purges it
// with --verify and expects it purged and proven evicted.
func (f *fixture) purgeVerified(t *testing.T, path string) {
	if ps := f.inspect(t, "prod", "anonymous", path, "--repeat", "2"); ps[1].Cache.Status != "HIT" {
		t.Fatalf("before the purge: %+v, want a HIT", ps)
	}
	code, recs, stderr := f.purge(t, "prod", "--verify", path)
	if code != 0 || len(recs) != 1 {
		t.Fatalf("purge --verify %s: exit %d, records %+v\n%s", path, code, recs, stderr)
	}
	if r := recs[0]; r.State != "purged" || r.Verify == nil || !r.Verify.Passed {
		t.Fatalf("record = %+v (verify %+v), want purged and verified", r, r.Verify)
	}
}

func (f *fixture) neverCached(t *testing.T, tc cacheCase) {
	code, recs, stderr := f.purge(t, "prod", "/articles/"+string(tc.kind)+"-never-requested")
	if code != 0 || len(recs) != 1 || recs[0].State != tc.neverCached {
		t.Fatalf("exit %d, records %+v, want one %s\n%s", code, recs, tc.neverCached, stderr)
	}
}

func (f *fixture) refused(t *testing.T, tc cacheCase) {
	code, recs, stderr := f.purge(t, "denied", "/articles/"+string(tc.kind)+"-refused")
	if code != 3 || len(recs) != 1 || recs[0].State != "failed" {
		t.Fatalf("exit %d, records %+v, want one failed, exit 3\n%s", code, recs, stderr)
	}
	if !strings.Contains(recs[0].Error, tc.refusedHint) {
		t.Errorf("error %q lacks the hint %q", recs[0].Error, tc.refusedHint)
	}
	if !strings.Contains(stderr, "access denied (HTTP 403)") || !strings.Contains(stderr, "once the cache admits this machine, finish with: cachectl purge") {
		t.Errorf("stderr does not say access was denied and how to finish:\n%s", stderr)
	}
}

// TestNginxSameLocationSyntax: the module's "same location" syntax crashes
// the worker on every purge with this nginx; cachectl says so after one
// attempt instead of retrying a crash.
func TestNginxSameLocationSyntax(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real caches")
	}
	c := stacktest.SharedCache(t, stacktest.Nginx)
	f := newFixture(t, stacktest.Nginx, env{name: "same", baseURL: c.AltURL, endpoint: c.AltURL})
	if got := statuses(f.inspect(t, "same", "anonymous", "/articles/same-location", "--repeat", "2")); !slices.Equal(got, []string{"MISS", "HIT"}) {
		t.Fatalf("statuses = %v, want MISS then HIT", got)
	}
	crashes := func() int {
		b, err := os.ReadFile(filepath.Join(c.Dir, "error.log"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "exited on signal 11")
	}
	before := crashes()
	code, recs, stderr := f.purge(t, "same", "/articles/same-location", "/articles/same-location-2")
	if code != 3 || len(recs) != 2 || recs[0].State != "failed" || recs[1].State != "failed" {
		t.Fatalf("exit %d, records %+v, want 2 failed, exit 3\n%s", code, recs, stderr)
	}
	for _, want := range []string{"the node closed the connection without answering (1 attempt(s); not retried", "nginx's purge module crashes on this request syntax", "separate purge location"} {
		if !strings.Contains(recs[0].Error, want) {
			t.Errorf("error %q lacks %q", recs[0].Error, want)
		}
	}
	// One PURGE, one crash: neither retried nor the second URL sent.
	if got := crashes() - before; got != 1 {
		t.Errorf("nginx workers crashed %d times, want 1", got)
	}
	// nginx's master starts a new worker: the cache still serves.
	if got := statuses(f.inspect(t, "prod", "anonymous", "/articles/after-crash")); got[0] != "MISS" {
		t.Errorf("after the crash: %v, want the cache serving", got)
	}
}

// TestTrafficServerStatusSources: with the xdebug plugin a request asking
// with X-Debug: X-Cache reads X-Cache; without either xdebug or the Via
// codes nothing says what the cache did, and purge --verify and verify say
// that it cannot be proven, and how to turn a status header on.
func TestTrafficServerStatusSources(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real caches")
	}
	c := stacktest.SharedCache(t, stacktest.TrafficServer)
	f := newFixture(t, stacktest.TrafficServer,
		env{name: "xdebug", baseURL: c.URL, endpoint: c.Endpoint, extra: []string{"headers: { X-Debug: X-Cache }"}},
		env{name: "plain", baseURL: c.AltURL, endpoint: c.URL})
	ps := f.inspect(t, "xdebug", "anonymous", "/articles/ats-xdebug", "--repeat", "2")
	if got := statuses(ps); !slices.Equal(got, []string{"MISS", "HIT"}) || ps[1].Cache.Source != "X-Cache" {
		t.Fatalf("with xdebug: %v from %s, want MISS then HIT from X-Cache", got, ps[1].Cache.Source)
	}

	path := "/articles/ats-plain"
	ps = f.inspect(t, "plain", "anonymous", path, "--repeat", "2")
	if got := statuses(ps); !slices.Equal(got, []string{"UNKNOWN", "UNKNOWN"}) {
		t.Fatalf("without Via codes or xdebug: %v, want UNKNOWN twice", got)
	}
	if len(ps[0].Findings) == 0 || !strings.Contains(ps[0].Findings[0].Message, "insert_response_via_str") {
		t.Errorf("findings %+v, want one saying how to turn Traffic Server's status on", ps[0].Findings)
	}
	code, recs, stderr := f.purge(t, "plain", "--verify", path)
	if code != 1 || len(recs) != 1 || recs[0].State != "purged" || recs[0].Verify == nil || !recs[0].Verify.Unproven {
		t.Fatalf("purge --verify: exit %d, records %+v\n%s; want purged, unproven, exit 1", code, recs, stderr)
	}
	for _, want := range []string{"cannot be proven evicted", "insert_response_via_str", "xdebug"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "still served from cache") {
		t.Errorf("stderr says the page is still cached, which nothing shows:\n%s", stderr)
	}
}

// TestVerifyUnknownSaysHowToEnableAStatus: a route checked against a
// cache that reports nothing fails with what to turn on.
func TestVerifyUnknownSaysHowToEnableAStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real caches")
	}
	c := stacktest.SharedCache(t, stacktest.TrafficServer)
	f := newFixture(t, stacktest.TrafficServer, env{name: "plain", baseURL: c.AltURL, endpoint: c.URL})
	f.config = appendRoutes(t, f.config, "/articles/ats-verified")
	code, out, stderr := f.run(t, "verify", "--env", "plain", "-o", "jsonl")
	if code != 1 {
		t.Fatalf("verify: exit %d, want 1\n%s\n%s", code, stderr, out)
	}
	for _, want := range []string{"cannot prove what the cache did", "Traffic Server: set proxy.config.http.insert_response_via_str to 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
}

// TestVarnishTagsAndBans: --tag through xkey purges every page that shows
// an article and nothing else; a tag nothing carries is not_cached; --soft
// soft-purges; --prefix bans a section; an environment without the keys
// refuses both before anything is sent, naming the key.
func TestVarnishTagsAndBans(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real caches")
	}
	c := stacktest.SharedCache(t, stacktest.VarnishXkey)
	f := newFixture(t, stacktest.VarnishXkey, env{name: "tagged", baseURL: c.URL, endpoint: c.Endpoint, cdn: []string{"tags: xkey", "prefix: ban"}})
	shows := []string{"/", "/tags/go", "/feed.xml", "/articles/go-context-cancellation"}
	other := "/articles/rust-ownership-explained"
	for _, p := range append(shows, other) {
		f.inspect(t, "tagged", "anonymous", p)
	}
	code, recs, stderr := f.purge(t, "tagged", "--tag", "article-go-context-cancellation", "--tag", "article-nobody-wrote")
	if code != 0 || len(recs) != 2 || recs[0].Kind != "tag" || recs[0].State != "purged" || recs[1].State != "not_cached" {
		t.Fatalf("purge --tag: exit %d, records %+v\n%s", code, recs, stderr)
	}
	for _, p := range shows {
		if got := statuses(f.inspect(t, "tagged", "anonymous", p)); got[0] != "MISS" {
			t.Errorf("%s after the tag purge: %v, want MISS", p, got)
		}
	}
	if got := statuses(f.inspect(t, "tagged", "anonymous", other)); got[0] != "HIT" {
		t.Errorf("%s shows another article: %v, want HIT", other, got)
	}
	if code, recs, stderr := f.purge(t, "tagged", "--soft", "--tag", "article-rust-ownership-explained"); code != 0 || len(recs) != 1 || recs[0].State != "purged" {
		t.Errorf("purge --soft --tag: exit %d, records %+v\n%s", code, recs, stderr)
	}

	f.inspect(t, "tagged", "anonymous", "/tags/python")
	code, recs, stderr = f.purge(t, "tagged", "--prefix", "/tags/")
	if code != 0 || len(recs) != 1 || recs[0].Kind != "prefix" || recs[0].State != "purged" {
		t.Fatalf("purge --prefix: exit %d, records %+v\n%s", code, recs, stderr)
	}
	for p, want := range map[string]string{"/tags/python": "MISS", "/tags/go": "MISS", "/": "HIT"} {
		if got := statuses(f.inspect(t, "tagged", "anonymous", p)); got[0] != want {
			t.Errorf("%s after the ban: %v, want %s", p, got, want)
		}
	}

	for _, args := range [][]string{{"--tag", "home"}, {"--prefix", "/tags/"}} {
		code, _, stderr := f.purge(t, "prod", args...)
		key := "environments.prod.cdn." + map[string]string{"--tag": "tags", "--prefix": "prefix"}[args[0]]
		if code != 2 || !strings.Contains(stderr, key) || !strings.Contains(stderr, "nothing was sent") {
			t.Errorf("purge %v without the key: exit %d, want 2 naming %s:\n%s", args, code, key, stderr)
		}
	}
}

// TestRedirectTarget: a purged URL that answers with a redirect is flagged
// with the target it leads to, which --related purges too when it is on
// the environment's hosts.
func TestRedirectTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real caches")
	}
	f := newFixture(t, stacktest.Nginx)
	f.config = appendFile(t, f.config, "related:\n  - match: /articles/{slug}\n    also: [/feed.xml]\n")
	home := f.c.URL + "/"
	warm := func() {
		for _, p := range []string{"/redirect-me", "/"} {
			if got := statuses(f.inspect(t, "prod", "anonymous", p, "--repeat", "2")); got[1] != "HIT" {
				t.Fatalf("%s: %v, want cached", p, got)
			}
		}
	}
	warm()
	code, recs, stderr := f.purge(t, "prod", "--verify", "/redirect-me")
	want := "purged the cached redirect; its target " + home + " was not purged"
	if code != 0 || len(recs) != 1 || recs[0].Verify == nil || recs[0].Verify.Note != want {
		t.Fatalf("purge --verify: exit %d, records %+v\n%s; want the note %q", code, recs, stderr, want)
	}
	if got := statuses(f.inspect(t, "prod", "anonymous", "/")); got[0] != "HIT" {
		t.Errorf("/ after purging the redirect only: %v, want still cached", got)
	}

	warm()
	code, recs, stderr = f.purge(t, "prod", "--verify", "--related", "/redirect-me")
	if code != 0 || len(recs) != 2 {
		t.Fatalf("purge --related --verify: exit %d, records %+v\n%s", code, recs, stderr)
	}
	if r := recs[1]; r.Target != home || r.RelatedTo != f.c.URL+"/redirect-me" || r.State != "purged" || r.Verify == nil || !r.Verify.Passed {
		t.Errorf("second record = %+v, want %s purged and verified, related to /redirect-me", r, home)
	}
}

// appendRoutes adds routes, each expecting a cache status, to a config.
func appendRoutes(t *testing.T, path string, routes ...string) string {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("routes:\n")
	for _, r := range routes {
		fmt.Fprintf(&sb, "  - path: %s\n    expect:\n      anonymous: { cache: [HIT, MISS] }\n", r)
	}
	return appendFile(t, path, sb.String())
}
