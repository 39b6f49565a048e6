package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/faultserver"
)

// Values no output, log, journal or report may ever contain.
const (
	leakToken   = "cf-tok-3b9d0e51c7a2-leakcheck"
	leakSession = "sess-8e4a61f09d2c-leakcheck"
)

// sessionSite is a site behind a cache that knows its visitors: it answers
// logged-in requests privately and refreshes the session cookie with its
// value (as many frameworks do), redirects to another host, and serves a
// sitemap naming pages on its own and another host.
type sessionSite struct {
	*httptest.Server
	mu         sync.Mutex
	withCookie int
}

func newSessionSite(t *testing.T, other string) *sessionSite {
	t.Helper()
	s := &sessionSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loggedIn := false
		if c, err := r.Cookie("sessionid"); err == nil && c.Value == leakSession {
			loggedIn = true
			s.mu.Lock()
			s.withCookie++
			s.mu.Unlock()
		}
		switch r.URL.Path {
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>%[1]s/</loc></url>
  <url><loc>%[1]s/articles/1</loc></url>
  <url><loc>%[2]s/elsewhere</loc></url>
</urlset>`, s.URL, other)
			return
		case "/go-away":
			http.Redirect(w, r, other+"/landing", http.StatusFound)
			return
		}
		if loggedIn {
			w.Header().Set("Cache-Control", "private, no-store")
			w.Header().Set("X-Cache", "MISS")
			http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: leakSession, Path: "/", HttpOnly: true})
			fmt.Fprintln(w, "<html>welcome back</html>")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Age", "12")
		fmt.Fprintln(w, "<html>hello</html>")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sessionSite) cookiesSeen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.withCookie
}

// secretsConfig writes a config with a logged-in production and staging in
// front of site, purging through a Cloudflare API fake at api.
func secretsConfig(t *testing.T, site, api string) string {
	t.Helper()
	return writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %[1]s
    session: {cookie: sessionid, value_env: TEST_SESSION}
    cdn:
      provider: cloudflare
      zone_id: %[2]s
      api_token_env: TEST_CF_TOKEN
      api_url: %[3]s
      plan: enterprise
      max_attempts: 2
  staging:
    base_url: %[1]s
    session: {cookie: sessionid, value_env: TEST_SESSION}
routes:
  - path: /
    owner: web-team
    expect:
      anonymous: {cache: [HIT]}
      logged_in: {cache: [BYPASS, MISS, DYNAMIC], private: true}
    rollback: cachectl purge --env production /
  - path: /articles/1
    owner: editorial
    expect:
      logged_in: {cache: [HIT]}
`, site, zoneID, api))
}

// TestSecretsNeverLeak runs every command at debug level in every output
// format it supports, with an API token and a session cookie whose values are
// unique, and looks for either value in stdout, stderr, the journal and every
// report file.
func TestSecretsNeverLeak(t *testing.T) {
	other := faultserver.New(faultserver.Options{})
	t.Cleanup(other.Close)
	site := newSessionSite(t, other.URL)
	// One 503 on the first purge request makes the retry path log too.
	api := cloudflarefake.NewServer(cloudflarefake.Options{ZoneID: zoneID, Token: leakToken, Faults: cdnfake.Faults{FailFirst: 1, Status: http.StatusServiceUnavailable}})
	t.Cleanup(api.Close)
	cfg := secretsConfig(t, site.URL, api.APIURL())
	env := map[string]string{"TEST_SESSION": leakSession, "TEST_CF_TOKEN": leakToken, "GITHUB_ACTIONS": "true", "XDG_STATE_HOME": t.TempDir()}
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	base := []string{"--config", cfg, "--log-level", "debug"}

	var files []string
	check := func(name string, code int, out, stderr string, wantCode ...int) {
		t.Helper()
		if len(wantCode) > 0 && code != wantCode[0] {
			t.Errorf("%s: exit %d, want %d\nstderr: %s", name, code, wantCode[0], stderr)
		}
		for _, secret := range []string{leakToken, leakSession} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: stdout holds a secret:\n%s", name, out)
			}
			if strings.Contains(stderr, secret) {
				t.Errorf("%s: stderr holds a secret:\n%s", name, stderr)
			}
		}
	}
	exec := func(name string, args ...string) (int, string, string) {
		t.Helper()
		code, out, stderr := run(t, env, append(append([]string{}, base...), args...)...)
		return code, out, stderr
	}

	for _, format := range []string{"table", "json", "jsonl"} {
		code, out, stderr := exec("inspect", "inspect", "--env", "production", "--as", "both", "--follow", "--debug-headers", "-o", format, "/", "/articles/1", "/go-away")
		check("inspect -o "+format, code, out, stderr, 0)
		if format == "jsonl" && (!strings.Contains(out, `"Cookie":"sessionid=REDACTED"`) || !strings.Contains(out, `"set_cookie":true`)) {
			t.Errorf("inspect did not show the logged-in probe (cookie sent, Set-Cookie answered):\n%s", out)
		}
	}
	if site.cookiesSeen() == 0 {
		t.Fatal("the site never saw the session cookie: the logged-in variant was not exercised")
	}

	for i, format := range []string{"table", "json", "jsonl"} {
		code, out, stderr := exec("purge", "purge", "--env", "production", "--journal", journal, "--reason", "leak check", "-o", format, fmt.Sprintf("/articles/%d", i+1))
		check("purge -o "+format, code, out, stderr, 0)
		code, out, stderr = exec("purge --dry-run", "purge", "--env", "production", "--journal", journal, "--dry-run", "--variants", "-o", format, "/articles/1", "/")
		check("purge --dry-run -o "+format, code, out, stderr, 0)
	}
	// A run that fails (API down), then its resume once the API is back.
	down := cloudflarefake.New(cloudflarefake.Options{ZoneID: zoneID, Token: leakToken, Faults: cdnfake.Faults{FailFirst: 100, Status: http.StatusBadGateway}})
	api.Config.Handler = down
	code, out, stderr := exec("purge (API down)", "purge", "--env", "production", "--journal", journal, "-o", "jsonl", "/articles/7", "/articles/8")
	check("purge (API down)", code, out, stderr, ExitOperational)
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume command in %q", stderr)
	}
	api.Config.Handler = cloudflarefake.New(cloudflarefake.Options{ZoneID: zoneID, Token: leakToken})
	for _, format := range []string{"table", "json", "jsonl"} {
		code, out, stderr = exec("purge --resume", "purge", "--journal", journal, "--resume", m[1], "-o", format)
		check("purge --resume -o "+format, code, out, stderr, 0)
		code, out, stderr = exec("purge log", "purge", "log", "--journal", journal, "-o", format)
		check("purge log -o "+format, code, out, stderr, 0)
	}
	// The wrong token: the refusal is reported without the token sent.
	code, out, stderr = run(t, map[string]string{"TEST_SESSION": leakSession, "TEST_CF_TOKEN": leakToken + "-wrong"}, append(base, "purge", "--env", "production", "--journal", journal, "/articles/9")...)
	check("purge (token refused)", code, out, stderr, ExitOperational)
	files = append(files, journal)

	for _, format := range []string{"table", "json", "jsonl", "junit", "markdown"} {
		code, out, stderr = exec("verify", "verify", "--env", "production", "-o", format)
		check("verify -o "+format, code, out, stderr, ExitCheckFailed)
		code, out, stderr = exec("verify --sitemap", "verify", "--env", "production", "--sitemap", site.URL+"/sitemap.xml", "--shard", "1/2", "-o", format)
		check("verify --sitemap -o "+format, code, out, stderr)
		code, out, stderr = exec("diff", "diff", "--env", "production", "--env", "staging", "-o", format, "/", "/articles/1")
		check("diff -o "+format, code, out, stderr, 0)
	}
	for i := 1; i <= 2; i++ {
		code, out, stderr = exec("verify shard", "verify", "--env", "production", "--shard", fmt.Sprintf("%d/2", i), "-o", "jsonl")
		check("verify shard", code, out, stderr)
		path := filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", i))
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	for _, format := range []string{"table", "json", "jsonl", "junit", "markdown"} {
		code, out, stderr = exec("report merge", "report", "merge", "-o", format, files[1], files[2])
		check("report merge -o "+format, code, out, stderr, ExitCheckFailed)
		report := filepath.Join(dir, "merged."+format)
		if err := os.WriteFile(report, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, report)
	}
	for _, format := range []string{"table", "json"} {
		code, out, stderr = exec("config show", "config", "show", "-o", format)
		check("config show -o "+format, code, out, stderr, 0)
		code, out, stderr = exec("config validate", "config", "validate", "-o", format)
		check("config validate -o "+format, code, out, stderr, 0)
		code, out, stderr = exec("version", "version", "-o", format)
		check("version -o "+format, code, out, stderr, 0)
	}

	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty: nothing was checked", f)
		}
		for _, secret := range []string{leakToken, leakSession} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds a secret", f)
			}
		}
	}
	// The token did reach the API (so the checks above were not vacuous),
	// and the other host never saw the session cookie.
	if reqs := api.Requests(); len(reqs) == 0 {
		t.Error("the API fake got no request")
	}
	for _, r := range other.Received() {
		if r.Header.Get("Cookie") != "" {
			t.Errorf("%s %s on another host got a Cookie header", r.Method, r.Path)
		}
	}
}

// TestSessionCookieStaysOnItsHost: a redirect to another host (probe with
// --follow) and sitemap pages on another host never get the session cookie.
func TestSessionCookieStaysOnItsHost(t *testing.T) {
	other := faultserver.New(faultserver.Options{})
	t.Cleanup(other.Close)
	site := newSessionSite(t, other.URL)
	cfg := secretsConfig(t, site.URL, "http://127.0.0.1:1/client/v4")
	env := map[string]string{"TEST_SESSION": leakSession}

	code, out, stderr := run(t, env, "inspect", "--config", cfg, "--env", "production", "--as", "logged-in", "--follow", "-o", "jsonl", "/go-away")
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	if site.cookiesSeen() != 1 {
		t.Errorf("the site saw the cookie %d times, want 1 (the first hop)", site.cookiesSeen())
	}
	if !strings.Contains(out, `"final_url":"`+other.URL+`/landing"`) {
		t.Errorf("the redirect was not followed to the other host:\n%s", out)
	}
	got := other.Received()
	if len(got) != 1 {
		t.Fatalf("the other host got %d requests, want 1 (the redirect target)", len(got))
	}
	if c := got[0].Header.Get("Cookie"); c != "" {
		t.Errorf("the other host got Cookie %q across the redirect", c)
	}

	before := len(other.Received())
	code, out, stderr = run(t, env, "verify", "--config", cfg, "--env", "production", "--sitemap", site.URL+"/sitemap.xml", "-o", "jsonl")
	if code != ExitCheckFailed { // /articles/1 expects a logged-in HIT
		t.Errorf("verify --sitemap: exit %d, want 1: %s", code, stderr)
	}
	if !strings.Contains(stderr, "sitemap entries skipped") || !strings.Contains(stderr, "is not one of the environment's hosts") {
		t.Errorf("stderr does not report the skipped page on another host: %s", stderr)
	}
	if strings.Contains(out, other.URL) {
		t.Errorf("a page on another host was verified:\n%s", out)
	}
	for _, r := range other.Received()[before:] {
		t.Errorf("the other host got %s %s (Cookie %q) from verify --sitemap", r.Method, r.Path, r.Header.Get("Cookie"))
	}

	// A sitemap served by another host: fetched without the cookie.
	code, _, stderr = run(t, env, "verify", "--config", cfg, "--env", "production", "--sitemap", other.URL+"/sitemap.xml", "-o", "jsonl")
	if code == 0 {
		t.Errorf("a sitemap that is not XML was accepted: %s", stderr)
	}
	for _, r := range other.Received() {
		if r.Header.Get("Cookie") != "" {
			t.Errorf("the other host got a Cookie on %s %s", r.Method, r.Path)
		}
	}
}

// TestTLSVerificationAlwaysOn: an untrusted certificate fails the probe;
// only --insecure accepts it, with a loud warning.
func TestTLSVerificationAlwaysOn(t *testing.T) {
	s := faultserver.NewUntrusted(faultserver.Options{})
	t.Cleanup(s.Close)
	code, out, stderr := run(t, nil, "inspect", "-o", "jsonl", s.URL+"/a")
	if code != ExitOperational || !strings.Contains(out, "TLS certificate not trusted") {
		t.Errorf("untrusted certificate: exit %d, output %s", code, out)
	}
	if strings.Contains(stderr, "WARNING") {
		t.Errorf("warning without --insecure: %s", stderr)
	}
	code, out, stderr = run(t, nil, "inspect", "--insecure", "-o", "jsonl", s.URL+"/a")
	if code != 0 || !strings.Contains(out, `"status_code":200`) {
		t.Errorf("--insecure: exit %d, output %s", code, out)
	}
	if !strings.Contains(stderr, "WARNING: --insecure: TLS certificates are NOT verified") {
		t.Errorf("--insecure without the warning: %q", stderr)
	}
}

// TestReadableSecretFileWarns: a session value file or API token file that
// other users can read is named in a warning with the fix; a private one is not.
func TestReadableSecretFileWarns(t *testing.T) {
	dir := t.TempDir()
	session := filepath.Join(dir, "session")
	token := filepath.Join(dir, "token")
	for _, p := range []string{session, token} {
		if err := os.WriteFile(p, []byte(leakSession+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: https://www.example.com
    session: {cookie: sessionid, value_file: %s}
    cdn: {provider: cloudflare, zone_id: %s, api_token_file: %s}
`, session, zoneID, token))
	tests := []struct {
		name        string
		session     os.FileMode
		token       os.FileMode
		wantWarning []string
	}{
		{"both private", 0o600, 0o600, nil},
		{"session readable by all", 0o644, 0o600, []string{"environments.production.session.value_file: " + session + " is readable by other users (mode -rw-r--r--); run chmod 600 " + session}},
		{"token readable by group", 0o600, 0o640, []string{"environments.production.cdn.api_token_file: " + token + " is readable by other users (mode -rw-r-----)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Chmod(session, tt.session); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(token, tt.token); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"config", "validate"}, {"config", "show"}} {
				code, out, stderr := run(t, nil, append(args, "--config", cfg)...)
				if code != 0 {
					t.Errorf("%v: exit %d: %s", args, code, stderr)
				}
				for _, w := range tt.wantWarning {
					if !strings.Contains(stderr, w) {
						t.Errorf("%v: stderr lacks %q:\n%s", args, w, stderr)
					}
				}
				if tt.wantWarning == nil && strings.Contains(stderr, "readable by other users") {
					t.Errorf("%v: warning for private files: %s", args, stderr)
				}
				if strings.Contains(out+stderr, leakSession) {
					t.Errorf("%v printed the secret", args)
				}
			}
		})
	}
}
