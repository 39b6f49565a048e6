package probe

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/secret"
)

const cookieValue = "s3cr3t-session-value"

// recorder is an origin that remembers the requests it got.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
}

func (r *recorder) all() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

func TestProbeReadsCacheHeaders(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("X-Varnish", "32770 3")
		w.Header().Set("Age", "12")
		w.Header().Set("Surrogate-Control", "max-age=3600")
		w.Header().Add("Set-Cookie", "last_seen="+cookieValue)
		_, _ = w.Write([]byte("hello"))
	}))
	defer srv.Close()

	p := New(Options{})
	r := p.Probe(context.Background(), srv.URL+"/a?q=1", LoggedIn, &Session{Cookie: "sessionid", Value: secret.Value(cookieValue)})
	if r.Error != "" {
		t.Fatalf("probe error: %s", r.Error)
	}
	checks := []struct{ name, got, want string }{
		{"status", string(r.Cache.Status), string(cachestatus.HIT)},
		{"source", r.Cache.Source, "X-Cache"},
		{"cache_control", r.CacheControl, "public, max-age=600"},
		{"vary", r.Vary, "Accept-Encoding"},
		{"etag", r.ETag, `"abc"`},
		{"surrogate", r.CDNCacheControl["Surrogate-Control"], "max-age=3600"},
		{"cookie shown", r.RequestHeaders["Cookie"], "sessionid=REDACTED"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if r.StatusCode != 200 || !r.SetCookie || r.BodyBytes != 5 || r.Cache.AgeS == nil || *r.Cache.AgeS != 12 {
		t.Errorf("got code %d set_cookie %v body %d age %v", r.StatusCode, r.SetCookie, r.BodyBytes, r.Cache.AgeS)
	}
	if got := r.Header.Get("Set-Cookie"); strings.Contains(got, cookieValue) {
		t.Errorf("Set-Cookie value kept in result header: %q", got)
	}
	reqs := rec.all()
	if len(reqs) != 1 {
		t.Fatalf("origin got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Method != http.MethodGet {
		t.Errorf("method = %s, want GET", req.Method)
	}
	if got := req.Header.Get("Accept-Encoding"); got != DefaultAcceptEncoding {
		t.Errorf("Accept-Encoding = %q, want %q", got, DefaultAcceptEncoding)
	}
	if c, err := req.Cookie("sessionid"); err != nil || c.Value != cookieValue {
		t.Errorf("session cookie not sent: %v", err)
	}
	if r.Timing.Total <= 0 || r.Timing.Connect <= 0 {
		t.Errorf("timings not measured: %+v", r.Timing)
	}
}

func TestAnonymousSendsNoCookie(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.add(r) }))
	defer srv.Close()
	r := New(Options{}).Probe(context.Background(), srv.URL, Anonymous, &Session{Cookie: "sessionid", Value: "x"})
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if got := rec.all()[0].Header.Get("Cookie"); got != "" {
		t.Errorf("anonymous probe sent Cookie %q", got)
	}
	if _, ok := r.RequestHeaders["Cookie"]; ok {
		t.Errorf("anonymous probe shows a Cookie request header")
	}
}

func TestRedirectReportedNotFollowed(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		http.Redirect(w, r, "/target", http.StatusMovedPermanently)
	}))
	defer srv.Close()
	r := New(Options{}).Probe(context.Background(), srv.URL+"/old", Anonymous, nil)
	if r.StatusCode != 301 || r.Location != "/target" {
		t.Errorf("got %d %q, want 301 /target", r.StatusCode, r.Location)
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("origin got %d requests, want 1 (no follow)", n)
	}
}

func TestFollowNeverSendsCookieToAnotherHost(t *testing.T) {
	other := &recorder{}
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.add(r)
		w.Header().Set("X-Cache", "MISS")
	}))
	defer otherSrv.Close()
	own := &recorder{}
	ownSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		own.add(r)
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/hop", http.StatusFound)
			return
		}
		http.Redirect(w, r, otherSrv.URL+"/landing", http.StatusFound)
	}))
	defer ownSrv.Close()

	r := New(Options{Follow: true}).Probe(context.Background(), ownSrv.URL+"/start", LoggedIn, &Session{Cookie: "sessionid", Value: cookieValue})
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if len(r.Redirects) != 2 || r.FinalURL != otherSrv.URL+"/landing" || r.Cache.Status != cachestatus.MISS {
		t.Errorf("got redirects %+v final %q cache %s", r.Redirects, r.FinalURL, r.Cache.Status)
	}
	for _, req := range own.all() {
		if c, err := req.Cookie("sessionid"); err != nil || c.Value != cookieValue {
			t.Errorf("own host %s did not get the cookie", req.URL.Path)
		}
	}
	for _, req := range other.all() {
		if h := req.Header.Get("Cookie"); h != "" {
			t.Errorf("cookie %q sent to another host", h)
		}
	}
}

func TestRedirectLoopStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	r := New(Options{Follow: true, MaxRedirects: 5}).Probe(context.Background(), srv.URL+"/loop", Anonymous, nil)
	if !strings.Contains(r.Error, "redirect loop") || len(r.Redirects) != 5 {
		t.Errorf("got error %q after %d hops, want a redirect-loop error after 5", r.Error, len(r.Redirects))
	}
}

func TestFailuresAreReportedClearly(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	closed := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name, url, want string
	}{
		{"timeout", slow.URL, "timeout after 200ms"},
		{"untrusted certificate", tlsSrv.URL, "TLS certificate not trusted"},
		{"refused", closedURL, "connection refused"},
		{"plain http to tls", strings.Replace(tlsSrv.URL, "https", "http", 1), ""},
		{"dns", "http://no-such-host.invalid/", "DNS lookup of no-such-host.invalid failed"},
	}
	p := New(Options{Timeout: 200 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := p.Probe(context.Background(), tt.url, Anonymous, nil)
			if tt.want != "" && !strings.Contains(r.Error, tt.want) {
				t.Errorf("error = %q, want it to contain %q", r.Error, tt.want)
			}
			if tt.name == "plain http to tls" && r.StatusCode != 400 && r.Error == "" {
				t.Errorf("got status %d and no error", r.StatusCode)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("probe took %s, past its timeout", d)
			}
		})
	}
}

func TestBodyIsCappedAndHashed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 4096)))
	}))
	defer srv.Close()
	r := New(Options{BodyLimit: 1000}).Probe(context.Background(), srv.URL, Anonymous, nil)
	if r.BodyBytes != 1000 || len(r.BodySHA256) != 64 {
		t.Errorf("read %d bytes, hash %q; want 1000 bytes and a sha256", r.BodyBytes, r.BodySHA256)
	}
}

func TestDebugHeadersSent(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.add(r) }))
	defer srv.Close()
	New(Options{DebugHeaders: true}).Probe(context.Background(), srv.URL, Anonymous, nil)
	h := rec.all()[0].Header
	if h.Get("Fastly-Debug") != "1" || !strings.Contains(h.Get("Pragma"), "akamai-x-cache-on") {
		t.Errorf("debug headers missing: %v", h)
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"https://www.example.com/start", "https://WWW.example.com/echo", true},
		{"https://www.example.com/start", "https://www.example.com:443/echo", true},
		{"http://www.example.com:80/start", "http://www.example.com/echo", true},
		{"https://www.example.com/start", "http://www.example.com/echo", false},
		{"https://www.example.com/start", "http://www.example.com:443/echo", false},
		{"http://www.example.com/start", "https://www.example.com/echo", false},
		{"https://www.example.com/start", "https://www.example.com:8443/echo", false},
		{"https://www.example.com/start", "https://example.com/echo", false},
		{"http://[::1]:8080/start", "http://[::1]:8080/echo", true},
	}
	for _, tt := range tests {
		from, _ := url.Parse(tt.from)
		to, _ := url.Parse(tt.to)
		if got := sameOrigin(from, to); got != tt.want {
			t.Errorf("sameOrigin(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// teeListener records every byte its connections receive.
type teeListener struct {
	net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *teeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return &teeConn{Conn: c, l: l}, err
}

func (l *teeListener) received() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type teeConn struct {
	net.Conn
	l *teeListener
}

func (c *teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.mu.Lock()
	c.l.buf.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}

// TestCookieNeverFollowsHTTPSToHTTP: https://host:P/start answered by a
// redirect to http://host:P/echo (same host and port, plain HTTP) must not
// carry the session cookie in clear text.
func TestCookieNeverFollowsHTTPSToHTTP(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "http://"+r.Host+"/echo", http.StatusMovedPermanently)
		}
	}))
	tee := &teeListener{Listener: srv.Listener}
	srv.Listener = tee
	srv.StartTLS()
	defer srv.Close()
	p := New(Options{Follow: true, Transport: srv.Client().Transport})
	r := p.Probe(context.Background(), srv.URL+"/start", LoggedIn, &Session{Cookie: "sessionid", Value: cookieValue})
	if len(r.Redirects) != 1 {
		t.Fatalf("redirects %+v (error %q): want the hop to http:// followed", r.Redirects, r.Error)
	}
	got := tee.received()
	if !strings.Contains(got, "GET /echo") {
		t.Fatalf("the plain-HTTP request never arrived; received %q", got)
	}
	if strings.Contains(got, cookieValue) {
		t.Errorf("the session cookie crossed from https to http in clear text: %q", got[strings.Index(got, "GET /echo"):])
	}
}

// TestHostHeaderToAnotherVirtualHostGetsNoCookie: -H "Host: other.example"
// (or a Host in the environment's headers) must not carry the session
// cookie to that other virtual host behind a shared edge.
func TestHostHeaderToAnotherVirtualHostGetsNoCookie(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.add(r) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	sess := &Session{Cookie: "sessionid", Value: cookieValue}
	r := New(Options{Header: http.Header{"Host": {"other.example"}}}).Probe(context.Background(), srv.URL+"/", LoggedIn, sess)
	if !strings.Contains(r.Error, "not sent with Host: other.example") {
		t.Errorf("error = %q, want the refusal", r.Error)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	// The URL's own host (case and default port aside) is fine.
	r = New(Options{Header: http.Header{"Host": {strings.ToUpper(u.Host)}}}).Probe(context.Background(), srv.URL+"/", LoggedIn, sess)
	if r.Error != "" || len(rec.all()) != 1 {
		t.Fatalf("same host: error %q, %d requests", r.Error, len(rec.all()))
	}
	if c, err := rec.all()[0].Cookie("sessionid"); err != nil || c.Value != cookieValue {
		t.Errorf("same host: cookie not sent")
	}
	// Anonymous probes may address another virtual host.
	if r := New(Options{Header: http.Header{"Host": {"other.example"}}}).Probe(context.Background(), srv.URL+"/", Anonymous, nil); r.Error != "" {
		t.Errorf("anonymous: %s", r.Error)
	}
}

// TestWithHeaderSendsVariantHeaders: a Prober for one cache variant sends
// its headers on top of the configured ones, replaces a default where it
// names the same header, and leaves the original Prober as it was.
func TestWithHeaderSendsVariantHeaders(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.add(r) }))
	defer srv.Close()
	base := New(Options{Header: http.Header{"X-Debug": {"1"}}})
	variant := base.WithHeader(map[string]string{"CF-Device-Type": "mobile", "Accept-Encoding": "identity"})
	for _, p := range []*Prober{variant, base} {
		if r := p.Probe(context.Background(), srv.URL, Anonymous, nil); r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	reqs := rec.all()
	got := reqs[0].Header
	if got.Get("Cf-Device-Type") != "mobile" || got.Get("Accept-Encoding") != "identity" || got.Get("X-Debug") != "1" {
		t.Errorf("variant probe headers = %v, want CF-Device-Type: mobile, Accept-Encoding: identity and X-Debug: 1", got)
	}
	if len(got.Values("Accept-Encoding")) != 1 {
		t.Errorf("Accept-Encoding sent %d times", len(got.Values("Accept-Encoding")))
	}
	plain := reqs[1].Header
	if plain.Get("Cf-Device-Type") != "" || plain.Get("Accept-Encoding") != DefaultAcceptEncoding {
		t.Errorf("the base Prober changed: headers %v", plain)
	}
	if base.WithHeader(nil) != base {
		t.Error("WithHeader(nil) made a new Prober")
	}
}

// TestServerTimingFromHeaderAndTrailer: every Server-Timing line counts,
// the trailer's too, and a malformed metric is left out and kept as a
// problem for analyze to report.
func TestServerTimingFromHeaderAndTrailer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "Server-Timing")
		w.Header().Add("Server-Timing", `db;dur=12.4;desc="3 queries"`)
		w.Header().Add("Server-Timing", "cfOrigin;dur=20, broken;dur")
		_, _ = w.Write([]byte("body"))
		w.Header().Set("Server-Timing", "total;dur=40")
	}))
	defer srv.Close()
	r := New(Options{}).Probe(context.Background(), srv.URL, Anonymous, nil)
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	for name, want := range map[string]float64{"db": 12.4, "cfOrigin": 20, "total": 40} {
		if e, ok := r.ServerTiming[name]; !ok || e.Dur == nil || *e.Dur != want {
			t.Errorf("server_timing[%s] = %+v, want dur %v", name, e, want)
		}
	}
	if got := r.ServerTiming["db"].Desc; got != "3 queries" {
		t.Errorf("db desc = %q", got)
	}
	if len(r.ServerTimingProblems) != 1 || r.ServerTimingProblems[0].Metric != "broken;dur" {
		t.Errorf("problems = %+v, want the broken metric", r.ServerTimingProblems)
	}
}

func TestNoBodyHashStillReadsTheBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 4096)))
	}))
	defer srv.Close()
	p := New(Options{NoBodyHash: true, KeepAlive: true})
	for range 2 {
		r := p.Probe(context.Background(), srv.URL, Anonymous, nil)
		if r.Error != "" || r.BodyBytes != 4096 || r.BodySHA256 != "" {
			t.Errorf("read %d bytes, hash %q, error %q; want 4096 bytes and no hash", r.BodyBytes, r.BodySHA256, r.Error)
		}
	}
}

func TestNoServerTimingLeavesItUnread(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server-Timing", "db;dur=12, broken;dur")
	}))
	defer srv.Close()
	r := New(Options{NoServerTiming: true}).Probe(context.Background(), srv.URL, Anonymous, nil)
	if r.Error != "" || r.ServerTiming != nil || r.ServerTimingProblems != nil {
		t.Errorf("server timing %v, problems %v, error %q; want none read", r.ServerTiming, r.ServerTimingProblems, r.Error)
	}
}

// TestRequestHeadersAreNotShared: the anonymous results of a prober may
// share its map of request headers, but a logged-in result's Cookie never
// shows up in another result, nor in RequestHeaders.
func TestRequestHeadersAreNotShared(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	p := New(Options{})
	in := p.Probe(context.Background(), srv.URL, LoggedIn, &Session{Cookie: "sid", Value: secret.Value(cookieValue)})
	out := p.Probe(context.Background(), srv.URL, Anonymous, nil)
	if in.RequestHeaders["Cookie"] != "sid="+secret.Redacted {
		t.Errorf("logged-in request headers = %v", in.RequestHeaders)
	}
	if _, ok := out.RequestHeaders["Cookie"]; ok {
		t.Errorf("the anonymous result shows a Cookie: %v", out.RequestHeaders)
	}
	shown := p.RequestHeaders()
	shown["X-Changed"] = "1"
	if _, ok := p.RequestHeaders()["X-Changed"]; ok {
		t.Error("RequestHeaders hands out the prober's own map")
	}
	// A prober for one cache variant (purge --verify) shows what it sends.
	v := p.WithHeader(map[string]string{"CF-Device-Type": "mobile", "Accept": "text/html"})
	if h := v.RequestHeaders(); h["Cf-Device-Type"] != "mobile" || h["Accept"] != "text/html" || h["User-Agent"] == "" {
		t.Errorf("WithHeader prober shows %v", h)
	}
	if r := v.Probe(context.Background(), srv.URL, Anonymous, nil); r.RequestHeaders["Cf-Device-Type"] != "mobile" {
		t.Errorf("its probe shows %v", r.RequestHeaders)
	}
}
