package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/configfile"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/shard"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/verify"
)

// InitOptions are the parsed flags of `cachectl init` and what its plan
// and run steps use. The file is --config (default ./cachectl.yaml) and
// the environment --env (default production).
type InitOptions struct {
	cmdDeps

	Paths         []string
	BaseURL       string
	Sitemap       string
	Sample        int
	Seed          uint64
	Force         bool
	CookieEnv     string
	SessionCookie string
	CacheHeaders  []string
	Concurrency   int
}

// defaultInitEnv names the environment init writes without --env.
const defaultInitEnv = "production"

func newCmdInit(f *Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	opts := &InitOptions{cmdDeps: f.deps()}
	cmd := &cobra.Command{
		Use:   "init --base-url URL [PATH...]",
		Short: "Write a commented config from what the site's caches do now",
		Long: `Probe a site's routes (the PATHs given, a sample of --sitemap, or the home
page) as an anonymous visitor and, with --cookie-env and --session-cookie, as a
logged-in one, each twice (cold, then warm); detect the CDN or cache from the
response headers; and write a commented cachectl.yaml: the environment (the
purge provider guessed, secrets as the names of the variables holding them),
and per route the expectations its current behaviour satisfies (status, cache
status family, private, no-store, shared-cache lifetime, no error finding),
with owner and rollback TODO. The file passes config validate and verify
passes at once; nothing is written otherwise.

An existing file is never replaced without --force. A route that got no
response is left out (listed in a comment) and the exit status is 3.`,
		Example: `  cachectl init --base-url https://www.example.com / /articles/x
  cachectl init --base-url https://www.example.com --sitemap https://www.example.com/sitemap.xml --sample 30
  cachectl init --base-url https://staging.example.com --env staging --config staging.yaml \
      --cookie-env STAGING_SESSION --session-cookie sessionid /account`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.BaseURL, "base-url", "", "the site's base URL, e.g. https://www.example.com (required)")
	fl.StringVar(&opts.Sitemap, "sitemap", "", "take routes from a sitemap (URL or FILE; index and .gz supported), fetched without cookies")
	fl.IntVar(&opts.Sample, "sample", 20, "with --sitemap: a random, reproducible subset of N pages (0: every page)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "seed for --sample")
	fl.BoolVar(&opts.Force, "force", false, "replace the config file if it exists")
	fl.StringVar(&opts.CookieEnv, "cookie-env", "", "the variable holding a session cookie value, for the logged-in variant (written as session.value_env)")
	fl.StringVar(&opts.SessionCookie, "session-cookie", "", "the session cookie's name (with --cookie-env)")
	fl.StringArrayVar(&opts.CacheHeaders, "cache-header", nil, "response header holding the site's own cache status, checked first (repeatable)")
	fl.IntVar(&opts.Concurrency, "concurrency", 4, "routes probed at once")
	return cmd
}

// initPlan is everything init needs, decided before any probe is sent
// (a --sitemap is fetched): every refusal comes from planInit.
type initPlan struct {
	file     string
	env      *config.Environment
	routes   []string
	urls     []string
	source   string
	session  *probe.Session
	variants []probe.Variant
	probe    probe.Options
}

func planInit(ctx context.Context, opts *InitOptions) (*initPlan, error) {
	if err := checkInitFlags(opts); err != nil {
		return nil, err
	}
	p := &initPlan{file: opts.Globals.ConfigFile, env: &config.Environment{Name: defaultInitEnv, BaseURL: opts.BaseURL}}
	if p.file == "" {
		p.file = configfile.DefaultFile
	}
	if err := checkInitTarget(opts, p); err != nil {
		return nil, err
	}
	if err := p.planSession(opts); err != nil {
		return nil, err
	}
	if err := p.planRoutes(ctx, opts); err != nil {
		return nil, err
	}
	p.probe = probe.Options{KeepAlive: true, CacheHeaders: opts.CacheHeaders, Timeout: opts.Globals.Timeout, Insecure: opts.Globals.Insecure}
	return p, nil
}

// checkInitFlags checks the flags that need nothing else.
func checkInitFlags(opts *InitOptions) error {
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return err
	}
	switch {
	case opts.BaseURL == "":
		return usageErrorf("init: --base-url is required (expected the site's base URL, e.g. --base-url https://www.example.com)")
	case opts.Sample < 0 || opts.Sample > verify.MaxSample:
		return usageErrorf("--sample %d: expected a number of pages from 0 (every page) to %d", opts.Sample, verify.MaxSample)
	case (opts.CookieEnv == "") != (opts.SessionCookie == ""):
		return usageErrorf("init: --cookie-env and --session-cookie go together (the variable holding the session value, and the cookie's name)")
	}
	if err := purge.CheckBaseURL(opts.BaseURL); err != nil {
		return usageErrorf("--base-url %q: expected %v", opts.BaseURL, err)
	}
	return nil
}

// checkInitTarget refuses an environment name the config would refuse and
// a file that exists (without --force).
func checkInitTarget(opts *InitOptions, p *initPlan) error {
	if opts.Globals.Env != "" {
		p.env.Name = strings.ToLower(opts.Globals.Env)
	}
	if !config.ValidEnvName(p.env.Name) {
		return usageErrorf("init: --env %q: expected an environment name of lower-case letters, digits, '-', '_' or '.'", opts.Globals.Env)
	}
	fi, err := os.Stat(p.file)
	switch {
	case err == nil && fi.IsDir():
		return usageErrorf("init: %s is a directory (expected a file name with --config FILE)", p.file)
	case err == nil && !opts.Force:
		return usageErrorf("init: %s exists (expected a new file; --force replaces it, or --config FILE names another); nothing was sent", p.file)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return usageErrorf("init: %v", err)
	}
	return nil
}

// planSession reads the session value when a variable is named; the file
// gets the variable's name, never the value.
func (p *initPlan) planSession(opts *InitOptions) error {
	p.variants = []probe.Variant{probe.Anonymous}
	if opts.CookieEnv == "" {
		return nil
	}
	p.env.Session = &config.Session{Cookie: opts.SessionCookie, ValueEnv: opts.CookieEnv}
	session, err := resolveSession(opts.Lookup, p.env, "")
	if err != nil {
		return err
	}
	p.session, p.variants = session, append(p.variants, probe.LoggedIn)
	return nil
}

// planRoutes collects the routes: the PATHs given, then the sitemap's
// sample, without repeats; the home page when neither is given. Each is
// resolved against the base URL and must stay on its host.
func (p *initPlan) planRoutes(ctx context.Context, opts *InitOptions) error {
	var pages []string
	if opts.Sitemap != "" {
		all, err := readSitemap(ctx, opts.cmdDeps, opts.Sitemap, p.env)
		if err != nil {
			return err
		}
		for r := range verify.Select(slices.Values(all), opts.Sample, opts.Seed, shard.All) {
			pages = append(pages, r.Route)
		}
		p.source = sitemapSource(opts, len(pages), len(all))
	}
	candidates := append(append([]string{}, opts.Paths...), pages...)
	if len(candidates) == 0 {
		candidates, p.source = []string{"/"}, "the home page (no PATH or --sitemap was given)"
	}
	for _, c := range candidates {
		if err := p.addRoute(c); err != nil {
			return err
		}
	}
	if len(opts.Paths) > 0 {
		p.source = strings.TrimSuffix("the paths given; "+p.source, "; ")
	}
	return nil
}

func sitemapSource(opts *InitOptions, n, total int) string {
	if n == total {
		return fmt.Sprintf("every page of the sitemap %s (%d)", opts.Sitemap, total)
	}
	return fmt.Sprintf("%d of the %d pages of the sitemap %s, sampled with --seed %d", n, total, opts.Sitemap, opts.Seed)
}

// addRoute adds one route as a path, once.
func (p *initPlan) addRoute(r string) error {
	u, err := target.Resolve(p.env.TargetEnv(), r)
	if err == nil && !p.env.TargetEnv().Allows(u) {
		err = fmt.Errorf("%s is not on the base URL's host (allowed hosts: %s)", u, strings.Join(p.env.AllowedHosts(), ", "))
	}
	if err != nil {
		return usageError(fmt.Errorf("init: route %s: %w", r, err))
	}
	path := r
	if !strings.HasPrefix(r, "/") {
		parsed, perr := url.Parse(u)
		if perr != nil {
			return usageError(fmt.Errorf("init: route %s: %w", r, perr))
		}
		path = parsed.RequestURI()
	}
	if !slices.Contains(p.routes, path) {
		p.routes, p.urls = append(p.routes, path), append(p.urls, u)
	}
	return nil
}
