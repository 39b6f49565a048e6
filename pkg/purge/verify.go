package purge

import (
	"context"
	"fmt"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
)

// Verifier probes one URL the way an anonymous visitor would and reports
// the cache status of the answer. A 200 from a purge API does not prove
// eviction; only the next request showing the cache did not serve it does.
type Verifier interface {
	Verify(ctx context.Context, url string) (VerifyResult, error)
}

// VerifyResult is what one probe saw.
type VerifyResult struct {
	// Cache is the normalized cache status with the header it came from.
	Cache cachestatus.Result
	// StatusCode is the HTTP status of the answer.
	StatusCode int
}

// VerifyOptions tune the check after a purge. Zero values take the defaults.
type VerifyOptions struct {
	// Concurrency bounds probes in flight (default 4).
	Concurrency int
	// Settle is how long a URL still served from cache is probed again
	// before it counts as a failure: purges take a moment to reach every
	// cache (default 5s).
	Settle time.Duration
	// Interval separates probes of one URL (default 250ms).
	Interval time.Duration
	// Warm keeps requesting a verified URL until the cache serves it
	// again, and reports how long that took.
	Warm bool
	// WarmTimeout bounds the warm-up of one URL (default 30s).
	WarmTimeout time.Duration
}

func (o VerifyOptions) withDefaults() VerifyOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Settle <= 0 {
		o.Settle = 5 * time.Second
	}
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.WarmTimeout <= 0 {
		o.WarmTimeout = 30 * time.Second
	}
	return o
}

// evicted reports whether a status proves the answer did not come from
// the purged cache entry. After a soft purge (or an invalidation) the
// entry is only marked stale, so serving it stale while refreshing, or
// revalidated with the origin, is the expected answer.
func evicted(st cachestatus.Status, soft bool) bool {
	switch st {
	case cachestatus.MISS, cachestatus.EXPIRED, cachestatus.BYPASS, cachestatus.DYNAMIC:
		return true
	case cachestatus.STALE, cachestatus.UPDATING, cachestatus.REVALIDATED:
		return soft
	}
	return false
}

// verifyAsync checks rec's URL under the concurrency bound and emits rec
// with the verdict.
func (s *session) verifyAsync(ctx context.Context, rec Record) {
	opts := s.r.Verify.withDefaults()
	s.mu.Lock()
	if s.verifySem == nil {
		s.verifySem = make(chan struct{}, opts.Concurrency)
	}
	sem := s.verifySem
	s.mu.Unlock()
	s.verifying.Add(1)
	go func() {
		defer s.verifying.Done()
		interrupted := &VerifyRecord{Cache: VerifyCache{Status: cachestatus.UNKNOWN}, Error: "not verified: interrupted"}
		// The API's own estimate of when the purge reaches every cache
		// comes first: a probe before it proves nothing.
		if !sleep(ctx, time.Until(rec.ready)) {
			rec.Verify = interrupted
			s.emit(rec)
			return
		}
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			rec.Verify = verifyURL(ctx, s.r.Verifier, rec.Target, s.soft || rec.stale, opts)
		case <-ctx.Done():
			rec.Verify = interrupted
		}
		s.emit(rec)
	}()
}

// verifyURL probes u until it is proven evicted or Settle runs out, then
// with Warm until the cache serves it again.
func verifyURL(ctx context.Context, v Verifier, u string, soft bool, o VerifyOptions) *VerifyRecord {
	deadline := time.Now().Add(o.Settle)
	vr := &VerifyRecord{}
	for {
		res, err := v.Verify(ctx, u)
		vr.Cache = VerifyCache{Status: res.Cache.Status, Source: res.Cache.Source}
		if vr.Cache.Status == "" {
			vr.Cache.Status = cachestatus.UNKNOWN
		}
		switch {
		case err != nil:
			vr.Error = fmt.Sprintf("probe failed: %v", err)
			return vr
		case evicted(res.Cache.Status, soft):
			vr.Passed = true
		case res.Cache.Status == cachestatus.UNKNOWN || res.Cache.Status == "":
			// Without a cache header nothing proves the entry is gone.
			vr.Error = "no cache status header in the answer; eviction cannot be proven"
			return vr
		case time.Now().Add(o.Interval).After(deadline):
			vr.Error = fmt.Sprintf("still served from cache (%s from %s) %s after the purge", res.Cache.Status, res.Cache.Source, o.Settle)
			return vr
		}
		if vr.Passed {
			break
		}
		if !sleep(ctx, o.Interval) {
			vr.Error = "not verified: interrupted"
			return vr
		}
	}
	if o.Warm {
		vr.WarmMS = warm(ctx, v, u, o)
	}
	return vr
}

// warm requests u until the cache answers HIT and returns the milliseconds
// that took, or nil when it did not within WarmTimeout.
func warm(ctx context.Context, v Verifier, u string, o VerifyOptions) *int64 {
	start := time.Now()
	deadline := start.Add(o.WarmTimeout)
	for time.Now().Before(deadline) {
		if !sleep(ctx, o.Interval) {
			return nil
		}
		res, err := v.Verify(ctx, u)
		if err == nil && res.Cache.Status == cachestatus.HIT {
			ms := time.Since(start).Milliseconds()
			return &ms
		}
	}
	return nil
}

// sleep waits d and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
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
