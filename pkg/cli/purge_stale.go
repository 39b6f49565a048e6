package cli

import (
	"context"
	"fmt"
	"iter"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/stale"
)

// purgeInput is what the command line names: arguments, --from-file and,
// with --stale, --sitemap or else the config's routes.
func purgeInput(ctx context.Context, f *Factory, opts *PurgeOptions, env *config.Environment) (purge.Input, error) {
	in := purge.Input{URLs: opts.Targets, Tags: opts.Tags, Prefixes: opts.Prefixes, Hosts: opts.Hosts, Everything: opts.Everything}
	if err := checkPurgeStaleFlags(opts); err != nil {
		return in, err
	}
	if opts.FromFile != "" {
		in.Lines = purgeFileLines(f, env, opts.FromFile)
		if opts.Stale || opts.Related {
			// Both need every URL at once.
			for u, err := range in.Lines {
				if err != nil {
					return in, err
				}
				in.URLs = append(in.URLs, u)
			}
			in.Lines = nil
		}
	}
	if opts.Sitemap != "" {
		pages, err := readSitemap(ctx, f.deps(), opts.Sitemap, env)
		if err != nil {
			return in, err
		}
		in.URLs = append(in.URLs, pages...)
	}
	if opts.Stale && len(in.URLs) == 0 {
		cfg, err := f.Config()
		if err != nil {
			return in, err
		}
		for _, r := range cfg.Routes {
			in.URLs = append(in.URLs, r.Path)
		}
	}
	return in, nil
}

// checkPurgeStaleFlags refuses what --stale cannot compare with the origin.
func checkPurgeStaleFlags(opts *PurgeOptions) error {
	switch {
	case !opts.Stale && opts.Sitemap != "":
		return usageErrorf("purge: --sitemap needs --stale (expected URLs, paths or --from-file to purge as given)")
	case !opts.Stale:
		return nil
	case len(opts.Tags)+len(opts.Prefixes)+len(opts.Hosts) > 0 || opts.Everything:
		return usageErrorf("purge: --stale compares pages with the origin; --tag, --prefix, --host and --everything name no page to compare (expected URLs, paths, --from-file or --sitemap)")
	}
	if err := checkConcurrency(opts.Concurrency); err != nil {
		return err
	}
	return checkRate(opts.Rate)
}

// keepStale checks each URL target as `cachectl stale` does and keeps the
// ones whose cached copy is out of date, marked with the signal that
// decided. A URL that could not be checked is not purged; the run ends with
// exit 3 naming how many. When nothing is stale, nothing is sent.
func (p *purgePlan) keepStale(ctx context.Context, f *Factory, opts *PurgeOptions, targets []purge.Target) ([]purge.Target, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if p.env.OriginURL == "" {
		return nil, usageErrorf("purge: --stale needs environments.%s.origin_url, the origin reached without the CDN (e.g. origin_url: http://10.0.0.7:8000); nothing was sent", p.env.Name)
	}
	checker, err := stale.New(staleCheckerOptions(f.deps(), cfg, p.env, opts.Concurrency, opts.Rate))
	if err != nil {
		return nil, usageError(fmt.Errorf("config: environment %q: %w", p.env.Name, err))
	}
	verdicts := map[string]stale.Result{}
	err = checker.Run(ctx, urlValues(targets), func(r stale.Result) error {
		verdicts[r.URL] = r
		return nil
	})
	if err != nil {
		return nil, operationalError(fmt.Errorf("purge: stale check: %w", err))
	}
	return p.filterStale(f, targets, verdicts), nil
}

// filterStale keeps the targets found stale and counts those not checked.
func (p *purgePlan) filterStale(f *Factory, targets []purge.Target, verdicts map[string]stale.Result) []purge.Target {
	var kept []purge.Target
	for _, t := range targets {
		r, ok := verdicts[t.Value]
		switch {
		case t.Kind != purge.KindURL || !ok:
		case r.Error != "":
			p.staleErrors++
			f.Logger.Warn("stale check failed; not purged", "url", t.Value, "error", r.Error)
		case r.Stale:
			t.Stale = r.Reason
			kept = append(kept, t)
		default:
			f.Logger.Debug("not stale; not purged", "url", t.Value, "reason", r.Reason)
		}
	}
	if len(kept) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "nothing stale among %s on %s; nothing was sent\n", plural(len(verdicts), "URL", "URLs"), p.env.Name)
		p.nothingLeft = p.staleErrors == 0
	}
	return kept
}

// urlValues yields each URL target's value once.
func urlValues(targets []purge.Target) iter.Seq[string] {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, t := range targets {
			if t.Kind != purge.KindURL || seen[t.Value] {
				continue
			}
			seen[t.Value] = true
			if !yield(t.Value) {
				return
			}
		}
	}
}
