package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/prometheustest"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
)

func TestWatchFlags(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	routes := writeFile(t, "routes.txt", "/a\n/b\n")
	offHost := writeFile(t, "offhost.txt", "/a\nhttp://other.invalid/b\n")
	empty := writeFile(t, "empty.txt", "# nothing\n")
	tooMany := writeFile(t, "many.txt", routeLines(maxWatchRoutes+1))
	leaky := writeFile(t, "leaky.txt", "/a\n/b?s="+sessionValue+"\n")
	sitemap := writeFile(t, "sitemap.xml", `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/s</loc></url></urlset>`)
	def := func(mod func(*WatchOptions)) *WatchOptions {
		opts := &WatchOptions{Listen: "127.0.0.1:9797", Interval: time.Minute, Seed: 1, Concurrency: 4, Rate: 5, ServerTiming: defaultServerTiming}
		mod(opts)
		return opts
	}
	cases := []parseCase[WatchOptions]{
		{name: "defaults", env: "production", want: def(func(*WatchOptions) {})},
		{name: "every flag", env: "production", args: []string{
			"--listen", ":0", "--interval", "30s", "--routes", routes, "--sitemap", sitemap, "--sample", "5", "--seed", "42",
			"--concurrency", "2", "--rate", "0.5", "--cookie-env", "ALT_SESSION", "--cache-header", "X-Edge",
			"--server-timing", "db,cdn-cache", "--server-timing", "app", "--fresh-connections",
		}, want: def(func(o *WatchOptions) {
			o.Listen, o.Interval, o.Routes, o.Sitemap, o.Sample, o.Seed = ":0", 30*time.Second, routes, sitemap, 5, 42
			o.Concurrency, o.Rate, o.CookieEnv, o.CacheHeaders = 2, 0.5, "ALT_SESSION", []string{"X-Edge"}
			o.ServerTiming, o.Fresh = []string{"db", "cdn-cache", "app"}, true
		})},
		{name: "a sampled sitemap", env: "nosession", args: []string{"--sitemap", sitemap}, want: def(func(o *WatchOptions) { o.Sitemap = sitemap })},
		{name: "IPv6 loopback", env: "production", args: []string{"--listen", "[::1]:9797"}, want: def(func(o *WatchOptions) { o.Listen = "[::1]:9797" })},

		{name: "no environment", code: ExitUsage, wantErr: "watch: no environment chosen (expected --env NAME, one of: nosession, production)"},
		{name: "an argument", env: "production", args: []string{"/a"}, wantErr: `unknown command "/a"`},
		{name: "interval too short", env: "production", args: []string{"--interval", "10ms"}, code: ExitUsage, wantErr: "--interval 10ms: expected 100ms to 24h0m0s"},
		{name: "interval too long", env: "production", args: []string{"--interval", "25h"}, code: ExitUsage, wantErr: "--interval 25h0m0s: expected 100ms"},
		{name: "sample over the cap", env: "production", args: []string{"--sample", "501"}, code: ExitUsage, wantErr: "--sample 501: expected 1 to 500 routes"},
		{name: "concurrency 0", env: "production", args: []string{"--concurrency", "0"}, code: ExitUsage, wantErr: "--concurrency 0: expected 1 to 1024"},
		{name: "rate negative", env: "production", args: []string{"--rate", "-1"}, code: ExitUsage, wantErr: "--rate -1: expected requests per second ≥ 0"},
		{name: "listen without a port", env: "production", args: []string{"--listen", "127.0.0.1"}, code: ExitUsage, wantErr: `--listen "127.0.0.1": expected HOST:PORT or :PORT`},
		{name: "listen on port 70000", env: "production", args: []string{"--listen", ":70000"}, code: ExitUsage, wantErr: `port "70000": expected a number from 0 to 65535`},
		{name: "listen on a host name", env: "production", args: []string{"--listen", "example.com:9797"}, code: ExitUsage, wantErr: "expected an IP address or localhost"},
		{name: "server-timing name with a space", env: "production", args: []string{"--server-timing", "db time"}, code: ExitUsage, wantErr: `--server-timing "db time": expected a Server-Timing metric name`},
		{name: "server-timing names making one metric", env: "production", args: []string{"--server-timing", "cdn-cache,cdn_cache"}, code: ExitUsage, wantErr: "both make cachectl_server_timing_cdn_cache_seconds"},
		{name: "cookie-env without a session", env: "nosession", args: []string{"--cookie-env", "ALT_SESSION"}, code: ExitUsage, wantErr: `--cookie-env: environment "nosession" has no session`},
		{name: "session variable unset", env: "production", vars: map[string]string{}, code: ExitUsage, wantErr: "names variable TEST_SESSION, which is not set"},
		{name: "routes file missing", env: "production", args: []string{"--routes", "/nonexistent/routes.txt"}, code: ExitUsage, wantErr: "--routes /nonexistent/routes.txt cannot be read"},
		{name: "route on another host", env: "production", args: []string{"--routes", offHost}, code: ExitUsage, wantErr: "route 2 (http://other.invalid/b): http://other.invalid/b is not on a host of environment"},
		{name: "no routes", env: "production", args: []string{"--routes", empty}, code: ExitUsage, wantErr: "watch: no routes"},
		{name: "a route holding the session value", env: "production", args: []string{"--routes", leaky}, code: ExitUsage, wantErr: "watch: route 2 holds the value of a secret"},
		{name: "more routes than the cap", env: "nosession", args: []string{"--routes", tooMany}, code: ExitUsage, wantErr: "watch: more than 500 routes (every route adds series to Prometheus; expected --sample N"},
	}
	ctx := context.Background()
	runParseCases(t, cfg, cases, newCmdWatch, func(o *WatchOptions) *cmdDeps { return &o.cmdDeps }, func(o *WatchOptions) error {
		_, err := planWatch(ctx, o)
		return err
	})
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

// routeLines is a routes file of n paths.
func routeLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "/p/%d\n", i)
	}
	return b.String()
}

// TestWatchPlanRoutes: the config's routes, --routes, or a capped sample of
// a sitemap; the logged-in variant with a session.
func TestWatchPlanRoutes(t *testing.T) {
	cfg := writeConfig(t, "http://127.0.0.1:1")
	var sm strings.Builder
	sm.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for i := range 200 {
		fmt.Fprintf(&sm, "<url><loc>http://127.0.0.1:1/p/%d</loc></url>", i)
	}
	sm.WriteString("</urlset>")
	sitemap := writeFile(t, "sitemap.xml", sm.String())
	routes := writeFile(t, "routes.txt", "/a\n/b\n/c\n")
	tests := []struct {
		name, env    string
		opts         func(*WatchOptions)
		routes, vars int
	}{
		{"config", "production", func(*WatchOptions) {}, 1, 2},
		{"routes file", "nosession", func(o *WatchOptions) { o.Routes = routes }, 3, 1},
		{"sitemap sampled by default", "nosession", func(o *WatchOptions) { o.Sitemap = sitemap }, defaultSitemapSample, 1},
		{"sitemap sampled as asked", "nosession", func(o *WatchOptions) { o.Sitemap, o.Sample = sitemap, 120 }, 120, 1},
		{"routes sampled", "nosession", func(o *WatchOptions) { o.Routes, o.Sample = routes, 2 }, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := flagFactory(t, cfg, tt.env, sessionVars)
			opts := &WatchOptions{cmdDeps: f.deps(), Listen: ":0", Interval: time.Minute, Seed: 1, Concurrency: 4, Rate: 5}
			tt.opts(opts)
			p, err := planWatch(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.targets) != tt.routes || len(p.variants) != tt.vars {
				t.Errorf("%d routes × %d variants, want %d × %d", len(p.targets), len(p.variants), tt.routes, tt.vars)
			}
		})
	}
}

func TestWatchRefusesOutputFormats(t *testing.T) {
	code, _, stderr := run(t, nil, "--config", writeConfig(t, "http://127.0.0.1:1"), "--env", "nosession", "watch", "-o", "json")
	if code != ExitUsage || !strings.Contains(stderr, `"json"`) {
		t.Errorf("watch -o json: exit %d, stderr %q; want 2 naming the format", code, stderr)
	}
}

// signalledOrigin is a site that tells when it has been probed n times.
func signalledOrigin(t *testing.T, n int) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	reached := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	count := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Age", "3")
		mu.Lock()
		count++
		if count >= n {
			once.Do(func() { close(reached) })
		}
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv, reached
}

// TestWatchServesUntilCancelled: the run serves /metrics and /healthz from
// the first round on and returns nil, exit 0, when its context ends.
func TestWatchServesUntilCancelled(t *testing.T) {
	srv, reached := signalledOrigin(t, 4)
	cfg := writeConfig(t, srv.URL)
	f := flagFactory(t, cfg, "production", sessionVars)
	opts := &WatchOptions{cmdDeps: f.deps(), Listen: "127.0.0.1:0", Interval: 100 * time.Millisecond, Seed: 1, Concurrency: 2, ServerTiming: defaultServerTiming}
	p, err := planWatch(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	base := "http://" + p.listener.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runWatch(ctx, opts, p) }()
	<-reached // two rounds of / as both variants
	got := prometheustest.Scrape(t, base+"/metrics")
	for _, variant := range []string{"anonymous", "logged_in"} {
		key := prometheustest.Key("cachectl_cache_status", map[string]string{"env": "production", "route": "/", "variant": variant, "cache_status": "HIT"})
		if got[key] != 1 {
			t.Errorf("%s = %v, want 1", key, got[key])
		}
	}
	for k := range got {
		if strings.Contains(k, sessionValue) {
			t.Errorf("the session value appears in series %s", k)
		}
	}
	cancel()
	select {
	case err := <-done:
		if code := exitCode(context.Background(), err); err != nil || code != ExitOK {
			t.Errorf("runWatch after cancel = %v (exit %d), want nil (exit 0)", err, code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runWatch did not return within 10s of cancellation")
	}
}

func TestWatchListenInUseIsOperational(t *testing.T) {
	srv, _ := signalledOrigin(t, 1)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, _, stderr := run(t, nil, "--config", writeConfig(t, srv.URL), "--env", "nosession", "watch", "--listen", busy.Addr().String())
	if code != ExitOperational || !strings.Contains(stderr, "watch: --listen "+busy.Addr().String()) {
		t.Errorf("exit %d, stderr %q; want 3 naming --listen", code, stderr)
	}
}

// TestWatchChatterOnlyOnATerminal: what is watched and where the metrics
// are is said on stderr when it is a terminal; a pipe gets nothing unless
// --log-level info asks. Either way stdout stays empty and the exit is 0.
func TestWatchChatterOnlyOnATerminal(t *testing.T) {
	for _, tt := range []struct {
		tm      terminals
		extra   []string
		chatter bool
		logged  bool
	}{
		{allTerminals, nil, true, false},
		{allPipes, nil, false, false},
		{allPipes, []string{"--log-level", "info"}, false, true},
	} {
		srv, reached := signalledOrigin(t, 2)
		cfg := writeConfig(t, srv.URL)
		ios, _, out, errOut := iostreams.Test()
		ios.SetTTY(tt.tm.in, tt.tm.out, tt.tm.err)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-reached
			cancel()
		}()
		args := append([]string{"--config", cfg, "--env", "nosession", "watch", "--listen", "127.0.0.1:0", "--interval", "100ms"}, tt.extra...)
		code := Execute(ctx, args, ios, config.EnvironFromMap(nil))
		cancel()
		stderr := errOut.String()
		if code != ExitOK || out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q; want 0 and nothing", tt.tm, code, out.String())
		}
		if got := strings.Contains(stderr, "cachectl watch: 1 route of nosession as anonymous, every 100ms; metrics at http://127.0.0.1:"); got != tt.chatter {
			t.Errorf("%s %v: chatter on stderr = %v, want %v:\n%s", tt.tm, tt.extra, got, tt.chatter, stderr)
		}
		if got := bytes.Contains(errOut.Bytes(), []byte("msg=\"serving metrics\"")); got != tt.logged {
			t.Errorf("%s %v: log entry = %v, want %v:\n%s", tt.tm, tt.extra, got, tt.logged, stderr)
		}
	}
}
