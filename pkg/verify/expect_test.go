package verify

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

var testNow = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// response builds a probe result the way probe.Prober fills one.
func response(code int, cache cachestatus.Status, ttfb float64, header ...string) *probe.Result {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	return &probe.Result{
		StatusCode: code, Cache: cachestatus.Result{Status: cache, Source: "X-Cache", Raw: string(cache)},
		CacheControl: h.Get("Cache-Control"), Vary: h.Get("Vary"), SetCookie: h.Get("Set-Cookie") != "",
		Timing: probe.Timing{TTFB: ttfb}, Header: h, Findings: []finding.Finding{},
	}
}

func withServerTiming(r *probe.Result, s servertiming.Set) *probe.Result {
	r.ServerTiming = s
	return r
}

func TestEvaluate(t *testing.T) {
	dashboard := response(200, cachestatus.HIT, 0.8, "Cache-Control", "public, max-age=120", "X-Cache", "HIT", "Vary", "Accept-Encoding")
	dashboard.Findings = []finding.Finding{{ID: "logged-in-cached", Severity: finding.Error}, {ID: "no-validator", Severity: finding.Info}}
	tests := []struct {
		name   string
		expect *config.Expectation
		r      *probe.Result
		want   []Outcome
	}{
		{
			name:   "no expectation: findings at error",
			expect: nil,
			r:      dashboard,
			want:   []Outcome{{CheckFindings, false, "no finding at or above error", "error logged-in-cached"}},
		},
		{
			name:   "empty expectation gets the same safety net",
			expect: &config.Expectation{},
			r:      response(200, cachestatus.HIT, 1, "Cache-Control", "max-age=60"),
			want:   []Outcome{{CheckFindings, true, "no finding at or above error", "none"}},
		},
		{
			name:   "status and cache pass",
			expect: &config.Expectation{Status: ptr(200), Cache: []string{"hit", "MISS"}},
			r:      response(200, cachestatus.HIT, 1, "Cache-Control", "max-age=60"),
			want: []Outcome{
				{CheckStatus, true, "200", "200"},
				{CheckCache, true, "one of HIT, MISS", "HIT (X-Cache: HIT)"},
			},
		},
		{
			name:   "logged-in dashboard served from cache",
			expect: &config.Expectation{Status: ptr(200), Cache: []string{"BYPASS", "MISS", "DYNAMIC"}, Private: ptr(true)},
			r:      dashboard,
			want: []Outcome{
				{CheckStatus, true, "200", "200"},
				{CheckCache, false, "one of BYPASS, MISS, DYNAMIC", "HIT (X-Cache: HIT)"},
				{CheckPrivate, false, "Cache-Control: private", "Cache-Control: public, max-age=120"},
			},
		},
		{
			name:   "private=false forbids private; qualified private does not count",
			expect: &config.Expectation{Private: ptr(false)},
			r:      response(200, cachestatus.HIT, 1, "Cache-Control", `private="Set-Cookie", max-age=60`),
			want:   []Outcome{{CheckPrivate, true, "Cache-Control without private", `Cache-Control: private="Set-Cookie", max-age=60`}},
		},
		{
			name:   "no_store",
			expect: &config.Expectation{NoStore: ptr(true)},
			r:      response(200, cachestatus.MISS, 1),
			want:   []Outcome{{CheckNoStore, false, "Cache-Control: no-store", "no Cache-Control"}},
		},
		{
			name:   "lifetime from s-maxage beats max-age",
			expect: &config.Expectation{MinMaxAge: ptr(int64(300)), MaxMaxAge: ptr(int64(3600))},
			r:      response(200, cachestatus.HIT, 1, "Cache-Control", "max-age=60, s-maxage=600"),
			want: []Outcome{
				{CheckMinMaxAge, true, "shared-cache lifetime ≥ 300 s", "600 s (Cache-Control: s-maxage=600)"},
				{CheckMaxMaxAge, true, "shared-cache lifetime ≤ 3600 s", "600 s (Cache-Control: s-maxage=600)"},
			},
		},
		{
			name:   "lifetime from CDN-Cache-Control beats Cache-Control",
			expect: &config.Expectation{MaxMaxAge: ptr(int64(60))},
			r:      response(200, cachestatus.HIT, 1, "Cache-Control", "max-age=30", "CDN-Cache-Control", "max-age=86400"),
			want:   []Outcome{{CheckMaxMaxAge, false, "shared-cache lifetime ≤ 60 s", "86400 s (CDN-Cache-Control: max-age=86400)"}},
		},
		{
			name:   "lifetime from Expires",
			expect: &config.Expectation{MinMaxAge: ptr(int64(60))},
			r:      response(200, cachestatus.HIT, 1, "Date", "Fri, 14 Mar 2025 09:00:00 GMT", "Expires", "Fri, 14 Mar 2025 09:00:30 GMT"),
			want:   []Outcome{{CheckMinMaxAge, false, "shared-cache lifetime ≥ 60 s", "30 s (Expires − Date)"}},
		},
		{
			name:   "ttfb",
			expect: &config.Expectation{MaxTTFBMs: ptr(300.0)},
			r:      response(200, cachestatus.MISS, 412.5),
			want:   []Outcome{{CheckMaxTTFB, false, "TTFB ≤ 300 ms", "412.5 ms"}},
		},
		{
			name: "headers",
			expect: &config.Expectation{Headers: &config.HeaderExpect{
				Present: []string{"x-cache", "ETag"}, Absent: []string{"set-cookie"},
				Equal: map[string]string{"vary": "Accept-Encoding"}, Match: map[string]string{"cache-control": `^public, max-age=\d+$`},
			}},
			r: response(200, cachestatus.HIT, 1, "Cache-Control", "public, max-age=120", "X-Cache", "HIT", "Vary", "Accept-Encoding", "Set-Cookie", "REDACTED"),
			want: []Outcome{
				{"headers.present:Etag", false, "Etag present", "Etag absent"},
				{"headers.present:X-Cache", true, "X-Cache present", "X-Cache: HIT"},
				{"headers.absent:Set-Cookie", false, "Set-Cookie absent", "Set-Cookie: REDACTED"},
				{"headers.equal:Vary", true, "Vary: Accept-Encoding", "Vary: Accept-Encoding"},
				{"headers.match:Cache-Control", true, `Cache-Control matching ^public, max-age=\d+$`, "Cache-Control: public, max-age=120"},
			},
		},
		{
			name: "server timing: bounds and presence, names matched ignoring case",
			expect: &config.Expectation{ServerTiming: map[string]config.ServerTimingExpect{
				"db":       {MaxMs: ptr(50.0)},
				"app":      {MaxMs: ptr(10.0), Present: ptr(true)},
				"cforigin": {Present: ptr(true)},
				"debug":    {Present: ptr(false)},
				"cache":    {MaxMs: ptr(5.0)},
			}},
			r: withServerTiming(response(200, cachestatus.MISS, 1), servertiming.Set{
				"db":    {Dur: ptr(12.4), Desc: "3 queries"},
				"app":   {Dur: ptr(31.0)},
				"cache": {Desc: "MISS"},
			}),
			want: []Outcome{
				{"server_timing.present:app", true, "app in Server-Timing", "app 31 ms"},
				{"server_timing.max_ms:app", false, "app ≤ 10 ms", "app 31 ms"},
				{"server_timing.max_ms:cache", false, "cache ≤ 5 ms", "cache without a duration"},
				{"server_timing.present:cforigin", false, "cforigin in Server-Timing", "cforigin absent (Server-Timing has app, cache, db)"},
				{"server_timing.max_ms:db", true, "db ≤ 50 ms", "db 12.4 ms (3 queries)"},
				{"server_timing.present:debug", true, "debug not in Server-Timing", "debug absent (Server-Timing has app, cache, db)"},
			},
		},
		{
			name:   "server timing bound on a response without the header",
			expect: &config.Expectation{ServerTiming: map[string]config.ServerTimingExpect{"db": {MaxMs: ptr(50.0)}}},
			r:      response(200, cachestatus.HIT, 1),
			want:   []Outcome{{"server_timing.max_ms:db", false, "db ≤ 50 ms", "no Server-Timing"}},
		},
		{
			name:   "findings threshold warn ignores info",
			expect: &config.Expectation{FailOnFindings: "warn"},
			r:      dashboard,
			want:   []Outcome{{CheckFindings, false, "no finding at or above warn", "error logged-in-cached"}},
		},
		{
			name:   "unreachable yields one failed check",
			expect: &config.Expectation{Status: ptr(200), Cache: []string{"HIT"}},
			r:      &probe.Result{Error: "connection to 127.0.0.1:1 failed: connection refused"},
			want:   []Outcome{{CheckReachable, false, "a response", "connection to 127.0.0.1:1 failed: connection refused"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := Compile(tt.expect)
			if err != nil {
				t.Fatalf("Compile() error = %v", err)
			}
			got := cl.Evaluate(tt.r, testNow)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Evaluate() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name   string
		expect *config.Expectation
	}{
		{"bad status", &config.Expectation{Cache: []string{"WARM"}}},
		{"bad regexp", &config.Expectation{Headers: &config.HeaderExpect{Match: map[string]string{"x": "("}}}},
		{"bad severity", &config.Expectation{FailOnFindings: "fatal"}},
	}
	for _, tt := range tests {
		if _, err := Compile(tt.expect); err == nil {
			t.Errorf("%s: Compile() accepted an invalid expectation", tt.name)
		}
	}
}

// TestNeedsFindings: only a findings check (fail_on_findings, or the check
// a route without expectations gets) makes probes worth analyzing, and
// only a server_timing expectation makes Server-Timing worth reading for
// the checks; either only for the variants probed.
func TestNeedsFindings(t *testing.T) {
	withFindings := &config.Expectation{FailOnFindings: "warn"}
	without := &config.Expectation{Status: ptr(200)}
	timed := &config.Expectation{ServerTiming: map[string]config.ServerTimingExpect{"db": {MaxMs: ptr(50.0)}}}
	both := []probe.Variant{probe.Anonymous, probe.LoggedIn}
	for _, tt := range []struct {
		name                    string
		cfg                     config.Config
		variants                []probe.Variant
		wantFindings, wantTimed bool
	}{
		{"no expectations anywhere", config.Config{}, []probe.Variant{probe.Anonymous}, true, false},
		{"defaults without findings", config.Config{Defaults: config.Defaults{Expect: config.Expectations{Anonymous: without}}}, []probe.Variant{probe.Anonymous}, false, false},
		{"the logged-in default counts only when probed", config.Config{Defaults: config.Defaults{Expect: config.Expectations{Anonymous: without}}}, both, true, false},
		{"one route with fail_on_findings", config.Config{
			Defaults: config.Defaults{Expect: config.Expectations{Anonymous: without}},
			Routes:   []config.Route{{Path: "/a", Expect: config.Expectations{Anonymous: withFindings}}},
		}, []probe.Variant{probe.Anonymous}, true, false},
		{"anonymous server_timing", config.Config{Defaults: config.Defaults{Expect: config.Expectations{Anonymous: timed}}}, []probe.Variant{probe.Anonymous}, false, true},
		{"logged-in server_timing, not probed", config.Config{Defaults: config.Defaults{Expect: config.Expectations{Anonymous: without, LoggedIn: timed}}}, []probe.Variant{probe.Anonymous}, false, false},
		{"logged-in server_timing, probed", config.Config{Defaults: config.Defaults{Expect: config.Expectations{Anonymous: without, LoggedIn: timed}}}, both, false, true},
	} {
		env := &config.Environment{Name: "local", BaseURL: "https://www.example.com"}
		p, err := NewPlanner(&tt.cfg, env)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.NeedsFindings(tt.variants); got != tt.wantFindings {
			t.Errorf("%s: NeedsFindings = %v, want %v", tt.name, got, tt.wantFindings)
		}
		if got := p.NeedsServerTiming(tt.variants); got != tt.wantTimed {
			t.Errorf("%s: NeedsServerTiming = %v, want %v", tt.name, got, tt.wantTimed)
		}
	}
}

func TestPlannerDefaults(t *testing.T) {
	cfg := &config.Config{
		Environments: map[string]*config.Environment{"production": {Name: "production", BaseURL: "https://www.example.com"}},
		Routes: []config.Route{
			{Path: "/", Owner: "web-team", Rollback: "purge /", Expect: config.Expectations{Anonymous: &config.Expectation{Status: ptr(200)}}},
		},
		Defaults: config.Defaults{Expect: config.Expectations{Anonymous: &config.Expectation{Cache: []string{"HIT"}}}},
	}
	p, err := NewPlanner(cfg, cfg.Environments["production"])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		route, wantURL, wantOwner string
		wantAnon, wantLogged      []string
	}{
		{"/", "https://www.example.com/", "web-team", []string{CheckStatus}, []string{CheckFindings}},
		{"/other?page=2", "https://www.example.com/other?page=2", "", []string{CheckCache}, []string{CheckFindings}},
	}
	for _, tt := range tests {
		got, err := p.Target(3, tt.route)
		if err != nil {
			t.Fatalf("Target(%q) error = %v", tt.route, err)
		}
		if got.URL != tt.wantURL || got.Owner != tt.wantOwner || got.Index != 3 {
			t.Errorf("Target(%q) = %s %q #%d, want %s %q #3", tt.route, got.URL, got.Owner, got.Index, tt.wantURL, tt.wantOwner)
		}
		if a, l := got.Anonymous.Names(), got.LoggedIn.Names(); !slices.Equal(a, tt.wantAnon) || !slices.Equal(l, tt.wantLogged) {
			t.Errorf("Target(%q) checks = %v / %v, want %v / %v", tt.route, a, l, tt.wantAnon, tt.wantLogged)
		}
	}
}

// TestUnknownCacheCannotProve: a cache check against an answer whose
// cache status cannot be read says so, and how the cache that answered
// reports one; a route that allows UNKNOWN passes as before.
func TestUnknownCacheCannotProve(t *testing.T) {
	tests := []struct {
		server, want string
	}{
		{"nginx/1.22.1", "nginx: add_header X-Cache-Status $upstream_cache_status always;"},
		{"ATS/9.2.9", "Traffic Server: set proxy.config.http.insert_response_via_str to 2"},
		{"uvicorn", "--cache-header"},
	}
	for _, tt := range tests {
		r := response(200, cachestatus.UNKNOWN, 1, "Server", tt.server)
		r.Cache = cachestatus.Result{Status: cachestatus.UNKNOWN}
		cl, err := Compile(&config.Expectation{Cache: []string{"HIT", "MISS"}})
		if err != nil {
			t.Fatal(err)
		}
		got := cl.Evaluate(r, testNow)
		if len(got) != 1 || got[0].Passed || !strings.Contains(got[0].Actual, "UNKNOWN: cannot prove what the cache did") || !strings.Contains(got[0].Actual, tt.want) {
			t.Errorf("Server %s: outcomes %+v, want a failure saying it cannot prove and %q", tt.server, got, tt.want)
		}
	}
	cl, err := Compile(&config.Expectation{Cache: []string{"UNKNOWN"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.Evaluate(response(200, cachestatus.UNKNOWN, 1), testNow); !got[0].Passed {
		t.Errorf("cache: [UNKNOWN] against UNKNOWN = %+v, want passed", got)
	}
}
