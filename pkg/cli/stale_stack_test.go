package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/verify/sitemap"
)

// TestStaleOnRealStack is the editor's story through the command line,
// against a real Varnish in front of the demo site: after one article is
// retitled, `cachectl stale --sitemap` reports exactly the pages that show
// its title (exit 1) and not /now, whose render time stamp its route's
// stale.ignore pattern removes; once those pages are purged, nothing is
// stale (exit 0).
func TestStaleOnRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Shared(t)
	cfg := writeFile(t, "stale-stack.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
    origin_url: %s
    stale:
      ignore: ['nonce="[^"]*"']
    cdn:
      provider: http-purge
      endpoints: [%s]
routes:
  - path: /now
    stale:
      ignore: ['%s']
`, s.ProductionURL, s.OriginURL, s.ProductionURL, renderedStamp))
	sitemapURL := s.ProductionURL + "/sitemap.xml"
	res, err := sitemap.Read(t.Context(), sitemapURL, sitemap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, p := range res.Pages {
		pages = append(pages, p[len(s.ProductionURL):])
	}
	for _, want := range []string{"/", "/articles/go-context-cancellation", "/tags/go", "/feed.xml", "/now"} {
		if !slices.Contains(pages, want) {
			t.Fatalf("sitemap lacks %s: %v", want, pages)
		}
	}
	check := func(t *testing.T, wantCode int) map[string]staleLine {
		t.Helper()
		code, out, stderr := run(t, nil, "stale", "--config", cfg, "--env", "production", "--sitemap", sitemapURL, "-o", "jsonl", "--concurrency", "4")
		if code != wantCode {
			t.Fatalf("exit %d, want %d: %s\n%s", code, wantCode, stderr, out)
		}
		got := parseStaleLines(t, out)
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(pages))) {
			t.Fatalf("results for %v, want one per sitemap page %v", keys, pages)
		}
		return got
	}
	staleOnes := func(got map[string]staleLine) []string {
		var out []string
		for _, p := range slices.Sorted(maps.Keys(got)) {
			if got[p].Stale {
				out = append(out, p)
			}
		}
		return out
	}

	// The stack is shared: start from an empty cache whatever ran before.
	for _, p := range pages {
		s.Purge(t, s.ProductionURL, p)
	}
	t.Run("a cold cache has nothing stale", func(t *testing.T) {
		for p, r := range check(t, ExitOK) {
			if r.Reason != "not cached at edge" {
				t.Errorf("%s: reason %q, want not cached at edge", p, r.Reason)
			}
		}
	})
	t.Run("a warm cache agrees with the origin", func(t *testing.T) {
		got := check(t, ExitOK)
		if r := got["/now"]; r.Reason != "body matches" {
			t.Errorf("/now: reason %q, want body matches (the route's pattern removes the time stamp)", r.Reason)
		}
	})

	const slug = "go-context-cancellation"
	affected := []string{"/", "/articles/" + slug, "/feed.xml", "/tags/concurrency", "/tags/go"}
	s.EditArticle(t, slug, fmt.Sprintf("Cancelling work with context.Context in Go (revised %d)", time.Now().UnixNano()))

	t.Run("after an edit exactly the pages showing the title are stale", func(t *testing.T) {
		got := check(t, ExitCheckFailed)
		if stale := staleOnes(got); !slices.Equal(stale, affected) {
			t.Errorf("stale = %v, want %v", stale, affected)
		}
		for _, p := range affected {
			if r := got[p]; r.Reason != "etag differs" {
				t.Errorf("%s: reason %q, want etag differs", p, r.Reason)
			}
		}
	})

	t.Run("purge --stale --verify purges exactly the stale pages", func(t *testing.T) {
		journal := filepath.Join(t.TempDir(), "journal.jsonl")
		code, out, stderr := run(t, nil, "purge", "--config", cfg, "--env", "production", "--journal", journal,
			"--stale", "--verify", "--sitemap", sitemapURL, "-o", "jsonl", "--reason", "retitled an article")
		if code != ExitOK {
			t.Fatalf("exit %d: %s\n%s", code, stderr, out)
		}
		var purged []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var rec struct{ Target, State, Stale string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if rec.State != "purged" || rec.Stale != "etag differs" {
				t.Errorf("%s: state %s, stale %q; want purged because etag differs", rec.Target, rec.State, rec.Stale)
			}
			purged = append(purged, strings.TrimPrefix(rec.Target, s.ProductionURL))
		}
		if slices.Sort(purged); !slices.Equal(purged, affected) {
			t.Errorf("purged %v, want exactly %v", purged, affected)
		}
	})
	t.Run("an untouched article is still served from cache", func(t *testing.T) {
		code, out, stderr := run(t, nil, "inspect", "--config", cfg, "--env", "production", "-o", "jsonl", "/articles/http-caching-headers")
		if code != ExitOK || !strings.Contains(out, `"status":"HIT"`) {
			t.Errorf("exit %d, want a HIT: %s%s", code, out, stderr)
		}
	})
	t.Run("after the purge nothing is stale", func(t *testing.T) {
		for _, pass := range []string{"refilling", "refilled"} {
			if stale := staleOnes(check(t, ExitOK)); len(stale) != 0 {
				t.Errorf("%s: stale = %v, want none", pass, stale)
			}
		}
	})
}
