package configfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/textdiff"
	"github.com/cachectl/cachectl/pkg/verify"
)

func observed(e config.Expectation, summary string, warnings ...string) verify.Observed {
	return verify.Observed{Expect: &e, Summary: summary, Warnings: warnings}
}

func cached(ttl int64) config.Expectation {
	return config.Expectation{Status: new(200), Cache: verify.CachedFamily, MinMaxAge: new(ttl), MaxMaxAge: new(ttl), FailOnFindings: "error"}
}

var private = config.Expectation{Status: new(200), Cache: verify.UncachedFamily, Private: new(true), FailOnFindings: "error"}

// load checks that src is a valid configuration.
func load(t *testing.T, src []byte) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cachectl.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{File: path})
	if err != nil {
		t.Fatalf("the written file does not load: %v\n%s", err, src)
	}
	return cfg
}

func TestRecord(t *testing.T) {
	src, err := os.ReadFile("testdata/record.yaml")
	if err != nil {
		t.Fatal(err)
	}
	both := func(path string, a, l config.Expectation) Route {
		return Route{Path: path, Variants: []Variant{
			{Variant: probe.Anonymous, Observed: observed(a, "")}, {Variant: probe.LoggedIn, Observed: observed(l, "")},
		}}
	}
	routes := []Route{
		both("/feed.xml", cached(300), private),
		both("/", cached(600), private),
		{Path: "/articles/a", Variants: []Variant{{Variant: probe.Anonymous, Observed: observed(cached(60), "")}, {Variant: probe.LoggedIn, Keep: true}}},
	}
	changes, err := Record(src, routes)
	if err != nil {
		t.Fatal(err)
	}
	out := Apply(src, changes)
	golden.Check(t, "record", out)
	cfg := load(t, out)
	if got := cfg.Routes[3].Expect.Anonymous; got == nil || *got.Status != 404 {
		t.Errorf("a route not recorded changed: %+v", got)
	}
	var diff strings.Builder
	for _, h := range textdiff.Hunks(textdiff.SplitLines(string(src)), changes, 1) {
		diff.WriteString(h.Header() + "\n")
		for _, l := range h.Lines {
			diff.WriteString(string(l.Kind) + l.Text + "\n")
		}
	}
	golden.Check(t, "record_diff", []byte(diff.String()))

	again, err := Record(out, routes)
	if err != nil || len(again) != 0 {
		t.Errorf("recording the same behaviour again: %d changes, %v; want none", len(again), err)
	}
	if _, err := Record(src, []Route{both("/nope", private, private)}); err == nil || !strings.Contains(err.Error(), `no route with path "/nope"`) {
		t.Errorf("unknown route: %v", err)
	}
}

func TestNew(t *testing.T) {
	site := Site{
		File: "cachectl.yaml", Env: "production", BaseURL: "https://www.example.com",
		Session: &config.Session{Cookie: "sessionid", ValueEnv: "SITE_SESSION"},
		CDN:     GuessCDN("varnish", "X-Cache", "https://www.example.com/"),
		Source:  "the paths given and 2 of 40 pages of the sitemap (seed 1)",
		Routes: []Route{
			{Path: "/", Variants: []Variant{
				{Variant: probe.Anonymous, Observed: observed(cached(600), "HIT (X-Cache: HIT), 200, Cache-Control: public, max-age=600")},
				{Variant: probe.LoggedIn, Observed: observed(private, "MISS (X-Cache: MISS), 200, Cache-Control: private")},
			}},
			{Path: "/a: b #c", Variants: []Variant{
				{Variant: probe.Anonymous, Observed: observed(config.Expectation{Status: new(200), Cache: verify.CachedFamily}, "HIT\n# injected: true", "logged-in-cached: served from a shared cache")},
			}},
		},
		Skipped: []Skipped{{Path: "/slow", Reason: "timeout after 10s"}},
	}
	for _, tt := range []struct {
		name string
		cdn  CDN
	}{
		{"init", site.CDN},
		{"init_cloudflare", GuessCDN("cloudflare", "cf-cache-status", "https://www.example.com")},
		{"init_unknown", GuessCDN("", "", "https://www.example.com")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := site
			s.CDN = tt.cdn
			out, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name, out)
			cfg := load(t, out)
			if got := cfg.Routes[1].Path; got != "/a: b #c" {
				t.Errorf("path read back as %q", got)
			}
		})
	}
}

// FuzzRecord: whatever the file holds, recording a route neither panics
// nor changes a line outside the changes it reports.
func FuzzRecord(f *testing.F) {
	if src, err := os.ReadFile("testdata/record.yaml"); err == nil {
		f.Add(string(src))
	}
	f.Add("routes:\n- {path: /, expect: {anonymous: {status: 200}}}\n")
	f.Add("routes:\n  - path: /\n    expect:\n\t\tanonymous: {}\n")
	f.Add("routes:\n- expect: {anonymous: {status: 200},\n    logged_in: {private: true}}\n  path: /\n")
	route := Route{Path: "/", Variants: []Variant{{Variant: probe.Anonymous, Observed: observed(cached(60), "")}, {Variant: probe.LoggedIn, Keep: true}}}
	f.Fuzz(func(t *testing.T, src string) {
		changes, err := Record([]byte(src), []Route{route})
		if err != nil {
			return
		}
		lines := textdiff.SplitLines(src)
		at := 0
		for _, c := range changes {
			if c.Start < at || c.End < c.Start || c.End > len(lines) {
				t.Fatalf("change %+v out of order or outside the file's %d lines", c, len(lines))
			}
			at = c.End
		}
		_ = Apply([]byte(src), changes)
	})
}
