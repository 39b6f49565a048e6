package purge

import (
	"context"
	"fmt"
	"iter"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the client-side token buckets of one provider account. They
// keep a run under the CDN's published limits, so big purges slow down
// instead of failing with 429. A nil bucket does not throttle.
type Limits struct {
	// Requests is taken once per API request of any kind.
	Requests *rate.Limiter
	// Bulk is taken once per request that purges by tag, prefix, host or
	// everything, which CDNs limit far more tightly than URL purges.
	Bulk *rate.Limiter
	// URLs is taken once per URL of a URL batch: the CDN's URL throughput.
	URLs *rate.Limiter
	// BulkURL, when set, picks the URLs the API counts as bulk purges
	// (Bunny counts a path ending in "/" as a wildcard purge): they take a
	// Bulk token instead of a URLs token.
	BulkURL func(url string) bool
}

// NewLimits returns the buckets for a run: the API's published limits
// (nil: none, so nothing is throttled), with the per-request bucket
// replaced by cfg.Rate requests per second and a bucket of cfg.Burst when
// they are set. The published buckets are not changed.
func NewLimits(published *Limits, cfg Config) (*Limits, error) {
	l := &Limits{}
	if published != nil {
		*l = *published
	}
	if cfg.Rate < 0 || cfg.Burst < 0 {
		return nil, fmt.Errorf("purge: rate %v and burst %d must not be negative", cfg.Rate, cfg.Burst)
	}
	if cfg.Rate > 0 {
		burst := cfg.Burst
		if burst == 0 {
			burst = max(1, int(cfg.Rate))
		}
		l.Requests = UnderLimit(rate.Limit(cfg.Rate), burst)
	}
	return l, nil
}

// Headroom kept under an API's own token bucket. Ours and the API's start
// at different instants and a request takes time to arrive, so a request
// sent the moment our bucket refills can reach the API just before its
// bucket does and be refused with 429. Staying a little under both the
// rate and the bucket size makes such refusals as good as impossible for
// a cost of a few percent in throughput.
const (
	// RateHeadroom is the share of an API's rate a bucket refills at.
	RateHeadroom = 0.97
	// BurstHeadroom is how many requests fewer than the API's a bucket holds.
	BurstHeadroom = 1
)

// UnderLimit is a token bucket just under an API's limit of r per second
// with bucket size burst: the bucket a provider's published limits are
// made of.
func UnderLimit(r rate.Limit, burst int) *rate.Limiter {
	if burst > 1 {
		burst -= BurstHeadroom
	}
	return rate.NewLimiter(r*RateHeadroom, burst)
}

// Wait blocks until batch b may be sent, or ctx is done.
func (l *Limits) Wait(ctx context.Context, b Batch) error {
	if l == nil {
		return nil
	}
	if err := waitN(ctx, l.Requests, 1); err != nil {
		return err
	}
	switch b.Kind {
	case KindURL:
		bulk := 0
		if l.BulkURL != nil {
			for _, t := range b.Targets {
				if l.BulkURL(t.Value) {
					bulk++
				}
			}
		}
		if err := waitN(ctx, l.Bulk, bulk); err != nil {
			return err
		}
		return waitN(ctx, l.URLs, len(b.Targets)-bulk)
	default:
		return waitN(ctx, l.Bulk, 1)
	}
}

// waitN takes n tokens, in bucket-sized steps when n exceeds the bucket.
func waitN(ctx context.Context, lim *rate.Limiter, n int) error {
	if lim == nil || lim.Limit() == rate.Inf {
		return nil
	}
	burst := max(lim.Burst(), 1)
	for n > 0 {
		step := min(n, burst)
		if err := lim.WaitN(ctx, step); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The limiter refuses at once when the wait would outlast
			// the deadline; that is the deadline, reached early.
			return fmt.Errorf("purge: wait for rate limit: %v: %w", err, context.DeadlineExceeded)
		}
		n -= step
	}
	return nil
}

// MinDuration is the shortest time the buckets let batches be sent in,
// starting full, if every request were answered at once: what the
// throttling alone costs a run, taken as Wait takes it. The buckets
// themselves are not touched.
func (l *Limits) MinDuration(batches iter.Seq[Batch]) time.Duration {
	if l == nil {
		return 0
	}
	requests, bulk, urls := fresh(l.Requests), fresh(l.Bulk), fresh(l.URLs)
	start := time.Unix(0, 0)
	now := start
	for b := range batches {
		now = reserve(requests, now, 1)
		if b.Kind == KindURL {
			now = reserve(urls, now, len(b.Targets))
		} else {
			now = reserve(bulk, now, 1)
		}
	}
	return now.Sub(start)
}

// throttles reports whether any bucket limits the rate.
func (l *Limits) throttles() bool {
	return l != nil && (fresh(l.Requests) != nil || fresh(l.Bulk) != nil || fresh(l.URLs) != nil)
}

// fresh is a full bucket like lim, or nil when lim does not throttle.
func fresh(lim *rate.Limiter) *rate.Limiter {
	if lim == nil || lim.Limit() == rate.Inf {
		return nil
	}
	return rate.NewLimiter(lim.Limit(), lim.Burst())
}

// reserve takes n tokens from lim at now, in bucket-sized steps as waitN
// does, and returns when the last of them is available.
func reserve(lim *rate.Limiter, now time.Time, n int) time.Time {
	if lim == nil {
		return now
	}
	burst := max(lim.Burst(), 1)
	for n > 0 {
		step := min(n, burst)
		r := lim.ReserveN(now, step)
		if !r.OK() {
			return now
		}
		now = now.Add(r.DelayFrom(now))
		n -= step
	}
	return now
}
