package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// echoingAPI is a purge API that refuses every request and quotes the
// request's credential headers (Authorization, Fastly-Key) back in its
// error, as some gateways and misconfigured proxies do.
func echoingAPI(t *testing.T, status int) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"success":false,"errors":[{"code":10000,"message":"Authentication error: header %q is not valid"}],"messages":[],"result":null,"msg":"bad key %s"}`,
			r.Header.Get("Authorization"), r.Header.Get("Fastly-Key"))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestTokenEchoedByTheAPINeverPrintedOrJournaled: when the purge API answers
// 400/401/403 quoting "Bearer <token>", the token appears in no output
// format, not on stderr at debug level, and not in the journal.
func TestTokenEchoedByTheAPINeverPrintedOrJournaled(t *testing.T) {
	site := newSessionSite(t, "http://127.0.0.1:1")
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden} {
		api := echoingAPI(t, status)
		cfg := secretsConfig(t, site.URL, api.URL+"/client/v4")
		env := map[string]string{"TEST_SESSION": leakSession, "TEST_CF_TOKEN": leakToken}
		for _, format := range []string{"table", "json", "jsonl"} {
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal,
				"--log-level", "debug", "-o", format, "/articles/1", "/")
			if code != ExitOperational {
				t.Errorf("%d -o %s: exit %d, want 3: %s", status, format, code, stderr)
			}
			if !strings.Contains(out+stderr, "REDACTED") {
				t.Errorf("%d -o %s: the echoed error should still be shown, redacted:\n%s%s", status, format, out, stderr)
			}
			b, _ := os.ReadFile(journal)
			for name, text := range map[string]string{"stdout": out, "stderr": stderr, "journal": string(b)} {
				if strings.Contains(text, leakToken) {
					t.Errorf("%d -o %s: the token echoed by the API reached %s:\n%s", status, format, name, text)
				}
			}
		}
	}
}

// TestSessionEchoedByTheSiteNeverPrinted: a site that puts the visitor's
// session value into a redirect's Location (and a header) does not get it
// printed by inspect in any format.
func TestSessionEchoedByTheSiteNeverPrinted(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sessionid")
		if err != nil {
			w.Header().Set("X-Cache", "HIT")
			return
		}
		w.Header().Set("X-Debug-Session", c.Value)
		http.Redirect(w, r, "/login?expired="+c.Value, http.StatusFound)
	}))
	t.Cleanup(site.Close)
	cfg := secretsConfig(t, site.URL, "http://127.0.0.1:1/client/v4")
	env := map[string]string{"TEST_SESSION": leakSession, "TEST_CF_TOKEN": leakToken}
	for _, format := range []string{"table", "json", "jsonl"} {
		code, out, stderr := run(t, env, "inspect", "--config", cfg, "--env", "production", "--log-level", "debug", "-o", format, "/account")
		if code != 0 {
			t.Errorf("-o %s: exit %d: %s", format, code, stderr)
		}
		if strings.Contains(out+stderr, leakSession) {
			t.Errorf("-o %s: the session value echoed by the site was printed:\n%s%s", format, out, stderr)
		}
	}
}

// TestSessionReflectedInVerifyActualScrubbed: a site reflecting the session
// value in a header that a headers.equal check compares makes the check fail
// with the header's value as `actual`; that value is scrubbed in every
// format and in the GitHub annotations.
func TestSessionReflectedInVerifyActualScrubbed(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sessionid"); err == nil {
			w.Header().Set("X-User", "session="+c.Value)
		}
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("X-Cache", "MISS")
	}))
	t.Cleanup(site.Close)
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
    session: {cookie: sessionid, value_env: TEST_SESSION}
routes:
  - path: /account
    owner: accounts-team
    expect:
      logged_in: {headers: {equal: {X-User: anonymous}}}
`, site.URL))
	// The second value has characters that JSON, XML and HTML escape.
	for _, session := range []string{leakSession, "sess+8e4a<61f0&9d2c'leakcheck"} {
		env := map[string]string{"TEST_SESSION": session, "GITHUB_ACTIONS": "true"}
		for _, format := range []string{"table", "json", "jsonl", "junit", "markdown", "html"} {
			code, out, stderr := run(t, env, "verify", "--config", cfg, "--env", "production", "-o", format)
			if code != ExitCheckFailed {
				t.Errorf("-o %s: exit %d, want 1: %s", format, code, stderr)
			}
			if !strings.Contains(out, "REDACTED") {
				t.Errorf("-o %s: want the reflected value shown as REDACTED:\n%s", format, out)
			}
			if strings.Contains(out+stderr, "8e4a") {
				t.Errorf("-o %s: the reflected session value was printed:\n%s%s", format, out, stderr)
			}
		}
	}
}

// TestAPIRedirectNeverCarriesTheToken: a purge API answering 307 to another
// server (even on the same host) does not get the token re-sent there: the
// purge client follows no redirect, and the purge is a failure.
func TestAPIRedirectNeverCarriesTheToken(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
	}))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	site := newSessionSite(t, "http://127.0.0.1:1")
	cfg := secretsConfig(t, site.URL, api.URL+"/client/v4")
	env := map[string]string{"TEST_SESSION": leakSession, "TEST_CF_TOKEN": leakToken}
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "/articles/1")
	if code != ExitOperational {
		t.Errorf("exit %d, want 3: %s%s", code, out, stderr)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the token followed the redirect %d times", n)
	}
}

// TestFastlyKeyEchoedNeverPrintedOrJournaled: the same for Fastly, whose
// key travels in Fastly-Key: an API answer quoting it is scrubbed from every
// output format, stderr and the journal.
func TestFastlyKeyEchoedNeverPrintedOrJournaled(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden} {
		api := echoingAPI(t, status)
		cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: https://www.example.com
    cdn: {provider: fastly, service_id: SU1Z0isxPaozGVKXdv0eY, api_token_env: TEST_FASTLY_TOKEN, api_url: %s, max_attempts: 2}
`, api.URL))
		env := map[string]string{"TEST_FASTLY_TOKEN": leakToken}
		for _, format := range []string{"table", "json", "jsonl"} {
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal,
				"--log-level", "debug", "-o", format, "/articles/1", "--tag", "blog")
			if code != ExitOperational {
				t.Errorf("%d -o %s: exit %d, want 3: %s", status, format, code, stderr)
			}
			b, _ := os.ReadFile(journal)
			for name, text := range map[string]string{"stdout": out, "stderr": stderr, "journal": string(b)} {
				if strings.Contains(text, leakToken) {
					t.Errorf("%d -o %s: the key echoed by the API reached %s:\n%s", status, format, name, text)
				}
			}
		}
	}
}
