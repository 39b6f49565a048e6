package purge

import (
	"context"
	"fmt"
	"strings"
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
}

// cloudflarePlan holds one Cloudflare plan's purge limits (reference:
// Cloudflare's "Purge cache" limits table).
type cloudflarePlan struct {
	bulkRate   rate.Limit // tag/host/prefix/everything requests per second
	bulkBurst  int
	urlsPerSec int // moving-average URL throughput
}

var cloudflarePlans = map[string]cloudflarePlan{
	"free":       {bulkRate: rate.Every(12 * time.Second), bulkBurst: 25, urlsPerSec: 800},
	"pro":        {bulkRate: 5, bulkBurst: 25, urlsPerSec: 1500},
	"business":   {bulkRate: 10, bulkBurst: 50, urlsPerSec: 1500},
	"enterprise": {bulkRate: 50, bulkBurst: 500, urlsPerSec: 3000},
}

// Cloudflare's global API limit is 1,200 requests per five minutes per
// user; the burst stays well below the window so other tools sharing the
// token keep some room.
const (
	cloudflareAPIRate  = rate.Limit(1200.0 / 300.0)
	cloudflareAPIBurst = 50
)

// NewLimits returns the buckets for a provider account. Cloudflare gets its
// plan's limits (cfg.Plan, default free); other providers are not
// throttled unless configured. cfg.Rate and cfg.Burst, when set, replace
// the per-request bucket (requests per second, bucket size).
func NewLimits(cfg Config) (*Limits, error) {
	l := &Limits{}
	if cfg.Provider == "cloudflare" {
		planName := strings.ToLower(cfg.Plan)
		if planName == "" {
			planName = "free"
		}
		plan, ok := cloudflarePlans[planName]
		if !ok {
			return nil, fmt.Errorf("purge: unknown Cloudflare plan %q (expected free, pro, business or enterprise)", cfg.Plan)
		}
		l.Requests = underLimit(cloudflareAPIRate, cloudflareAPIBurst)
		l.Bulk = underLimit(plan.bulkRate, plan.bulkBurst)
		l.URLs = underLimit(rate.Limit(plan.urlsPerSec), plan.urlsPerSec)
	}
	if cfg.Rate < 0 || cfg.Burst < 0 {
		return nil, fmt.Errorf("purge: rate %v and burst %d must not be negative", cfg.Rate, cfg.Burst)
	}
	if cfg.Rate > 0 {
		burst := cfg.Burst
		if burst == 0 {
			burst = max(1, int(cfg.Rate))
		}
		l.Requests = underLimit(rate.Limit(cfg.Rate), burst)
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
	rateHeadroom  = 0.97
	burstHeadroom = 1
)

// underLimit is a token bucket just under an API's limit of r per second
// with bucket size burst.
func underLimit(r rate.Limit, burst int) *rate.Limiter {
	if burst > 1 {
		burst -= burstHeadroom
	}
	return rate.NewLimiter(r*rateHeadroom, burst)
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
		return waitN(ctx, l.URLs, len(b.Targets))
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
