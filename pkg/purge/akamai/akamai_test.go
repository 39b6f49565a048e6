package akamai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake/akamaifake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/akamai"
	"github.com/cachectl/cachectl/pkg/purge/akamai/edgegrid"
	"github.com/cachectl/cachectl/pkg/secret"
)

var creds = edgegrid.Credentials{
	Host:         "akab-h05tnam3wl42son7-nalrfqfcyfwbzbbv.luna.akamaiapis.net",
	ClientToken:  "akab-client-token-4f2c9e1a7b3d",
	ClientSecret: "client-secret-9a8b7c6d5e4f3a2b1c0d=",
	AccessToken:  "akab-access-token-1e2d3c4b5a69",
}

// writeEdgerc writes an .edgerc holding c in section and returns its path.
func writeEdgerc(t *testing.T, section string, c edgegrid.Credentials) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".edgerc")
	body := fmt.Sprintf("[%s]\nhost = %s\nclient_token = %s\nclient_secret = %s\naccess_token = %s\n",
		section, c.Host, c.ClientToken.Reveal(), c.ClientSecret.Reveal(), c.AccessToken.Reveal())
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fake(t *testing.T, opts akamaifake.Options) *akamaifake.Server {
	t.Helper()
	opts.Credentials = creds
	srv := akamaifake.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func newProvider(t *testing.T, apiURL string, s akamai.Settings, deps purge.Deps) *akamai.Provider {
	t.Helper()
	if s.Edgerc == "" {
		s.Edgerc = writeEdgerc(t, "default", creds)
	}
	p, err := akamai.New(purge.Config{Provider: akamai.Name, Environment: "production", APIURL: apiURL}, s, deps)
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
		return purge.Target{Kind: k, Value: fmt.Sprintf("article-%d", i)}
	}
	return purge.Target{Kind: k}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Spec: akamai.Spec,
		New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
			srv := fake(t, akamaifake.Options{Faults: f})
			return newProvider(t, srv.URL, akamai.Settings{CPCodes: []int{12345}}, deps), srv
		},
		Target:   target,
		PurgeIDs: true,
		Auth:     true,
		MaxBatch: 500,
	})
}

func TestRequestsOnTheWire(t *testing.T) {
	tests := []struct {
		name     string
		settings akamai.Settings
		batch    purge.Batch
		wantPath string
		wantBody string
	}{
		{"invalidate URLs", akamai.Settings{}, purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1), target(purge.KindURL, 2)}},
			"/ccu/v3/invalidate/url/production", `{"objects":["https://www.example.com/blog/post-1","https://www.example.com/blog/post-2"]}`},
		{"delete URLs on staging", akamai.Settings{Network: "staging"}, purge.Batch{Kind: purge.KindURL, Delete: true, Targets: []purge.Target{target(purge.KindURL, 1)}},
			"/ccu/v3/delete/url/staging", `{"objects":["https://www.example.com/blog/post-1"]}`},
		{"tags", akamai.Settings{}, purge.Batch{Kind: purge.KindTag, Targets: []purge.Target{target(purge.KindTag, 1), target(purge.KindTag, 2)}},
			"/ccu/v3/invalidate/tag/production", `{"objects":["article-1","article-2"]}`},
		{"everything: the CP codes", akamai.Settings{CPCodes: []int{12345, 67890}}, purge.Batch{Kind: purge.KindEverything},
			"/ccu/v3/invalidate/cpcode/production", `{"objects":[12345,67890]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, akamaifake.Options{EstimatedSeconds: 3})
			p := newProvider(t, srv.URL, tt.settings, providertest.Deps())
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
			if r.Path != tt.wantPath || string(r.Body) != tt.wantBody || r.Status != http.StatusCreated {
				t.Errorf("request = %s %s (%d), want %s %s (201)", r.Path, r.Body, r.Status, tt.wantPath, tt.wantBody)
			}
			if desc[0].URL != srv.URL+r.Path || desc[0].Body != string(r.Body) {
				t.Errorf("described %s %s, sent %s %s", desc[0].URL, desc[0].Body, srv.URL+r.Path, r.Body)
			}
			if got, want := res.Estimate, 3*time.Second; got != want {
				t.Errorf("Estimate = %v, want the API's %v", got, want)
			}
			if got, want := res.Stale, !tt.batch.Delete; got != want {
				t.Errorf("Stale = %v, want %v (an invalidation marks stale)", got, want)
			}
			for i, tr := range res.Results {
				if tr.Err != nil || !strings.HasPrefix(tr.PurgeID, "edcp-") {
					t.Errorf("Results[%d] = %v, %q; want purged with the API's purge id", i, tr.Err, tr.PurgeID)
				}
			}
		})
	}
}

// TestEveryAttemptSignedAfresh: a retry carries a new time stamp and
// nonce, and the fake, which refuses a nonce it has seen, accepts it.
func TestEveryAttemptSignedAfresh(t *testing.T) {
	srv := fake(t, akamaifake.Options{Faults: providertest.Faults{FailFirst: 1, Status: http.StatusServiceUnavailable}})
	p := newProvider(t, srv.URL, akamai.Settings{}, providertest.Deps())
	res, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1)}})
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || res.Attempts != 2 {
		t.Fatalf("%d requests, %d attempts; want 2 and 2", len(reqs), res.Attempts)
	}
	nonce := func(r providertest.Request) string {
		a, err := edgegrid.ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		return a.Nonce
	}
	if a, b := nonce(reqs[0]), nonce(reqs[1]); a == b {
		t.Errorf("both attempts carried nonce %s", a)
	}
	if reqs[1].Status != http.StatusCreated {
		t.Errorf("the retry was answered %d, want 201 (its signature verified)", reqs[1].Status)
	}
}

// TestBodiesStayUnder50000Bytes: a batch is sent in as many requests as
// its URLs need at 50,000 bytes each.
func TestBodiesStayUnder50000Bytes(t *testing.T) {
	srv := fake(t, akamaifake.Options{})
	p := newProvider(t, srv.URL, akamai.Settings{}, providertest.Deps())
	b := purge.Batch{Kind: purge.KindURL}
	for i := range 2000 {
		// 100 bytes a URL: 102 with quotes and comma.
		b.Targets = append(b.Targets, purge.Target{Kind: purge.KindURL, Value: fmt.Sprintf("https://www.example.com/%s-%06d", strings.Repeat("a", 68), i)})
	}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	total := 0
	for _, r := range srv.Requests() {
		if len(r.Body) > akamai.MaxBodyBytes {
			t.Errorf("request %d: %d bytes", r.Seq, len(r.Body))
		}
		total += r.Items
	}
	if got, want := res.Calls, 5; got != want { // 490 URLs fill 49,993 bytes
		t.Errorf("Calls = %d, want %d", got, want)
	}
	if total != 2000 {
		t.Errorf("fake purged %d URLs, want 2000", total)
	}
	huge := purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{{Kind: purge.KindURL, Value: "https://www.example.com/" + strings.Repeat("x", akamai.MaxBodyBytes)}}}
	res, _ = p.Purge(context.Background(), huge)
	if !errors.Is(res.Results[0].Err, purge.ErrInvalidTarget) {
		t.Errorf("a URL longer than a request: %v, want it refused unsent", res.Results[0].Err)
	}
}

// TestUnauthorizedURLFailsAlone: a URL the client may not purge is named
// in the API's 403; it alone fails and the rest is sent again.
func TestUnauthorizedURLFailsAlone(t *testing.T) {
	srv := fake(t, akamaifake.Options{Hosts: []string{"www.example.com"}})
	p := newProvider(t, srv.URL, akamai.Settings{}, providertest.Deps())
	b := purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1), {Kind: purge.KindURL, Value: "https://blog.example.org/a"}, target(purge.KindURL, 3)}}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	for i, r := range res.Results {
		if got, want := r.Err != nil, i == 1; got != want {
			t.Errorf("Results[%d] failed = %v, want %v (%v)", i, got, want, r.Err)
		}
	}
	if msg := fmt.Sprint(res.Results[1].Err); !strings.Contains(msg, "unauthorized arl") || !strings.Contains(msg, "no property or CP code its grants cover") || purge.IsAuthError(res.Results[1].Err) {
		t.Errorf("error %q: want the API's refusal with the hint, not an authentication failure", msg)
	}
	if got := len(srv.Requests()); got != 2 {
		t.Errorf("sent %d requests, want 2 (the refused one, then the rest)", got)
	}
}

func TestWrongCredentialsNameTheEdgercSection(t *testing.T) {
	srv := fake(t, akamaifake.Options{})
	other := creds
	other.ClientSecret = "another-secret-0123456789abcdef="
	p := newProvider(t, srv.URL, akamai.Settings{Edgerc: writeEdgerc(t, "ccu", other), Section: "ccu"}, providertest.Deps())
	_, err := p.Purge(context.Background(), purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1)}})
	if !purge.IsAuthError(err) {
		t.Fatalf("error = %v, want an authentication error", err)
	}
	for _, want := range []string{"section [ccu]", "CCU APIs grant", "retrying will not help"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, v := range []secret.Value{other.ClientSecret, other.ClientToken, other.AccessToken} {
		if strings.Contains(err.Error(), v.Reveal()) {
			t.Error("the error holds a credential")
		}
	}
}

func TestNew(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".edgerc"), []byte("[default]\nhost = "+creds.Host+"\nclient_token = ct-000000\nclient_secret = cs-000000\naccess_token = at-000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}
	tests := []struct {
		name    string
		s       akamai.Settings
		env     map[string]string
		wantErr string
	}{
		{"~/.edgerc from the injected HOME", akamai.Settings{}, map[string]string{"HOME": home}, ""},
		{"no HOME", akamai.Settings{}, nil, "HOME is not set"},
		{"no such section", akamai.Settings{Section: "ccu"}, map[string]string{"HOME": home}, "no section [ccu]"},
		{"no such file", akamai.Settings{Edgerc: filepath.Join(home, "missing")}, nil, "missing: no such file"},
		{"bad network", akamai.Settings{Network: "prod"}, map[string]string{"HOME": home}, `network: found "prod", expected production or staging`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scrub := &secret.Scrubber{}
			p, err := akamai.New(purge.Config{}, tt.s, purge.Deps{LookupEnv: lookup(tt.env), Secrets: scrub})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("New error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			desc, _ := p.Describe(purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{target(purge.KindURL, 1)}})
			if got, want := desc[0].URL, "https://"+creds.Host+"/ccu/v3/invalidate/url/production"; got != want {
				t.Errorf("endpoint %s, want the edgerc host's %s", got, want)
			}
			if got := scrub.String("ct-000000 cs-000000 at-000000"); got != "REDACTED REDACTED REDACTED" {
				t.Errorf("scrubbed %q: the credentials were not registered", got)
			}
		})
	}
}

// TestEverythingNeedsCPCodes: --everything purges the configured CP
// codes; without them the provider does not offer it.
func TestEverythingNeedsCPCodes(t *testing.T) {
	srv := fake(t, akamaifake.Options{})
	for _, codes := range [][]int{nil, {12345}} {
		p := newProvider(t, srv.URL, akamai.Settings{CPCodes: codes}, providertest.Deps())
		_, err := purge.Plan(p, []purge.Target{{Kind: purge.KindEverything}}, false)
		if got, want := err == nil, codes != nil; got != want {
			t.Errorf("cp_codes %v: Plan(everything) error = %v", codes, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ps := akamai.Spec.Validate(purge.Common{Provider: akamai.Name}, &akamai.Settings{Network: "prod", Section: "[x]", CPCodes: []int{1, 0, 1}})
	b, _ := json.Marshal(ps)
	for _, want := range []string{`"Key":"network"`, `"Key":"edgerc_section"`, `"Key":"cp_codes[1]"`, `"Key":"cp_codes[2]"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("problems %s lack %s", b, want)
		}
	}
	if ps := akamai.Spec.Validate(purge.Common{Provider: akamai.Name}, &akamai.Settings{}); len(ps) != 0 {
		t.Errorf("empty settings: %v, want none (the defaults serve)", ps)
	}
}
