package fastly_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake/fastlyfake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/fastly"
	"github.com/cachectl/cachectl/pkg/secret"
)

const (
	service = "SU1Z0isxPaozGVKXdv0eY"
	token   = "fastly-test-token-0123"
)

func fake(t *testing.T, f providertest.Faults) *fastlyfake.Server {
	t.Helper()
	srv := fastlyfake.NewServer(fastlyfake.Options{ServiceID: service, Token: token, Faults: f})
	t.Cleanup(srv.Close)
	return srv
}

func newProvider(t *testing.T, apiURL string, deps purge.Deps) *fastly.Provider {
	t.Helper()
	p, err := fastly.New(purge.Config{Provider: "fastly", APIURL: apiURL, Token: secret.Value(token), TokenEnv: "FASTLY_API_TOKEN"}, fastly.Settings{ServiceID: service}, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func target(k purge.Kind, i int) purge.Target {
	switch k {
	case purge.KindURL:
		return purge.Target{Kind: k, Value: fmt.Sprintf("https://www.example.com/blog/post-%d?page=2", i)}
	case purge.KindTag:
		return purge.Target{Kind: k, Value: fmt.Sprintf("article-%d", i)}
	}
	return purge.Target{Kind: k}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Spec: fastly.Spec,
		New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
			srv := fake(t, f)
			return newProvider(t, srv.URL, deps), srv
		},
		Target:   target,
		PurgeIDs: false, // purge-all answers {"status": "ok"} without an id
		Auth:     true,
	})
}

func TestRequestsOnTheWire(t *testing.T) {
	tests := []struct {
		name     string
		batch    purge.Batch
		wantPath string
		wantSoft bool
		wantBody string
		wantID   bool
	}{
		{"url", purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1)}},
			"/purge/www.example.com/blog/post-1?page=2", false, "", true},
		{"soft url", purge.Batch{Kind: purge.KindURL, Soft: true, Targets: []purge.Target{target(purge.KindURL, 1)}},
			"/purge/www.example.com/blog/post-1?page=2", true, "", true},
		{"keys", purge.Batch{Kind: purge.KindTag, Targets: []purge.Target{target(purge.KindTag, 1), target(purge.KindTag, 2)}},
			"/service/" + service + "/purge", false, `{"surrogate_keys":["article-1","article-2"]}`, true},
		{"soft keys", purge.Batch{Kind: purge.KindTag, Soft: true, Targets: []purge.Target{target(purge.KindTag, 1)}},
			"/service/" + service + "/purge", true, `{"surrogate_keys":["article-1"]}`, true},
		{"everything", purge.Batch{Kind: purge.KindEverything},
			"/service/" + service + "/purge_all", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, providertest.Faults{})
			p := newProvider(t, srv.URL, providertest.Deps())
			desc, refused := p.Describe(tt.batch)
			if err := errors.Join(refused...); err != nil {
				t.Errorf("Describe refused valid targets: %v", err)
			}
			res, err := p.Purge(context.Background(), tt.batch)
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || len(desc) != 1 {
				t.Fatalf("sent %d requests, described %d; want 1 and 1", len(reqs), len(desc))
			}
			r := reqs[0]
			if r.Path != tt.wantPath || r.Soft != tt.wantSoft || string(r.Body) != tt.wantBody || r.Status != http.StatusOK {
				t.Errorf("request = %s soft=%v body=%q status=%d, want %s soft=%v body=%q status=200", r.Path, r.Soft, r.Body, r.Status, tt.wantPath, tt.wantSoft, tt.wantBody)
			}
			if got, want := r.Header.Get("Fastly-Key"), "REDACTED"; got != want {
				t.Errorf("Fastly-Key header = %q, want it sent", got)
			}
			if got, want := desc[0].URL, srv.URL+r.Path; got != want {
				t.Errorf("described URL %s, sent %s", got, want)
			}
			if got, want := desc[0].Body, string(r.Body); got != want {
				t.Errorf("described body %q, sent %q", got, want)
			}
			for i, tr := range res.Results {
				if got := tr.PurgeID != ""; got != tt.wantID {
					t.Errorf("Results[%d].PurgeID = %q, want one: %v", i, tr.PurgeID, tt.wantID)
				}
			}
		})
	}
}

func TestKeysSplitAt256(t *testing.T) {
	srv := fake(t, providertest.Faults{})
	p := newProvider(t, srv.URL, providertest.Deps())
	b := purge.Batch{Kind: purge.KindTag}
	for i := range 300 {
		b.Targets = append(b.Targets, target(purge.KindTag, i))
	}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	var sizes []int
	for _, r := range srv.Requests() {
		var body struct {
			Keys []string `json:"surrogate_keys"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(body.Keys))
	}
	if got, want := fmt.Sprint(sizes), "[256 44]"; got != want {
		t.Errorf("keys per request = %s, want %s", got, want)
	}
	if got, want := res.Calls, 2; got != want {
		t.Errorf("Calls = %d, want %d", got, want)
	}
	for i, r := range res.Results {
		if r.Err != nil || r.PurgeID == "" {
			t.Errorf("Results[%d] = %v, %q; want purged with an id", i, r.Err, r.PurgeID)
		}
	}
}

func TestSoftPurgeAllRefused(t *testing.T) {
	srv := fake(t, providertest.Faults{})
	p := newProvider(t, srv.URL, providertest.Deps())
	_, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindEverything, Soft: true})
	if err == nil || !strings.Contains(err.Error(), "cannot be soft") {
		t.Errorf("error = %v, want a refusal of soft purge-all", err)
	}
	if got := len(srv.Requests()); got != 0 {
		t.Errorf("sent %d requests, want none", got)
	}
}

func TestAuthErrorNamesTokenAndScope(t *testing.T) {
	tests := []struct {
		kind      purge.Kind
		wantScope string
	}{
		{purge.KindURL, "purge_select"},
		{purge.KindEverything, "purge_all"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			srv := fastlyfake.NewServer(fastlyfake.Options{ServiceID: service, Token: "other"})
			defer srv.Close()
			p := newProvider(t, srv.URL, providertest.Deps())
			b := purge.Batch{Kind: tt.kind}
			if tt.kind == purge.KindURL {
				b.Targets = []purge.Target{target(purge.KindURL, 0), target(purge.KindURL, 1)}
			}
			_, err := p.Purge(context.Background(), b)
			if !purge.IsAuthError(err) {
				t.Fatalf("error = %v, want an authentication error", err)
			}
			for _, want := range []string{"FASTLY_API_TOKEN", tt.wantScope, "retrying will not help"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), token) {
				t.Error("error contains the token")
			}
			if got, want := len(srv.Requests()), 1; got != want {
				t.Errorf("sent %d requests, want %d (stop at the first auth failure)", got, want)
			}
		})
	}
}

func TestRejectedKeyIsPerTarget(t *testing.T) {
	srv := fake(t, providertest.Faults{Reject: []string{"article-1"}})
	p := newProvider(t, srv.URL, providertest.Deps())
	b := purge.Batch{Kind: purge.KindTag, Targets: []purge.Target{target(purge.KindTag, 0), target(purge.KindTag, 1)}}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if res.Results[0].Err != nil || res.Results[1].Err == nil {
		t.Errorf("results = %v, %v; want the first purged and the second failed", res.Results[0].Err, res.Results[1].Err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	if _, err := fastly.New(purge.Config{Token: "x"}, fastly.Settings{}, purge.Deps{}); err == nil || !strings.Contains(err.Error(), "service_id") {
		t.Errorf("New without service = %v, want a service_id error", err)
	}
	if _, err := fastly.New(purge.Config{TokenEnv: "FASTLY_API_TOKEN"}, fastly.Settings{ServiceID: service}, purge.Deps{}); err == nil || !strings.Contains(err.Error(), "FASTLY_API_TOKEN") {
		t.Errorf("New without token = %v, want it to name FASTLY_API_TOKEN", err)
	}
}

// TestDryRunReportsRefusedTargets: a target the provider would refuse is
// named in the dry run with the reason, as a real run reports it, and
// nothing is sent.
func TestDryRunReportsRefusedTargets(t *testing.T) {
	srv := fake(t, providertest.Faults{})
	p := newProvider(t, srv.URL, providertest.Deps())
	b := purge.Batch{Seq: 1, Kind: purge.KindTag, Targets: []purge.Target{target(purge.KindTag, 1), {Kind: purge.KindTag, Value: "two words"}}}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	_, refused := p.Describe(b)
	if len(refused) != 2 || refused[0] != nil || refused[1] == nil || refused[1].Error() != res.Results[1].Err.Error() {
		t.Fatalf("Describe refused %v; want only the second target, as Purge reported it: %v", refused, res.Results[1].Err)
	}
	sent := len(srv.Requests())
	var out bytes.Buffer
	dry, err := purge.DryRun(p, &out).Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if dry.Results[0].Err != nil || !errors.Is(dry.Results[1].Err, purge.ErrInvalidTarget) {
		t.Errorf("dry run results %+v, want the second target refused as invalid", dry.Results)
	}
	if want := "would be refused: " + refused[1].Error(); !strings.Contains(out.String(), want) {
		t.Errorf("dry run output lacks %q:\n%s", want, out.String())
	}
	if got := len(srv.Requests()); got != sent {
		t.Errorf("the dry run sent %d requests", got-sent)
	}
}

// TestPurgeAllLimitUsedUp: purge-all counts against the hourly limit of
// API writes; once it is used up, the run stops at the first answer and
// says when the limit resets instead of retrying.
func TestPurgeAllLimitUsedUp(t *testing.T) {
	srv := fastlyfake.NewServer(fastlyfake.Options{ServiceID: service, Token: token, HourlyWrites: 1})
	t.Cleanup(srv.Close)
	p := newProvider(t, srv.URL, providertest.Deps())
	if _, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindEverything}); err != nil {
		t.Fatalf("first purge-all: %v", err)
	}
	start := time.Now()
	_, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindEverything})
	if time.Since(start) > time.Second {
		t.Errorf("the refusal took %v, want it at once", time.Since(start))
	}
	var ae *purge.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
		t.Fatalf("error = %v, want a 429 APIError", err)
	}
	for _, want := range []string{"hourly limit of API writes is used up; it resets at", "purge-all counts against"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if got, want := len(srv.Requests()), 2; got != want {
		t.Errorf("fake received %d requests, want %d (no retry)", got, want)
	}
	// URL purges do not count against the limit.
	if _, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1)}}); err != nil {
		t.Errorf("URL purge after the limit: %v", err)
	}
}

// TestFakeTakesTheOfficialClientsURLForm: Fastly's Go client sends the
// whole URL after /purge/; the fake takes it as Fastly does.
func TestFakeTakesTheOfficialClientsURLForm(t *testing.T) {
	srv := fake(t, providertest.Faults{Reject: []string{"https://www.example.com/bad"}})
	for path, want := range map[string]int{
		"/purge/https://www.example.com/blog/post-1?page=2": http.StatusOK,
		"/purge/http://www.example.com/blog/post-1":         http.StatusOK,
		"/purge/www.example.com/blog/post-1":                http.StatusOK,
		"/purge/https://www.example.com/bad":                http.StatusBadRequest,
		"/purge/https://":                                   http.StatusBadRequest,
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Fastly-Key", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	for _, r := range srv.Requests() {
		if r.Kind != "url" || r.Items != 1 {
			t.Errorf("recorded %s as %q with %d items, want a URL purge of 1", r.Path, r.Kind, r.Items)
		}
	}
}

// TestVariantsOneRequestPerHostAndPath: Fastly keys its cache on host and
// path, so --variants' other scheme and the cache-key variants of a URL
// are purged by the request that purges the URL: two requests (the URL
// and its trailing-slash twin) for eight targets, each reported purged.
func TestVariantsOneRequestPerHostAndPath(t *testing.T) {
	srv := fake(t, providertest.Faults{})
	p := newProvider(t, srv.URL, providertest.Deps())
	targets := purge.Expand([]purge.Target{{Kind: purge.KindURL, Value: "https://www.example.com/blog/post-1"}}, true)
	targets = purge.WithKeyHeaders(targets, []purge.KeyHeader{{Name: "Accept-Language", Values: []string{"en", "de"}}})
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	purged := 0
	for _, b := range batches {
		res, err := p.Purge(t.Context(), b)
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		for i, r := range res.Results {
			if r.Err != nil || r.PurgeID == "" || r.Target.Value != b.Targets[i].Value {
				t.Errorf("Results[%d] = %+v, want %s purged with an id", i, r, b.Targets[i].Value)
			}
			purged++
		}
	}
	if purged != 8 {
		t.Errorf("%d targets reported, want 8", purged)
	}
	var paths []string
	for _, r := range srv.Requests() {
		paths = append(paths, r.Path)
	}
	if want := []string{"/purge/www.example.com/blog/post-1", "/purge/www.example.com/blog/post-1/"}; strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("requests = %q, want %q", paths, want)
	}
}
