package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/measure"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

const popular = "http://127.0.0.1:16081/popular"

// measuredRun builds a run from TTFBs; db, when given, is each sample's
// database time (cold samples only: warm ones carry the CDN's metrics).
func measuredRun(u string, st measure.State, ttfbs, db []float64) measure.Run {
	r := measure.Run{URL: u, Variant: probe.Anonymous, State: st}
	status := cachestatus.MISS
	if st == measure.Warm {
		status = cachestatus.HIT
	}
	for i, v := range ttfbs {
		s := measure.Sample{TTFBMs: v, TotalMs: v + 0.4, StatusCode: 200, CacheStatus: status}
		if i < len(db) {
			s.ServerTiming = servertiming.Set{
				"db":  {Dur: ms(db[i]), Desc: "2 queries", Part: servertiming.Database},
				"app": {Dur: ms(db[i] + 1.5), Part: servertiming.Origin},
			}
		}
		r.Samples = append(r.Samples, s)
	}
	r.Summarize()
	return r
}

// beforeFix is a measurement of a route with a missing index: slow cold,
// fast warm; /health never reaches a warm state (no-store).
func beforeFix() *measure.Document {
	health := measure.Run{URL: "http://127.0.0.1:16081/health", Variant: probe.Anonymous, State: measure.Warm,
		Discarded: 8, DiscardedBy: map[string]int{"MISS": 8}, Samples: []measure.Sample{}}
	health.Summarize()
	return &measure.Document{
		FormatVersion: measure.FormatVersion,
		Started:       time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		Machine:       measure.Machine{Hostname: "ci-runner-7", OS: "linux", Arch: "amd64", CPUs: 2, Go: "go1.26.8", Cachectl: "v1.4.0"},
		Env:           "production", Samples: 4, Bust: "query",
		Runs: []measure.Run{
			measuredRun(popular, measure.Cold, []float64{41.2, 38.9, 44.7, 39.5}, []float64{35.1, 33.0, 38.2, 33.6}),
			measuredRun(popular, measure.Warm, []float64{0.42, 0.39, 0.61, 0.4}, nil),
			health,
		},
	}
}

// afterFix is the same measurement with the index back.
func afterFix() *measure.Document {
	d := beforeFix()
	d.Started = d.Started.Add(10 * time.Minute)
	d.Runs[0] = measuredRun(popular, measure.Cold, []float64{4.1, 3.8, 4.4, 3.9}, []float64{0.31, 0.28, 0.35, 0.3})
	d.Runs[1] = measuredRun(popular, measure.Warm, []float64{0.41, 0.44, 0.38, 0.4}, nil)
	return d
}

func writeMeasure(t *testing.T, f Format, style Style) []byte {
	t.Helper()
	var buf bytes.Buffer
	doc := beforeFix()
	w, err := NewMeasureWriter(f, &buf, MeasureOptions{Style: style, URLWidth: len(popular), Samples: doc.Samples})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Runs {
		if err := w.Run(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(doc, 2345.6); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMeasureGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     Format
		style Style
	}{
		{"measure_table", Table, Style{}},
		{"measure_table_color", Table, Style{Color: true}},
		{"measure_json", JSON, Style{}},
		{"measure_jsonl", JSONL, Style{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, writeMeasure(t, tc.f, tc.style))
		})
	}
}

// TestMeasureJSONContract checks the names compare and scripts rely on,
// and that the JSON document reads back as it was.
func TestMeasureJSONContract(t *testing.T) {
	out := writeMeasure(t, JSON, Style{})
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"runs", "machine", "started", "format_version"} {
		if _, ok := m[k]; !ok {
			t.Errorf("document lacks %q", k)
		}
	}
	run := m["runs"].([]any)[0].(map[string]any)
	for _, k := range []string{"url", "variant", "state", "samples", "discarded", "summary"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run lacks %q", k)
		}
	}
	sample := run["samples"].([]any)[0].(map[string]any)
	for _, k := range []string{"ttfb_ms", "total_ms", "status_code", "cache_status", "server_timing"} {
		if _, ok := sample[k]; !ok {
			t.Errorf("sample lacks %q", k)
		}
	}
	if db := sample["server_timing"].(map[string]any)["db"].(map[string]any); db["dur"] != 35.1 || db["desc"] != "2 queries" {
		t.Errorf("server_timing.db = %v, want dur and desc", db)
	}
	summary := run["summary"].(map[string]any)["ttfb_ms"].(map[string]any)
	for _, k := range []string{"median", "p95", "min", "max"} {
		if _, ok := summary[k]; !ok {
			t.Errorf("summary.ttfb_ms lacks %q", k)
		}
	}
	doc, err := measure.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("compare cannot read measure's JSON: %v", err)
	}
	if len(doc.Runs) != 3 || doc.Runs[0].Samples[2].TTFBMs != 44.7 {
		t.Errorf("read back %+v", doc.Runs)
	}
}

func writeCompare(t *testing.T, f Format, style Style, old, new *measure.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	c := measure.Compare(old, new, measure.DefaultCompareOptions)
	err := WriteComparison(f, &buf, c, CompareOptions{
		Style: style,
		Old:   CompareSide{File: "before.json", Started: old.Started, Machine: old.Machine},
		New:   CompareSide{File: "after.json", Started: new.Started, Machine: new.Machine},
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCompareGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     Format
		style Style
	}{
		{"compare_table", Table, Style{}},
		{"compare_table_color", Table, Style{Color: true}},
		{"compare_json", JSON, Style{}},
		{"compare_jsonl", JSONL, Style{}},
		{"compare_markdown", Markdown, Style{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, writeCompare(t, tc.f, tc.style, beforeFix(), afterFix()))
		})
	}
	// The other way round, on another machine: a regression, and a note.
	after := afterFix()
	after.Machine.Hostname = "laptop"
	golden.Check(t, "compare_regression_table", writeCompare(t, Table, Style{}, after, beforeFix()))
}

// TestCompareJSONLFields checks the fields scripts rely on, on every line.
func TestCompareJSONLFields(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(writeCompare(t, JSONL, Style{}, beforeFix(), afterFix())), []byte("\n"))
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range []string{"url", "variant", "state", "metric", "old", "new", "delta_pct", "p_value", "verdict"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
	}
}

func TestSparkline(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want string
	}{
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8}, "▁▂▃▄▅▆▇█"},
		{[]float64{5, 5, 5}, "▁▁▁"},
		{[]float64{1, 100}, "▁█"},
		{nil, ""},
	} {
		if got := sparkline(tt.in); got != tt.want {
			t.Errorf("sparkline(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
