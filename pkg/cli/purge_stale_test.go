package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// staleSetup is an edge serving cached copies (ETag "v1" for every page), an
// origin whose /b has changed (ETag "v2"), and a cache node that records
// the PURGE requests it gets.
func staleSetup(t *testing.T) (cfg string, purged func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	t.Cleanup(node.Close)
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, "old")
	}))
	t.Cleanup(edge.Close)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		etag := `"v1"`
		if r.URL.Path == "/b" {
			etag = `"v2"`
		}
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		fmt.Fprint(w, "new")
	}))
	t.Cleanup(origin.Close)
	cfg = writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
    origin_url: %s
    cdn: {provider: http-purge, endpoints: [%s]}
  noorigin:
    base_url: %s
    cdn: {provider: http-purge, endpoints: [%s]}
routes:
  - path: /a
  - path: /b
`, edge.URL, origin.URL, node.URL, edge.URL, node.URL))
	return cfg, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string{}, got...) }
}

// TestPurgeStale: --stale purges exactly the stale subset (the config's
// routes when none is named), marks each with why; with nothing stale it
// says so, sends nothing and exits 0; what --stale cannot compare is
// refused before anything is sent.
func TestPurgeStale(t *testing.T) {
	cfg, purged := staleSetup(t)
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	code, out, stderr := run(t, nil, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--stale", "-o", "jsonl")
	if code != ExitOK || !strings.Contains(out, `/b","kind":"url","state":"purged"`) || strings.Contains(out, `/a"`) || !strings.Contains(out, `"stale":"etag differs"`) {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	if got := purged(); len(got) != 1 || got[0] != "PURGE /b" {
		t.Errorf("node got %v, want PURGE /b only", got)
	}
	code, out, stderr = run(t, nil, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--stale", "/a")
	if code != ExitOK || out != "" || !strings.Contains(stderr, "nothing stale among 1 URL on production; nothing was sent") || len(purged()) != 1 {
		t.Errorf("nothing stale: exit %d, stdout %q, stderr %q, %d purges", code, out, stderr, len(purged()))
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "production", "--stale", "--tag", "blog"}, "--tag, --prefix, --host and --everything name no page"},
		{[]string{"--env", "production", "--sitemap", "s.xml", "/a"}, "--sitemap needs --stale"},
		{[]string{"--env", "noorigin", "--stale", "/a"}, "--stale needs environments.noorigin.origin_url"},
		{[]string{"--env", "production", "--stale", "--concurrency", "0", "/a"}, "--concurrency 0"},
	} {
		code, _, stderr := run(t, nil, append([]string{"purge", "--config", cfg, "--journal", journal}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if n := len(purged()); n != 1 {
		t.Errorf("%d purges after refusals, want still 1", n)
	}
}
