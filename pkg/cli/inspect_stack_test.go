package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// TestInspectOnRealStack runs the demo's story against the real Varnish and
// FastAPI origin: an article goes MISS → HIT, and the misconfigured
// dashboard is flagged for a logged-in visitor.
func TestInspectOnRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Shared(t)
	cfg := s.ConfigYAML(t)
	session := s.Login(t)
	env := map[string]string{"CACHECTL_DEMO_SESSION": session}

	type line struct {
		Variant  string
		Seq      int
		Cache    struct{ Status, Source string }
		Findings []struct{ ID, Severity string }
	}
	parse := func(out string) []line {
		var ls []line
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var x line
			if err := json.Unmarshal([]byte(l), &x); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			ls = append(ls, x)
		}
		return ls
	}

	// The stack is shared: the article starts out of the cache whatever ran before.
	s.Purge(t, s.ProductionURL, "/articles/stack-test-article")
	code, out, stderr := run(t, env, "inspect", "--config", cfg, "--env", "production", "--as", "anonymous", "--repeat", "2", "-o", "jsonl", "/articles/stack-test-article")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ls := parse(out)
	if len(ls) != 2 || ls[0].Cache.Status != "MISS" || ls[1].Cache.Status != "HIT" || ls[1].Cache.Source != "X-Cache" {
		t.Errorf("article sequence = %+v, want MISS then HIT from X-Cache", ls)
	}

	code, out, stderr = run(t, env, "inspect", "--config", cfg, "--env", "production", "--as", "both", "--fail-on", "error", "-o", "jsonl", "/dashboard")
	if code != ExitCheckFailed {
		t.Errorf("dashboard: exit %d, want 1 (--fail-on error): %s", code, stderr)
	}
	ls = parse(out)
	if len(ls) != 2 || ls[1].Variant != "logged_in" || ls[1].Cache.Status != "HIT" {
		t.Fatalf("dashboard probes = %+v, want anonymous then a logged-in HIT", ls)
	}
	ids := map[string]string{}
	for _, f := range ls[1].Findings {
		ids[f.ID] = f.Severity
	}
	if ids["logged-in-cached"] != "error" || ids["set-cookie-cacheable"] != "error" {
		t.Errorf("logged-in dashboard findings = %v, want logged-in-cached and set-cookie-cacheable errors", ids)
	}
	if strings.Contains(out, session) || strings.Contains(stderr, session) {
		t.Error("session value printed")
	}

	// /account is private: a logged-in visitor never gets a cached copy.
	code, out, _ = run(t, env, "inspect", "--config", cfg, "--env", "production", "--fail-on", "error", "-o", "jsonl", "/account", "/account")
	if code != 0 {
		t.Errorf("/account: exit %d, want 0\n%s", code, out)
	}
}
