package cli

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/shard"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/verify"
	"github.com/cachectl/cachectl/pkg/verify/sitemap"
)

// VerifyOptions are the parsed flags of `cachectl verify`.
type VerifyOptions struct {
	Routes       string
	Sitemap      string
	Sample       int
	Seed         uint64
	Warm         bool
	Retries      int
	Interval     time.Duration
	Concurrency  int
	Rate         float64
	Shard        string
	Shards       int
	CookieEnv    string
	CacheHeaders []string
	Fresh        bool
}

func newCmdVerify(f *Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every route's cache expectations against one environment",
		Long: `Probe every route of the config (or of --routes / --sitemap) in the --env
environment as an anonymous visitor and, when the environment has a session, as
a logged-in one, and check each variant against its expectations: cache status,
status code, private, no_store, min/max shared-cache lifetime, TTFB, headers and
findings. Every failure names the route's owner and rollback.

Routes without expectations of their own get the defaults section's, or a
single check: no finding at or above "error".

Exit status: 0 all checks passed, 1 a check failed, 2 bad config or flags
(nothing sent), 3 a probe got no response (network, TLS, timeout): that route
could not be judged, so the run is not a pass; the other results are reported.`,
		Example: `  cachectl verify --env production
  cachectl verify --env production --warm --retry-until-pass 3 --interval 10s -o junit > verify.xml
  cachectl verify --env production --sitemap https://www.example.com/sitemap.xml --sample 500 --seed 42
  cachectl verify --env production --routes urls.txt --shard 2/4 -o jsonl > shard-2.jsonl
  cachectl report merge shard-*.jsonl -o markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Routes, "routes", "", "verify the routes in FILE (one path or URL per line, # comments; - for stdin) instead of the config's")
	fl.StringVar(&opts.Sitemap, "sitemap", "", "verify the pages of a sitemap (URL or FILE; sitemap index and .gz supported), fetched without cookies")
	fl.IntVar(&opts.Sample, "sample", 0, "check a random subset of N routes (reproducible with --seed)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "seed for --sample: the same seed and routes give the same subset")
	fl.BoolVar(&opts.Warm, "warm", false, "send one request per route and variant before the measured one (the first request after a deploy is a MISS by design)")
	fl.IntVar(&opts.Retries, "retry-until-pass", 0, "re-check a route's failing checks up to N more times, --interval apart (for edges that need a moment)")
	fl.DurationVar(&opts.Interval, "interval", 5*time.Second, "wait between --retry-until-pass attempts")
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "routes probed at once")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most this many requests per second (0: no cap), so production is not hammered")
	fl.StringVar(&opts.Shard, "shard", "", "run only worker I of N's share of the routes, e.g. 2/4 (split by a hash of each route)")
	fl.IntVar(&opts.Shards, "shards", 0, "split the routes into N shards and run the one numbered by $JOB_COMPLETION_INDEX (0-based, Kubernetes Indexed Job)")
	fl.StringVar(&opts.CookieEnv, "cookie-env", "", "read the session cookie value from this environment variable (never from a flag)")
	fl.StringArrayVar(&opts.CacheHeaders, "cache-header", nil, "response header holding the site's own cache status, checked first (repeatable)")
	fl.BoolVar(&opts.Fresh, "fresh-connections", false, "open a new connection for every probe (TTFB then includes DNS, connect and TLS; slower)")
	return cmd
}

// verifyPlan is everything verify needs, validated before any request.
type verifyPlan struct {
	env      *config.Environment
	cfgFile  string
	format   report.Format
	planner  *verify.Planner
	routes   func(readErr *error) iter.Seq[string]
	shard    shard.Shard
	total    int
	width    int
	variants []probe.Variant
	session  *probe.Session
	prober   *probe.Prober
	limiter  *rate.Limiter
	// check is what every route's URL must pass: the session cookie's
	// host allow-list, when there is a session.
	check func(string) error
}

func planVerify(ctx context.Context, f *Factory, opts *VerifyOptions) (*verifyPlan, error) {
	format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown)
	if err != nil {
		return nil, err
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	env, err := f.Environment()
	if err != nil {
		return nil, err
	}
	if env == nil {
		return nil, usageErrorf("verify: no environment chosen (expected --env NAME, one of: %s)", strings.Join(cfg.EnvNames(), ", "))
	}
	p := &verifyPlan{env: env, cfgFile: cfg.File, format: format, shard: shard.All}
	switch {
	case opts.Concurrency < 1 || opts.Concurrency > 1024:
		return nil, usageErrorf("--concurrency %d: expected 1 to 1024", opts.Concurrency)
	case opts.Sample < 0 || opts.Sample > verify.MaxSample:
		return nil, usageErrorf("--sample %d: expected a number of routes from 1 to %d", opts.Sample, verify.MaxSample)
	case opts.Retries < 0 || opts.Retries > 100:
		return nil, usageErrorf("--retry-until-pass %d: expected 0 to 100", opts.Retries)
	case opts.Retries > 0 && opts.Interval <= 0:
		return nil, usageErrorf("--interval %s: expected a positive duration such as 5s", opts.Interval)
	case opts.Rate < 0:
		return nil, usageErrorf("--rate %g: expected requests per second ≥ 0 (0: no cap)", opts.Rate)
	}
	if opts.Rate > 0 {
		p.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	if p.shard, err = verifyShard(f, opts); err != nil {
		return nil, err
	}
	if p.planner, err = verify.NewPlanner(cfg, env); err != nil {
		return nil, usageError(fmt.Errorf("config: %w", err))
	}

	hasSession := env.Session != nil
	if opts.CookieEnv != "" && !hasSession {
		return nil, usageErrorf("--cookie-env: environment %q has no session (expected session.cookie in %s)", env.Name, cfg.File)
	}
	p.variants = []probe.Variant{probe.Anonymous}
	if hasSession {
		val, err := env.SessionValue(f.Lookup, opts.CookieEnv)
		if err != nil {
			return nil, usageError(err)
		}
		p.session = &probe.Session{Cookie: env.Session.Cookie, Value: val}
		p.variants = append(p.variants, probe.LoggedIn)
	} else if n := loggedInExpectations(cfg); n > 0 {
		f.Logger.Warn("logged-in expectations are not checked: the environment has no session", "env", env.Name, "routes", n)
	}

	if p.routes, err = verifyRoutes(ctx, f, opts, env, p.planner); err != nil {
		return nil, err
	}
	if p.session != nil {
		p.check = sessionHosts(env)
	}
	// Every route is resolved and checked before the first request, and
	// counted for the progress bar; a --routes file is read twice rather
	// than held in memory, and checked again as the run reads it.
	err = p.each(opts, func(r verify.Indexed, _ verify.Target) bool {
		p.total++
		p.width = max(p.width, utf8.RuneCountInString(r.Route))
		return true
	})
	if err != nil {
		return nil, err
	}
	if p.total == 0 && p.shard.Whole() {
		return nil, usageErrorf("verify: no routes (expected routes in %s, --routes FILE or --sitemap URL)", orDash(cfg.File))
	}

	p.prober, err = f.newProber(env, probe.Options{KeepAlive: !opts.Fresh}, nil, opts.CacheHeaders)
	return p, err
}

// each resolves and checks the selected routes in order and calls fn with
// each until fn returns false. The first route that fails, or a --routes
// file that cannot be read, ends it with a usage error.
func (p *verifyPlan) each(opts *VerifyOptions, fn func(verify.Indexed, verify.Target) bool) error {
	var readErr error
	for r := range verify.Select(p.routes(&readErr), opts.Sample, opts.Seed, p.shard) {
		t, err := p.planner.Target(r.Index, r.Route)
		if err == nil && p.check != nil {
			err = p.check(t.URL)
		}
		if err != nil {
			return usageError(fmt.Errorf("route %d (%s): %w", r.Index+1, r.Route, err))
		}
		if !fn(r, t) {
			return nil
		}
	}
	if readErr != nil {
		return usageErrorf("--routes %s %v", opts.Routes, readErr)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "the config"
	}
	return s
}

func loggedInExpectations(cfg *config.Config) int {
	n := 0
	for _, r := range cfg.Routes {
		if r.Expect.LoggedIn != nil {
			n++
		}
	}
	return n
}

// verifyShard reads --shard I/N or --shards N with $JOB_COMPLETION_INDEX.
func verifyShard(f *Factory, opts *VerifyOptions) (shard.Shard, error) {
	switch {
	case opts.Shard != "" && opts.Shards != 0:
		return shard.Shard{}, usageErrorf("--shard and --shards do not go together (--shards takes the index from $JOB_COMPLETION_INDEX)")
	case opts.Shard != "":
		s, err := shard.Parse(opts.Shard)
		if err != nil {
			return shard.Shard{}, usageErrorf("--shard: %v", err)
		}
		return s, nil
	case opts.Shards != 0:
		idx, ok := f.Lookup("JOB_COMPLETION_INDEX")
		if !ok || idx == "" {
			return shard.Shard{}, usageErrorf("--shards %d: $JOB_COMPLETION_INDEX is not set (expected a Kubernetes Indexed Job, or use --shard I/N)", opts.Shards)
		}
		s, err := shard.FromZeroIndex(idx, opts.Shards)
		if err != nil {
			return shard.Shard{}, usageErrorf("--shards %d with JOB_COMPLETION_INDEX=%s: %v", opts.Shards, idx, err)
		}
		return s, nil
	}
	return shard.All, nil
}

// verifyRoutes returns a function yielding the route names, as often as
// called: from --routes, --sitemap (both may be given), or the config. A
// --routes file is read anew at each call; a problem reading it ends the
// sequence and is stored in *readErr.
func verifyRoutes(ctx context.Context, f *Factory, opts *VerifyOptions, env *config.Environment, planner *verify.Planner) (func(*error) iter.Seq[string], error) {
	var lists [][]string
	var file string
	switch {
	case opts.Routes == "-":
		var lines []string
		sc := target.NewScanner(f.IO.In)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, usageErrorf("--routes - %v", err)
		}
		lists = append(lists, lines)
	case opts.Routes != "":
		file = opts.Routes
	}
	if opts.Sitemap != "" {
		pages, err := readSitemap(ctx, f, opts.Sitemap, env)
		if err != nil {
			return nil, err
		}
		lists = append(lists, pages)
	}
	if file == "" && len(lists) == 0 {
		lists = append(lists, planner.Routes())
	}
	return func(readErr *error) iter.Seq[string] {
		return func(yield func(string) bool) {
			if file != "" {
				fh, err := os.Open(file)
				if err != nil {
					*readErr = fmt.Errorf("cannot be read: %w (expected a readable file with one path or URL per line)", err)
					return
				}
				defer fh.Close()
				sc := target.NewScanner(fh)
				for sc.Scan() {
					if !yield(sc.Text()) {
						return
					}
				}
				if *readErr = sc.Err(); *readErr != nil {
					return
				}
			}
			for _, l := range lists {
				for _, r := range l {
					if !yield(r) {
						return
					}
				}
			}
		}
	}, nil
}

// readSitemap fetches a sitemap without cookies and turns its pages into
// paths of the environment; pages on other hosts are skipped with a warning.
func readSitemap(ctx context.Context, f *Factory, src string, env *config.Environment) ([]string, error) {
	client := &http.Client{Timeout: f.Globals.Timeout * 3}
	res, err := sitemap.Read(ctx, src, sitemap.Options{
		Client:    client,
		Allowed:   func(host string) bool { return target.HostAllowed(host, env.AllowedHosts()) },
		UserAgent: probe.DefaultUserAgent,
	})
	if err != nil {
		if strings.Contains(err.Error(), "fetch") {
			return nil, operationalError(fmt.Errorf("--sitemap: %w", err))
		}
		return nil, usageError(fmt.Errorf("--sitemap: %w", err))
	}
	if res.SkippedTotal > 0 {
		f.Logger.Warn("sitemap entries skipped", "count", res.SkippedTotal, "first", res.Skipped[0].Loc, "reason", res.Skipped[0].Reason)
	}
	routes := make([]string, 0, len(res.Pages))
	for _, p := range res.Pages {
		u, err := url.Parse(p)
		if err != nil {
			continue
		}
		routes = append(routes, u.RequestURI())
	}
	return routes, nil
}

func verifyRun(ctx context.Context, f *Factory, opts *VerifyOptions) error {
	p, err := planVerify(ctx, f, opts)
	if err != nil {
		return err
	}
	return runVerify(ctx, f, opts, p)
}

func runVerify(ctx context.Context, f *Factory, opts *VerifyOptions, p *verifyPlan) error {
	start := time.Now()
	w, err := report.NewVerifyWriter(p.format, f.IO.Out, report.VerifyOptions{
		Style: f.Style(), Env: p.env.Name, RouteWidth: p.width, Timestamp: start,
	})
	if err != nil {
		return usageError(err)
	}
	var annotate *report.GitHubAnnotator
	if v, _ := f.Lookup("GITHUB_ACTIONS"); v == "true" {
		annotate = report.NewGitHubAnnotator(f.IO.ErrOut, p.cfgFile)
	}
	var bar *progressbar.ProgressBar
	if f.IO.ProgressEnabled() {
		bar = progressbar.NewOptions(p.total,
			progressbar.OptionSetWriter(f.IO.ErrOut),
			progressbar.OptionSetDescription("verify "+p.env.Name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	shardLabel := ""
	if !p.shard.Whole() {
		shardLabel = p.shard.String()
	}
	// The routes are checked again as the run reads them: a --routes file
	// that changed since the plan stops the run at the first route that no
	// longer passes.
	var targetErr error
	targets := func(yield func(verify.Target) bool) {
		targetErr = p.each(opts, func(_ verify.Indexed, t verify.Target) bool { return yield(t) })
	}
	var sum verify.Summary
	runErr := verify.Run(ctx, p.prober, targets, verify.Options{
		Env: p.env.Name, Shard: shardLabel, Variants: p.variants, Session: p.session,
		Concurrency: opts.Concurrency, Warm: opts.Warm, Retries: opts.Retries, Interval: opts.Interval, Limiter: p.limiter,
	}, func(res verify.RouteResult) error {
		for _, r := range res.Records {
			sum.Add(r)
			if annotate != nil {
				if err := annotate.Check(r); err != nil {
					return err
				}
			}
		}
		if bar != nil {
			_ = bar.Clear() // the table shares the terminal
		}
		if err := w.Route(res.Records); err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Add(1)
		}
		return nil
	})
	if bar != nil {
		_ = bar.Finish()
	}
	sum.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	sum.Finish()
	if err := finishOutput("verify", func() error { return w.Close(&sum) }, annotate, runErr); err != nil {
		return err
	}
	if targetErr != nil {
		// Only a --routes file is read again; the other sources are held.
		return fmt.Errorf("%w (--routes %s changed after it was checked; the run stopped there)", targetErr, opts.Routes)
	}
	return verdict("verify", &sum)
}

// finishOutput ends a run's report and annotations; a run stopped by an
// error (interrupt, output failure) still gets its report closed first.
func finishOutput(cmd string, closeReport func() error, annotate *report.GitHubAnnotator, runErr error) error {
	if err := closeReport(); err != nil {
		return operationalError(fmt.Errorf("%s: writing output: %w", cmd, err))
	}
	if annotate != nil {
		if err := annotate.Close(); err != nil {
			return operationalError(fmt.Errorf("%s: writing annotations: %w", cmd, err))
		}
	}
	if runErr != nil {
		return operationalError(fmt.Errorf("%s: %w", cmd, runErr))
	}
	return nil
}

// verdict turns a finished summary into the exit-code contract.
func verdict(cmd string, s *verify.Summary) error {
	switch s.Result() {
	case verify.Unreachable:
		return operationalError(fmt.Errorf("%s: %s of %d got no response (network, TLS or timeout; see the reachable checks); %d of %d checks failed", cmd, plural(s.Errors, "probe", "probes"), s.Probes, s.Failed, s.Checks))
	case verify.ChecksFailed:
		return checkFailed("%s: %d of %d checks failed on %s (owners and rollbacks are in the report)", cmd, s.Failed, s.Checks, plural(s.FailedRoutes, "route", "routes"))
	}
	return nil
}
