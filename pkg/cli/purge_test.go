package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/stacktest"
)

const (
	zoneID   = "023e105f4ecef8ad9ca31a8372d0c353"
	cfToken  = "cf-token-7d1e0c9a5b-unique"
	zoneHost = "www.example.com"
)

// cloudflareSetup starts a Cloudflare API fake and writes a config pointing
// the production environment at it, 30 URLs a request so that a few dozen
// targets make several batches.
func cloudflareSetup(t *testing.T, faults cdnfake.Faults) (*cloudflarefake.Server, string, map[string]string) {
	t.Helper()
	fake := cloudflarefake.NewServer(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}, Faults: faults})
	t.Cleanup(fake.Close)
	path := filepath.Join(t.TempDir(), "cachectl.yaml")
	cfg := fmt.Sprintf(`environments:
  production:
    base_url: https://%s
    cdn:
      provider: cloudflare
      zone_id: %s
      api_token_env: TEST_CF_TOKEN
      api_url: %s
      plan: enterprise
      batch_size: 30
      max_attempts: 2
routes:
  - path: /articles/1
    owner: editorial
`, zoneHost, zoneID, fake.APIURL())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return fake, path, map[string]string{"TEST_CF_TOKEN": cfToken}
}

func urlFile(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# articles changed by the last deploy\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "/articles/%d\n", i)
	}
	path := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPurgeBatchesToTheAPILimit(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal,
		"--reason", "deploy 42", "--from-file", urlFile(t, 95), "-o", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("API got %d requests, want ceil(95/30) = 4", len(reqs))
	}
	total := 0
	for _, r := range reqs {
		if r.Items > 30 || r.Kind != "url" {
			t.Errorf("request %d: %d %s items, want at most 30 URLs", r.Seq, r.Items, r.Kind)
		}
		total += r.Items
	}
	if total != 95 {
		t.Errorf("API got %d URLs, want 95", total)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 95 {
		t.Fatalf("got %d records, want 95", len(lines))
	}
	var first struct {
		Target, State, PurgeID, Owner string
		Batch                         int
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Target != "https://www.example.com/articles/1" || first.State != "purged" || first.Batch != 1 || first.Owner != "editorial" {
		t.Errorf("first record = %+v", first)
	}
	j, _ := os.ReadFile(journal)
	for _, want := range []string{"deploy 42", "https://www.example.com/articles/95", "editorial"} {
		if !strings.Contains(string(j), want) {
			t.Errorf("journal lacks %q", want)
		}
	}
}

func TestPurgeRefusesBeforeSending(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"outside the zone", env, []string{"/articles/1", "https://blog.example.org/a"}, `https://blog.example.org/a is outside environment "production" (allowed hosts: www.example.com); nothing was sent`},
		{"no target", env, nil, "no target given"},
		{"everything without --yes", env, []string{"--everything"}, "add --yes to confirm"},
		{"everything with others", env, []string{"--everything", "--yes", "/a"}, "--everything cannot be combined"},
		{"unset token", map[string]string{}, []string{"/a"}, "names variable TEST_CF_TOKEN, which is not set"},
		{"soft on cloudflare", env, []string{"--soft", "/a"}, "soft"},
		{"delete on cloudflare", env, []string{"--delete", "/a"}, `provider "cloudflare" cannot delete instead of invalidating`},
		{"warm without verify", env, []string{"--warm", "/a"}, "--warm needs --verify"},
		{"bad url", env, []string{"http://[::1/x"}, "http://[::1/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"purge", "--config", cfg, "--env", "production", "--journal", journal}, tt.args...)
			code, _, stderr := run(t, tt.env, args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("API got %d requests, want none", n)
	}
}

func TestPurgeEverythingNeedsYes(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "--everything", "--yes")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Kind != "everything" || !strings.Contains(string(reqs[0].Body), `"purge_everything":true`) {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestPurgeWaitsOut429(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{FailFirst: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	start := time.Now()
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "-o", "jsonl", "/articles/1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("finished after %s; Retry-After: 1 was not honoured", d)
	}
	if n := len(fake.Requests()); n != 2 || !strings.Contains(out, `"attempts":2`) {
		t.Errorf("API got %d requests (want 2), output %s", n, out)
	}
}

func TestPurgeAuthFailure(t *testing.T) {
	fake, cfg, _ := cloudflareSetup(t, cdnfake.Faults{})
	code, _, stderr := run(t, map[string]string{"TEST_CF_TOKEN": "wrong-token"}, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "/articles/1", "/articles/2")
	if code != ExitOperational {
		t.Errorf("exit %d, want 3", code)
	}
	for _, want := range []string{"TEST_CF_TOKEN", "Cache Purge", "retrying will not help"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, stderr)
		}
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("API got %d requests, want 1 (no retry on 401)", n)
	}
}

// TestPurgeDeadAPIThenResume: every request fails, the run exits 3 with the
// resume command; once the API is back, --resume purges exactly the rest.
func TestPurgeDeadAPIThenResume(t *testing.T) {
	dead, cfg, env := cloudflareSetup(t, cdnfake.Faults{FailFirst: 1000, Status: http.StatusBadGateway})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, 45), "--log-level", "debug")
	if code != ExitOperational {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume command in %q", stderr)
	}
	if n := len(dead.Requests()); n != 4 {
		t.Errorf("dead API got %d requests, want 2 batches × 2 attempts", n)
	}
	// The API comes back at the same address.
	healthy := cloudflarefake.New(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}})
	dead.Config.Handler = healthy
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--journal", journal, "--resume", m[1], "-o", "jsonl")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if got := strings.Count(out, `"state":"purged"`); got != 45 {
		t.Errorf("resume purged %d targets, want 45", got)
	}
	if c := healthy.Counts(); c.Items != 45 {
		t.Errorf("healthy API purged %d URLs, want 45 (each exactly once)", c.Items)
	}
	code, out, _ = run(t, env, "purge", "log", "--journal", journal, "-o", "json")
	if code != 0 || !strings.Contains(out, `"status": "complete"`) || !strings.Contains(out, `"resumes": 1`) {
		t.Errorf("purge log: exit %d\n%s", code, out)
	}
	j, _ := os.ReadFile(journal)
	if strings.Contains(string(j), cfToken) || strings.Contains(stderr, cfToken) {
		t.Error("the API token leaked into the journal or logs")
	}
}

func TestPurgeDryRunSendsNothing(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--dry-run", "--variants", "/articles/1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"POST " + fake.APIURL() + "/zones/" + zoneID + "/purge_cache", "http://www.example.com/articles/1", "https://www.example.com/articles/1/", "planned 4 (dry run: nothing sent)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, cfToken) {
		t.Error("dry run printed the token")
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
}

// TestPurgeVerifiedOnRealVarnish is the editor's use case on the real stack:
// purge one article on production, prove it with a MISS, leave staging alone.
func TestPurgeVerifiedOnRealVarnish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Shared(t)
	cfg := s.ConfigYAML(t)
	article := "/articles/go-context-cancellation"
	get := func(base string) string {
		resp, err := http.Get(base + article)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Cache")
	}
	get(s.ProductionURL)
	get(s.StagingURL)
	if p, st := get(s.ProductionURL), get(s.StagingURL); p != "HIT" || st != "HIT" {
		t.Fatalf("caches not warm: production %s staging %s", p, st)
	}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	env := map[string]string{"CACHECTL_DEMO_SESSION": "unused"}
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--verify", "--reason", "fix typo", "-o", "jsonl", article)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"state":"purged"`) || !strings.Contains(out, `"verify":{"cache":{"status":"MISS"`) {
		t.Errorf("output: %s", out)
	}
	if st := get(s.StagingURL); st != "HIT" {
		t.Errorf("staging was touched: %s", st)
	}
	j, _ := os.ReadFile(journal)
	if !strings.Contains(string(j), "fix typo") || !strings.Contains(string(j), article) {
		t.Errorf("journal: %s", j)
	}
}
