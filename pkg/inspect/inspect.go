// Package inspect probes many URLs as one or more visitor variants with
// bounded concurrency, analyzes each URL's anonymous/logged-in pair, and
// hands the results back in input order as soon as they are ready.
package inspect

import (
	"context"
	"iter"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/cachestatus"
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
	return Ordered(ctx, jobs, opts.Concurrency, func(ctx context.Context, i int, job Job) Group {
		return inspectOne(ctx, p, i, job, opts)
	}, emit)
}

// One inspects a single job exactly as Run does (repeats, polling, pair
// analysis); i becomes the group's Index. Callers that do more per job than
// probing (verify's checks, diff's two environments) run it under Ordered.
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

// Ordered runs work for every job with at most concurrency jobs in flight
// and calls emit with the results in input order, as soon as each result and
// all before it are ready. It stops early when ctx is cancelled or emit
// returns an error.
func Ordered[J, R any](ctx context.Context, jobs iter.Seq[J], concurrency int, work func(context.Context, int, J) R, emit func(R) error) error {
	if concurrency <= 0 {
		concurrency = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Each job gets a one-slot channel, queued in input order; the consumer
	// waits on them in that order, so output is ordered while at most
	// 2×concurrency results are held.
	order := make(chan chan R, concurrency)
	sem := make(chan struct{}, concurrency)
	go func() {
		defer close(order)
		i := 0
		for job := range jobs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			slot := make(chan R, 1)
			select {
			case order <- slot:
			case <-ctx.Done():
				return
			}
			go func(i int, job J) {
				defer func() { <-sem }()
				slot <- work(ctx, i, job)
			}(i, job)
			i++
		}
	}()
	for slot := range order {
		var r R
		select {
		case r = <-slot:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func inspectOne(ctx context.Context, p *probe.Prober, i int, job Job, opts Options) Group {
	g := Group{Index: i, URL: job.URL}
	last := map[probe.Variant]int{}
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
			r.Findings = analyze.Findings(&r)
			g.Probes = append(g.Probes, r)
			last[v] = len(g.Probes) - 1
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
				if !Sleep(ctx, backoff) {
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
	// Pair findings compare the last anonymous and the last logged-in probe.
	ai, aok := last[probe.Anonymous]
	li, lok := last[probe.LoggedIn]
	if aok && lok {
		af, lf := analyze.Pair(&g.Probes[ai], &g.Probes[li])
		g.Probes[ai].Findings, g.Probes[li].Findings = af, lf
	}
	for i := range g.Probes {
		if g.Probes[i].Findings == nil {
			g.Probes[i].Findings = []probe.Finding{}
		}
	}
	return g
}

// Sleep waits for d and reports whether ctx is still live; it returns false
// as soon as ctx is done.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
