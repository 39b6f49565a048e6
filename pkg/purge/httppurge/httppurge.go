// Package httppurge purges URLs from caching proxies that accept a purge
// request sent to the URL itself — Varnish (return (purge)), nginx's
// cache-purge module, Squid, Apache Traffic Server — on every configured
// cache node.
package httppurge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// Name is the provider's registry name.
const Name = "http-purge"

// DefaultMethod is the request method a purge is sent with.
const DefaultMethod = "PURGE"

// DefaultBatchLimit is how many URLs one batch holds. The nodes take one
// request per URL, so the limit only sets how much is journaled at once.
const DefaultBatchLimit = 50

// Provider sends a purge request for every URL to every cache node.
type Provider struct {
	nodes  []*url.URL
	s      Settings
	method string
	limit  int
	client *http.Client
	log    *slog.Logger
}

// New builds the provider from s.Endpoints (the cache nodes, e.g.
// http://10.0.0.5:6081) and s.Method (default PURGE). s.BatchSize, when
// set, replaces DefaultBatchLimit.
func New(cfg purge.Config, s Settings, deps purge.Deps) (*Provider, error) {
	if len(s.Endpoints) == 0 {
		return nil, fmt.Errorf("http-purge: environment %q has no cdn.endpoints; list the cache nodes to purge, e.g. http://127.0.0.1:6081", cfg.Environment)
	}
	p := &Provider{s: s, method: s.method(), limit: DefaultBatchLimit, client: deps.Client(), log: deps.Log()}
	for _, e := range s.Endpoints {
		u, err := url.Parse(strings.TrimSpace(e))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("http-purge: endpoint %q must be an http or https URL of a cache node without query or credentials, e.g. http://10.0.0.5:6081", e)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = ""
		p.nodes = append(p.nodes, u)
	}
	if strings.ContainsAny(p.method, " \t\r\n()<>@,;:\\\"/[]?={}") {
		return nil, fmt.Errorf("http-purge: method %q is not an HTTP method name", strings.TrimSpace(s.Method))
	}
	if s.BatchSize < 0 {
		return nil, fmt.Errorf("http-purge: batch_size %d must not be negative", s.BatchSize)
	}
	if s.BatchSize > 0 {
		p.limit = s.BatchSize
	}
	return p, nil
}

// Name is "http-purge".
func (p *Provider) Name() string { return Name }

// Capabilities: URLs, with or without cache-key headers; a purge request
// names exactly one cache entry.
func (p *Provider) Capabilities() []purge.Capability { return slices.Clone(capabilities) }

// BatchLimit is the configured batch size for URLs and 0 for other kinds.
func (p *Provider) BatchLimit(k purge.Kind) int {
	if k == purge.KindURL {
		return p.limit
	}
	return 0
}

// request is where a purge of target goes on one node: the node's address,
// the URL's path and query, and the URL's own Host so the node finds the
// entry the public URL is cached under.
func (p *Provider) request(node *url.URL, target string) (reqURL, host string, err error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("http-purge: %q is not an absolute URL: %w", target, purge.ErrInvalidTarget)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	reqURL = node.Scheme + "://" + node.Host + node.EscapedPath() + path
	if u.RawQuery != "" || u.ForceQuery {
		reqURL += "?" + u.RawQuery
	}
	return reqURL, u.Host, nil
}

// Describe lists the requests a batch sends, for a dry run, and the
// targets it would refuse.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	var out []purge.RequestDescription
	refused := make([]error, len(b.Targets))
	for i, t := range b.Targets {
		for _, n := range p.nodes {
			reqURL, host, err := p.request(n, t.Value)
			if err != nil {
				refused[i] = err
				break
			}
			h := map[string]string{"Host": host}
			maps.Copy(h, t.Headers)
			out = append(out, purge.RequestDescription{Method: p.method, URL: reqURL, Header: h})
		}
	}
	return out, refused
}

// Purge sends every URL of the batch to every node, with the target's
// cache-key headers: the nodes in parallel, each node's URLs one after another, because cache nodes also
// serve visitors and a burst of purges competes with them. A URL is purged
// when every node accepted it: a 2xx, or a 404 (not in that node's cache,
// which nginx, Squid and Traffic Server answer). A node that refuses or
// cannot be reached fails that URL, and the error names the node. After a
// node refuses credentials, rate-limits past the retries or cannot be
// reached, the rest of the batch is not sent to it. Purge returns an error
// of its own only when no URL of the batch could be purged.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	if b.Kind != purge.KindURL {
		return purge.BatchResult{}, fmt.Errorf("http-purge: purge by %s: %w", b.Kind, purge.ErrUnsupported)
	}
	if b.Soft {
		return purge.BatchResult{}, fmt.Errorf("http-purge: soft purge: %w", purge.ErrUnsupported)
	}
	res := purge.BatchResult{Results: make([]purge.TargetResult, len(b.Targets))}
	// nodeErrs[n][i] is node n's failure for target i.
	nodeErrs := make([][]error, len(p.nodes))
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for n, node := range p.nodes {
		nodeErrs[n] = make([]error, len(b.Targets))
		wg.Go(func() {
			var stop error
			for i, t := range b.Targets {
				if stop == nil && ctx.Err() != nil {
					stop = ctx.Err()
				}
				if stop != nil {
					nodeErrs[n][i] = fmt.Errorf("http-purge: node %s: %s not sent: %w", node.Host, t.Value, stop)
					continue
				}
				attempts, err := p.purgeOne(ctx, node, t)
				mu.Lock()
				res.Calls += attempts
				res.Attempts = max(res.Attempts, attempts)
				mu.Unlock()
				nodeErrs[n][i] = err
				if err != nil && nodeUnusable(err) {
					stop = fmt.Errorf("node failed earlier in this batch: %w", err)
				}
			}
		})
	}
	wg.Wait()
	var first error
	purged := 0
	for i, t := range b.Targets {
		var errs []error
		for n := range p.nodes {
			if err := nodeErrs[n][i]; err != nil {
				errs = append(errs, err)
			}
		}
		res.Results[i] = purge.TargetResult{Target: t, Err: errors.Join(errs...)}
		if res.Results[i].Err == nil {
			purged++
		} else if first == nil {
			first = res.Results[i].Err
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("http-purge: batch %d: %w", b.Seq, err)
	}
	if purged == 0 && first != nil {
		return res, fmt.Errorf("http-purge: batch %d: no URL could be purged: %w", b.Seq, first)
	}
	return res, nil
}

// nodeUnusable reports whether a failure will repeat for every other URL
// sent to the same node: refused credentials, a rate limit that outlasted
// the retries, or no answer at all.
func nodeUnusable(err error) bool {
	var ae *purge.APIError
	if errors.As(err, &ae) {
		return ae.Auth || ae.Status == http.StatusTooManyRequests
	}
	return true
}

// purgeOne sends one purge request, with the target's cache-key headers,
// and returns how many attempts it took.
func (p *Provider) purgeOne(ctx context.Context, node *url.URL, t purge.Target) (int, error) {
	reqURL, host, err := p.request(node, t.Value)
	if err != nil {
		return 0, err
	}
	target := t.Value // as messages name it
	if len(t.Headers) > 0 {
		target += " (" + purge.FormatHeaders(t.Headers) + ")"
	}
	actx, attempts := retry.WithAttempts(ctx)
	req, err := http.NewRequestWithContext(actx, p.method, reqURL, nil)
	if err != nil {
		return 0, fmt.Errorf("http-purge: node %s: build request for %s: %w", node.Host, target, err)
	}
	req.Host = host
	for name, v := range t.Headers {
		req.Header.Set(name, v)
	}
	resp, err := p.client.Do(req)
	n := max(attempts.Count(), 1)
	if err != nil {
		return n, fmt.Errorf("http-purge: node %s: %s %s: %w", node.Host, p.method, target, err)
	}
	defer resp.Body.Close()
	msg := firstLine(resp.Body)
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotFound {
		p.log.Debug("purged", "node", node.Host, "url", target, "status", resp.StatusCode)
		return n, nil
	}
	if msg == "" {
		// Varnish puts the reason of a synthetic refusal in the status line.
		msg = strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	}
	apiErr := &purge.APIError{
		Provider:  Name,
		Status:    resp.StatusCode,
		Message:   msg,
		Retryable: retry.RetryableStatus(resp.StatusCode),
	}
	// A node that refuses our credentials takes no other URL either.
	apiErr.Auth = resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
	apiErr.Hint = Spec.Hint(apiErr, purge.KindURL, purge.Config{}, &p.s)
	return n, fmt.Errorf("http-purge: node %s refused %s %s: %w", node.Host, p.method, target, apiErr)
}

// firstLine reads the start of a node's answer for the error message and
// drains the rest so the connection can be reused.
func firstLine(r io.Reader) string {
	br := bufio.NewReader(io.LimitReader(r, 64<<10))
	line, _ := br.ReadString('\n')
	_, _ = io.Copy(io.Discard, br)
	line = strings.TrimSpace(line)
	if len(line) > 200 {
		line = line[:200]
	}
	if strings.HasPrefix(line, "<") {
		// An HTML error page says nothing a status line does not.
		return ""
	}
	return line
}
