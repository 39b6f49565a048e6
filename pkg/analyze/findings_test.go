package analyze

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// result builds a probe result the way the prober fills one in: the header
// plus the fields copied out of it.
func result(v probe.Variant, status int, cs cachestatus.Status, lines ...string) *probe.Result {
	h := hdr(lines...)
	r := &probe.Result{
		URL:          "https://www.example.com/blog/post-1",
		Variant:      v,
		Method:       http.MethodGet,
		StatusCode:   status,
		Cache:        cachestatus.Result{Status: cs},
		CacheControl: h.Get("Cache-Control"),
		Vary:         strings.Join(h.Values("Vary"), ", "),
		ETag:         h.Get("ETag"),
		LastModified: h.Get("Last-Modified"),
		Expires:      h.Get("Expires"),
		Header:       h,
	}
	if cs != cachestatus.UNKNOWN {
		r.Cache.Source, r.Cache.Raw = "X-Cache", string(cs)
	}
	if n, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil {
		r.Cache.AgeS = &n
	}
	if _, ok := h["Set-Cookie"]; ok {
		r.SetCookie = true
		h["Set-Cookie"] = []string{""} // the prober blanks values
	}
	for _, name := range TargetedFields {
		if v := h.Get(name); v != "" {
			if r.CDNCacheControl == nil {
				r.CDNCacheControl = map[string]string{}
			}
			r.CDNCacheControl[name] = v
		}
	}
	return r
}

func withRequest(r *probe.Result, method string, headers map[string]string) *probe.Result {
	r.Method, r.RequestHeaders = method, headers
	return r
}

// ids renders findings as "id:severity" in order.
func ids(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.ID+":"+string(f.Severity))
	}
	return out
}

const (
	anon     = probe.Anonymous
	loggedIn = probe.LoggedIn
	etag     = `ETag: "v1"`
)

func TestFindings(t *testing.T) {
	tests := []struct {
		name string
		r    *probe.Result
		want []string
	}{
		{"nil probe", nil, []string{}},
		{"failed probe", &probe.Result{Variant: loggedIn, Error: "dial tcp: connection refused", Cache: cachestatus.Result{Status: cachestatus.HIT}}, []string{}},
		{
			"well cached anonymous page",
			result(anon, 200, cachestatus.HIT, "Cache-Control: public, max-age=300", etag, "Age: 10"),
			[]string{},
		},
		{
			"logged-in HIT on a private response",
			result(loggedIn, 200, cachestatus.HIT, "Cache-Control: private", etag),
			[]string{"logged-in-cached:error", "private-served-from-cache:error"},
		},
		{
			"logged-in MISS but Age shows a cache served it",
			result(loggedIn, 200, cachestatus.MISS, "Cache-Control: max-age=0, must-revalidate", etag, "Age: 5"),
			[]string{"logged-in-cached:error"},
		},
		{
			"logged-in STALE counts as from cache",
			result(loggedIn, 200, cachestatus.STALE, "Cache-Control: max-age=60", etag),
			[]string{"logged-in-cached:error"},
		},
		{
			"logged-in bypassed and private",
			result(loggedIn, 200, cachestatus.BYPASS, "Cache-Control: private, no-store", "Age: 0"),
			[]string{},
		},
		{
			"anonymous HIT is not a logged-in finding",
			result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=60", etag, "Age: 3"),
			[]string{},
		},
		{
			"Set-Cookie on a storable response",
			result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", etag, "Set-Cookie: x"),
			[]string{"set-cookie-cacheable:error"},
		},
		{
			"Set-Cookie on a heuristically storable response",
			result(anon, 200, cachestatus.MISS, etag, "Set-Cookie: x"),
			[]string{"set-cookie-cacheable:error", "no-explicit-freshness:warn"},
		},
		{
			"Set-Cookie served from cache despite private",
			result(anon, 200, cachestatus.HIT, "Cache-Control: private", "Set-Cookie: x"),
			[]string{"private-served-from-cache:error", "set-cookie-cacheable:error"},
		},
		{
			"Set-Cookie with private",
			result(anon, 200, cachestatus.MISS, "Cache-Control: private", "Set-Cookie: x"),
			[]string{},
		},
		{
			"Set-Cookie with no-store",
			result(anon, 200, cachestatus.BYPASS, "Cache-Control: no-store", "Set-Cookie: x"),
			[]string{},
		},
		{
			"Set-Cookie excluded by private naming it",
			result(anon, 200, cachestatus.MISS, `Cache-Control: private="Set-Cookie", max-age=60`, etag, "Set-Cookie: x"),
			[]string{},
		},
		{
			"Set-Cookie on an uncacheable redirect",
			result(anon, 302, cachestatus.MISS, "Location: /login", "Set-Cookie: x"),
			[]string{},
		},
		{
			"no explicit freshness",
			result(anon, 200, cachestatus.MISS, etag),
			[]string{"no-explicit-freshness:warn"},
		},
		{
			"no explicit freshness on an uncacheable status",
			result(anon, 302, cachestatus.MISS, "Location: /next"),
			[]string{},
		},
		{
			"Vary star",
			result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", "Vary: *"),
			[]string{"vary-star:warn"},
		},
		{
			"Vary Cookie on a cacheable response",
			result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", etag, "Vary: Accept-Encoding, cookie"),
			[]string{"vary-cookie:warn"},
		},
		{
			"Vary Cookie on a private response",
			result(anon, 200, cachestatus.MISS, "Cache-Control: private", "Vary: Cookie"),
			[]string{"vary-cookie:info"},
		},
		{
			"Vary without Cookie",
			result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag, "Vary: Accept-Encoding"),
			[]string{},
		},
		{
			"Age over max-age",
			result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=300", etag, "Age: 600"),
			[]string{"age-over-max-age:warn"},
		},
		{
			"Age within stale-while-revalidate",
			result(anon, 200, cachestatus.UPDATING, "Cache-Control: max-age=300, stale-while-revalidate=60", etag, "Age: 350"),
			[]string{},
		},
		{
			"Age beyond stale-while-revalidate",
			result(anon, 200, cachestatus.STALE, "Cache-Control: max-age=300, stale-while-revalidate=60", etag, "Age: 400"),
			[]string{"age-over-max-age:warn"},
		},
		{
			"Age over max-age but within s-maxage",
			result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=60, s-maxage=3600", etag, "Age: 600"),
			[]string{},
		},
		{
			"Age over a CDN-Cache-Control lifetime",
			result(anon, 200, cachestatus.HIT, "CDN-Cache-Control: max-age=60", "Cache-Control: max-age=3600", etag, "Age: 600"),
			[]string{"age-over-max-age:warn", "cdn-override:info"},
		},
		{
			"no validator",
			result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60"),
			[]string{"no-validator:info"},
		},
		{
			"Last-Modified is a validator",
			result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", "Last-Modified: Sun, 16 Nov 2025 12:00:00 GMT"),
			[]string{},
		},
		{
			"no-store with max-age",
			result(anon, 200, cachestatus.BYPASS, "Cache-Control: no-store, max-age=60"),
			[]string{"conflicting-directives:warn"},
		},
		{
			"public with private",
			result(anon, 200, cachestatus.BYPASS, "Cache-Control: public, private"),
			[]string{"conflicting-directives:warn"},
		},
		{
			"max-age repeated with different values",
			result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", "Cache-Control: max-age=0", etag),
			[]string{"conflicting-directives:warn"},
		},
		{
			"malformed max-age",
			result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=1h", etag),
			[]string{"invalid-directive:warn"},
		},
		{
			"CDN-Cache-Control overrides private",
			result(anon, 200, cachestatus.MISS, "CDN-Cache-Control: max-age=600", "Cache-Control: private", etag),
			[]string{"cdn-override:info"},
		},
		{
			"malformed CDN-Cache-Control is ignored",
			result(anon, 200, cachestatus.MISS, "CDN-Cache-Control: max-age=soon", "Cache-Control: public, max-age=60", etag),
			[]string{"invalid-directive:warn"},
		},
		{
			"unknown cache status",
			result(anon, 200, cachestatus.UNKNOWN, "Cache-Control: private"),
			[]string{"cache-status-unknown:info"},
		},
		{
			"POST responses are not storable",
			withRequest(result(anon, 200, cachestatus.MISS, "Set-Cookie: x"), http.MethodPost, nil),
			[]string{},
		},
		{
			"HEAD is judged like GET",
			withRequest(result(anon, 200, cachestatus.MISS, "Set-Cookie: x", etag, "Cache-Control: max-age=60"), http.MethodHead, nil),
			[]string{"set-cookie-cacheable:error"},
		},
		{
			"Authorization without public keeps the response out of shared caches",
			withRequest(result(loggedIn, 200, cachestatus.MISS, "Cache-Control: max-age=60", "Set-Cookie: x"), http.MethodGet,
				map[string]string{"authorization": "<redacted>"}),
			[]string{},
		},
		{
			"Authorization with s-maxage is storable",
			withRequest(result(loggedIn, 200, cachestatus.MISS, "Cache-Control: s-maxage=60", "Set-Cookie: x", etag), http.MethodGet,
				map[string]string{"Authorization": "<redacted>"}),
			[]string{"set-cookie-cacheable:error"},
		},
		{
			"many findings sorted by severity then id",
			result(loggedIn, 200, cachestatus.HIT, "Vary: Cookie", "Set-Cookie: x", "Age: 9"),
			[]string{"logged-in-cached:error", "set-cookie-cacheable:error", "no-explicit-freshness:warn", "vary-cookie:warn", "no-validator:info"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(Findings(tt.r))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Findings() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFindingMessagesNameTheCause(t *testing.T) {
	tests := []struct {
		name  string
		r     *probe.Result
		id    string
		wants []string
	}{
		{
			"logged-in cached names the status and Age",
			result(loggedIn, 200, cachestatus.HIT, "Cache-Control: max-age=60", etag, "Age: 42"),
			"logged-in-cached", []string{"cache status HIT from X-Cache: HIT", "Age 42"},
		},
		{
			"set-cookie names why it is storable",
			result(anon, 200, cachestatus.MISS, "Cache-Control: public, s-maxage=120", etag, "Set-Cookie: x"),
			"set-cookie-cacheable", []string{"Cache-Control: s-maxage=120"},
		},
		{
			"set-cookie notes Authorization",
			withRequest(result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", etag, "Set-Cookie: x"), http.MethodGet,
				map[string]string{"Authorization": "<redacted>"}),
			"set-cookie-cacheable", []string{"Cache-Control: max-age=60", "although the request carried Authorization"},
		},
		{
			"age over names both numbers",
			result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=300, stale-while-revalidate=10", etag, "Age: 600"),
			"age-over-max-age", []string{"Age 600", "300s", "Cache-Control: max-age=300", "stale-while-revalidate=10"},
		},
		{
			"vary names the header",
			result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag, "Vary: Accept-Encoding, Cookie"),
			"vary-cookie", []string{"Vary: Accept-Encoding, Cookie"},
		},
		{
			"conflict names the header",
			result(anon, 200, cachestatus.BYPASS, "Cache-Control: no-store, s-maxage=60"),
			"conflicting-directives", []string{"Cache-Control: no-store, s-maxage=60", "no-store wins"},
		},
		{
			"invalid names the directive",
			result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=1h", etag),
			"invalid-directive", []string{"max-age=1h"},
		},
		{
			"override names both headers",
			result(anon, 200, cachestatus.MISS, "Surrogate-Control: max-age=86400", "Cache-Control: no-cache", etag),
			"cdn-override", []string{"Surrogate-Control: max-age=86400", "Cache-Control: no-cache"},
		},
		{
			"a malformed Server-Timing metric is named with its reason and the count of others",
			withServerTimingProblems(result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag),
				servertiming.Problem{Metric: "db;dur", Reason: "parameter dur has no value (expected dur=VALUE)"},
				servertiming.Problem{Metric: "x y", Reason: "unexpected 'y'"}),
			"server-timing-invalid", []string{`"db;dur" left out: parameter dur has no value`, "(and 1 more)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msg string
			for _, f := range Findings(tt.r) {
				if f.ID == tt.id {
					msg = f.Message
				}
			}
			if msg == "" {
				t.Fatalf("no %s finding in %v", tt.id, ids(Findings(tt.r)))
			}
			for _, w := range tt.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func withServerTimingProblems(r *probe.Result, ps ...servertiming.Problem) *probe.Result {
	r.ServerTimingProblems = ps
	return r
}

func TestFindingsNeverPrintCookieValues(t *testing.T) {
	const secretValue = "s3ss10n-t0k3n-d0-n0t-l34k"
	r := result(loggedIn, 200, cachestatus.HIT, "Cache-Control: max-age=60", "Vary: Cookie", "Age: 7")
	// Even if a caller forgets to blank values, messages must not carry them.
	r.Header["Set-Cookie"] = []string{"sessionid=" + secretValue + "; Path=/; HttpOnly"}
	r.SetCookie = true
	r.RequestHeaders = map[string]string{"Cookie": "sessionid=" + secretValue}
	anonR := result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60")
	anonR.BodySHA256, r.BodySHA256 = strings.Repeat("a", 64), strings.Repeat("b", 64)
	_, fs := Pair(anonR, r)
	if len(fs) == 0 {
		t.Fatal("Pair() returned no findings for a cached logged-in response with Set-Cookie")
	}
	for _, f := range fs {
		if strings.Contains(f.Message, secretValue) {
			t.Errorf("finding %s leaks the cookie value: %q", f.ID, f.Message)
		}
	}
}

func TestFindingsFromSerializedProbe(t *testing.T) {
	// A probe read back from JSON has no Header; the fields must suffice.
	r := result(loggedIn, 200, cachestatus.HIT,
		"CDN-Cache-Control: max-age=60", "Cache-Control: private", "Vary: Cookie", "Age: 120", "Set-Cookie: x")
	want := ids(Findings(r))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back probe.Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if back.Header != nil {
		t.Fatalf("Header survived JSON; the test no longer covers the fallback")
	}
	if got := ids(Findings(&back)); !reflect.DeepEqual(got, want) {
		t.Errorf("Findings(from JSON) = %v, want %v", got, want)
	}
	now := time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC)
	if got, want := SharedFreshness(ResponseHeader(&back), now), SharedFreshness(r.Header, now); got != want {
		t.Errorf("SharedFreshness(ResponseHeader(from JSON)) = %+v, want %+v", got, want)
	}
	if got := ResponseHeader(nil); len(got) != 0 {
		t.Errorf("ResponseHeader(nil) = %v, want empty", got)
	}
}

func TestPair(t *testing.T) {
	hashA, hashB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	withBody := func(r *probe.Result, sum string) *probe.Result {
		r.BodySHA256, r.BodyBytes = sum, 1024
		return r
	}
	tests := []struct {
		name     string
		anon     *probe.Result
		loggedIn *probe.Result
		wantAnon []string
		wantIn   []string
	}{
		{
			"personalized page shared with everyone",
			withBody(result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", etag), hashB),
			[]string{}, []string{"personalized-not-private:warn"},
		},
		{
			"personalized page without any Cache-Control",
			withBody(result(anon, 200, cachestatus.MISS, etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.MISS, etag), hashB),
			[]string{"no-explicit-freshness:warn"}, []string{"no-explicit-freshness:warn", "personalized-not-private:warn"},
		},
		{
			"personalized page with private naming only a field",
			withBody(result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.MISS, `Cache-Control: private="Set-Cookie", max-age=60`, etag), hashB),
			[]string{}, []string{"personalized-not-private:warn"},
		},
		{
			"personalized page private in Cache-Control but cached by CDN-Cache-Control",
			withBody(result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=60", etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.MISS, "CDN-Cache-Control: max-age=60", "Cache-Control: private", etag), hashB),
			[]string{}, []string{"personalized-not-private:warn", "cdn-override:info"},
		},
		{
			"personalized page marked private",
			withBody(result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=60", etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.BYPASS, "Cache-Control: private"), hashB),
			[]string{}, []string{},
		},
		{
			"personalized page marked no-store",
			withBody(result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=60", etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.BYPASS, "Cache-Control: no-store"), hashB),
			[]string{}, []string{},
		},
		{
			"same body for both visitors",
			withBody(result(anon, 200, cachestatus.HIT, "Cache-Control: max-age=60", etag), hashA),
			withBody(result(loggedIn, 200, cachestatus.BYPASS, "Cache-Control: private"), hashA),
			[]string{}, []string{"same-body-logged-in:info"},
		},
		{
			"same body but different status",
			withBody(result(anon, 302, cachestatus.MISS, "Location: /login"), hashA),
			withBody(result(loggedIn, 200, cachestatus.BYPASS, "Cache-Control: private"), hashA),
			[]string{}, []string{},
		},
		{
			"body hash missing",
			result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag),
			withBody(result(loggedIn, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag), hashB),
			[]string{}, []string{},
		},
		{
			"logged-in probe failed",
			withBody(result(anon, 200, cachestatus.MISS, "Cache-Control: max-age=60", etag), hashA),
			&probe.Result{Variant: loggedIn, Error: "timeout", BodySHA256: hashB},
			[]string{}, []string{},
		},
		{
			"per-probe findings kept on both sides",
			withBody(result(anon, 200, cachestatus.MISS, "Cache-Control: public, max-age=60", "Set-Cookie: x"), hashA),
			withBody(result(loggedIn, 200, cachestatus.HIT, "Cache-Control: public, max-age=60", etag, "Age: 30"), hashB),
			[]string{"set-cookie-cacheable:error", "no-validator:info"},
			[]string{"logged-in-cached:error", "personalized-not-private:warn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAnon, gotIn := Pair(tt.anon, tt.loggedIn)
			if got := ids(gotAnon); !reflect.DeepEqual(got, tt.wantAnon) {
				t.Errorf("anonymous findings = %v, want %v", got, tt.wantAnon)
			}
			if got := ids(gotIn); !reflect.DeepEqual(got, tt.wantIn) {
				t.Errorf("logged-in findings = %v, want %v", got, tt.wantIn)
			}
		})
	}
}

func TestMaxSeverity(t *testing.T) {
	tests := []struct {
		in   []finding.Severity
		want finding.Severity
	}{
		{nil, ""},
		{[]finding.Severity{finding.Info}, finding.Info},
		{[]finding.Severity{finding.Info, finding.Error, finding.Warn}, finding.Error},
		{[]finding.Severity{finding.Warn, finding.Info}, finding.Warn},
		{[]finding.Severity{"bogus"}, ""},
	}
	for _, tt := range tests {
		var fs []finding.Finding
		for i, s := range tt.in {
			fs = append(fs, finding.Finding{ID: fmt.Sprint(i), Severity: s})
		}
		if got := MaxSeverity(fs); got != tt.want {
			t.Errorf("MaxSeverity(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkFindings(b *testing.B) {
	r := result(loggedIn, 200, cachestatus.HIT,
		"Content-Type: text/html; charset=utf-8",
		"Cache-Control: public, max-age=300, s-maxage=600, stale-while-revalidate=60, stale-if-error=86400",
		"CDN-Cache-Control: max-age=900",
		"Vary: Accept-Encoding, Cookie",
		`ETag: W/"5f3c-18b2a1"`,
		"Last-Modified: Sun, 16 Nov 2025 12:00:00 GMT",
		dateHdr,
		"Age: 1200",
		"Set-Cookie: x",
		"Server: cloudflare",
		"Cf-Cache-Status: HIT",
		"Cf-Ray: 8e1b2c3d4e5f6a7b-SJC",
		"Content-Length: 24412",
	)
	b.ReportAllocs()
	for b.Loop() {
		if fs := Findings(r); len(fs) == 0 {
			b.Fatal("no findings")
		}
	}
}
