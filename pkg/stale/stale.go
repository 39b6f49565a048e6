package stale

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/pool"
	"github.com/cachectl/cachectl/pkg/probe"
)

// DefaultAcceptEncoding is the Accept-Encoding sent to the edge and the
// origin alike: gzip is what edges store most often, and it decodes with the
// standard library.
const DefaultAcceptEncoding = "gzip"

// Options configure a Checker.
type Options struct {
	// Origin is the origin's base URL, reached without the CDN
	// (http://127.0.0.1:18080). Each URL's path and query are appended to it.
	Origin string
	// OriginHost is the Host header sent to the origin; empty sends each
	// URL's own host, as a CDN does.
	OriginHost string
	// Ignore lists RE2 patterns whose matches are removed from both bodies
	// before they are hashed. Patterns match within one line (see the
	// package documentation).
	Ignore []string
	// URLIgnore adds patterns for particular URLs (a route's own), applied
	// to that URL after the patterns of Ignore. Keys are URLs exactly as
	// given to Check and Run.
	URLIgnore map[string][]string
	// AcceptEncoding is sent to both sides (default DefaultAcceptEncoding);
	// gzip, deflate and identity bodies are decoded, others are not comparable.
	AcceptEncoding string
	// Accept and UserAgent default to probe's browser-like values.
	Accept, UserAgent string
	// CacheHeaders are extra cache-status header names (the site's own).
	CacheHeaders []string
	// BodyLimit caps each body, before and after decoding (default
	// probe.DefaultBodyLimit); a longer body is not comparable.
	BodyLimit int64
	// LineLimit is the longest line the patterns see whole (default DefaultLineLimit).
	LineLimit int
	// Timeout bounds each request, body included (default 10s).
	Timeout time.Duration
	// Concurrency bounds the URLs in flight in Run (default 8).
	Concurrency int
	// Limiter caps the request rate, edge and origin requests alike; nil means no cap.
	Limiter *rate.Limiter
	// Insecure skips TLS verification.
	Insecure bool
	// Transport replaces the default transport (tests).
	Transport http.RoundTripper
	// Logger gets a debug record for each URL's verdict and each ignore
	// pattern that matched; nil discards them.
	Logger *slog.Logger
}

// Checker decides whether the edge's copies are stale. It is safe for
// concurrent use.
type Checker struct {
	opts   Options
	origin *url.URL
	norm   normalizer
	// urlNorm holds the normalizers of the URLs with patterns of their own.
	urlNorm   map[string]normalizer
	transport http.RoundTripper
	log       *slog.Logger
}

// New checks the options and returns a Checker. It fails on an origin that
// is not an absolute http(s) URL and on an ignore pattern that does not compile.
func New(opts Options) (*Checker, error) {
	origin, err := url.Parse(opts.Origin)
	if err != nil || (origin.Scheme != "http" && origin.Scheme != "https") || origin.Host == "" || origin.RawQuery != "" || origin.Fragment != "" {
		return nil, fmt.Errorf("stale: origin %q: want an absolute http or https URL without query or fragment", opts.Origin)
	}
	patterns, err := compilePatterns(opts.Ignore)
	if err != nil {
		return nil, fmt.Errorf("stale: %w", err)
	}
	opts = withDefaults(opts)
	c := &Checker{
		opts:      opts,
		origin:    origin,
		norm:      normalizer{patterns: patterns, lineLimit: opts.LineLimit},
		transport: opts.Transport,
		log:       opts.Logger,
	}
	if c.urlNorm, err = urlNormalizers(patterns, opts.URLIgnore, opts.LineLimit); err != nil {
		return nil, fmt.Errorf("stale: %w", err)
	}
	if c.transport == nil {
		c.transport = probe.NewTransport(opts.Timeout, true, opts.Insecure)
	}
	return c, nil
}

// urlNormalizers compiles each URL's own patterns once, after the shared ones.
func urlNormalizers(shared []*regexp.Regexp, byURL map[string][]string, lineLimit int) (map[string]normalizer, error) {
	if len(byURL) == 0 {
		return nil, nil
	}
	out := make(map[string]normalizer, len(byURL))
	for u, exprs := range byURL {
		own, err := compilePatterns(exprs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		out[u] = normalizer{patterns: append(slices.Clip(shared), own...), lineLimit: lineLimit}
	}
	return out, nil
}

// normalizer returns the normalizer for rawURL: the shared patterns, and its own.
func (c *Checker) normalizer(rawURL string) normalizer {
	if n, ok := c.urlNorm[rawURL]; ok {
		return n
	}
	return c.norm
}

func withDefaults(o Options) Options {
	if o.AcceptEncoding == "" {
		o.AcceptEncoding = DefaultAcceptEncoding
	}
	if o.Accept == "" {
		o.Accept = probe.DefaultAccept
	}
	if o.UserAgent == "" {
		o.UserAgent = probe.DefaultUserAgent
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = probe.DefaultBodyLimit
	}
	if o.LineLimit <= 0 {
		o.LineLimit = DefaultLineLimit
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run checks every URL with at most Options.Concurrency in flight and calls
// emit with the results in input order, holding no more than a few results
// at a time however many URLs there are. It stops early when ctx is
// cancelled or emit returns an error.
func (c *Checker) Run(ctx context.Context, urls iter.Seq[string], emit func(Result) error) error {
	return pool.Ordered(ctx, urls, c.opts.Concurrency, func(ctx context.Context, _ int, u string) Result {
		return c.Check(ctx, u)
	}, emit)
}

// Check fetches rawURL from the edge and, when the edge served its stored
// copy, asks the origin with that copy's validators, then decides. Failures
// are reported in Result.Error, never returned.
func (c *Checker) Check(ctx context.Context, rawURL string) Result {
	r := Result{URL: rawURL}
	defer c.logResult(ctx, &r)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.Error = "invalid URL: want an absolute http or https URL"
		return r
	}
	norm := c.normalizer(rawURL)
	edge, err := c.fetchEdge(ctx, u, norm, &r.Edge)
	if err != nil {
		r.Error = "edge: " + err.Error()
		return r
	}
	if !compared(r.Edge.Cache.Status) {
		r.Reason = string(NotCached)
		return r
	}
	origin, err := c.fetch(ctx, request{target: c.originURL(u), host: c.originHost(u), cond: conditional(edge.header), norm: norm}, func(http.Header) bool { return true })
	if err != nil {
		r.Error = "origin: " + err.Error()
		return r
	}
	fillOrigin(&r.Origin, origin)
	r.Ignored = ignored(norm, edge.body.matches, origin.body.matches)
	if refused(origin.status) && origin.status != edge.status {
		r.Error = fmt.Sprintf("origin: answered %d %s; no verdict", origin.status, http.StatusText(origin.status))
		return r
	}
	v := decide(edge, origin)
	r.Stale, r.Reason = v.stale, string(v.reason)
	if !v.storedAt.IsZero() {
		r.Edge.StoredAt = v.storedAt.UTC().Format(time.RFC3339)
	}
	if r.Edge.Cache.Status == cachestatus.UNKNOWN {
		r.Reason += UnknownStatusNote
	}
	return r
}

// fetchEdge requests u from the edge as an anonymous visitor and reads the
// body only when the edge served its stored copy.
func (c *Checker) fetchEdge(ctx context.Context, u *url.URL, norm normalizer, e *Edge) (fetched, error) {
	wantBody := func(h http.Header) bool {
		e.Cache = cachestatus.Detect(h, cachestatus.Options{ExtraHeaders: c.opts.CacheHeaders})
		return compared(e.Cache.Status)
	}
	f, err := c.fetch(ctx, request{target: u.String(), norm: norm}, wantBody)
	if err != nil {
		return f, err
	}
	e.StatusCode = f.status
	e.ETag = f.header.Get("ETag")
	e.LastModified = f.header.Get("Last-Modified")
	e.BodySHA256 = f.body.sha256
	e.NotComparable = f.body.notComparable
	e.AgeS = e.Cache.AgeS
	return f, nil
}

func fillOrigin(o *Origin, f fetched) {
	o.StatusCode = f.status
	o.ETag = f.header.Get("ETag")
	o.LastModified = f.header.Get("Last-Modified")
	o.BodySHA256 = f.body.sha256
	o.NotComparable = f.body.notComparable
}

// conditional returns the validators of the edge copy as the request headers
// that ask the origin whether it changed. A weak ETag is sent as its opaque
// tag: edges weaken the origin's strong tag when they compress (Cloudflare),
// and many origins compare If-None-Match byte for byte.
func conditional(edge http.Header) http.Header {
	h := http.Header{}
	if t, ok := parseETag(edge.Get("ETag")); ok {
		h.Set("If-None-Match", t.opaque)
	}
	if _, ok := httpDate(edge, "Last-Modified"); ok {
		h.Set("If-Modified-Since", edge.Get("Last-Modified"))
	}
	return h
}

// originURL is the origin's base URL with u's path and query.
func (c *Checker) originURL(u *url.URL) string {
	s := strings.TrimSuffix(c.origin.String(), "/") + u.EscapedPath()
	if u.EscapedPath() == "" {
		s += "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}

func (c *Checker) originHost(u *url.URL) string {
	if c.opts.OriginHost != "" {
		return c.opts.OriginHost
	}
	return u.Host
}

// request is one GET fetch sends.
type request struct {
	target string
	// host is the Host header when set.
	host string
	// cond holds extra headers (the conditional ones).
	cond http.Header
	// norm normalizes the body before it is hashed.
	norm normalizer
}

// fetch sends one GET with the options' headers and r's, and reads the body
// when wantBody says so given the response headers.
func (c *Checker) fetch(ctx context.Context, r request, wantBody func(http.Header) bool) (fetched, error) {
	if c.opts.Limiter != nil {
		if err := c.opts.Limiter.Wait(ctx); err != nil {
			return fetched{}, fmt.Errorf("waiting for the rate limit: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.target, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range r.cond {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", c.opts.Accept)
	req.Header.Set("Accept-Encoding", c.opts.AcceptEncoding)
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		return fetched{}, errors.New(probe.DescribeError(ctx, err, c.opts.Timeout))
	}
	defer resp.Body.Close()
	f := fetched{status: resp.StatusCode, header: resp.Header, received: time.Now()}
	if !wantBody(resp.Header) || resp.StatusCode == http.StatusNotModified {
		return f, nil
	}
	f.body, err = readBody(resp.Body, resp.Header.Get("Content-Encoding"), c.opts.BodyLimit, r.norm)
	if err != nil {
		return f, fmt.Errorf("reading body: %s", probe.DescribeError(ctx, err, c.opts.Timeout))
	}
	return f, nil
}

// ignored lists the patterns of norm that removed something from either body.
func ignored(norm normalizer, edge, origin []int) []Ignored {
	var out []Ignored
	for i, re := range norm.patterns {
		var e, o int
		if i < len(edge) {
			e = edge[i]
		}
		if i < len(origin) {
			o = origin[i]
		}
		if e+o > 0 {
			out = append(out, Ignored{Index: i, Pattern: re.String(), Edge: e, Origin: o})
		}
	}
	return out
}

func (c *Checker) logResult(ctx context.Context, r *Result) {
	for _, ig := range r.Ignored {
		c.log.DebugContext(ctx, "stale: ignore pattern matched", "url", r.URL, "pattern", ig.Pattern, "edge", ig.Edge, "origin", ig.Origin)
	}
	c.log.DebugContext(ctx, "stale: verdict", "url", r.URL, "stale", r.Stale, "reason", r.Reason, "error", r.Error)
}
