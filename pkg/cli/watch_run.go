package cli

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/watch"
)

// runWatch probes and serves until ctx is done (SIGTERM, Ctrl-C), then
// shuts down gracefully and returns nil: stopping is how a server ends, not
// an interruption of a run. Only failing to serve is an error.
func runWatch(ctx context.Context, opts *WatchOptions, p *watchPlan) error {
	b := buildInfo()
	reg := watch.NewRegistry(watch.Build{Version: b.Version, Commit: b.Commit, GoVersion: b.GoVersion})
	m, err := watch.NewMetrics(reg, p.env.Name, opts.ServerTiming)
	if err != nil {
		return usageError(fmt.Errorf("watch: %w", err))
	}
	w := watch.New(probe.New(p.probe), p.targets, m, watch.Options{
		Variants: p.variants, Session: p.session,
		Interval: opts.Interval, Jitter: watchJitter,
		Concurrency: opts.Concurrency, Limiter: rateLimiter(opts.Rate),
		// A round may take as long as --rate makes it, plus a slow last probe.
		StallAfter: 3*max(opts.Interval, p.round) + 2*opts.Globals.Timeout,
		Logger:     opts.Logger,
	})
	ln := p.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", opts.Listen); err != nil {
			return operationalError(fmt.Errorf("watch: --listen %s: %w (expected a free port on an address of this machine)", opts.Listen, err))
		}
	}
	announceWatch(opts, p, ln.Addr())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	err = watch.Serve(ctx, ln, watch.Handler(reg, w.Healthy, opts.Logger))
	cancel()
	<-done
	if err != nil {
		return operationalError(fmt.Errorf("watch: %w", err))
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "cachectl watch: stopped")
	}
	opts.Logger.Info("stopped")
	return nil
}

// announceWatch says what is watched and where the metrics are: a line on
// stderr when it is a terminal, and a log entry (shown at --log-level
// info) either way.
func announceWatch(opts *WatchOptions, p *watchPlan, addr net.Addr) {
	variants := make([]string, len(p.variants))
	for i, v := range p.variants {
		variants[i] = string(v)
	}
	url := "http://" + addr.String() + "/metrics"
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "cachectl watch: %s of %s as %s, every %s; metrics at %s (Ctrl-C to stop)\n",
			plural(len(p.targets), "route", "routes"), p.env.Name, strings.Join(variants, " and "), opts.Interval, url)
	}
	opts.Logger.Info("serving metrics", "env", p.env.Name, "routes", len(p.targets), "variants", strings.Join(variants, ","),
		"interval", opts.Interval, "rate", opts.Rate, "addr", addr.String(), "round", p.round.Round(time.Millisecond))
}
