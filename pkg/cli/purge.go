package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/providers"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/retry"
	"github.com/cachectl/cachectl/pkg/target"
)

// PurgeOptions are the parsed flags of `cachectl purge`.
type PurgeOptions struct {
	Targets    []string
	FromFile   string
	Tags       []string
	Prefixes   []string
	Hosts      []string
	Everything bool
	Yes        bool
	DryRun     bool
	Verify     bool
	Warm       bool
	Soft       bool
	Variants   bool
	Reason     string
	Journal    string
	Resume     string
}

func newCmdPurge(f *Factory) *cobra.Command {
	opts := &PurgeOptions{}
	cmd := &cobra.Command{
		Use:   "purge URL|PATH...",
		Short: "Purge exactly the given URLs through the environment's CDN: batched, throttled, retried, journaled, verified",
		Long: `Purge only what changed, through the --env environment's CDN provider
(cloudflare, fastly or http-purge for Varnish, nginx, Squid and Traffic Server).

Targets are URLs or paths (resolved against base_url), --from-file, --tag,
--prefix, --host, or --everything. Naming nothing is an error: cachectl never
purges everything by default, and --everything needs --yes (and, on a
terminal, typing the zone's host name). Every URL must be on one of the
environment's hosts, or nothing is sent. Duplicates are dropped; --variants
adds the trailing-slash twin and the other scheme, each its own cache entry.

Requests are batched to the provider's limits (Cloudflare: batch_size URLs,
default 30; 100 tags, hosts or prefixes; Fastly: 256 keys), throttled by a
client-side token bucket matching the plan, retried on 429 (honouring
Retry-After), 5xx and connection errors, and never retried on other 4xx. A
200 answer with "success": false is a failure.

Every batch is synced to an append-only journal (default
$XDG_STATE_HOME/cachectl/journal.jsonl) before it is reported; --resume RUN_ID
re-sends exactly the targets that were not confirmed purged. --verify probes
each purged URL afterwards and requires a not-from-cache status (a 200 from
the API does not prove eviction); --warm then waits until it is cached again.

Exit status: 0 all purged (and verified); 1 a purged URL is still served from
cache; 2 bad input, nothing sent; 3 some targets could not be purged (the
resume command is printed); 130 interrupted (the journal is consistent).`,
		Example: `  cachectl purge --env production --reason "fix typo" --verify /articles/x
  git diff --name-only HEAD~1 | scripts/paths-to-urls | cachectl purge --env production --from-file -
  cachectl purge --env production --tag blog --tag authors
  cachectl purge --env production --dry-run --from-file changed.txt
  cachectl purge --env production --resume 20261126T161200Z-ab12cd
  cachectl purge log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			return purgeRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.FromFile, "from-file", "", "read URLs or paths from FILE, one per line (- for stdin; # comments)")
	fl.StringArrayVar(&opts.Tags, "tag", nil, "purge by cache tag / surrogate key (repeatable)")
	fl.StringArrayVar(&opts.Prefixes, "prefix", nil, "purge by URL prefix, e.g. /blog/ (repeatable)")
	fl.StringArrayVar(&opts.Hosts, "host", nil, "purge every object of a host (repeatable)")
	fl.BoolVar(&opts.Everything, "everything", false, "purge the whole zone or service (needs --yes)")
	fl.BoolVar(&opts.Yes, "yes", false, "confirm --everything")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the batches and exact requests that would be sent; send nothing")
	fl.BoolVar(&opts.Verify, "verify", false, "after the purge, probe each URL and require a not-from-cache status")
	fl.BoolVar(&opts.Warm, "warm", false, "with --verify, request each URL again until it is cached and report the time it took")
	fl.BoolVar(&opts.Soft, "soft", false, "soft purge: mark stale instead of evicting (Fastly)")
	fl.BoolVar(&opts.Variants, "variants", false, "also purge the trailing-slash twin and the other scheme of each URL")
	fl.StringVar(&opts.Reason, "reason", "", "why, recorded in the journal (e.g. \"fix typo in article\")")
	fl.StringVar(&opts.Journal, "journal", "", "journal file (default $XDG_STATE_HOME/cachectl/journal.jsonl)")
	fl.StringVar(&opts.Resume, "resume", "", "re-send the targets of run RUN_ID that were not confirmed purged")
	cmd.AddCommand(newCmdPurgeLog(f))
	return cmd
}

func journalPath(f *Factory, opt string) (string, error) {
	if opt != "" {
		if fi, err := os.Stat(opt); err == nil && fi.IsDir() {
			return "", usageErrorf("--journal %s is a directory (expected a file, e.g. %s)", opt, filepath.Join(opt, "journal.jsonl"))
		}
		return opt, nil
	}
	p, err := purge.DefaultJournalPath(f.Lookup)
	if err != nil {
		return "", usageErrorf("purge: no journal location (%v); pass --journal FILE", err)
	}
	return p, nil
}

func purgeRun(ctx context.Context, f *Factory, opts *PurgeOptions) error {
	format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	jpath := opts.Journal
	if opts.Resume != "" {
		if jpath, err = journalPath(f, opts.Journal); err != nil {
			return err
		}
	}

	// Resume: the targets and settings come from the journal.
	var (
		targets []purge.Target
		run     purge.RunInfo
	)
	if opts.Resume != "" {
		if len(opts.Targets)+len(opts.Tags)+len(opts.Prefixes)+len(opts.Hosts) > 0 || opts.FromFile != "" || opts.Everything {
			return usageErrorf("purge: --resume takes no other targets (it re-sends the pending targets of run %s)", opts.Resume)
		}
		pending, info, warnings, err := purge.Pending(jpath, opts.Resume)
		for _, w := range warnings {
			f.Logger.Warn("journal line skipped", "error", w.Error())
		}
		if err != nil {
			return classifyPurgeError(err)
		}
		if f.Globals.Env == "" {
			f.Globals.Env = info.Environment
		} else if !strings.EqualFold(f.Globals.Env, info.Environment) {
			return usageErrorf("purge: run %s was for environment %q, not %q; nothing was sent", opts.Resume, info.Environment, f.Globals.Env)
		}
		if len(pending) == 0 {
			fmt.Fprintf(f.IO.ErrOut, "run %s has nothing left to purge\n", opts.Resume)
			return nil
		}
		targets, run = pending, info
		opts.Soft = info.Soft
	}
	if f.Globals.Env == "" {
		return usageErrorf("purge: no environment chosen (expected --env NAME; the provider and allowed hosts come from it)")
	}
	env, err := f.Environment()
	if err != nil {
		return err
	}

	if opts.Resume == "" {
		in := purge.Input{URLs: opts.Targets, Tags: opts.Tags, Prefixes: opts.Prefixes, Hosts: opts.Hosts, Everything: opts.Everything}
		if opts.FromFile != "" {
			lines, err := readPurgeFile(f, env, opts.FromFile)
			if err != nil {
				return err
			}
			in.URLs = append(in.URLs, lines...)
		}
		if targets, err = in.Targets(env.BaseURL); err != nil {
			return classifyPurgeError(err)
		}
		targets = purge.Expand(targets, opts.Variants)
	}
	if err := purge.CheckHosts(env.Name, targets, env.AllowedHosts()); err != nil {
		return classifyPurgeError(err)
	}
	if opts.Warm && !opts.Verify {
		return usageErrorf("purge: --warm needs --verify")
	}
	if opts.Resume == "" && !opts.DryRun {
		if jpath, err = journalPath(f, opts.Journal); err != nil {
			return err
		}
	}

	spec, pcfg, err := providerConfig(f, env)
	if err != nil {
		return err
	}
	logger := f.Logger.With("env", env.Name, "provider", pcfg.Provider)
	policy := retry.DefaultPolicy()
	if env.CDN.MaxAttempts > 0 {
		policy.MaxAttempts = env.CDN.MaxAttempts
	}
	policy.AttemptTimeout = f.Globals.Timeout
	client := retry.NewClient(policy, logger)
	provider, err := spec.New(pcfg, env.CDN.Settings, purge.Deps{HTTP: client, Logger: logger})
	if err != nil {
		return usageError(err)
	}
	batches, err := purge.Plan(provider, targets, opts.Soft)
	if err != nil {
		return classifyPurgeError(err)
	}
	if opts.Everything && !opts.DryRun {
		if err := confirmEverything(f, env, opts.Yes); err != nil {
			return err
		}
	}

	if opts.Resume == "" {
		run = purge.NewRunInfo(env.Name, provider.Name(), opts.Reason)
		if run.User == "" {
			run.User = f.Environ.Get("USER")
		}
		run.Soft = opts.Soft
	}
	runner := &purge.Runner{Provider: provider, Logger: logger, Owner: routeOwner(cfg, env)}
	if opts.DryRun {
		// The plan goes to stdout for people, to stderr when stdout carries JSON.
		planOut := f.IO.Out
		if format != report.Table {
			planOut = f.IO.ErrOut
		}
		runner.Provider = purge.DryRun(provider, planOut)
		run.DryRun = true
	} else {
		if runner.Limits, err = spec.Limits(pcfg, env.CDN.Settings); err != nil {
			return usageError(err)
		}
		j, err := purge.OpenJournal(jpath)
		if err != nil {
			return operationalError(fmt.Errorf("purge: %w; nothing was sent", err))
		}
		defer j.Close()
		j.Scrub = f.Scrubber
		runner.Journal = j
		logger.Debug("journal", "path", jpath, "run", run.ID)
	}
	if opts.Verify && !opts.DryRun {
		prober, err := f.newProber(env, probe.Options{}, nil, nil)
		if err != nil {
			return err
		}
		runner.Verifier = &probeVerifier{prober: prober}
		runner.Verify = purge.VerifyOptions{Warm: opts.Warm}
	}

	w, err := report.NewPurgeWriter(format, f.IO.Out, f.Style())
	if err != nil {
		return usageError(err)
	}
	var writeErr error
	runner.OnResult = func(r purge.Record) {
		if err := w.Record(r); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if bar := purgeProgress(f, len(batches), len(targets)); bar != nil {
		runner.Progress = func(done, _ int) { _ = bar.Set(done) }
		defer func() { _ = bar.Finish() }()
	}

	sum, runErr := runner.Run(ctx, run, batches)
	if err := w.Close(sum); err != nil && writeErr == nil {
		writeErr = err
	}
	switch {
	case runErr != nil && errors.Is(runErr, context.Canceled):
		return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("purge: interrupted; the journal is consistent, finish with: cachectl purge --env %s --resume %s", env.Name, run.ID)}
	case runErr != nil && purge.IsAuthError(runErr):
		return operationalError(fmt.Errorf("%w; retrying will not help", runErr))
	case runErr != nil:
		return operationalError(runErr)
	case writeErr != nil:
		return operationalError(fmt.Errorf("purge: writing output: %w", writeErr))
	}
	if err := sum.Err(); err != nil {
		if errors.Is(err, purge.ErrStillCached) {
			return checkFailed("%s", err.Error())
		}
		return operationalError(fmt.Errorf("%w\n  finish with: cachectl purge --env %s --resume %s", err, env.Name, run.ID))
	}
	if f.IO.IsStderrTTY() && format == report.Table && !opts.DryRun {
		fmt.Fprintf(f.IO.ErrOut, "✓ Purged %s\n", plural(sum.Purged, "target", "targets"))
	}
	return nil
}

// readPurgeFile reads --from-file: each line resolved and normalized, with
// line numbers in errors.
func readPurgeFile(f *Factory, env *config.Environment, path string) ([]string, error) {
	r, err := openTargets(f, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	pipe := &target.Pipeline{Env: env.TargetEnv(), Canonical: true}
	var urls []string
	for t, err := range pipe.Read(r) {
		if err != nil {
			return nil, usageErrorf("--from-file %s %v; nothing was sent", path, err)
		}
		urls = append(urls, t.URL)
	}
	return urls, nil
}

// classifyPurgeError maps the engine's input errors to exit 2.
func classifyPurgeError(err error) error {
	var ie *purge.InputError
	if errors.As(err, &ie) {
		return usageError(err)
	}
	return operationalError(err)
}

// providerConfig finds the environment's provider in the registry and
// turns the shared keys of its cdn section into the provider's plain
// config, with the secret the provider asks for resolved.
func providerConfig(f *Factory, env *config.Environment) (purge.Spec, purge.Config, error) {
	c := env.CDN
	pcfg := purge.Config{
		Provider: c.Provider, Environment: env.Name, APIURL: c.APIURL, TokenEnv: c.APITokenEnv,
		Rate: c.Rate, Burst: c.Burst,
	}
	if pcfg.TokenEnv == "" {
		pcfg.TokenEnv = c.APITokenFile
	}
	if c.Provider == "" {
		return purge.Spec{}, pcfg, usageErrorf("purge: environment %q has no cdn.provider (expected one of %s)", env.Name, strings.Join(providers.Names(), ", "))
	}
	spec, err := providers.Find(pcfg)
	if err != nil {
		return spec, pcfg, usageError(err)
	}
	switch spec.Secret.Kind {
	case purge.SecretNone:
	case purge.SecretAPIToken:
		tok, err := c.Token(f.Lookup, env.Name)
		if err != nil {
			return spec, pcfg, usageError(err)
		}
		pcfg.Token = tok
	default:
		return spec, pcfg, usageErrorf("purge: provider %s needs a %s credential, which this version cannot resolve", spec.Name, spec.Secret.Kind)
	}
	return spec, pcfg, nil
}

// routeOwner finds the owner of the configured route a URL matches.
func routeOwner(cfg *config.Config, env *config.Environment) func(string) string {
	owners := map[string]string{}
	for _, r := range cfg.Routes {
		if r.Owner == "" {
			continue
		}
		if u, err := target.Canonical(env.TargetEnv(), r.Path); err == nil {
			owners[u] = r.Owner
		}
	}
	return func(u string) string { return owners[u] }
}

// confirmEverything guards --everything: --yes always, and on a terminal the
// zone's host name typed back.
func confirmEverything(f *Factory, env *config.Environment, yes bool) error {
	if !yes {
		return usageErrorf("purge: --everything purges the whole cache of environment %q; add --yes to confirm; nothing was sent", env.Name)
	}
	if !f.IO.CanPrompt() {
		return nil
	}
	host := ""
	if u, err := url.Parse(env.BaseURL); err == nil {
		host = u.Hostname()
	}
	fmt.Fprintf(f.IO.ErrOut, "This purges EVERYTHING cached for environment %q. Type the host name %q to continue: ", env.Name, host)
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && line == "" {
		return usageErrorf("purge: no confirmation read; nothing was sent")
	}
	if strings.TrimSpace(line) != host {
		return usageErrorf("purge: confirmation %q does not match %q; nothing was sent", strings.TrimSpace(line), host)
	}
	return nil
}

func purgeProgress(f *Factory, batches, targets int) *progressbar.ProgressBar {
	if !f.IO.ProgressEnabled() || batches < 2 {
		return nil
	}
	return progressbar.NewOptions(targets,
		progressbar.OptionSetWriter(f.IO.ErrOut),
		progressbar.OptionSetDescription("purging"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

// probeVerifier checks a purged URL with an anonymous probe.
type probeVerifier struct{ prober *probe.Prober }

func (v *probeVerifier) Verify(ctx context.Context, u string) (purge.VerifyResult, error) {
	r := v.prober.Probe(ctx, u, probe.Anonymous, nil)
	if r.Error != "" {
		return purge.VerifyResult{}, errors.New(r.Error)
	}
	return purge.VerifyResult{Cache: r.Cache, StatusCode: r.StatusCode}, nil
}

func newCmdPurgeLog(f *Factory) *cobra.Command {
	var journal string
	var limit int
	cmd := &cobra.Command{
		Use:   "log",
		Short: "List recent purge runs from the journal with their counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL)
			if err != nil {
				return err
			}
			path, err := journalPath(f, journal)
			if err != nil {
				return err
			}
			log, err := purge.ReadJournal(path)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return usageErrorf("purge log: no journal at %s yet (expected one after a purge; --journal FILE names another)", path)
				}
				return operationalError(err)
			}
			for _, w := range log.Warnings {
				f.Logger.Warn("journal line skipped", "error", w.Error())
			}
			return report.WritePurgeLog(format, f.IO.Out, f.Style(), log.Runs(limit))
		},
	}
	cmd.Flags().StringVar(&journal, "journal", "", "journal file (default $XDG_STATE_HOME/cachectl/journal.jsonl)")
	cmd.Flags().IntVar(&limit, "limit", 20, "show at most N recent runs")
	return cmd
}
