package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fastPolicy keeps backoff short so tests measure Retry-After, not backoff.
func fastPolicy() Policy {
	return Policy{MaxAttempts: 4, MinWait: 5 * time.Millisecond, MaxWait: 20 * time.Millisecond, MaxRetryAfter: 5 * time.Second, Deadline: 10 * time.Second}
}

// script answers requests with the given statuses in order, then 200.
type script struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   []string
	times    []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.bodies)
	s.bodies = append(s.bodies, string(b))
	s.times = append(s.times, time.Now())
	status := http.StatusOK
	var h http.Header
	if i < len(s.statuses) {
		status = s.statuses[i]
		if i < len(s.headers) {
			h = s.headers[i]
		}
	}
	s.mu.Unlock()
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"n":`+strconv.Itoa(i)+`}`)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func post(t *testing.T, c *http.Client, ctx context.Context, url, body string) (*http.Response, *Attempts, error) {
	t.Helper()
	ctx, att := WithAttempts(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer secret-token")
	resp, err := c.Do(req)
	if resp != nil {
		t.Cleanup(func() { _ = resp.Body.Close() })
	}
	return resp, att, err
}

// throttled400 is a vendor's AnswerFunc (WithRetryIf): its 400 that says
// so in the body is worth another attempt.
func throttled400(status int, _ http.Header, body []byte) bool {
	return status == http.StatusBadRequest && bytes.HasPrefix(body, []byte(`{"n":`))
}

func never(int, http.Header, []byte) bool { return false }

func TestRetryStatuses(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		wantStatus   int
		wantRequests int
		retryIf      AnswerFunc
	}{
		{"500 then success", []int{500}, 200, 2, nil},
		{"502 503 then success", []int{502, 503}, 200, 3, nil},
		{"429 then success", []int{429}, 200, 2, nil},
		{"501 not retried", []int{501}, 501, 1, nil},
		{"400 not retried", []int{400}, 400, 1, nil},
		{"401 not retried", []int{401}, 401, 1, nil},
		{"403 not retried", []int{403}, 403, 1, nil},
		{"404 not retried", []int{404}, 404, 1, nil},
		{"5xx until attempts run out", []int{500, 500, 500, 500, 500}, 500, 4, nil},
		{"a 400 the AnswerFunc accepts, then success", []int{400, 400}, 200, 3, throttled400},
		{"a 400 the AnswerFunc refuses", []int{400}, 400, 1, never},
		{"a 400 the AnswerFunc accepts, until attempts run out", []int{400, 400, 400, 400, 400}, 400, 4, throttled400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{statuses: tt.statuses}
			srv := httptest.NewServer(s)
			defer srv.Close()
			ctx := context.Background()
			if tt.retryIf != nil {
				ctx = WithRetryIf(ctx, tt.retryIf)
			}
			resp, att, err := post(t, NewClient(fastPolicy(), nil), ctx, srv.URL, `{"files":["a"]}`)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := s.count(), tt.wantRequests; got != want {
				t.Errorf("requests = %d, want %d", got, want)
			}
			if got, want := att.Count(), tt.wantRequests; got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
			for i, b := range s.bodies {
				if b != `{"files":["a"]}` {
					t.Errorf("body of attempt %d = %q, want the original body", i+1, b)
				}
			}
			// The last response reaches the caller intact.
			body, _ := io.ReadAll(resp.Body)
			if got, want := string(body), `{"n":`+strconv.Itoa(tt.wantRequests-1)+`}`; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
		})
	}
}

func TestRetryAfterSecondsHonoured(t *testing.T) {
	s := &script{statuses: []int{429}, headers: []http.Header{{"Retry-After": {"1"}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	start := time.Now()
	resp, att, err := post(t, NewClient(fastPolicy(), nil), context.Background(), srv.URL, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got := s.times[1].Sub(s.times[0]); got < 950*time.Millisecond || got > 3*time.Second {
		t.Errorf("gap between attempts = %v, want about 1s", got)
	}
	if got := time.Since(start); got < time.Second {
		t.Errorf("elapsed = %v, want at least the Retry-After", got)
	}
	if got, want := att.Count(), 2; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

func TestRetryAfterHTTPDateHonoured(t *testing.T) {
	// HTTP-dates have one-second resolution, so ask for two seconds ahead
	// and expect at least one second of wait.
	date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
	s := &script{statuses: []int{503}, headers: []http.Header{{"Retry-After": {date}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, _, err := post(t, NewClient(fastPolicy(), nil), context.Background(), srv.URL, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got := s.times[1].Sub(s.times[0]); got < time.Second || got > 3*time.Second {
		t.Errorf("gap between attempts = %v, want 1s to 2s", got)
	}
}

func TestRetryAfterBeyondCapReturns429(t *testing.T) {
	tests := []struct{ name, value string }{
		{"absurd seconds", "1000000000"},
		{"overflowing seconds", "99999999999999999999999"},
		{"above cap", "6"},
		{"far date", "Fri, 31 Dec 2999 23:59:59 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{statuses: []int{429}, headers: []http.Header{{"Retry-After": {tt.value}}}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			start := time.Now()
			resp, att, err := post(t, NewClient(fastPolicy(), nil), context.Background(), srv.URL, "x")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, 429; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := att.Count(), 1; got != want {
				t.Errorf("attempts = %d, want %d", got, want)
			}
			if got := time.Since(start); got > time.Second {
				t.Errorf("elapsed = %v, want an immediate answer", got)
			}
		})
	}
}

func TestRetryAfterBeyondDeadlineReturns429(t *testing.T) {
	s := &script{statuses: []int{429}, headers: []http.Header{{"Retry-After": {"3"}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	p := fastPolicy()
	p.Deadline = time.Second
	resp, _, err := post(t, NewClient(p, nil), context.Background(), srv.URL, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, 429; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
}

func TestConnectionResetRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST instead of FIN
			}
			_ = conn.Close()
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	resp, att, err := post(t, NewClient(fastPolicy(), nil), context.Background(), srv.URL, "payload")
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if got, want := string(body), "payload"; got != want {
		t.Errorf("body = %q, want %q (re-sent on retry)", got, want)
	}
	if got, want := att.Count(), 2; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
}

func TestConnectionRefusedGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	_, att, err := post(t, NewClient(fastPolicy(), nil), context.Background(), addr, "x")
	if err == nil {
		t.Fatal("Do succeeded against a closed port")
	}
	if got, want := att.Count(), 4; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
	if !strings.Contains(err.Error(), "giving up after 4 attempt(s)") {
		t.Errorf("error = %q, want it to say how many attempts were made", err)
	}
}

func TestCancellationIsPrompt(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"during Retry-After wait", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "4")
			w.WriteHeader(http.StatusTooManyRequests)
		}},
		{"during a slow response", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			_, _, err := post(t, NewClient(fastPolicy(), nil), ctx, srv.URL, "x")
			elapsed := time.Since(start) - 200*time.Millisecond
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
			// Far under the 4-5 s the request would otherwise take, with room
			// for a loaded CI machine.
			if elapsed > time.Second {
				t.Errorf("returned %v after cancellation, want well under the 4 s wait", elapsed)
			}
		})
	}
}

func TestDeadlineBoundsAllAttempts(t *testing.T) {
	s := &script{statuses: []int{500, 500, 500, 500, 500, 500, 500, 500, 500, 500}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	p := Policy{MaxAttempts: 10, MinWait: 50 * time.Millisecond, MaxWait: 50 * time.Millisecond, MaxRetryAfter: time.Second, Deadline: 400 * time.Millisecond}
	start := time.Now()
	_, _, err := post(t, NewClient(p, nil), context.Background(), srv.URL, "x")
	if err == nil {
		t.Fatal("Do succeeded, want a deadline error")
	}
	// Ten attempts would take 2 s; the deadline stops them near 400ms
	// (with room for a loaded CI machine).
	if got := time.Since(start); got > 1200*time.Millisecond {
		t.Errorf("elapsed = %v, want about the 400ms deadline, far from the 2 s ten attempts take", got)
	}
	if got := s.count(); got >= 10 {
		t.Errorf("requests = %d, want fewer than MaxAttempts because of the deadline", got)
	}
}

func TestLogsNeverCarryHeaders(t *testing.T) {
	s := &script{statuses: []int{500}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, _, err := post(t, NewClient(fastPolicy(), logger), context.Background(), srv.URL+"/zones/z/purge_cache?token=querysecret", "x")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, secret := range []string{"secret-token", "querysecret", "Authorization"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"/zones/z/purge_cache", "status=500", "attempt=1", "wait="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"1000000000", 1000000000 * time.Second, true},
		{"99999999999999999999999", maxRetryAfter, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 01-Mar-26 12:01:00 GMT", time.Minute, true},
		{"Sun Mar  1 12:00:05 2026", 5 * time.Second, true},
		{"Fri, 31 Dec 1999 23:59:59 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "1000000000", "Fri, 31 Dec 1999 23:59:59 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "", "1e9"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || d > maxRetryAfter {
			t.Errorf("ParseRetryAfter(%q) = %v, want within [0, %v]", s, d, maxRetryAfter)
		}
		if !ok && d != 0 {
			t.Errorf("ParseRetryAfter(%q) = %v, false; want 0 when not ok", s, d)
		}
	})
}

func TestExpBackoffBounds(t *testing.T) {
	for attempt := range 80 {
		got := expBackoff(100*time.Millisecond, 2*time.Second, attempt)
		if got < 50*time.Millisecond || got > 2*time.Second {
			t.Errorf("expBackoff(attempt %d) = %v, want within [50ms, 2s]", attempt, got)
		}
	}
}
