package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/shard"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/verify"
	"github.com/cachectl/cachectl/pkg/verify/sitemap"
)

// VerifyOptions are the parsed flags of `cachectl verify` and what its plan
// and run steps use.
type VerifyOptions struct {
	cmdDeps

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
	// Record rewrites the expectations of RecordRoutes (every route when
	// empty) from what they do now; Yes writes without asking.
	Record       bool
	RecordRoutes []string
	Yes          bool
}

func newCmdVerify(f *Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{cmdDeps: f.deps()}
	cmd := &cobra.Command{
		Use:   "verify [--record [ROUTE...]]",
		Short: "Check every route's cache expectations against one environment",
		Long: `Probe every route of the config (or of --routes / --sitemap) in the --env
environment as an anonymous visitor and, when the environment has a session, as
a logged-in one, and check each variant against its expectations: cache status,
status code, private, no_store, min/max shared-cache lifetime, TTFB, headers and
findings. Every failure names the route's owner and rollback.

Routes without expectations of their own get the defaults section's, or a
single check: no finding at or above "error".

--record [ROUTE...] rewrites the expectations of the config routes named
(every route when none is) from what they do now, like updating golden
files: it probes each twice (cold, then warm), shows the change to the file
as a diff, and writes it after a confirmation on a terminal, or with --yes.
Only those routes' expect blocks change; comments and other routes stay as
they are, and nothing is written unless the result passes config validate.

Exit status: 0 all checks passed, 1 a check failed, 2 bad config or flags
(nothing sent), 3 a probe got no response (network, TLS, timeout): that route
could not be judged, so the run is not a pass; the other results are reported.`,
		Example: `  cachectl verify --env production
  cachectl verify --env production --warm --retry-until-pass 3 --interval 10s -o junit > verify.xml
  cachectl verify --env production --sitemap https://www.example.com/sitemap.xml --sample 500 --seed 42
  cachectl verify --env production -o html > cache-report.html
  cachectl verify --env production --routes urls.txt --shard 2/4 -o jsonl > shard-2.jsonl
  cachectl report merge shard-*.jsonl -o markdown
  cachectl verify --env production --record /articles/x /feed.xml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.RecordRoutes = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.Record {
				return recordRun(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	addVerifyFlags(cmd, opts)
	return cmd
}

// addVerifyFlags declares verify's flags on cmd.
func addVerifyFlags(cmd *cobra.Command, opts *VerifyOptions) {
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
	fl.BoolVar(&opts.Record, "record", false, "rewrite the expectations of the ROUTEs given (all when none) from what they do now, showing the diff first")
	fl.BoolVar(&opts.Yes, "yes", false, "with --record: write without asking (needed when not on a terminal)")
}

// verifyPlan is everything verify needs, decided before any probe is
// built or sent: every refusal comes from planVerify. The one request a
// plan may make is fetching a --sitemap, whose pages are the routes.
type verifyPlan struct {
	routeSet
	env      *config.Environment
	cfgFile  string
	format   report.Format
	total    int
	width    int
	variants []probe.Variant
	session  *probe.Session
	probe    probe.Options
}

func planVerify(ctx context.Context, opts *VerifyOptions) (*verifyPlan, error) {
	format, err := opts.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown, report.HTML)
	if err != nil {
		return nil, err
	}
	cfg, env, err := opts.requireEnvironment("verify")
	if err != nil {
		return nil, err
	}
	p := &verifyPlan{env: env, cfgFile: cfg.File, format: format}
	p.sample, p.seed, p.file = opts.Sample, opts.Seed, opts.Routes
	if err := checkVerifyFlags(opts); err != nil {
		return nil, err
	}
	if p.shard, err = verifyShard(opts); err != nil {
		return nil, err
	}
	if p.planner, err = verify.NewPlanner(cfg, env); err != nil {
		return nil, usageError(fmt.Errorf("config: %w", err))
	}
	if p.session, p.variants, err = planVariants(opts.cmdDeps, cfg, env, opts.CookieEnv); err != nil {
		return nil, err
	}
	if p.names, err = routeSource(ctx, opts.cmdDeps, opts.Routes, opts.Sitemap, env, p.planner); err != nil {
		return nil, err
	}
	p.check = sessionCheck(env, p.session)
	// Every route is resolved and checked before the first request, and
	// counted for the progress bar; a --routes file is read twice rather
	// than held in memory, and checked again as the run reads it.
	err = p.each(func(r verify.Indexed, _ verify.Target) bool {
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
	// Bodies are hashed only for the findings that compare them, and
	// Server-Timing is read only for the checks and findings that judge it.
	findings := p.planner.NeedsFindings(p.variants)
	base := probe.Options{KeepAlive: !opts.Fresh, NoBodyHash: !findings, NoServerTiming: !findings && !p.planner.NeedsServerTiming(p.variants)}
	if p.probe, err = opts.proberOptions(env, base, nil, opts.CacheHeaders); err != nil {
		return nil, err
	}
	return p, checkHostHeader(p.probe, env, p.session)
}

// checkVerifyFlags checks the flags that need no config.
func checkVerifyFlags(opts *VerifyOptions) error {
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return err
	}
	if len(opts.RecordRoutes) > 0 && !opts.Record {
		return usageErrorf("verify: unexpected argument %q (routes come from the config, --routes or --sitemap; ROUTE arguments go with --record)", opts.RecordRoutes[0])
	}
	switch {
	case opts.Sample < 0 || opts.Sample > verify.MaxSample:
		return usageErrorf("--sample %d: expected a number of routes from 1 to %d", opts.Sample, verify.MaxSample)
	case opts.Retries < 0 || opts.Retries > 100:
		return usageErrorf("--retry-until-pass %d: expected 0 to 100", opts.Retries)
	case opts.Retries > 0 && opts.Interval <= 0:
		return usageErrorf("--interval %s: expected a positive duration such as 5s", opts.Interval)
	}
	return checkRate(opts.Rate)
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
func verifyShard(opts *VerifyOptions) (shard.Shard, error) {
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
		idx, ok := opts.Lookup("JOB_COMPLETION_INDEX")
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

// readSitemap fetches a sitemap without cookies and turns its pages into
// paths of the environment; pages on other hosts are skipped with a warning.
func readSitemap(ctx context.Context, d cmdDeps, src string, env *config.Environment) ([]string, error) {
	client := &http.Client{Timeout: d.Globals.Timeout * 3}
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
		d.Logger.Warn("sitemap entries skipped", "count", res.SkippedTotal, "first", res.Skipped[0].Loc, "reason", res.Skipped[0].Reason)
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

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	p, err := planVerify(ctx, opts)
	if err != nil {
		return err
	}
	return runVerify(ctx, opts, p)
}

func runVerify(ctx context.Context, opts *VerifyOptions, p *verifyPlan) error {
	defer collectLessOften(opts.Lookup)()
	start := time.Now()
	annotate, bar := githubAnnotator(opts.cmdDeps, p.cfgFile), verifyProgress(opts, p)
	// The report is buffered unless a progress bar or annotations share
	// the terminal or log with it and must keep their place beside it.
	stdout, flush := reportBuffer(opts.IO.Out, annotate == nil && bar == nil)
	w, err := report.NewVerifyWriter(p.format, stdout, report.VerifyOptions{
		Style: opts.Style(), Env: p.env.Name, RouteWidth: p.width, Timestamp: start,
	})
	if err != nil {
		return usageError(err)
	}
	out := &verifyOutput{w: w, annotate: annotate, bar: bar}
	shardLabel := ""
	if !p.shard.Whole() {
		shardLabel = p.shard.String()
	}
	// The routes are checked again as the run reads them: a --routes file
	// that changed since the plan stops the run at the first route that no
	// longer passes.
	var targetErr error
	targets := func(yield func(verify.Target) bool) {
		targetErr = p.each(func(_ verify.Indexed, t verify.Target) bool { return yield(t) })
	}
	runErr := verify.Run(ctx, probe.New(p.probe), targets, verify.Options{
		Env: p.env.Name, Shard: shardLabel, Variants: p.variants, Session: p.session,
		Concurrency: opts.Concurrency, Warm: opts.Warm, Retries: opts.Retries, Interval: opts.Interval, Limiter: rateLimiter(opts.Rate),
		Flush: flush,
	}, out.route)
	if out.bar != nil {
		_ = out.bar.Finish()
	}
	sum := &out.sum
	sum.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	sum.Finish()
	closeReport := func() error { return errors.Join(w.Close(sum), flush()) }
	if err := finishOutput("verify", closeReport, out.annotate, runErr); err != nil {
		return err
	}
	if targetErr != nil {
		// Only a --routes file is read again; the other sources are held.
		return fmt.Errorf("%w (--routes %s changed after it was checked; the run stopped there)", targetErr, opts.Routes)
	}
	return verdict("verify", sum)
}

// probeRunGCPercent is the garbage collector's target while many routes
// are probed: the live heap stays at a few MB however many routes there are
// (results stream out as they are ready), while every probe leaves
// short-lived garbage behind (response headers, records, encoded lines), so
// a collection when the heap has grown by 4× its live size rather than 1×
// costs a few MB and saves most collections.
const probeRunGCPercent = 400

// collectLessOften sets probeRunGCPercent unless GOGC says otherwise, and
// returns what restores the previous target.
func collectLessOften(lookup config.Lookup) func() {
	if _, set := lookup("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(probeRunGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// verifyProgress is the progress bar on stderr, nil unless both stdout and
// stderr are terminals.
func verifyProgress(opts *VerifyOptions, p *verifyPlan) *progressbar.ProgressBar {
	if !opts.IO.ProgressEnabled() {
		return nil
	}
	return progressbar.NewOptions(p.total,
		progressbar.OptionSetWriter(opts.IO.ErrOut),
		progressbar.OptionSetDescription("verify "+p.env.Name),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// verifyOutput takes each route's results as the run finishes it: totals,
// annotations, the report and the progress bar.
type verifyOutput struct {
	w        report.VerifyWriter
	annotate *report.GitHubAnnotator
	bar      *progressbar.ProgressBar
	sum      verify.Summary
}

func (o *verifyOutput) route(res verify.RouteResult) error {
	for _, r := range res.Records {
		o.sum.Add(r)
		if o.annotate != nil {
			if err := o.annotate.Check(r); err != nil {
				return err
			}
		}
	}
	if o.bar != nil {
		_ = o.bar.Clear() // the table shares the terminal
	}
	if err := o.w.Route(res.Records); err != nil {
		return err
	}
	if o.bar != nil {
		_ = o.bar.Add(1)
	}
	return nil
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
