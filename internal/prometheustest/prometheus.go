// Package prometheustest runs a real Prometheus (Debian's prometheus
// package) for integration tests, and reads metrics the way Prometheus does.
//
// The server listens on loopback only, scrapes only the 127.0.0.1 targets a
// test names, keeps its data in the test's temporary directory, and has
// nothing that reaches out: no remote write or read, no Alertmanager, no
// service discovery, and neither the admin, lifecycle nor remote-write
// receiver endpoints. Without the prometheus binary a test is skipped with
// the install command; with CI=true it fails instead, so a CI job cannot
// pass by skipping.
package prometheustest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a running Prometheus.
type Server struct {
	// URL is its HTTP API's base, http://127.0.0.1:PORT.
	URL    string
	log    string
	cmd    *exec.Cmd
	exited chan error
}

// Start runs Prometheus scraping targets (host:port, all on 127.0.0.1)
// every interval, and stops it when t ends. Start it once per test package:
// it takes a few seconds.
func Start(t testing.TB, interval time.Duration, targets ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheustest: prometheus is not installed (CI): apt-get install prometheus")
		}
		t.Skip("prometheustest: prometheus is not installed; install with: sudo apt-get install prometheus")
	}
	for _, target := range targets {
		if host, _, err := net.SplitHostPort(target); err != nil || host != "127.0.0.1" {
			t.Fatalf("prometheustest: target %q: expected 127.0.0.1:PORT (tests scrape loopback only)", target)
		}
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config(interval, targets)), 0o600); err != nil {
		t.Fatalf("prometheustest: %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("prometheustest: %v", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), log: filepath.Join(dir, "prometheus.log"), exited: make(chan error, 1)}
	logFile, err := os.Create(s.log)
	if err != nil {
		t.Fatalf("prometheustest: %v", err)
	}
	t.Cleanup(func() { _ = logFile.Close() })
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=1h",
		"--web.cors.origin=http://127\\.0\\.0\\.1",
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("prometheustest: start: %v", err)
	}
	s.cmd = cmd
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	s.waitReady(t)
	return s
}

// config is a scrape configuration with one job and nothing else.
func config(interval time.Duration, targets []string) string {
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = strconv.Quote(tg)
	}
	return fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: 1m
scrape_configs:
  - job_name: cachectl
    metrics_path: /metrics
    scheme: http
    static_configs:
      - targets: [%s]
`, promDuration(interval), promDuration(interval), strings.Join(quoted, ", "))
}

// promDuration writes a duration as Prometheus reads one: whole milliseconds.
func promDuration(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// waitReady waits up to a minute for /-/ready.
func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if code, _, err := s.get(t.Context(), "/-/ready"); err == nil && code == http.StatusOK {
			return
		}
		select {
		case err := <-s.exited:
			s.exited <- err // for stop
			t.Fatalf("prometheustest: prometheus exited (%v) before it was ready; log:\n%s", err, s.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("prometheustest: not ready within a minute; log:\n%s", s.tail())
}

// stop sends SIGTERM, waits for a clean exit and kills after 20 seconds.
func (s *Server) stop(t testing.TB) {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("prometheustest: stop: %v", err)
	}
	select {
	case err := <-s.exited:
		if err != nil && !t.Failed() {
			t.Errorf("prometheustest: prometheus exited with %v; log:\n%s", err, s.tail())
		}
	case <-time.After(20 * time.Second):
		if err := s.cmd.Process.Kill(); err != nil {
			t.Errorf("prometheustest: kill: %v", err)
		}
		<-s.exited
		t.Errorf("prometheustest: prometheus did not stop within 20s of SIGTERM")
	}
	if t.Failed() {
		t.Logf("prometheustest: log:\n%s", s.tail())
	}
}

func (s *Server) tail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

func (s *Server) get(ctx context.Context, path string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, body, err
}

// Sample is one series of an instant query's answer.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL query through the HTTP API.
func (s *Server) Query(ctx context.Context, promql string) ([]Sample, error) {
	code, body, err := s.get(ctx, "/api/v1/query?query="+url.QueryEscape(promql))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", promql, err)
	}
	var doc struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("query %s: status %d: %w: %s", promql, code, err, body)
	}
	if doc.Status != "success" || doc.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: %s %s (result type %q)", promql, doc.Status, doc.Error, doc.Data.ResultType)
	}
	out := make([]Sample, 0, len(doc.Data.Result))
	for _, r := range doc.Data.Result {
		str, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %s: value %v is not a string", promql, r.Value[1])
		}
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %q: %w", promql, str, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// WaitFor runs promql until it answers exactly one sample for which ok
// holds, and returns its value; t fails when that does not happen within
// timeout.
func (s *Server) WaitFor(t testing.TB, promql string, timeout time.Duration, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		samples, err := s.Query(t.Context(), promql)
		switch {
		case err != nil:
			last = err.Error()
		case len(samples) == 1 && ok(samples[0].Value):
			return samples[0].Value
		default:
			last = fmt.Sprintf("%d sample(s): %v", len(samples), samples)
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheustest: %s: no acceptable answer within %s; last: %s", promql, timeout, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
