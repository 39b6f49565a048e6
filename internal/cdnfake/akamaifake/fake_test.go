package akamaifake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge/akamai/edgegrid"
)

var creds = edgegrid.Credentials{ClientToken: "akab-ct-0123456789", ClientSecret: "cs-0123456789abcdef=", AccessToken: "akab-at-0123456789"}

// post sends body to path, signed with nonce (a new one when empty).
func post(t *testing.T, srv *Server, path, body, nonce string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	s := &edgegrid.Signer{Credentials: creds}
	if nonce != "" {
		s.Nonce = func() string { return nonce }
	}
	s.Sign(req, []byte(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return resp, v
}

func TestAnswers(t *testing.T) {
	srv := NewServer(Options{Credentials: creds})
	defer srv.Close()
	const one = `{"objects":["https://www.example.com/a"]}`
	tests := []struct {
		name, path, body, nonce string
		want                    int
	}{
		{"accepted", "/ccu/v3/invalidate/url/production", one, "", http.StatusCreated},
		{"CP codes", "/ccu/v3/delete/cpcode/staging", `{"objects":[12345]}`, "", http.StatusCreated},
		{"unknown network", "/ccu/v3/invalidate/url/prod", one, "", http.StatusNotFound},
		{"no objects", "/ccu/v3/invalidate/tag/production", `{"objects":[]}`, "", http.StatusBadRequest},
		{"not a URL", "/ccu/v3/invalidate/url/production", `{"objects":["/a"]}`, "", http.StatusBadRequest},
		{"over 50,000 bytes", "/ccu/v3/invalidate/tag/production", `{"objects":["` + strings.Repeat("t", MaxBodyBytes) + `"]}`, "", http.StatusRequestEntityTooLarge},
		{"first use of a nonce", "/ccu/v3/invalidate/url/production", one, "n-1", http.StatusCreated},
		{"the nonce replayed", "/ccu/v3/invalidate/url/production", one, "n-1", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, v := post(t, srv, tt.path, tt.body, tt.nonce)
			if resp.StatusCode != tt.want || v["httpStatus"] != float64(tt.want) {
				t.Errorf("status %d, body %v; want %d", resp.StatusCode, v, tt.want)
			}
			if tt.want == http.StatusCreated && (v["estimatedSeconds"] != float64(DefaultEstimate) || v["purgeId"] == "") {
				t.Errorf("accepted answer %v lacks estimatedSeconds or purgeId", v)
			}
		})
	}
	if a := srv.Requests()[0].Header.Get("Authorization"); strings.Contains(a, creds.ClientToken.Reveal()) || !strings.Contains(a, "nonce=") {
		t.Errorf("recorded Authorization %q: want the tokens hidden, the nonce shown", a)
	}
}

// TestBuckets: the request bucket runs out after 100, the 429 says so in
// its headers, and a refused request takes no tokens; objects have their
// own buckets.
func TestBuckets(t *testing.T) {
	srv := NewServer(Options{Credentials: creds, RateLimits: true})
	defer srv.Close()
	var last *http.Response
	var body map[string]any
	accepted := 0
	for range 150 {
		last, body = post(t, srv, "/ccu/v3/invalidate/url/production", `{"objects":["https://www.example.com/a"]}`, "")
		if last.StatusCode != http.StatusCreated {
			break
		}
		accepted++
	}
	if last.StatusCode != http.StatusTooManyRequests || body["title"] != "Rate Limit exceeded" || accepted < 100 || accepted > 110 {
		t.Fatalf("after %d accepted: %d %v, want 429 Rate Limit exceeded after about 100", accepted, last.StatusCode, body)
	}
	h := last.Header
	if h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Limit-Per-Second") != "50.00" || h.Get("X-RateLimit-Limit-Objects") != "10000" {
		t.Errorf("429 headers %v", h)
	}
	if n, err := strconv.Atoi(h.Get("X-RateLimit-Remaining-Objects")); err != nil || n < 10000-accepted || n >= 10000 {
		t.Errorf("X-RateLimit-Remaining-Objects = %q after %d one-URL purges", h.Get("X-RateLimit-Remaining-Objects"), accepted)
	}

	tags := NewServer(Options{Credentials: creds, RateLimits: true})
	defer tags.Close()
	thousand := `{"objects":[` + strings.TrimSuffix(strings.Repeat(`"tag-xxxxxx",`, 1000), ",") + `]}`
	for range 6 {
		last, body = post(t, tags, "/ccu/v3/invalidate/tag/production", thousand, "")
	}
	if last.StatusCode != http.StatusTooManyRequests || body["title"] != "TAG Rate Limit exceeded" || body["rateLimitCurrentRequestSize"] != float64(1000) {
		t.Errorf("the sixth thousand tags: %d %v, want the tag bucket's 429", last.StatusCode, body)
	}
	// 100 - 5, plus what refilled meanwhile: the refused one took none.
	if n, err := strconv.Atoi(last.Header.Get("X-RateLimit-Remaining")); err != nil || n < 95 || n > 99 {
		t.Errorf("X-RateLimit-Remaining = %q after 5 requests and a refused one, want 95 or a little more", last.Header.Get("X-RateLimit-Remaining"))
	}
}
