package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/verify"
)

var pinnedStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// verifyFixture is two routes as verify reports them: one passing, one
// failing the way the demo's /dashboard does, plus an unreachable one.
func verifyFixture() [][]verify.Record {
	home := func(v probe.Variant, check, exp, act string, passed bool, cache cachestatus.Status, ttfb float64) verify.Record {
		return verify.Record{Route: "/", Variant: v, Check: check, Passed: passed, Expected: exp, Actual: act,
			Owner: "web-team", Rollback: "cachectl purge --env production /", URL: "http://127.0.0.1:16081/", Env: "production",
			Index: 0, Attempts: 1, Probe: verify.ProbeFacts{StatusCode: 200, Cache: cache, TTFBMs: ttfb, TotalMs: ttfb + 0.4}}
	}
	dash := func(v probe.Variant, check, exp, act string, passed bool, cache cachestatus.Status, ttfb float64) verify.Record {
		return verify.Record{Route: "/dashboard", Variant: v, Check: check, Passed: passed, Expected: exp, Actual: act,
			Owner: "web-team", Rollback: "remove the /dashboard rule from production.vcl | reload <varnish>", URL: "http://127.0.0.1:16081/dashboard", Env: "production",
			Index: 1, Attempts: 2, Probe: verify.ProbeFacts{StatusCode: 200, Cache: cache, TTFBMs: ttfb, TotalMs: ttfb + 0.5}}
	}
	return [][]verify.Record{
		{
			home(probe.Anonymous, "status", "200", "200", true, cachestatus.HIT, 0.61),
			home(probe.Anonymous, "cache", "one of HIT, MISS", "HIT (X-Cache: HIT)", true, cachestatus.HIT, 0.61),
			home(probe.Anonymous, "min_max_age", "shared-cache lifetime ≥ 60 s", "300 s (Cache-Control: max-age=300)", true, cachestatus.HIT, 0.61),
			home(probe.LoggedIn, "private", "Cache-Control: private", "Cache-Control: private, no-cache", true, cachestatus.MISS, 3.2),
		},
		{
			dash(probe.Anonymous, "status", "200", "200", true, cachestatus.HIT, 0.7),
			dash(probe.LoggedIn, "cache", "one of BYPASS, MISS, DYNAMIC", "HIT (X-Cache: HIT)", false, cachestatus.HIT, 0.8),
			dash(probe.LoggedIn, "private", "Cache-Control: private", "Cache-Control: public, max-age=120", false, cachestatus.HIT, 0.8),
		},
		{
			{Route: "/slow", Variant: probe.Anonymous, Check: "reachable", Passed: false, Expected: "a response", Actual: "timeout after 10s (no complete response; --timeout raises the limit)",
				URL: "http://127.0.0.1:16081/slow", Env: "production", Index: 2, Attempts: 1,
				Probe: verify.ProbeFacts{Error: "timeout after 10s (no complete response; --timeout raises the limit)", TotalMs: 10000}},
		},
	}
}

func writeVerify(t *testing.T, f Format, style Style) []byte {
	t.Helper()
	opts := VerifyOptions{Style: style, Env: "production", RouteWidth: len("/dashboard"), Timestamp: pinnedStart}
	return writeVerifyRun(t, f, opts, verifyFixture(), 1234.5)
}

// writeVerifyRun writes run as format f, with the summary totalled from it.
func writeVerifyRun(t *testing.T, f Format, opts VerifyOptions, run [][]verify.Record, elapsedMS float64) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewVerifyWriter(f, &b, opts)
	if err != nil {
		t.Fatal(err)
	}
	var s verify.Summary
	for _, recs := range run {
		for _, r := range recs {
			s.Add(r)
		}
		if err := w.Route(recs); err != nil {
			t.Fatal(err)
		}
	}
	s.ElapsedMS = elapsedMS
	s.Finish()
	if err := w.Close(&s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestVerifyGolden(t *testing.T) {
	tests := []struct {
		name  string
		f     Format
		style Style
	}{
		{"verify_table", Table, Style{}},
		{"verify_table_color", Table, Style{Color: true}},
		{"verify_json", JSON, Style{}},
		{"verify_jsonl", JSONL, Style{}},
		{"verify_junit", JUnit, Style{}},
		{"verify_markdown", Markdown, Style{}},
		{"verify_html", HTML, Style{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, writeVerify(t, tc.f, tc.style))
		})
	}
}

func TestVerifyJSONValid(t *testing.T) {
	var doc struct {
		Env     string          `json:"env"`
		Checks  []verify.Record `json:"checks"`
		Summary verify.Summary  `json:"summary"`
	}
	if err := json.Unmarshal(writeVerify(t, JSON, Style{}), &doc); err != nil {
		t.Fatalf("json output does not parse: %v", err)
	}
	if got, want := len(doc.Checks), 8; got != want {
		t.Errorf("checks = %d, want %d", got, want)
	}
	if got, want := doc.Summary.Failed, 3; got != want {
		t.Errorf("summary.failed = %d, want %d", got, want)
	}

	// An empty run is still one valid document.
	var b bytes.Buffer
	w, _ := NewVerifyWriter(JSON, &b, VerifyOptions{Env: "staging"})
	s := verify.Summary{}
	s.Finish()
	if err := w.Close(&s); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Checks) != 0 {
		t.Errorf("empty json output = %s, %v", b.String(), err)
	}
}

func TestVerifyJSONLContract(t *testing.T) {
	for i, line := range strings.Split(strings.TrimSpace(string(writeVerify(t, JSONL, Style{}))), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range []string{"route", "variant", "check", "passed", "expected", "actual", "owner", "rollback"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d has no %q field: %s", i+1, k, line)
			}
		}
	}
}

// junitSchema is the subset of the JUnit XML schema (Jenkins junit-10.xsd)
// CI systems read, decoded independently of the writer's own types.
type junitSchema struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Time     string `xml:"time,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestVerifyJUnitParses(t *testing.T) {
	var doc junitSchema
	if err := xml.Unmarshal(writeVerify(t, JUnit, Style{}), &doc); err != nil {
		t.Fatalf("junit output does not parse: %v", err)
	}
	if got, want := len(doc.Suites), 3; got != want {
		t.Fatalf("suites = %d, want %d", got, want)
	}
	dash := doc.Suites[1]
	if dash.Name != "/dashboard" || dash.Tests != 3 || dash.Failures != 2 || len(dash.Cases) != 3 {
		t.Errorf("dashboard suite = %s tests=%d failures=%d cases=%d, want /dashboard 3 2 3", dash.Name, dash.Tests, dash.Failures, len(dash.Cases))
	}
	f := dash.Cases[1].Failure
	if f == nil {
		t.Fatalf("dashboard logged_in cache has no failure")
	}
	for _, want := range []string{"expected: one of BYPASS, MISS, DYNAMIC", "actual:   HIT (X-Cache: HIT)", "owner:    web-team", "rollback: remove the /dashboard rule from production.vcl | reload <varnish>"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Text)
		}
	}
	if doc.Suites[2].Errors != 1 || doc.Suites[2].Cases[0].Error == nil {
		t.Errorf("unreachable route is not a JUnit error: %+v", doc.Suites[2])
	}
}

func TestGitHubAnnotations(t *testing.T) {
	var b bytes.Buffer
	g := NewGitHubAnnotator(&b, "configs/demo.yaml")
	for _, recs := range verifyFixture() {
		for _, r := range recs {
			if err := g.Check(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "verify_github", b.Bytes())
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if !strings.HasPrefix(line, "::error file=configs/demo.yaml,title=cachectl verify%3A ") {
			t.Errorf("annotation %q is not an ::error workflow command on the config file", line)
		}
	}
}
