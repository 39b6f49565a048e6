package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInitFlags: init's flags parse into its options, and its plan refuses
// what it cannot write before anything is sent. The file is --config
// (flagFactory's cfg), which must not exist yet.
func TestInitFlags(t *testing.T) {
	o := newOrigin(t)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.yaml")
	existing := writeFile(t, "cachectl.yaml", "environments: {}\n")
	sitemap := writeFile(t, "sitemap.xml", `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/s</loc></url><url><loc>`+o.URL+`/t</loc></url></urlset>`)
	def := func(mod func(*InitOptions)) *InitOptions {
		opts := &InitOptions{Paths: []string{}, BaseURL: o.URL, Sample: 20, Seed: 1, Concurrency: 4}
		mod(opts)
		return opts
	}
	cases := []parseCase[InitOptions]{
		{name: "defaults", args: []string{"--base-url", o.URL}, want: def(func(*InitOptions) {})},
		{name: "every flag", env: "staging", args: []string{
			"--base-url", o.URL, "--sitemap", sitemap, "--sample", "1", "--seed", "7", "--force",
			"--cookie-env", "TEST_SESSION", "--session-cookie", "sessionid", "--cache-header", "X-Edge", "--concurrency", "2", "/a", o.URL + "/b",
		}, want: def(func(o *InitOptions) {
			o.Sitemap, o.Sample, o.Seed, o.Force = sitemap, 1, 7, true
			o.CookieEnv, o.SessionCookie, o.CacheHeaders, o.Concurrency = "TEST_SESSION", "sessionid", []string{"X-Edge"}, 2
			o.Paths = []string{"/a", o.BaseURL + "/b"}
		})},

		{name: "no base URL", code: ExitUsage, wantErr: "init: --base-url is required"},
		{name: "base URL not http", args: []string{"--base-url", "ftp://example.com"}, code: ExitUsage, wantErr: `--base-url "ftp://example.com": expected an absolute URL with scheme http or https`},
		{name: "cookie variable without the cookie's name", args: []string{"--base-url", o.URL, "--cookie-env", "TEST_SESSION"}, code: ExitUsage, wantErr: "--cookie-env and --session-cookie go together"},
		{name: "session variable unset", vars: map[string]string{}, args: []string{"--base-url", o.URL, "--cookie-env", "NOPE", "--session-cookie", "sessionid"}, code: ExitUsage, wantErr: "names variable NOPE, which is not set"},
		{name: "bad environment name", env: "prod env", args: []string{"--base-url", o.URL}, code: ExitUsage, wantErr: `init: --env "prod env": expected an environment name`},
		{name: "route on another host", args: []string{"--base-url", o.URL, "http://other.invalid/x"}, code: ExitUsage, wantErr: "init: route http://other.invalid/x: http://other.invalid/x is not on the base URL's host"},
		{name: "sample negative", args: []string{"--base-url", o.URL, "--sample", "-1"}, code: ExitUsage, wantErr: "--sample -1: expected a number of pages"},
		{name: "concurrency 0", args: []string{"--base-url", o.URL, "--concurrency", "0"}, code: ExitUsage, wantErr: "--concurrency 0: expected 1 to 1024"},
	}
	runParseCases(t, fresh, cases, newCmdInit, func(o *InitOptions) *cmdDeps { return &o.cmdDeps }, func(o *InitOptions) error {
		_, err := planInit(context.Background(), o)
		return err
	})
	for _, tt := range []struct {
		name, file, want string
	}{
		{"an existing file", existing, existing + " exists (expected a new file; --force replaces it, or --config FILE names another); nothing was sent"},
		{"a directory", dir, dir + " is a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := flagFactory(t, tt.file, "", sessionVars)
			err := runCmd(newCmdInit(f, func(ctx context.Context, o *InitOptions) error { _, err := planInit(ctx, o); return err }), "--base-url", o.URL)
			checkRefusal(t, err, ExitUsage, tt.want)
		})
	}
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("planning wrote the file")
	}
}

// TestInitPlanRoutes: the routes are the PATHs given, then the sitemap's
// sample, each once and as a path; the home page when neither is given.
func TestInitPlanRoutes(t *testing.T) {
	o := newOrigin(t)
	sitemap := writeFile(t, "sitemap.xml", `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/a</loc></url><url><loc>`+o.URL+`/s?page=2</loc></url></urlset>`)
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"nothing given", nil, []string{"/"}},
		{"paths and a sitemap", []string{"--sitemap", sitemap, "/a", o.URL + "/b"}, []string{"/a", "/b", "/s?page=2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := flagFactory(t, filepath.Join(t.TempDir(), "cachectl.yaml"), "", nil)
			f.Globals.Timeout = 5 * time.Second
			var p *initPlan
			err := runCmd(newCmdInit(f, func(ctx context.Context, o *InitOptions) (err error) { p, err = planInit(ctx, o); return err }), append([]string{"--base-url", o.URL}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.routes, tt.want) {
				t.Errorf("routes %q, want %q", p.routes, tt.want)
			}
		})
	}
}

// TestInitWritesAConfigThatVerifies: init against a loopback site writes a
// file that verify passes at once; the success line is for terminals only,
// a route that got no response is left out with exit 3, and --force
// replaces the file.
func TestInitWritesAConfigThatVerifies(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("X-Cache", "MISS")
		w.Header().Set("Via", "1.1 varnish")
	}))
	t.Cleanup(site.Close)
	file := filepath.Join(t.TempDir(), "cachectl.yaml")
	code, out, stderr := run(t, nil, "--config", file, "--timeout", "100ms", "init", "--base-url", site.URL, "/", "/slow", "/a")
	if code != ExitOperational || out != "" || !strings.Contains(stderr, "init: 1 route got no response, left out of "+file+": /slow (anonymous: timeout") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 3 naming /slow", code, out, stderr)
	}
	written := readText(t, file)
	if !strings.Contains(written, "#   /slow: anonymous: timeout") || strings.Contains(written, "- path: /slow") {
		t.Errorf("/slow should be listed as left out, not as a route:\n%s", written)
	}
	if code, out, stderr := run(t, nil, "--config", file, "--env", "production", "verify"); code != ExitOK {
		t.Errorf("verify after init: exit %d: %s\n%s", code, stderr, out)
	}
	code, _, stderr = runOn(t, allTerminals, "", nil, "--config", file, "init", "--base-url", site.URL, "--force", "/b")
	if code != ExitOK || !strings.Contains(stderr, "✓ Wrote "+file+": environment production (purge provider http-purge), 1 route") {
		t.Errorf("init --force on a terminal: exit %d, stderr %q", code, stderr)
	}
	if got := readText(t, file); !strings.Contains(got, "- path: /b") || strings.Contains(got, "- path: /a") {
		t.Errorf("--force did not replace the file:\n%s", got)
	}
}
