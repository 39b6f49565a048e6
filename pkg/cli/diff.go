package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/verify"
)

// DiffOptions are the parsed flags of `cachectl diff`.
type DiffOptions struct {
	Targets     []string
	Ignore      []string
	Concurrency int
	Rate        float64
	Fresh       bool
}

func newCmdDiff(f *Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --env A --env B [PATH...]",
		Short: "Compare how two environments cache the same routes",
		Long: `Probe the same routes (the config's, or the PATHs given) in two environments,
warmed (one request per route and variant before the one that counts), as an
anonymous visitor and, when both environments have a session, as a logged-in
one; compare the normalized cache status, status code, effective shared-cache
lifetime (ttl), Cache-Control directives, Vary, Set-Cookie presence, the
detected CDN or cache, and findings.

--ignore FIELD leaves out an expected difference; fields: ` + strings.Join(verify.DiffFields[1:], ", ") + `.

Exit status: 0 no drift, 1 drift, 2 bad config or flags (nothing sent), 3 a
probe got no response on either side.`,
		Example: `  cachectl diff --env staging --env production
  cachectl diff --env staging --env production --ignore ttl /articles/x
  cachectl diff --env staging --env production -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Annotations: map[string]string{annotationMultiEnv: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Ignore, "ignore", nil, "a field whose differences are expected (repeatable): "+strings.Join(verify.DiffFields[1:], ", "))
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "routes compared at once")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most this many requests per second on each side (0: no cap)")
	fl.BoolVar(&opts.Fresh, "fresh-connections", false, "open a new connection for every probe")
	return cmd
}

type diffSide struct {
	env     *config.Environment
	prober  *probe.Prober
	session *probe.Session
}

type diffPlan struct {
	a, b     diffSide
	targets  []verify.DiffTarget
	variants []probe.Variant
	format   report.Format
	cfgFile  string
	width    int
}

func planDiff(f *Factory, opts *DiffOptions) (*diffPlan, error) {
	format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown)
	if err != nil {
		return nil, err
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	envs := f.Globals.Envs
	if len(envs) != 2 {
		return nil, usageErrorf("diff: expected --env A --env B (two environments), got %d (known: %s)", len(envs), strings.Join(cfg.EnvNames(), ", "))
	}
	if opts.Concurrency < 1 || opts.Concurrency > 1024 {
		return nil, usageErrorf("--concurrency %d: expected 1 to 1024", opts.Concurrency)
	}
	if opts.Rate < 0 {
		return nil, usageErrorf("--rate %g: expected requests per second ≥ 0 (0: no cap)", opts.Rate)
	}
	for _, ig := range opts.Ignore {
		if !slices.Contains(verify.DiffFields[1:], ig) {
			return nil, usageErrorf("--ignore %q: expected one of %s", ig, strings.Join(verify.DiffFields[1:], ", "))
		}
	}
	p := &diffPlan{format: format, cfgFile: cfg.File}
	sides := []*diffSide{&p.a, &p.b}
	for i, name := range envs {
		env, err := cfg.Env(name)
		if err != nil {
			return nil, usageError(err)
		}
		s := sides[i]
		s.env = env
		if env.Session != nil {
			val, err := env.SessionValue(f.Lookup, "")
			if err != nil {
				return nil, usageError(err)
			}
			s.session = &probe.Session{Cookie: env.Session.Cookie, Value: val}
		}
		if s.prober, err = f.newProber(env, probe.Options{KeepAlive: !opts.Fresh}, nil, nil); err != nil {
			return nil, err
		}
	}
	p.variants = []probe.Variant{probe.Anonymous}
	if p.a.session != nil && p.b.session != nil {
		p.variants = append(p.variants, probe.LoggedIn)
	}
	routes := opts.Targets
	if len(routes) == 0 {
		for _, r := range cfg.Routes {
			routes = append(routes, r.Path)
		}
	}
	if len(routes) == 0 {
		return nil, usageErrorf("diff: no routes (expected PATH arguments or routes in %s)", orDash(cfg.File))
	}
	for i, r := range routes {
		if !strings.HasPrefix(r, "/") {
			return nil, usageErrorf("diff: %q is not a path (expected /path: each side resolves it against its own base_url)", r)
		}
		ua, err := target.Resolve(p.a.env.TargetEnv(), r)
		if err != nil {
			return nil, usageError(err)
		}
		ub, err := target.Resolve(p.b.env.TargetEnv(), r)
		if err != nil {
			return nil, usageError(err)
		}
		p.targets = append(p.targets, verify.DiffTarget{Index: i, Route: r, URLA: ua, URLB: ub})
		p.width = max(p.width, utf8.RuneCountInString(r))
	}
	return p, nil
}

func diffRun(ctx context.Context, f *Factory, opts *DiffOptions) error {
	p, err := planDiff(f, opts)
	if err != nil {
		return err
	}
	start := time.Now()
	w, err := report.NewDiffWriter(p.format, f.IO.Out, report.DiffOptions{
		Style: f.Style(), EnvA: p.a.env.Name, EnvB: p.b.env.Name, RouteWidth: p.width, Timestamp: start,
	})
	if err != nil {
		return usageError(err)
	}
	var annotate *report.GitHubAnnotator
	if v, _ := f.Lookup("GITHUB_ACTIONS"); v == "true" {
		annotate = report.NewGitHubAnnotator(f.IO.ErrOut, p.cfgFile)
	}
	var limiter *rate.Limiter
	if opts.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	var sum verify.DiffSummary
	runErr := verify.Diff(ctx, p.a.prober, p.b.prober, slices.Values(p.targets), verify.DiffOptions{
		EnvA: p.a.env.Name, EnvB: p.b.env.Name, Variants: p.variants,
		SessionA: p.a.session, SessionB: p.b.session,
		Concurrency: opts.Concurrency, Limiter: limiter, Ignore: opts.Ignore,
	}, func(r verify.DiffRecord) error {
		sum.Add(r)
		if annotate != nil {
			if err := annotate.Drift(r); err != nil {
				return err
			}
		}
		return w.Route(r)
	})
	sum.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	if err := finishOutput("diff", func() error { return w.Close(&sum) }, annotate, runErr); err != nil {
		return err
	}
	switch sum.Result() {
	case verify.Unreachable:
		return operationalError(fmt.Errorf("diff: %d of %d route/variant pairs got no response on one side (network, TLS or timeout)", sum.Errors, sum.Pairs))
	case verify.ChecksFailed:
		return checkFailed("diff: %d of %d route/variant pairs differ between %s and %s", sum.Drifted, sum.Pairs, p.a.env.Name, p.b.env.Name)
	}
	return nil
}
