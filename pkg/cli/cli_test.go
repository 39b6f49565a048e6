package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
)

// run executes one command line the way main does and returns exit code, stdout and stderr.
func run(t testing.TB, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code := Execute(context.Background(), args, ios, config.EnvironFromMap(env))
	return code, out.String(), errOut.String()
}

// origin is a loopback site that counts requests and behaves like a cache in front of an app.
type origin struct {
	*httptest.Server
	requests atomic.Int64
	hits     atomic.Int64
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.requests.Add(1)
		switch r.URL.Path {
		case "/leaky":
			// A personalized page a cache serves to everyone, cookie and all.
			w.Header().Set("Cache-Control", "public, max-age=120")
			w.Header().Set("X-Cache", "HIT")
			w.Header().Set("Age", "5")
			w.Header().Add("Set-Cookie", "last_seen=now")
			fmt.Fprint(w, "hello user")
		case "/warming":
			// MISS first, HIT afterwards.
			w.Header().Set("Cache-Control", "public, max-age=600")
			w.Header().Set("ETag", `"v1"`)
			if o.hits.Add(1) == 1 {
				w.Header().Set("X-Cache", "MISS")
			} else {
				w.Header().Set("X-Cache", "HIT")
			}
		default:
			w.Header().Set("Cache-Control", "public, max-age=600")
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("X-Cache", "MISS")
		}
	}))
	t.Cleanup(o.Close)
	return o
}

// writeConfig writes a config with one environment "production" in front of base.
func writeConfig(t *testing.T, base string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "cachectl.yaml")
	cfg := fmt.Sprintf(`environments:
  production:
    base_url: %s
    session:
      cookie: sessionid
      value_env: TEST_SESSION
  nosession:
    base_url: %s
routes:
  - path: /
    owner: web-team
    rollback: cachectl purge --env production /
`, base, base)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const sessionValue = "sv-8f2c1e77d4-unique"

func TestInspectBadInputSendsNothing(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("environments:\n  production:\n    base_url: ftp://x\n    wat: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TEST_SESSION": sessionValue}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unparseable URL", env, []string{"inspect", "--config", cfg, "http://[::1/x"}, `invalid URL "http://[::1/x"`},
		{"bad scheme", env, []string{"inspect", "ftp://example.com/x"}, "expected scheme http or https"},
		{"path without env", env, []string{"inspect", "--config", cfg, "/x"}, "/x is a path but no environment was chosen"},
		{"unknown env", env, []string{"inspect", "--config", cfg, "--env", "prod", "/x"}, `unknown environment "prod" (expected one of: nosession, production)`},
		{"unknown output", env, []string{"inspect", "--config", cfg, "-o", "xml", o.URL}, `unknown output format "xml" (expected one of: table, json, jsonl)`},
		{"unreadable config", env, []string{"inspect", "--config", "/nonexistent/cachectl.yaml", o.URL}, "config: cannot read /nonexistent/cachectl.yaml"},
		{"invalid config", env, []string{"inspect", "--config", bad, o.URL}, "environments.production.base_url: found \"ftp://x\", expected an absolute URL with scheme http or https"},
		{"unset session variable", map[string]string{}, []string{"inspect", "--config", cfg, "--env", "production", "/x"}, "names variable TEST_SESSION, which is not set"},
		{"logged-in without session", env, []string{"inspect", "--config", cfg, "--env", "nosession", "--as", "logged-in", "/x"}, `environment "nosession" has no session`},
		{"cookie on the command line", env, []string{"inspect", "--config", cfg, "-H", "Cookie: a=b", o.URL}, "credentials are never taken from the command line"},
		{"session to a foreign host", env, []string{"inspect", "--config", cfg, "--env", "production", "http://other.invalid/x"}, "the session cookie is only sent to the environment's own hosts"},
		{"bad --as", env, []string{"inspect", "--config", cfg, "--as", "admin", o.URL}, `--as "admin": expected anonymous, logged-in or both`},
		{"bad --until", env, []string{"inspect", "--config", cfg, "--until", "WARM", o.URL}, `--until "WARM": expected one of HIT`},
		{"bad --fail-on", env, []string{"inspect", "--config", cfg, "--fail-on", "fatal", o.URL}, `--fail-on "fatal": expected warn or error`},
		{"unknown flag", env, []string{"inspect", "--frobnicate", o.URL}, "unknown flag: --frobnicate"},
		{"no target", env, []string{"inspect", "--config", cfg}, "no URL or path given"},
		{"missing from-file", env, []string{"inspect", "--config", cfg, "--from-file", "/nonexistent/urls.txt"}, "--from-file: open /nonexistent/urls.txt"},
		{"bad concurrency", env, []string{"inspect", "--concurrency", "0", o.URL}, "--concurrency 0: expected 1 to 1024"},
		{"bad log level", env, []string{"inspect", "--log-level", "loud", o.URL}, `--log-level "loud": expected debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := o.requests.Load()
			code, _, stderr := run(t, tt.env, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit = %d, want %d (stderr %q)", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
			if n := o.requests.Load() - before; n != 0 {
				t.Errorf("%d request(s) sent, want none", n)
			}
		})
	}
}

func TestInspectFullURLWithoutConfig(t *testing.T) {
	o := newOrigin(t)
	code, out, stderr := run(t, nil, "inspect", "-o", "jsonl", o.URL+"/a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, field := range []string{`"url":"` + o.URL + `/a"`, `"variant":"anonymous"`, `"status_code":200`, `"status":"MISS"`, `"source":"X-Cache"`, `"timing_ms":{`, `"findings":[`} {
		if !strings.Contains(out, field) {
			t.Errorf("output lacks %s:\n%s", field, out)
		}
	}
	if n := strings.Count(strings.TrimSpace(out), "\n") + 1; n != 1 {
		t.Errorf("got %d lines, want 1", n)
	}
}

func TestInspectNetworkFailureKeepsOtherResults(t *testing.T) {
	o := newOrigin(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	code, out, stderr := run(t, nil, "inspect", "-o", "jsonl", o.URL+"/a", deadURL+"/b", o.URL+"/c")
	if code != ExitOperational {
		t.Errorf("exit = %d, want 3", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d results, want 3:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[0], "/a") || !strings.Contains(lines[1], "connection refused") || !strings.Contains(lines[2], "/c") {
		t.Errorf("results out of order or error missing:\n%s", out)
	}
	if !strings.Contains(stderr, "1 probe of 3 failed") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestInspectFindingsAndFailOn(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	env := map[string]string{"TEST_SESSION": sessionValue}
	code, out, _ := run(t, env, "inspect", "--config", cfg, "--env", "production", "-o", "jsonl", "/leaky")
	if code != 0 {
		t.Errorf("exit = %d without --fail-on, want 0", code)
	}
	for _, id := range []string{"logged-in-cached", "set-cookie-cacheable"} {
		if !strings.Contains(out, id) {
			t.Errorf("finding %s missing:\n%s", id, out)
		}
	}
	code, _, stderr := run(t, env, "inspect", "--config", cfg, "--env", "production", "--fail-on", "error", "/leaky")
	if code != ExitCheckFailed {
		t.Errorf("exit = %d with --fail-on error, want 1 (stderr %q)", code, stderr)
	}
}

func TestInspectRepeatAndUntil(t *testing.T) {
	o := newOrigin(t)
	code, out, _ := run(t, nil, "inspect", "-o", "jsonl", "--repeat", "2", o.URL+"/warming")
	if code != 0 || !strings.Contains(out, `"seq":1`) || strings.Index(out, `"status":"MISS"`) > strings.Index(out, `"status":"HIT"`) {
		t.Errorf("exit %d, want MISS then HIT:\n%s", code, out)
	}
	code, _, _ = run(t, nil, "inspect", "--until", "HIT", "--wait", "2s", o.URL+"/warming")
	if code != 0 {
		t.Errorf("--until HIT on a warm page: exit %d, want 0", code)
	}
	code, _, stderr := run(t, nil, "inspect", "--until", "HIT", "--wait", "600ms", o.URL+"/never")
	if code != ExitCheckFailed || !strings.Contains(stderr, "never reached cache status HIT") {
		t.Errorf("--until HIT on an uncached page: exit %d, stderr %q", code, stderr)
	}
}

// TestSecretsNeverPrinted runs inspect in every format at debug level and
// looks for the session value everywhere it could leak.
func TestSecretsNeverPrinted(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	env := map[string]string{"TEST_SESSION": sessionValue}
	for _, args := range [][]string{
		{"inspect", "--config", cfg, "--env", "production", "--log-level", "debug", "-o", "table", "/leaky", "/"},
		{"inspect", "--config", cfg, "--env", "production", "--log-level", "debug", "-o", "json", "/leaky"},
		{"inspect", "--config", cfg, "--env", "production", "--log-level", "debug", "-o", "jsonl", "--follow", "/leaky"},
		{"config", "show", "--config", cfg, "--log-level", "debug"},
		{"config", "show", "--config", cfg, "-o", "json"},
		{"config", "validate", "--config", cfg},
	} {
		_, out, stderr := run(t, env, args...)
		if strings.Contains(out, sessionValue) || strings.Contains(stderr, sessionValue) {
			t.Errorf("%v printed the session value:\nstdout: %s\nstderr: %s", args, out, stderr)
		}
	}
}

func TestConfigCommands(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	code, out, _ := run(t, map[string]string{"TEST_SESSION": sessionValue}, "config", "show", "--config", cfg)
	if code != 0 || !strings.Contains(out, "base_url: "+o.URL) || !strings.Contains(out, "set (REDACTED)") {
		t.Errorf("config show: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "config", "validate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "is valid: 2 environment(s), 1 route(s)") {
		t.Errorf("config validate: exit %d %q", code, out)
	}
	code, out, _ = run(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "cachectl ") {
		t.Errorf("version: exit %d %q", code, out)
	}
}

func TestInspectFromFile(t *testing.T) {
	o := newOrigin(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	good := filepath.Join(dir, "good.txt")
	if err := os.WriteFile(bad, []byte("# urls\n"+o.URL+"/a\nnot a url\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("# urls\n"+o.URL+"/a\n\n"+o.URL+"/b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, nil, "inspect", "--from-file", bad)
	if code != ExitUsage || !strings.Contains(stderr, "line 3") || o.requests.Load() != 0 {
		t.Errorf("bad file: exit %d, stderr %q, %d requests; want 2 naming line 3 and none sent", code, stderr, o.requests.Load())
	}
	code, out, _ := run(t, nil, "inspect", "--from-file", good, "-o", "jsonl", o.URL+"/first")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "/first") || !strings.Contains(lines[2], "/b") {
		t.Errorf("exit %d, want arguments then the file in order:\n%s", code, out)
	}
}
