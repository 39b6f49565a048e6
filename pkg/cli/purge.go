package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/providers"
	"github.com/cachectl/cachectl/pkg/report"
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
	Delete     bool
	Variants   bool
	Reason     string
	Journal    string
	Resume     string
	// Related adds what the config's related rules name for each URL.
	Related bool
	// KeyHeaders are --key-header flags, "Name: v1,v2".
	KeyHeaders []string
	// Stale keeps only the URLs whose cached copy is older than the
	// origin's; Sitemap adds a sitemap's pages to check.
	Stale   bool
	Sitemap string
	// Concurrency and Rate bound the --stale check's requests.
	Concurrency int
	Rate        float64
}

// purgeLong is purge's help; %s lists the providers of the registry.
const purgeLong = `Purge only what changed, through the --env environment's CDN provider
(%s; http-purge sends PURGE to
Varnish, nginx, Squid and Traffic Server).

Targets are URLs or paths (resolved against base_url), --from-file, --tag,
--prefix, --host, or --everything. Naming nothing is an error: cachectl never
purges everything by default, and --everything needs --yes (and, on a
terminal, typing the zone's host name). Every URL must be on one of the
environment's hosts, or nothing is sent. Duplicates are dropped; --variants
adds the trailing-slash twin and the other scheme, each its own cache entry.

--related adds the pages the config's related rules name for each URL (the
home page, tag pages and feed an article shows on); each is listed with
related_to, the URL that pulled it in, and a "*" entry is a prefix purge.
--key-header "Name: v1,v2" and the environment's cache_key.headers purge
every cache variant of each URL: one target per combination of values (at
most 64). Cloudflare gets them as files with headers, http-purge as one PURGE
per combination; Fastly purges every variant of a URL with one URL purge.

http-purge sends PURGE to each cache node with the probes' User-Agent,
Accept and Accept-Encoding, so it names the variant visitors get; a node
that answers it holds nothing there (404) is reported not_cached, not a
failure. --tag needs cdn.tags (xkey: Varnish's xkey module, --soft too) and
--prefix needs cdn.prefix: ban; without them both are refused.

Requests are batched to the API's documented per-request limits (fewer when
the API refuses a request as too large), throttled by client-side token
buckets matching its published rate limits, retried on 429 (honouring
Retry-After and the CDN's rate-limit headers), 5xx and connection errors,
and never retried on other 4xx. An answer that does not confirm the purge
is a failure.

--dry-run prints the plan first: every operation and why it is there, the
API calls, and the time the rate limits imply; then every batch's requests.

Every batch is synced to an append-only journal (default
$XDG_STATE_HOME/cachectl/journal.jsonl) before it is reported; --resume RUN_ID
re-sends exactly the targets that were not confirmed purged. --verify probes
each purged URL afterwards and requires a not-from-cache status (a 200 from
the API does not prove eviction; an answer without a readable cache status
proves nothing and fails as unproven, saying how to turn one on; a redirect
is flagged, its target not being purged, unless --related purges it too);
--warm then waits until it is cached again. Where a purge completes after
the API accepted it (a CloudFront invalidation), --verify first waits for it
to complete, saying so on stderr.

Exit status: 0 all purged or not cached (and verified); 1 a purged URL is
still served from cache, or its eviction cannot be proven; 2 bad input, nothing sent; 3 some targets could not be purged (the
resume command is printed); 130 interrupted (the journal is consistent).`

func newCmdPurge(f *Factory, runF func(context.Context, *PurgeOptions) error) *cobra.Command {
	opts := &PurgeOptions{}
	cmd := &cobra.Command{
		Use:   "purge URL|PATH...",
		Args:  cobra.ArbitraryArgs,
		Short: "Purge exactly the given URLs through the environment's CDN: batched, throttled, retried, journaled, verified",
		Long:  fmt.Sprintf(purgeLong, strings.Join(providers.Names(), ", ")),
		Example: `  cachectl purge --env production --reason "fix typo" --verify /articles/x
  git diff --name-only HEAD~1 | scripts/paths-to-urls | cachectl purge --env production --from-file -
  cachectl purge --env production --tag blog --tag authors
  cachectl purge --env production --dry-run --from-file changed.txt
  cachectl purge --env production --related --verify /articles/x
  cachectl purge --env production --key-header "CF-Device-Type: mobile,desktop" /articles/x
  cachectl purge --env production --resume 20261126T161200Z-ab12cd
  cachectl purge log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return purgeRun(cmd.Context(), f, opts)
		},
	}
	purgeFlags(cmd, opts)
	cmd.AddCommand(newCmdPurgeLog(f, nil))
	return cmd
}

// purgeFlags declares purge's flags into opts.
func purgeFlags(cmd *cobra.Command, opts *PurgeOptions) {
	fl := cmd.Flags()
	fl.StringVar(&opts.FromFile, "from-file", "", "read URLs or paths from FILE, one per line (- for stdin; # comments)")
	fl.StringArrayVar(&opts.Tags, "tag", nil, "purge by cache tag / surrogate key (repeatable)")
	fl.StringArrayVar(&opts.Prefixes, "prefix", nil, "purge by URL prefix, e.g. /blog/ (repeatable)")
	fl.StringArrayVar(&opts.Hosts, "host", nil, "purge every object of a host (repeatable)")
	fl.BoolVar(&opts.Everything, "everything", false, "purge the whole zone or service (needs --yes)")
	fl.BoolVar(&opts.Yes, "yes", false, "confirm --everything")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan (operations and why, API calls, time at the rate limits) and the exact requests; send nothing")
	fl.BoolVar(&opts.Verify, "verify", false, "after the purge, probe each URL and require a not-from-cache status")
	fl.BoolVar(&opts.Warm, "warm", false, "with --verify, request each URL again until it is cached and report the time it took")
	fl.BoolVar(&opts.Soft, "soft", false, "soft purge: mark stale instead of evicting (Fastly)")
	fl.BoolVar(&opts.Delete, "delete", false, "delete instead of invalidating, so the next request goes to the origin (Akamai)")
	fl.BoolVar(&opts.Variants, "variants", false, "also purge the trailing-slash twin and the other scheme of each URL")
	fl.BoolVar(&opts.Related, "related", false, "also purge the pages the config's related rules name for each URL (home page, tag pages, feed)")
	fl.BoolVar(&opts.Stale, "stale", false, "purge only the URLs whose cached copy is older than the origin's (compared as cachectl stale does; needs origin_url)")
	fl.StringVar(&opts.Sitemap, "sitemap", "", "with --stale: also check the pages of this sitemap (URL or file)")
	fl.IntVar(&opts.Concurrency, "concurrency", 8, "with --stale: URLs checked at once")
	fl.Float64Var(&opts.Rate, "rate", 0, "with --stale: at most R check requests per second (0: no cap)")
	fl.StringArrayVar(&opts.KeyHeaders, "key-header", nil, `purge every variant of each URL a cache-key header makes, "Name: v1,v2" (repeatable; added to cache_key.headers)`)
	fl.StringVar(&opts.Reason, "reason", "", "why, recorded in the journal (e.g. \"fix typo in article\")")
	fl.StringVar(&opts.Journal, "journal", "", "journal file (default $XDG_STATE_HOME/cachectl/journal.jsonl)")
	fl.StringVar(&opts.Resume, "resume", "", "re-send the targets of run RUN_ID that were not confirmed purged")
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

// purgeFileLines reads --from-file as it is iterated, once: each line
// resolved, normalized and checked against the environment's hosts, with
// line numbers in errors.
func purgeFileLines(f *Factory, env *config.Environment, path string) iter.Seq2[string, error] {
	tenv := env.TargetEnv()
	pipe := &target.Pipeline{Env: tenv, Canonical: true, Check: func(u string) error {
		if !tenv.Allows(u) {
			return fmt.Errorf("%s is outside environment %q (allowed hosts: %s)", u, env.Name, strings.Join(tenv.AllowedHosts(), ", "))
		}
		return nil
	}}
	return func(yield func(string, error) bool) {
		r, err := openTargets(f, path)
		if err != nil {
			yield("", err)
			return
		}
		defer r.Close()
		for t, err := range pipe.Read(r) {
			if err != nil {
				yield("", usageErrorf("--from-file %s %v; nothing was sent", path, err))
				return
			}
			if !yield(t.URL, nil) {
				return
			}
		}
	}
}

// classifyPurgeError maps the engine's input errors to exit 2; an error
// that already has its exit status keeps it.
func classifyPurgeError(err error) error {
	var ie *purge.InputError
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	if errors.As(err, &ie) {
		return usageError(err)
	}
	return operationalError(err)
}

// providerConfig finds the environment's provider in the registry and
// turns the shared keys of its cdn section into the provider's plain
// config, with the secret the provider asks for resolved.
func providerConfig(lookup config.Lookup, env *config.Environment) (purge.Spec, purge.Config, error) {
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
	case purge.SecretAWS:
		// The provider follows the AWS SDK's default chain through the
		// environment it is handed (purge.Deps.LookupEnv), when it sends.
	case purge.SecretAPIToken:
		tok, err := c.Token(lookup, env.Name)
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

// confirmWholeZone guards purges that empty a whole zone or host
// (--everything, --host, --prefix /, or resuming such a run): --yes always,
// and on a terminal the host name typed back.
func confirmWholeZone(f *Factory, p *purgePlan, yes bool) error {
	what := p.wholeZone
	if !yes {
		return usageErrorf("purge: %s; add --yes to confirm; nothing was sent", what)
	}
	if !f.IO.CanPrompt() {
		return nil
	}
	host := ""
	if u, err := url.Parse(p.env.BaseURL); err == nil {
		host = u.Hostname()
	}
	fmt.Fprintf(f.IO.ErrOut, "This %s. Type the host name %q to continue: ", what, host)
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

// probeVerifier checks a purged URL with an anonymous probe that sends the
// cache-key headers of the variant purged.
type probeVerifier struct{ prober *probe.Prober }

func (v *probeVerifier) Verify(ctx context.Context, u string, header map[string]string) (purge.VerifyResult, error) {
	r := v.prober.WithHeader(header).Probe(ctx, u, probe.Anonymous, nil)
	if r.Error != "" {
		return purge.VerifyResult{}, errors.New(r.Error)
	}
	res := purge.VerifyResult{Cache: r.Cache, StatusCode: r.StatusCode, Software: cachestatus.Software(r.Header)}
	if r.Location != "" {
		res.Location = r.Location
		if base, err := url.Parse(u); err == nil {
			if loc, err := base.Parse(r.Location); err == nil {
				res.Location = loc.String()
			}
		}
	}
	return res, nil
}

// PurgeLogOptions are the parsed flags of `cachectl purge log`.
type PurgeLogOptions struct {
	Journal string
	Limit   int
}

func newCmdPurgeLog(f *Factory, runF func(context.Context, *PurgeLogOptions) error) *cobra.Command {
	opts := &PurgeLogOptions{}
	cmd := &cobra.Command{
		Use:   "log",
		Short: "List recent purge runs from the journal with their counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return purgeLogRun(f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Journal, "journal", "", "journal file (default $XDG_STATE_HOME/cachectl/journal.jsonl)")
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "show at most N recent runs")
	return cmd
}

// purgeLogRun lists the journal's runs, reading it as a stream: a journal
// of any size costs memory per run, not per line.
func purgeLogRun(f *Factory, opts *PurgeLogOptions) error {
	format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL)
	if err != nil {
		return err
	}
	if opts.Limit < 0 {
		return usageErrorf("--limit %d: expected a number of runs ≥ 0 (0 lists all)", opts.Limit)
	}
	path, err := journalPath(f, opts.Journal)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return usageErrorf("purge log: no journal at %s yet (expected one after a purge; --journal FILE names another)", path)
	}
	runs, warnings, err := purge.Summaries(path, opts.Limit)
	for _, w := range warnings {
		f.Logger.Warn("journal line skipped", "error", w.Error())
	}
	if err != nil {
		return operationalError(err)
	}
	return report.WritePurgeLog(format, f.IO.Out, f.Style(), runs)
}
