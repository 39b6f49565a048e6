package retry

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimitWait is how long a rate-limited answer asks the client to wait
// before it tries again, read from its headers relative to now:
//
//   - Retry-After (seconds or an HTTP-date), when the server sends it;
//   - else Fastly's Fastly-RateLimit-Reset (the Unix time the hourly
//     window starts again) once Fastly-RateLimit-Remaining is 0;
//   - else X-RateLimit-Reset once X-RateLimit-Remaining is 0: a Unix time,
//     or seconds from now when the value is too small to be one;
//   - else Akamai's token buckets: one request's refill
//     (1 / X-RateLimit-Limit-Per-Second) once X-RateLimit-Remaining is 0,
//     and the refill of the missing objects (X-RateLimit-Limit-Objects −
//     X-RateLimit-Remaining-Objects, at X-RateLimit-Limit-Per-Second-Objects)
//     when that bucket is not full; the longer of the two.
//
// It reports false when the headers name no pause. Header names are
// matched case-insensitively, so Akamai's X-Ratelimit-* spelling counts.
func RateLimitWait(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if d, ok := ParseRetryAfter(v, now); ok {
			return d, true
		}
	}
	if h.Get("Fastly-RateLimit-Remaining") == "0" {
		if d, ok := untilReset(h.Get("Fastly-RateLimit-Reset"), now); ok {
			return d, true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if d, ok := untilReset(h.Get("X-RateLimit-Reset"), now); ok {
			return d, true
		}
	}
	return bucketRefill(h)
}

// unixTimeFloor separates a Unix time from a number of seconds in a reset
// header: no window is more than 30 years long.
const unixTimeFloor = 1e9

// untilReset reads a reset header: a Unix time in seconds, or seconds from
// now. A reset in the past means no wait.
func untilReset(v string, now time.Time) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || secs < 0 || math.IsInf(secs, 0) || math.IsNaN(secs) {
		return 0, false
	}
	if secs >= unixTimeFloor {
		secs -= float64(now.Unix())
	}
	return seconds(max(secs, 0)), true
}

// bucketRefill reads Akamai's X-RateLimit-* token-bucket headers.
func bucketRefill(h http.Header) (time.Duration, bool) {
	num := func(name string) (float64, bool) {
		f, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
		return f, err == nil && f >= 0 && !math.IsInf(f, 0)
	}
	var wait time.Duration
	found := false
	if rem, ok := num("X-RateLimit-Remaining"); ok && rem == 0 {
		if perSec, ok := num("X-RateLimit-Limit-Per-Second"); ok && perSec > 0 {
			wait, found = seconds(1/perSec), true
		}
	}
	limit, okLimit := num("X-RateLimit-Limit-Objects")
	rem, okRem := num("X-RateLimit-Remaining-Objects")
	perSec, okRate := num("X-RateLimit-Limit-Per-Second-Objects")
	if okLimit && okRem && okRate && perSec > 0 && rem < limit {
		wait, found = max(wait, seconds((limit-rem)/perSec)), true
	}
	return wait, found
}

// seconds converts a number of seconds to a Duration, clamped so absurd
// values cannot overflow.
func seconds(s float64) time.Duration {
	if s >= maxRetryAfter.Seconds() {
		return maxRetryAfter
	}
	return time.Duration(s * float64(time.Second))
}
