package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/prometheustest"
	"github.com/cachectl/cachectl/internal/stacktest"
)

// The article the queries ask about: the production Varnish caches it for
// anonymous visitors.
const article = "/articles/go-context-cancellation"

// hitRatioQuery and ttfbQuery are the README's example queries for one route.
var (
	hitRatioQuery = `sum(rate(cachectl_probes_total{route="` + article + `",variant="anonymous",cache_status=~"HIT|STALE|UPDATING|REVALIDATED"}[30s]))
  / sum(rate(cachectl_probes_total{route="` + article + `",variant="anonymous"}[30s]))`
	ttfbQuery = `histogram_quantile(0.9, sum by (le) (rate(cachectl_ttfb_seconds_bucket{route="` + article + `",variant="anonymous",cache_status="HIT"}[30s])))`
)

// testWatchScrapedByPrometheus: cachectl watch runs as a process against
// the production Varnish, Prometheus scrapes it, and PromQL finds the
// article's hit ratio and TTFB quantile and /dashboard's failed check;
// SIGTERM then stops watch with exit 0.
func testWatchScrapedByPrometheus(t *testing.T, stack *stacktest.Stack, session string) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(cachectlBin, "--config", stack.ConfigYAML(t), "--env", "production", "--log-level", "info",
		"watch", "--listen", addr, "--interval", "500ms", "--rate", "0")
	cmd.Env = []string{"CACHECTL_DEMO_SESSION=" + session}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			if err := cmd.Process.Kill(); err != nil {
				t.Errorf("kill watch: %v", err)
			}
			<-exited
		}
	})
	waitHealthy(t, "http://"+addr+"/healthz", exited)

	prom := prometheustest.Start(t, time.Second, addr)
	ratio := prom.WaitFor(t, hitRatioQuery, time.Minute, func(v float64) bool { return v > 0.5 && v <= 1 })
	ttfb := prom.WaitFor(t, ttfbQuery, time.Minute, func(v float64) bool { return v > 0 && v < 1 })
	t.Logf("%s: hit ratio %.2f, 90th percentile TTFB of hits %.1f ms", article, ratio, ttfb*1000)
	for q, want := range map[string]float64{
		`cachectl_check_success{route="/dashboard",variant="logged_in",check="cache"}`:                 0,
		`cachectl_finding_severity{route="/dashboard",variant="logged_in",finding="logged-in-cached"}`: 3,
		`cachectl_check_success{route="` + article + `",variant="anonymous",check="min_max_age"}`:      1,
		`count(count by (route) (cachectl_cache_status{env="production"}))`:                            5,
		`count(count by (variant) (cachectl_cache_status{env="production"}))`:                          2,
	} {
		prom.WaitFor(t, q, 30*time.Second, func(v float64) bool { return v == want })
	}
	if body := get(t, "http://"+addr+"/metrics"); strings.Contains(body, session) {
		t.Error("the session value appears in /metrics")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("watch did not stop within 15s of SIGTERM")
	}
	if waitErr != nil || !strings.Contains(stderr.String(), "msg=stopped") || strings.Contains(stderr.String(), session) {
		t.Errorf("after SIGTERM: %v, want exit 0 logging the stop and never the session; stderr:\n%s", waitErr, stderr.String())
	}
}

// waitHealthy polls url until it answers 200, for up to 30 seconds.
func waitHealthy(t *testing.T, url string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatal("watch exited before it was healthy")
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s: not healthy within 30s", url)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", url, resp.StatusCode)
	}
	return string(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(fmt.Errorf("pick a free port: %w", err))
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
