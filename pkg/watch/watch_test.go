package watch

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/prometheustest"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

// cacheOrigin answers like a cache in front of a page: the first request
// for a path is a MISS, later ones HITs with a growing Age.
type cacheOrigin struct {
	mu   sync.Mutex
	seen map[string]int
}

func (o *cacheOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	n := o.seen[r.URL.Path]
	o.seen[r.URL.Path]++
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Server-Timing", "origin;dur=20, db;dur=4.5")
	if n == 0 {
		w.Header().Set("X-Cache", "MISS")
	} else {
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Age", strconv.Itoa(n))
	}
	w.Write([]byte("page " + r.URL.Path))
}

func newOrigin(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(&cacheOrigin{seen: map[string]int{}})
	t.Cleanup(srv.Close)
	return srv
}

func targets(t *testing.T, base string, routes ...string) []verify.Target {
	t.Helper()
	cl, err := verify.Compile(&config.Expectation{Cache: []string{"HIT"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []verify.Target
	for i, r := range routes {
		out = append(out, verify.Target{Index: i, Route: r, URL: base + r, Anonymous: cl, LoggedIn: cl})
	}
	return out
}

func TestRoundsRecordEveryRoute(t *testing.T) {
	srv := newOrigin(t)
	reg, m := newTestMetrics(t, "db")
	w := New(probe.New(probe.Options{KeepAlive: true, Timeout: 5 * time.Second}), targets(t, srv.URL, "/a", "/b"), m, Options{Interval: time.Minute})
	for range 3 {
		w.Round(t.Context())
	}
	got := gather(t, reg)
	for _, route := range []string{"/a", "/b"} {
		key := func(name string, extra ...string) string {
			labels := map[string]string{"env": "production", "route": route, "variant": "anonymous"}
			for i := 0; i+1 < len(extra); i += 2 {
				labels[extra[i]] = extra[i+1]
			}
			return prometheustest.Key(name, labels)
		}
		checkSeries(t, route, got, map[string]float64{
			key("cachectl_probes_total", "cache_status", "MISS"):      1,
			key("cachectl_probes_total", "cache_status", "HIT"):       2,
			key("cachectl_cache_status", "cache_status", "HIT"):       1,
			key("cachectl_check_failures_total", "check", "cache"):    1,
			key("cachectl_check_success", "check", "cache"):           1,
			key("cachectl_age_seconds"):                               2,
			key("cachectl_shared_max_age_seconds"):                    60,
			key("cachectl_server_timing_db_seconds"):                  0.0045,
			key("cachectl_ttfb_seconds_count", "cache_status", "HIT"): 2,
		})
	}
	if got := got[prometheustest.Key("cachectl_rounds_total", map[string]string{"env": "production"})]; got != 3 {
		t.Errorf("rounds = %v, want 3", got)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	srv := newOrigin(t)
	reg, m := newTestMetrics(t)
	w := New(probe.New(probe.Options{KeepAlive: true, Timeout: 5 * time.Second}), targets(t, srv.URL, "/a"), m, Options{Interval: 10 * time.Millisecond, Jitter: 0.1})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	rounds := prometheustest.Key("cachectl_rounds_total", map[string]string{"env": "production"})
	deadline := time.Now().Add(10 * time.Second)
	for gather(t, reg)[rounds] < 3 {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 3 rounds in 10s at a 10ms interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancellation")
	}
}

func TestJitterStaysWithinItsShare(t *testing.T) {
	_, m := newTestMetrics(t)
	w := New(nil, nil, m, Options{Interval: time.Second, Jitter: 0.1, Rand: rand.New(rand.NewPCG(1, 2))})
	seen := map[bool]bool{}
	for range 1000 {
		d := w.nextDelay()
		if d < 900*time.Millisecond || d > 1100*time.Millisecond {
			t.Fatalf("delay %s outside 1s ± 10%%", d)
		}
		seen[d > time.Second] = true
	}
	if !seen[true] || !seen[false] {
		t.Error("jitter never shifted both ways in 1000 draws")
	}
}

func TestHealthyUntilRoundsStall(t *testing.T) {
	srv := newOrigin(t)
	_, m := newTestMetrics(t)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := New(probe.New(probe.Options{Timeout: 5 * time.Second}), targets(t, srv.URL, "/a"), m, Options{
		Interval: time.Minute, StallAfter: 3 * time.Minute, Now: func() time.Time { return clock },
	})
	if err := w.Healthy(); err != nil {
		t.Fatalf("at start: %v", err)
	}
	clock = clock.Add(3*time.Minute + time.Second)
	if err := w.Healthy(); err == nil {
		t.Fatal("no round in 3m1s: healthy, want stalled")
	}
	w.Round(t.Context())
	if err := w.Healthy(); err != nil {
		t.Fatalf("after a round: %v", err)
	}
}

// A site that does not answer is reported in the metrics; the watcher
// itself stays healthy.
func TestUnreachableSiteIsNotUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	reg, m := newTestMetrics(t)
	w := New(probe.New(probe.Options{Timeout: time.Second}), targets(t, base, "/a"), m, Options{Interval: time.Minute})
	w.Round(t.Context())
	if err := w.Healthy(); err != nil {
		t.Errorf("Healthy = %v, want nil", err)
	}
	checkSeries(t, "refused", gather(t, reg), map[string]float64{
		series("cachectl_probe_success"):                              0,
		series("cachectl_check_success", "check", "reachable"):        0,
		series("cachectl_check_failures_total", "check", "reachable"): 1,
	})
}

// TestOverrunLoggedOnce: rounds that keep overrunning the interval are
// warned about once, not every round.
func TestOverrunLoggedOnce(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(30 * time.Millisecond) }))
	t.Cleanup(slow.Close)
	reg, m := newTestMetrics(t)
	var logs bytes.Buffer
	w := New(probe.New(probe.Options{KeepAlive: true, Timeout: 5 * time.Second}), targets(t, slow.URL, "/a"), m, Options{
		Interval: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	rounds := prometheustest.Key("cachectl_rounds_total", map[string]string{"env": "production"})
	for gather(t, reg)[rounds] < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := strings.Count(logs.String(), "a round took longer than --interval"); n != 1 {
		t.Errorf("overrun warned %d times over 4 late rounds, want once:\n%s", n, logs.String())
	}
}
