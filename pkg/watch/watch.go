// Package watch probes a set of routes on an interval and exports what the
// cache did with each as Prometheus metrics: the normalized cache status,
// TTFB by status, each configured check, findings, Age and shared max-age,
// and Server-Timing durations. The routes come from the configuration, so
// the number of series is bounded by it, never by what responses say.
package watch

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/pool"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

// Options control a watcher.
type Options struct {
	// Variants to probe for every route, anonymous first; logged_in needs Session.
	Variants []probe.Variant
	Session  *probe.Session
	// Interval is the time from the start of one round to the start of the
	// next, shifted by up to ±Jitter of itself so that many watchers do not
	// probe in step. A round that takes longer is followed at once.
	Interval time.Duration
	Jitter   float64
	// Concurrency bounds the routes in flight (default 4).
	Concurrency int
	// Limiter caps the request rate; nil means no cap.
	Limiter *rate.Limiter
	// StallAfter is how long /healthz tolerates no completed round before it
	// reports the watcher stalled (default 3 × Interval).
	StallAfter time.Duration
	Logger     *slog.Logger
	// Now is the clock (tests pin it); Rand draws the jitter.
	Now  func() time.Time
	Rand *rand.Rand
}

// Watcher probes routes round after round and records the results.
type Watcher struct {
	prober  *probe.Prober
	targets []verify.Target
	metrics *Metrics
	opts    Options

	mu sync.Mutex
	// progress is when the last round completed (or the watcher started).
	progress time.Time
	// down holds the routes and variants whose last probe got no response,
	// so a failure is logged when it starts and when it ends, not every round.
	down map[seriesKey]bool
}

// New builds a watcher of targets that records into m.
func New(p *probe.Prober, targets []verify.Target, m *Metrics, opts Options) *Watcher {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if len(opts.Variants) == 0 {
		opts.Variants = []probe.Variant{probe.Anonymous}
	}
	if opts.StallAfter <= 0 {
		opts.StallAfter = 3 * opts.Interval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	routes := make([]string, len(targets))
	for i, t := range targets {
		routes[i] = t.Route
	}
	m.AddRoutes(routes, opts.Variants)
	return &Watcher{prober: p, targets: targets, metrics: m, opts: opts, progress: opts.Now(), down: map[seriesKey]bool{}}
}

// Run probes every route once a round until ctx is done, then returns. A
// round cut short by ctx records nothing more.
func (w *Watcher) Run(ctx context.Context) {
	late := false // the last round overran the interval; logged once until one fits
	for {
		start := w.opts.Now()
		w.Round(ctx)
		if ctx.Err() != nil {
			return
		}
		took := w.opts.Now().Sub(start)
		wait := w.nextDelay() - took
		switch {
		case wait < 0 && !late:
			w.opts.Logger.Warn("a round took longer than --interval; rounds follow each other at once until one fits",
				"took", took.Round(time.Millisecond), "interval", w.opts.Interval)
		case wait >= 0 && late:
			w.opts.Logger.Info("rounds fit in --interval again", "took", took.Round(time.Millisecond), "interval", w.opts.Interval)
		}
		late = wait < 0
		if !pool.Sleep(ctx, max(wait, 0)) {
			return
		}
	}
}

// nextDelay is the interval shifted by a random ±Jitter of itself.
func (w *Watcher) nextDelay() time.Duration {
	if w.opts.Jitter <= 0 {
		return w.opts.Interval
	}
	shift := (w.opts.Rand.Float64()*2 - 1) * w.opts.Jitter
	return w.opts.Interval + time.Duration(shift*float64(w.opts.Interval))
}

// Round probes every route and variant once and records the results.
func (w *Watcher) Round(ctx context.Context) {
	start := w.opts.Now()
	io := inspect.Options{Session: w.opts.Session, Limiter: w.opts.Limiter, Repeat: 1}
	_ = pool.Ordered(ctx, slices.Values(w.targets), w.opts.Concurrency, func(ctx context.Context, i int, t verify.Target) inspect.Group {
		return inspect.One(ctx, w.prober, i, inspect.Job{URL: t.URL, Variants: w.opts.Variants}, io)
	}, func(g inspect.Group) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.record(w.targets[g.Index], g)
		return nil
	})
	if ctx.Err() != nil {
		return
	}
	end := w.opts.Now()
	w.metrics.RoundDone(start, end)
	w.mu.Lock()
	w.progress = end
	w.mu.Unlock()
	w.opts.Logger.Debug("round done", "routes", len(w.targets), "took", end.Sub(start).Round(time.Millisecond))
}

func (w *Watcher) record(t verify.Target, g inspect.Group) {
	now := w.opts.Now()
	for i := range g.Probes {
		r := &g.Probes[i]
		w.metrics.Observe(t.Route, r, t.Checklist(r.Variant).Evaluate(r, now), now)
		k := seriesKey{t.Route, string(r.Variant)}
		switch {
		case r.Error != "" && !w.down[k]:
			w.down[k] = true
			w.opts.Logger.Warn("probe got no response", "route", t.Route, "variant", r.Variant, "error", r.Error)
		case r.Error == "" && w.down[k]:
			delete(w.down, k)
			w.opts.Logger.Info("probe answered again", "route", t.Route, "variant", r.Variant)
		}
	}
}

// Healthy is nil while rounds complete, and an error once none has for
// StallAfter. A site that does not answer is not a reason: that is what
// the metrics report.
func (w *Watcher) Healthy() error {
	w.mu.Lock()
	since := w.opts.Now().Sub(w.progress)
	w.mu.Unlock()
	if since > w.opts.StallAfter {
		return fmt.Errorf("stalled: no round completed in %s (expected one every %s)", since.Round(time.Second), w.opts.Interval)
	}
	return nil
}
