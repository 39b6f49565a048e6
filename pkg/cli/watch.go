package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/secret"
	"github.com/cachectl/cachectl/pkg/shard"
	"github.com/cachectl/cachectl/pkg/verify"
	"github.com/cachectl/cachectl/pkg/watch"
)

// Bounds of cachectl watch. Every route adds series to Prometheus, so the
// number of routes is capped, and a sitemap is sampled.
const (
	// maxWatchRoutes is the most routes one watch process probes.
	maxWatchRoutes = 500
	// defaultSitemapSample is how many of a sitemap's pages are watched
	// when --sample does not say.
	defaultSitemapSample = 50
	minWatchInterval     = 100 * time.Millisecond
	maxWatchInterval     = 24 * time.Hour
	// watchJitter shifts each round's start by up to ±10% of --interval.
	watchJitter = 0.1
)

// defaultServerTiming are the Server-Timing entries exported when
// --server-timing does not name others: the names CDNs and frameworks
// commonly give edge, origin, application and database time.
var defaultServerTiming = []string{"edge", "origin", "app", "db", "total"}

// WatchOptions are the parsed flags of `cachectl watch` and what its plan
// and run steps use.
type WatchOptions struct {
	cmdDeps

	Listen       string
	Interval     time.Duration
	Routes       string
	Sitemap      string
	Sample       int
	Seed         uint64
	Concurrency  int
	Rate         float64
	CookieEnv    string
	CacheHeaders []string
	ServerTiming []string
	Fresh        bool
}

func newCmdWatch(f *Factory, runF func(context.Context, *WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{cmdDeps: f.deps()}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Probe the routes on an interval and serve Prometheus metrics",
		Long: `Probe every route of the config (or of --routes / --sitemap) in the --env
environment on an interval, as an anonymous visitor and, when the environment has
a session, as a logged-in one, and serve what the cache did as Prometheus metrics
on --listen: /metrics, /healthz (200 while rounds complete) and an index page.

Per route and variant: the last normalized cache status, probes by cache status
(hit ratio), TTFB histograms by cache status, each configured check's result,
findings by id with their severity, Age, the shared-cache lifetime and
Server-Timing durations. Labels come from the config, never from responses:
env, route, variant, and cache_status, check or finding where they apply. At
most 500 routes are watched; a sitemap is sampled (50 pages unless --sample).

Requests are capped at --rate per second and each round's start is jittered by
up to 10% of --interval. Secrets never appear in metrics or logs.

watch runs until it is stopped: SIGTERM or Ctrl-C end the round in progress,
finish scrapes in flight and exit 0. Exit 2: bad config or flags (nothing sent,
nothing served); 3: --listen cannot be bound or serving fails.`,
		Example: `  cachectl watch --env production
  cachectl watch --env production --listen :9797 --interval 30s --rate 2
  cachectl watch --env production --sitemap https://www.example.com/sitemap.xml --sample 100 --seed 7
  curl -s 127.0.0.1:9797/metrics | grep cachectl_cache_status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return watchRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:9797", "serve /metrics and /healthz on this address (HOST:PORT; :PORT for every interface)")
	fl.DurationVar(&opts.Interval, "interval", time.Minute, "time between the starts of two rounds (every route and variant probed once)")
	fl.StringVar(&opts.Routes, "routes", "", "watch the routes in FILE (one path or URL per line, # comments; - for stdin) instead of the config's")
	fl.StringVar(&opts.Sitemap, "sitemap", "", "watch pages of a sitemap (URL or FILE), a sample of 50 unless --sample says")
	fl.IntVar(&opts.Sample, "sample", 0, "watch a random subset of N routes (reproducible with --seed; at most 500)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "seed for --sample: the same seed and routes give the same subset")
	fl.IntVar(&opts.Concurrency, "concurrency", 4, "routes probed at once")
	fl.Float64Var(&opts.Rate, "rate", 5, "at most this many requests per second (0: no cap)")
	fl.StringVar(&opts.CookieEnv, "cookie-env", "", "read the session cookie value from this environment variable (never from a flag)")
	fl.StringArrayVar(&opts.CacheHeaders, "cache-header", nil, "response header holding the site's own cache status, checked first (repeatable)")
	fl.StringSliceVar(&opts.ServerTiming, "server-timing", defaultServerTiming, "Server-Timing entries exported as cachectl_server_timing_NAME_seconds (repeatable or comma-separated)")
	fl.BoolVar(&opts.Fresh, "fresh-connections", false, "open a new connection for every probe (TTFB then includes DNS, connect and TLS)")
	return cmd
}

// watchPlan is everything watch needs, decided before anything is probed
// or served: every refusal comes from planWatch. The one request a plan
// may make is fetching a --sitemap.
type watchPlan struct {
	env      *config.Environment
	targets  []verify.Target
	variants []probe.Variant
	session  *probe.Session
	probe    probe.Options
	// round is the least time a round takes at --rate.
	round time.Duration
	// listener, when set, is served instead of binding --listen.
	listener net.Listener
}

func planWatch(ctx context.Context, opts *WatchOptions) (*watchPlan, error) {
	if _, err := opts.OutputFormat(report.Table); err != nil {
		return nil, err
	}
	cfg, env, err := opts.requireEnvironment("watch")
	if err != nil {
		return nil, err
	}
	if err := checkWatchFlags(opts); err != nil {
		return nil, err
	}
	p := &watchPlan{env: env}
	if p.session, p.variants, err = planVariants(opts.cmdDeps, cfg, env, opts.CookieEnv); err != nil {
		return nil, err
	}
	if p.targets, err = watchTargets(ctx, opts, env, cfg, p.session); err != nil {
		return nil, err
	}
	secrets := cfg.SecretValues(opts.Lookup)
	if p.session != nil {
		secrets = append(secrets, p.session.Value)
	}
	if err := checkRouteLabels(p.targets, secrets); err != nil {
		return nil, err
	}
	if p.probe, err = opts.proberOptions(env, probe.Options{KeepAlive: !opts.Fresh}, nil, opts.CacheHeaders); err != nil {
		return nil, err
	}
	if err := checkHostHeader(p.probe, env, p.session); err != nil {
		return nil, err
	}
	if opts.Rate > 0 {
		p.round = time.Duration(float64(len(p.targets)*len(p.variants)) / opts.Rate * float64(time.Second))
	}
	if p.round > opts.Interval {
		opts.Logger.Warn("a round takes longer than --interval at this --rate; rounds will follow each other at once",
			"probes", len(p.targets)*len(p.variants), "rate", opts.Rate, "round", p.round.Round(time.Millisecond), "interval", opts.Interval)
	}
	return p, nil
}

// checkWatchFlags checks the flags that need no config.
func checkWatchFlags(opts *WatchOptions) error {
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return err
	}
	if err := checkRate(opts.Rate); err != nil {
		return err
	}
	switch {
	case opts.Interval < minWatchInterval || opts.Interval > maxWatchInterval:
		return usageErrorf("--interval %s: expected %s to %s", opts.Interval, minWatchInterval, maxWatchInterval)
	case opts.Sample < 0 || opts.Sample > maxWatchRoutes:
		return usageErrorf("--sample %d: expected 1 to %d routes (every route adds series to Prometheus)", opts.Sample, maxWatchRoutes)
	}
	if err := checkListen(opts.Listen); err != nil {
		return err
	}
	if _, err := watch.ServerTimingMetrics(opts.ServerTiming); err != nil {
		return usageErrorf("--server-timing %v", err)
	}
	return nil
}

// checkListen refuses a --listen address that cannot be bound as written.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf("--listen %q: expected HOST:PORT or :PORT (%v)", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usageErrorf("--listen %q: port %q: expected a number from 0 to 65535", addr, port)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return usageErrorf("--listen %q: expected an IP address or localhost before the port (an address of this machine)", addr)
	}
	return nil
}

// watchTargets resolves and checks every route watched, at most
// maxWatchRoutes of them.
func watchTargets(ctx context.Context, opts *WatchOptions, env *config.Environment, cfg *config.Config, session *probe.Session) ([]verify.Target, error) {
	planner, err := verify.NewPlanner(cfg, env)
	if err != nil {
		return nil, usageError(fmt.Errorf("config: %w", err))
	}
	set := routeSet{planner: planner, sample: opts.Sample, seed: opts.Seed, shard: shard.All, check: sessionCheck(env, session), file: opts.Routes}
	if set.sample == 0 && opts.Sitemap != "" {
		set.sample = defaultSitemapSample
	}
	if set.names, err = routeSource(ctx, opts.cmdDeps, opts.Routes, opts.Sitemap, env, planner); err != nil {
		return nil, err
	}
	var targets []verify.Target
	err = set.each(func(_ verify.Indexed, t verify.Target) bool {
		targets = append(targets, t)
		return len(targets) <= maxWatchRoutes
	})
	switch {
	case err != nil:
		return nil, err
	case len(targets) > maxWatchRoutes:
		return nil, usageErrorf("watch: more than %d routes (every route adds series to Prometheus; expected --sample N of at most %d)", maxWatchRoutes, maxWatchRoutes)
	case len(targets) == 0:
		return nil, usageErrorf("watch: no routes (expected routes in %s, --routes FILE or --sitemap URL)", orDash(cfg.File))
	}
	return targets, nil
}

// checkRouteLabels refuses a route whose name holds the value of a secret:
// route names become metric labels, which every scraper stores and shows.
func checkRouteLabels(targets []verify.Target, secrets []secret.Value) error {
	var scrub secret.Scrubber
	for _, v := range secrets {
		scrub.Add(v)
	}
	for _, t := range targets {
		if scrub.String(t.Route) != t.Route {
			return usageErrorf("watch: route %d holds the value of a secret (a session cookie or an API token); route names become metric labels, so it is refused (expected a path without credentials)", t.Index+1)
		}
	}
	return nil
}

func watchRun(ctx context.Context, opts *WatchOptions) error {
	p, err := planWatch(ctx, opts)
	if err != nil {
		return err
	}
	return runWatch(ctx, opts, p)
}
