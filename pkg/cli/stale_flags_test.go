package cli

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// renderedStamp is the demo site's render time stamp on /now, which a
// stale.ignore pattern must remove.
const renderedStamp = `<span class="rendered">[^<]*</span>`

// writeStaleConfig writes a config whose "production" environment is the
// edge at edge with its origin at origin, ignore patterns for every URL and
// a route with patterns of its own; "noorigin" names no origin.
func writeStaleConfig(t *testing.T, edge, origin string) string {
	t.Helper()
	return writeFile(t, "stale.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %[1]s
    origin_url: %[2]s
    cache_headers: [X-Edge-Cache]
    stale:
      ignore: ['%[3]s']
  noorigin:
    base_url: %[1]s
cache_headers: [X-Site-Cache]
routes:
  - path: /
  - path: /stamp
    stale:
      ignore: ['<i>[^<]*</i>']
`, edge, origin, renderedStamp))
}

// TestStaleFlags: stale built alone with a runF that plans; every refusal
// happens while planning, and planning sends nothing.
func TestStaleFlags(t *testing.T) {
	o := newOrigin(t)
	cfg := writeStaleConfig(t, o.URL, o.URL)
	urls := writeFile(t, "urls.txt", "# changed\n/c\n")
	offHost := writeFile(t, "offhost.txt", "/a\nhttp://other.invalid/b\n")
	empty := writeFile(t, "empty.txt", "# nothing\n")
	sitemap := writeFile(t, "sitemap.xml", `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/s</loc></url></urlset>`)
	noRoutes := writeFile(t, "noroutes.yaml", "environments:\n  production:\n    base_url: "+o.URL+"\n    origin_url: "+o.URL+"\n")
	def := func(mod func(*StaleOptions)) *StaleOptions {
		opts := &StaleOptions{Targets: []string{}, Concurrency: 8}
		mod(opts)
		return opts
	}
	cases := []parseCase[StaleOptions]{
		{name: "the config's routes", env: "production", want: def(func(*StaleOptions) {})},
		{name: "every flag", env: "production", args: []string{
			"--from-file", urls, "--sitemap", sitemap, "--concurrency", "3", "--rate", "2.5", "/a", o.URL + "/b",
		}, want: def(func(opts *StaleOptions) {
			opts.Targets, opts.FromFile, opts.Sitemap, opts.Concurrency, opts.Rate = []string{"/a", o.URL + "/b"}, urls, sitemap, 3, 2.5
		})},

		{name: "no environment", args: []string{"/a"}, code: ExitUsage, wantErr: "stale: no environment chosen (expected --env NAME, one of: noorigin, production)"},
		{name: "unknown environment", env: "prod", code: ExitUsage, wantErr: `unknown environment "prod"`},
		{name: "no origin", env: "noorigin", args: []string{"/a"}, code: ExitUsage,
			wantErr: `stale: environment "noorigin" has no origin (expected environments.noorigin.origin_url: the origin reached without the CDN, e.g. origin_url: http://10.0.0.7:8000)`},
		{name: "concurrency 0", env: "production", args: []string{"--concurrency", "0"}, code: ExitUsage, wantErr: "--concurrency 0: expected 1 to 1024"},
		{name: "concurrency 1025", env: "production", args: []string{"--concurrency", "1025"}, code: ExitUsage, wantErr: "--concurrency 1025: expected 1 to 1024"},
		{name: "rate negative", env: "production", args: []string{"--rate", "-1"}, code: ExitUsage, wantErr: "--rate -1: expected requests per second ≥ 0"},
		{name: "rate not a number", env: "production", args: []string{"--rate", "fast"}, code: ExitUsage, wantErr: `invalid argument "fast" for "--rate"`},
		{name: "URL outside the environment", env: "production", args: []string{"/a", "http://other.invalid/x"}, code: ExitUsage,
			wantErr: `http://other.invalid/x is outside environment "production" (allowed hosts: ` + o.Listener.Addr().String() + `); nothing was sent`},
		{name: "file line outside the environment", env: "production", args: []string{"--from-file", offHost}, code: ExitUsage,
			wantErr: "--from-file " + offHost + " line 2: http://other.invalid/b is outside environment"},
		{name: "file missing", env: "production", args: []string{"--from-file", "/nonexistent/urls.txt"}, code: ExitUsage, wantErr: "--from-file: open /nonexistent/urls.txt"},
		{name: "file with nothing in it", env: "production", args: []string{"--from-file", empty}, code: ExitUsage, wantErr: "stale: " + empty + " holds no URL or path"},
		{name: "nothing on stdin", env: "production", args: []string{"--from-file", "-"}, code: ExitUsage, wantErr: "stale: - holds no URL or path"},
		{name: "sitemap missing", env: "production", args: []string{"--sitemap", "/nonexistent/sitemap.xml"}, code: ExitUsage, wantErr: "--sitemap: "},
		{name: "bad URL", env: "production", args: []string{"ftp://example.com/x"}, code: ExitUsage, wantErr: "is not an http or https URL"},
	}
	ctx := context.Background()
	plan := func(opts *StaleOptions) error {
		_, err := planStale(ctx, opts)
		return err
	}
	deps := func(opts *StaleOptions) *cmdDeps { return &opts.cmdDeps }
	runParseCases(t, cfg, cases, newCmdStale, deps, plan)
	runParseCases(t, noRoutes, []parseCase[StaleOptions]{
		{name: "no routes and no targets", env: "production", code: ExitUsage, wantErr: "stale: no URLs (expected URL|PATH arguments, --from-file FILE, --sitemap URL or routes in " + noRoutes + ")"},
	}, newCmdStale, deps, plan)
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

// TestStalePlan: the plan's URLs are normalized and in order (arguments,
// then the sitemap's pages, then the file), and the checker gets the
// environment's origin and patterns, a route's own patterns under its URL,
// the cache-status headers, the timeout and the rate cap.
func TestStalePlan(t *testing.T) {
	o := newOrigin(t)
	cfg := writeStaleConfig(t, o.URL, "http://10.0.0.7:8000")
	urls := writeFile(t, "urls.txt", "/c\n")
	sitemap := writeFile(t, "sitemap.xml", `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/s</loc></url></urlset>`)
	f := flagFactory(t, cfg, "production", nil)
	f.Globals.Timeout = 7 * time.Second
	upper := "HTTP://" + o.Listener.Addr().String() + "/a"
	p, err := planStale(context.Background(), &StaleOptions{cmdDeps: f.deps(), Targets: []string{upper, "/stamp"}, FromFile: urls, Sitemap: sitemap, Concurrency: 2, Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for u := range p.targets.All {
		got = append(got, u)
	}
	if want := []string{o.URL + "/a", o.URL + "/stamp", o.URL + "/s", o.URL + "/c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("URLs = %v, want %v", got, want)
	}
	opts := p.options
	if opts.Origin != "http://10.0.0.7:8000" || opts.OriginHost != "" || !reflect.DeepEqual(opts.Ignore, []string{renderedStamp}) {
		t.Errorf("origin %q, host %q, ignore %q; want the environment's", opts.Origin, opts.OriginHost, opts.Ignore)
	}
	if want := map[string][]string{o.URL + "/stamp": {"<i>[^<]*</i>"}}; !reflect.DeepEqual(opts.URLIgnore, want) {
		t.Errorf("URL patterns = %v, want %v", opts.URLIgnore, want)
	}
	if !reflect.DeepEqual(opts.CacheHeaders, []string{"X-Edge-Cache", "X-Site-Cache"}) || opts.Timeout != 7*time.Second || opts.Concurrency != 2 {
		t.Errorf("cache headers %v, timeout %s, concurrency %d", opts.CacheHeaders, opts.Timeout, opts.Concurrency)
	}
	if opts.Limiter == nil || opts.Limiter.Limit() != 5 || opts.Logger != f.Logger || p.checker == nil {
		t.Errorf("limiter %v, logger %p (want %p), checker %v", opts.Limiter, opts.Logger, f.Logger, p.checker)
	}
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}
