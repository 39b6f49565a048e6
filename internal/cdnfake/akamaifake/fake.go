// Package akamaifake is an in-process Akamai Fast Purge API (CCU v3) for
// tests and benchmarks: POST /ccu/v3/{invalidate|delete}/{url|tag|cpcode}/
// {production|staging} with {"objects": [...]}, EdgeGrid authentication
// whose signature it verifies (a replayed nonce is refused), bodies of at
// most 50,000 bytes, the account's token buckets with their X-RateLimit-*
// headers, 201 answers with estimatedSeconds, problem answers, scripted
// and random faults, and a record of every request.
package akamaifake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/pkg/purge/akamai/edgegrid"
)

// Limits of the API.
const (
	MaxBodyBytes = 50_000
	// DefaultEstimate is the estimatedSeconds of an accepted purge.
	DefaultEstimate = 5
	// MaxSkew is how far a signature's time stamp may be from the
	// fake's clock.
	MaxSkew = 5 * time.Minute
)

// bucket is one of the account's token buckets: size and refill per second.
type bucket struct {
	size    int
	perSec  float64
	limiter *cdnfake.Limiter
}

// Options configure a fake. Credentials are required.
type Options struct {
	// Credentials are the API client's; Host is ignored.
	Credentials edgegrid.Credentials
	// Hosts are the hosts of the properties the client may purge; a URL
	// on another is refused with 403 "unauthorized arl". Empty allows all.
	Hosts []string
	// RateLimits applies Fast Purge's documented buckets: 100 requests
	// (50 a second), 10,000 URLs (200 a second), 5,000 tags (500 a
	// minute), 300 CP codes (30 a minute).
	RateLimits bool
	// EstimatedSeconds is what accepted purges estimate (default 5).
	EstimatedSeconds int
	// Faults script failures. Refuse answers 400 "bad request".
	Faults cdnfake.Faults
	// Keep bounds recorded requests (0 keeps all).
	Keep int
}

// Fake is the API as an http.Handler.
type Fake struct {
	*cdnfake.API
	opts     Options
	inject   *cdnfake.Injector
	requests *bucket
	objects  map[string]*bucket

	mu     sync.Mutex
	nonces map[string]bool
}

// New returns a fake serving opts.
func New(opts Options) *Fake {
	if opts.EstimatedSeconds <= 0 {
		opts.EstimatedSeconds = DefaultEstimate
	}
	f := &Fake{
		opts:   opts,
		API:    cdnfake.NewAPI(opts.Keep),
		inject: cdnfake.NewInjector(opts.Faults),
		nonces: map[string]bool{},
	}
	newBucket := func(size int, perSec float64) *bucket {
		b := &bucket{size: size, perSec: perSec}
		if opts.RateLimits {
			b.limiter = cdnfake.NewLimiter(perSec, size)
		}
		return b
	}
	f.requests = newBucket(100, 50)
	f.objects = map[string]*bucket{"url": newBucket(10_000, 200), "tag": newBucket(5_000, 500.0/60), "cpcode": newBucket(300, 0.5)}
	f.Mux.HandleFunc("POST /ccu/v3/{action}/{type}/{network}", f.purge)
	f.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := f.begin(w, r)
		f.problem(x, http.StatusNotFound, "Not found", "no resource at "+r.Method+" "+r.URL.Path)
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

// exchange is one request being answered.
type exchange struct {
	w   http.ResponseWriter
	r   *http.Request
	rec cdnfake.Request
}

func (f *Fake) begin(w http.ResponseWriter, r *http.Request) *exchange {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	h := r.Header.Clone()
	if a, err := edgegrid.ParseAuthorization(h.Get("Authorization")); err == nil {
		// The time stamp and nonce stay visible; the tokens and the
		// signature do not.
		h.Set("Authorization", fmt.Sprintf("%s client_token=REDACTED;access_token=REDACTED;timestamp=%s;nonce=%s;signature=REDACTED", edgegrid.Scheme, a.Timestamp, a.Nonce))
	} else {
		h = cdnfake.RedactHeader(h, "Authorization")
	}
	return &exchange{w: w, r: r, rec: cdnfake.Request{
		Seq: f.Rec.Next(), Time: time.Now(), Method: r.Method, Path: r.URL.RequestURI(), Header: h, Body: body,
	}}
}

// problem answers with an application/problem+json body as Fast Purge
// does.
func (f *Fake) problem(x *exchange, status int, title, detail string, extra ...any) {
	body := map[string]any{
		"type":  "https://problems.purge.akamaiapis.net/-/pep-api/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"),
		"title": title, "detail": detail, "httpStatus": status, "supportId": f.supportID(x.rec.Seq),
		"describedBy": "https://techdocs.akamai.com/purge-cache/reference/api-errors",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	f.reply(x, status, "application/problem+json", body)
}

func (f *Fake) reply(x *exchange, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"title":"internal error","httpStatus":500}`)
	}
	b = append(b, '\n')
	x.rec.Status, x.rec.Response = status, b
	f.Rec.Add(x.rec)
	x.w.Header().Set("Content-Type", contentType)
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b)
}

func (f *Fake) supportID(seq int) string { return fmt.Sprintf("edcp-fake%08d", seq) }

// authenticate checks the EdgeGrid signature, its time stamp and that
// its nonce is new; the answers' wording is the fake's own.
func (f *Fake) authenticate(x *exchange) bool {
	a, err := edgegrid.Verify(x.r, x.rec.Body, f.opts.Credentials, nil)
	if err == nil {
		at, _ := time.Parse(edgegrid.TimeFormat, a.Timestamp)
		if d := time.Since(at); d > MaxSkew || d < -MaxSkew {
			err = fmt.Errorf("the time stamp %s is more than %s from the server's clock", a.Timestamp, MaxSkew)
		}
	}
	if err == nil {
		f.mu.Lock()
		if f.nonces[a.Nonce] {
			err = fmt.Errorf("the nonce %s was used before", a.Nonce)
		}
		f.nonces[a.Nonce] = true
		f.mu.Unlock()
	}
	if err != nil {
		f.problem(x, http.StatusUnauthorized, "Not authorized", err.Error())
		return false
	}
	return true
}

func (f *Fake) purge(w http.ResponseWriter, r *http.Request) {
	x := f.begin(w, r)
	action, typ, network := r.PathValue("action"), r.PathValue("type"), r.PathValue("network")
	x.rec.Delete = action == "delete"
	if f.inject.Hang() {
		cdnfake.HangUntilGone(r)
		x.rec.Fault = true
		f.problem(x, http.StatusServiceUnavailable, "service unavailable", "client went away")
		return
	}
	if fault, ok := f.inject.Decide(x.rec.Seq); ok {
		x.rec.Fault = true
		f.answerFault(x, fault)
		return
	}
	if !f.authenticate(x) {
		return
	}
	if !slices.Contains([]string{"invalidate", "delete"}, action) || f.objects[typ] == nil || !slices.Contains([]string{"production", "staging"}, network) {
		f.problem(x, http.StatusNotFound, "Not found", fmt.Sprintf("no resource at /ccu/v3/%s/%s/%s", action, typ, network))
		return
	}
	objects, ok := f.readObjects(x, typ)
	if !ok {
		return
	}
	if !f.take(x, typ, len(objects)) {
		return
	}
	if bad := f.refused(typ, objects); bad != "" {
		f.problem(x, http.StatusForbidden, map[string]string{"url": "unauthorized arl", "tag": "unauthorized tag", "cpcode": "unauthorized cpcode"}[typ], bad)
		return
	}
	f.reply(x, http.StatusCreated, "application/json", map[string]any{
		"httpStatus": http.StatusCreated, "detail": "Request accepted", "estimatedSeconds": f.opts.EstimatedSeconds,
		"purgeId": fmt.Sprintf("edcp-%s-%06d", network[:4], x.rec.Seq), "supportId": f.supportID(x.rec.Seq),
	})
}

// readObjects reads the body: at most 50,000 bytes of JSON holding a
// non-empty "objects" list of URLs, tags or CP codes.
func (f *Fake) readObjects(x *exchange, typ string) ([]string, bool) {
	x.rec.Kind = map[string]string{"url": "url", "tag": "tag", "cpcode": "everything"}[typ]
	if len(x.rec.Body) > MaxBodyBytes {
		f.problem(x, http.StatusRequestEntityTooLarge, "request entity too large", fmt.Sprintf("the body is %d bytes; at most %d", len(x.rec.Body), MaxBodyBytes))
		return nil, false
	}
	if ct := x.r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.problem(x, http.StatusUnsupportedMediaType, "unsupported media type", "Content-Type must be application/json")
		return nil, false
	}
	var body struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(x.rec.Body, &body); err != nil || len(body.Objects) == 0 {
		f.problem(x, http.StatusBadRequest, "bad request", `the body must be {"objects": [...]} with at least one object`)
		return nil, false
	}
	x.rec.Items = len(body.Objects)
	objects := make([]string, len(body.Objects))
	for i, raw := range body.Objects {
		var s string
		var n int
		switch {
		case typ == "cpcode" && json.Unmarshal(raw, &n) == nil && n > 0:
			s = strconv.Itoa(n)
		case typ != "cpcode" && json.Unmarshal(raw, &s) == nil && s != "":
		default:
			f.problem(x, http.StatusBadRequest, "bad request", fmt.Sprintf("object %d is not a valid %s", i, typ))
			return nil, false
		}
		if typ == "url" {
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				f.problem(x, http.StatusBadRequest, "bad URL hostname", "Invalid or malformed hostname")
				return nil, false
			}
		}
		objects[i] = s
	}
	return objects, true
}

// take charges the request to the account's buckets, or answers 429 with
// the X-RateLimit-* headers and takes nothing.
func (f *Fake) take(x *exchange, typ string, n int) bool {
	now := time.Now()
	obj := f.objects[typ]
	ok, _ := cdnfake.TakeAll(now, cdnfake.Take{L: f.requests.limiter, N: 1}, cdnfake.Take{L: obj.limiter, N: n})
	if f.opts.RateLimits {
		h := x.w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(f.requests.size))
		h.Set("X-RateLimit-Limit-Per-Second", fmt.Sprintf("%.2f", f.requests.perSec))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(f.requests.limiter.Tokens(now)))
		h.Set("X-RateLimit-Limit-Objects", strconv.Itoa(obj.size))
		h.Set("X-RateLimit-Limit-Per-Second-Objects", fmt.Sprintf("%.2f", obj.perSec))
		h.Set("X-RateLimit-Remaining-Objects", strconv.Itoa(obj.limiter.Tokens(now)))
	}
	if ok {
		return true
	}
	x.rec.Fault = true
	title, size, left := "Rate Limit exceeded", f.requests.size, f.requests.limiter.Tokens(now)
	if left >= 1 {
		title, size, left = strings.ToUpper(typ)+" Rate Limit exceeded", obj.size, obj.limiter.Tokens(now)
	}
	f.problem(x, http.StatusTooManyRequests, title, "", "rateLimit", size, "rateLimitCurrentRequestSize", n, "rateLimitRemaining", left)
	return false
}

// refused is the first object the client may not purge, or "".
func (f *Fake) refused(typ string, objects []string) string {
	for _, o := range objects {
		if f.inject.Rejected(o) {
			return o
		}
		if typ == "url" && len(f.opts.Hosts) > 0 {
			u, _ := url.Parse(o)
			if !slices.Contains(f.opts.Hosts, strings.ToLower(u.Hostname())) {
				return o
			}
		}
	}
	return ""
}

func (f *Fake) answerFault(x *exchange, fault cdnfake.Fault) {
	switch {
	case fault.Refuse:
		f.problem(x, http.StatusBadRequest, "bad request", "the request was refused")
	case fault.Status == http.StatusUnauthorized:
		f.problem(x, fault.Status, "Not authorized", "The signature does not match")
	case fault.Status == http.StatusForbidden:
		f.problem(x, fault.Status, "Forbidden", "The API client lacks the grant for this API")
	default:
		if fault.Status == http.StatusTooManyRequests || (fault.Status == http.StatusServiceUnavailable && fault.RetryAfter > 0) {
			cdnfake.SetRetryAfter(x.w.Header(), fault.RetryAfter)
		}
		f.problem(x, fault.Status, strings.ToLower(http.StatusText(fault.Status)), "injected fault")
	}
}
