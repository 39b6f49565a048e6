package cli

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/retry"
)

// purgePlan is a purge decided in full before anything is opened or sent:
// the environment, the targets, the provider and its batches, where the
// journal goes. Every refusal (bad input, a host outside the environment, a
// kind the provider cannot purge, a missing secret) happens while planning.
type purgePlan struct {
	format report.Format
	env    *config.Environment
	run    purge.RunInfo
	// source yields the targets as given (a --from-file is read as it is
	// planned), variants asks for --variants; plan is what they became.
	source   iter.Seq2[purge.Target, error]
	variants bool
	plan     *purge.BatchPlan
	// resumed is set when the targets come from a journal (--resume);
	// nothingLeft when that run has nothing left to purge.
	resumed, nothingLeft bool
	// wholeZone says what the purge empties when it empties a whole zone
	// or host (--everything, --host, --prefix /): it needs confirmation.
	wholeZone string
	journal   string
	spec      purge.Spec
	pcfg      purge.Config
	provider  purge.Provider
	limits    *purge.Limits
	owner     func(string) string
	// keyHeaders are the cache-key headers every URL was multiplied by;
	// relatedPrefixes maps a prefix a related rule added to the rule's key.
	keyHeaders      []purge.KeyHeader
	relatedPrefixes map[string]string
	// staleErrors counts URLs --stale could not check; they are not purged.
	staleErrors int
}

func purgeRun(ctx context.Context, f *Factory, opts *PurgeOptions) error {
	p, err := planPurge(ctx, f, opts)
	if err != nil || p.nothingLeft {
		return err
	}
	defer p.plan.Close()
	if p.wholeZone != "" && !opts.DryRun {
		if err := confirmWholeZone(f, p, opts.Yes); err != nil {
			return err
		}
	}
	return runPurge(ctx, f, opts, p)
}

// planPurge turns flags and config into a plan. It reads the config, a
// --from-file or the journal of a --resume run, and resolves the
// provider's secret; it sends nothing.
func planPurge(ctx context.Context, f *Factory, opts *PurgeOptions) (*purgePlan, error) {
	format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL)
	if err != nil {
		return nil, err
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if opts.Warm && !opts.Verify {
		return nil, usageErrorf("purge: --warm needs --verify")
	}
	p := &purgePlan{format: format}
	if opts.Resume != "" {
		err = p.fromJournal(f, opts)
	} else {
		err = p.fromInput(ctx, f, opts)
	}
	if err != nil || p.nothingLeft {
		return p, err
	}
	if err := p.buildProvider(f); err != nil {
		return nil, err
	}
	if p.plan, err = purge.PlanStream(p.provider, p.source, purge.PlanOptions{
		Soft: p.run.Soft, Delete: p.run.Delete, Variants: p.variants, KeyHeaders: p.keyHeaders,
		Environment: p.env.Name, AllowedHosts: p.env.AllowedHosts(), Observe: p.observe,
		SpoolDir: f.Environ.Get("TMPDIR"),
	}); err != nil {
		return nil, classifyPurgeError(err)
	}
	if p.plan.Targets() == 0 {
		// Only a --from-file can be empty: every other way names a target.
		_ = p.plan.Close()
		return nil, usageErrorf("purge: no target given: --from-file %s names no URL or path; nothing was sent", opts.FromFile)
	}
	if !opts.DryRun && p.journal == "" {
		if p.journal, err = journalPath(f, opts.Journal); err != nil {
			_ = p.plan.Close()
			return nil, err
		}
	}
	p.owner = routeOwner(cfg, p.env)
	return p, nil
}

// observe sees each target as it is planned: it notes a whole-zone effect
// and refuses a related rule's prefix the provider cannot purge.
func (p *purgePlan) observe(t purge.Target) error {
	if p.wholeZone == "" {
		p.wholeZone = wholeZoneEffect(p.env.Name, t)
	}
	return p.checkRelatedPrefix(t)
}

// fromInput takes the targets from arguments, --from-file and the
// --tag/--prefix/--host/--everything flags.
func (p *purgePlan) fromInput(ctx context.Context, f *Factory, opts *PurgeOptions) error {
	env, err := purgeEnvironment(f, f.Globals.Env)
	if err != nil {
		return err
	}
	p.env = env
	in, err := purgeInput(ctx, f, opts, env)
	if err != nil {
		return err
	}
	p.source = in.All(env.BaseURL)
	if opts.Related || opts.Stale {
		// Related rules and the staleness check work on every URL at once.
		if err := p.gather(ctx, f, opts, in); err != nil || p.nothingLeft {
			return err
		}
	}
	if p.keyHeaders, err = keyHeaders(env, opts.KeyHeaders); err != nil {
		return err
	}
	p.variants = opts.Variants
	p.run = purge.NewRunInfo(env.Name, "", opts.Reason)
	if p.run.User == "" {
		p.run.User = f.Environ.Get("USER")
	}
	p.run.Soft = opts.Soft
	p.run.Delete = opts.Delete
	p.run.DryRun = opts.DryRun
	return nil
}

// gather takes every target given at once and adds the related ones
// (--related), then keeps the stale ones (--stale).
func (p *purgePlan) gather(ctx context.Context, f *Factory, opts *PurgeOptions, in purge.Input) error {
	targets, err := in.Targets(p.env.BaseURL)
	if err != nil {
		return classifyPurgeError(err)
	}
	env := p.env
	if opts.Related {
		cfg, err := f.Config()
		if err != nil {
			return err
		}
		if targets, p.relatedPrefixes, err = addRelated(cfg, env, targets); err != nil {
			return err
		}
	}
	if opts.Stale {
		if targets, err = p.keepStale(ctx, f, opts, targets); err != nil || p.nothingLeft {
			return err
		}
		if len(targets) == 0 {
			return operationalError(fmt.Errorf("purge: %s could not be checked for staleness (see the warnings); nothing was sent", plural(p.staleErrors, "URL", "URLs")))
		}
	}
	p.source = purge.TargetSeq(targets)
	return nil
}

// fromJournal takes the targets and settings of a --resume run: what the
// journal does not show as confirmed purged.
func (p *purgePlan) fromJournal(f *Factory, opts *PurgeOptions) error {
	if len(opts.Targets)+len(opts.Tags)+len(opts.Prefixes)+len(opts.Hosts)+len(opts.KeyHeaders) > 0 || opts.FromFile != "" || opts.Everything || opts.Related || opts.Variants {
		return usageErrorf("purge: --resume takes no other targets, --related, --variants or --key-header (it re-sends the pending targets of run %s as they were planned)", opts.Resume)
	}
	jpath, err := journalPath(f, opts.Journal)
	if err != nil {
		return err
	}
	pending, warnings, err := purge.PendingStream(jpath, opts.Resume)
	for _, w := range warnings {
		f.Logger.Warn("journal line skipped", "error", w.Error())
	}
	if err != nil {
		return classifyPurgeError(err)
	}
	info := pending.Info
	name := f.Globals.Env
	if name == "" {
		name = info.Environment
	} else if !strings.EqualFold(name, info.Environment) {
		return usageErrorf("purge: run %s was for environment %q, not %q; nothing was sent", opts.Resume, info.Environment, name)
	}
	if pending.Count == 0 {
		fmt.Fprintf(f.IO.ErrOut, "run %s has nothing left to purge\n", opts.Resume)
		p.nothingLeft = true
		return nil
	}
	if p.env, err = purgeEnvironment(f, name); err != nil {
		return err
	}
	p.source, p.run, p.resumed, p.journal = pending.Targets, info, true, jpath
	p.run.DryRun = opts.DryRun
	return nil
}

// purgeEnvironment is the named environment; purge always needs one.
func purgeEnvironment(f *Factory, name string) (*config.Environment, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, usageErrorf("purge: no environment chosen (expected --env NAME: the provider and allowed hosts come from it; %s)", knownEnvironments(cfg, f.Environ, "one of: "))
	}
	env, err := cfg.Env(name)
	return env, usageError(err)
}

// buildProvider finds the environment's provider, resolves its secret and
// builds it with the retrying client. Building sends nothing.
func (p *purgePlan) buildProvider(f *Factory) error {
	spec, pcfg, provider, err := newProvider(f.deps(), p.env)
	if err != nil {
		return err
	}
	limits, err := spec.Limits(pcfg, p.env.CDN.Settings)
	if err != nil {
		return usageError(err)
	}
	p.spec, p.pcfg, p.provider, p.limits = spec, pcfg, provider, limits
	if p.run.Provider == "" {
		p.run.Provider = provider.Name()
	}
	return nil
}

// newProvider builds env's purge provider: its secret resolved, requests
// through the retrying client with timeout per attempt, logs tagged with
// the environment and provider, the environment and the run's scrubber for
// providers that resolve credentials themselves, progress lines on
// stderr, and the probes' variant headers for providers that address cache
// entries themselves. Building sends nothing; every refusal is a usage
// error.
func newProvider(d cmdDeps, env *config.Environment) (purge.Spec, purge.Config, purge.Provider, error) {
	spec, pcfg, err := providerConfig(d.Lookup, env)
	if err != nil {
		return spec, pcfg, nil, err
	}
	o, err := d.proberOptions(env, probe.Options{}, nil, nil)
	if err != nil {
		return spec, pcfg, nil, err
	}
	logger := d.Logger.With("env", env.Name, "provider", pcfg.Provider)
	policy := retry.DefaultPolicy()
	if env.CDN.MaxAttempts > 0 {
		policy.MaxAttempts = env.CDN.MaxAttempts
	}
	policy.AttemptTimeout = d.Globals.Timeout
	deps := purge.Deps{
		HTTP: retry.NewClient(policy, logger), Logger: logger,
		LookupEnv: d.Lookup, Secrets: d.Scrubber,
		Progress: func(msg string) { fmt.Fprintln(d.IO.ErrOut, msg) },
		Header:   variantHeaders(probe.New(o)),
	}
	provider, err := spec.New(pcfg, env.CDN.Settings, deps)
	if err != nil {
		return spec, pcfg, nil, usageError(err)
	}
	return spec, pcfg, provider, nil
}

// variantHeaders are the request headers of prober's probes that pick a
// cache variant, and cachectl's User-Agent: what a purge request to a
// cache node carries, so it names the entry visitors and --verify get.
func variantHeaders(prober *probe.Prober) map[string]string {
	h := prober.RequestHeaders()
	out := map[string]string{}
	for _, name := range []string{"User-Agent", "Accept", "Accept-Encoding"} {
		out[name] = h[name]
	}
	return out
}

// wholeZoneEffect says what target t empties when it empties a whole zone
// or host of environment env: purging everything, a host, or the prefix
// "/"; "" when it does not.
func wholeZoneEffect(env string, t purge.Target) string {
	switch {
	case t.Kind == purge.KindEverything:
		return fmt.Sprintf("--everything purges the whole cache of environment %q", env)
	case t.Kind == purge.KindHost:
		return fmt.Sprintf("--host %s purges everything cached for that host", t.Value)
	case t.Kind == purge.KindPrefix && isRootPrefix(t.Value):
		return fmt.Sprintf("--prefix %s purges everything cached for that host", t.Value)
	}
	return ""
}

// isRootPrefix reports whether a prefix ("www.example.com/blog/") covers a
// whole host.
func isRootPrefix(prefix string) bool {
	if _, rest, ok := strings.Cut(prefix, "://"); ok {
		prefix = rest
	}
	_, path, _ := strings.Cut(prefix, "/")
	return path == ""
}
