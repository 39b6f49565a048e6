// Package faultserver runs loopback servers that misbehave the way real
// origins, caches and CDN APIs do on a bad day: headers or bodies that
// trickle, connections reset mid-response, bodies shorter than announced,
// endless redirects, oversized headers and bodies, rate-limit storms, error
// bursts, malformed JSON, a TLS port that does not speak TLS and a
// certificate nobody trusts. Tests point cachectl at them and check that each
// fault ends in a clear per-target error, in time, with the right exit code.
package faultserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault names one way of misbehaving.
type Fault string

// The faults a Server can inject.
const (
	// None passes every request to Options.Next.
	None Fault = ""
	// SlowHeaders waits Delay before answering at all.
	SlowHeaders Fault = "slow-headers"
	// SlowBody sends the headers at once, then one byte of the body every
	// Delay.
	SlowBody Fault = "slow-body"
	// Reset sends the headers and part of the body, then resets the TCP
	// connection (SO_LINGER 0), as a crashing proxy does.
	Reset Fault = "reset"
	// Truncated announces a Content-Length larger than the body it sends,
	// then closes the connection.
	Truncated Fault = "truncated-body"
	// Status answers Options.Status with Options.Header and Options.Body:
	// 429 storms, 5xx bursts, invalid or half-valid JSON envelopes, a 200
	// with "success": false.
	Status Fault = "status"
	// RedirectLoop answers every request with a redirect to the next of an
	// endless chain of paths on the same server.
	RedirectLoop Fault = "redirect-loop"
	// HugeHeaders answers with Options.Size bytes of response headers.
	HugeHeaders Fault = "huge-headers"
	// HugeBody answers 200 with Options.Size bytes of body.
	HugeBody Fault = "huge-body"
)

// Options configure a Server. The zero value passes every request to a
// handler answering 200 "ok".
type Options struct {
	// Fault is what the server does wrong.
	Fault Fault
	// Times limits the fault to the first Times requests; the rest go to
	// Next. Zero applies the fault to every request.
	Times int
	// Next answers requests the fault does not apply to.
	Next http.Handler
	// Delay paces SlowHeaders (the whole wait) and SlowBody (per byte).
	Delay time.Duration
	// Status, Header and Body are the answer of the Status fault.
	Status int
	Header http.Header
	Body   string
	// Size is the header or body size of HugeHeaders and HugeBody.
	Size int64
}

// Received is one request a server got.
type Received struct {
	Method string
	Host   string
	Path   string
	Header http.Header
}

// Server is a running misbehaving server on a loopback port.
type Server struct {
	*httptest.Server
	opts Options
	n    atomic.Int64
	mu   sync.Mutex
	got  []Received
}

// New starts a plain HTTP server injecting opts.Fault. Close it when done.
func New(opts Options) *Server {
	s := newServer(opts)
	s.Server = httptest.NewServer(s)
	return s
}

// NewUntrusted starts an HTTPS server whose certificate no client trusts
// (httptest's own CA, which the caller does not add to its pool).
func NewUntrusted(opts Options) *Server {
	s := newServer(opts)
	s.Server = httptest.NewTLSServer(s)
	return s
}

func newServer(opts Options) *Server {
	if opts.Next == nil {
		opts.Next = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "ok\n")
		})
	}
	return &Server{opts: opts}
}

// Count returns the number of requests received so far.
func (s *Server) Count() int { return int(s.n.Load()) }

// Received returns the requests received so far, in arrival order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// ServeHTTP applies the fault or hands the request on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.n.Add(1)
	s.mu.Lock()
	s.got = append(s.got, Received{Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Header: r.Header.Clone()})
	s.mu.Unlock()
	if s.opts.Fault == None || (s.opts.Times > 0 && n > int64(s.opts.Times)) {
		s.opts.Next.ServeHTTP(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	o := s.opts
	switch o.Fault {
	case SlowHeaders:
		select {
		case <-time.After(o.Delay):
			_, _ = io.WriteString(w, "late\n")
		case <-r.Context().Done():
		}
	case SlowBody:
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", "1000000")
		w.WriteHeader(http.StatusOK)
		for range 1000000 {
			if _, err := w.Write([]byte{'x'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(o.Delay):
			case <-r.Context().Done():
				return
			}
		}
	case Reset:
		conn, buf := hijack(w)
		if conn == nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html>partial")
		_ = buf.Flush()
		time.Sleep(20 * time.Millisecond)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close sends RST instead of FIN
		}
		_ = conn.Close()
	case Truncated:
		conn, buf := hijack(w)
		if conn == nil {
			return
		}
		body := `{"success": true, "errors": [], "messages": [], "result": {"id": "`
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: public, max-age=60\r\nContent-Length: %d\r\n\r\n%s", len(body)+500, body)
		_ = buf.Flush()
		_ = conn.Close()
	case Status:
		for k, vs := range o.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(o.Status)
		_, _ = io.WriteString(w, o.Body)
	case RedirectLoop:
		hop, _ := strconv.Atoi(r.URL.Query().Get("hop"))
		http.Redirect(w, r, fmt.Sprintf("/loop?hop=%d", hop+1), http.StatusFound)
	case HugeHeaders:
		conn, buf := hijack(w)
		if conn == nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
		line := "X-Filler: " + strings.Repeat("h", 8000) + "\r\n"
		for written := int64(0); written < o.Size; written += int64(len(line)) {
			if _, err := buf.WriteString(line); err != nil {
				break
			}
		}
		_, _ = buf.WriteString("Content-Length: 2\r\n\r\nok")
		_ = buf.Flush()
		_ = conn.Close()
	case HugeBody:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Length", strconv.FormatInt(o.Size, 10))
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(" ", 32<<10))
		for left := o.Size; left > 0; left -= int64(len(chunk)) {
			if left < int64(len(chunk)) {
				chunk = chunk[:left]
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	default:
		http.Error(w, "faultserver: unknown fault "+string(o.Fault), http.StatusInternalServerError)
	}
}

func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return nil, nil
	}
	return conn, buf
}

// NotTLS is a TCP port that answers a TLS handshake with plain text, as an
// HTTP server on an https:// URL does.
type NotTLS struct {
	// URL is https://127.0.0.1:port.
	URL string
	ln  net.Listener
	wg  sync.WaitGroup
}

// NewNotTLS starts a NotTLS listener on a loopback port. Close it when done.
func NewNotTLS() (*NotTLS, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultserver: listen: %w", err)
	}
	s := &NotTLS{URL: "https://" + ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\x00\x01garbage")
				_, _ = io.Copy(io.Discard, io.LimitReader(conn, 4096))
				_ = conn.Close()
			}()
		}
	}()
	return s, nil
}

// Close stops the listener and waits for its connections to end.
func (s *NotTLS) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}
