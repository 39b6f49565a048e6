package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/textdiff"
)

// TestInitAndRecordOnLocalStack is the adoption story on a real Varnish in
// front of the demo site: init writes a config from what the site does
// (sitemap sample plus the personalized pages, anonymous and logged in),
// which validates and whose verify passes at once; after the cache's rules
// change for two pages, verify fails on both, and verify --record of one
// of them shows the diff and rewrites that route alone.
func TestInitAndRecordOnLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Shared(t)
	session := s.Login(t)
	env := map[string]string{"INIT_SESSION": session}
	file := filepath.Join(t.TempDir(), "cachectl.yaml")
	cfgArgs := []string{"--config", file, "--env", "production"}
	// The stack is shared: start from an empty cache whatever ran before.
	for _, p := range []string{"/feed.xml", "/tags/go", "/dashboard", "/account", "/health"} {
		s.Purge(t, s.ProductionURL, p)
	}

	code, _, stderr := run(t, env, append(cfgArgs, "init", "--base-url", s.ProductionURL, "--sitemap", s.ProductionURL+"/sitemap.xml", "--sample", "4",
		"--cookie-env", "INIT_SESSION", "--session-cookie", stacktest.SessionCookie, "/feed.xml", "/tags/go", "/dashboard", "/account", "/health")...)
	if code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	written := readText(t, file)
	for _, want := range []string{"provider: http-purge", "value_env: INIT_SESSION", "owner: TODO", "rollback: TODO", "- path: /feed.xml", "NOT CHECKED, logged_in: logged-in-cached"} {
		if !strings.Contains(written, want) {
			t.Errorf("the config lacks %q:\n%s", want, written)
		}
	}
	if strings.Contains(written+stderr, session) {
		t.Error("the session value was written")
	}
	if code, out, stderr := run(t, env, append(cfgArgs, "config", "validate")...); code != ExitOK {
		t.Fatalf("config validate: exit %d: %s%s", code, out, stderr)
	}
	if code, out, stderr := run(t, env, append(cfgArgs, "verify")...); code != ExitOK {
		t.Fatalf("verify right after init: exit %d: %s\n%s", code, stderr, out)
	}
	if code, _, stderr := run(t, env, append(cfgArgs, "init", "--base-url", s.ProductionURL)...); code != ExitUsage || readText(t, file) != written {
		t.Errorf("init over the file without --force: exit %d (%s), want 2 and the file unchanged", code, stderr)
	}

	t.Run("a changed cache rule is recorded for the chosen route alone", func(t *testing.T) {
		s.UseVCL(t, "production", func(vcl string) string {
			return strings.Replace(vcl, "sub vcl_backend_response {", `sub vcl_backend_response {
    if (bereq.url ~ "^/(feed\.xml|tags/go)$") {
        set beresp.http.Cache-Control = "public, max-age=30";
        set beresp.ttl = 30s;
    }`, 1)
		})
		s.Purge(t, s.ProductionURL, "/feed.xml")
		s.Purge(t, s.ProductionURL, "/tags/go")
		if code, _, stderr := run(t, env, append(cfgArgs, "verify")...); code != ExitCheckFailed || !strings.Contains(stderr, "on 2 routes") {
			t.Fatalf("verify after the rule change: exit %d (%s), want 1 on /feed.xml and /tags/go", code, stderr)
		}
		checkRecorded(t, env, cfgArgs, file)
		code, out, stderr := run(t, env, append(cfgArgs, "verify", "-o", "jsonl")...)
		if code != ExitCheckFailed || strings.Contains(out, `"route":"/feed.xml","variant":"anonymous","check":"min_max_age","passed":false`) ||
			!strings.Contains(out, `"route":"/tags/go","variant":"anonymous","check":"min_max_age","passed":false`) {
			t.Errorf("verify after recording /feed.xml: exit %d (%s); want /tags/go alone still failing:\n%s", code, stderr, out)
		}
	})
}

// checkRecorded records /feed.xml: the diff shown is its two expectation
// lines, and the file differs from before in exactly those lines.
func checkRecorded(t *testing.T, env map[string]string, cfgArgs []string, file string) {
	t.Helper()
	before := readText(t, file)
	code, _, stderr := run(t, env, append(cfgArgs, "verify", "--record", "/feed.xml")...)
	if code != ExitUsage || readText(t, file) != before {
		t.Fatalf("--record without --yes and no terminal: exit %d (%s), want 2 and the file unchanged", code, stderr)
	}
	code, out, stderr := run(t, env, append(cfgArgs, "verify", "--record", "--yes", "/feed.xml")...)
	if code != ExitOK {
		t.Fatalf("verify --record --yes /feed.xml: exit %d: %s", code, stderr)
	}
	var removed, added []string
	for _, l := range textdiff.Align(textdiff.SplitLines(before), textdiff.SplitLines(readText(t, file))) {
		switch l.Kind {
		case textdiff.Removed:
			removed = append(removed, l.Text)
		case textdiff.Added:
			added = append(added, l.Text)
		}
	}
	if len(removed) != 2 || len(added) != 2 || !strings.Contains(added[0], "anonymous: {") || !strings.Contains(added[0], "min_max_age: 30, max_max_age: 30") || !strings.Contains(added[1], "logged_in: {") {
		t.Errorf("the file changed in\n-%s\n+%s\nwant /feed.xml's two expectation lines, now with a 30 s lifetime", strings.Join(removed, "\n-"), strings.Join(added, "\n+"))
	}
	for _, l := range append(removed, added...) {
		if !strings.Contains(out, l) {
			t.Errorf("the diff shown lacks the line %q:\n%s", l, out)
		}
	}
	if i := strings.Index(before, strings.TrimSpace(removed[0])); i < 0 || !strings.Contains(before[:i], "- path: /feed.xml") || strings.Contains(before[strings.LastIndex(before[:i], "- path: "):i], "/tags/go") {
		t.Errorf("the lines that changed are not /feed.xml's")
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
