package cloudflare_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/secret"
)

const (
	zone  = "023e105f4ecef8ad9ca31a8372d0c353"
	token = "cf-test-token-0123456789"
)

var hosts = []string{"www.example.com", "example.com"}

// account is what New takes: the shared config and the provider's settings.
type account struct {
	cfg purge.Config
	s   cloudflare.Settings
}

func config(apiURL string) account {
	return account{
		cfg: purge.Config{Provider: "cloudflare", Environment: "production", APIURL: apiURL, Token: secret.Value(token), TokenEnv: "CLOUDFLARE_API_TOKEN"},
		s:   cloudflare.Settings{ZoneID: zone},
	}
}

// fake starts a fake whose traffic is checked against Cloudflare's schema
// when the test ends.
func fake(t *testing.T, opts cloudflarefake.Options) *cloudflarefake.Server {
	t.Helper()
	if opts.ZoneID == "" {
		opts.ZoneID = zone
	}
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.Hosts == nil {
		opts.Hosts = hosts
	}
	opts.Schema = loadSchema(t)
	srv := cloudflarefake.NewServer(opts)
	t.Cleanup(func() {
		srv.Close()
		checkAgainstSchema(t, srv.Requests())
	})
	return srv
}

func newProvider(t *testing.T, a account, deps purge.Deps) *cloudflare.Provider {
	t.Helper()
	p, err := cloudflare.New(a.cfg, a.s, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func target(k purge.Kind, i int) purge.Target {
	switch k {
	case purge.KindURL:
		return purge.Target{Kind: k, Value: fmt.Sprintf("https://www.example.com/blog/post-%d", i)}
	case purge.KindTag:
		return purge.Target{Kind: k, Value: fmt.Sprintf("tag-%d", i)}
	case purge.KindHost:
		return purge.Target{Kind: k, Value: hosts[i%len(hosts)]}
	case purge.KindPrefix:
		return purge.Target{Kind: k, Value: fmt.Sprintf("www.example.com/section-%d/", i)}
	}
	return purge.Target{Kind: k}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Spec: cloudflare.Spec,
		New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
			srv := fake(t, cloudflarefake.Options{Faults: f})
			return newProvider(t, config(srv.APIURL()), deps), srv
		},
		Target:   target,
		PurgeIDs: true,
		Auth:     true,
	})
}

var (
	schemaOnce sync.Once
	schema     *cloudflarefake.Schema
	schemaErr  error
)

// loadSchema compiles Cloudflare's published schema of the operation once.
func loadSchema(t *testing.T) *cloudflarefake.Schema {
	t.Helper()
	schemaOnce.Do(func() { schema, schemaErr = cloudflarefake.LoadSchema(cloudflarefake.SchemaFile()) })
	if schemaErr != nil {
		t.Fatalf("loading the OpenAPI schema: %v", schemaErr)
	}
	return schema
}

func checkAgainstSchema(t *testing.T, reqs []providertest.Request) {
	t.Helper()
	s := loadSchema(t)
	for _, r := range reqs {
		if r.Kind != "" {
			if err := s.CheckRequest(r.Body); err != nil {
				t.Errorf("request %d body %s does not match the API schema: %v", r.Seq, r.Body, err)
			}
		}
		if r.Status == http.StatusOK && r.Code == 0 {
			if err := s.CheckSuccess(r.Response); err != nil {
				t.Errorf("response %d %s does not match the API schema: %v", r.Seq, r.Response, err)
			}
		}
	}
}

func TestSchemaRejectsWrongSuccessBody(t *testing.T) {
	s := loadSchema(t)
	for _, body := range []string{
		`{"success":true,"errors":[],"messages":[],"result":{"id":"0123456789abcdef0123456789abcdef0"}}`, // id too long
		`{"success":true,"errors":[],"result":{"id":"x"}}`,                                               // messages missing
		`{"success":false,"errors":[],"messages":[],"result":{"id":"x"}}`,                                // not a success
	} {
		if s.CheckSuccess([]byte(body)) == nil {
			t.Errorf("schema accepted %s", body)
		}
	}
}

// TestEnvironmentIgnored proves the SDK never falls back to CLOUDFLARE_*
// variables: a user's shell may hold credentials for another account.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("CLOUDFLARE_API_TOKEN", "bogus-env-token")
	t.Setenv("CLOUDFLARE_API_KEY", "bogus-env-key")
	t.Setenv("CLOUDFLARE_EMAIL", "bogus@example.net")
	t.Setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:1/client/v4")
	srv := fake(t, cloudflarefake.Options{})
	p := newProvider(t, config(srv.APIURL()), providertest.Deps())
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 0)}}
	if _, err := p.Purge(context.Background(), b); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	reqs := srv.Requests()
	if got, want := len(reqs), 1; got != want {
		t.Fatalf("fake received %d requests, want %d", got, want)
	}
	r := reqs[0]
	if got, want := r.Status, http.StatusOK; got != want {
		t.Errorf("status = %d, want %d (the configured token was accepted)", got, want)
	}
	if got, want := r.Path, "/client/v4/zones/"+zone+"/purge_cache"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
	for _, h := range []string{"X-Auth-Key", "X-Auth-Email"} {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("request carried %s", h)
		}
	}
}

// TestTooManyLowersTheBatchSize: a "too many" answer is met with fewer
// targets a request, and the size the API took holds for the rest of the
// run (BatchLimit).
func TestTooManyLowersTheBatchSize(t *testing.T) {
	tests := []struct {
		name      string
		kind      purge.Kind
		n         int
		opts      cloudflarefake.Options
		batchSize int
		// wantSizes are the targets of each request, refused ones included.
		wantSizes []int
		wantLimit int
	}{
		// The files answer names no maximum: the next documented size.
		{"files held to the older limit", purge.KindURL, 100, cloudflarefake.Options{FilesLimit: 30}, 0, []int{100, 30, 30, 30, 10}, 30},
		// The prefixes answer names its maximum.
		{"prefixes held to the prefix page's limit", purge.KindPrefix, 100, cloudflarefake.Options{PrefixesLimit: 30}, 0, []int{100, 30, 30, 30, 10}, 30},
		// No documented size below the refused one: halves.
		{"below every documented size", purge.KindURL, 10, cloudflarefake.Options{FilesLimit: 4}, 10, []int{10, 5, 2, 2, 1, 2, 2, 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, tt.opts)
			cfg := config(srv.APIURL())
			cfg.s.BatchSize = tt.batchSize
			p := newProvider(t, cfg, providertest.Deps())
			b := purge.Batch{Seq: 3, Kind: tt.kind}
			for i := range tt.n {
				b.Targets = append(b.Targets, target(tt.kind, i))
			}
			res, err := p.Purge(context.Background(), b)
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			for i, r := range res.Results {
				if r.Err != nil || r.PurgeID == "" {
					t.Errorf("Results[%d] = %v, %q; want purged with an id", i, r.Err, r.PurgeID)
				}
			}
			reqs := srv.Requests()
			var sizes []int
			for _, r := range reqs {
				sizes = append(sizes, r.Items)
			}
			if !slices.Equal(sizes, tt.wantSizes) {
				t.Errorf("request sizes = %v, want %v", sizes, tt.wantSizes)
			}
			if got, want := res.Calls, len(reqs); got != want {
				t.Errorf("Calls = %d, want %d (every request sent)", got, want)
			}
			if got := p.BatchLimit(tt.kind); got != tt.wantLimit {
				t.Errorf("BatchLimit(%s) = %d after the refusal, want %d", tt.kind, got, tt.wantLimit)
			}
		})
	}
}

// TestBatchSizeFollowsThePlan: without batch_size, a request holds the
// plan's documented number of URLs.
func TestBatchSizeFollowsThePlan(t *testing.T) {
	for plan, want := range map[string]int{"": 100, "free": 100, "pro": 100, "business": 100, "enterprise": 500, "Enterprise": 500} {
		a := config("")
		a.s.Plan = plan
		p := newProvider(t, a, purge.Deps{})
		if got := p.BatchLimit(purge.KindURL); got != want {
			t.Errorf("plan %q: BatchLimit(url) = %d, want %d", plan, got, want)
		}
		if got := p.BatchLimit(purge.KindPrefix); got != 100 {
			t.Errorf("plan %q: BatchLimit(prefix) = %d, want 100", plan, got)
		}
	}
}

func TestURLOutsideZoneNarrowedToTarget(t *testing.T) {
	srv := fake(t, cloudflarefake.Options{})
	p := newProvider(t, config(srv.APIURL()), providertest.Deps())
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{
		target(purge.KindURL, 0), {Kind: purge.KindURL, Value: "https://blog.example.org/a"}, target(purge.KindURL, 2), target(purge.KindURL, 3),
	}}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	for i, r := range res.Results {
		if got, want := r.Err != nil, i == 1; got != want {
			t.Errorf("Results[%d] failed = %v, want %v", i, got, want)
		}
	}
	var ae *purge.APIError
	if !errors.As(res.Results[1].Err, &ae) || ae.Code != 1082 {
		t.Fatalf("Results[1].Err = %v, want an APIError with code 1082", res.Results[1].Err)
	}
	if !strings.Contains(ae.Error(), "not part of zone") {
		t.Errorf("error %q does not explain the zone", ae)
	}
}

func TestAuthErrorNamesTokenAndPermission(t *testing.T) {
	srv := fake(t, cloudflarefake.Options{Token: "another-token"})
	p := newProvider(t, config(srv.APIURL()), providertest.Deps())
	_, err := p.Purge(context.Background(), purge.Batch{Seq: 1, Kind: purge.KindTag, Targets: []purge.Target{target(purge.KindTag, 0)}})
	if !purge.IsAuthError(err) {
		t.Fatalf("error = %v, want an authentication error", err)
	}
	msg := err.Error()
	for _, want := range []string{"authentication failed", "CLOUDFLARE_API_TOKEN", "Zone → Cache Purge → Purge", "retrying will not help", "code 10000"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, token) {
		t.Errorf("error %q contains the token", msg)
	}
	var ae *purge.APIError
	a := config(srv.APIURL())
	if !errors.As(err, &ae) || ae.Hint == "" || ae.Hint != cloudflare.Spec.Hint(ae, purge.KindTag, a.cfg, &a.s) {
		t.Errorf("hint %q, want the Spec's hint for this refusal", ae.Hint)
	}
}

func TestUnsuccessfulAnswers(t *testing.T) {
	tests := []struct {
		name      string
		faults    providertest.Faults
		wantCode  int
		wantInMsg string
		retryable bool
	}{
		{"200 with success false", providertest.Faults{FailFirst: 1, Refuse: true}, 1016, "Unable to purge", false},
		{"502 page that is not JSON", providertest.Faults{FailFirst: 9, Status: http.StatusBadGateway}, 0, "502 Bad Gateway", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, cloudflarefake.Options{Faults: tt.faults})
			p := newProvider(t, config(srv.APIURL()), providertest.Deps())
			_, err := p.Purge(context.Background(), purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 0)}})
			var ae *purge.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want an APIError", err)
			}
			if ae.Code != tt.wantCode || ae.Retryable != tt.retryable || !strings.Contains(ae.Message, tt.wantInMsg) {
				t.Errorf("APIError = %+v, want code %d, retryable %v, message containing %q", ae, tt.wantCode, tt.retryable, tt.wantInMsg)
			}
		})
	}
}

func TestInvalidPrefixNotSent(t *testing.T) {
	srv := fake(t, cloudflarefake.Options{})
	p := newProvider(t, config(srv.APIURL()), providertest.Deps())
	b := purge.Batch{Seq: 1, Kind: purge.KindPrefix, Targets: []purge.Target{
		{Kind: purge.KindPrefix, Value: "https://www.example.com/blog/"},
		target(purge.KindPrefix, 1),
		{Kind: purge.KindPrefix, Value: "www.example.com/search?q=x"},
	}}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	for i, r := range res.Results {
		if got, want := errors.Is(r.Err, purge.ErrInvalidTarget), i != 1; got != want {
			t.Errorf("Results[%d] invalid = %v, want %v (err: %v)", i, got, want, r.Err)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Items != 1 {
		t.Errorf("fake received %d requests, want one holding only the valid prefix", len(reqs))
	}
}

func TestValidatePrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"www.example.com/blog/", true},
		{"images.example.com/bar/baz", true},
		{"www.example.com", true},
		{"www.example.com" + strings.Repeat("/a", 31), true},
		{"www.example.com" + strings.Repeat("/a", 32), false},
		{"https://www.example.com/blog", false},
		{"www.example.com/blog?page=2", false},
		{"www.example.com/blog#top", false},
		{"/blog/", false},
		{"", false},
		{"www.example.com/a b", false},
	}
	for _, tt := range tests {
		if got := cloudflare.ValidatePrefix(tt.prefix) == nil; got != tt.ok {
			t.Errorf("ValidatePrefix(%q) ok = %v, want %v", tt.prefix, got, tt.ok)
		}
	}
}

func FuzzValidatePrefix(f *testing.F) {
	for _, s := range []string{"www.example.com/foo", "images.example.com/bar/baz", "https://x/y", "a?b", "/x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if cloudflare.ValidatePrefix(s) != nil {
			return
		}
		if strings.Contains(s, "://") || strings.ContainsAny(s, "?# ") || strings.Count(s, "/") > cloudflare.MaxPrefixSeparators || s == "" {
			t.Errorf("ValidatePrefix(%q) accepted an invalid prefix", s)
		}
	})
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*account)
		wantErr string
	}{
		{"batch size too large", func(c *account) { c.s.BatchSize = 501 }, "batch_size 501"},
		{"negative batch size", func(c *account) { c.s.BatchSize = -1 }, "batch_size -1"},
		{"no zone", func(c *account) { c.s.ZoneID = "" }, "zone_id"},
		{"no token", func(c *account) { c.cfg.Token = "" }, "set CLOUDFLARE_API_TOKEN"},
		{"bad api url", func(c *account) { c.cfg.APIURL = "api.example" }, "api_url"},
		{"enterprise batch size", func(c *account) { c.s.BatchSize = 500 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config("")
			tt.edit(&cfg)
			p, err := cloudflare.New(cfg.cfg, cfg.s, purge.Deps{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if got, want := p.BatchLimit(purge.KindURL), cfg.s.BatchSize; got != want {
					t.Errorf("BatchLimit(url) = %d, want %d", got, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestDescribeMatchesRequestSent(t *testing.T) {
	srv := fake(t, cloudflarefake.Options{})
	p := newProvider(t, config(srv.APIURL()), providertest.Deps())
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{
		{Kind: purge.KindURL, Value: "https://www.example.com/a", Headers: map[string]string{"CF-Device-Type": "mobile"}},
		target(purge.KindURL, 1),
	}}
	desc, refused := p.Describe(b)
	if _, err := p.Purge(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(refused...); err != nil {
		t.Errorf("Describe refused valid targets: %v", err)
	}
	reqs := srv.Requests()
	if len(desc) != 1 || len(reqs) != 1 {
		t.Fatalf("described %d requests, sent %d; want 1 and 1", len(desc), len(reqs))
	}
	if got, want := desc[0].Body, string(reqs[0].Body); got != want {
		t.Errorf("described body %s, sent %s", got, want)
	}
	if got, want := desc[0].URL, srv.URL+reqs[0].Path; got != want {
		t.Errorf("described URL %s, sent to %s", got, want)
	}
	var body struct {
		Files []map[string]any `json:"files"`
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil || len(body.Files) != 2 {
		t.Errorf("body %s: want files as url/headers objects", reqs[0].Body)
	}
	if strings.Contains(fmt.Sprint(desc), token) {
		t.Error("description contains the token")
	}
}
