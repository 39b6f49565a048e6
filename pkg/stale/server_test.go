package stale

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// page is one side's response.
type page struct {
	status int
	header map[string]string
	body   string
	// encode compresses the body on the way out: "gzip", "deflate" (zlib),
	// "rawdeflate" (sent as deflate), or any other value sent as the
	// Content-Encoding with the body unchanged.
	encode string
}

func (p page) write(t testing.TB, w http.ResponseWriter) {
	for k, v := range p.header {
		w.Header().Set(k, v)
	}
	body := []byte(p.body)
	if p.encode != "" {
		body = encode(t, p.encode, body)
		w.Header().Set("Content-Encoding", strings.TrimPrefix(p.encode, "raw"))
	}
	status := p.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func encode(t testing.TB, coding string, body []byte) []byte {
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "rawdeflate":
		w, err = flate.NewWriter(&buf, flate.DefaultCompression)
	default:
		return body
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// recorded is what a test server saw and sent for one request.
type recorded struct {
	header    http.Header
	host      string
	uri       string
	status    int
	bodyBytes int
}

// server is an edge or an origin on loopback that serves one page and
// records every request. As an origin it answers conditional requests like a
// careful one: If-None-Match compared weakly (RFC 9110 §13.1.2), and
// If-Modified-Since only without it.
type server struct {
	t      testing.TB
	srv    *httptest.Server
	page   page
	origin bool
	// ignoreConditionals makes an origin answer 200 whatever the request says.
	ignoreConditionals bool
	// delay holds every response back.
	delay time.Duration

	mu   sync.Mutex
	reqs []recorded
}

func newServer(t testing.TB, p page, origin bool) *server {
	s := &server{t: t, page: p, origin: origin}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return
	}
	cw := &countingWriter{ResponseWriter: w}
	if s.origin && !s.ignoreConditionals && notModified(r, s.page.header) {
		for _, k := range []string{"ETag", "Last-Modified", "Cache-Control"} {
			if v, ok := s.page.header[k]; ok {
				w.Header().Set(k, v)
			}
		}
		cw.WriteHeader(http.StatusNotModified)
	} else {
		s.page.write(s.t, cw)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, recorded{header: r.Header.Clone(), host: r.Host, uri: r.RequestURI, status: cw.status, bodyBytes: cw.n})
}

func (s *server) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func notModified(r *http.Request, h map[string]string) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		own, ok := parseETag(h["ETag"])
		for _, tag := range strings.Split(inm, ",") {
			if t, tok := parseETag(tag); tok && ok && t.opaque == own.opaque {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	lm, lerr := http.ParseTime(h["Last-Modified"])
	return err == nil && lerr == nil && !lm.After(ims)
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	return n, err
}
