package watch

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cachectl/cachectl/pkg/analyze"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

// Label names. Every value comes from the configuration or from cachectl's
// own vocabularies, never from a response: env is the --env environment,
// route the route as configured (a config path, a --routes line, a sampled
// sitemap path), variant anonymous or logged_in, cache_status one of the
// nine normalized statuses, check one of the route's configured checks, and
// finding one of analyze's finding ids.
const (
	LabelEnv         = "env"
	LabelRoute       = "route"
	LabelVariant     = "variant"
	LabelCacheStatus = "cache_status"
	LabelCheck       = "check"
	LabelFinding     = "finding"
)

// TTFBBuckets are the upper bounds, in seconds, of the TTFB histogram
// buckets: 5 ms to 10 s, where a cache hit and an origin render differ.
var TTFBBuckets = prometheus.DefBuckets

// Metrics are the series cachectl watch exports for one environment. Their
// number is bounded by the routes and the configuration: see the README's
// cardinality section.
type Metrics struct {
	cacheStatus     *prometheus.GaugeVec
	probes          *prometheus.CounterVec
	probeErrors     *prometheus.CounterVec
	probeSuccess    *prometheus.GaugeVec
	ttfb            *prometheus.HistogramVec
	checkSuccess    *prometheus.GaugeVec
	checkFailures   *prometheus.CounterVec
	findingSeverity *prometheus.GaugeVec
	age             *prometheus.GaugeVec
	sharedMaxAge    *prometheus.GaugeVec
	// serverTiming holds one gauge per watched Server-Timing name, by the
	// name lower-cased.
	serverTiming map[string]*prometheus.GaugeVec

	routes        prometheus.Gauge
	rounds        prometheus.Counter
	roundDuration prometheus.Gauge
	lastRound     prometheus.Gauge

	mu sync.Mutex
	// exported remembers, per route and variant, which check and finding
	// series exist, so a probe can zero or drop the ones it did not report.
	exported map[seriesKey]*exportedSeries
}

type seriesKey struct{ route, variant string }

type exportedSeries struct {
	checks   map[string]bool
	findings map[string]bool
}

// serverTimingName is what a Server-Timing metric name may be for cachectl
// to export it: a token of letters, digits, '-', '_' and '.', starting with
// a letter; maxServerTimingName bounds its length.
var serverTimingName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

const maxServerTimingName = 63

// ServerTimingMetrics maps each Server-Timing entry name to the metric
// cachectl exports it as: cachectl_server_timing_NAME_seconds, NAME
// lower-cased with '-' and '.' as '_'. A name that cannot make a metric,
// or two names that make the same one, is an error saying why.
func ServerTimingMetrics(names []string) (map[string]string, error) {
	metrics := map[string]string{}
	by := map[string]string{}
	for _, name := range names {
		if len(name) > maxServerTimingName || !serverTimingName.MatchString(name) {
			return nil, fmt.Errorf("%q: expected a Server-Timing metric name of letters, digits, '-', '_' or '.', starting with a letter (at most 63)", name)
		}
		n := strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToLower(name))
		metric := "cachectl_server_timing_" + n + "_seconds"
		if other, dup := by[metric]; dup && !strings.EqualFold(other, name) {
			return nil, fmt.Errorf("%q and %q both make %s (expected names that differ after lower-casing, with '-' and '.' as '_')", other, name, metric)
		}
		by[metric] = name
		metrics[strings.ToLower(name)] = metric
	}
	return metrics, nil
}

// NewMetrics registers the metrics of environment env with reg.
// serverTiming names the Server-Timing entries to export (see
// ServerTimingMetric); two names that make one metric are an error.
func NewMetrics(reg prometheus.Registerer, env string, serverTiming []string) (*Metrics, error) {
	c := prometheus.Labels{LabelEnv: env}
	rv := []string{LabelRoute, LabelVariant}
	with := func(extra string) []string { return []string{LabelRoute, LabelVariant, extra} }
	m := &Metrics{
		cacheStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cachectl_cache_status", ConstLabels: c,
			Help: "The normalized cache status of the route's last probe: 1 for that status, 0 for the others (all 0 when the probe got no response)."}, with(LabelCacheStatus)),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cachectl_probes_total", ConstLabels: c,
			Help: "Probes that got a response, by normalized cache status."}, with(LabelCacheStatus)),
		probeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cachectl_probe_errors_total", ConstLabels: c,
			Help: "Probes that got no response (network, TLS, timeout)."}, rv),
		probeSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cachectl_probe_success", ConstLabels: c,
			Help: "Whether the route's last probe got a response (1) or not (0)."}, rv),
		ttfb: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cachectl_ttfb_seconds", ConstLabels: c, Buckets: TTFBBuckets,
			Help: "Time to first byte of probes that got a response, by normalized cache status."}, with(LabelCacheStatus)),
		checkSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cachectl_check_success", ConstLabels: c,
			Help: "Whether the route's check passed (1) or failed (0) on its last probe; check is a configured expectation, reachable, or findings."}, with(LabelCheck)),
		checkFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cachectl_check_failures_total", ConstLabels: c,
			Help: "Probes on which the route's check failed."}, with(LabelCheck)),
		findingSeverity: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cachectl_finding_severity", ConstLabels: c,
			Help: "The severity of a finding on the route's last probe: 0 absent, 1 info, 2 warn, 3 error."}, with(LabelFinding)),
		age: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cachectl_age_seconds", ConstLabels: c,
			Help: "The Age header of the route's last response: how long the copy served has been in a cache (absent without one)."}, rv),
		sharedMaxAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cachectl_shared_max_age_seconds", ConstLabels: c,
			Help: "The shared-cache lifetime of the route's last response (CDN-Cache-Control or Surrogate-Control, s-maxage, max-age, Expires)."}, rv),
		routes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cachectl_routes", ConstLabels: c,
			Help: "Routes watched."}),
		rounds: prometheus.NewCounter(prometheus.CounterOpts{Name: "cachectl_rounds_total", ConstLabels: c,
			Help: "Rounds completed: every route and variant probed once."}),
		roundDuration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cachectl_round_duration_seconds", ConstLabels: c,
			Help: "How long the last completed round took."}),
		lastRound: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cachectl_last_round_timestamp_seconds", ConstLabels: c,
			Help: "When the last round completed, in seconds since the Unix epoch."}),
		serverTiming: map[string]*prometheus.GaugeVec{},
		exported:     map[seriesKey]*exportedSeries{},
	}
	if err := m.addServerTiming(c, rv, serverTiming); err != nil {
		return nil, err
	}
	for _, col := range m.collectors() {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("watch: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) addServerTiming(c prometheus.Labels, labels, names []string) error {
	metrics, err := ServerTimingMetrics(names)
	if err != nil {
		return err
	}
	for name, metric := range metrics {
		m.serverTiming[name] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metric, ConstLabels: c,
			Help: fmt.Sprintf("The dur of the route's last Server-Timing entry named %q (absent without one).", name)}, labels)
	}
	return nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{
		m.cacheStatus, m.probes, m.probeErrors, m.probeSuccess, m.ttfb, m.checkSuccess, m.checkFailures,
		m.findingSeverity, m.age, m.sharedMaxAge, m.routes, m.rounds, m.roundDuration, m.lastRound,
	}
	for _, g := range m.serverTiming {
		cs = append(cs, g)
	}
	return cs
}

// AddRoutes creates the series every route and variant has from the start
// (cache statuses at 0, probe counters at 0), so a first increase shows in
// rate(), and sets cachectl_routes.
func (m *Metrics) AddRoutes(routes []string, variants []probe.Variant) {
	m.routes.Set(float64(len(routes)))
	for _, r := range routes {
		for _, v := range variants {
			for _, st := range cachestatus.All() {
				m.cacheStatus.WithLabelValues(r, string(v), string(st)).Set(0)
				m.probes.WithLabelValues(r, string(v), string(st))
			}
			m.probeErrors.WithLabelValues(r, string(v))
		}
	}
}

// RoundDone records a completed round that started at start and ended at end.
func (m *Metrics) RoundDone(start, end time.Time) {
	m.rounds.Inc()
	m.roundDuration.Set(end.Sub(start).Seconds())
	m.lastRound.Set(float64(end.UnixNano()) / 1e9)
}

// Observe records one probe of route and the outcomes of its checks.
func (m *Metrics) Observe(route string, r *probe.Result, outcomes []verify.Outcome, now time.Time) {
	v := string(r.Variant)
	m.mu.Lock()
	defer m.mu.Unlock()
	ex := m.series(route, v)
	m.observeChecks(route, v, ex, outcomes, r.Error != "")
	if r.Error != "" {
		m.observeError(route, v, ex)
		return
	}
	st := r.Cache.Status
	if !st.Valid() {
		st = cachestatus.UNKNOWN
	}
	for _, s := range cachestatus.All() {
		m.cacheStatus.WithLabelValues(route, v, string(s)).Set(boolValue(s == st))
	}
	m.probes.WithLabelValues(route, v, string(st)).Inc()
	m.probeSuccess.WithLabelValues(route, v).Set(1)
	m.ttfb.WithLabelValues(route, v, string(st)).Observe(r.Timing.TTFB / 1000)
	m.observeFindings(route, v, ex, r)
	m.observeAges(route, v, r, now)
}

func (m *Metrics) series(route, variant string) *exportedSeries {
	k := seriesKey{route, variant}
	ex := m.exported[k]
	if ex == nil {
		ex = &exportedSeries{checks: map[string]bool{}, findings: map[string]bool{}}
		m.exported[k] = ex
	}
	return ex
}

// observeChecks sets each reported check's gauge and counts its failures.
// A probe that got no response reports only the reachable check: the
// route's other checks could not be judged, so their gauges are dropped
// until a response judges them again.
func (m *Metrics) observeChecks(route, v string, ex *exportedSeries, outcomes []verify.Outcome, unreachable bool) {
	reported := map[string]bool{}
	for _, o := range outcomes {
		reported[o.Check] = true
		ex.checks[o.Check] = true
		m.checkSuccess.WithLabelValues(route, v, o.Check).Set(boolValue(o.Passed))
		c := m.checkFailures.WithLabelValues(route, v, o.Check)
		if !o.Passed {
			c.Inc()
		}
	}
	if !unreachable {
		reported[verify.CheckReachable] = true
		ex.checks[verify.CheckReachable] = true
		m.checkSuccess.WithLabelValues(route, v, verify.CheckReachable).Set(1)
		m.checkFailures.WithLabelValues(route, v, verify.CheckReachable)
	}
	for name := range ex.checks {
		if !reported[name] {
			m.checkSuccess.DeleteLabelValues(route, v, name)
		}
	}
}

// observeError records a probe that got no response: what the last probe
// said about the response no longer holds.
func (m *Metrics) observeError(route, v string, ex *exportedSeries) {
	m.probeErrors.WithLabelValues(route, v).Inc()
	m.probeSuccess.WithLabelValues(route, v).Set(0)
	for _, s := range cachestatus.All() {
		m.cacheStatus.WithLabelValues(route, v, string(s)).Set(0)
	}
	for id := range ex.findings {
		m.findingSeverity.DeleteLabelValues(route, v, id)
	}
	clear(ex.findings)
	m.age.DeleteLabelValues(route, v)
	m.sharedMaxAge.DeleteLabelValues(route, v)
	for _, g := range m.serverTiming {
		g.DeleteLabelValues(route, v)
	}
}

// observeFindings sets the severity of each finding of the probe; findings
// an earlier probe of the route reported and this one did not go to 0.
func (m *Metrics) observeFindings(route, v string, ex *exportedSeries, r *probe.Result) {
	now := map[string]int{}
	for _, f := range r.Findings {
		now[f.ID] = max(now[f.ID], f.Severity.Rank())
	}
	for id := range ex.findings {
		if _, ok := now[id]; !ok {
			m.findingSeverity.WithLabelValues(route, v, id).Set(0)
		}
	}
	for id, rank := range now {
		ex.findings[id] = true
		m.findingSeverity.WithLabelValues(route, v, id).Set(float64(rank))
	}
}

// observeAges sets the Age, shared max-age and Server-Timing gauges; one
// the response does not state is dropped rather than left at an old value.
func (m *Metrics) observeAges(route, v string, r *probe.Result, now time.Time) {
	if r.Cache.AgeS != nil {
		m.age.WithLabelValues(route, v).Set(float64(*r.Cache.AgeS))
	} else {
		m.age.DeleteLabelValues(route, v)
	}
	m.sharedMaxAge.WithLabelValues(route, v).Set(float64(analyze.SharedFreshness(r.Header, now).TTLSeconds))
	for name, g := range m.serverTiming {
		if e, ok := r.ServerTiming.Lookup(name); ok && e.Dur != nil {
			g.WithLabelValues(route, v).Set(*e.Dur / 1000)
		} else {
			g.DeleteLabelValues(route, v)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
