package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/verify"
)

// DiffOptions are the parsed flags of `cachectl diff` and what its plan and
// run steps use. The two environments are the --env flags (Globals.Envs).
type DiffOptions struct {
	cmdDeps

	Targets     []string
	Ignore      []string
	Concurrency int
	Rate        float64
	Fresh       bool
}

func newCmdDiff(f *Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{cmdDeps: f.deps()}
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
  cachectl diff --env staging --env production -o markdown >> "$GITHUB_STEP_SUMMARY"
  cachectl diff --env staging --env production -o html > drift.html`,
		Annotations: map[string]string{annotationMultiEnv: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Ignore, "ignore", nil, "a field whose differences are expected (repeatable): "+strings.Join(verify.DiffFields[1:], ", "))
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "routes compared at once")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most this many requests per second on each side (0: no cap)")
	fl.BoolVar(&opts.Fresh, "fresh-connections", false, "open a new connection for every probe")
	return cmd
}

// diffSide is one environment of a diff and how it is probed.
type diffSide struct {
	env     *config.Environment
	probe   probe.Options
	session *probe.Session
}

// diffPlan is everything diff needs, decided before any probe is built or
// sent: every refusal comes from planDiff.
type diffPlan struct {
	a, b     diffSide
	targets  []verify.DiffTarget
	variants []probe.Variant
	format   report.Format
	cfgFile  string
	width    int
}

func planDiff(opts *DiffOptions) (*diffPlan, error) {
	format, err := opts.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown, report.HTML)
	if err != nil {
		return nil, err
	}
	cfg, err := opts.Config()
	if err != nil {
		return nil, err
	}
	envs := opts.Globals.Envs
	if len(envs) != 2 {
		return nil, usageErrorf("diff: expected --env A --env B (two environments), got %d (%s)", len(envs), knownEnvironments(cfg, opts.Environ, "known: "))
	}
	if err := checkDiffFlags(opts); err != nil {
		return nil, err
	}
	p := &diffPlan{format: format, cfgFile: cfg.File}
	if p.a, err = planDiffSide(opts, cfg, envs[0]); err != nil {
		return nil, err
	}
	if p.b, err = planDiffSide(opts, cfg, envs[1]); err != nil {
		return nil, err
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
	if err := p.resolve(routes, cfg.Routes); err != nil {
		return nil, err
	}
	return p, nil
}

// checkDiffFlags checks the flags that need no config.
func checkDiffFlags(opts *DiffOptions) error {
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return err
	}
	if err := checkRate(opts.Rate); err != nil {
		return err
	}
	for _, ig := range opts.Ignore {
		if !slices.Contains(verify.DiffFields[1:], ig) {
			return usageErrorf("--ignore %q: expected one of %s", ig, strings.Join(verify.DiffFields[1:], ", "))
		}
	}
	return nil
}

// planDiffSide is the environment named name, its session and its probes.
func planDiffSide(opts *DiffOptions, cfg *config.Config, name string) (diffSide, error) {
	env, err := cfg.Env(name)
	if err != nil {
		return diffSide{}, usageError(err)
	}
	s := diffSide{env: env}
	if s.session, err = resolveSession(opts.Lookup, env, ""); err != nil {
		return diffSide{}, err
	}
	if s.probe, err = opts.proberOptions(env, probe.Options{KeepAlive: !opts.Fresh}, nil, nil); err != nil {
		return diffSide{}, err
	}
	return s, checkHostHeader(s.probe, env, s.session)
}

// resolve turns each route, a path, into a URL on each side, with the owner
// and rollback of the config's route of that path. A side with a session
// sends its cookie only to its environment's own hosts.
func (p *diffPlan) resolve(routes []string, configured []config.Route) error {
	for i, r := range routes {
		if !strings.HasPrefix(r, "/") {
			return usageErrorf("diff: %q is not a path (expected /path: each side resolves it against its own base_url)", r)
		}
		ua, err := p.a.resolve(i, r)
		if err != nil {
			return err
		}
		ub, err := p.b.resolve(i, r)
		if err != nil {
			return err
		}
		t := verify.DiffTarget{Index: i, Route: r, URLA: ua, URLB: ub}
		if j := slices.IndexFunc(configured, func(c config.Route) bool { return c.Path == r }); j >= 0 {
			t.Owner, t.Rollback = configured[j].Owner, configured[j].Rollback
		}
		p.targets = append(p.targets, t)
		p.width = max(p.width, utf8.RuneCountInString(r))
	}
	return nil
}

// resolve is route number i on this side.
func (s *diffSide) resolve(i int, route string) (string, error) {
	u, err := target.Resolve(s.env.TargetEnv(), route)
	if err != nil {
		return "", usageError(err)
	}
	if check := sessionCheck(s.env, s.session); check != nil {
		if err := check(u); err != nil {
			return "", usageError(fmt.Errorf("route %d (%s): %w", i+1, route, err))
		}
	}
	return u, nil
}

func diffRun(ctx context.Context, opts *DiffOptions) error {
	p, err := planDiff(opts)
	if err != nil {
		return err
	}
	return runDiff(ctx, opts, p)
}

func runDiff(ctx context.Context, opts *DiffOptions, p *diffPlan) error {
	start := time.Now()
	w, err := report.NewDiffWriter(p.format, opts.IO.Out, report.DiffOptions{
		Style: opts.Style(), EnvA: p.a.env.Name, EnvB: p.b.env.Name, RouteWidth: p.width, Timestamp: start,
	})
	if err != nil {
		return usageError(err)
	}
	annotate := githubAnnotator(opts.cmdDeps, p.cfgFile)
	var sum verify.DiffSummary
	runErr := verify.Diff(ctx, probe.New(p.a.probe), probe.New(p.b.probe), slices.Values(p.targets), verify.DiffOptions{
		EnvA: p.a.env.Name, EnvB: p.b.env.Name, Variants: p.variants,
		SessionA: p.a.session, SessionB: p.b.session,
		Concurrency: opts.Concurrency, Limiter: rateLimiter(opts.Rate), Ignore: opts.Ignore,
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
