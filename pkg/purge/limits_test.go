package purge

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"golang.org/x/time/rate"
)

// delayAfter takes n tokens one at a time at a fixed instant and returns
// how long the last one would wait: the bucket's burst and rate, measured
// without a real clock.
func delayAfter(lim *rate.Limiter, n int) time.Duration {
	at := time.Date(2026, 11, 26, 16, 12, 0, 0, time.UTC)
	var d time.Duration
	for range n {
		d = lim.ReserveN(at, 1).DelayFrom(at)
	}
	return d
}

// justUnder reports whether a wait is at least the API's own interval and
// no more than the headroom the client keeps under it.
func justUnder(got, apiInterval time.Duration) bool {
	return got >= apiInterval && got <= time.Duration(float64(apiInterval)/rateHeadroom)+time.Microsecond
}

// TestNewLimitsFollowsCloudflarePlans: each bucket stays just under the
// plan's: one request less in the burst, and a refill a few percent slower.
func TestNewLimitsFollowsCloudflarePlans(t *testing.T) {
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
			l, err := NewLimits(Config{Provider: "cloudflare", Plan: tt.plan})
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
			// 1,200 requests per five minutes: one every 250ms after the burst.
			if got := delayAfter(l.Requests, cloudflareAPIBurst); !justUnder(got, 250*time.Millisecond) {
				t.Errorf("API request %d waits %v, want just over 250ms", cloudflareAPIBurst, got)
			}
		})
	}
}

func TestNewLimitsConfigOverridesAndOtherProviders(t *testing.T) {
	l, err := NewLimits(Config{Provider: "cloudflare", Rate: 2, Burst: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := delayAfter(l.Requests, 3); !justUnder(got, 500*time.Millisecond) {
		t.Errorf("configured 2/s burst 3: request 3 waits %v, want just over 500ms", got)
	}
	l, err = NewLimits(Config{Provider: "http-purge"})
	if err != nil || l.Requests != nil || l.Bulk != nil || l.URLs != nil {
		t.Fatalf("http-purge limits = %+v, %v; want none", l, err)
	}
	if _, err := NewLimits(Config{Provider: "cloudflare", Plan: "platinum"}); err == nil {
		t.Fatal("unknown plan accepted")
	}
	if _, err := NewLimits(Config{Provider: "fastly", Rate: -1}); err == nil {
		t.Fatal("negative rate accepted")
	}
}

func TestLimitsWaitTakesOneTokenPerURL(t *testing.T) {
	l := &Limits{URLs: rate.NewLimiter(rate.Every(time.Hour), 30), Bulk: rate.NewLimiter(rate.Every(time.Hour), 1)}
	b := Batch{Kind: KindURL, Targets: make([]Target, 30)}
	if err := l.Wait(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if got := l.URLs.Tokens(); got > 0.01 {
		t.Fatalf("URL bucket holds %v tokens after a batch of 30, want 0", got)
	}
	if got := l.Bulk.Tokens(); got < 0.99 {
		t.Fatalf("bulk bucket holds %v tokens after a URL batch, want 1 (untouched)", got)
	}
}

func TestRecordAndSummaryJSON(t *testing.T) {
	warm := int64(420)
	rec := Record{
		Target: "https://www.example.com/a/", Kind: KindURL, State: Purged, Batch: 2, PurgeID: "abc", Attempts: 1,
		VariantOf: "https://www.example.com/a", Owner: "web-team",
		Verify: &VerifyRecord{Cache: VerifyCache{Status: cachestatus.MISS, Source: "Cf-Cache-Status"}, Passed: true, WarmMS: &warm},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"target":"https://www.example.com/a/","kind":"url","state":"purged","batch":2,"purge_id":"abc","attempts":1,"error":"","variant_of":"https://www.example.com/a","owner":"web-team","verify":{"cache":{"status":"MISS","source":"Cf-Cache-Status"},"passed":true,"warm_ms":420}}`
	if string(b) != want {
		t.Errorf("Record JSON =\n%s\nwant\n%s", b, want)
	}
	b, err = json.Marshal(Summary{RunID: "r", Environment: "production", Provider: "cloudflare", Purged: 3, Failed: 1, APICalls: 2, Retries: 1, ElapsedMS: 5})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"run_id":"r","environment":"production","provider":"cloudflare","purged":3,"failed":1,"skipped":0,"planned":0,"api_calls":2,"retries":1,"elapsed_ms":5,"verify_failed":0}`
	if string(b) != want {
		t.Errorf("Summary JSON =\n%s\nwant\n%s", b, want)
	}
}
