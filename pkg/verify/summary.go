package verify

import (
	"math"
	"slices"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
)

// SlowestKept is how many of the slowest probes a summary lists.
const SlowestKept = 5

// Summary totals a verify run from its records alone, so a run and the merge
// of its shards' outputs total the same. Its memory does not grow with the
// number of routes: TTFB percentiles come from a histogram with 1% buckets.
type Summary struct {
	Routes int `json:"routes"`
	Probes int `json:"probes"`
	Checks int `json:"checks"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	// FailedRoutes counts routes with at least one failed check.
	FailedRoutes int `json:"failed_routes"`
	// Errors counts probes that got no response (network, TLS, timeout).
	Errors    int     `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	// HitRatio is the share of answered probes served from a cache (HIT,
	// STALE, UPDATING, REVALIDATED).
	HitRatio float64        `json:"hit_ratio"`
	ByStatus map[string]int `json:"by_status"`
	// TTFB holds time-to-first-byte percentiles per cache status.
	TTFB map[string]Percentiles `json:"ttfb_ms"`
	// Slowest lists the probes with the longest TTFB, slowest first.
	Slowest []Slow `json:"slowest"`
	// ElapsedMS is the run's wall time; 0 for a merged report.
	ElapsedMS float64 `json:"elapsed_ms,omitempty"`

	hist        map[string]*histogram
	lastIndex   int
	lastVariant probe.Variant
	routeFailed bool
	started     bool
	hits        int
}

// Percentiles of one distribution, in milliseconds.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
}

// Slow is one slow probe.
type Slow struct {
	Route   string             `json:"route"`
	Variant probe.Variant      `json:"variant"`
	Cache   cachestatus.Status `json:"cache"`
	TTFBMs  float64            `json:"ttfb_ms"`
}

// Add counts one record. Records of one probe must arrive together, as Run
// and Merge deliver them.
func (s *Summary) Add(r Record) {
	if s.ByStatus == nil {
		s.ByStatus = map[string]int{}
		s.hist = map[string]*histogram{}
	}
	s.Checks++
	if r.Passed {
		s.Passed++
	} else {
		s.Failed++
	}
	newRoute := !s.started || r.Index != s.lastIndex
	if newRoute {
		s.Routes++
		s.routeFailed = false
	}
	if !r.Passed && !s.routeFailed {
		s.routeFailed = true
		s.FailedRoutes++
	}
	if newRoute || r.Variant != s.lastVariant {
		s.addProbe(r)
	}
	s.started, s.lastIndex, s.lastVariant = true, r.Index, r.Variant
}

func (s *Summary) addProbe(r Record) {
	s.Probes++
	p := r.Probe
	if p.Error != "" {
		s.Errors++
		return
	}
	st := string(p.Cache)
	s.ByStatus[st]++
	if servedFromCache(p.Cache) {
		s.hits++
	}
	h := s.hist[st]
	if h == nil {
		h = &histogram{}
		s.hist[st] = h
	}
	h.add(p.TTFBMs)
	s.addSlow(Slow{Route: r.Route, Variant: r.Variant, Cache: p.Cache, TTFBMs: p.TTFBMs})
}

func (s *Summary) addSlow(sl Slow) {
	if len(s.Slowest) == SlowestKept && sl.TTFBMs <= s.Slowest[len(s.Slowest)-1].TTFBMs {
		return
	}
	i, _ := slices.BinarySearchFunc(s.Slowest, sl.TTFBMs, func(e Slow, t float64) int {
		switch {
		case e.TTFBMs > t:
			return -1
		case e.TTFBMs < t:
			return 1
		}
		return -1 // equal: keep the earlier one first
	})
	s.Slowest = slices.Insert(s.Slowest, i, sl)
	if len(s.Slowest) > SlowestKept {
		s.Slowest = s.Slowest[:SlowestKept]
	}
}

// Finish computes the derived figures (rates, percentiles) from what was
// added; call it before reading them.
func (s *Summary) Finish() {
	if s.Probes > 0 {
		s.ErrorRate = round(float64(s.Errors)/float64(s.Probes), 4)
	}
	if answered := s.Probes - s.Errors; answered > 0 {
		s.HitRatio = round(float64(s.hits)/float64(answered), 4)
	}
	s.TTFB = make(map[string]Percentiles, len(s.hist))
	for st, h := range s.hist {
		s.TTFB[st] = Percentiles{Count: h.n, P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99)}
	}
}

// Result is the run's verdict under the exit-code contract.
type Result int

// Verdicts, in increasing severity.
const (
	// AllPassed: exit 0.
	AllPassed Result = iota
	// ChecksFailed: the run completed and a check failed; exit 1.
	ChecksFailed
	// Unreachable: some probe got no response (network, TLS, timeout), so
	// the run could not judge every route; exit 3, as inspect does.
	Unreachable
)

// Result returns the verdict.
func (s *Summary) Result() Result {
	switch {
	case s.Errors > 0:
		return Unreachable
	case s.Failed > 0:
		return ChecksFailed
	}
	return AllPassed
}

func servedFromCache(st cachestatus.Status) bool {
	switch st {
	case cachestatus.HIT, cachestatus.STALE, cachestatus.UPDATING, cachestatus.REVALIDATED:
		return true
	}
	return false
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// histogram buckets values by 1% steps on a log scale of microseconds,
// so quantiles are within 1% whatever the number of values.
type histogram struct {
	n       int
	buckets map[int]int
}

var logStep = math.Log(1.01)

func (h *histogram) add(ms float64) {
	if h.buckets == nil {
		h.buckets = map[int]int{}
	}
	h.n++
	h.buckets[int(math.Ceil(math.Log1p(max(ms, 0)*1000)/logStep))]++
}

// quantile returns the upper bound of the bucket holding the q-th value, in
// milliseconds rounded to 0.01.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	keys := make([]int, 0, len(h.buckets))
	for k := range h.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rank := int(math.Ceil(q * float64(h.n)))
	seen := 0
	for _, k := range keys {
		seen += h.buckets[k]
		if seen >= rank {
			return round(math.Expm1(float64(k)*logStep)/1000, 2)
		}
	}
	return 0
}
