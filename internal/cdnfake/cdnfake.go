// Package cdnfake holds what every fake purge API (Cloudflare, Fastly,
// cache nodes) needs besides its own wire format: scripted and random
// faults, a token-bucket rate limit, and a record of each request received,
// so tests and the conformance suite can assert on what went over the wire.
package cdnfake

import (
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Faults scripts how a fake misbehaves. The zero value behaves.
type Faults struct {
	// FailFirst answers the first FailFirst requests with Status.
	FailFirst int
	// FailNth answers the listed requests (numbered from 1) with Status.
	FailNth []int
	// Status is the HTTP status of a scripted failure: 429, 5xx or any 4xx.
	// A 401/403 is the API's authentication refusal.
	Status int
	// Refuse makes a scripted failure the API's "no" rather than an HTTP
	// error: Cloudflare answers 200 with "success": false. Status is ignored.
	Refuse bool
	// RetryAfter is sent as Retry-After (whole seconds, rounded up) with
	// 429 and 503 answers, scripted or from the rate limit.
	RetryAfter time.Duration
	// RandomFraction of requests, chosen with RandomSeed, fail with a
	// random 429, 500, 502 or 503.
	RandomFraction float64
	RandomSeed     uint64
	// Reject lists target values (URLs, keys) the backend refuses one by
	// one; a request holding any of them fails the way the API reports a
	// target it cannot purge.
	Reject []string
	// Hang holds every request until the client gives up, for
	// cancellation tests.
	Hang bool
}

// Fault is what the injector decided for one request.
type Fault struct {
	Status     int
	Refuse     bool
	RetryAfter time.Duration
}

// Injector applies Faults request by request. It is safe for concurrent use.
type Injector struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

// NewInjector returns an injector for f.
func NewInjector(f Faults) *Injector {
	return &Injector{f: f, rng: rand.New(rand.NewPCG(f.RandomSeed, 0x5eed))}
}

// Hang reports whether requests should be held until the client leaves.
func (in *Injector) Hang() bool { return in.f.Hang }

// Rejected reports whether value is one the backend refuses.
func (in *Injector) Rejected(value string) bool { return slices.Contains(in.f.Reject, value) }

// Decide returns the fault for the seq-th request (from 1), if any.
func (in *Injector) Decide(seq int) (Fault, bool) {
	f := in.f
	if seq <= f.FailFirst || slices.Contains(f.FailNth, seq) {
		return Fault{Status: f.Status, Refuse: f.Refuse, RetryAfter: f.RetryAfter}, true
	}
	if f.RandomFraction > 0 {
		in.mu.Lock()
		hit := in.rng.Float64() < f.RandomFraction
		status := []int{429, 500, 502, 503}[in.rng.IntN(4)]
		in.mu.Unlock()
		if hit {
			return Fault{Status: status, RetryAfter: f.RetryAfter}, true
		}
	}
	return Fault{}, false
}

// SetRetryAfter writes a Retry-After header in whole seconds, rounded up,
// as servers send it.
func SetRetryAfter(h http.Header, d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}

// Limiter is a token bucket over all requests. A nil *Limiter allows all.
type Limiter struct {
	lim *rate.Limiter
}

// NewLimiter returns a bucket refilling perSecond tokens up to burst, or nil
// when perSecond is 0 (no limit).
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

// Allow takes a token, or says how long until one is available.
func (l *Limiter) Allow(now time.Time) (bool, time.Duration) { return TakeAll(now, Take{l, 1}) }

// Take is n tokens of one bucket.
type Take struct {
	L *Limiter
	N int
}

// TakeAll takes the tokens of every Take, or takes none and says how long
// until all of them are available: an API that counts a request and its
// objects in separate buckets refuses it whole.
func TakeAll(now time.Time, takes ...Take) (bool, time.Duration) {
	var held []*rate.Reservation
	var wait time.Duration
	for _, t := range takes {
		if t.L == nil {
			continue
		}
		r := t.L.lim.ReserveN(now, t.N)
		switch {
		case !r.OK():
			wait = time.Duration(math.MaxInt64) // more than the bucket holds
		case r.DelayFrom(now) > 0:
			wait = max(wait, r.DelayFrom(now))
			r.CancelAt(now)
		default:
			held = append(held, r)
		}
	}
	if wait == 0 {
		return true, 0
	}
	for _, r := range held {
		r.CancelAt(now)
	}
	return false, wait
}

// Tokens is how many whole tokens the bucket holds at now.
func (l *Limiter) Tokens(now time.Time) int {
	if l == nil {
		return 0
	}
	return int(math.Floor(l.lim.TokensAt(now)))
}

// Request is one request a fake received, with what it answered.
type Request struct {
	// Seq numbers requests from 1 in arrival order.
	Seq  int
	Time time.Time
	// Method and Path of the request; Path includes the query, if any.
	Method, Path string
	// Header is the request's headers with credentials replaced by
	// REDACTED, so a test can see that one was sent but never its value.
	Header http.Header
	Body   []byte
	// Response is the body the fake answered with.
	Response []byte
	// Kind is what the request purged ("url", "tag", "host", "prefix",
	// "everything"); empty when it was refused before that was known.
	Kind string
	// Items is the number of targets in the request.
	Items int
	// Soft is true for a soft purge; Delete for a deletion rather than an
	// invalidation (Akamai).
	Soft, Delete bool
	// Status is the HTTP status answered (any 2xx is a purge done) and
	// Code the API's error code, if any.
	Status int
	Code   int
	// Fault is true when the answer was an injected fault or the rate limit.
	Fault bool
}

// Counts sums up what a fake received.
type Counts struct {
	Requests    int         `json:"requests"`
	Succeeded   int         `json:"succeeded"`
	Failed      int         `json:"failed"`
	RateLimited int         `json:"rate_limited"`
	Faults      int         `json:"faults"`
	Items       int         `json:"items_purged"`
	ByStatus    map[int]int `json:"by_status"`
}

// Recorder keeps every request. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	seq  int
	reqs []Request
	// Keep bounds how many requests are kept (0 keeps all); long benchmark
	// runs only need the counts.
	Keep int
	cnt  Counts
}

// Next numbers an arriving request.
func (r *Recorder) Next() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return r.seq
}

// Add records a finished request.
func (r *Recorder) Add(req Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Keep == 0 || len(r.reqs) < r.Keep {
		r.reqs = append(r.reqs, req)
	}
	c := &r.cnt
	c.Requests++
	if c.ByStatus == nil {
		c.ByStatus = map[int]int{}
	}
	c.ByStatus[req.Status]++
	switch {
	case req.Status >= 200 && req.Status < 300 && req.Code == 0:
		c.Succeeded++
		c.Items += req.Items
	default:
		c.Failed++
	}
	if req.Status == http.StatusTooManyRequests {
		c.RateLimited++
	}
	if req.Fault {
		c.Faults++
	}
}

// Requests returns the recorded requests in arrival order.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.reqs)
	slices.SortFunc(out, func(a, b Request) int { return a.Seq - b.Seq })
	return out
}

// Counts returns the totals so far.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cnt
	c.ByStatus = make(map[int]int, len(r.cnt.ByStatus))
	for k, v := range r.cnt.ByStatus {
		c.ByStatus[k] = v
	}
	return c
}

// RedactHeader copies h with the named credential headers replaced.
func RedactHeader(h http.Header, names ...string) http.Header {
	out := h.Clone()
	for _, n := range names {
		if out.Get(n) != "" {
			out.Set(n, "REDACTED")
		}
	}
	return out
}

// HangUntilGone blocks until the client goes away (or the server closes).
func HangUntilGone(r *http.Request) {
	<-r.Context().Done()
}

// API is what every fake has: its routes and the record of the requests it
// received. A fake embeds it and adds its routes to Mux.
type API struct {
	Mux *http.ServeMux
	Rec *Recorder
}

// NewAPI returns an API with no routes that keeps at most keep requests
// (0 keeps all).
func NewAPI(keep int) *API {
	return &API{Mux: http.NewServeMux(), Rec: &Recorder{Keep: keep}}
}

// ServeHTTP serves the API's routes.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.Mux.ServeHTTP(w, r) }

// Requests returns every request received, in order.
func (a *API) Requests() []Request { return a.Rec.Requests() }

// Counts sums up the requests received.
func (a *API) Counts() Counts { return a.Rec.Counts() }
