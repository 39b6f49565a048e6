package watch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func serve(t *testing.T, h http.Handler) (string, context.CancelFunc, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	return "http://" + ln.Addr().String(), cancel, served
}

func TestHandler(t *testing.T) {
	reg, _ := newTestMetrics(t)
	var health error
	base, _, _ := serve(t, Handler(reg, func() error { return health }, slog.New(slog.DiscardHandler)))

	code, body := get(t, base+"/metrics")
	for _, want := range []string{`cachectl_build_info{commit="abc123",goversion="go1.26",version="v1.2.3"} 1`, "# HELP cachectl_cache_status ", "go_goroutines ", "process_cpu_seconds_total "} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics: %d, want 200 with %q", code, want)
		}
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	health = errors.New("stalled: no round completed in 3m0s")
	if code, body := get(t, base+"/healthz"); code != 503 || !strings.Contains(body, "stalled") {
		t.Errorf("/healthz while stalled = %d %q, want 503 naming the stall", code, body)
	}
	if code, body := get(t, base+"/"); code != 200 || !strings.Contains(body, `href="/metrics"`) {
		t.Errorf("/ = %d %q, want an index linking /metrics", code, body)
	}
	if code, _ := get(t, base+"/nope"); code != 404 {
		t.Errorf("/nope = %d, want 404", code)
	}
}

// TestServeFinishesRequestsInFlight: a scrape running when the server is
// told to stop gets its answer, and Serve then returns nil.
func TestServeFinishesRequestsInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	base, cancel, served := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	}))
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			answer <- err.Error()
			return
		}
		answer <- string(b)
	}()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if got := <-answer; got != "done" {
		t.Errorf("request in flight got %q, want done", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a graceful stop", err)
	}
	served <- nil // for the cleanup
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Error("the listener still accepts connections after Serve returned")
	}
}

func TestServeFailsOnAClosedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := Serve(t.Context(), ln, http.NotFoundHandler()); err == nil {
		t.Error("Serve on a closed listener = nil, want an error")
	}
}
