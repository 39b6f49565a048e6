package verify

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
)

// TestObserve: each variant's probes (cold, then warm) become the
// expectations they satisfy, and the last probe passes every check those
// expectations compile to.
func TestObserve(t *testing.T) {
	dashboard := response(200, cachestatus.HIT, 0.8, "Cache-Control", "public, max-age=120", "X-Cache", "HIT")
	dashboard.Findings = []finding.Finding{{ID: "logged-in-cached", Severity: finding.Error, Message: "served from a shared cache"}, {ID: "no-validator", Severity: finding.Info}}
	unknown := response(200, cachestatus.UNKNOWN, 1, "Cache-Control", "public, max-age=60")
	unknown.Cache = cachestatus.Result{Status: cachestatus.UNKNOWN}
	tests := []struct {
		name     string
		probes   []*probe.Result
		want     config.Expectation
		warnings []string
	}{
		{"cached page, MISS then HIT", []*probe.Result{
			response(200, cachestatus.MISS, 9, "Cache-Control", "public, max-age=600"),
			response(200, cachestatus.HIT, 1, "Cache-Control", "public, max-age=600"),
		}, config.Expectation{Status: ptr(200), Cache: CachedFamily, MinMaxAge: ptr(int64(600)), MaxMaxAge: ptr(int64(600)), FailOnFindings: "error"}, nil},
		{"s-maxage wins", []*probe.Result{
			response(200, cachestatus.HIT, 1, "Cache-Control", "public, max-age=60, s-maxage=3600"),
		}, config.Expectation{Status: ptr(200), Cache: CachedFamily, MinMaxAge: ptr(int64(3600)), MaxMaxAge: ptr(int64(3600)), FailOnFindings: "error"}, nil},
		{"private page passed to the origin", []*probe.Result{
			response(200, cachestatus.MISS, 9, "Cache-Control", "private, no-cache"),
			response(200, cachestatus.MISS, 9, "Cache-Control", "private, no-cache"),
		}, config.Expectation{Status: ptr(200), Cache: UncachedFamily, Private: ptr(true), FailOnFindings: "error"}, nil},
		{"no-store", []*probe.Result{
			response(200, cachestatus.BYPASS, 2, "Cache-Control", "no-store"),
		}, config.Expectation{Status: ptr(200), Cache: UncachedFamily, NoStore: ptr(true), FailOnFindings: "error"}, nil},
		{"max-age=0 allows no lifetime", []*probe.Result{
			response(200, cachestatus.MISS, 2, "Cache-Control", "public, max-age=0"),
		}, config.Expectation{Status: ptr(200), Cache: UncachedFamily, MaxMaxAge: ptr(int64(0)), FailOnFindings: "error"}, nil},
		{"Expires sets no bound", []*probe.Result{
			response(301, cachestatus.HIT, 1, "Expires", "Fri, 14 Mar 2025 10:00:00 GMT", "Date", "Fri, 14 Mar 2025 09:00:00 GMT"),
		}, config.Expectation{Status: ptr(301), Cache: CachedFamily, FailOnFindings: "error"}, nil},
		{"a leak is recorded, with a warning and without the findings check", []*probe.Result{dashboard},
			config.Expectation{Status: ptr(200), Cache: CachedFamily, MinMaxAge: ptr(int64(120)), MaxMaxAge: ptr(int64(120))},
			[]string{"logged-in-cached: served from a shared cache"}},
		{"no cache header: no cache expectation", []*probe.Result{unknown},
			config.Expectation{Status: ptr(200), MinMaxAge: ptr(int64(60)), MaxMaxAge: ptr(int64(60)), FailOnFindings: "error"},
			[]string{"no cache status header was recognized: name the site's own with cache_headers to check the cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probes := make([]probe.Result, len(tt.probes))
			for i, p := range tt.probes {
				probes[i] = *p
			}
			o := Observe(probes, testNow)
			if !reflect.DeepEqual(*o.Expect, tt.want) {
				t.Errorf("expectation\n got %+v\nwant %+v", *o.Expect, tt.want)
			}
			if !reflect.DeepEqual(o.Warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", o.Warnings, tt.warnings)
			}
			cl, err := Compile(o.Expect)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range cl.Evaluate(&probes[len(probes)-1], testNow) {
				if !out.Passed {
					t.Errorf("the probe it was recorded from fails %s: expected %s, got %s", out.Check, out.Expected, out.Actual)
				}
			}
			if !strings.Contains(o.Summary, tt.probes[len(tt.probes)-1].CacheControl) {
				t.Errorf("summary %q does not say what Cache-Control was seen", o.Summary)
			}
		})
	}
}
