package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/stale"
)

// staleFixture is one run as the stale writers see it: an edited article
// (etag), the home page confirmed by a 304, a page whose time stamp an
// ignore pattern removed, a page the edge had not cached, a tag page whose
// body changed, a large file decided by its storage time, a page too large
// to compare behind an edge without a cache-status header, and an origin
// that could not be reached.
func staleFixture() ([]stale.Result, StaleSummary) {
	age := func(n int64) *int64 { return &n }
	varnish := func(s cachestatus.Status, a int64) cachestatus.Result {
		return cachestatus.Result{Status: s, Source: "X-Cache", Raw: string(s), Layers: []cachestatus.Layer{{Status: s}}, AgeS: age(a), CDN: "varnish"}
	}
	const base = "https://www.example.com"
	recs := []stale.Result{
		{URL: base + "/articles/caching", Stale: true, Reason: string(stale.ETagDiffers),
			Edge:   stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.HIT, 120), ETag: `"v1"`, LastModified: "Mon, 01 Sep 2025 08:00:00 GMT", BodySHA256: "3f1c9a2b7d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef", AgeS: age(120)},
			Origin: stale.Origin{StatusCode: 200, ETag: `"v2"`, LastModified: "Tue, 30 Sep 2025 08:00:00 GMT", BodySHA256: "9a8b7c6d5e4f30211203f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f"}},
		{URL: base + "/", Reason: string(stale.NotModified),
			Edge:   stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.HIT, 30), ETag: `"h7"`, BodySHA256: "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899", AgeS: age(30)},
			Origin: stale.Origin{StatusCode: 304, ETag: `"h7"`}},
		{URL: base + "/now", Reason: string(stale.BodyMatches),
			Edge:    stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.HIT, 12), BodySHA256: "5555666677778888999900001111222233334444555566667777888899990000", AgeS: age(12)},
			Origin:  stale.Origin{StatusCode: 200, BodySHA256: "5555666677778888999900001111222233334444555566667777888899990000"},
			Ignored: []stale.Ignored{{Index: 0, Pattern: `<span class="rendered">[^<]*</span>`, Edge: 1, Origin: 1}}},
		{URL: base + "/feed.xml", Reason: string(stale.NotCached),
			Edge: stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.MISS, 0), AgeS: age(0)}},
		{URL: base + "/tags/go", Stale: true, Reason: string(stale.BodyDiffers),
			Edge:   stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.HIT, 300), BodySHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", AgeS: age(300)},
			Origin: stale.Origin{StatusCode: 200, BodySHA256: "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"}},
		{URL: base + "/files/report.pdf", Stale: true, Reason: string(stale.StoredBeforeModified),
			Edge:   stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.HIT, 86400), NotComparable: "body over 8388608 bytes", AgeS: age(86400), StoredAt: "2025-09-29T08:00:00Z"},
			Origin: stale.Origin{StatusCode: 200, LastModified: "Tue, 30 Sep 2025 08:00:00 GMT", NotComparable: "body over 8388608 bytes"}},
		{URL: base + "/archive", Reason: string(stale.NotComparable) + stale.UnknownStatusNote,
			Edge:   stale.Edge{StatusCode: 200, Cache: cachestatus.Result{Status: cachestatus.UNKNOWN, Layers: []cachestatus.Layer{}}, NotComparable: "content-encoding not decoded: br"},
			Origin: stale.Origin{StatusCode: 200, NotComparable: "content-encoding not decoded: br"}},
		{URL: base + "/articles/down", Error: "origin: connection refused (is the origin up? nothing answered at 10.0.0.7:8000)",
			Edge: stale.Edge{StatusCode: 200, Cache: varnish(cachestatus.HIT, 5), BodySHA256: "1111111111111111111111111111111111111111111111111111111111111111", AgeS: age(5)}},
	}
	var sum StaleSummary
	for _, r := range recs {
		sum.Add(r)
	}
	sum.ElapsedMS = 1234.5
	return recs, sum
}

func writeStale(t *testing.T, f Format, style Style) []byte {
	t.Helper()
	var b bytes.Buffer
	recs, sum := staleFixture()
	w, err := NewStaleWriter(f, &b, StaleOptions{Style: style, Env: "production", URLWidth: len(recs[5].URL)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Result(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(sum); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStaleGolden writes the fixture in the formats purge writes, one golden
// file each.
func TestStaleGolden(t *testing.T) {
	for _, tc := range purgeFormats {
		t.Run(tc.suffix, func(t *testing.T) {
			golden.Check(t, "stale_"+tc.suffix, writeStale(t, tc.f, tc.style))
		})
	}
}

func TestStaleSummaryCounts(t *testing.T) {
	_, sum := staleFixture()
	if sum.URLs != 8 || sum.Stale != 3 || sum.Errors != 1 || sum.ByReason[string(stale.NotCached)] != 1 || len(sum.ByReason) != 7 {
		t.Errorf("summary = %+v, want 8 URLs, 3 stale, 1 error and 7 reasons", sum)
	}
}

// TestStaleJSONLContract pins the fields scripts rely on: one object per
// URL with url, stale, reason, edge{status_code, cache{status}, etag,
// last_modified, body_sha256, age_s}, origin{status_code, etag,
// last_modified, body_sha256} and error when there is one.
func TestStaleJSONLContract(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(string(writeStale(t, JSONL, Style{}))), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines, want one per URL (8)", len(lines))
	}
	var first, last struct {
		URL    string `json:"url"`
		Stale  *bool  `json:"stale"`
		Reason string `json:"reason"`
		Edge   struct {
			StatusCode   int                     `json:"status_code"`
			Cache        struct{ Status string } `json:"cache"`
			ETag         string                  `json:"etag"`
			LastModified string                  `json:"last_modified"`
			BodySHA256   string                  `json:"body_sha256"`
			AgeS         *int64                  `json:"age_s"`
		} `json:"edge"`
		Origin struct {
			StatusCode   int    `json:"status_code"`
			ETag         string `json:"etag"`
			LastModified string `json:"last_modified"`
			BodySHA256   string `json:"body_sha256"`
		} `json:"origin"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[7]), &last); err != nil {
		t.Fatal(err)
	}
	e, o := first.Edge, first.Origin
	if first.URL != "https://www.example.com/articles/caching" || first.Stale == nil || !*first.Stale || first.Reason != "etag differs" ||
		e.StatusCode != 200 || e.Cache.Status != "HIT" || e.ETag != `"v1"` || e.LastModified == "" || len(e.BodySHA256) != 64 || e.AgeS == nil || *e.AgeS != 120 ||
		o.StatusCode != 200 || o.ETag != `"v2"` || o.LastModified == "" || len(o.BodySHA256) != 64 {
		t.Errorf("first line lacks a contract field: %s", lines[0])
	}
	if last.Error == "" || last.Stale == nil || *last.Stale {
		t.Errorf("last line: want error set and stale false: %s", lines[7])
	}
}
