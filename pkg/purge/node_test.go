package purge_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

// cacheNode is a caching proxy on loopback that behaves like the Varnish
// of the local stack: GET stores the page and answers X-Cache MISS, then
// HIT; PURGE evicts the entry of Host + path and answers 200 "Purged".
type cacheNode struct {
	srv *httptest.Server

	mu     sync.Mutex
	cached map[string]bool // Host + request URI
	purges map[string]int
	// refuse lists request URIs whose purge is answered 405, like a node
	// whose ACL does not admit this machine.
	refuse map[string]bool
	// keep answers PURGE with 200 but keeps the entry: a node whose
	// configuration ignores purges.
	keep bool
	// noStatus leaves X-Cache out of answers.
	noStatus bool
	// onPurge runs before a purge is answered.
	onPurge func(key string)
	// keyHeader, when set, is a request header whose value is part of the
	// cache key, as a VCL that hashes on it makes it.
	keyHeader string
	// answer404 answers the purge of an entry it does not hold with 404,
	// as nginx's purge module, Squid and Traffic Server do.
	answer404 bool
	// redirect, when set, answers GETs with a 301 to this Location.
	redirect string
}

func newCacheNode(t *testing.T) *cacheNode {
	n := &cacheNode{cached: map[string]bool{}, purges: map[string]int{}, refuse: map[string]bool{}}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *cacheNode) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Host + r.URL.RequestURI()
	if n.keyHeader != "" {
		key += " " + r.Header.Get(n.keyHeader)
	}
	if r.Method == "PURGE" {
		n.mu.Lock()
		hook := n.onPurge
		refused := n.refuse[r.URL.RequestURI()]
		absent := n.answer404 && !n.cached[key]
		if !refused {
			n.purges[key]++
			if !n.keep {
				delete(n.cached, key)
			}
		}
		n.mu.Unlock()
		if hook != nil {
			hook(key)
		}
		if refused {
			http.Error(w, "Purging not allowed from "+r.RemoteAddr, http.StatusMethodNotAllowed)
			return
		}
		if absent {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		fmt.Fprintln(w, "Purged")
		return
	}
	n.mu.Lock()
	status := "MISS"
	if n.cached[key] {
		status = "HIT"
	}
	n.cached[key] = true
	noStatus, redirect := n.noStatus, n.redirect
	n.mu.Unlock()
	if !noStatus {
		w.Header().Set("X-Cache", status)
	}
	if redirect != "" {
		http.Redirect(w, r, redirect, http.StatusMovedPermanently)
		return
	}
	fmt.Fprintln(w, "page", r.URL.Path)
}

// warm puts u in the node's cache as a visitor's request would.
func (n *cacheNode) warm(t *testing.T, u string) {
	t.Helper()
	n.warmVariant(t, u, nil)
}

// warmVariant puts the variant of u that header selects in the cache.
func (n *cacheNode) warmVariant(t *testing.T, u string, header map[string]string) {
	t.Helper()
	g := &nodeGetter{node: n.srv.URL}
	if _, err := g.Verify(t.Context(), u, header); err != nil {
		t.Fatal(err)
	}
}

func (n *cacheNode) purgeCount(u string) int {
	pu, _ := url.Parse(u)
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.purges[pu.Host+pu.RequestURI()]
}

func (n *cacheNode) totalPurges() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, c := range n.purges {
		total += c
	}
	return total
}

// nodeGetter verifies a purge the way a visitor sees it: a GET of the
// public URL sent to the cache node, reading the node's X-Cache header.
type nodeGetter struct {
	node string
}

func (g *nodeGetter) Verify(ctx context.Context, u string, header map[string]string) (purge.VerifyResult, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return purge.VerifyResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.node+pu.RequestURI(), nil)
	if err != nil {
		return purge.VerifyResult{}, err
	}
	req.Host = pu.Host
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// Like cachectl's probes, the check does not follow redirects.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return purge.VerifyResult{}, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return purge.VerifyResult{}, err
	}
	res := purge.VerifyResult{StatusCode: resp.StatusCode, Cache: cachestatus.Result{Status: cachestatus.UNKNOWN}, Software: cachestatus.Software(resp.Header)}
	if loc, err := resp.Location(); err == nil {
		res.Location = loc.String()
	}
	if v := resp.Header.Get("X-Cache"); v != "" {
		res.Cache = cachestatus.Result{Status: cachestatus.Status(v), Source: "X-Cache", Raw: v}
	}
	return res, nil
}

// newHTTPPurge builds the http-purge provider for nodes.
func newHTTPPurge(t *testing.T, batchSize int, nodes ...*cacheNode) *httppurge.Provider {
	t.Helper()
	cfg := purge.Config{Provider: httppurge.Name, Environment: "production"}
	s := httppurge.Settings{BatchSize: batchSize}
	for _, n := range nodes {
		s.Endpoints = append(s.Endpoints, n.srv.URL)
	}
	p, err := httppurge.New(cfg, s, purge.Deps{HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pageTargets returns n URL targets on www.example.com.
func pageTargets(n int) []purge.Target {
	out := make([]purge.Target, n)
	for i := range out {
		out[i] = purge.Target{Kind: purge.KindURL, Value: fmt.Sprintf("https://www.example.com/p/%d", i+1)}
	}
	return out
}
