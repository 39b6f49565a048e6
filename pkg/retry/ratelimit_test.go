package retry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitWait(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 12, 0, 0, time.UTC)
	in := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"nothing", http.Header{}, 0, false},
		{"Retry-After first", http.Header{"Retry-After": {"3"}, "Fastly-Ratelimit-Remaining": {"0"}, "Fastly-Ratelimit-Reset": {in(time.Hour)}}, 3 * time.Second, true},
		{"Fastly window used up", http.Header{"Fastly-Ratelimit-Remaining": {"0"}, "Fastly-Ratelimit-Reset": {in(41 * time.Minute)}}, 41 * time.Minute, true},
		{"Fastly window not used up", http.Header{"Fastly-Ratelimit-Remaining": {"12"}, "Fastly-Ratelimit-Reset": {in(41 * time.Minute)}}, 0, false},
		{"Fastly reset passed", http.Header{"Fastly-Ratelimit-Remaining": {"0"}, "Fastly-Ratelimit-Reset": {in(-time.Minute)}}, 0, true},
		{"X-RateLimit-Reset as Unix time", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {in(90 * time.Second)}}, 90 * time.Second, true},
		{"X-RateLimit-Reset as seconds", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"7"}}, 7 * time.Second, true},
		// Akamai's documented 429 for the request bucket: one request's
		// refill at 50/s, or the 96 missing URL tokens at 200/s, whichever
		// is longer.
		{"Akamai requests and objects", http.Header{
			"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit-Per-Second": {"50.00"}, "X-Ratelimit-Limit": {"100"},
			"X-Ratelimit-Remaining-Objects": {"9904"}, "X-Ratelimit-Limit-Per-Second-Objects": {"200.00"}, "X-Ratelimit-Limit-Objects": {"10000"},
		}, 480 * time.Millisecond, true},
		{"Akamai requests only", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit-Per-Second": {"50.00"}}, 20 * time.Millisecond, true},
		{"Akamai objects only", http.Header{
			"X-Ratelimit-Remaining": {"80"}, "X-Ratelimit-Limit-Per-Second": {"50.00"},
			"X-Ratelimit-Remaining-Objects": {"0"}, "X-Ratelimit-Limit-Per-Second-Objects": {"0.5"}, "X-Ratelimit-Limit-Objects": {"300"},
		}, 600 * time.Second, true},
		{"Akamai buckets full", http.Header{"X-Ratelimit-Remaining": {"99"}, "X-Ratelimit-Limit-Per-Second": {"50.00"},
			"X-Ratelimit-Remaining-Objects": {"10000"}, "X-Ratelimit-Limit-Per-Second-Objects": {"200.00"}, "X-Ratelimit-Limit-Objects": {"10000"}}, 0, false},
		{"garbage", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"soon"}, "X-Ratelimit-Limit-Per-Second": {"-1"}}, 0, false},
		{"absurd", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1e300"}}, maxRetryAfter, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RateLimitWait(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RateLimitWait = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestFastlyWindowUsedUpReturns429: an hourly limit that resets in 41
// minutes is not waited for: the 429 comes back after one attempt.
func TestFastlyWindowUsedUpReturns429(t *testing.T) {
	reset := strconv.FormatInt(time.Now().Add(41*time.Minute).Unix(), 10)
	s := &script{statuses: []int{429}, headers: []http.Header{{"Fastly-Ratelimit-Remaining": {"0"}, "Fastly-Ratelimit-Reset": {reset}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	start := time.Now()
	resp, att, err := post(t, NewClient(fastPolicy(), nil), context.Background(), srv.URL, "x")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || att.Count() != 1 {
		t.Errorf("status %d after %d attempts, want 429 after 1", resp.StatusCode, att.Count())
	}
	if got := time.Since(start); got > time.Second {
		t.Errorf("elapsed = %v, want an immediate answer", got)
	}
}

// TestAkamaiBucketHeadersPaceTheRetry: a 429 without Retry-After but with
// Akamai's bucket headers is retried once the missing tokens are back.
func TestAkamaiBucketHeadersPaceTheRetry(t *testing.T) {
	h := http.Header{"X-Ratelimit-Remaining": {"50"}, "X-Ratelimit-Remaining-Objects": {"9800"},
		"X-Ratelimit-Limit-Objects": {"10000"}, "X-Ratelimit-Limit-Per-Second-Objects": {"200.00"}}
	s := &script{statuses: []int{429}, headers: []http.Header{h}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, att, err := post(t, NewClient(fastPolicy(), nil), context.Background(), srv.URL, "x")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || att.Count() != 2 {
		t.Fatalf("status %d after %d attempts, want 200 after 2", resp.StatusCode, att.Count())
	}
	if got := s.times[1].Sub(s.times[0]); got < time.Second {
		t.Errorf("retry after %v, want the 1s the 200 missing objects take at 200/s", got)
	}
}

// TestPrepareRunsOnEveryAttempt: each attempt is prepared afresh on its
// own copy, so a per-attempt value (a nonce) differs between attempts and
// the caller's request is left alone.
func TestPrepareRunsOnEveryAttempt(t *testing.T) {
	var nonces []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonces = append(nonces, r.Header.Get("X-Nonce"))
		if len(nonces) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	n := 0
	ctx := WithPrepare(context.Background(), func(r *http.Request) error {
		n++
		r.Header.Set("X-Nonce", "nonce-"+strconv.Itoa(n))
		return nil
	})
	ctx, att := WithAttempts(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewClient(fastPolicy(), nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := len(nonces), 2; got != want || att.Count() != 2 {
		t.Fatalf("server got %d requests (%d attempts counted), want %d", got, att.Count(), want)
	}
	if nonces[0] != "nonce-1" || nonces[1] != "nonce-2" {
		t.Errorf("nonces = %q, want a fresh one per attempt", nonces)
	}
	if v := req.Header.Get("X-Nonce"); v != "" {
		t.Errorf("the caller's request was changed: X-Nonce %q", v)
	}
}

func TestPrepareErrorSendsNothing(t *testing.T) {
	s := &script{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	refused := errors.New("no key")
	ctx := WithPrepare(context.Background(), func(*http.Request) error { return refused })
	_, att, err := post(t, NewClient(fastPolicy(), nil), ctx, srv.URL, "x")
	if !errors.Is(err, refused) {
		t.Errorf("error = %v, want it to wrap the prepare error", err)
	}
	if s.count() != 0 || att.Count() != 1 {
		t.Errorf("server got %d requests after %d attempts, want none after 1", s.count(), att.Count())
	}
}
