// Package probe sends one request for one URL as one kind of visitor and
// records what a cache made of it: status, cache headers, timings, the
// Server-Timing metrics and a hash of the body. It never follows a redirect unless asked, and never sends the
// session cookie to a host other than the one it was meant for.
package probe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/secret"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// Browser-like defaults. They are set explicitly because the cache variant a
// CDN serves depends on them, and Go's transport would otherwise add its own
// Accept-Encoding.
const (
	DefaultAccept         = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	DefaultAcceptEncoding = "gzip, deflate, br, zstd"
	DefaultUserAgent      = "cachectl (+https://github.com/cachectl/cachectl)"
	// DefaultBodyLimit caps how much of a body is read and hashed.
	DefaultBodyLimit = 8 << 20
	// DefaultMaxRedirects bounds --follow.
	DefaultMaxRedirects = 10
	// MaxHeaderBytes caps the response header size accepted.
	MaxHeaderBytes = 1 << 20
	// MaxConcurrency is the most probes a command sends at once
	// (--concurrency); each may keep its connection to a host open between
	// probes.
	MaxConcurrency = 1024
	// readBufferSize is a connection's read buffer: a small page and its
	// headers arrive in one read, and a thousand connections hold 16 MiB.
	readBufferSize = 16 << 10
)

// DebugHeaders are vendor request headers that make CDNs report more about
// caching. They change what the CDN reports, so they are opt-in.
var DebugHeaders = map[string]string{
	"Pragma":       "akamai-x-cache-on, akamai-x-cache-remote-on, akamai-x-check-cacheable, akamai-x-get-cache-key, akamai-x-get-true-cache-key",
	"Fastly-Debug": "1",
	"X-Debug":      "X-Cache",
}

// Session is the cookie a logged-in visitor sends.
type Session struct {
	// Cookie is the cookie name.
	Cookie string
	// Value is the cookie value.
	Value secret.Value
}

// Options configure a Prober.
type Options struct {
	// Method is the request method; GET by default (CDNs treat HEAD differently).
	Method string
	// Header holds extra request headers (--header, environment headers).
	Header http.Header
	// UserAgent, Accept and AcceptEncoding override the browser-like defaults.
	UserAgent, Accept, AcceptEncoding string
	// DebugHeaders adds the vendor debug request headers.
	DebugHeaders bool
	// Follow follows redirects up to MaxRedirects.
	Follow       bool
	MaxRedirects int
	// Timeout bounds one probe, redirects included.
	Timeout time.Duration
	// KeepAlive reuses connections between probes; by default every probe opens
	// a fresh connection so its timings include DNS, connect and TLS.
	KeepAlive bool
	// BodyLimit caps the bytes read from a body.
	BodyLimit int64
	// CacheHeaders are extra cache-status header names.
	CacheHeaders []string
	// NoBodyHash reads bodies without hashing them (BodySHA256 stays
	// empty), for callers that compare no bodies.
	NoBodyHash bool
	// NoServerTiming leaves ServerTiming and ServerTimingProblems empty,
	// for callers that judge neither the metrics nor the findings.
	NoServerTiming bool
	// Insecure skips TLS verification.
	Insecure bool
	// Transport replaces the default transport (tests).
	Transport http.RoundTripper
}

// Prober sends probes. It is safe for concurrent use.
type Prober struct {
	opts      Options
	transport http.RoundTripper
	// shown are the request headers every probe sends, for display; the
	// anonymous variant's results share this map.
	shown map[string]string
	// header is the request header every probe sends, built once; each
	// request gets its own map sharing these value slices, which nothing
	// changes in place.
	header http.Header
}

// New returns a Prober.
func New(opts Options) *Prober {
	if opts.Method == "" {
		opts.Method = http.MethodGet
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Accept == "" {
		opts.Accept = DefaultAccept
	}
	if opts.AcceptEncoding == "" {
		opts.AcceptEncoding = DefaultAcceptEncoding
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	var t http.RoundTripper = opts.Transport
	if t == nil {
		t = NewTransport(opts.Timeout, opts.KeepAlive, opts.Insecure)
	}
	p := &Prober{opts: opts, transport: t, header: sentHeader(opts)}
	p.shown = p.requestHeaders()
	return p
}

// NewTransport returns the transport probes use: it never adds an
// Accept-Encoding of its own nor decodes bodies (the encoding asked for picks
// the cache variant), and caps response headers at MaxHeaderBytes. Without
// keepAlive every request opens a fresh connection; with it, as many
// connections to a host as probes can be in flight stay open.
func NewTransport(timeout time.Duration, keepAlive, insecure bool) *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // only with the loudly-warned --insecure flag
		TLSHandshakeTimeout:    timeout,
		DisableKeepAlives:      !keepAlive,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    MaxConcurrency,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: MaxHeaderBytes,
		ReadBufferSize:         readBufferSize,
		ForceAttemptHTTP2:      true,
	}
}

// WithHeader returns a Prober that also sends h with every probe, over the
// same transport: the request headers that select one cache variant of a
// URL (device type, language). Accept, Accept-Encoding and User-Agent in h
// replace the defaults instead of being sent twice.
func (p *Prober) WithHeader(h map[string]string) *Prober {
	if len(h) == 0 {
		return p
	}
	o := p.opts
	o.Header = p.opts.Header.Clone()
	if o.Header == nil {
		o.Header = http.Header{}
	}
	for name, v := range h {
		switch http.CanonicalHeaderKey(name) {
		case "Accept":
			o.Accept = v
		case "Accept-Encoding":
			o.AcceptEncoding = v
		case "User-Agent":
			o.UserAgent = v
		default:
			o.Header.Set(name, v)
		}
	}
	w := &Prober{opts: o, transport: p.transport, header: sentHeader(o)}
	w.shown = w.requestHeaders()
	return w
}

// RequestHeaders returns the request headers every probe sends that shape the
// cache variant, for display.
func (p *Prober) RequestHeaders() map[string]string {
	return maps.Clone(p.shown)
}

func (p *Prober) requestHeaders() map[string]string {
	h := map[string]string{
		"Accept":          p.opts.Accept,
		"Accept-Encoding": p.opts.AcceptEncoding,
		"User-Agent":      p.opts.UserAgent,
	}
	if p.opts.DebugHeaders {
		for k, v := range DebugHeaders {
			h[k] = v
		}
	}
	for k, vs := range p.opts.Header {
		h[k] = strings.Join(vs, ", ")
	}
	return h
}

// requestHeadersOf are the request headers shown for a probe: the
// prober's own, shared, with the session cookie (its value redacted) in a
// copy for a logged-in visitor.
func (p *Prober) requestHeadersOf(variant Variant, sess *Session) map[string]string {
	if variant != LoggedIn || sess == nil {
		return p.shown
	}
	h := maps.Clone(p.shown)
	h["Cookie"] = sess.Cookie + "=" + secret.Redacted
	return h
}

// Probe requests rawURL once as the given variant. Failures are reported in
// Result.Error, never returned: a probe always yields a result.
func (p *Prober) Probe(ctx context.Context, rawURL string, variant Variant, sess *Session) Result {
	r := Result{URL: rawURL, Variant: variant, Method: p.opts.Method, Findings: []finding.Finding{}}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()

	origin, err := url.Parse(rawURL)
	if err != nil {
		r.Error = fmt.Sprintf("invalid URL: %v", err)
		return r
	}
	if variant == LoggedIn && sess != nil && p.otherVirtualHost(origin) {
		r.Error = fmt.Sprintf("the session cookie is not sent with Host: %s, another virtual host than %s's; drop the Host header or probe anonymously", p.opts.Header.Get("Host"), origin.Host)
		return r
	}
	r.RequestHeaders = p.requestHeadersOf(variant, sess)

	start := time.Now()
	current := origin
	for hop := 0; ; hop++ {
		resp, timing, err := p.do(ctx, current, sameOrigin(origin, current) && variant == LoggedIn, sess)
		if err != nil {
			r.Timing.Total = ms(time.Since(start))
			r.Error = DescribeError(ctx, err, p.opts.Timeout)
			return r
		}
		if hop == 0 {
			r.Timing = timing
		}
		loc := resp.Header.Get("Location")
		if p.opts.Follow && isRedirect(resp.StatusCode) && loc != "" {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, p.opts.BodyLimit))
			_ = resp.Body.Close()
			next, perr := current.Parse(loc)
			r.Redirects = append(r.Redirects, Hop{URL: current.String(), StatusCode: resp.StatusCode, Location: loc})
			if perr != nil {
				r.Error = fmt.Sprintf("redirect to invalid Location %q: %v", loc, perr)
				return r
			}
			if hop+1 >= p.opts.MaxRedirects {
				r.StatusCode = resp.StatusCode
				r.Location = loc
				r.Error = fmt.Sprintf("stopped after %d redirects (redirect loop?); last Location %s", hop+1, loc)
				r.Timing.Total = ms(time.Since(start))
				return r
			}
			current = next
			continue
		}
		if len(r.Redirects) > 0 {
			r.FinalURL = current.String()
		}
		if isRedirect(resp.StatusCode) {
			r.Location = loc
		}
		p.final(ctx, &r, resp, start)
		return r
	}
}

// final records the final response of a probe started at start: its
// headers, its body (read, counted and hashed unless NoBodyHash), the total
// time and, unless NoServerTiming, its Server-Timing, which may come as a
// trailer after the body.
func (p *Prober) final(ctx context.Context, r *Result, resp *http.Response, start time.Time) {
	p.fill(r, resp)
	n, sum, err := readBody(resp.Body, p.opts.BodyLimit, p.opts.NoBodyHash)
	_ = resp.Body.Close()
	r.BodyBytes = n
	r.BodySHA256 = sum
	r.Timing.Total = ms(time.Since(start))
	if !p.opts.NoServerTiming {
		r.ServerTiming, r.ServerTimingProblems = servertiming.FromHeader(resp.Header, resp.Trailer)
	}
	if err != nil {
		r.Error = "reading body: " + DescribeError(ctx, err, p.opts.Timeout)
	}
}

func (p *Prober) do(ctx context.Context, u *url.URL, withCookie bool, sess *Session) (*http.Response, Timing, error) {
	ph := newPhases()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &ph.trace), p.opts.Method, "", nil)
	if err != nil {
		return nil, Timing{}, err
	}
	req.URL, req.Host = requestURL(u)
	req.Header = make(http.Header, len(p.header)+1)
	maps.Copy(req.Header, p.header)
	if host := p.opts.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if withCookie && sess != nil {
		req.AddCookie(&http.Cookie{Name: sess.Cookie, Value: sess.Value.Reveal()})
	}
	resp, err := p.transport.RoundTrip(req)
	if err != nil {
		return nil, Timing{}, err
	}
	return resp, ph.timing(), nil
}

// requestURL is the URL and Host a request for u is sent with: u itself,
// or a copy without the empty port of a host such as "example.com:".
func requestURL(u *url.URL) (*url.URL, string) {
	if host, ok := strings.CutSuffix(u.Host, ":"); ok {
		c := *u
		c.Host = host
		return &c, host
	}
	return u, u.Host
}

// sentHeader is the request header every probe with opts sends: the extra
// headers, then the browser-like defaults and the debug headers over them.
func sentHeader(opts Options) http.Header {
	h := http.Header{}
	for k, vs := range opts.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Accept", opts.Accept)
	h.Set("Accept-Encoding", opts.AcceptEncoding)
	h.Set("User-Agent", opts.UserAgent)
	if opts.DebugHeaders {
		for k, v := range DebugHeaders {
			h.Set(k, v)
		}
	}
	return h
}

// phases records the phases of one request through its ClientTrace. With
// keep-alive the transport may finish a dial it started for this request
// in the background after another idle connection served it, so the
// callbacks race with the read after RoundTrip: mu guards every field.
type phases struct {
	mu                                   sync.Mutex
	start, dnsStart, connStart, tlsStart time.Time
	dns, connect, tls, ttfb              time.Duration
	trace                                httptrace.ClientTrace
}

func newPhases() *phases {
	ph := &phases{start: time.Now()}
	ph.trace = httptrace.ClientTrace{
		DNSStart:             func(httptrace.DNSStartInfo) { ph.mark(&ph.dnsStart) },
		DNSDone:              func(httptrace.DNSDoneInfo) { ph.since(&ph.dns, &ph.dnsStart) },
		ConnectStart:         func(string, string) { ph.mark(&ph.connStart) },
		ConnectDone:          func(string, string, error) { ph.since(&ph.connect, &ph.connStart) },
		TLSHandshakeStart:    func() { ph.mark(&ph.tlsStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { ph.since(&ph.tls, &ph.tlsStart) },
		GotFirstResponseByte: func() { ph.since(&ph.ttfb, &ph.start) },
	}
	return ph
}

func (ph *phases) mark(t *time.Time) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	*t = time.Now()
}

func (ph *phases) since(d *time.Duration, t *time.Time) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	*d = time.Since(*t)
}

func (ph *phases) timing() Timing {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return Timing{DNS: ms(ph.dns), Connect: ms(ph.connect), TLS: ms(ph.tls), TTFB: ms(ph.ttfb)}
}

// cdnControlHeaders are CDN-only cache directives, shown because they override Cache-Control at the CDN.
var cdnControlHeaders = []string{"CDN-Cache-Control", "Cloudflare-CDN-Cache-Control", "Netlify-CDN-Cache-Control", "Surrogate-Control", "Vercel-CDN-Cache-Control"}

// cdnControlKeys are cdnControlHeaders as http.Header keys, made once
// rather than for every response.
var cdnControlKeys = func() []string {
	keys := make([]string, len(cdnControlHeaders))
	for i, name := range cdnControlHeaders {
		keys[i] = http.CanonicalHeaderKey(name)
	}
	return keys
}()

// first is a header's first value, as http.Header.Get returns it.
func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func (p *Prober) fill(r *Result, resp *http.Response) {
	h := resp.Header // the response is ours alone: no copy needed
	r.StatusCode = resp.StatusCode
	r.CacheControl = strings.Join(h.Values("Cache-Control"), ", ")
	r.Vary = strings.Join(h.Values("Vary"), ", ")
	r.SetCookie = len(h.Values("Set-Cookie")) > 0
	if r.SetCookie {
		// Keep the count and cookie names' presence, never the values.
		vals := h.Values("Set-Cookie")
		for i := range vals {
			vals[i] = secret.Redacted
		}
	}
	r.ETag = h.Get("ETag")
	r.LastModified = h.Get("Last-Modified")
	r.Expires = h.Get("Expires")
	for i, name := range cdnControlHeaders {
		if v := first(h[cdnControlKeys[i]]); v != "" {
			if r.CDNCacheControl == nil {
				r.CDNCacheControl = map[string]string{}
			}
			r.CDNCacheControl[name] = v
		}
	}
	r.Cache = cachestatus.Detect(h, cachestatus.Options{ExtraHeaders: p.opts.CacheHeaders})
	r.Header = h
}

// copyBuffers are the buffers bodies are read through: one per probe in
// flight, not one allocated per probe.
var copyBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// readBody reads up to limit bytes of body and, unless noHash, returns
// their SHA-256 in hex.
func readBody(body io.Reader, limit int64, noHash bool) (int64, string, error) {
	if noHash {
		n, err := io.Copy(io.Discard, io.LimitReader(body, limit))
		return n, "", err
	}
	buf := copyBuffers.Get().(*[32 << 10]byte)
	defer copyBuffers.Put(buf)
	hash := sha256.New()
	n, err := io.CopyBuffer(hash, io.LimitReader(body, limit), buf[:])
	return n, hex.EncodeToString(hash.Sum(nil)), err
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// otherVirtualHost reports whether a Host header overrides u's host with
// another one: behind a shared edge that is another site, which must not
// get the session cookie.
func (p *Prober) otherVirtualHost(u *url.URL) bool {
	h := p.opts.Header.Get("Host")
	if h == "" {
		return false
	}
	hu := &url.URL{Scheme: u.Scheme, Host: h}
	return !strings.EqualFold(hu.Hostname(), u.Hostname()) || effectivePort(hu) != effectivePort(u)
}

// sameOrigin reports whether the cookie meant for origin may go to u: the
// same scheme, host name (compared case-insensitively) and effective port,
// so it never goes from https to http nor to another port of the host.
func sameOrigin(origin, u *url.URL) bool {
	return strings.EqualFold(origin.Scheme, u.Scheme) &&
		strings.EqualFold(origin.Hostname(), u.Hostname()) &&
		effectivePort(origin) == effectivePort(u)
}

// effectivePort is u's port, or its scheme's default port.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// DescribeError turns a transport error into a clear reason; timeout is the
// limit the request ran under, named when it was hit.
func DescribeError(ctx context.Context, err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timeout after %s (no complete response; --timeout raises the limit)", timeout)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("DNS lookup of %s failed: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &certErr):
		return fmt.Sprintf("TLS certificate not trusted: %v", certErr.Err)
	case errors.As(err, &recErr):
		return "TLS handshake failed: the server did not answer with TLS (http:// on a TLS port or the reverse?)"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("connection to %s failed: %v", opErr.Addr, opErr.Err)
	case strings.Contains(err.Error(), "tls:"):
		return "TLS handshake failed: " + err.Error()
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "connection closed before the response was complete"
	}
	return err.Error()
}

// SortedHeaderNames returns the names of h, sorted (for stable output).
func SortedHeaderNames(h map[string]string) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
