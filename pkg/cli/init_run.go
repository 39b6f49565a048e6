package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/configfile"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

func initRun(ctx context.Context, opts *InitOptions) error {
	p, err := planInit(ctx, opts)
	if err != nil {
		return err
	}
	return runInit(ctx, opts, p)
}

func runInit(ctx context.Context, opts *InitOptions, p *initPlan) error {
	site := configfile.Site{File: p.file, Env: p.env.Name, BaseURL: p.env.BaseURL, Session: p.env.Session, Source: p.source}
	detected := false
	err := observeRoutes(ctx, p.probe, p.urls, p.variants, p.session, opts.Concurrency, func(i int, g inspect.Group) {
		if reason := noResponse(g); reason != "" {
			site.Skipped = append(site.Skipped, configfile.Skipped{Path: p.routes[i], Reason: reason})
			return
		}
		site.Routes = append(site.Routes, configfile.Route{Path: p.routes[i], Variants: observeVariants(g, p.variants)})
		if r := g.Probes[len(g.Probes)-1]; !detected && r.Cache.CDN != "" {
			site.CDN, detected = configfile.GuessCDN(r.Cache.CDN, r.Cache.Source, p.env.BaseURL), true
		}
	})
	if err != nil {
		return operationalError(fmt.Errorf("init: %w; nothing was written", err))
	}
	if !detected {
		site.CDN = configfile.GuessCDN("", "", p.env.BaseURL)
	}
	content, err := configfile.New(site)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := configfile.Write(p.file, content, nil, opts.Force); err != nil {
		if errors.Is(err, configfile.ErrExists) {
			return usageErrorf("init: %s appeared while the site was probed; nothing was written (--force replaces it)", p.file)
		}
		return fmt.Errorf("init: %s not written: %w", p.file, err)
	}
	return initOutcome(opts, p, site)
}

// initOutcome says what was written: a line on a terminal, and exit 3
// naming the routes left out.
func initOutcome(opts *InitOptions, p *initPlan, site configfile.Site) error {
	if opts.IO.IsStderrTTY() {
		cdn := "no purge provider"
		if site.CDN.Provider != "" {
			cdn = "purge provider " + site.CDN.Provider
		}
		fmt.Fprintf(opts.IO.ErrOut, "✓ Wrote %s: environment %s (%s), %s; replace every TODO owner and rollback, then run cachectl verify --env %s\n",
			p.file, p.env.Name, cdn, plural(len(site.Routes), "route", "routes"), p.env.Name)
	}
	if len(site.Skipped) == 0 {
		return nil
	}
	left := make([]string, len(site.Skipped))
	for i, s := range site.Skipped {
		left[i] = s.Path + " (" + s.Reason + ")"
	}
	return operationalError(fmt.Errorf("init: %s got no response, left out of %s: %s",
		plural(len(left), "route", "routes"), p.file, strings.Join(left, "; ")))
}

// observeRoutes probes each URL as each variant twice (cold, then warm)
// and hands each URL's probes to each in input order.
func observeRoutes(ctx context.Context, o probe.Options, urls []string, variants []probe.Variant, session *probe.Session, concurrency int, each func(int, inspect.Group)) error {
	jobs := func(yield func(inspect.Job) bool) {
		for _, u := range urls {
			if !yield(inspect.Job{URL: u, Variants: variants}) {
				return
			}
		}
	}
	return inspect.Run(ctx, probe.New(o), jobs, inspect.Options{Concurrency: concurrency, Repeat: 2, Session: session}, func(g inspect.Group) error {
		each(g.Index, g)
		return ctx.Err()
	})
}

// noResponse is why a route cannot be recorded: the error of its last
// probe that got no response; "" when every variant answered.
func noResponse(g inspect.Group) string {
	reason := ""
	for _, r := range g.Probes {
		if r.Error != "" {
			reason = string(r.Variant) + ": " + r.Error
		}
	}
	return reason
}

// observeVariants is what each variant of an answered route does.
func observeVariants(g inspect.Group, variants []probe.Variant) []configfile.Variant {
	now := time.Now()
	var out []configfile.Variant
	for _, v := range variants {
		probes := slices.DeleteFunc(slices.Clone(g.Probes), func(r probe.Result) bool { return r.Variant != v })
		if len(probes) > 0 {
			out = append(out, configfile.Variant{Variant: v, Observed: verify.Observe(probes, now)})
		}
	}
	return out
}
