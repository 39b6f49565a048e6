// Package inspect finds out what the cache does with a URL: it probes the
// URL as each visitor variant (repeating or polling as asked) and attaches
// the findings of package analyze to every probe and to the
// anonymous/logged-in pair. Run does this for many URLs with bounded
// concurrency and hands the results back in input order as soon as they are
// ready; verify and diff call One for each of their routes.
package inspect

import (
	"context"
	"iter"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/pool"
	"github.com/cachectl/cachectl/pkg/probe"
)

// Job is one URL to inspect.
type Job struct {
	// URL is absolute.
	URL string
	// Variants to probe, in order; the anonymous probe goes first so it sees
	// the cache as a visitor would before a logged-in request touches it.
	Variants []probe.Variant
}

// Options control a run.
type Options struct {
	// Concurrency bounds the URLs in flight (default 8).
	Concurrency int
	// Repeat probes each URL and variant this many times in a row (default 1).
	Repeat int
	// Until polls each URL and variant until its cache status is this one, for at most Wait.
	Until cachestatus.Status
	Wait  time.Duration
	// Session is the logged-in visitor's cookie.
	Session *probe.Session
	// Limiter caps the request rate; nil means no cap.
	Limiter *rate.Limiter
	// NoFindings leaves probes without findings (an empty list), for
	// callers that judge none.
	NoFindings bool
}

// Group is the outcome for one Job.
type Group struct {
	// Index is the job's position in the input, from 0.
	Index int
	URL   string
	// Probes are in order: every probe of the first variant, then the next.
	Probes []probe.Result
	// Unreached lists the variants that never showed the Until status.
	Unreached []probe.Variant
}

// Run inspects every job and calls emit for each group in input order. It
// stops early when ctx is cancelled or emit returns an error.
func Run(ctx context.Context, p *probe.Prober, jobs iter.Seq[Job], opts Options, emit func(Group) error) error {
	opts = opts.withDefaults()
	return pool.Ordered(ctx, jobs, opts.Concurrency, func(ctx context.Context, i int, job Job) Group {
		return inspectOne(ctx, p, i, job, opts)
	}, emit)
}

// One inspects a single job exactly as Run does (repeats, polling, pair
// analysis); i becomes the group's Index. Callers that do more per job than
// probing (verify's checks, diff's two environments) run it under
// pool.Ordered.
func One(ctx context.Context, p *probe.Prober, i int, job Job, opts Options) Group {
	return inspectOne(ctx, p, i, job, opts.withDefaults())
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Repeat <= 0 {
		o.Repeat = 1
	}
	return o
}

func inspectOne(ctx context.Context, p *probe.Prober, i int, job Job, opts Options) Group {
	g := Group{Index: i, URL: job.URL}
	if opts.Until == "" {
		g.Probes = make([]probe.Result, 0, len(job.Variants)*opts.Repeat)
	}
	for _, v := range job.Variants {
		reached := false
		deadline := time.Now().Add(opts.Wait)
		backoff := 250 * time.Millisecond
		for seq := 1; ; seq++ {
			if opts.Limiter != nil {
				if err := opts.Limiter.Wait(ctx); err != nil {
					break
				}
			}
			r := p.Probe(ctx, job.URL, v, opts.Session)
			if opts.Repeat > 1 || opts.Until != "" {
				r.Seq = seq
			}
			if !opts.NoFindings {
				r.Findings = analyze.Findings(&r)
			}
			g.Probes = append(g.Probes, r)
			if ctx.Err() != nil {
				break
			}
			if opts.Until != "" {
				if r.Error == "" && r.Cache.Status == opts.Until {
					reached = true
					break
				}
				if time.Now().Add(backoff).After(deadline) {
					break
				}
				if !pool.Sleep(ctx, backoff) {
					break
				}
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			if seq >= opts.Repeat {
				break
			}
		}
		if opts.Until != "" && !reached {
			g.Unreached = append(g.Unreached, v)
		}
	}
	if !opts.NoFindings {
		pairFindings(&g)
	}
	for i := range g.Probes {
		if g.Probes[i].Findings == nil {
			g.Probes[i].Findings = []finding.Finding{}
		}
	}
	return g
}

// pairFindings replaces the findings of the last anonymous and the last
// logged-in probe with the pair's, which compare the two.
func pairFindings(g *Group) {
	ai, aok := g.Last(probe.Anonymous)
	li, lok := g.Last(probe.LoggedIn)
	if aok && lok {
		af, lf := analyze.Pair(&g.Probes[ai], &g.Probes[li])
		g.Probes[ai].Findings, g.Probes[li].Findings = af, lf
	}
}

// Last returns the index in Probes of the last probe of variant v.
func (g *Group) Last(v probe.Variant) (int, bool) {
	for i := len(g.Probes) - 1; i >= 0; i-- {
		if g.Probes[i].Variant == v {
			return i, true
		}
	}
	return 0, false
}
