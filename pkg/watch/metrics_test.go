package watch

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cachectl/cachectl/internal/prometheustest"
	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
	"github.com/cachectl/cachectl/pkg/verify"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestMetrics(t *testing.T, serverTiming ...string) (*prometheus.Registry, *Metrics) {
	t.Helper()
	reg := NewRegistry(Build{Version: "v1.2.3", Commit: "abc123", GoVersion: "go1.26"})
	m, err := NewMetrics(reg, "production", serverTiming)
	if err != nil {
		t.Fatal(err)
	}
	m.AddRoutes([]string{"/a"}, []probe.Variant{probe.Anonymous})
	return reg, m
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return prometheustest.Samples(fams)
}

// series is the key of a cachectl series of route /a, anonymous, in production.
func series(name string, extra ...string) string {
	labels := map[string]string{"env": "production", "route": "/a", "variant": "anonymous"}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return prometheustest.Key(name, labels)
}

func answered(st cachestatus.Status, ttfbMs float64, age int64, header http.Header, findings ...finding.Finding) *probe.Result {
	timing, _ := servertiming.FromHeader(header, nil)
	return &probe.Result{
		Variant: probe.Anonymous, StatusCode: 200,
		Cache:  cachestatus.Result{Status: st, AgeS: &age},
		Timing: probe.Timing{TTFB: ttfbMs, Total: ttfbMs + 1}, Findings: findings, Header: header,
		ServerTiming: timing,
	}
}

// checkSeries compares the series named in want (a missing one is
// wanted absent, marked by absent) with got.
func checkSeries(t *testing.T, step string, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case w == absent && ok:
			t.Errorf("%s: %s = %v, want no such series", step, k, g)
		case w != absent && !ok:
			t.Errorf("%s: %s missing, want %v", step, k, w)
		case w != absent && g != w:
			t.Errorf("%s: %s = %v, want %v", step, k, g, w)
		}
	}
}

const absent = -1e9

// observation is one probe of /a and the series wanted after it.
type observation struct {
	step     string
	result   *probe.Result
	outcomes []verify.Outcome
	want     map[string]float64
}

// TestMetricsFollowTheLastProbe: gauges say what the last probe saw,
// counters add up, and what a probe did not report is zeroed or dropped.
func TestMetricsFollowTheLastProbe(t *testing.T) {
	reg, m := newTestMetrics(t, "db", "cdn-cache")
	for _, o := range []observation{hitObservation(), noResponseObservation(), {
		step:     "a MISS with a finding",
		result:   answered(cachestatus.MISS, 250, 0, http.Header{"Cache-Control": {"no-store"}}, finding.Finding{ID: "vary-cookie", Severity: finding.Warn}),
		outcomes: []verify.Outcome{{Check: "cache", Passed: true}, {Check: "min_max_age", Passed: false}},
		want:     map[string]float64{series("cachectl_finding_severity", "finding", "vary-cookie"): 2},
	}, {
		step:     "a MISS without",
		result:   answered(cachestatus.MISS, 260, 0, http.Header{}),
		outcomes: []verify.Outcome{{Check: "cache", Passed: true}, {Check: "min_max_age", Passed: true}},
		want: map[string]float64{
			series("cachectl_cache_status", "cache_status", "MISS"):         1,
			series("cachectl_cache_status", "cache_status", "HIT"):          0,
			series("cachectl_probes_total", "cache_status", "MISS"):         2,
			series("cachectl_ttfb_seconds_count", "cache_status", "MISS"):   2,
			series("cachectl_check_success", "check", "min_max_age"):        1,
			series("cachectl_check_success", "check", "reachable"):          1,
			series("cachectl_check_failures_total", "check", "min_max_age"): 2,
			series("cachectl_finding_severity", "finding", "vary-cookie"):   0,
			series("cachectl_shared_max_age_seconds"):                       0,
		},
	}} {
		m.Observe("/a", o.result, o.outcomes, now)
		checkSeries(t, o.step, gather(t, reg), o.want)
	}
}

func hitObservation() observation {
	h := http.Header{"Cache-Control": {"public, max-age=60, s-maxage=300"}, "Server-Timing": {"db;dur=3.5, app;dur=9"}}
	return observation{
		step:     "a HIT",
		result:   answered(cachestatus.HIT, 12, 40, h, finding.Finding{ID: "no-validator", Severity: finding.Info}),
		outcomes: []verify.Outcome{{Check: "cache", Passed: true}, {Check: "min_max_age", Passed: false}},
		want: map[string]float64{
			series("cachectl_cache_status", "cache_status", "HIT"):                        1,
			series("cachectl_cache_status", "cache_status", "MISS"):                       0,
			series("cachectl_probes_total", "cache_status", "HIT"):                        1,
			series("cachectl_probes_total", "cache_status", "MISS"):                       0,
			series("cachectl_probe_success"):                                              1,
			series("cachectl_probe_errors_total"):                                         0,
			series("cachectl_ttfb_seconds_count", "cache_status", "HIT"):                  1,
			series("cachectl_ttfb_seconds_bucket", "cache_status", "HIT", "le", "0.01"):   0,
			series("cachectl_ttfb_seconds_bucket", "cache_status", "HIT", "le", "0.025"):  1,
			series("cachectl_check_success", "check", "cache"):                            1,
			series("cachectl_check_success", "check", "min_max_age"):                      0,
			series("cachectl_check_success", "check", "reachable"):                        1,
			series("cachectl_check_failures_total", "check", "min_max_age"):               1,
			series("cachectl_check_failures_total", "check", "cache"):                     0,
			series("cachectl_finding_severity", "finding", "no-validator"):                1,
			series("cachectl_age_seconds"):                                                40,
			series("cachectl_shared_max_age_seconds"):                                     300,
			series("cachectl_server_timing_db_seconds"):                                   0.0035,
			series("cachectl_server_timing_cdn_cache_seconds"):                            absent,
			prometheustest.Key("cachectl_routes", map[string]string{"env": "production"}): 1,
		},
	}
}

// noResponseObservation follows a HIT: what the HIT said about the
// response is gone, and only reachable is judged.
func noResponseObservation() observation {
	return observation{
		step:     "no response",
		result:   &probe.Result{Variant: probe.Anonymous, Error: "connect: connection refused"},
		outcomes: []verify.Outcome{{Check: verify.CheckReachable, Passed: false}},
		want: map[string]float64{
			series("cachectl_cache_status", "cache_status", "HIT"):          0,
			series("cachectl_probes_total", "cache_status", "HIT"):          1,
			series("cachectl_probe_success"):                                0,
			series("cachectl_probe_errors_total"):                           1,
			series("cachectl_check_success", "check", "reachable"):          0,
			series("cachectl_check_failures_total", "check", "reachable"):   1,
			series("cachectl_check_success", "check", "cache"):              absent,
			series("cachectl_check_success", "check", "min_max_age"):        absent,
			series("cachectl_check_failures_total", "check", "min_max_age"): 1,
			series("cachectl_finding_severity", "finding", "no-validator"):  absent,
			series("cachectl_age_seconds"):                                  absent,
			series("cachectl_shared_max_age_seconds"):                       absent,
			series("cachectl_server_timing_db_seconds"):                     absent,
			series("cachectl_ttfb_seconds_count", "cache_status", "HIT"):    1,
		},
	}
}

// TestMetricsLint: every metric has help, and names and units follow
// Prometheus' conventions (promlint, as Prometheus' own exporters use).
func TestMetricsLint(t *testing.T) {
	reg, m := newTestMetrics(t, "db")
	h := http.Header{"Server-Timing": {"db;dur=1"}}
	m.Observe("/a", answered(cachestatus.HIT, 1, 1, h, finding.Finding{ID: "no-validator", Severity: finding.Info}), []verify.Outcome{{Check: "cache", Passed: true}}, now)
	m.RoundDone(now, now.Add(time.Second))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestServerTimingMetrics(t *testing.T) {
	got, err := ServerTimingMetrics([]string{"db", "cdn-cache", "cfRequestDuration", "DB"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"db": "cachectl_server_timing_db_seconds", "cdn-cache": "cachectl_server_timing_cdn_cache_seconds", "cfrequestduration": "cachectl_server_timing_cfrequestduration_seconds"}
	if len(got) != len(want) {
		t.Errorf("ServerTimingMetrics = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: metric %q, want %q", k, got[k], v)
		}
	}
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{[]string{"cdn-cache", "cdn_cache"}, `"cdn-cache" and "cdn_cache" both make cachectl_server_timing_cdn_cache_seconds`},
		{[]string{"1db"}, `"1db": expected a Server-Timing metric name`},
		{[]string{"db time"}, `"db time": expected`},
		{[]string{""}, `"": expected`},
		{[]string{strings.Repeat("a", 64)}, "at most 63"},
	} {
		if _, err := ServerTimingMetrics(tt.names); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ServerTimingMetrics(%q) error = %v, want %q", tt.names, err, tt.want)
		}
	}
}
