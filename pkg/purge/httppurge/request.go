package httppurge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// op is one request a batch sends to every node, and the targets of the
// batch it purges.
type op struct {
	targets []int
	method  string
	// path is the request's path and query, after the node's own path.
	path string
	// host is the Host header; "" sends the node's.
	host   string
	header map[string]string
	// what names the request in messages.
	what string
}

// url is where o goes on node: the node's address and path, then o's.
func (o op) url(node *url.URL) string {
	return node.Scheme + "://" + node.Host + node.EscapedPath() + o.path
}

// Ban request headers: regular expressions the VCL in configs/ matches
// against the host and URL each object was stored under.
const (
	banHostHeader = "X-Host"
	banURLHeader  = "X-Url"
)

// ops turns a batch into requests, one per target: each URL, prefix and
// tag gets its own answer (xkey counts the objects each tag purged).
// refused[i] says why target i is not sent, nil when it is.
func (p *Provider) ops(b purge.Batch) ([]op, []error) {
	refused := make([]error, len(b.Targets))
	var ops []op
	for i, t := range b.Targets {
		var o op
		var err error
		switch t.Kind {
		case purge.KindURL:
			o, err = p.urlOp(t)
		case purge.KindPrefix:
			o, err = p.banOp(t)
		case purge.KindTag:
			o, err = p.tagOp(t.Value, b.Soft)
		default:
			err = fmt.Errorf("http-purge: purge by %s: %w", t.Kind, purge.ErrUnsupported)
		}
		refused[i] = err
		if err == nil {
			o.targets = []int{i}
			ops = append(ops, o)
		}
	}
	return ops, refused
}

// headers are the headers a URL purge carries (Deps.Header: the variant
// visitors get), then extra over them.
func (p *Provider) headers(extra map[string]string) map[string]string {
	h := maps.Clone(p.header)
	if h == nil {
		h = map[string]string{}
	}
	return with(h, extra)
}

// agentHeaders are the headers of a tag or ban request, which names no
// variant: cachectl's User-Agent, then extra.
func (p *Provider) agentHeaders(extra map[string]string) map[string]string {
	h := map[string]string{}
	if ua, ok := p.header["User-Agent"]; ok {
		h["User-Agent"] = ua
	}
	return with(h, extra)
}

// with sets extra's headers in h, in canonical form, and returns h.
func with(h, extra map[string]string) map[string]string {
	for k, v := range extra {
		h[http.CanonicalHeaderKey(k)] = v
	}
	return h
}

// urlOp purges one URL: its path and query on the node, its own Host so
// the node finds the entry the public URL is cached under, and the cache
// key headers of the variant.
func (p *Provider) urlOp(t purge.Target) (op, error) {
	u, err := url.Parse(t.Value)
	if err != nil || u.Host == "" {
		return op{}, fmt.Errorf("http-purge: %q is not an absolute URL: %w", t.Value, purge.ErrInvalidTarget)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		path += "?" + u.RawQuery
	}
	what := p.method + " " + t.Value
	if len(t.Headers) > 0 {
		what += " (" + purge.FormatHeaders(t.Headers) + ")"
	}
	return op{method: p.method, path: path, host: u.Host, header: p.headers(t.Headers), what: what}, nil
}

// banOp bans every object stored under a prefix ("www.example.com/tags/"):
// a BAN whose X-Host and X-Url headers are anchored regular expressions
// for the host and the path prefix.
func (p *Provider) banOp(t purge.Target) (op, error) {
	host, path, ok := strings.Cut(t.Value, "/")
	if !ok || host == "" {
		return op{}, fmt.Errorf("http-purge: prefix %q is not host/path: %w", t.Value, purge.ErrInvalidTarget)
	}
	h := p.agentHeaders(map[string]string{
		banHostHeader: "^" + regexp.QuoteMeta(host) + "$",
		banURLHeader:  "^" + regexp.QuoteMeta("/"+path),
	})
	return op{method: "BAN", path: "/", host: host, header: h, what: "BAN " + t.Value}, nil
}

// tagOp purges one tag: xkey-purge (or xkey-softpurge) naming it, or the
// configured header. A tag is one word: xkey reads the header as a
// space-separated list.
func (p *Provider) tagOp(tag string, soft bool) (op, error) {
	if tag == "" || strings.ContainsFunc(tag, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return op{}, fmt.Errorf("http-purge: tag %q must be a non-empty word without spaces or control characters: %w", tag, purge.ErrInvalidTarget)
	}
	name := p.s.tags()
	if name == TagsXkey {
		name = "xkey-purge"
		if soft {
			name = "xkey-softpurge"
		}
	}
	h := p.agentHeaders(map[string]string{name: tag})
	return op{method: p.method, path: "/", header: h, what: p.method + " " + name + ": " + tag}, nil
}

// answer is one node's verdict on one request.
type answer struct {
	err       error
	notCached bool
}

// send sends o to node once (the client retries) and returns the attempts
// it took and the node's verdict.
func (p *Provider) send(ctx context.Context, node *url.URL, o op) (int, answer) {
	actx, attempts := retry.WithAttempts(ctx)
	req, err := http.NewRequestWithContext(retry.WithDropFinal(actx), o.method, o.url(node), nil)
	if err != nil {
		return 0, answer{err: fmt.Errorf("http-purge: node %s: build request for %s: %w", node.Host, o.what, err)}
	}
	if o.host != "" {
		req.Host = o.host
	}
	for name, v := range o.header {
		req.Header.Set(name, v)
	}
	// A purge may be sent again safely: let the transport retry it on a
	// kept-alive connection the node closed meanwhile (the nil value is
	// not sent).
	req.Header["Idempotency-Key"] = nil
	resp, err := p.client.Do(req)
	n := max(attempts.Count(), 1)
	if err != nil {
		return n, answer{err: dropped(node, o, err, n)}
	}
	defer resp.Body.Close()
	return n, p.read(node, o, resp)
}

// dropped describes a request that got no answer, naming the known cause
// when the node closed the connection.
func dropped(node *url.URL, o op, err error, attempts int) error {
	if !retry.Dropped(err) {
		return fmt.Errorf("http-purge: node %s: %s: %w", node.Host, o.what, err)
	}
	return fmt.Errorf("http-purge: node %s: %s: the node closed the connection without answering (%d attempt(s); not retried, since a cache that crashes on a request crashes again); "+
		"nginx's purge module crashes on this request syntax: nginx 1.11.6 and newer with proxy_cache_purge in the same location as proxy_cache, see README (nginx): use a separate purge location: %w",
		node.Host, o.what, attempts, err)
}

// notInCacheRE matches a node's own way of saying it held nothing: Varnish
// VCLs' "Not in cache", xkey's count of zero objects.
var notInCacheRE = regexp.MustCompile(`(?i)not in cache|(^|[^0-9])0 objects?\b`)

// read turns a node's answer into a verdict: 2xx purged (or not cached
// when the answer says so), 404 not cached, anything else a refusal named
// after the software that sent it.
func (p *Provider) read(node *url.URL, o op, resp *http.Response) answer {
	msg := firstLine(resp.Body)
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	if resp.StatusCode == http.StatusNotFound || (resp.StatusCode/100 == 2 && notInCacheRE.MatchString(reason+"\n"+msg)) {
		p.log.Debug("not in cache", "node", node.Host, "request", o.what, "status", resp.StatusCode)
		return answer{notCached: true}
	}
	if resp.StatusCode/100 == 2 {
		p.log.Debug("purged", "node", node.Host, "request", o.what, "status", resp.StatusCode)
		return answer{}
	}
	if msg == "" {
		// Varnish puts the reason of a synthetic refusal in the status line.
		msg = reason
	}
	apiErr := &purge.APIError{
		Provider:  Name,
		Status:    resp.StatusCode,
		Message:   msg,
		Retryable: retry.RetryableStatus(resp.StatusCode),
		Server:    cachestatus.Software(resp.Header),
	}
	// A node that refuses this machine takes no other request either; a
	// 403 comes from its purge ACL, which lists addresses.
	apiErr.Auth = resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
	apiErr.AccessList = resp.StatusCode == http.StatusForbidden
	apiErr.Hint = Spec.Hint(apiErr, purge.KindURL, purge.Config{Environment: p.env}, &p.s)
	return answer{err: fmt.Errorf("http-purge: node %s refused %s: %w", node.Host, o.what, apiErr)}
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
