// Package httppurge purges URLs from caching proxies that accept a purge
// request sent to the URL itself — Varnish (return (purge)), nginx's
// cache-purge module, Squid, Apache Traffic Server — on every configured
// cache node; tags through Varnish's xkey module and URL prefixes through
// Varnish bans, where the environment's cdn section enables them.
package httppurge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/cachectl/cachectl/pkg/purge"
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
	env    string
	method string
	limit  int
	header map[string]string
	client *http.Client
	log    *slog.Logger
}

// New builds the provider from s.Endpoints (the cache nodes, e.g.
// http://10.0.0.5:6081, or with the path of a purge location,
// http://10.0.0.5:8080/purge) and s.Method (default PURGE). s.BatchSize,
// when set, replaces DefaultBatchLimit; s.Tags and s.Prefix enable tag and
// prefix purges. Every request carries deps.Header.
func New(cfg purge.Config, s Settings, deps purge.Deps) (*Provider, error) {
	if len(s.Endpoints) == 0 {
		return nil, fmt.Errorf("http-purge: environment %q has no cdn.endpoints; list the cache nodes to purge, e.g. http://127.0.0.1:6081", cfg.Environment)
	}
	p := &Provider{s: s, env: cfg.Environment, method: s.method(), limit: DefaultBatchLimit,
		header: deps.Header, client: deps.Client(), log: deps.Log()}
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
	if ps := validateTagsPrefix(s); len(ps) > 0 {
		return nil, fmt.Errorf("http-purge: %s: found %s, expected %s", ps[0].Key, ps[0].Value, ps[0].Expected)
	}
	if s.BatchSize > 0 {
		p.limit = s.BatchSize
	}
	return p, nil
}

// Name is "http-purge".
func (p *Provider) Name() string { return Name }

// Capabilities: URLs, with or without cache-key headers (a purge request
// names exactly one cache entry); tags when cdn.tags is set, soft tag
// purges when it is xkey; prefixes when cdn.prefix is ban.
func (p *Provider) Capabilities() []purge.Capability {
	caps := []purge.Capability{purge.CapURL, purge.CapURLHeaders}
	if p.s.tags() != "" {
		caps = append(caps, purge.CapTag)
	}
	if p.s.prefixBan() {
		caps = append(caps, purge.CapPrefix)
	}
	if p.s.tags() == TagsXkey {
		caps = append(caps, purge.CapSoft)
	}
	return caps
}

// Refuse says which cdn key enables a kind of purge the environment has
// not configured: tags, prefixes, soft purges (xkey tags only).
func (p *Provider) Refuse(k purge.Kind, soft bool) error {
	key := "environments." + p.env + ".cdn."
	switch {
	case k == purge.KindTag && p.s.tags() == "":
		return fmt.Errorf("http-purge cannot purge by tag until %stags is set: xkey (Varnish with the xkey module of varnish-modules) or the request header your cache reads tags from", key)
	case k == purge.KindPrefix && !p.s.prefixBan():
		return fmt.Errorf("http-purge cannot purge by prefix until %sprefix is set to ban (a Varnish BAN, with the VCL in configs/varnish-xkey.vcl)", key)
	case soft && k != purge.KindTag:
		return fmt.Errorf("http-purge soft-purges only tags, with %stags: xkey; purge %ss without --soft", key, k)
	case soft && p.s.tags() != TagsXkey:
		return fmt.Errorf("http-purge soft-purges tags only with %stags: xkey (xkey-softpurge); %q takes hard purges", key, p.s.tags())
	}
	return nil
}

// BatchLimit is the configured batch size for URLs, and for prefixes and
// tags where enabled (one request each); 0 for other kinds.
func (p *Provider) BatchLimit(k purge.Kind) int {
	switch {
	case k == purge.KindURL, k == purge.KindPrefix && p.s.prefixBan(), k == purge.KindTag && p.s.tags() != "":
		return p.limit
	}
	return 0
}

// Describe lists the requests a batch sends, for a dry run, and the
// targets it would refuse.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	ops, refused := p.ops(b)
	var out []purge.RequestDescription
	for _, o := range ops {
		for _, n := range p.nodes {
			h := map[string]string{}
			if o.host != "" {
				h["Host"] = o.host
			}
			maps.Copy(h, o.header)
			out = append(out, purge.RequestDescription{Method: o.method, URL: o.url(n), Header: h})
		}
	}
	return out, refused
}

// Purge sends every request of the batch to every node: the nodes in
// parallel, each node's requests one after another, because cache nodes
// also serve visitors and a burst of purges competes with them. A target
// is purged when every node accepted it, and not cached when every node
// answered that it held nothing under it (a 404, or xkey's "0 objects").
// A node that refuses or cannot be reached fails the target, and the error
// names the node and, where its answer tells, the cache software and the
// setting to change. After a node refuses, rate-limits past the retries
// or drops the connection, the rest of the batch is not sent to it. Purge
// returns an error of its own only when no target of the batch could be
// purged.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	if err := p.Refuse(b.Kind, b.Soft); err != nil {
		return purge.BatchResult{}, fmt.Errorf("%w: %w", err, purge.ErrUnsupported)
	}
	if p.BatchLimit(b.Kind) == 0 {
		return purge.BatchResult{}, fmt.Errorf("http-purge: purge by %s: %w", b.Kind, purge.ErrUnsupported)
	}
	ops, refused := p.ops(b)
	answers := make([][]answer, len(p.nodes))
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		res = purge.BatchResult{Results: make([]purge.TargetResult, len(b.Targets))}
	)
	for n, node := range p.nodes {
		wg.Go(func() {
			calls, attempts := 0, 0
			answers[n], calls, attempts = p.sendAll(ctx, node, ops)
			mu.Lock()
			res.Calls += calls
			res.Attempts = max(res.Attempts, attempts)
			mu.Unlock()
		})
	}
	wg.Wait()
	first := p.results(b, ops, refused, answers, res.Results)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("http-purge: batch %d: %w", b.Seq, err)
	}
	if first != nil {
		return res, fmt.Errorf("http-purge: batch %d: nothing could be purged: %w", b.Seq, first)
	}
	return res, nil
}

// sendAll sends ops to one node in order and returns each one's answer,
// the requests sent and the most attempts one took.
func (p *Provider) sendAll(ctx context.Context, node *url.URL, ops []op) (out []answer, calls, attempts int) {
	out = make([]answer, len(ops))
	var stop error
	for i, o := range ops {
		if stop == nil && ctx.Err() != nil {
			stop = ctx.Err()
		}
		if stop != nil {
			out[i] = answer{err: fmt.Errorf("http-purge: node %s: %s not sent: %w", node.Host, o.what, stop)}
			continue
		}
		n, a := p.send(ctx, node, o)
		calls += n
		attempts = max(attempts, n)
		out[i] = a
		if a.err != nil && nodeUnusable(a.err) {
			stop = fmt.Errorf("node failed earlier in this batch: %w", a.err)
		}
	}
	return out, calls, attempts
}

// results folds the nodes' answers into one result per target and returns
// the first failure when no target could be purged, nil otherwise.
func (p *Provider) results(b purge.Batch, ops []op, refused []error, answers [][]answer, out []purge.TargetResult) error {
	var first error
	done := 0
	for i, t := range b.Targets {
		errs := []error{refused[i]}
		notCached := refused[i] == nil
		for oi, o := range ops {
			if !slices.Contains(o.targets, i) {
				continue
			}
			for n := range p.nodes {
				a := answers[n][oi]
				errs = append(errs, a.err)
				notCached = notCached && a.err == nil && a.notCached
			}
		}
		out[i] = purge.TargetResult{Target: t, Err: errors.Join(errs...), NotCached: notCached}
		if out[i].Err == nil {
			done++
		} else if first == nil {
			first = out[i].Err
		}
	}
	if done > 0 {
		return nil
	}
	return first
}

// nodeUnusable reports whether a failure will repeat for every other
// request sent to the same node: refused access from this machine, a rate
// limit that outlasted the retries, or no answer at all.
func nodeUnusable(err error) bool {
	var ae *purge.APIError
	if errors.As(err, &ae) {
		return ae.Auth || ae.Status == http.StatusTooManyRequests
	}
	return true
}
