package httppurge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// node is a cache node on loopback that takes PURGE like Varnish with
// return (purge): 200 "Purged", and misbehaves as its faults say.
type node struct {
	srv    *httptest.Server
	faults *cdnfake.Injector
	rec    cdnfake.Recorder

	mu    sync.Mutex
	hosts []string // Host header of each purge
	uris  []string // request URI of each purge
	// status, when set, answers every purge.
	status int
}

func newNode(t *testing.T, f cdnfake.Faults) *node {
	n := &node{faults: cdnfake.NewInjector(f)}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *node) serve(w http.ResponseWriter, r *http.Request) {
	seq := n.rec.Next()
	req := cdnfake.Request{Seq: seq, Time: time.Now(), Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Kind: "url", Items: 1}
	n.mu.Lock()
	n.hosts = append(n.hosts, r.Host)
	n.uris = append(n.uris, r.URL.RequestURI())
	status := n.status
	n.mu.Unlock()
	answer := func(code int, body string) {
		req.Status, req.Response = code, []byte(body)
		n.rec.Add(req)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
	if n.faults.Hang() {
		cdnfake.HangUntilGone(r)
		return
	}
	if fault, ok := n.faults.Decide(seq); ok {
		req.Fault = true
		if fault.RetryAfter > 0 {
			cdnfake.SetRetryAfter(w.Header(), fault.RetryAfter)
		}
		answer(fault.Status, http.StatusText(fault.Status)+"\n")
		return
	}
	if n.faults.Rejected("http://" + r.Host + r.URL.RequestURI()) {
		answer(http.StatusBadRequest, "Bad purge request\n")
		return
	}
	if status != 0 {
		answer(status, http.StatusText(status)+"\n")
		return
	}
	answer(http.StatusOK, "Purged\n")
}

func (n *node) Requests() []cdnfake.Request { return n.rec.Requests() }

func newProvider(t *testing.T, deps purge.Deps, nodes ...*node) *httppurge.Provider {
	t.Helper()
	cfg := purge.Config{Provider: httppurge.Name, Environment: "staging"}
	var s httppurge.Settings
	for _, n := range nodes {
		s.Endpoints = append(s.Endpoints, n.srv.URL)
	}
	p, err := httppurge.New(cfg, s, deps)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Spec: httppurge.Spec,
		New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
			if f.Refuse {
				t.Skip("a cache node has no refusal inside a 200 answer")
			}
			n := newNode(t, f)
			return newProvider(t, deps, n), n
		},
		Target: func(k purge.Kind, i int) purge.Target {
			return purge.Target{Kind: k, Value: fmt.Sprintf("http://www.example.com/articles/post-%d", i)}
		},
		Auth: true,
	})
}

func TestRequestCarriesPublicHostAndPath(t *testing.T) {
	n := newNode(t, cdnfake.Faults{})
	p, err := httppurge.New(purge.Config{}, httppurge.Settings{Endpoints: []string{n.srv.URL + "/purge/"}, Method: "purge"}, purge.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{
		{Kind: purge.KindURL, Value: "https://www.example.com/Blog/caf%C3%A9?page=2"},
	}}
	res, err := p.Purge(t.Context(), b)
	if err != nil || res.Results[0].Err != nil {
		t.Fatalf("Purge() = %+v, %v", res, err)
	}
	reqs := n.Requests()
	if len(reqs) != 1 || reqs[0].Method != "PURGE" {
		t.Fatalf("node received %+v, want one PURGE", reqs)
	}
	if got, want := n.hosts[0], "www.example.com"; got != want {
		t.Errorf("Host = %q, want %q", got, want)
	}
	if got, want := n.uris[0], "/purge/Blog/caf%C3%A9?page=2"; got != want {
		t.Errorf("request URI = %q, want %q", got, want)
	}
	if got, refused := p.Describe(b); errors.Join(refused...) != nil || len(got) != 1 || got[0].URL != n.srv.URL+"/purge/Blog/caf%C3%A9?page=2" || got[0].Header["Host"] != "www.example.com" {
		t.Errorf("Describe() = %+v, want the same request", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		s    httppurge.Settings
		want string
	}{
		{name: "no endpoints", s: httppurge.Settings{}, want: `environment "staging" has no cdn.endpoints`},
		{name: "endpoint without scheme", s: httppurge.Settings{Endpoints: []string{"10.0.0.5:6081"}}, want: "must be an http or https URL"},
		{name: "endpoint with credentials", s: httppurge.Settings{Endpoints: []string{"http://u:p@127.0.0.1:6081"}}, want: "without query or credentials"},
		{name: "method with space", s: httppurge.Settings{Endpoints: []string{"http://127.0.0.1:6081"}, Method: "PUR GE"}, want: "not an HTTP method"},
		{name: "negative batch", s: httppurge.Settings{Endpoints: []string{"http://127.0.0.1:6081"}, BatchSize: -1}, want: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := httppurge.New(purge.Config{Environment: "staging"}, tt.s, purge.Deps{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func urlBatch(n int) purge.Batch {
	b := purge.Batch{Seq: 1, Kind: purge.KindURL}
	for i := range n {
		b.Targets = append(b.Targets, purge.Target{Kind: purge.KindURL, Value: fmt.Sprintf("http://www.example.com/articles/p%d", i)})
	}
	return b
}

func TestNotCachedCountsAsPurged(t *testing.T) {
	n := newNode(t, cdnfake.Faults{})
	n.status = http.StatusNotFound // nginx cache-purge: nothing cached under that key
	res, err := newProvider(t, purge.Deps{}, n).Purge(t.Context(), urlBatch(2))
	if err != nil || res.Results[0].Err != nil || res.Results[1].Err != nil {
		t.Fatalf("Purge() = %+v, %v; want both purged", res, err)
	}
}

func TestRefusingNodeFailsEveryURLAndIsNotHammered(t *testing.T) {
	good, denied := newNode(t, cdnfake.Faults{}), newNode(t, cdnfake.Faults{})
	denied.status = http.StatusForbidden
	p := newProvider(t, purge.Deps{}, good, denied)
	res, err := p.Purge(t.Context(), urlBatch(5))
	if !purge.IsAuthError(err) {
		t.Fatalf("Purge() error = %v, want an authentication error for the whole batch", err)
	}
	deniedHost := strings.TrimPrefix(denied.srv.URL, "http://")
	for i, r := range res.Results {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "node "+deniedHost) {
			t.Errorf("Results[%d].Err = %v, want a failure naming node %s", i, r.Err, deniedHost)
		}
	}
	if got := len(denied.Requests()); got != 1 {
		t.Errorf("refusing node received %d requests, want 1 (the rest not sent)", got)
	}
	if got := len(good.Requests()); got != 5 {
		t.Errorf("good node received %d requests, want 5", got)
	}
}

func TestOneRefusedURLIsOnlyThatURL(t *testing.T) {
	b := urlBatch(3)
	n := newNode(t, cdnfake.Faults{Reject: []string{b.Targets[1].Value}})
	res, err := newProvider(t, purge.Deps{}, n).Purge(t.Context(), b)
	if err != nil {
		t.Fatalf("Purge() error = %v, want per-URL results", err)
	}
	var ae *purge.APIError
	if res.Results[0].Err != nil || res.Results[2].Err != nil || !errors.As(res.Results[1].Err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("results = %+v, want only URL 1 failed with HTTP 400", res.Results)
	}
}

func TestRetriesPerURL(t *testing.T) {
	n := newNode(t, cdnfake.Faults{FailFirst: 2, Status: http.StatusServiceUnavailable})
	deps := purge.Deps{HTTP: retry.NewClient(providertest.Policy(), nil)}
	res, err := newProvider(t, deps, n).Purge(t.Context(), urlBatch(2))
	if err != nil || res.Results[0].Err != nil || res.Results[1].Err != nil {
		t.Fatalf("Purge() = %+v, %v; want both purged after retries", res, err)
	}
	if got, want := res.Attempts, 3; got != want {
		t.Errorf("Attempts = %d, want %d", got, want)
	}
	if got, want := res.Calls, 4; got != want {
		t.Errorf("Calls = %d, want %d (3 for the first URL, 1 for the second)", got, want)
	}
}

func TestUnreachableNode(t *testing.T) {
	n := newNode(t, cdnfake.Faults{})
	p := newProvider(t, purge.Deps{}, n)
	n.srv.Close()
	res, err := p.Purge(t.Context(), urlBatch(3))
	if err == nil {
		t.Fatal("Purge() against a closed node succeeded")
	}
	if !strings.Contains(res.Results[2].Err.Error(), "not sent") {
		t.Errorf("Results[2].Err = %v, want not sent after the node failed", res.Results[2].Err)
	}
}

// cacheStatus fetches u through a Varnish node and returns its X-Cache.
func cacheStatus(ctx context.Context, t *testing.T, nodeURL, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, nodeURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "www.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	return resp.Header.Get("X-Cache")
}

// TestAgainstVarnish purges a public URL from the local stack's production
// Varnish addressed by IP, and sees a node that refuses caught.
func TestAgainstVarnish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local stack")
	}
	st := stacktest.Start(t)
	ctx := t.Context()
	path := fmt.Sprintf("/articles/purge-test-%d", time.Now().UnixNano())
	public := "http://www.example.com" + path

	for i, want := range []string{"MISS", "HIT"} {
		if got := cacheStatus(ctx, t, st.ProductionURL, path); got != want {
			t.Fatalf("request %d: X-Cache = %q, want %q", i+1, got, want)
		}
	}
	p, err := httppurge.New(purge.Config{}, httppurge.Settings{Endpoints: []string{st.ProductionURL}}, purge.Deps{HTTP: retry.NewClient(providertest.Policy(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{{Kind: purge.KindURL, Value: public}}}
	res, err := p.Purge(ctx, b)
	if err != nil || res.Results[0].Err != nil {
		t.Fatalf("Purge() = %+v, %v", res, err)
	}
	if got := cacheStatus(ctx, t, st.ProductionURL, path); got != "MISS" {
		t.Fatalf("after purge: X-Cache = %q, want MISS", got)
	}

	// The origin does not take PURGE: as a node it must fail the URL,
	// named, while the Varnish still purges it.
	withOrigin, err := httppurge.New(purge.Config{}, httppurge.Settings{Endpoints: []string{st.ProductionURL, st.OriginURL}}, purge.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = withOrigin.Purge(ctx, b)
	originHost := strings.TrimPrefix(st.OriginURL, "http://")
	if err == nil || res.Results[0].Err == nil || !strings.Contains(res.Results[0].Err.Error(), "node "+originHost+" refused PURGE") {
		t.Fatalf("Purge() with a refusing node = %+v, %v; want a failure naming %s", res, err, originHost)
	}
	if got := cacheStatus(ctx, t, st.ProductionURL, path); got != "MISS" {
		t.Fatalf("after the second purge: X-Cache = %q, want MISS", got)
	}
}

// TestKeyHeadersOnePurgePerCombination: a URL with cache-key headers is one
// PURGE per combination of values on every node, each carrying exactly its
// combination, as Describe says.
func TestKeyHeadersOnePurgePerCombination(t *testing.T) {
	nodes := []*node{newNode(t, cdnfake.Faults{}), newNode(t, cdnfake.Faults{})}
	p := newProvider(t, purge.Deps{}, nodes...)
	hs, err := purge.MergeKeyHeaders([]purge.KeyHeader{
		{Name: "X-Device", Values: []string{"mobile", "desktop"}},
		{Name: "Accept-Language", Values: []string{"en", "de"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	targets := purge.WithKeyHeaders([]purge.Target{{Kind: purge.KindURL, Value: "https://www.example.com/articles/a"}}, hs)
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: targets}
	res, err := p.Purge(t.Context(), b)
	if err != nil {
		t.Fatalf("Purge() = %v", err)
	}
	for i, r := range res.Results {
		if r.Err != nil {
			t.Errorf("Results[%d] = %v", i, r.Err)
		}
	}
	want := []string{
		"Accept-Language: en; X-Device: mobile",
		"Accept-Language: en; X-Device: desktop",
		"Accept-Language: de; X-Device: mobile",
		"Accept-Language: de; X-Device: desktop",
	}
	for n, nd := range nodes {
		var got []string
		for _, r := range nd.Requests() {
			if r.Method != "PURGE" || r.Path != "/articles/a" {
				t.Errorf("node %d got %s %s, want PURGE /articles/a", n, r.Method, r.Path)
			}
			got = append(got, purge.FormatHeaders(map[string]string{
				"Accept-Language": r.Header.Get("Accept-Language"), "X-Device": r.Header.Get("X-Device"),
			}))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("node %d PURGE headers:\n got %q\nwant %q", n, got, want)
		}
	}
	reqs, refused := p.Describe(b)
	if errors.Join(refused...) != nil || len(reqs) != len(want)*len(nodes) {
		t.Fatalf("Describe() = %d requests, refused %v; want %d", len(reqs), refused, len(want)*len(nodes))
	}
	if h := reqs[0].Header; h["X-Device"] != "mobile" || h["Accept-Language"] != "en" || h["Host"] != "www.example.com" {
		t.Errorf("Describe()[0].Header = %v, want the first combination and the public Host", h)
	}
}
