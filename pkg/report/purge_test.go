package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
)

// purgeFixture is one run as the purge writers see it: URLs purged and
// verified (one of them still cached, one warm again), a --variants
// addition, a tag with the API's estimate of its completion, a failed
// batch and a target skipped after it; the API took fewer URLs a request
// than planned.
func purgeFixture() ([]purge.Record, purge.Summary) {
	warm := int64(1500)
	recs := []purge.Record{
		{Target: "https://www.example.com/articles/caching", Kind: purge.KindURL, State: purge.Purged, Batch: 1,
			PurgeID: "9d1c2a", Attempts: 1, Owner: "web-team",
			Verify: &purge.VerifyRecord{Cache: purge.VerifyCache{Status: cachestatus.MISS, Source: "cf-cache-status"}, Passed: true, WarmMS: &warm}},
		{Target: "https://www.example.com/articles/caching?amp=1", Kind: purge.KindURL, State: purge.Purged, Batch: 1,
			PurgeID: "9d1c2a", Attempts: 1, VariantOf: "https://www.example.com/articles/caching",
			Verify: &purge.VerifyRecord{Cache: purge.VerifyCache{Status: cachestatus.HIT, Source: "cf-cache-status"}, Error: "still served from cache after 3 probes"}},
		{Target: "articles", Kind: purge.KindTag, State: purge.Purged, Batch: 2, PurgeID: "77ab03", Attempts: 2, EstimatedSeconds: 5},
		{Target: "https://www.example.com/", Kind: purge.KindURL, State: purge.Failed, Batch: 3, Attempts: 4,
			Error: "cloudflare: purge batch 3 of 4: 503 Service Unavailable"},
		{Target: "https://www.example.com/about", Kind: purge.KindURL, State: purge.Skipped, Batch: 4,
			Error: "not sent: the run was interrupted"},
	}
	sum := purge.Summary{RunID: "20250314T092653Z-a1b2c3", Environment: "production", Provider: "cloudflare",
		Purged: 3, Failed: 1, Skipped: 1, APICalls: 7, Retries: 4, ElapsedMS: 2345, VerifyFailed: 1,
		BatchLimits: map[purge.Kind]int{purge.KindURL: 30}}
	return recs, sum
}

func writePurge(t *testing.T, f Format, style Style) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewPurgeWriter(f, &b, style)
	if err != nil {
		t.Fatal(err)
	}
	recs, sum := purgeFixture()
	for _, r := range recs {
		if err := w.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(sum); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// purgeFormats are the formats purge and purge log write, one golden file each.
var purgeFormats = []struct {
	suffix string
	f      Format
	style  Style
}{
	{"table", Table, Style{}},
	{"table_color", Table, Style{Color: true}},
	{"json", JSON, Style{}},
	{"jsonl", JSONL, Style{}},
}

func TestPurgeGolden(t *testing.T) {
	for _, tc := range purgeFormats {
		t.Run(tc.suffix, func(t *testing.T) {
			golden.Check(t, "purge_"+tc.suffix, writePurge(t, tc.f, tc.style))
		})
	}
}

// purgeLogFixture is `purge log` over three runs, most recent first: a
// resumed run, one that failed part-way and a dry run.
func purgeLogFixture() []purge.RunSummary {
	at := func(min int) time.Time { return time.Date(2025, 3, 14, 9, min, 0, 0, time.UTC) }
	return []purge.RunSummary{
		{RunInfo: purge.RunInfo{ID: "20250314T094000Z-c3d4e5", Time: at(40), Environment: "production", Provider: "cloudflare",
			Reason: "article update", User: "ana"}, Targets: 12, Purged: 12, Resumes: 1, Status: "complete"},
		{RunInfo: purge.RunInfo{ID: "20250314T092653Z-a1b2c3", Time: at(26), Environment: "production", Provider: "cloudflare",
			User: "ana"}, Targets: 5, Purged: 3, Failed: 1, Pending: 2, Status: "incomplete"},
		{RunInfo: purge.RunInfo{ID: "20250314T090500Z-0f0e0d", Time: at(5), Environment: "staging", Provider: "http-purge",
			Reason: "try the list first", User: "ben", DryRun: true}, Targets: 40, Status: "dry-run"},
	}
}

func TestPurgeLogGolden(t *testing.T) {
	for _, tc := range purgeFormats {
		t.Run(tc.suffix, func(t *testing.T) {
			var b bytes.Buffer
			if err := WritePurgeLog(tc.f, &b, tc.style, purgeLogFixture()); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "purge_log_"+tc.suffix, b.Bytes())
		})
	}
}

// TestPurgeJSONStreamsOneDocument: the JSON writer prints each record as
// it comes and still writes the document an encoder writes for the whole
// run at once, with no records as with some.
func TestPurgeJSONStreamsOneDocument(t *testing.T) {
	recs, sum := purgeFixture()
	for _, n := range []int{0, 1, len(recs)} {
		var got, want bytes.Buffer
		w, err := NewPurgeWriter(JSON, &got, Style{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[:n] {
			if err := w.Record(r); err != nil {
				t.Fatal(err)
			}
		}
		if n > 0 && !bytes.Contains(got.Bytes(), []byte(recs[0].Target)) {
			t.Errorf("%d records: the first was not written when it came", n)
		}
		if err := w.Close(sum); err != nil {
			t.Fatal(err)
		}
		enc := newEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Targets []purge.Record `json:"targets"`
			Summary purge.Summary  `json:"summary"`
		}{append([]purge.Record{}, recs[:n]...), sum}); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d records:\n got %s\nwant %s", n, got.String(), want.String())
		}
	}
}
