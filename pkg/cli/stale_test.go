package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// staleSite is an edge and its origin on loopback. The edge serves every
// page from its cache (X-Cache: HIT) but /miss; the origin has changed the
// pages under /changed, answers If-None-Match with 304, refuses /refused
// with a 503, and renders /stamp* with a time stamp and an <i> element
// that differ from the edge's copy.
type staleSite struct {
	edge, origin *httptest.Server
	cfg          string
	requests     atomic.Int64
}

func newStaleSite(t *testing.T) *staleSite {
	t.Helper()
	s := &staleSite{}
	s.edge = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Age", "10")
		if r.URL.Path == "/miss" {
			w.Header().Set("X-Cache", "MISS")
		}
		s.page(w, r, "edge", `"v1"`)
	}))
	s.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		etag := `"v1"`
		switch {
		case r.URL.Path == "/refused":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case strings.HasPrefix(r.URL.Path, "/changed"):
			etag = `"v2"`
		case r.Header.Get("If-None-Match") == etag && !strings.HasPrefix(r.URL.Path, "/stamp"):
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.page(w, r, "origin", etag)
	}))
	t.Cleanup(s.edge.Close)
	t.Cleanup(s.origin.Close)
	s.cfg = writeStaleConfig(t, s.edge.URL, s.origin.URL)
	return s
}

// page writes one side's version: /stamp* without an ETag and with the
// side's own time stamp and <i> element, every other page with etag.
func (s *staleSite) page(w http.ResponseWriter, r *http.Request, side, etag string) {
	if strings.HasPrefix(r.URL.Path, "/stamp") {
		fmt.Fprintf(w, "<p>%s</p> <span class=\"rendered\">%s</span> <i>%s</i>\n", r.URL.Path, side, side)
		return
	}
	w.Header().Set("ETag", etag)
	fmt.Fprintf(w, "<p>%s</p>\n", r.URL.Path)
}

// staleLine is the part of a jsonl line these tests read.
type staleLine struct {
	URL    string `json:"url"`
	Stale  bool   `json:"stale"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

func parseStaleLines(t *testing.T, out string) map[string]staleLine {
	t.Helper()
	got := map[string]staleLine{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var x staleLine
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		u, err := url.Parse(x.URL)
		if err != nil {
			t.Fatalf("url %q: %v", x.URL, err)
		}
		got[u.RequestURI()] = x
	}
	return got
}

// TestStaleExitCodes: 0 when nothing is stale, 1 when something is, 3 when
// a URL could not be checked (the others still reported), 2 for a URL
// outside the environment or an environment without an origin, with
// nothing sent.
func TestStaleExitCodes(t *testing.T) {
	s := newStaleSite(t)
	tests := []struct {
		name    string
		env     string
		args    []string
		code    int
		reasons map[string]string // path → reason; "" for an error
		stale   []string
		stderr  string
	}{
		{name: "nothing stale", args: []string{"/a", "/stamp", "/miss"}, code: ExitOK,
			reasons: map[string]string{"/a": "origin answered 304 to the edge copy's validators", "/stamp": "body matches", "/miss": "not cached at edge"}},
		{name: "one stale", args: []string{"/a", "/changed/1", "/stamp2"}, code: ExitCheckFailed,
			reasons: map[string]string{"/a": "origin answered 304 to the edge copy's validators", "/changed/1": "etag differs", "/stamp2": "body differs"},
			stale:   []string{"/changed/1", "/stamp2"}, stderr: "cachectl: stale: 2 of 3 URLs are served from a copy older than the origin's on production"},
		{name: "an origin refuses", args: []string{"/a", "/refused", "/changed/1"}, code: ExitOperational,
			reasons: map[string]string{"/a": "origin answered 304 to the edge copy's validators", "/refused": "", "/changed/1": "etag differs"},
			stale:   []string{"/changed/1"}, stderr: "cachectl: stale: 1 URL of 3 could not be checked (see each URL's error); 1 stale"},
		{name: "outside the environment", args: []string{"/a", "http://other.invalid/x"}, code: ExitUsage, stderr: "nothing was sent"},
		{name: "no origin", env: "noorigin", args: []string{"/a"}, code: ExitUsage, stderr: "environments.noorigin.origin_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == "" {
				env = "production"
			}
			before := s.requests.Load()
			code, out, stderr := run(t, nil, append([]string{"stale", "--config", s.cfg, "--env", env, "-o", "jsonl"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.stderr)
			}
			if tt.code == ExitUsage {
				if n := s.requests.Load() - before; n != 0 || out != "" {
					t.Errorf("%d request(s) sent, output %q; want none", n, out)
				}
				return
			}
			got := parseStaleLines(t, out)
			if len(got) != len(tt.reasons) {
				t.Errorf("%d lines, want one per URL (%d):\n%s", len(got), len(tt.reasons), out)
			}
			for p, want := range tt.reasons {
				if r := got[p]; r.Reason != want || (want == "") != (r.Error != "") {
					t.Errorf("%s: reason %q, error %q; want reason %q", p, r.Reason, r.Error, want)
				}
			}
			for p, r := range got {
				if want := slices.Contains(tt.stale, p); r.Stale != want {
					t.Errorf("%s: stale = %v, want %v", p, r.Stale, want)
				}
			}
		})
	}
}

// TestStaleSuccessChatterOnlyOnATerminal: "✓ No stale copy ..." goes to
// stderr when it is a terminal and the output is a table; piped or in JSON
// there is none, and stdout never gets it.
func TestStaleSuccessChatterOnlyOnATerminal(t *testing.T) {
	s := newStaleSite(t)
	for _, tt := range []struct {
		name  string
		tm    terminals
		extra []string
		want  bool
	}{
		{"terminal", allTerminals, nil, true},
		{"stderr only", terminals{err: true}, nil, true},
		{"stderr piped", terminals{in: true, out: true}, nil, false},
		{"piped", allPipes, nil, false},
		{"jsonl", allTerminals, []string{"-o", "jsonl"}, false},
	} {
		code, out, stderr := runOn(t, tt.tm, "", nil, append([]string{"stale", "--config", s.cfg, "--env", "production", "/a", "/miss"}, tt.extra...)...)
		checkSuccessLine(t, tt.name, code, out, stderr, "✓ No stale copy among 2 URLs", tt.want)
	}
}

// TestStaleDebugLogNamesMatchedPatterns: at --log-level debug every ignore
// pattern that removed something is logged with its URL, the environment's
// and a route's own; at the default level nothing is.
func TestStaleDebugLogNamesMatchedPatterns(t *testing.T) {
	s := newStaleSite(t)
	for _, tt := range []struct {
		level string
		want  bool
	}{{"debug", true}, {"warn", false}} {
		code, _, stderr := run(t, nil, "stale", "--config", s.cfg, "--env", "production", "--log-level", tt.level, "/stamp")
		if code != ExitOK {
			t.Fatalf("--log-level %s: exit %d: %s", tt.level, code, stderr)
		}
		// slog quotes a value only when it has to.
		for _, pattern := range []string{fmt.Sprintf("%q", renderedStamp), "<i>[^<]*</i>"} {
			line := fmt.Sprintf("msg=\"stale: ignore pattern matched\" url=%s/stamp pattern=%s edge=1 origin=1", s.edge.URL, pattern)
			if got := strings.Contains(stderr, line); got != tt.want {
				t.Errorf("--log-level %s: %s on stderr = %v, want %v:\n%s", tt.level, line, got, tt.want, stderr)
			}
		}
	}
}
