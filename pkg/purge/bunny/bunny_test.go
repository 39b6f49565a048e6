package bunny_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake/bunnyfake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/bunny"
	"github.com/cachectl/cachectl/pkg/secret"
)

const token = "bunny-key-5c1f0e9d-8a7b"

func fake(t *testing.T, opts bunnyfake.Options) *bunnyfake.Server {
	t.Helper()
	opts.Token = token
	srv := bunnyfake.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func newProvider(t *testing.T, apiURL string, deps purge.Deps) *bunny.Provider {
	t.Helper()
	p, err := bunny.New(purge.Config{Provider: bunny.Name, APIURL: apiURL, Token: secret.Value(token), TokenEnv: "BUNNY_API_KEY"}, bunny.Settings{}, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func target(k purge.Kind, i int) purge.Target {
	switch k {
	case purge.KindURL:
		return purge.Target{Kind: k, Value: fmt.Sprintf("https://www.example.com/blog/post-%d", i)}
	case purge.KindPrefix:
		return purge.Target{Kind: k, Value: fmt.Sprintf("www.example.com/section-%d/", i)}
	}
	return purge.Target{Kind: k}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Spec: bunny.Spec,
		New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
			srv := fake(t, bunnyfake.Options{Faults: f})
			return newProvider(t, srv.URL, deps), srv
		},
		Target:     target,
		PurgeIDs:   false, // Bunny answers a purge without an id
		Auth:       true,
		NoSettings: true,
	})
}

func TestRequestsOnTheWire(t *testing.T) {
	tests := []struct {
		name     string
		target   purge.Target
		wantPath string
		wantKind string
	}{
		{"a page", purge.Target{Kind: purge.KindURL, Value: "https://www.example.com/a?b=c d"},
			"/purge?url=https%3A%2F%2Fwww.example.com%2Fa%3Fb%3Dc+d&async=false", "url"},
		{"a page whose path ends in /: that page only", purge.Target{Kind: purge.KindURL, Value: "https://www.example.com/blog/"},
			"/purge?url=https%3A%2F%2Fwww.example.com%2Fblog%2F&async=false&exactPath=true", "url"},
		{"a prefix", purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/blog/"},
			"/purge?url=https%3A%2F%2Fwww.example.com%2Fblog%2F%2A&async=false", "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, bunnyfake.Options{})
			p := newProvider(t, srv.URL, providertest.Deps())
			b := purge.Batch{Kind: tt.target.Kind, Targets: []purge.Target{tt.target}}
			desc, refused := p.Describe(b)
			if err := errors.Join(refused...); err != nil {
				t.Errorf("Describe refused: %v", err)
			}
			if _, err := p.Purge(context.Background(), b); err != nil {
				t.Fatalf("Purge: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || len(desc) != 1 {
				t.Fatalf("sent %d, described %d; want 1 and 1", len(reqs), len(desc))
			}
			r := reqs[0]
			if r.Path != tt.wantPath || r.Kind != tt.wantKind || r.Status != http.StatusOK || r.Header.Get("AccessKey") != "REDACTED" {
				t.Errorf("request %s (%s, %d, AccessKey %q), want %s (%s)", r.Path, r.Kind, r.Status, r.Header.Get("AccessKey"), tt.wantPath, tt.wantKind)
			}
			if got, want := desc[0].URL, srv.URL+r.Path; got != want {
				t.Errorf("described %s, sent %s", got, want)
			}
		})
	}
}

// TestLimitsAreBunnys: exact purges 120 at once then 5 a second;
// wildcard purges (prefixes, and pages whose path ends in /) 20 at once
// then one every 2 seconds; each just under Bunny's own.
func TestLimitsAreBunnys(t *testing.T) {
	l, err := bunny.Spec.Limits(purge.Config{}, &bunny.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if got := providertest.BucketDelay(l.URLs, 119); got != 0 {
		t.Errorf("exact purge 119 waits %v, want 0", got)
	}
	if got := providertest.BucketDelay(l.URLs, 1); !providertest.JustUnder(got, 200*time.Millisecond) {
		t.Errorf("exact purge 120 waits %v, want just over 200ms", got)
	}
	if got := providertest.BucketDelay(l.Bulk, 19); got != 0 {
		t.Errorf("wildcard purge 19 waits %v, want 0", got)
	}
	if got := providertest.BucketDelay(l.Bulk, 1); !providertest.JustUnder(got, 2*time.Second) {
		t.Errorf("wildcard purge 20 waits %v, want just over 2s", got)
	}
	for u, want := range map[string]bool{"https://a.example/x": false, "https://a.example/x/": true, "https://a.example/": true, "https://a.example/x?y=/": false} {
		if got := l.BulkURL(u); got != want {
			t.Errorf("BulkURL(%s) = %v, want %v", u, got, want)
		}
	}
}

// TestBucketAnswerHonoured: the fake's empty wildcard bucket answers 429
// with Retry-After; the retry waits for it and succeeds.
func TestBucketAnswerHonoured(t *testing.T) {
	srv := fake(t, bunnyfake.Options{RateLimits: true})
	p := newProvider(t, srv.URL, providertest.Deps())
	b := purge.Batch{Kind: purge.KindPrefix}
	for i := range bunnyfake.WildcardBurst + 1 {
		b.Targets = []purge.Target{target(purge.KindPrefix, i)}
		if _, err := p.Purge(context.Background(), b); err != nil {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	reqs := srv.Requests()
	if got, want := srv.Counts().RateLimited, 1; got != want || len(reqs) != bunnyfake.WildcardBurst+2 {
		t.Fatalf("%d requests, %d rate limited; want %d and %d", len(reqs), got, bunnyfake.WildcardBurst+2, want)
	}
	last := reqs[len(reqs)-1]
	if got := last.Time.Sub(reqs[len(reqs)-2].Time); got < 1900*time.Millisecond {
		t.Errorf("retried %v after the 429, want the 2s Retry-After", got)
	}
}

func TestAuthErrorNamesTheKey(t *testing.T) {
	srv := bunnyfake.NewServer(bunnyfake.Options{Token: "another-key"})
	t.Cleanup(srv.Close)
	p := newProvider(t, srv.URL, providertest.Deps())
	_, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1), target(purge.KindURL, 2)}})
	if !purge.IsAuthError(err) {
		t.Fatalf("error = %v, want an authentication error", err)
	}
	for _, want := range []string{"BUNNY_API_KEY", "account's API key", "retrying will not help"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), token) || len(srv.Requests()) != 1 {
		t.Errorf("error %q, %d requests; want no key and one request", err, len(srv.Requests()))
	}
}

func TestNewNeedsAKey(t *testing.T) {
	if _, err := bunny.New(purge.Config{TokenEnv: "BUNNY_API_KEY"}, bunny.Settings{}, purge.Deps{}); err == nil || !strings.Contains(err.Error(), "BUNNY_API_KEY") {
		t.Errorf("New without a key = %v, want it to name BUNNY_API_KEY", err)
	}
}
