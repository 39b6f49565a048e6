package report

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

func age(n int64) *int64 { return &n }

func ms(v float64) *float64 { return &v }

// sampleGroups covers a MISS → HIT sequence, a flagged logged-in probe, a
// multi-layer response, a redirect and a failed probe, with pinned timings.
func sampleGroups() []inspect.Group {
	article := "http://127.0.0.1:16081/articles/go-context-cancellation"
	return []inspect.Group{
		{Index: 0, URL: article, Probes: []probe.Result{
			{URL: article, Variant: probe.Anonymous, Seq: 1, Method: "GET", StatusCode: 200,
				Cache:        cachestatus.Result{Status: cachestatus.MISS, Source: "X-Cache", Raw: "MISS", Layers: []cachestatus.Layer{{Status: cachestatus.MISS, Raw: "MISS"}}, AgeS: age(0), CDN: "varnish"},
				CacheControl: "public, max-age=600", Vary: "Accept-Encoding", ETag: `"a1"`, BodyBytes: 2048,
				ServerTiming: servertiming.Set{"db": {Dur: ms(2.75), Desc: "2 queries", Part: servertiming.Database}, "app": {Dur: ms(3.1), Part: servertiming.Origin}},
				Timing:       probe.Timing{DNS: 0, Connect: 0.21, TTFB: 4.2, Total: 4.9}, Findings: []finding.Finding{}},
			{URL: article, Variant: probe.Anonymous, Seq: 2, Method: "GET", StatusCode: 200,
				Cache:        cachestatus.Result{Status: cachestatus.HIT, Source: "X-Cache", Raw: "HIT", Layers: []cachestatus.Layer{{Status: cachestatus.HIT, Raw: "HIT"}}, AgeS: age(1), CDN: "varnish"},
				CacheControl: "public, max-age=600", Vary: "Accept-Encoding", ETag: `"a1"`, BodyBytes: 2048,
				ServerTiming: servertiming.Set{"db": {Dur: ms(2.75), Desc: "2 queries", Part: servertiming.Database}, "app": {Dur: ms(3.1), Part: servertiming.Origin}},
				Timing:       probe.Timing{Connect: 0.18, TTFB: 0.9, Total: 1.2}, Findings: []finding.Finding{}},
		}},
		{Index: 1, URL: "http://127.0.0.1:16081/dashboard", Probes: []probe.Result{
			{URL: "http://127.0.0.1:16081/dashboard", Variant: probe.LoggedIn, Method: "GET", StatusCode: 200,
				Cache:        cachestatus.Result{Status: cachestatus.HIT, Source: "X-Cache", Raw: "HIT", Layers: []cachestatus.Layer{{Status: cachestatus.HIT, Raw: "HIT"}}, AgeS: age(3), CDN: "varnish"},
				CacheControl: "public, max-age=120", SetCookie: true, RequestHeaders: map[string]string{"Cookie": "sessionid=REDACTED"},
				Timing: probe.Timing{Connect: 0.2, TTFB: 1.1, Total: 1.4},
				Findings: []finding.Finding{
					{ID: "logged-in-cached", Severity: finding.Error, Message: "the logged-in response came from a shared cache (X-Cache: HIT, Age: 3)"},
					{ID: "set-cookie-cacheable", Severity: finding.Error, Message: "Set-Cookie on a response a shared cache may store"},
				}},
		}},
		{Index: 2, URL: "https://www.example.com/", Probes: []probe.Result{
			{URL: "https://www.example.com/", Variant: probe.Anonymous, Method: "GET", StatusCode: 200,
				Cache: cachestatus.Result{Status: cachestatus.HIT, Source: "X-Cache", Raw: "MISS, HIT", CDN: "fastly", Layers: []cachestatus.Layer{
					{Name: "cache-iad2120-IAD", Status: cachestatus.MISS, Raw: "MISS"}, {Name: "cache-sjc3120-SJC", Status: cachestatus.HIT, Raw: "HIT"}}},
				CacheControl: "max-age=60", CDNCacheControl: map[string]string{"Surrogate-Control": "max-age=3600"},
				ServerTiming: servertiming.Set{
					"cfCacheStatus": {Desc: "HIT", Part: servertiming.Cache, CDN: "cloudflare"},
					"cfEdge":        {Dur: ms(3), Part: servertiming.Edge, CDN: "cloudflare"},
					"cfOrigin":      {Dur: ms(0), Part: servertiming.Origin, CDN: "cloudflare"},
					"cfL4":          {Desc: "?proto=TCP&rtt=13312&min_rtt=12887&rtt_var=5014&sent=6", Part: servertiming.Network, CDN: "cloudflare"},
				},
				Timing: probe.Timing{DNS: 12.5, Connect: 20.1, TLS: 31.7, TTFB: 80, Total: 1234.5}, Findings: []finding.Finding{{ID: "no-validator", Severity: finding.Info, Message: "no ETag or Last-Modified"}}},
		}},
		{Index: 3, URL: "http://127.0.0.1:16081/redirect-me", Probes: []probe.Result{
			{URL: "http://127.0.0.1:16081/redirect-me", Variant: probe.Anonymous, Method: "GET", StatusCode: 301, Location: "/",
				Cache: cachestatus.Result{Status: cachestatus.MISS, Source: "X-Cache", Raw: "MISS"}, Timing: probe.Timing{TTFB: 2, Total: 2.1}, Findings: []finding.Finding{}},
		}},
		{Index: 4, URL: "http://127.0.0.1:1/down", Probes: []probe.Result{
			{URL: "http://127.0.0.1:1/down", Variant: probe.Anonymous, Method: "GET", Error: "connection to 127.0.0.1:1 failed: connect: connection refused",
				Cache: cachestatus.Result{Status: cachestatus.UNKNOWN, Layers: []cachestatus.Layer{}}, Timing: probe.Timing{Total: 0.4}, Findings: []finding.Finding{}},
		}, Unreached: nil},
	}
}

func writeInspect(t *testing.T, f Format, style Style) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewInspectWriter(f, &buf, InspectOptions{
		Style:          style,
		RequestHeaders: map[string]string{"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br, zstd", "User-Agent": "cachectl"},
		URLWidth:       len("http://127.0.0.1:16081/articles/go-context-cancellation"),
		Fresh:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum InspectSummary
	for _, g := range sampleGroups() {
		sum.Add(g)
		if err := w.Group(g); err != nil {
			t.Fatal(err)
		}
	}
	sum.ElapsedMS = 1500
	if err := w.Close(sum); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInspectGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     Format
		style Style
	}{
		{"inspect_table", Table, Style{}},
		{"inspect_table_color", Table, Style{Color: true}},
		{"inspect_json", JSON, Style{}},
		{"inspect_jsonl", JSONL, Style{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, writeInspect(t, tc.f, tc.style))
		})
	}
}

// TestInspectJSONLFields checks the fields scripts rely on (DESIGN.md) on every line.
func TestInspectJSONLFields(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(writeInspect(t, JSONL, Style{})), []byte("\n"))
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want one per probe (6)", len(lines))
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range []string{"url", "variant", "status_code", "cache", "cache_control", "vary", "set_cookie", "timing_ms", "findings"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
		cache := m["cache"].(map[string]any)
		for _, k := range []string{"status", "source", "layers", "age_s"} {
			if _, ok := cache[k]; !ok {
				t.Errorf("line %d lacks cache.%s", i+1, k)
			}
		}
		timing := m["timing_ms"].(map[string]any)
		for _, k := range []string{"dns", "connect", "tls", "ttfb", "total"} {
			if _, ok := timing[k]; !ok {
				t.Errorf("line %d lacks timing_ms.%s", i+1, k)
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	if _, err := ParseFormat("xml", Table, JSON); err == nil || err.Error() != `unknown output format "xml" (expected one of: table, json)` {
		t.Errorf("got %v", err)
	}
	if f, err := ParseFormat("JSONL", JSONL); err != nil || f != JSONL {
		t.Errorf("got %v %v", f, err)
	}
	_ = http.StatusOK
}
