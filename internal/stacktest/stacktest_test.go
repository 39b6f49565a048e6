package stacktest

import (
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

type response struct {
	status int
	header http.Header
	body   string
}

// fetch sends one request without following redirects; a non-empty session
// is sent as the session cookie.
func fetch(t *testing.T, method, url, session string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: session})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func TestStack(t *testing.T) {
	s := Start(t)
	session := s.Login(t)
	const article = "/articles/go-context-cancellation"

	t.Run("login session is recognized by the origin", func(t *testing.T) {
		got := fetch(t, http.MethodGet, s.OriginURL+"/account", session)
		if !strings.Contains(got.body, "<h1>Account: ") {
			t.Errorf("origin /account with session: body lacks the account heading:\n%s", got.body)
		}
		if got, want := got.header.Get("Cache-Control"), "private, no-cache"; got != want {
			t.Errorf("origin /account Cache-Control = %q, want %q", got, want)
		}
	})

	// The steps run in order against one cache: each depends on the ones before.
	steps := []struct {
		name          string
		method        string
		url           string
		loggedIn      bool
		wantStatus    int
		wantXCache    string // empty: not checked
		wantCC        string // empty: not checked
		wantSetCookie bool
		bodyLacks     string
	}{
		{name: "article first request misses", url: s.ProductionURL + article, wantStatus: 200, wantXCache: "MISS", wantCC: "public, max-age=600"},
		{name: "article second request hits", url: s.ProductionURL + article, wantStatus: 200, wantXCache: "HIT", wantCC: "public, max-age=600"},
		{name: "purge from loopback", method: "PURGE", url: s.ProductionURL + article, wantStatus: 200},
		{name: "article after purge misses", url: s.ProductionURL + article, wantStatus: 200, wantXCache: "MISS"},
		{name: "article is cached again", url: s.ProductionURL + article, wantStatus: 200, wantXCache: "HIT"},
		{name: "logged-in article passes", url: s.ProductionURL + article, loggedIn: true, wantStatus: 200, wantXCache: "MISS"},
		{name: "anonymous dashboard primes the cache", url: s.ProductionURL + "/dashboard", wantStatus: 200, wantXCache: "MISS", wantCC: "public, max-age=120", wantSetCookie: true},
		{name: "logged-in dashboard comes from the cache with a stored cookie", url: s.ProductionURL + "/dashboard", loggedIn: true, wantStatus: 200, wantXCache: "HIT", wantSetCookie: true, bodyLacks: "Dashboard for"},
		{name: "logged-in account passes", url: s.ProductionURL + "/account", loggedIn: true, wantStatus: 200, wantXCache: "MISS", wantCC: "private, no-cache"},
		{name: "logged-in account passes every time", url: s.ProductionURL + "/account", loggedIn: true, wantStatus: 200, wantXCache: "MISS", wantCC: "private, no-cache"},
		{name: "health is never stored", url: s.ProductionURL + "/health", wantStatus: 200, wantXCache: "MISS", wantCC: "no-store"},
		{name: "health is never stored, second request", url: s.ProductionURL + "/health", wantStatus: 200, wantXCache: "MISS", wantCC: "no-store"},
		{name: "missing article is a 404", url: s.ProductionURL + "/articles/missing-draft", wantStatus: 404},
		{name: "redirect is passed on", url: s.ProductionURL + "/redirect-me", wantStatus: 301},
		{name: "staging article misses with a capped lifetime", url: s.StagingURL + article, wantStatus: 200, wantXCache: "MISS", wantCC: "public, max-age=60"},
		{name: "staging article hits", url: s.StagingURL + article, wantStatus: 200, wantXCache: "HIT", wantCC: "public, max-age=60"},
		{name: "staging shares the dashboard rule", url: s.StagingURL + "/dashboard", wantStatus: 200, wantCC: "public, max-age=60", wantSetCookie: true},
		{name: "staging logged-in dashboard hits", url: s.StagingURL + "/dashboard", loggedIn: true, wantStatus: 200, wantXCache: "HIT", wantSetCookie: true},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			method := st.method
			if method == "" {
				method = http.MethodGet
			}
			var sess string
			if st.loggedIn {
				sess = session
			}
			got := fetch(t, method, st.url, sess)
			if got.status != st.wantStatus {
				t.Errorf("%s %s: status = %d, want %d", method, st.url, got.status, st.wantStatus)
			}
			if st.wantXCache != "" {
				if got, want := got.header.Get("X-Cache"), st.wantXCache; got != want {
					t.Errorf("X-Cache = %q, want %q", got, want)
				}
				// Varnish's own evidence: a hit carries the ids of this
				// request and of the one that stored the object.
				ids := strings.Fields(got.header.Get("X-Varnish"))
				if wantIDs := map[string]int{"HIT": 2, "MISS": 1}[st.wantXCache]; len(ids) != wantIDs {
					t.Errorf("X-Varnish = %q, want %d transaction ids", got.header.Get("X-Varnish"), wantIDs)
				}
				if got.header.Get("Age") == "" {
					t.Error("Age header missing")
				}
			}
			if st.wantCC != "" {
				if got, want := got.header.Get("Cache-Control"), st.wantCC; got != want {
					t.Errorf("Cache-Control = %q, want %q", got, want)
				}
			}
			if got, want := len(got.header.Values("Set-Cookie")) > 0, st.wantSetCookie; got != want {
				t.Errorf("Set-Cookie present = %v, want %v", got, want)
			}
			if st.bodyLacks != "" && strings.Contains(got.body, st.bodyLacks) {
				t.Errorf("body contains %q", st.bodyLacks)
			}
		})
		if !ok {
			// Later steps assume the cache state this one set up.
			t.FailNow()
		}
	}

	t.Run("staging drifts only on cacheable routes", func(t *testing.T) {
		tests := []struct {
			path      string
			wantDrift bool
		}{
			{"/", true},
			{article, true},
			{"/dashboard", true},
			{"/account", false},
			{"/health", false},
		}
		for _, tt := range tests {
			prod := fetch(t, http.MethodGet, s.ProductionURL+tt.path, "").header.Get("Cache-Control")
			stag := fetch(t, http.MethodGet, s.StagingURL+tt.path, "").header.Get("Cache-Control")
			if got := prod != stag; got != tt.wantDrift {
				t.Errorf("%s: production Cache-Control %q, staging %q: drift = %v, want %v", tt.path, prod, stag, got, tt.wantDrift)
			}
		}
	})

	t.Run("an edit reaches production only after a purge", func(t *testing.T) {
		const slug = "rust-ownership-explained"
		const title = "Ownership and borrowing in Rust, revised"
		path := "/articles/" + slug
		for _, p := range []string{path, "/tags/rust"} {
			fetch(t, http.MethodGet, s.ProductionURL+p, "")
		}
		s.EditArticle(t, slug, title)
		if got := fetch(t, http.MethodGet, s.OriginURL+path, ""); !strings.Contains(got.body, title) {
			t.Errorf("origin %s lacks the new title after the edit", path)
		}
		for _, p := range []string{path, "/tags/rust"} {
			got := fetch(t, http.MethodGet, s.ProductionURL+p, "")
			if got.header.Get("X-Cache") != "HIT" || strings.Contains(got.body, title) {
				t.Errorf("production %s before the purge: X-Cache %s, new title shown %v; want the old copy from the cache", p, got.header.Get("X-Cache"), strings.Contains(got.body, title))
			}
		}
		s.Purge(t, s.ProductionURL, path)
		if got := fetch(t, http.MethodGet, s.ProductionURL+path, ""); !strings.Contains(got.body, title) {
			t.Errorf("production %s after the purge lacks the new title", path)
		}
	})

	t.Run("editing is refused through a cache", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.ProductionURL+"/admin/articles/git-rebase-interactive", strings.NewReader("title=x"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST through production: status %d, want 403", resp.StatusCode)
		}
	})

	t.Run("origin compares If-None-Match weakly", func(t *testing.T) {
		etag := fetch(t, http.MethodGet, s.OriginURL+"/feed.xml", "").header.Get("ETag")
		for _, inm := range []string{etag, "W/" + etag, `"other", W/` + etag} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.OriginURL+"/feed.xml", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("If-None-Match", inm)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: %s: status %d, want 304", inm, resp.StatusCode)
			}
		}
	})

	t.Run("up again keeps the running processes", func(t *testing.T) {
		before := s.pids()
		if out, err := s.run(t.Context(), "up"); err != nil {
			t.Fatalf("second up: %v\n%s", err, out)
		}
		if got, want := s.pids(), before; !slices.Equal(got, want) {
			t.Errorf("pids after second up = %v, want %v", got, want)
		}
	})

	t.Run("config points at this stack", func(t *testing.T) {
		b, err := os.ReadFile(s.ConfigYAML(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg := string(b)
		for _, want := range []string{
			"base_url: " + s.ProductionURL,
			"endpoints: [" + s.ProductionURL + "]",
			"base_url: " + s.StagingURL,
			"endpoints: [" + s.StagingURL + "]",
			"hosts: [" + strings.TrimPrefix(s.ProductionURL, "http://") + ", localhost:",
			"hosts: [" + strings.TrimPrefix(s.StagingURL, "http://") + ", localhost:",
		} {
			if !strings.Contains(cfg, want) {
				t.Errorf("config lacks %q", want)
			}
		}
	})
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/scripts/stack.sh"); err != nil {
		t.Errorf("RepoRoot() = %q, which has no scripts/stack.sh: %v", root, err)
	}
}
