package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
	"github.com/cachectl/cachectl/pkg/measure"
)

// cacheSite is a loopback site that answers like a cache in front of an
// origin: the first request for a URL (path and query) is a MISS that
// takes the origin's delay and reports it in Server-Timing, later ones
// are HITs; /never-hit is never stored.
type cacheSite struct {
	*httptest.Server
	delay    atomic.Int64 // the origin's time, in microseconds
	requests atomic.Int64
	seen     sync.Map
}

func newCacheSite(t *testing.T, delay time.Duration) *cacheSite {
	t.Helper()
	c := &cacheSite{}
	c.delay.Store(delay.Microseconds())
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		w.Header().Set("Cache-Control", "public, max-age=600")
		if _, stored := c.seen.LoadOrStore(r.URL.RequestURI(), true); stored && r.URL.Path != "/never-hit" {
			w.Header().Set("X-Cache", "HIT")
			w.Header().Set("Server-Timing", "db;dur=0.1")
			return
		}
		d := time.Duration(c.delay.Load()) * time.Microsecond
		time.Sleep(d)
		w.Header().Set("X-Cache", "MISS")
		w.Header().Set("Server-Timing", fmt.Sprintf(`db;dur=%.3f;desc="1 query"`, float64(d.Microseconds())/1000))
	}))
	t.Cleanup(c.Close)
	return c
}

// writeDoc writes a measure document with one cold run for compare.
func writeDoc(t *testing.T, name string, version int, ttfbs ...float64) string {
	t.Helper()
	doc := fmt.Sprintf(`{"format_version": %d, "samples": %d, "bust": "query", "runs": [{"url": "http://127.0.0.1/a", "variant": "anonymous", "state": "cold", "samples": [`, version, len(ttfbs))
	for i, v := range ttfbs {
		if i > 0 {
			doc += ","
		}
		doc += fmt.Sprintf(`{"ttfb_ms": %g, "total_ms": %g, "status_code": 200, "cache_status": "MISS"}`, v, v+1)
	}
	return writeFile(t, name, doc+`], "discarded": 0}]}`)
}

func TestMeasureFlags(t *testing.T) {
	o := newCacheSite(t, 0)
	cfg := writeConfig(t, o.URL)
	purgeCfg := writeFile(t, "purge.yaml", fmt.Sprintf("environments:\n  production:\n    base_url: %s\n    cdn: {provider: http-purge, endpoints: [%s]}\n", o.URL, o.URL))
	def := func(mod func(*MeasureOptions)) *MeasureOptions {
		opts := &MeasureOptions{Targets: []string{"/a"}, Samples: 20, State: "both", Bust: "query", BustParam: "cachectl-bust", As: "anonymous"}
		mod(opts)
		return opts
	}
	cases := []parseCase[MeasureOptions]{
		{name: "defaults", env: "production", args: []string{"/a"}, want: def(func(*MeasureOptions) {})},
		{name: "every flag", env: "production", args: []string{
			"--samples", "12", "--state", "cold", "--bust", "query", "--bust-param", "v", "--as", "both",
			"-H", "X-A: 1", "--cache-header", "X-Edge", "--cookie-env", "ALT_SESSION", "/a", "/b",
		}, want: def(func(m *MeasureOptions) {
			m.Targets, m.Samples, m.State, m.BustParam, m.As = []string{"/a", "/b"}, 12, "cold", "v", "both"
			m.Headers, m.CacheHeaders, m.CookieEnv = []string{"X-A: 1"}, []string{"X-Edge"}, "ALT_SESSION"
		})},
		{name: "full URL without an environment", args: []string{o.URL + "/a"}, want: def(func(m *MeasureOptions) { m.Targets = []string{o.URL + "/a"} })},

		{name: "no target", env: "production", code: ExitUsage, wantErr: "measure: no URL or path given"},
		{name: "samples 0", env: "production", args: []string{"--samples", "0", "/a"}, code: ExitUsage, wantErr: "--samples 0: expected 1 to 1000"},
		{name: "samples 1001", env: "production", args: []string{"--samples", "1001", "/a"}, code: ExitUsage, wantErr: "--samples 1001: expected 1 to 1000"},
		{name: "state lukewarm", env: "production", args: []string{"--state", "lukewarm", "/a"}, code: ExitUsage, wantErr: `--state "lukewarm": expected cold, warm or both`},
		{name: "bust by header", env: "production", args: []string{"--bust", "header", "/a"}, code: ExitUsage, wantErr: `--bust "header": expected query or purge`},
		{name: "bust parameter with a space", env: "production", args: []string{"--bust-param", "a b", "/a"}, code: ExitUsage, wantErr: `--bust-param "a b": expected a query parameter name`},
		{name: "as admin", env: "production", args: []string{"--as", "admin", "/a"}, code: ExitUsage, wantErr: `--as "admin": expected anonymous, logged-in or both`},
		{name: "logged-in without a session", env: "nosession", args: []string{"--as", "logged-in", "/a"}, code: ExitUsage, wantErr: `--as logged-in: environment "nosession" has no session`},
		{name: "session variable unset", env: "production", vars: map[string]string{}, args: []string{"--as", "both", "/a"}, code: ExitUsage, wantErr: "names variable TEST_SESSION, which is not set"},
		{name: "session to another host", env: "production", args: []string{"--as", "both", "http://other.invalid/x"}, code: ExitUsage, wantErr: "the session cookie is only sent to the environment's own hosts"},
		{name: "purge without an environment", args: []string{"--bust", "purge", o.URL + "/a"}, code: ExitUsage, wantErr: "--bust purge needs --env NAME for an environment with a cdn.provider"},
		{name: "purge without a provider", env: "production", args: []string{"--bust", "purge", "/a"}, code: ExitUsage, wantErr: "--bust purge needs --env NAME for an environment with a cdn.provider"},
		{name: "credentials in a header", env: "production", args: []string{"-H", "Authorization: Bearer x", "/a"}, code: ExitUsage, wantErr: "credentials are never taken from the command line"},
		{name: "a path without an environment", args: []string{"/a"}, code: ExitUsage, wantErr: "--env may name: nosession, production"},
		{name: "unknown environment", env: "prod", args: []string{"/a"}, code: ExitUsage, wantErr: `unknown environment "prod"`},
	}
	deps := func(o *MeasureOptions) *cmdDeps { return &o.cmdDeps }
	plan := func(o *MeasureOptions) error {
		_, err := planMeasure(o)
		return err
	}
	runParseCases(t, cfg, cases, newCmdMeasure, deps, plan)
	runParseCases(t, purgeCfg, []parseCase[MeasureOptions]{
		{name: "purge through the environment's provider", env: "production", args: []string{"--bust", "purge", "/a"}, want: def(func(m *MeasureOptions) { m.Bust = "purge" })},
		{name: "purge of a URL outside the environment", env: "production", args: []string{"--bust", "purge", "http://other.example/a"}, code: ExitUsage, wantErr: `--bust purge: purge: http://other.example/a is outside environment "production"`},
	}, newCmdMeasure, deps, plan)
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

// TestMeasurePlanDeduplicates: a route named twice is measured once.
func TestMeasurePlanDeduplicates(t *testing.T) {
	cfg := writeConfig(t, "http://127.0.0.1:1")
	f := flagFactory(t, cfg, "nosession", nil)
	p, err := planMeasure(&MeasureOptions{cmdDeps: f.deps(), Targets: []string{"/a", "/b", "/a"}, Samples: 1, State: "warm", Bust: "query", BustParam: "b", As: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.urls) != 2 || p.urls[0] != "http://127.0.0.1:1/a" || len(p.states) != 1 || p.states[0] != measure.Warm {
		t.Errorf("plan urls %v, states %v", p.urls, p.states)
	}
}

func TestCompareFlags(t *testing.T) {
	old, new := writeDoc(t, "old.json", 1, 5, 6, 7), writeDoc(t, "new.json", 1, 5, 6, 7)
	inspectOut := writeFile(t, "inspect.json", `{"probes": [], "summary": {}}`)
	v2 := writeDoc(t, "v2.json", 2, 5)
	def := func(mod func(*CompareOptions)) *CompareOptions {
		opts := &CompareOptions{Old: old, New: new, Alpha: 0.05, MinDeltaPct: 10, MinDeltaMs: 2}
		mod(opts)
		return opts
	}
	cases := []parseCase[CompareOptions]{
		{name: "defaults", args: []string{old, new}, want: def(func(*CompareOptions) {})},
		{name: "every flag", args: []string{"--alpha", "0.01", "--min-delta-pct", "5", "--min-delta-ms", "0.5", old, new}, want: def(func(c *CompareOptions) {
			c.Alpha, c.MinDeltaPct, c.MinDeltaMs = 0.01, 5, 0.5
		})},
		{name: "one file", args: []string{old}, code: ExitUsage, wantErr: "compare: expected two files, OLD.json and NEW.json"},
		{name: "three files", args: []string{old, new, new}, code: ExitUsage, wantErr: "got 3"},
		{name: "alpha 0", args: []string{"--alpha", "0", old, new}, code: ExitUsage, wantErr: "--alpha 0: expected a probability between 0 and 1"},
		{name: "alpha 1", args: []string{"--alpha", "1", old, new}, code: ExitUsage, wantErr: "--alpha 1: expected a probability"},
		{name: "negative percent", args: []string{"--min-delta-pct", "-1", old, new}, code: ExitUsage, wantErr: "--min-delta-pct -1: expected a percentage ≥ 0"},
		{name: "negative milliseconds", args: []string{"--min-delta-ms", "-1", old, new}, code: ExitUsage, wantErr: "--min-delta-ms -1: expected milliseconds ≥ 0"},
		{name: "a missing file", args: []string{old, "/nonexistent/new.json"}, code: ExitUsage, wantErr: "compare: /nonexistent/new.json cannot be read: no such file or directory"},
		{name: "not measure output", args: []string{inspectOut, new}, code: ExitUsage, wantErr: "cannot be compared: not the JSON output of cachectl measure -o json"},
		{name: "another format version", args: []string{old, v2}, code: ExitUsage, wantErr: "cannot be compared: format version 2, this cachectl reads version 1"},
	}
	runParseCases(t, "", cases, newCmdCompare, func(o *CompareOptions) *cmdDeps { return &o.cmdDeps }, func(o *CompareOptions) error {
		_, err := planCompare(o)
		return err
	})
}

// TestMeasureThenCompareExitCodes runs the workflow against a site whose
// origin can be slowed down: exit 0 for a full measurement and an
// unchanged or better comparison, 1 for a regression or a run short of
// its samples, 2 for files that cannot be compared, 3 when requests fail.
func TestMeasureThenCompareExitCodes(t *testing.T) {
	site := newCacheSite(t, 2*time.Millisecond)
	dir := t.TempDir()
	measureTo := func(name string, args ...string) (int, string) {
		t.Helper()
		code, out, stderr := run(t, nil, append([]string{"measure", "-o", "json", "--samples", "8"}, args...)...)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		return code, path + "\x00" + stderr
	}
	code, fast := measureTo("fast.json", site.URL+"/a")
	if code != ExitOK {
		t.Fatalf("measure: exit %d: %s", code, fast)
	}
	site.delay.Store((40 * time.Millisecond).Microseconds())
	code, slow := measureTo("slow.json", site.URL+"/a")
	if code != ExitOK {
		t.Fatalf("measure: exit %d: %s", code, slow)
	}
	fast, slow = strings.Split(fast, "\x00")[0], strings.Split(slow, "\x00")[0]
	for _, tt := range []struct {
		name     string
		old, new string
		code     int
		stderr   string
	}{
		{"a slower origin is a regression", fast, slow, ExitCheckFailed, "compare: 3 metrics regressed"},
		{"a faster origin is not", slow, fast, ExitOK, ""},
		{"the same file", fast, fast, ExitOK, ""},
		{"not a measurement", fast, writeFile(t, "x.json", "{}"), ExitUsage, "cannot be compared"},
	} {
		code, _, stderr := run(t, nil, "compare", tt.old, tt.new)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d (%q), want %d with %q", tt.name, code, stderr, tt.code, tt.stderr)
		}
	}
	if code, out := measureTo("short.json", "--state", "warm", site.URL+"/never-hit"); code != ExitCheckFailed || !strings.Contains(out, "0 kept, 16 discarded (16 MISS; expected HIT)") {
		t.Errorf("a route that is never a hit: exit %d, want 1: %s", code, out)
	}
	if code, out := measureTo("down.json", "--samples", "1", "http://127.0.0.1:1/a"); code != ExitOperational || !strings.Contains(out, "last error: connection to 127.0.0.1:1 failed") {
		t.Errorf("a site that is down: exit %d, want 3: %s", code, out)
	}
}

// TestMeasureProgressOnlyWhenStdoutAndStderrAreTerminals: measure draws
// its progress bar on stderr only when stdout and stderr are both
// terminals (colour is checked with the other commands' in tty_test.go).
func TestMeasureProgressOnlyWhenStdoutAndStderrAreTerminals(t *testing.T) {
	site := newCacheSite(t, 30*time.Millisecond)
	for _, tt := range []struct {
		tm  terminals
		bar bool
	}{
		{allTerminals, true},
		{terminals{in: true, out: true}, false},
		{terminals{in: true, err: true}, false},
		{allPipes, false},
	} {
		code, out, stderr := runOn(t, tt.tm, "", nil, "measure", "--samples", "3", site.URL+"/bar")
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", tt.tm, code, stderr)
		}
		if got := strings.Contains(stderr, "measure"); got != tt.bar {
			t.Errorf("%s: progress on stderr = %v, want %v:\n%q", tt.tm, got, tt.bar, stderr)
		}
		if strings.Contains(out, "█ |") || strings.Contains(out, "it/s") {
			t.Errorf("%s: progress on stdout:\n%q", tt.tm, out)
		}
	}
}

// TestMeasureCancelled: an interrupt stops the measurement with exit 130.
func TestMeasureCancelled(t *testing.T) {
	site := newCacheSite(t, 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	ios, _, _, errOut := iostreams.Test()
	code := Execute(ctx, []string{"measure", "--samples", "50", site.URL + "/slowly"}, ios, config.EnvironFromMap(nil))
	if code != ExitInterrupted {
		t.Errorf("exit %d, want 130: %s", code, errOut)
	}
}

// TestMeasureNeverPrintsTheSession: measuring as a logged-in visitor sends
// the session cookie and prints its value nowhere, whatever the format.
func TestMeasureNeverPrintsTheSession(t *testing.T) {
	site := newCacheSite(t, 0)
	cfg := writeConfig(t, site.URL)
	for _, format := range []string{"table", "json", "jsonl"} {
		code, out, stderr := run(t, sessionVars, "--config", cfg, "--env", "production", "--log-level", "debug",
			"measure", "--as", "both", "--samples", "2", "-o", format, "/private")
		if code != ExitOK && code != ExitCheckFailed {
			t.Fatalf("-o %s: exit %d: %s", format, code, stderr)
		}
		if strings.Contains(out+stderr, sessionValue) {
			t.Errorf("-o %s printed the session value", format)
		}
	}
}
