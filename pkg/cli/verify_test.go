package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/config"
)

// junitDoc is the JUnit XML schema's shape, decoded independently of the writer.
type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestVerifyAndDiffOnLocalStack(t *testing.T) {
	stack := stacktest.Shared(t)
	cfg := stack.ConfigYAML(t)
	session := stack.Login(t)
	env := map[string]string{"CACHECTL_DEMO_SESSION": session}

	t.Run("verify fails on /dashboard naming owner and rollback", func(t *testing.T) {
		code, out, stderr := run(t, env, "--config", cfg, "--env", "production", "verify", "-o", "junit")
		if code != ExitCheckFailed {
			t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
		}
		var doc junitDoc
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("JUnit does not parse: %v\n%s", err, out)
		}
		failedSuites := 0
		for _, s := range doc.Suites {
			if s.Failures == 0 {
				continue
			}
			failedSuites++
			if s.Name != "/dashboard" {
				t.Errorf("suite %s failed, want only /dashboard to fail", s.Name)
			}
			for _, c := range s.Cases {
				if c.Failure == nil {
					continue
				}
				if !strings.HasPrefix(c.Name, "logged_in ") {
					t.Errorf("failing case %q, want logged_in checks", c.Name)
				}
				for _, want := range []string{"owner:    web-team", "rollback: remove the /dashboard rule from production.vcl", "expected: ", "actual:   "} {
					if !strings.Contains(c.Failure.Text, want) {
						t.Errorf("failure of %s lacks %q:\n%s", c.Name, want, c.Failure.Text)
					}
				}
			}
		}
		if failedSuites != 1 {
			t.Errorf("%d failing suites, want 1 (/dashboard)", failedSuites)
		}
		if strings.Contains(out+stderr, session) {
			t.Errorf("the session value appears in the output")
		}
	})

	t.Run("verify passes with the dashboard expectation corrected", func(t *testing.T) {
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, "- path: /dashboard")
		fixed := s[:i] + strings.Replace(s[i:], "logged_in: { status: 200, cache: [BYPASS, MISS, DYNAMIC], private: true }", "logged_in: { status: 200, cache: [HIT, MISS], private: false }", 1)
		if fixed == s {
			t.Fatal("demo config no longer has the /dashboard logged_in expectation this test corrects")
		}
		path := filepath.Join(t.TempDir(), "fixed.yaml")
		if err := os.WriteFile(path, []byte(fixed), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, stderr := run(t, env, "--config", path, "--env", "production", "verify", "-o", "junit"); code != ExitOK {
			t.Fatalf("exit %d, want 0; stderr: %s\n%s", code, stderr, out)
		}
	})

	t.Run("diff finds the staging drift", func(t *testing.T) {
		code, out, stderr := run(t, env, "--config", cfg, "--env", "staging", "--env", "production", "diff", "-o", "jsonl")
		if code != ExitCheckFailed {
			t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
		}
		drift := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var rec struct {
				Route    string `json:"route"`
				Drift    bool   `json:"drift"`
				Variants []struct {
					Differences []struct{ Field string } `json:"differences"`
				} `json:"variants"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("jsonl line %q: %v", line, err)
			}
			if rec.Drift {
				drift[rec.Route] = true
			}
		}
		// staging.vcl caps lifetimes at 60 s: the article's 600 s is the drift the stack was built with.
		if !drift["/articles/go-context-cancellation"] || drift["/health"] {
			t.Errorf("drifted routes = %v, want the article and not /health", drift)
		}
	})

	t.Run("diff of an environment against itself", func(t *testing.T) {
		if code, out, stderr := run(t, env, "--config", cfg, "--env", "production", "--env", "production", "diff"); code != ExitOK {
			t.Fatalf("exit %d, want 0; stderr: %s\n%s", code, stderr, out)
		}
	})

	t.Run("four shards merged equal one run", func(t *testing.T) {
		dir := t.TempDir()
		routes := filepath.Join(dir, "routes.txt")
		var b strings.Builder
		for _, r := range []string{"/", "/health", "/account", "/dashboard", "/articles/go-context-cancellation", "/articles/a", "/articles/b", "/articles/c", "/articles/d", "/articles/e"} {
			b.WriteString(r + "\n")
		}
		if err := os.WriteFile(routes, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		base := []string{"--config", cfg, "--env", "production", "verify", "--routes", routes, "--warm", "-o", "jsonl"}
		singleCode, single, _ := run(t, env, base...)
		var files []string
		for i := 1; i <= 4; i++ {
			_, out, stderr := run(t, env, append(base, "--shard", []string{"1/4", "2/4", "3/4", "4/4"}[i-1])...)
			f := filepath.Join(dir, "shard.jsonl."+string(rune('0'+i)))
			if err := os.WriteFile(f, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			_ = stderr
		}
		singleFile := filepath.Join(dir, "single.jsonl")
		if err := os.WriteFile(singleFile, []byte(single), 0o600); err != nil {
			t.Fatal(err)
		}
		mergedCode, merged, stderr := run(t, env, append([]string{"report", "merge", "-o", "jsonl"}, files...)...)
		if mergedCode != singleCode {
			t.Errorf("merge exit %d, single run exit %d (%s)", mergedCode, singleCode, stderr)
		}
		_, again, _ := run(t, env, "report", "merge", "-o", "jsonl", singleFile)
		if got, want := stripVolatile(t, merged), stripVolatile(t, again); got != want {
			t.Errorf("merged shards differ from the single run:\n--- merged\n%s\n--- single\n%s", got, want)
		}
	})
}

// TestHTMLReportsOnLocalStack: verify and diff write their HTML reports
// from the real stack's responses, the failure and the drift up front with
// the owners and rollbacks of the config.
func TestHTMLReportsOnLocalStack(t *testing.T) {
	stack := stacktest.Shared(t)
	cfg := stack.ConfigYAML(t)
	session := stack.Login(t)
	env := map[string]string{"CACHECTL_DEMO_SESSION": session}
	code, out, stderr := run(t, env, "--config", cfg, "--env", "production", "verify", "-o", "html")
	if code != ExitCheckFailed {
		t.Fatalf("verify: exit %d, want 1; stderr: %s", code, stderr)
	}
	checkHTMLReport(t, out, "FAILED", "/dashboard", "remove the /dashboard rule from production.vcl", "identity-team")
	if strings.Contains(out+stderr, session) {
		t.Errorf("the session value appears in the output")
	}
	code, out, stderr = run(t, env, "--config", cfg, "--env", "staging", "--env", "production", "diff", "-o", "html")
	if code != ExitCheckFailed {
		t.Fatalf("diff: exit %d, want 1; stderr: %s", code, stderr)
	}
	// The drifted article's owner and rollback come from the config.
	checkHTMLReport(t, out, "DRIFT", "/articles/go-context-cancellation", "editorial", "cachectl purge --config configs/demo.yaml --env production /articles/go-context-cancellation")
}

// checkHTMLReport checks that page is one HTML document with the verdict
// badge and the texts, with the page's only style sheet and no script.
func checkHTMLReport(t *testing.T, page, verdict string, texts ...string) {
	t.Helper()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("not one HTML document:\n%.300s", page)
	}
	if !strings.Contains(page, `id="verdict">`+verdict+"<") {
		t.Errorf("no %s verdict in the page", verdict)
	}
	for _, want := range texts {
		if !strings.Contains(page, html.EscapeString(want)) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Count(page, "<style>") != 1 {
		t.Error("the page has a script or a second style sheet")
	}
}

// stripVolatile drops timings, attempts' clocks and the shard label from jsonl.
func stripVolatile(t *testing.T, jsonl string) string {
	t.Helper()
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		delete(m, "shard")
		if p, ok := m["probe"].(map[string]any); ok {
			delete(p, "ttfb_ms")
			delete(p, "total_ms")
		}
		if m["check"] == "max_ttfb_ms" {
			delete(m, "actual")
		}
		out, _ := json.Marshal(m)
		b.Write(out)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestVerifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("environments:\n  production:\n    base_url: http://127.0.0.1:1\nroutes:\n  - path: /\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"no env", []string{"--config", cfg, "verify"}},
		{"bad shard", []string{"--config", cfg, "--env", "production", "verify", "--shard", "5/4"}},
		{"shards without index", []string{"--config", cfg, "--env", "production", "verify", "--shards", "4"}},
		{"two envs", []string{"--config", cfg, "--env", "production", "--env", "production", "verify"}},
		{"bad format", []string{"--config", cfg, "--env", "production", "verify", "-o", "xml"}},
		{"diff one env", []string{"--config", cfg, "--env", "production", "diff"}},
		{"diff bad ignore", []string{"--config", cfg, "--env", "production", "--env", "production", "diff", "--ignore", "colour"}},
		{"merge garbage", []string{"report", "merge", cfg}},
	}
	for _, tt := range tests {
		if code, _, stderr := run(t, nil, tt.args...); code != ExitUsage {
			t.Errorf("%s: exit %d, want 2 (%s)", tt.name, code, stderr)
		}
	}
	// Nothing listens on port 1: the run could not judge the route.
	if code, _, stderr := run(t, nil, "--config", cfg, "--env", "production", "verify", "-o", "jsonl"); code != ExitOperational {
		t.Errorf("unreachable: exit %d, want 3 (%s)", code, stderr)
	}
}

// TestVerifySampleAbsurdIsRefused: --sample far above any route count is
// exit 2, not an out-of-memory crash; a sample above the route count checks
// every route.
func TestVerifySampleAbsurdIsRefused(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	code, _, stderr := run(t, nil, "verify", "--config", cfg, "--env", "nosession", "--sample", "999999999999")
	if code != ExitUsage || !strings.Contains(stderr, "--sample 999999999999") {
		t.Fatalf("exit %d, want 2 naming --sample: %s", code, stderr)
	}
	code, out, stderr := run(t, nil, "verify", "--config", cfg, "--env", "nosession", "--sample", "10000000", "-o", "jsonl")
	if code == ExitUsage || code == ExitOperational || out == "" {
		t.Fatalf("--sample 10000000: exit %d: %s%s", code, out, stderr)
	}
}

// TestCollectLessOften: verify collects garbage less often while it runs,
// puts the previous target back afterwards, and leaves a GOGC the user set
// alone.
func TestCollectLessOften(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	restore := collectLessOften(config.EnvironFromMap(nil).Lookup)
	if got := debug.SetGCPercent(probeRunGCPercent); got != probeRunGCPercent {
		t.Errorf("GC percent during the run = %d, want %d", got, probeRunGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent after the run = %d, want 100 again", got)
	}
	collectLessOften(config.EnvironFromMap(map[string]string{"GOGC": "50"}).Lookup)()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent with GOGC set = %d, want it left at 100", got)
	}
}
