package purge

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"golang.org/x/time/rate"
)

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

func TestLimitsWaitTakesBulkTokensForBulkURLs(t *testing.T) {
	l := &Limits{
		URLs: rate.NewLimiter(rate.Every(time.Hour), 3), Bulk: rate.NewLimiter(rate.Every(time.Hour), 2),
		BulkURL: func(u string) bool { return strings.HasSuffix(u, "/") },
	}
	b := Batch{Kind: KindURL, Targets: []Target{{Value: "https://a/x"}, {Value: "https://a/dir/"}, {Value: "https://a/y"}}}
	if err := l.Wait(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if got := l.URLs.Tokens(); got < 0.99 || got > 1.01 {
		t.Errorf("URL bucket holds %v tokens, want 1 (two exact URLs taken)", got)
	}
	if got := l.Bulk.Tokens(); got < 0.99 || got > 1.01 {
		t.Errorf("bulk bucket holds %v tokens, want 1 (the wildcard URL taken)", got)
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
	want = `{"run_id":"r","environment":"production","provider":"cloudflare","purged":3,"not_cached":0,"failed":1,"skipped":0,"planned":0,"api_calls":2,"retries":1,"elapsed_ms":5,"verify_failed":0,"verify_unproven":0}`
	if string(b) != want {
		t.Errorf("Summary JSON =\n%s\nwant\n%s", b, want)
	}
}

// TestMinDuration: the time the buckets alone impose, as Wait takes the
// tokens, from full buckets; the buckets themselves are left full.
func TestMinDuration(t *testing.T) {
	bulk := func(n int) []Batch {
		out := make([]Batch, n)
		for i := range out {
			out[i] = Batch{Seq: i + 1, Kind: KindTag, Targets: []Target{{Kind: KindTag, Value: "t"}}}
		}
		return out
	}
	urls := []Batch{{Seq: 1, Kind: KindURL, Targets: make([]Target, 12)}}
	tests := []struct {
		name    string
		limits  *Limits
		batches []Batch
		want    time.Duration
	}{
		{"no limits", nil, bulk(5), 0},
		{"requests: 3 at once, then 2 a second", &Limits{Requests: rate.NewLimiter(2, 3)}, bulk(7), 2 * time.Second},
		{"bulk bucket", &Limits{Bulk: rate.NewLimiter(1, 1)}, bulk(3), 2 * time.Second},
		{"bulk bucket does not slow URLs", &Limits{Bulk: rate.NewLimiter(1, 1)}, urls, 0},
		{"URLs in bucket-sized steps: 5, 5 after 0.5 s, 2 after 0.2 s", &Limits{URLs: rate.NewLimiter(10, 5)}, urls, 700 * time.Millisecond},
		{"infinite", &Limits{Requests: rate.NewLimiter(rate.Inf, 0)}, bulk(100), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.limits.MinDuration(slices.Values(tt.batches))
			if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("MinDuration = %v, want %v", got, tt.want)
			}
			if tt.limits != nil && tt.limits.Requests != nil && tt.limits.Requests.Limit() != rate.Inf {
				if tokens := tt.limits.Requests.Tokens(); tokens < float64(tt.limits.Requests.Burst()) {
					t.Errorf("the run's bucket was drawn from: %v tokens left", tokens)
				}
			}
		})
	}
}
