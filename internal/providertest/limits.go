package providertest

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/purge"
)

// BucketDelay takes n tokens one at a time at a fixed instant and returns
// how long the last one would wait: a bucket's burst and rate, measured
// without a real clock.
func BucketDelay(lim *rate.Limiter, n int) time.Duration {
	at := time.Date(2026, 11, 26, 16, 12, 0, 0, time.UTC)
	var d time.Duration
	for range n {
		d = lim.ReserveN(at, 1).DelayFrom(at)
	}
	return d
}

// JustUnder reports whether a wait is at least the API's own interval and
// no more than the headroom purge.UnderLimit keeps under it.
func JustUnder(got, apiInterval time.Duration) bool {
	return got >= apiInterval && got <= time.Duration(float64(apiInterval)/purge.RateHeadroom)+time.Microsecond
}
