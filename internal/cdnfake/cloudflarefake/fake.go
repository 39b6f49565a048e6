// Package cloudflarefake is an in-process Cloudflare purge API for tests
// and benchmarks: the same path, bearer authentication, body shapes,
// per-request limits, error envelope and codes as
// POST /client/v4/zones/{zone_id}/purge_cache, plus a rate limit, scripted
// and random faults, and a record of every request.
package cloudflarefake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

// Error codes the fake answers with. Those marked "documented" are in
// Cloudflare's published error table for the purge API; 10000 and 7003
// are Cloudflare's general API codes for a refused credential and an
// unknown route. Those marked "invented" are the fake's own: Cloudflare
// documents no code for them, so no client may depend on them.
const (
	CodeAuth            = 10000 // authentication error (general API code)
	CodeNoRoute         = 7003  // unknown zone or path (general API code)
	CodeNoTarget        = 1012  // documented: no or several purge shapes, empty list
	CodeUnableToPurge   = 1016  // documented: a URL the backend cannot purge
	CodeNotInZone       = 1082  // documented: URL outside the zone's hosts
	CodeTooManyFiles    = 1094  // documented: too many files
	CodeTooManyTags     = 1101  // documented: too many tags
	CodeTooManyHosts    = 1111  // documented: too many hosts
	CodeTooManyPrefixes = 1113  // invented: too many prefixes
	CodeBadPrefix       = 1114  // invented: a prefix with a scheme, query or too many separators
	CodeRateLimited     = 10429 // invented: rate limited (the 429 status is what counts)
	CodeInternal        = 10001 // invented: server error
)

// Options configure a fake. ZoneID and Token are required.
type Options struct {
	ZoneID string
	Token  string
	// Hosts are the zone's host names; URLs and prefixes on other hosts
	// are refused with code 1082. Empty accepts any host.
	Hosts []string
	// FilesLimit is URLs per request (default 100, the documented limit
	// outside Enterprise; 30 plays a zone that still enforces the older
	// limit); TagsLimit, HostsLimit and PrefixesLimit default to 100.
	FilesLimit, TagsLimit, HostsLimit, PrefixesLimit int
	// Rate (requests per second) and Burst make a token bucket; 0 is unlimited.
	Rate  float64
	Burst int
	// Faults script failures.
	Faults cdnfake.Faults
	// Keep bounds recorded requests (0 keeps all).
	Keep int
	// Schema, when set, refuses request bodies that do not match
	// Cloudflare's published schema of the operation (LoadSchema).
	Schema *Schema
}

// Fake is the API as an http.Handler.
type Fake struct {
	*cdnfake.API
	opts   Options
	inject *cdnfake.Injector
	lim    *cdnfake.Limiter
}

// New returns a fake serving opts; serve it with httptest or net/http.
func New(opts Options) *Fake {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.FilesLimit, 100)
	def(&opts.TagsLimit, 100)
	def(&opts.HostsLimit, 100)
	def(&opts.PrefixesLimit, 100)
	f := &Fake{
		opts:   opts,
		API:    cdnfake.NewAPI(opts.Keep),
		inject: cdnfake.NewInjector(opts.Faults),
		lim:    cdnfake.NewLimiter(opts.Rate, opts.Burst),
	}
	// The SDK appends "zones/..." to its base URL; accept the API's real
	// prefix and a bare base URL alike.
	f.Mux.HandleFunc("POST /client/v4/zones/{zone_id}/purge_cache", f.purge)
	f.Mux.HandleFunc("POST /zones/{zone_id}/purge_cache", f.purge)
	f.Mux.HandleFunc("/", f.noRoute)
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

// APIURL is the base URL to configure: the server's URL plus /client/v4,
// as Cloudflare's own.
func (s *Server) APIURL() string { return s.URL + "/client/v4" }

type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type envelope struct {
	Success  bool         `json:"success"`
	Errors   []apiMessage `json:"errors"`
	Messages []apiMessage `json:"messages"`
	Result   any          `json:"result"`
}

// exchange is one request being answered.
type exchange struct {
	w   http.ResponseWriter
	rec cdnfake.Request
}

func (f *Fake) begin(w http.ResponseWriter, r *http.Request) (*exchange, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<22))
	x := &exchange{w: w, rec: cdnfake.Request{
		Seq:    f.Rec.Next(),
		Time:   time.Now(),
		Method: r.Method,
		Path:   r.URL.RequestURI(),
		Header: cdnfake.RedactHeader(r.Header, "Authorization", "X-Auth-Key", "X-Auth-Email", "X-Auth-User-Service-Key"),
		Body:   body,
	}}
	return x, err
}

func (f *Fake) fail(x *exchange, status, code int, msg string) {
	f.reply(x, status, envelope{Errors: []apiMessage{{code, msg}}, Messages: []apiMessage{}}, code)
}

func (f *Fake) reply(x *exchange, status int, env envelope, code int) {
	b, err := json.Marshal(env)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"errors":[{"code":10001,"message":"encoding the answer failed"}],"messages":[],"result":null}`)
	}
	b = append(b, '\n')
	x.rec.Status, x.rec.Code, x.rec.Response = status, code, b
	f.Rec.Add(x.rec)
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b)
}

func (f *Fake) noRoute(w http.ResponseWriter, r *http.Request) {
	x, _ := f.begin(w, r)
	f.fail(x, http.StatusBadRequest, CodeNoRoute, "No route for the URI")
}

func (f *Fake) purge(w http.ResponseWriter, r *http.Request) {
	x, err := f.begin(w, r)
	if err != nil {
		f.fail(x, http.StatusBadRequest, CodeNoTarget, "unreadable body")
		return
	}
	if f.inject.Hang() {
		cdnfake.HangUntilGone(r)
		x.rec.Fault = true
		f.fail(x, http.StatusServiceUnavailable, CodeInternal, "client went away")
		return
	}
	if ok, wait := f.lim.Allow(time.Now()); !ok {
		x.rec.Fault = true
		cdnfake.SetRetryAfter(w.Header(), max(wait, f.opts.Faults.RetryAfter))
		f.fail(x, http.StatusTooManyRequests, CodeRateLimited, "Rate limited; please wait and consider throttling your request speed")
		return
	}
	if fault, ok := f.inject.Decide(x.rec.Seq); ok {
		x.rec.Fault = true
		f.answerFault(x, fault)
		return
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || tok != f.opts.Token {
		f.fail(x, http.StatusUnauthorized, CodeAuth, "Authentication error")
		return
	}
	if zone := r.PathValue("zone_id"); zone != f.opts.ZoneID {
		f.fail(x, http.StatusBadRequest, CodeNoRoute, "Could not route to /zones/"+zone+"/purge_cache, perhaps your object identifier is invalid?")
		return
	}
	status, code, msg := f.check(x, r)
	if code != 0 {
		f.fail(x, status, code, msg)
		return
	}
	sum := sha256.Sum256(append([]byte(strconv.Itoa(x.rec.Seq)), x.rec.Body...))
	f.reply(x, http.StatusOK, envelope{
		Success:  true,
		Errors:   []apiMessage{},
		Messages: []apiMessage{},
		Result:   map[string]string{"id": hex.EncodeToString(sum[:16])},
	}, 0)
}

func (f *Fake) answerFault(x *exchange, fault cdnfake.Fault) {
	if fault.Refuse {
		f.fail(x, http.StatusOK, CodeUnableToPurge, "Unable to purge")
		return
	}
	switch fault.Status {
	case http.StatusTooManyRequests:
		cdnfake.SetRetryAfter(x.w.Header(), fault.RetryAfter)
		f.fail(x, fault.Status, CodeRateLimited, "Rate limited; please wait and consider throttling your request speed")
	case http.StatusUnauthorized, http.StatusForbidden:
		f.fail(x, fault.Status, CodeAuth, "Authentication error")
	case http.StatusServiceUnavailable:
		if fault.RetryAfter > 0 {
			cdnfake.SetRetryAfter(x.w.Header(), fault.RetryAfter)
		}
		f.fail(x, fault.Status, CodeInternal, "Service unavailable")
	case http.StatusBadGateway:
		// A gateway in front of the API answers in HTML, not the envelope.
		page := "<html><body><h1>502 Bad Gateway</h1></body></html>\n"
		x.rec.Status, x.rec.Response = fault.Status, []byte(page)
		f.Rec.Add(x.rec)
		x.w.Header().Set("Content-Type", "text/html")
		x.w.WriteHeader(fault.Status)
		_, _ = io.WriteString(x.w, page)
	default:
		f.fail(x, fault.Status, CodeInternal, http.StatusText(fault.Status))
	}
}

// check validates the body the way the API does and fills in what the
// request purges. It returns a non-zero code when the request is refused.
func (f *Fake) check(x *exchange, r *http.Request) (status, code int, msg string) {
	const bad = http.StatusBadRequest
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return bad, CodeNoTarget, "Content-Type must be application/json"
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(x.rec.Body, &body); err != nil {
		return bad, CodeNoTarget, "Request body is not valid JSON: " + err.Error()
	}
	if f.opts.Schema != nil {
		if err := f.opts.Schema.CheckRequest(x.rec.Body); err != nil {
			return bad, CodeNoTarget, "Request body does not match the API schema: " + err.Error()
		}
	}
	shapes := []string{}
	for k := range body {
		switch k {
		case "files", "tags", "hosts", "prefixes", "purge_everything":
			shapes = append(shapes, k)
		default:
			return bad, CodeNoTarget, fmt.Sprintf("Unknown field %q", k)
		}
	}
	if len(shapes) != 1 {
		return bad, CodeNoTarget, `Request must contain exactly one of "purge_everything", "files", "tags", "hosts" or "prefixes"`
	}
	shape := shapes[0]
	if shape == "purge_everything" {
		var v bool
		if err := json.Unmarshal(body[shape], &v); err != nil || !v {
			return bad, CodeNoTarget, `"purge_everything" must be true`
		}
		x.rec.Kind, x.rec.Items = "everything", 1
		return 0, 0, ""
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body[shape], &items); err != nil || len(items) == 0 {
		return bad, CodeNoTarget, fmt.Sprintf("%q must be a non-empty array", shape)
	}
	x.rec.Items = len(items)
	switch shape {
	case "files":
		x.rec.Kind = "url"
		return f.checkFiles(items)
	case "tags", "hosts", "prefixes":
		x.rec.Kind = strings.TrimSuffix(shape, "s")
		if shape == "prefixes" {
			x.rec.Kind = "prefix"
		}
		limit := map[string]struct{ n, code int }{
			"tags":     {f.opts.TagsLimit, CodeTooManyTags},
			"hosts":    {f.opts.HostsLimit, CodeTooManyHosts},
			"prefixes": {f.opts.PrefixesLimit, CodeTooManyPrefixes},
		}[shape]
		if len(items) > limit.n {
			return bad, limit.code, fmt.Sprintf("Too many %s in one request: you cannot provide more than %d", shape, limit.n)
		}
		for _, it := range items {
			var s string
			if err := json.Unmarshal(it, &s); err != nil || s == "" {
				return bad, CodeNoTarget, fmt.Sprintf("%q must hold non-empty strings", shape)
			}
			switch shape {
			case "prefixes":
				if strings.Contains(s, "://") || strings.ContainsAny(s, "?#") || strings.Count(s, "/") > 31 {
					return bad, CodeBadPrefix, "Invalid prefix " + s + ": no scheme, no query, at most 31 path separators"
				}
				host, _, _ := strings.Cut(s, "/")
				if !f.inZone(host) {
					return bad, CodeNotInZone, "You can only purge prefixes for this zone"
				}
			case "hosts":
				if !f.inZone(s) {
					return bad, CodeNotInZone, "You can only purge hosts for this zone"
				}
			}
			if f.inject.Rejected(s) {
				return bad, CodeUnableToPurge, "Unable to purge " + s
			}
		}
	}
	return 0, 0, ""
}

// checkFiles checks the items of a "files" body: at most FilesLimit
// absolute URLs of the zone, in one of the two forms.
func (f *Fake) checkFiles(items []json.RawMessage) (status, code int, msg string) {
	const bad = http.StatusBadRequest
	if len(items) > f.opts.FilesLimit {
		// Which maximum the API names for files is not documented, so
		// the fake names none: a client must find the size by itself.
		return bad, CodeTooManyFiles, "Too many files in one request"
	}
	withHeaders := bytes.HasPrefix(bytes.TrimSpace(items[0]), []byte("{"))
	for _, it := range items {
		u, err := fileURL(it, withHeaders)
		if err != nil {
			return bad, CodeNoTarget, err.Error()
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return bad, CodeUnableToPurge, "Unable to purge " + u + ": not an absolute http(s) URL"
		}
		if !f.inZone(pu.Hostname()) {
			return bad, CodeNotInZone, "You can only purge files for this zone"
		}
		if f.inject.Rejected(u) {
			return bad, CodeUnableToPurge, "Unable to purge " + u
		}
	}
	return 0, 0, ""
}

// fileURL reads one "files" item: a URL string, or with withHeaders a
// {"url", "headers"} object whose headers map names to string values. One
// request holds one form only.
func fileURL(raw json.RawMessage, withHeaders bool) (string, error) {
	if !withHeaders {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf(`"files" items must all be URLs, or all {"url", "headers"} objects`)
		}
		return s, nil
	}
	var obj struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil || obj.URL == "" {
		return "", fmt.Errorf(`"files" items must all be URLs, or all {"url", "headers"} objects with a url and header names mapped to strings`)
	}
	return obj.URL, nil
}

func (f *Fake) inZone(host string) bool {
	if len(f.opts.Hosts) == 0 {
		return true
	}
	host = strings.ToLower(host)
	for _, h := range f.opts.Hosts {
		if host == strings.ToLower(h) {
			return true
		}
	}
	return false
}
