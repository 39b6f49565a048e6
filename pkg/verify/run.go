package verify

import (
	"context"
	"iter"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/pool"
	"github.com/cachectl/cachectl/pkg/probe"
)

// Record is one check of one route and variant: a line of verify's jsonl
// output. route, variant, check, passed, expected, actual, owner and
// rollback are the fields scripts rely on.
type Record struct {
	Route    string        `json:"route"`
	Variant  probe.Variant `json:"variant"`
	Check    string        `json:"check"`
	Passed   bool          `json:"passed"`
	Expected string        `json:"expected"`
	Actual   string        `json:"actual"`
	Owner    string        `json:"owner"`
	Rollback string        `json:"rollback"`
	URL      string        `json:"url"`
	Env      string        `json:"env,omitempty"`
	// Shard is the worker that ran the check ("2/4"); empty for a whole run.
	Shard string `json:"shard,omitempty"`
	// Index is the route's position in the whole route list; merge restores
	// this order.
	Index int `json:"index"`
	// Attempts is the number of probes it took (more than 1 with --retry-until-pass).
	Attempts int `json:"attempts"`
	// Probe holds the facts of the probe the check judged, repeated on every
	// check of that probe so a merged report can be totalled from the lines alone.
	Probe ProbeFacts `json:"probe"`
}

// ProbeFacts are what the summary needs from a probe.
type ProbeFacts struct {
	StatusCode int                `json:"status_code"`
	Cache      cachestatus.Status `json:"cache"`
	TTFBMs     float64            `json:"ttfb_ms"`
	TotalMs    float64            `json:"total_ms"`
	Error      string             `json:"error,omitempty"`
}

// RouteResult is every check of one target.
type RouteResult struct {
	Target  Target
	Records []Record
}

// Options control a verify run.
type Options struct {
	// Env and Shard label the records.
	Env   string
	Shard string
	// Variants to probe, anonymous first; logged_in needs Session.
	Variants []probe.Variant
	Session  *probe.Session
	// Concurrency bounds the routes in flight (default 8).
	Concurrency int
	// Warm sends one request per variant before the measured one: the first
	// request after a deploy is a MISS by design.
	Warm bool
	// Retries re-probes a route whose checks failed up to this many times,
	// Interval apart; only the failed checks take the new outcome.
	Retries  int
	Interval time.Duration
	// Limiter caps the request rate; nil means no cap.
	Limiter *rate.Limiter
	// Now is the clock freshness is judged by (tests pin it).
	Now func() time.Time
	// Flush, when set, is called whenever the run is about to wait for
	// the next route's records, so an emit may buffer its output without
	// holding any of it while nothing else is ready.
	Flush func() error
}

// Run verifies every target and calls emit with each route's records in
// input order, as soon as they are ready. It stops early when ctx is
// cancelled or emit returns an error.
func Run(ctx context.Context, p *probe.Prober, targets iter.Seq[Target], opts Options, emit func(RouteResult) error) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Variants) == 0 {
		opts.Variants = []probe.Variant{probe.Anonymous}
	}
	return pool.OrderedFlush(ctx, targets, opts.Concurrency, func(ctx context.Context, _ int, t Target) RouteResult {
		return verifyOne(ctx, p, t, opts)
	}, emit, opts.Flush)
}

func verifyOne(ctx context.Context, p *probe.Prober, t Target, opts Options) RouteResult {
	job := inspect.Job{URL: t.URL, Variants: opts.Variants}
	io := inspect.Options{Session: opts.Session, Limiter: opts.Limiter, Repeat: 1, NoFindings: !t.needsFindings(opts.Variants)}
	if opts.Warm {
		io.Repeat = 2
	}
	recs := evaluate(t, inspect.One(ctx, p, t.Index, job, io), opts, 1)
	io.Repeat = 1 // a retry measures the cache as the previous attempt left it
	for attempt := 2; attempt <= opts.Retries+1 && anyFailed(recs) && ctx.Err() == nil; attempt++ {
		if !pool.Sleep(ctx, opts.Interval) {
			break
		}
		recs = recheck(recs, evaluate(t, inspect.One(ctx, p, t.Index, job, io), opts, attempt))
	}
	return RouteResult{Target: t, Records: recs}
}

// evaluate judges the last probe of each variant.
func evaluate(t Target, g inspect.Group, opts Options, attempt int) []Record {
	now := opts.Now()
	n := 0
	for _, v := range opts.Variants {
		n += t.Checklist(v).Len()
	}
	recs := make([]Record, 0, n)
	for _, v := range opts.Variants {
		i, ok := g.Last(v)
		if !ok {
			continue
		}
		r := &g.Probes[i]
		facts := ProbeFacts{StatusCode: r.StatusCode, Cache: r.Cache.Status, TTFBMs: r.Timing.TTFB, TotalMs: r.Timing.Total, Error: r.Error}
		for _, o := range t.Checklist(v).Evaluate(r, now) {
			recs = append(recs, Record{
				Route: t.Route, Variant: v, Check: o.Check, Passed: o.Passed, Expected: o.Expected, Actual: o.Actual,
				Owner: t.Owner, Rollback: t.Rollback, URL: t.URL, Env: opts.Env, Shard: opts.Shard,
				Index: t.Index, Attempts: attempt, Probe: facts,
			})
		}
	}
	return recs
}

// recheck takes the new outcome of the checks that failed before; checks
// that passed keep their result. A variant that was unreachable takes the
// new attempt's checks whole.
func recheck(prev, next []Record) []Record {
	byKey := map[[2]string]Record{}
	nextByVariant := map[probe.Variant][]Record{}
	for _, r := range next {
		byKey[[2]string{string(r.Variant), r.Check}] = r
		nextByVariant[r.Variant] = append(nextByVariant[r.Variant], r)
	}
	out := make([]Record, 0, len(prev))
	for _, r := range prev {
		switch {
		case r.Passed:
			out = append(out, r)
		case r.Check == CheckReachable && len(nextByVariant[r.Variant]) > 0:
			out = append(out, nextByVariant[r.Variant]...)
		default:
			if n, ok := byKey[[2]string{string(r.Variant), r.Check}]; ok {
				out = append(out, n)
			} else {
				r.Attempts = attemptsOf(next, r.Attempts)
				out = append(out, r)
			}
		}
	}
	return out
}

func attemptsOf(recs []Record, fallback int) int {
	if len(recs) > 0 {
		return recs[0].Attempts
	}
	return fallback + 1
}

func anyFailed(recs []Record) bool {
	for _, r := range recs {
		if !r.Passed {
			return true
		}
	}
	return false
}
