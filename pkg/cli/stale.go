package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/stale"
	"github.com/cachectl/cachectl/pkg/target"
)

// StaleOptions are the parsed flags of `cachectl stale` and what its plan
// and run steps use.
type StaleOptions struct {
	cmdDeps

	Targets     []string
	FromFile    string
	Sitemap     string
	Concurrency int
	Rate        float64
}

// staleLong is stale's --help text.
const staleLong = `Compare each URL's copy at the edge with the origin's current version and list
the stale ones: the pages an edit changed that a purge has not reached yet.

Each URL is fetched from the edge as an anonymous visitor. A response the edge
did not serve from its cache (MISS, EXPIRED, REVALIDATED, BYPASS, DYNAMIC) was
just fetched, so it is not stale. Otherwise the origin — the environment's
origin_url, reached without the CDN, with the URL's own Host header (or
origin_host) — is asked with the copy's validators (If-None-Match,
If-Modified-Since), so an unchanged page costs a 304 and no body. The reason
names the signal that decided: the 304, the status code, the redirect target,
strong ETags, Last-Modified, the decoded bodies, or the copy's storage time
(Date minus Age) against the origin's Last-Modified when bodies cannot be
compared. Bodies are streamed and hashed, never held whole.

Targets: URLs or paths (resolved against base_url), --from-file, --sitemap;
with none, the config's routes. Every URL must be on one of the environment's
hosts, or nothing is sent.

The patterns of stale.ignore (per environment, and per route for that route's
URL) are removed from both bodies before they are compared: render time
stamps, CSRF tokens, what the edge injects. A pattern matches within one line.
--log-level debug shows which patterns matched on which URL.

Config keys: environments.NAME.origin_url (required), environments.NAME.origin_host,
environments.NAME.stale.ignore and routes[i].stale.ignore (lists of RE2 patterns):

  environments:
    production:
      base_url: https://www.example.com
      origin_url: http://10.0.0.7:8000
      stale:
        ignore: ['<span class="rendered">[^<]*</span>', 'name="csrf" value="[^"]*"']

Exit status: 0 no copy is stale, 1 some are, 2 bad input or config (nothing
sent; origin_url missing), 3 a URL could not be checked (network, timeout, an
origin that refused); the other URLs are still reported.`

func newCmdStale(f *Factory, runF func(context.Context, *StaleOptions) error) *cobra.Command {
	opts := &StaleOptions{cmdDeps: f.deps()}
	cmd := &cobra.Command{
		Use:   "stale --env NAME [URL|PATH...]",
		Short: "List the pages the edge serves from a copy older than the origin's",
		Long:  staleLong,
		Example: `  cachectl stale --env production /articles/x / /feed.xml
  cachectl stale --env production --sitemap https://www.example.com/sitemap.xml -o jsonl
  cachectl stale --env production --from-file changed.txt --concurrency 4 --rate 20
  cachectl stale --env production -o jsonl | jq -r 'select(.stale) | .url'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return staleRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.FromFile, "from-file", "", "read URLs or paths from FILE, one per line (- for stdin; # comments)")
	fl.StringVar(&opts.Sitemap, "sitemap", "", "check the pages of a sitemap (URL or FILE; sitemap index and .gz supported), fetched without cookies")
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "URLs checked at once; output stays in input order")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most this many requests per second, edge and origin together (0: no cap), so production is not hammered")
	return cmd
}

// stalePlan is everything stale needs, decided before anything is sent:
// every refusal comes from planStale. The one request a plan may make is
// fetching a --sitemap.
type stalePlan struct {
	env     *config.Environment
	format  report.Format
	targets *targetList
	options stale.Options
	checker *stale.Checker
}

func planStale(ctx context.Context, opts *StaleOptions) (*stalePlan, error) {
	format, err := opts.OutputFormat(report.Table, report.JSON, report.JSONL)
	if err != nil {
		return nil, err
	}
	cfg, env, err := opts.requireEnvironment("stale")
	if err != nil {
		return nil, err
	}
	if err := checkStaleFlags(opts, env); err != nil {
		return nil, err
	}
	p := &stalePlan{env: env, format: format}
	if p.targets, err = staleTargets(ctx, opts, cfg, env); err != nil {
		return nil, err
	}
	p.options = staleCheckerOptions(opts.cmdDeps, cfg, env, opts.Concurrency, opts.Rate)
	if p.checker, err = stale.New(p.options); err != nil {
		return nil, usageError(fmt.Errorf("config: environment %q: %w", env.Name, err))
	}
	opts.Logger.Debug("stale plan", "env", env.Name, "origin", env.OriginURL, "urls", p.targets.count,
		"ignore", len(p.options.Ignore), "routes_with_ignore", len(p.options.URLIgnore))
	return p, nil
}

// checkStaleFlags checks the flags and that env names its origin.
func checkStaleFlags(opts *StaleOptions, env *config.Environment) error {
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return err
	}
	if err := checkRate(opts.Rate); err != nil {
		return err
	}
	if env.OriginURL == "" {
		return usageErrorf("stale: environment %q has no origin (expected environments.%s.origin_url: the origin reached without the CDN, e.g. origin_url: http://10.0.0.7:8000)", env.Name, env.Name)
	}
	return nil
}

// staleTargets resolves and checks every URL before the run: arguments, a
// sitemap's pages and a --from-file file, or else the config's routes.
// URLs are normalized (scheme and host lower-cased, default port dropped),
// the form caches key on, and must be on one of env's hosts.
func staleTargets(ctx context.Context, opts *StaleOptions, cfg *config.Config, env *config.Environment) (*targetList, error) {
	given := append([]string{}, opts.Targets...)
	if opts.Sitemap != "" {
		pages, err := readSitemap(ctx, opts.cmdDeps, opts.Sitemap, env)
		if err != nil {
			return nil, err
		}
		given = append(given, pages...)
	}
	fromConfig := len(given) == 0 && opts.FromFile == ""
	if fromConfig {
		for _, r := range cfg.Routes {
			given = append(given, r.Path)
		}
	}
	if fromConfig && len(given) == 0 {
		return nil, usageErrorf("stale: no URLs (expected URL|PATH arguments, --from-file FILE, --sitemap URL or routes in %s)", orDash(cfg.File))
	}
	pipe := &target.Pipeline{Env: env.TargetEnv(), Canonical: true, Check: envHostCheck(env, "%s is outside environment %q (allowed hosts: %s); nothing was sent")}
	l, err := newPipelineTargets(opts.IO.In, pipe, given, opts.FromFile)
	if err != nil {
		return nil, err
	}
	if l.count == 0 {
		return nil, usageErrorf("stale: %s holds no URL or path (expected one per line)", opts.FromFile)
	}
	return l, nil
}

// routeIgnore maps each route with stale.ignore patterns of its own to
// them, by its URL in the normalized form the run uses.
func routeIgnore(cfg *config.Config, env *config.Environment) map[string][]string {
	out := map[string][]string{}
	for _, r := range cfg.Routes {
		if len(r.Stale.Ignore) == 0 {
			continue
		}
		if u, err := target.Canonical(env.TargetEnv(), r.Path); err == nil {
			out[u] = append(out[u], r.Stale.Ignore...)
		}
	}
	return out
}

func staleRun(ctx context.Context, opts *StaleOptions) error {
	p, err := planStale(ctx, opts)
	if err != nil {
		return err
	}
	return runStale(ctx, opts, p)
}

func runStale(ctx context.Context, opts *StaleOptions, p *stalePlan) error {
	w, err := report.NewStaleWriter(p.format, opts.IO.Out, report.StaleOptions{Style: opts.Style(), Env: p.env.Name, URLWidth: p.targets.width})
	if err != nil {
		return usageError(err)
	}
	start := time.Now()
	var sum report.StaleSummary
	runErr := p.checker.Run(ctx, p.targets.All, func(r stale.Result) error {
		sum.Add(r)
		return w.Result(r)
	})
	sum.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	if err := w.Close(sum); err != nil {
		return operationalError(fmt.Errorf("stale: writing output: %w", err))
	}
	if runErr == nil && p.targets.err != nil {
		return p.targets.err
	}
	if runErr != nil {
		return operationalError(fmt.Errorf("stale: %w", runErr))
	}
	return p.verdict(opts, &sum)
}

// verdict turns a finished run into the exit-code contract: a URL that
// could not be checked outweighs a stale one, since the run could not judge
// every URL.
func (p *stalePlan) verdict(opts *StaleOptions, sum *report.StaleSummary) error {
	switch {
	case sum.Errors > 0:
		return operationalError(fmt.Errorf("stale: %s of %d could not be checked (see each URL's error); %d stale", plural(sum.Errors, "URL", "URLs"), sum.URLs, sum.Stale))
	case sum.Stale > 0:
		return checkFailed("stale: %d of %d URLs are served from a copy older than the origin's on %s", sum.Stale, sum.URLs, p.env.Name)
	}
	if opts.IO.IsStderrTTY() && p.format == report.Table {
		fmt.Fprintf(opts.IO.ErrOut, "✓ No stale copy among %s\n", plural(sum.URLs, "URL", "URLs"))
	}
	return nil
}

// staleCheckerOptions are the stale engine's options for env: its origin,
// ignore patterns (the environment's and each route's), cache-status
// headers, the global timeout and TLS setting, and the request bounds.
func staleCheckerOptions(d cmdDeps, cfg *config.Config, env *config.Environment, concurrency int, rps float64) stale.Options {
	return stale.Options{
		Origin:       env.OriginURL,
		OriginHost:   env.OriginHost,
		Ignore:       env.Stale.Ignore,
		URLIgnore:    routeIgnore(cfg, env),
		CacheHeaders: append(append([]string{}, env.CacheHeaders...), cfg.CacheHeaders...),
		Timeout:      d.Globals.Timeout,
		Insecure:     d.Globals.Insecure,
		Concurrency:  concurrency,
		Limiter:      rateLimiter(rps),
		Logger:       d.Logger,
	}
}
