package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/target"
)

// InspectOptions are the parsed flags of `cachectl inspect` and what its
// plan and run steps use.
type InspectOptions struct {
	cmdDeps

	Targets      []string
	FromFile     string
	As           string
	Headers      []string
	UserAgent    string
	CacheHeaders []string
	Repeat       int
	Until        string
	Wait         time.Duration
	Concurrency  int
	FailOn       string
	CookieEnv    string
	Follow       bool
	DebugHeaders bool
	KeepAlive    bool
	Method       string
}

func newCmdInspect(f *Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{cmdDeps: f.deps()}
	cmd := &cobra.Command{
		Use:   "inspect URL|PATH...",
		Short: "Show how routes are cached for an anonymous and a logged-in visitor",
		Long: `Fetch each route as an anonymous visitor and, when the environment has a
session, as a logged-in one; show the status code, the normalized cache status
(HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS, DYNAMIC, UNKNOWN) with
the header it came from and every cache layer, Cache-Control, Vary, whether a
cookie was set, timings (dns, connect, tls, ttfb, total) and findings such as a
logged-in page served from a shared cache.

Paths are resolved against the --env environment's base_url; full URLs work
without a config file. Requests are GETs with browser-like Accept and
Accept-Encoding headers, over a fresh connection each, and redirects are
reported rather than followed.

Exit status: 0 when every probe completed (and, with --fail-on, no finding at or
above that severity; with --until, the status was reached), 1 when a finding or
--until check failed, 2 for bad input (nothing sent), 3 when a probe failed
(DNS, connection, TLS, timeout); the other probes are still reported.`,
		Example: `  cachectl inspect https://www.example.com/
  cachectl inspect --env production --as both /account /articles/x
  cachectl inspect --env production --repeat 3 /articles/x
  cachectl inspect --env production --until HIT --wait 30s /articles/x
  cachectl inspect --env production --from-file urls.txt -o jsonl --fail-on error`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return inspectRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.FromFile, "from-file", "", "read URLs or paths from FILE, one per line (- for stdin; # comments)")
	fl.StringVar(&opts.As, "as", "", "visitor variant: anonymous, logged-in or both (default: both when the environment has a session)")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, `extra request header "Name: value" (repeatable; no credentials)`)
	fl.StringVar(&opts.UserAgent, "user-agent", "", "User-Agent to send (default: cachectl's own)")
	fl.StringArrayVar(&opts.CacheHeaders, "cache-header", nil, "response header holding the site's own cache status, checked first (repeatable)")
	fl.IntVar(&opts.Repeat, "repeat", 1, "probe each route N times in a row to see the sequence (MISS → HIT)")
	fl.StringVar(&opts.Until, "until", "", "poll each route until its cache status is STATUS (e.g. HIT); exit 1 if it never is")
	fl.DurationVar(&opts.Wait, "wait", 30*time.Second, "how long --until keeps polling")
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "routes probed at once")
	fl.StringVar(&opts.FailOn, "fail-on", "", "exit 1 when a finding at or above this severity is present: warn or error")
	fl.StringVar(&opts.CookieEnv, "cookie-env", "", "read the session cookie value from this environment variable (never from a flag)")
	fl.BoolVar(&opts.Follow, "follow", false, "follow redirects (the session cookie is never sent to another host)")
	fl.BoolVar(&opts.DebugHeaders, "debug-headers", false, "send vendor debug request headers (Akamai Pragma, Fastly-Debug, X-Debug); CDNs then report more")
	fl.BoolVar(&opts.KeepAlive, "keep-alive", false, "reuse connections between probes (timings then omit dns/connect/tls)")
	fl.StringVar(&opts.Method, "method", "GET", "request method: GET or HEAD (CDNs often treat HEAD differently)")
	return cmd
}

// inspectPlan is everything inspect needs, decided before anything is
// built or sent: every refusal comes from planInspect.
type inspectPlan struct {
	targets  *targetList
	variants []probe.Variant
	session  *probe.Session
	probe    probe.Options
	until    cachestatus.Status
	failOn   finding.Severity
	format   report.Format
}

func planInspect(opts *InspectOptions) (*inspectPlan, error) {
	format, cfg, env, err := opts.planStart(report.Table, report.JSON, report.JSONL)
	if err != nil {
		return nil, err
	}
	p := &inspectPlan{format: format}
	method, err := p.readFlags(opts)
	if err != nil {
		return nil, err
	}
	if p.variants, err = inspectVariants(opts.As, hasSession(env)); err != nil {
		return nil, err
	}
	if p.session, err = variantSession(opts.Lookup, opts.As, opts.CookieEnv, cfg.File, env, p.variants); err != nil {
		return nil, err
	}
	if p.targets, err = newTargetList(opts.IO.In, env, opts.Targets, opts.FromFile, sessionCheck(env, p.session)); err != nil {
		if errors.Is(err, target.ErrNoEnvironment) {
			return nil, usageErrorf("%v; %s", err, knownEnvironments(cfg, opts.Environ, "--env may name: "))
		}
		return nil, err
	}
	if p.targets.count == 0 {
		return nil, usageErrorf("inspect: %s holds no URL or path (expected one per line)", opts.FromFile)
	}
	p.probe, err = opts.proberOptions(env, probe.Options{
		Method:       method,
		UserAgent:    opts.UserAgent,
		DebugHeaders: opts.DebugHeaders,
		Follow:       opts.Follow,
		KeepAlive:    opts.KeepAlive,
	}, opts.Headers, opts.CacheHeaders)
	if err != nil {
		return nil, err
	}
	return p, checkHostHeader(p.probe, env, p.session)
}

// readFlags checks the flags that need no config and returns the method.
func (p *inspectPlan) readFlags(opts *InspectOptions) (string, error) {
	if len(opts.Targets) == 0 && opts.FromFile == "" {
		return "", usageErrorf("inspect: no URL or path given (expected URL|PATH arguments or --from-file FILE)")
	}
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return "", err
	}
	if opts.Repeat < 1 || opts.Repeat > 1000 {
		return "", usageErrorf("--repeat %d: expected 1 to 1000", opts.Repeat)
	}
	if opts.Until != "" {
		st, ok := cachestatus.ParseStatus(opts.Until)
		if !ok {
			return "", usageErrorf("--until %q: expected one of %s", opts.Until, strings.Join(config.Statuses, ", "))
		}
		if opts.Repeat > 1 {
			return "", usageErrorf("--until and --repeat do not go together (--until repeats until the status is seen)")
		}
		if opts.Wait <= 0 {
			return "", usageErrorf("--wait %s: expected a positive duration such as 30s", opts.Wait)
		}
		p.until = st
	}
	switch opts.FailOn {
	case "":
	case "warn", "error", "info":
		p.failOn = finding.Severity(opts.FailOn)
	default:
		return "", usageErrorf("--fail-on %q: expected warn or error", opts.FailOn)
	}
	method := strings.ToUpper(opts.Method)
	if method != "GET" && method != "HEAD" {
		return "", usageErrorf("--method %q: expected GET or HEAD", opts.Method)
	}
	return method, nil
}

// inspectVariants reads --as; without it, a run probes the logged-in
// variant too when the environment has a session.
func inspectVariants(as string, session bool) ([]probe.Variant, error) {
	switch strings.ReplaceAll(as, "_", "-") {
	case "":
		if session {
			return []probe.Variant{probe.Anonymous, probe.LoggedIn}, nil
		}
		return []probe.Variant{probe.Anonymous}, nil
	case "anonymous":
		return []probe.Variant{probe.Anonymous}, nil
	case "logged-in":
		return []probe.Variant{probe.LoggedIn}, nil
	case "both":
		return []probe.Variant{probe.Anonymous, probe.LoggedIn}, nil
	}
	return nil, usageErrorf("--as %q: expected anonymous, logged-in or both", as)
}

func inspectRun(ctx context.Context, opts *InspectOptions) error {
	p, err := planInspect(opts)
	if err != nil {
		return err
	}
	return runInspect(ctx, opts, p)
}

func runInspect(ctx context.Context, opts *InspectOptions, p *inspectPlan) error {
	prober := probe.New(p.probe)
	w, err := report.NewInspectWriter(p.format, opts.IO.Out, report.InspectOptions{
		Style:          opts.Style(),
		RequestHeaders: prober.RequestHeaders(),
		URLWidth:       p.targets.width,
		Fresh:          !opts.KeepAlive,
	})
	if err != nil {
		return usageError(err)
	}
	jobs := func(yield func(inspect.Job) bool) {
		for u := range p.targets.All {
			if !yield(inspect.Job{URL: u, Variants: p.variants}) {
				return
			}
		}
	}
	start := time.Now()
	var sum report.InspectSummary
	worst := finding.Severity("")
	runErr := inspect.Run(ctx, prober, iter.Seq[inspect.Job](jobs), inspect.Options{
		Concurrency: opts.Concurrency,
		Repeat:      opts.Repeat,
		Until:       p.until,
		Wait:        opts.Wait,
		Session:     p.session,
	}, func(g inspect.Group) error {
		sum.Add(g)
		for _, pr := range g.Probes {
			if top := analyze.MaxSeverity(pr.Findings); top.Rank() > worst.Rank() {
				worst = top
			}
			opts.Logger.Debug("probe", "url", pr.URL, "variant", pr.Variant, "status", pr.StatusCode, "cache", pr.Cache.Status, "source", pr.Cache.Source, "error", pr.Error)
		}
		return w.Group(g)
	})
	sum.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	if err := w.Close(sum); err != nil {
		return operationalError(fmt.Errorf("inspect: writing output: %w", err))
	}
	if runErr == nil && p.targets.err != nil {
		return p.targets.err
	}
	if runErr != nil {
		return operationalError(fmt.Errorf("inspect: %w", runErr))
	}
	return p.verdict(&sum, worst, opts.Wait)
}

// verdict turns a finished inspect run into the exit-code contract.
func (p *inspectPlan) verdict(sum *report.InspectSummary, worst finding.Severity, wait time.Duration) error {
	switch {
	case sum.Errors > 0:
		return operationalError(fmt.Errorf("inspect: %s of %d failed (network, TLS or timeout; see each probe's error)", plural(sum.Errors, "probe", "probes"), sum.Probes))
	case sum.Unreached > 0:
		return checkFailed("inspect: %d route/variant pair(s) never reached cache status %s within %s", sum.Unreached, p.until, wait)
	case p.failOn != "" && worst.Rank() >= p.failOn.Rank():
		return checkFailed("inspect: findings at or above %q (--fail-on %s)", p.failOn, p.failOn)
	}
	return nil
}
