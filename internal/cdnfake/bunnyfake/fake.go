// Package bunnyfake is an in-process Bunny CDN purge API for tests and
// benchmarks: POST /purge?url=<URL>&async=&exactPath= with the AccessKey
// header, Bunny's per-account token buckets for exact and wildcard purges
// (429 with Retry-After when one is empty), its error answers, scripted
// and random faults, and a record of every request.
package bunnyfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

// Bunny's documented buckets.
const (
	ExactBurst    = 120
	ExactRate     = 5
	WildcardBurst = 20
	WildcardRate  = 0.5
)

// Options configure a fake. Token is required.
type Options struct {
	// Token is the account API key the fake accepts.
	Token string
	// Hosts are the hostnames of the account's pull zones; a URL on
	// another is refused. Empty accepts any.
	Hosts []string
	// RateLimits applies Bunny's buckets: 120 exact purges (5 a second)
	// and 20 wildcard purges (one every 2 seconds).
	RateLimits bool
	// Faults script failures. Refuse answers 400.
	Faults cdnfake.Faults
	// Keep bounds recorded requests (0 keeps all).
	Keep int
}

// Fake is the API as an http.Handler.
type Fake struct {
	*cdnfake.API
	opts            Options
	inject          *cdnfake.Injector
	exact, wildcard *cdnfake.Limiter
}

// New returns a fake serving opts.
func New(opts Options) *Fake {
	f := &Fake{opts: opts, API: cdnfake.NewAPI(opts.Keep), inject: cdnfake.NewInjector(opts.Faults)}
	if opts.RateLimits {
		f.exact, f.wildcard = cdnfake.NewLimiter(ExactRate, ExactBurst), cdnfake.NewLimiter(WildcardRate, WildcardBurst)
	}
	f.Mux.HandleFunc("POST /purge", f.purge)
	f.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := f.begin(w, r)
		f.fail(x, http.StatusNotFound, "route.not_found", "", "no route for "+r.Method+" "+r.URL.Path)
	})
	return f
}

// Server is a running fake.
type Server struct {
	*Fake
	*httptest.Server
}

// NewServer starts a fake on a loopback port. Close it when done.
func NewServer(opts Options) *Server {
	f := New(opts)
	return &Server{Fake: f, Server: httptest.NewServer(f)}
}

type exchange struct {
	w   http.ResponseWriter
	rec cdnfake.Request
}

func (f *Fake) begin(w http.ResponseWriter, r *http.Request) *exchange {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return &exchange{w: w, rec: cdnfake.Request{
		Seq: f.Rec.Next(), Time: time.Now(), Method: r.Method, Path: r.URL.RequestURI(),
		Header: cdnfake.RedactHeader(r.Header, "AccessKey"), Body: body,
	}}
}

// fail answers with Bunny's error body. The error keys are the fake's
// own: Bunny documents the shape, not the keys of purge errors.
func (f *Fake) fail(x *exchange, status int, key, field, msg string) {
	b, _ := json.Marshal(map[string]string{"ErrorKey": key, "Field": field, "Message": msg})
	x.rec.Status, x.rec.Code, x.rec.Response = status, status, b
	f.Rec.Add(x.rec)
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b)
}

func (f *Fake) purge(w http.ResponseWriter, r *http.Request) {
	x := f.begin(w, r)
	q := r.URL.Query()
	target := q.Get("url")
	wildcard := isWildcard(target)
	x.rec.Kind, x.rec.Items = "url", 1
	if strings.Contains(target, "*") {
		x.rec.Kind = "prefix"
	}
	if f.inject.Hang() {
		cdnfake.HangUntilGone(r)
		x.rec.Fault = true
		f.fail(x, http.StatusServiceUnavailable, "server.unavailable", "", "client went away")
		return
	}
	if fault, ok := f.inject.Decide(x.rec.Seq); ok {
		x.rec.Fault = true
		f.answerFault(x, fault)
		return
	}
	if r.Header.Get("AccessKey") != f.opts.Token {
		f.fail(x, http.StatusUnauthorized, "authorization.denied", "AccessKey", "Authorization has been denied for this request.")
		return
	}
	u, err := url.Parse(target)
	if target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		f.fail(x, http.StatusBadRequest, "purge.url_invalid", "url", "The url parameter must be an absolute URL")
		return
	}
	bucket := f.exact
	if wildcard {
		bucket = f.wildcard
	}
	if ok, wait := bucket.Allow(time.Now()); !ok {
		x.rec.Fault = true
		cdnfake.SetRetryAfter(w.Header(), max(wait, f.opts.Faults.RetryAfter))
		f.fail(x, http.StatusTooManyRequests, "purge.rate_limited", "", fmt.Sprintf("Too many purge requests; retry in %s", wait.Round(time.Millisecond)))
		return
	}
	owned := slices.ContainsFunc(f.opts.Hosts, func(h string) bool { return strings.EqualFold(h, u.Hostname()) })
	if f.inject.Rejected(target) || (len(f.opts.Hosts) > 0 && !owned) {
		f.fail(x, http.StatusBadRequest, "purge.url_not_owned", "url", "The URL does not belong to a pull zone of this account")
		return
	}
	x.rec.Status = http.StatusOK
	f.Rec.Add(x.rec)
	w.WriteHeader(http.StatusOK)
}

// isWildcard is Bunny's classification: a * anywhere, or a path ending in
// "/" (exactPath or not), is a wildcard purge.
func isWildcard(raw string) bool {
	if strings.Contains(raw, "*") {
		return true
	}
	u, err := url.Parse(raw)
	return err == nil && strings.HasSuffix(u.Path, "/")
}

func (f *Fake) answerFault(x *exchange, fault cdnfake.Fault) {
	switch {
	case fault.Refuse:
		f.fail(x, http.StatusBadRequest, "purge.failed", "url", "The purge request was refused")
	case fault.Status == http.StatusUnauthorized || fault.Status == http.StatusForbidden:
		f.fail(x, fault.Status, "authorization.denied", "AccessKey", "Authorization has been denied for this request.")
	default:
		if fault.Status == http.StatusTooManyRequests || (fault.Status == http.StatusServiceUnavailable && fault.RetryAfter > 0) {
			cdnfake.SetRetryAfter(x.w.Header(), fault.RetryAfter)
		}
		f.fail(x, fault.Status, "server.error", "", http.StatusText(fault.Status))
	}
}
