package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

func diffFixture() []verify.DiffRecord {
	side := func(base, path string, cache cachestatus.Status, ttl int64, cc []string) verify.Side {
		return verify.Side{URL: base + path, StatusCode: 200, Cache: cache, TTLSeconds: ttl, CacheControl: cc, Vary: []string{"Accept-Encoding"}, CDN: "varnish", Findings: []string{}, TTFBMs: 0.8}
	}
	const a, b = "http://127.0.0.1:16082", "http://127.0.0.1:16081"
	same := side(a, "/health", cachestatus.MISS, 0, []string{"no-store"})
	sameB := same
	sameB.URL = b + "/health"
	return []verify.DiffRecord{
		{Route: "/articles/go-context-cancellation", EnvA: "staging", EnvB: "production", Drift: true, Index: 0, Owner: "content-team", Rollback: "revert the staging TTL cap", Variants: []verify.VariantDiff{
			{Variant: probe.Anonymous, A: side(a, "/articles/go-context-cancellation", cachestatus.HIT, 60, []string{"max-age", "public"}), B: side(b, "/articles/go-context-cancellation", cachestatus.HIT, 600, []string{"max-age", "public"}),
				Differences: []verify.Difference{{Field: "ttl", A: "60 s", B: "600 s"}}},
		}},
		{Route: "/health", EnvA: "staging", EnvB: "production", Index: 1, Variants: []verify.VariantDiff{
			{Variant: probe.Anonymous, A: same, B: sameB, Differences: []verify.Difference{}},
			{Variant: probe.LoggedIn, A: same, B: sameB, Differences: []verify.Difference{}},
		}},
	}
}

func writeDiff(t *testing.T, f Format, style Style) []byte {
	t.Helper()
	opts := DiffOptions{Style: style, EnvA: "staging", EnvB: "production", RouteWidth: 34, Timestamp: pinnedStart}
	return writeDiffRun(t, f, opts, diffFixture(), 42)
}

// writeDiffRun writes run as format f, with the summary totalled from it.
func writeDiffRun(t *testing.T, f Format, opts DiffOptions, run []verify.DiffRecord, elapsedMS float64) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewDiffWriter(f, &b, opts)
	if err != nil {
		t.Fatal(err)
	}
	var s verify.DiffSummary
	for _, r := range run {
		s.Add(r)
		if err := w.Route(r); err != nil {
			t.Fatal(err)
		}
	}
	s.ElapsedMS = elapsedMS
	if err := w.Close(&s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDiffGolden(t *testing.T) {
	tests := []struct {
		name  string
		f     Format
		style Style
	}{
		{"diff_table", Table, Style{}},
		{"diff_table_color", Table, Style{Color: true}},
		{"diff_json", JSON, Style{}},
		{"diff_jsonl", JSONL, Style{}},
		{"diff_junit", JUnit, Style{}},
		{"diff_markdown", Markdown, Style{}},
		{"diff_html", HTML, Style{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, writeDiff(t, tc.f, tc.style))
		})
	}
}

func TestDiffOutputsParse(t *testing.T) {
	var doc struct {
		Routes  []verify.DiffRecord `json:"routes"`
		Summary verify.DiffSummary  `json:"summary"`
	}
	if err := json.Unmarshal(writeDiff(t, JSON, Style{}), &doc); err != nil {
		t.Fatalf("json output does not parse: %v", err)
	}
	if doc.Summary.Drifted != 1 || len(doc.Routes) != 2 {
		t.Errorf("json: drifted %d routes %d, want 1 and 2", doc.Summary.Drifted, len(doc.Routes))
	}
	var junit junitSchema
	if err := xml.Unmarshal(writeDiff(t, JUnit, Style{}), &junit); err != nil {
		t.Fatalf("junit output does not parse: %v", err)
	}
	if len(junit.Suites) != 2 || junit.Suites[0].Failures != 1 || !strings.Contains(junit.Suites[0].Cases[0].Failure.Text, "ttl: staging 60 s, production 600 s") {
		t.Errorf("junit suites = %+v", junit.Suites)
	}
	if lines := strings.Count(string(writeDiff(t, JSONL, Style{})), "\n"); lines != 2 {
		t.Errorf("jsonl lines = %d, want one per route (2)", lines)
	}
}

func TestMarkdownCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "—"},
		{"a|b", `a\|b`},
		{"line1\nline2", "line1<br>line2"},
		{"<script>", "&lt;script&gt;"},
		{`a & "b"`, "a &amp; &#34;b&#34;"},
	}
	for _, tt := range tests {
		if got := mdCell(tt.in); got != tt.want {
			t.Errorf("mdCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
