package cloudflare

import (
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
)

// TestLimitsFollowPlans: each bucket stays just under the plan's: one
// request less in the burst, and a refill a few percent slower.
func TestLimitsFollowPlans(t *testing.T) {
	delayAfter, justUnder := providertest.BucketDelay, providertest.JustUnder
	tests := []struct {
		plan string
		// bulkBurst requests go at once; the next waits bulkWait.
		bulkBurst int
		bulkWait  time.Duration
		urlsBurst int
		urlsWait  time.Duration
	}{
		{plan: "", bulkBurst: 25, bulkWait: 12 * time.Second, urlsBurst: 800, urlsWait: time.Second / 800},
		{plan: "free", bulkBurst: 25, bulkWait: 12 * time.Second, urlsBurst: 800, urlsWait: time.Second / 800},
		{plan: "Pro", bulkBurst: 25, bulkWait: 200 * time.Millisecond, urlsBurst: 1500, urlsWait: time.Second / 1500},
		{plan: "business", bulkBurst: 50, bulkWait: 100 * time.Millisecond, urlsBurst: 1500, urlsWait: time.Second / 1500},
		{plan: "enterprise", bulkBurst: 500, bulkWait: 20 * time.Millisecond, urlsBurst: 3000, urlsWait: time.Second / 3000},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			l, err := Spec.Limits(purge.Config{Provider: Name}, &Settings{Plan: tt.plan})
			if err != nil {
				t.Fatal(err)
			}
			if got := delayAfter(l.Bulk, tt.bulkBurst-1); got != 0 {
				t.Errorf("bulk request %d waits %v, want 0", tt.bulkBurst-1, got)
			}
			if got := delayAfter(l.Bulk, 1); !justUnder(got, tt.bulkWait) {
				t.Errorf("bulk request %d waits %v, want just over %v", tt.bulkBurst, got, tt.bulkWait)
			}
			if got := delayAfter(l.URLs, tt.urlsBurst-1); got != 0 {
				t.Errorf("URL %d waits %v, want 0", tt.urlsBurst-1, got)
			}
			if got := delayAfter(l.URLs, 1); !justUnder(got, tt.urlsWait) {
				t.Errorf("URL %d waits %v, want just over %v", tt.urlsBurst, got, tt.urlsWait)
			}
			// 1,200 requests per five minutes: 150 at once, then 3.5 a
			// second, so no five minutes see more than 1,200.
			if got := delayAfter(l.Requests, apiBurst-1); got != 0 {
				t.Errorf("API request %d waits %v, want 0", apiBurst-1, got)
			}
			if got := delayAfter(l.Requests, 1); !justUnder(got, time.Second*2/7) {
				t.Errorf("API request %d waits %v, want just over %v", apiBurst, got, time.Second*2/7)
			}
			if worst := float64(apiBurst) + float64(apiRate)*300; worst > 1200 {
				t.Errorf("the bucket allows %v requests in five minutes, more than 1,200", worst)
			}
		})
	}
}
