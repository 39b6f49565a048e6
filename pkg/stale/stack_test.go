package stale

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/verify/sitemap"
)

// renderedStamp is the pattern for the demo site's render time stamp on /now.
const renderedStamp = `<span class="rendered">[^<]*</span>`

// TestPublishingStoryOnRealStack is the editor's story against a real
// Varnish in front of the demo site: after one article is retitled, exactly
// the pages that show its title are stale; once they are purged, none is.
func TestPublishingStoryOnRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Start(t)
	res, err := sitemap.Read(t.Context(), s.ProductionURL+"/sitemap.xml", sitemap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pages := res.Pages
	for _, want := range []string{"/", "/articles/go-context-cancellation", "/tags/go", "/feed.xml", "/now"} {
		if !slices.Contains(pages, s.ProductionURL+want) {
			t.Fatalf("sitemap lacks %s: %v", want, pages)
		}
	}
	check := func(t *testing.T, ignore ...string) map[string]Result {
		t.Helper()
		c, err := New(Options{Origin: s.OriginURL, Ignore: ignore, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Result{}
		err = c.Run(t.Context(), slices.Values(pages), func(r Result) error {
			if r.Error != "" {
				t.Errorf("%s: %s", r.URL, r.Error)
			}
			got[strings.TrimPrefix(r.URL, s.ProductionURL)] = r
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	staleOnes := func(results map[string]Result) []string {
		var out []string
		for _, p := range slices.Sorted(maps.Keys(results)) {
			if results[p].Stale {
				out = append(out, p)
			}
		}
		return out
	}

	t.Run("a cold cache has nothing stale", func(t *testing.T) {
		for p, r := range check(t, renderedStamp) {
			if r.Stale || r.Reason != string(NotCached) {
				t.Errorf("%s: stale %v (%s), want %q", p, r.Stale, r.Reason, NotCached)
			}
		}
	})

	t.Run("the render time stamp needs its ignore pattern", func(t *testing.T) {
		results := check(t)
		if got, want := staleOnes(results), []string{"/now"}; !slices.Equal(got, want) {
			t.Errorf("stale without ignore patterns = %v, want %v", got, want)
		}
		if got := results["/now"].Reason; got != string(BodyDiffers) {
			t.Errorf("/now reason = %q, want %q", got, BodyDiffers)
		}
	})

	t.Run("a warm cache agrees with the origin", func(t *testing.T) {
		for p, r := range check(t, renderedStamp) {
			want := NotModified
			if p == "/now" {
				want = BodyMatches
			}
			if r.Stale || r.Reason != string(want) || r.Edge.Cache.Status != "HIT" {
				t.Errorf("%s: stale %v (%s, edge %s), want %q from a HIT", p, r.Stale, r.Reason, r.Edge.Cache.Status, want)
			}
		}
	})

	const slug = "go-context-cancellation"
	affected := []string{"/", "/articles/" + slug, "/feed.xml", "/tags/concurrency", "/tags/go"}
	s.EditArticle(t, slug, "Cancelling work with context.Context in Go, revised")

	t.Run("after an edit exactly the pages showing the title are stale", func(t *testing.T) {
		results := check(t, renderedStamp)
		if got := staleOnes(results); !slices.Equal(got, affected) {
			t.Errorf("stale = %v, want %v", got, affected)
		}
		for _, p := range affected {
			if got := results[p].Reason; got != string(ETagDiffers) {
				t.Errorf("%s: reason %q, want %q", p, got, ETagDiffers)
			}
		}
	})

	for _, p := range affected {
		s.Purge(t, s.ProductionURL, p)
	}

	t.Run("after the purge nothing is stale", func(t *testing.T) {
		for _, pass := range []string{"refilling", "refilled"} {
			if got := staleOnes(check(t, renderedStamp)); len(got) != 0 {
				t.Errorf("%s: stale = %v, want none", pass, got)
			}
		}
	})
}
