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
	"sync/atomic"
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
	switch {
	case r.Method == "BAN":
		req.Kind = "prefix"
	case r.Header.Get("Xkey-Purge") != "":
		req.Kind, req.Items = "tag", len(strings.Fields(r.Header.Get("Xkey-Purge")))
	case r.Header.Get("Xkey-Softpurge") != "":
		req.Kind, req.Items, req.Soft = "tag", len(strings.Fields(r.Header.Get("Xkey-Softpurge"))), true
	}
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
	return newProviderWith(t, deps, httppurge.Settings{}, nodes...)
}

func newProviderWith(t *testing.T, deps purge.Deps, s httppurge.Settings, nodes ...*node) *httppurge.Provider {
	t.Helper()
	cfg := purge.Config{Provider: httppurge.Name, Environment: "staging"}
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
			return newProviderWith(t, deps, httppurge.Settings{Tags: "xkey", Prefix: "ban"}, n), n
		},
		Target: func(k purge.Kind, i int) purge.Target {
			switch k {
			case purge.KindTag:
				return purge.Target{Kind: k, Value: fmt.Sprintf("article-%d", i)}
			case purge.KindPrefix:
				return purge.Target{Kind: k, Value: fmt.Sprintf("www.example.com/section-%d/", i)}
			}
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

func TestNotCachedIsNotAFailure(t *testing.T) {
	n := newNode(t, cdnfake.Faults{})
	n.status = http.StatusNotFound // nginx cache-purge: nothing cached under that key
	res, err := newProvider(t, purge.Deps{}, n).Purge(t.Context(), urlBatch(2))
	if err != nil || res.Results[0].Err != nil || res.Results[1].Err != nil {
		t.Fatalf("Purge() = %+v, %v; want no failure", res, err)
	}
	if !res.Results[0].NotCached || !res.Results[1].NotCached {
		t.Errorf("Results = %+v, want both not cached", res.Results)
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

// answering is a node that answers every request with status and reason
// (the status line, as Varnish's synth does) and the given headers.
func answering(t *testing.T, status int, reason string, header ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		c, buf, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n", status, reason)
		for i := 0; i+1 < len(header); i += 2 {
			fmt.Fprintf(buf, "%s: %s\r\n", header[i], header[i+1])
		}
		fmt.Fprint(buf, "\r\n")
		_ = buf.Flush()
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestNotCachedAnswers(t *testing.T) {
	tests := []struct {
		status    int
		reason    string
		notCached bool
	}{
		{200, "Purged", false},
		{200, "OK", false},
		{404, "Not Found", true},                    // nginx cache-purge, Squid, Traffic Server
		{200, "Not in cache.", true},                // a VCL's own answer
		{200, "Invalidated 0 objects", true},        // xkey
		{200, "Invalidated 10 objects", false},      // xkey
		{200, "Purged 1 object", false},             // xkey, FOSHttpCache's VCL
		{201, "Purged 0 objects from memory", true}, // any 2xx
	}
	for _, tt := range tests {
		srv := answering(t, tt.status, tt.reason)
		p, err := httppurge.New(purge.Config{}, httppurge.Settings{Endpoints: []string{srv.URL}}, purge.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Purge(t.Context(), urlBatch(1))
		if err != nil || res.Results[0].Err != nil {
			t.Fatalf("%d %s: Purge() = %+v, %v", tt.status, tt.reason, res, err)
		}
		if got := res.Results[0].NotCached; got != tt.notCached {
			t.Errorf("%d %s: NotCached = %v, want %v", tt.status, tt.reason, got, tt.notCached)
		}
	}
}

func TestNotCachedOnlyWhenEveryNodeSaysSo(t *testing.T) {
	held, empty := newNode(t, cdnfake.Faults{}), newNode(t, cdnfake.Faults{})
	empty.status = http.StatusNotFound
	res, err := newProvider(t, purge.Deps{}, held, empty).Purge(t.Context(), urlBatch(1))
	if err != nil || res.Results[0].Err != nil || res.Results[0].NotCached {
		t.Fatalf("Purge() = %+v, %v; want purged: one node held the URL", res, err)
	}
}

// TestRequestHeaders: every PURGE carries the headers the probes send
// (Deps.Header), not Go's User-Agent or Accept-Encoding, and a variant's
// cache-key headers replace them.
func TestRequestHeaders(t *testing.T) {
	n := newNode(t, cdnfake.Faults{})
	deps := purge.Deps{Header: map[string]string{"User-Agent": "cachectl (+test)", "Accept": "text/html", "Accept-Encoding": "gzip, deflate, br, zstd"}}
	p := newProviderWith(t, deps, httppurge.Settings{}, n)
	b := urlBatch(2)
	b.Targets[1].Headers = map[string]string{"Accept-Encoding": "identity", "X-Device": "mobile"}
	if _, err := p.Purge(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	reqs := n.Requests()
	for i, want := range []map[string]string{
		{"User-Agent": "cachectl (+test)", "Accept": "text/html", "Accept-Encoding": "gzip, deflate, br, zstd", "X-Device": ""},
		{"User-Agent": "cachectl (+test)", "Accept": "text/html", "Accept-Encoding": "identity", "X-Device": "mobile"},
	} {
		for name, v := range want {
			if got := reqs[i].Header.Get(name); got != v {
				t.Errorf("request %d %s = %q, want %q", i, name, got, v)
			}
		}
		if _, ok := reqs[i].Header["Idempotency-Key"]; ok {
			t.Errorf("request %d sent an Idempotency-Key header", i)
		}
	}
	desc, _ := p.Describe(b)
	if got := desc[1].Header["Accept-Encoding"]; got != "identity" {
		t.Errorf("Describe()[1] Accept-Encoding = %q, want identity", got)
	}
}

// TestDroppedConnectionExplained: a node that closes the connection on a
// PURGE (nginx's purge module crashing its worker) is not retried, not
// sent the rest of the batch, and the error says what it means.
func TestDroppedConnectionExplained(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = c.Close()
		}
	}))
	t.Cleanup(srv.Close)
	deps := purge.Deps{HTTP: retry.NewClient(providertest.Policy(), nil)}
	p, err := httppurge.New(purge.Config{}, httppurge.Settings{Endpoints: []string{srv.URL + "/purge"}}, deps)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Purge(t.Context(), urlBatch(3))
	if err == nil {
		t.Fatal("Purge() succeeded against a node that drops every connection")
	}
	msg := res.Results[0].Err.Error()
	for _, want := range []string{"closed the connection without answering", "not retried", "nginx", "separate purge location", "README"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("node received %d requests, want 1 (no retry, the rest not sent)", got)
	}
	if !strings.Contains(res.Results[2].Err.Error(), "not sent") {
		t.Errorf("Results[2].Err = %v, want not sent", res.Results[2].Err)
	}
}

// TestRefusalHintNamesTheCache: the hint names the setting of the cache
// that refused, recognized from its answer's headers.
func TestRefusalHintNamesTheCache(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header []string
		want   string
	}{
		{"varnish", 405, []string{"Server", "Varnish", "X-Varnish", "32770"}, "Varnish refused PURGE from this machine: add its address to the acl that vcl_recv checks"},
		{"squid", 403, []string{"Server", "squid/5.7", "X-Squid-Error", "ERR_ACCESS_DENIED 0"}, "http_access allow localhost purge"},
		{"traffic server", 403, []string{"Server", "ATS/9.2.5"}, "ip_allow.yaml"},
		{"nginx", 403, []string{"Server", "nginx/1.22.1"}, "nginx refused PURGE from this machine: add its address to allow in the purge location"},
		{"unknown", 403, nil, "Varnish: the purge acl in vcl_recv; Squid: http_access allow ... purge; Traffic Server: ip_allow.yaml; nginx: allow in the purge location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := answering(t, tt.status, http.StatusText(tt.status), tt.header...)
			p, err := httppurge.New(purge.Config{}, httppurge.Settings{Endpoints: []string{srv.URL}}, purge.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			res, _ := p.Purge(t.Context(), urlBatch(1))
			var ae *purge.APIError
			if !errors.As(res.Results[0].Err, &ae) || !strings.Contains(ae.Hint, tt.want) {
				t.Fatalf("error = %v, want an APIError whose hint has %q", res.Results[0].Err, tt.want)
			}
			if lead := "access denied (HTTP 403)"; tt.status == 403 && !strings.Contains(ae.Error(), lead) {
				t.Errorf("error %q, want it to say %q: an address list refused, not credentials", ae.Error(), lead)
			}
		})
	}
}

// TestTagsAndBans: tags go in one xkey-purge (xkey-softpurge, or the
// configured header) request per node, prefixes as a BAN with anchored,
// escaped X-Host and X-Url expressions; Describe says the same.
func TestTagsAndBans(t *testing.T) {
	tests := []struct {
		name       string
		s          httppurge.Settings
		b          purge.Batch
		wantMethod string
		wantHost   string
		wantHeader map[string]string
	}{
		{"xkey", httppurge.Settings{Tags: "xkey"}, tagBatch(false, "article-1"), "PURGE", "", map[string]string{"Xkey-Purge": "article-1"}},
		{"xkey soft", httppurge.Settings{Tags: "XKEY"}, tagBatch(true, "article-1"), "PURGE", "", map[string]string{"Xkey-Softpurge": "article-1"}},
		{"own header", httppurge.Settings{Tags: "X-Purge-Tags", Method: "PURGEKEYS"}, tagBatch(false, "a"), "PURGEKEYS", "", map[string]string{"X-Purge-Tags": "a"}},
		{"ban", httppurge.Settings{Prefix: "ban"}, purge.Batch{Seq: 1, Kind: purge.KindPrefix, Targets: []purge.Target{{Kind: purge.KindPrefix, Value: "127.0.0.1:8080/tags/c++"}}},
			"BAN", "127.0.0.1:8080", map[string]string{"X-Host": `^127\.0\.0\.1:8080$`, "X-Url": `^/tags/c\+\+`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, cdnfake.Faults{})
			p := newProviderWith(t, purge.Deps{}, tt.s, n)
			res, err := p.Purge(t.Context(), tt.b)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res.Results {
				if r.Err != nil || r.NotCached {
					t.Errorf("Results[%d] = %+v, want purged", i, r)
				}
			}
			reqs := n.Requests()
			if len(reqs) != 1 || reqs[0].Method != tt.wantMethod || reqs[0].Path != "/" {
				t.Fatalf("node received %+v, want one %s /", reqs, tt.wantMethod)
			}
			if tt.wantHost != "" && n.hosts[0] != tt.wantHost {
				t.Errorf("Host = %q, want %q", n.hosts[0], tt.wantHost)
			}
			desc, refused := p.Describe(tt.b)
			if errors.Join(refused...) != nil || len(desc) != 1 || desc[0].Method != tt.wantMethod || desc[0].URL != n.srv.URL+"/" {
				t.Errorf("Describe() = %+v, %v; want the same request", desc, refused)
			}
			for name, v := range tt.wantHeader {
				if got := reqs[0].Header.Get(name); got != v {
					t.Errorf("%s = %q, want %q", name, got, v)
				}
				if got := desc[0].Header[name]; got != v {
					t.Errorf("Describe %s = %q, want %q", name, got, v)
				}
			}
		})
	}
}

func tagBatch(soft bool, tags ...string) purge.Batch {
	b := purge.Batch{Seq: 1, Kind: purge.KindTag, Soft: soft}
	for _, tg := range tags {
		b.Targets = append(b.Targets, purge.Target{Kind: purge.KindTag, Value: tg})
	}
	return b
}

// TestRefuseNamesTheKey: without cdn.tags or cdn.prefix, tags, prefixes
// and soft purges are refused naming the key to set.
func TestRefuseNamesTheKey(t *testing.T) {
	tests := []struct {
		s    httppurge.Settings
		k    purge.Kind
		soft bool
		want string // "" when allowed
	}{
		{httppurge.Settings{}, purge.KindURL, false, ""},
		{httppurge.Settings{}, purge.KindTag, false, "environments.staging.cdn.tags is set: xkey"},
		{httppurge.Settings{}, purge.KindPrefix, false, "environments.staging.cdn.prefix is set to ban"},
		{httppurge.Settings{Tags: "xkey"}, purge.KindURL, true, "soft-purges only tags"},
		{httppurge.Settings{Tags: "xkey"}, purge.KindTag, true, ""},
		{httppurge.Settings{Tags: "X-Tags"}, purge.KindTag, true, "only with environments.staging.cdn.tags: xkey"},
		{httppurge.Settings{Prefix: "BAN"}, purge.KindPrefix, false, ""},
	}
	for _, tt := range tests {
		p := newProviderWith(t, purge.Deps{}, tt.s, newNode(t, cdnfake.Faults{}))
		err := p.Refuse(tt.k, tt.soft)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: Refuse(%s, %v) = %v, want %q", tt.s, tt.k, tt.soft, err, tt.want)
		}
	}
}

func TestValidateTagsAndPrefix(t *testing.T) {
	ps := httppurge.Spec.Validate(purge.Common{Provider: httppurge.Name}, &httppurge.Settings{Endpoints: []string{"http://127.0.0.1:6081"}, Tags: "x tags", Prefix: "regex"})
	var got []string
	for _, p := range ps {
		got = append(got, p.Key+": "+p.Value+": "+p.Expected)
	}
	want := []string{
		`tags: "x tags": xkey or the name of the request header the cache reads tags from`,
		`prefix: "regex": ban (a Varnish BAN, with the VCL in configs/varnish-xkey.vcl)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
