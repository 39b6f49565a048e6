// Package retry is the one place cachectl retries HTTP requests. Every
// provider is handed the *http.Client built here, so all CDN APIs are retried
// the same way: on 429, on 5xx other than 501 and on connection errors, with
// exponential backoff and jitter, honouring Retry-After and the vendors'
// rate-limit headers, bounded by a number of attempts and by a deadline per
// logical request, and stopping as soon as the caller's context is
// cancelled. A request that must differ on every attempt (a signature with
// a fresh timestamp and nonce) is prepared per attempt (WithPrepare).
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Policy bounds how a logical request is retried.
type Policy struct {
	// MaxAttempts is the most requests sent for one logical request,
	// the first one included. Values below 1 mean 1.
	MaxAttempts int
	// MinWait and MaxWait bound the exponential backoff between attempts
	// when the server gives no Retry-After.
	MinWait, MaxWait time.Duration
	// MaxRetryAfter is the longest Retry-After the client is willing to
	// wait. When a server asks for more, the client stops retrying and hands
	// the 429/503 to the caller instead of waiting for an unreasonable time
	// or retrying early against the server's wish.
	MaxRetryAfter time.Duration
	// Deadline bounds one logical request, all attempts and waits included.
	// Zero means no deadline beyond the caller's context.
	Deadline time.Duration
	// AttemptTimeout bounds one attempt, from sending the request to
	// reading the last byte of the answer, so a server that trickles its
	// headers or body cannot hold a run past --timeout. A timed-out
	// attempt is retried like a connection error. Zero means no bound
	// beyond Deadline.
	AttemptTimeout time.Duration
}

// Caps on what a server may send back. API answers are a few kilobytes; a
// server sending megabytes of headers or an endless body is faulty, and
// reading it whole would only cost memory.
const (
	// MaxHeaderBytes caps the response header size.
	MaxHeaderBytes = 1 << 20
	// MaxBodyBytes caps the response body size.
	MaxBodyBytes = 8 << 20
)

// DefaultPolicy suits CDN purge APIs: a handful of attempts, sub-second
// first backoff, and Retry-After honoured up to a minute (Cloudflare's
// rate-limit windows are seconds to a minute long).
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:   5,
		MinWait:       500 * time.Millisecond,
		MaxWait:       15 * time.Second,
		MaxRetryAfter: 60 * time.Second,
		Deadline:      2 * time.Minute,
	}
}

// Attempts counts the HTTP requests one logical request took. It is safe
// for concurrent use.
type Attempts struct {
	n atomic.Int64
}

// Count returns the number of requests sent so far.
func (a *Attempts) Count() int {
	if a == nil {
		return 0
	}
	return int(a.n.Load())
}

type attemptsKey struct{}

// WithAttempts returns a context whose requests, sent through a client from
// NewClient, are counted in the returned Attempts. Use one per logical
// request so the count says how many tries that request needed.
func WithAttempts(ctx context.Context) (context.Context, *Attempts) {
	a := &Attempts{}
	return context.WithValue(ctx, attemptsKey{}, a), a
}

func attemptsFrom(ctx context.Context) *Attempts {
	a, _ := ctx.Value(attemptsKey{}).(*Attempts)
	return a
}

// NewClient returns an *http.Client that retries according to p. Request
// bodies are buffered and re-sent on every attempt. The final response is
// returned as is when retries are exhausted (a 429 or 5xx the caller can
// read), and an error only when no response was received at all.
//
// Logs go to logger at debug level: method, URL without query or user
// info, status, attempt and wait. Headers are never logged because they
// carry API tokens.
func NewClient(p Policy, logger *slog.Logger) *http.Client {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	if p.MinWait <= 0 {
		p.MinWait = time.Millisecond
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &retrier{p: p, log: logger}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxResponseHeaderBytes = MaxHeaderBytes
	c := &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: &countingTransport{next: base, log: logger, timeout: p.AttemptTimeout},
			// Redirects are not followed: purge APIs do not redirect, and
			// following one could carry the token to another host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: p.MinWait,
		RetryWaitMax: p.MaxWait,
		RetryMax:     p.MaxAttempts - 1,
		CheckRetry:   r.checkRetry,
		Backoff:      r.backoff,
		ErrorHandler: r.giveUp,
	}
	hc := c.StandardClient()
	hc.Timeout = p.Deadline
	// The standard client wrapping the retrying one would otherwise follow
	// redirects itself, carrying API keys in custom headers to any host.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

type retrier struct {
	p   Policy
	log *slog.Logger
}

// checkRetry decides whether another attempt is worth it. It refuses when
// the context is done, when the status is final (unless the request's
// AnswerFunc says otherwise), when the server asks for a
// longer pause than MaxRetryAfter, or when the pause would outlast the
// request's deadline.
func (r *retrier) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if Dropped(err) && dropIsFinal(ctx) {
			return false, nil
		}
		return retryableError(err), nil
	}
	if !RetryableStatus(resp.StatusCode) {
		return retryIf(ctx, resp), nil
	}
	if wait, ok := retryAfter(resp, time.Now()); ok {
		if wait > r.p.MaxRetryAfter {
			r.log.Debug("retry: server asks for a longer pause than allowed; not retrying",
				"method", resp.Request.Method, "url", logURL(resp.Request.URL),
				"status", resp.StatusCode, "retry_after", wait, "max_retry_after", r.p.MaxRetryAfter)
			return false, nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			r.log.Debug("retry: pause would pass the request deadline; not retrying",
				"method", resp.Request.Method, "url", logURL(resp.Request.URL),
				"status", resp.StatusCode, "retry_after", wait)
			return false, nil
		}
	}
	return true, nil
}

type dropKey struct{}

// WithDropFinal returns a context whose requests are not retried when the
// server closes the connection without answering (Dropped): a cache node
// whose worker crashes on a request would crash again on every retry,
// taking its visitors' requests down with it.
func WithDropFinal(ctx context.Context) context.Context {
	return context.WithValue(ctx, dropKey{}, true)
}

func dropIsFinal(ctx context.Context) bool {
	v, _ := ctx.Value(dropKey{}).(bool)
	return v
}

// Dropped reports whether err is the server closing the connection (or
// resetting it) before a response arrived.
func Dropped(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// RetryableStatus reports whether a response status is worth another
// attempt: 429 and 5xx except 501 (a server that does not implement the
// method will not start to).
func RetryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

// retryableError reports whether a transport error may go away: connection
// refused or reset, timeouts. Malformed requests and certificate failures
// will not.
func retryableError(err error) bool {
	var pe *prepareError
	if errors.As(err, &pe) {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := ue.Error()
		for _, s := range []string{"unsupported protocol scheme", "invalid header", "stopped after", "certificate"} {
			if strings.Contains(msg, s) {
				return false
			}
		}
	}
	return true
}

// backoff is the wait before the next attempt: the server's Retry-After
// on 429/503 (already checked against MaxRetryAfter), else exponential from
// MinWait with full jitter in its upper half, capped at MaxWait.
func (r *retrier) backoff(minWait, maxWait time.Duration, attemptNum int, resp *http.Response) time.Duration {
	wait, fromServer := time.Duration(0), false
	if resp != nil {
		wait, fromServer = retryAfter(resp, time.Now())
	}
	if !fromServer {
		wait = expBackoff(minWait, maxWait, attemptNum)
	}
	if resp != nil && resp.Request != nil {
		r.log.Debug("retry: waiting before next attempt",
			"method", resp.Request.Method, "url", logURL(resp.Request.URL),
			"status", resp.StatusCode, "attempt", attemptNum+1, "wait", wait, "retry_after", fromServer)
	} else {
		r.log.Debug("retry: waiting before next attempt after a connection error",
			"attempt", attemptNum+1, "wait", wait)
	}
	return wait
}

func expBackoff(minWait, maxWait time.Duration, attemptNum int) time.Duration {
	base := float64(minWait) * math.Pow(2, float64(attemptNum))
	if base > float64(maxWait) || math.IsInf(base, 0) {
		base = float64(maxWait)
	}
	// Half fixed, half random: spreads clients that failed together
	// without ever retrying immediately.
	half := base / 2
	return time.Duration(half + rand.Float64()*half)
}

// giveUp shapes the result once retries stop: a response the server sent is
// returned for the caller to read; an error only when there is none.
func (r *retrier) giveUp(resp *http.Response, err error, numTries int) (*http.Response, error) {
	if err == nil && resp != nil {
		return resp, nil
	}
	if resp != nil && resp.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
	}
	if err == nil {
		err = errors.New("no response")
	}
	return nil, fmt.Errorf("giving up after %d attempt(s): %w", numTries, err)
}

// retryAfter is the pause a 429 or 503 asks for: Retry-After or the
// vendor's rate-limit headers (RateLimitWait).
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	return RateLimitWait(resp.Header, now)
}

// maxRetryAfter keeps absurd header values from overflowing a Duration.
const maxRetryAfter = 100 * 365 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After value, delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3), relative to now. A date in the past means no wait.
// Values beyond a century are clamped so they cannot overflow.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
				return maxRetryAfter, true
			}
			return 0, false
		}
		if secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		return 0, true
	}
	if d > maxRetryAfter {
		return maxRetryAfter, true
	}
	return d, true
}

// countingTransport counts and logs each attempt, bounds its time and caps
// the body it returns.
type countingTransport struct {
	next    http.RoundTripper
	log     *slog.Logger
	timeout time.Duration
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := attemptsFrom(req.Context())
	var n int64
	if a != nil {
		n = a.n.Add(1)
	}
	if prepare := prepareFrom(req.Context()); prepare != nil {
		// The retrying client hands every attempt the same request; the
		// copy is this attempt's own.
		req = req.Clone(req.Context())
		if err := prepare(req); err != nil {
			return nil, &prepareError{err: err}
		}
	}
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		req = req.WithContext(ctx)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		err = t.explain(ctx, err)
		cancel()
	} else {
		resp.Body = &cappedBody{rc: resp.Body, left: MaxBodyBytes, cancel: cancel, explain: func(err error) error { return t.explain(ctx, err) }}
	}
	attrs := []any{"method", req.Method, "url", logURL(req.URL), "attempt", n, "duration", time.Since(start)}
	if err != nil {
		t.log.Debug("http attempt failed", append(attrs, "error", err)...)
	} else {
		t.log.Debug("http attempt", append(attrs, "status", resp.StatusCode)...)
	}
	return resp, err
}

// explain names the attempt timeout when it is what ended the attempt.
func (t *countingTransport) explain(ctx context.Context, err error) error {
	if t.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within %s (--timeout raises the limit): %w", t.timeout, err)
	}
	return err
}

// cappedBody fails a read past MaxBodyBytes and ends the attempt's
// timeout when closed.
type cappedBody struct {
	rc      io.ReadCloser
	left    int64
	cancel  context.CancelFunc
	explain func(error) error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("response body larger than %d MiB; not read further", MaxBodyBytes>>20)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = b.explain(err)
	}
	b.left -= int64(n)
	if b.left <= 0 && err == nil {
		// One byte more tells an answer of exactly the cap from a larger one.
		var one [1]byte
		if m, _ := b.rc.Read(one[:]); m == 0 {
			b.left = 1
		}
	}
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// logURL drops user info and the query string, either of which may hold a
// credential.
func logURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	return c.String()
}

// OrDefault returns c, or a client with DefaultPolicy when c is nil, so a
// provider built without dependencies still retries the standard way.
func OrDefault(c *http.Client, logger *slog.Logger) *http.Client {
	if c != nil {
		return c
	}
	return NewClient(DefaultPolicy(), logger)
}
