// Package fastlyfake is an in-process Fastly purge API for tests: URL
// purge (POST /purge/{host}/{path}, and POST /purge/https://{host}/{path}
// as Fastly's official Go client sends it), surrogate-key purge
// (POST /service/{id}/purge, at most 256 keys), purge-all
// (POST /service/{id}/purge_all, counted against the hourly limit of API
// writes with Fastly-RateLimit-Remaining and Fastly-RateLimit-Reset), soft
// purge, Fastly-Key authentication, plus a rate limit, scripted and random
// faults, and a record of every request.
package fastlyfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

// Limits of the API.
const (
	// MaxKeys is the most surrogate keys one request may hold.
	MaxKeys = 256
	// DefaultHourlyWrites is Fastly's limit of API writes an hour.
	DefaultHourlyWrites = 1000
)

// Options configure a fake. ServiceID and Token are required.
type Options struct {
	ServiceID string
	Token     string
	// Rate (requests per second) and Burst make a token bucket; 0 is unlimited.
	Rate  float64
	Burst int
	// Faults script failures. Refuse answers 200 without confirming the
	// purge: {"status": "error"} for URLs and purge-all, no purge id for
	// keys.
	Faults cdnfake.Faults
	// Keep bounds recorded requests (0 keeps all).
	Keep int
	// HourlyWrites is the account's API writes an hour that purge-all
	// counts against (default 1,000, Fastly's); URL and key purges do not
	// count.
	HourlyWrites int
}

// Fake is the API as an http.Handler.
type Fake struct {
	*cdnfake.API
	opts   Options
	inject *cdnfake.Injector
	lim    *cdnfake.Limiter
	start  int64

	mu sync.Mutex
	// writes are the API writes left in the current hour.
	writes int
}

// New returns a fake serving opts.
func New(opts Options) *Fake {
	f := &Fake{
		opts:   opts,
		API:    cdnfake.NewAPI(opts.Keep),
		inject: cdnfake.NewInjector(opts.Faults),
		lim:    cdnfake.NewLimiter(opts.Rate, opts.Burst),
		start:  time.Now().Unix(),
		writes: opts.HourlyWrites,
	}
	if f.writes <= 0 {
		f.writes = DefaultHourlyWrites
	}
	f.Mux.HandleFunc("POST /service/{service_id}/purge", f.handle("tag"))
	f.Mux.HandleFunc("POST /service/{service_id}/purge_all", f.handle("everything"))
	f.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := f.begin(w, r, "")
		f.fail(x, http.StatusNotFound, "Not found", "no route for "+r.Method+" "+r.URL.Path)
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

// ServeHTTP serves the API. A URL purge naming its scheme
// (/purge/https://host/path) is served before the mux sees it: the mux
// would clean the "//" away and redirect.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/purge/") {
		f.handle("url")(w, r)
		return
	}
	f.Mux.ServeHTTP(w, r)
}

type exchange struct {
	w   http.ResponseWriter
	rec cdnfake.Request
}

func (f *Fake) begin(w http.ResponseWriter, r *http.Request, kind string) *exchange {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	return &exchange{w: w, rec: cdnfake.Request{
		Seq:    f.Rec.Next(),
		Time:   time.Now(),
		Method: r.Method,
		Path:   r.URL.RequestURI(),
		Header: cdnfake.RedactHeader(r.Header, "Fastly-Key"),
		Body:   body,
		Kind:   kind,
		Soft:   r.Header.Get("Fastly-Soft-Purge") == "1",
	}}
}

func (f *Fake) reply(x *exchange, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"msg":"encoding failed"}`)
	}
	b = append(b, '\n')
	x.rec.Status, x.rec.Response = status, b
	if status != http.StatusOK {
		x.rec.Code = status
	}
	f.Rec.Add(x.rec)
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b)
}

func (f *Fake) fail(x *exchange, status int, msg, detail string) {
	f.reply(x, status, map[string]string{"msg": msg, "detail": detail})
}

func (f *Fake) handle(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x := f.begin(w, r, kind)
		if f.inject.Hang() {
			cdnfake.HangUntilGone(r)
			x.rec.Fault = true
			f.fail(x, http.StatusServiceUnavailable, "Service unavailable", "client went away")
			return
		}
		if ok, wait := f.lim.Allow(time.Now()); !ok {
			x.rec.Fault = true
			cdnfake.SetRetryAfter(w.Header(), max(wait, f.opts.Faults.RetryAfter))
			f.fail(x, http.StatusTooManyRequests, "Too many requests", "rate limit exceeded")
			return
		}
		fault, faulty := f.inject.Decide(x.rec.Seq)
		if faulty && !fault.Refuse {
			x.rec.Fault = true
			if fault.Status == http.StatusTooManyRequests || (fault.Status == http.StatusServiceUnavailable && fault.RetryAfter > 0) {
				cdnfake.SetRetryAfter(w.Header(), fault.RetryAfter)
			}
			f.fail(x, fault.Status, http.StatusText(fault.Status), "injected fault")
			return
		}
		if r.Header.Get("Fastly-Key") != f.opts.Token {
			f.fail(x, http.StatusUnauthorized, "Provided credentials are missing or invalid", "")
			return
		}
		if kind != "url" && r.PathValue("service_id") != f.opts.ServiceID {
			f.fail(x, http.StatusNotFound, "Record not found", fmt.Sprintf("Cannot find service '%s'", r.PathValue("service_id")))
			return
		}
		refuse := faulty && fault.Refuse
		x.rec.Fault = refuse
		switch kind {
		case "url":
			f.purgeURL(x, r, refuse)
		case "tag":
			f.purgeKeys(x, r, refuse)
		default:
			x.rec.Items = 1
			if x.rec.Soft {
				f.fail(x, http.StatusBadRequest, "Bad request", "purge_all cannot be a soft purge")
				return
			}
			if !f.write(w) {
				x.rec.Fault = true
				f.fail(x, http.StatusTooManyRequests, "Rate limit exceeded", "Too many API writes this hour")
				return
			}
			if refuse {
				f.reply(x, http.StatusOK, map[string]string{"status": "error"})
				return
			}
			f.reply(x, http.StatusOK, map[string]string{"status": "ok"})
		}
	}
}

// write counts one API write against the hour's limit and sets Fastly's
// rate-limit headers; false when none was left.
func (f *Fake) write(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := f.writes > 0
	if ok {
		f.writes--
	}
	w.Header().Set("Fastly-RateLimit-Remaining", strconv.Itoa(f.writes))
	w.Header().Set("Fastly-RateLimit-Reset", strconv.FormatInt(f.start+3600, 10))
	return ok
}

func (f *Fake) purgeID(seq int) string {
	return fmt.Sprintf("%d-%d-%06d", 100+seq%900, f.start, seq)
}

func (f *Fake) purgeURL(x *exchange, r *http.Request, refuse bool) {
	x.rec.Items = 1
	target := strings.TrimPrefix(r.URL.Path, "/purge/")
	schemes := []string{"https://", "http://"}
	for _, scheme := range schemes {
		if rest, ok := strings.CutPrefix(target, scheme); ok {
			target, schemes = rest, []string{scheme}
			break
		}
	}
	host, _, _ := strings.Cut(target, "/")
	if host == "" || strings.Contains(target, "://") {
		f.fail(x, http.StatusBadRequest, "Bad request", "expected /purge/{host}/{path} or /purge/https://{host}/{path}")
		return
	}
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	if slices.ContainsFunc(schemes, func(s string) bool { return f.inject.Rejected(s + target) }) {
		f.fail(x, http.StatusBadRequest, "Bad request", "cannot purge "+target)
		return
	}
	if refuse {
		f.reply(x, http.StatusOK, map[string]string{"status": "error"})
		return
	}
	f.reply(x, http.StatusOK, map[string]string{"status": "ok", "id": f.purgeID(x.rec.Seq)})
}

func (f *Fake) purgeKeys(x *exchange, r *http.Request, refuse bool) {
	var keys []string
	if h := r.Header.Get("Surrogate-Key"); h != "" {
		keys = strings.Fields(h)
	} else {
		var body struct {
			Keys []string `json:"surrogate_keys"`
		}
		if err := json.Unmarshal(x.rec.Body, &body); err != nil {
			f.fail(x, http.StatusBadRequest, "Bad request", "body must be {\"surrogate_keys\": [...]}")
			return
		}
		keys = body.Keys
	}
	x.rec.Items = len(keys)
	if len(keys) == 0 {
		f.fail(x, http.StatusBadRequest, "Bad request", "no surrogate keys given")
		return
	}
	if len(keys) > MaxKeys {
		f.fail(x, http.StatusBadRequest, "Too many keys", fmt.Sprintf("at most %d surrogate keys per request", MaxKeys))
		return
	}
	ids := map[string]string{}
	for i, k := range keys {
		if refuse || f.inject.Rejected(k) {
			continue
		}
		ids[k] = f.purgeID(x.rec.Seq*1000 + i)
	}
	f.reply(x, http.StatusOK, ids)
}
