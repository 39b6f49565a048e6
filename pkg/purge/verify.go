package purge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/pool"
)

// Verifier probes one URL the way an anonymous visitor would and reports
// the cache status of the answer. A 200 from a purge API does not prove
// eviction; only the next request showing the cache did not serve it does.
// header holds the cache-key headers of the variant purged (nil for a
// plain URL): the probe sends them, so it asks for that variant.
type Verifier interface {
	Verify(ctx context.Context, url string, header map[string]string) (VerifyResult, error)
}

// VerifyResult is what one probe saw.
type VerifyResult struct {
	// Cache is the normalized cache status with the header it came from.
	Cache cachestatus.Result
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Location is a redirect's target, resolved against the URL probed.
	Location string
	// Software is the cache that answered (cachestatus.Software), so an
	// unreadable status can say which header to turn on.
	Software string
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
		if !pool.Sleep(ctx, time.Until(rec.ready)) {
			rec.Verify = interrupted
			s.emit(rec)
			return
		}
		if err := s.completed(ctx, rec.PurgeID); err != nil {
			rec.Verify = &VerifyRecord{Cache: VerifyCache{Status: cachestatus.UNKNOWN}, Error: "not verified: " + err.Error()}
			s.emit(rec)
			return
		}
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			rec.Verify = verifyURL(ctx, s.r.Verifier, variant{rec.Target, rec.Headers}, s.soft || rec.stale, opts)
		case <-ctx.Done():
			rec.Verify = interrupted
		}
		s.emit(rec)
	}()
}

// variant is one cache entry to verify: a URL and the cache-key headers
// that select it.
type variant struct {
	url    string
	header map[string]string
}

// completion is the wait for one purge to complete, shared by every URL
// it covers.
type completion struct {
	once sync.Once
	err  error
}

// completed waits until the purge named id has completed when the
// provider's purges take effect later (Completer); at once otherwise.
// URLs of one purge wait for it together: the provider is asked once.
func (s *session) completed(ctx context.Context, id string) error {
	c, ok := s.r.Provider.(Completer)
	if !ok || id == "" {
		return nil
	}
	s.mu.Lock()
	if s.completions == nil {
		s.completions = map[string]*completion{}
	}
	w := s.completions[id]
	if w == nil {
		w = &completion{}
		s.completions[id] = w
	}
	s.mu.Unlock()
	w.once.Do(func() { w.err = c.WaitCompleted(ctx, id) })
	return w.err
}

// verifyURL probes u until it is proven evicted or Settle runs out, then
// with Warm until the cache serves it again.
func verifyURL(ctx context.Context, v Verifier, u variant, soft bool, o VerifyOptions) *VerifyRecord {
	deadline := time.Now().Add(o.Settle)
	for {
		res, err := v.Verify(ctx, u.url, u.header)
		vr := verdict(res, err, soft)
		switch {
		case vr.Passed:
			if o.Warm {
				vr.WarmMS = warm(ctx, v, u, o)
			}
			return vr
		case vr.Error != "":
			return vr
		case time.Now().Add(o.Interval).After(deadline):
			vr.Error = fmt.Sprintf("still served from cache (%s from %s) %s after the purge", res.Cache.Status, res.Cache.Source, o.Settle)
			return vr
		}
		if !pool.Sleep(ctx, o.Interval) {
			vr.Error = "not verified: interrupted"
			return vr
		}
	}
}

// verdict is what one probe proves: evicted (Passed), nothing either way
// (Unproven, with an Error), or still cached (neither: probe again).
func verdict(res VerifyResult, err error, soft bool) *VerifyRecord {
	vr := &VerifyRecord{Cache: VerifyCache{Status: res.Cache.Status, Source: res.Cache.Source}, StatusCode: res.StatusCode}
	if vr.Cache.Status == "" {
		vr.Cache.Status = cachestatus.UNKNOWN
	}
	if err != nil {
		vr.Error = fmt.Sprintf("probe failed: %v", err)
		return vr
	}
	if res.StatusCode/100 == 3 && res.Location != "" {
		vr.Location = res.Location
		vr.Note = "purged the cached redirect; its target " + res.Location + " was not purged"
	}
	switch {
	case evicted(vr.Cache.Status, soft):
		vr.Passed = true
	case vr.Cache.Status == cachestatus.UNKNOWN:
		// Without a cache status nothing proves the entry is gone, nor
		// that it is still there.
		vr.Unproven = true
		vr.hint = cachestatus.EnableHint(res.Software)
		vr.Error = "eviction cannot be proven: the answer carries no cache status header cachectl can read; " + vr.hint
	}
	return vr
}

// warm requests u until the cache answers HIT and returns the milliseconds
// that took, or nil when it did not within WarmTimeout.
func warm(ctx context.Context, v Verifier, u variant, o VerifyOptions) *int64 {
	start := time.Now()
	deadline := start.Add(o.WarmTimeout)
	for time.Now().Before(deadline) {
		if !pool.Sleep(ctx, o.Interval) {
			return nil
		}
		res, err := v.Verify(ctx, u.url, u.header)
		if err == nil && res.Cache.Status == cachestatus.HIT {
			ms := time.Since(start).Milliseconds()
			return &ms
		}
	}
	return nil
}
