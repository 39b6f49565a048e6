package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/akamaifake"
	"github.com/cachectl/cachectl/internal/cdnfake/bunnyfake"
	"github.com/cachectl/cachectl/pkg/purge/akamai/edgegrid"
)

// Credentials no output, log or journal may ever contain.
var akamaiCreds = edgegrid.Credentials{
	Host:         "akab-leakcheck-host.luna.akamaiapis.net",
	ClientToken:  "akab-ct-7d2e91c4a0b3-leakcheck",
	ClientSecret: "cs-5b8f3e1a9c2d7e4f-leakcheck=",
	AccessToken:  "akab-at-1f6c0d8e2b9a-leakcheck",
}

const bunnyKey = "bunny-key-3e9a0c7d51f2-leakcheck"

// edgeSite is a site behind Akamai or Bunny: every page answers with the
// cache status given.
func edgeSite(t *testing.T, xcache string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Cache", xcache)
		w.Header().Set("Cache-Control", "public, max-age=300")
	}))
	t.Cleanup(s.Close)
	return s
}

// akamaiSetup starts the Fast Purge fake and writes a config whose
// production environment purges through it, with the credentials in
// $HOME/.edgerc (HOME from the environment the command is given).
func akamaiSetup(t *testing.T, site string, opts akamaifake.Options, cdnExtra string) (*akamaifake.Server, string, map[string]string) {
	t.Helper()
	opts.Credentials = akamaiCreds
	fake := akamaifake.NewServer(opts)
	t.Cleanup(fake.Close)
	home := t.TempDir()
	edgerc := fmt.Sprintf("[default]\nhost = %s\nclient_token = %s\nclient_secret = %s\naccess_token = %s\n",
		akamaiCreds.Host, akamaiCreds.ClientToken.Reveal(), akamaiCreds.ClientSecret.Reveal(), akamaiCreds.AccessToken.Reveal())
	if err := os.WriteFile(filepath.Join(home, ".edgerc"), []byte(edgerc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
    cdn:
      provider: akamai
      api_url: %s
      cp_codes: [12345]
      max_attempts: 2%s
`, site, fake.URL, cdnExtra))
	return fake, cfg, map[string]string{"HOME": home}
}

func bunnySetup(t *testing.T, site string, opts bunnyfake.Options) (*bunnyfake.Server, string, map[string]string) {
	t.Helper()
	opts.Token = bunnyKey
	fake := bunnyfake.NewServer(opts)
	t.Cleanup(fake.Close)
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
    cdn:
      provider: bunny
      api_token_env: TEST_BUNNY_KEY
      api_url: %s
      max_attempts: 2
`, site, fake.URL))
	return fake, cfg, map[string]string{"TEST_BUNNY_KEY": bunnyKey}
}

// TestAkamaiPurgeVerifiesAfterTheEstimate: the API's estimate is shown
// and waited out before --verify probes; an invalidated page revalidated
// with the origin passes, a deleted one must come from the origin.
func TestAkamaiPurgeVerifiesAfterTheEstimate(t *testing.T) {
	site := edgeSite(t, "TCP_REFRESH_HIT from a23-1-2-3.deploy.akamaitechnologies.com (AkamaiGHost/22.1.0)")
	fake, cfg, env := akamaiSetup(t, site.URL, akamaifake.Options{EstimatedSeconds: 1}, "")
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	start := time.Now()
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--verify", "-o", "jsonl", "/articles/1", "/articles/2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("verified after %v, before the API's 1s estimate", d)
	}
	if got := strings.Count(out, `"estimated_seconds":1,"verify":{"cache":{"status":"REVALIDATED"`); got != 2 {
		t.Errorf("%d records show the estimate and a passed REVALIDATED check, want 2:\n%s", got, out)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/ccu/v3/invalidate/url/production" || reqs[0].Items != 2 {
		t.Fatalf("requests = %+v, want one invalidation of 2 URLs", reqs)
	}

	code, out, _ = run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--verify", "--delete", "-o", "jsonl", "/articles/1")
	if code != ExitCheckFailed || !strings.Contains(out, `"status":"REVALIDATED"`) {
		t.Errorf("--delete with the page still revalidated: exit %d, want 1:\n%s", code, out)
	}
	if reqs := fake.Requests(); reqs[len(reqs)-1].Path != "/ccu/v3/delete/url/production" {
		t.Errorf("--delete sent %s", reqs[len(reqs)-1].Path)
	}
	code, _, stderr = run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--everything", "--yes")
	if last := fake.Requests()[len(fake.Requests())-1]; code != 0 || last.Path != "/ccu/v3/invalidate/cpcode/production" || string(last.Body) != `{"objects":[12345]}` {
		t.Errorf("--everything: exit %d (%s), sent %s %s; want the configured CP code invalidated", code, stderr, last.Path, last.Body)
	}
}

// TestAkamaiRunFailsThenResumes: an API that answers 502 fails the run
// with the resume command; once it is back, --resume deletes exactly the
// targets left, each once, as the run would have; the dry run sends
// nothing and shows the signed request without its credentials.
func TestAkamaiRunFailsThenResumes(t *testing.T) {
	site := edgeSite(t, "TCP_MISS")
	dead, cfg, env := akamaiSetup(t, site.URL, akamaifake.Options{Faults: cdnfake.Faults{FailFirst: 1000, Status: http.StatusBadGateway}}, "")
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--delete", "--from-file", urlFile(t, 45), "--tag", "blog")
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if code != ExitOperational || m == nil {
		t.Fatalf("exit %d, want 3 with the resume command: %s", code, stderr)
	}
	if n := len(dead.Requests()); n != 4 {
		t.Errorf("dead API got %d requests, want 2 batches × 2 attempts", n)
	}
	healthy := akamaifake.New(akamaifake.Options{Credentials: akamaiCreds})
	dead.Config.Handler = healthy
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--journal", journal, "--resume", m[1], "-o", "jsonl")
	if code != 0 || strings.Count(out, `"state":"purged"`) != 46 {
		t.Fatalf("resume: exit %d, %d purged: %s", code, strings.Count(out, `"state":"purged"`), stderr)
	}
	if c := healthy.Counts(); c.Items != 46 || c.Requests != 2 {
		t.Errorf("healthy API: %d requests, %d objects; want 2 and 46 (each once)", c.Requests, c.Items)
	}
	for _, r := range healthy.Requests() {
		if !r.Delete {
			t.Errorf("the resume sent %s: want the run's deletions", r.Path)
		}
	}
	code, out, _ = run(t, env, "purge", "--config", cfg, "--env", "production", "--dry-run", "/articles/1")
	sent := len(healthy.Requests())
	for _, want := range []string{"POST " + dead.URL + "/ccu/v3/invalidate/url/production", "Authorization: EG1-HMAC-SHA256 REDACTED", `{"objects":["` + site.URL + `/articles/1"]}`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if code != 0 || len(healthy.Requests()) != sent {
		t.Errorf("dry run: exit %d, sent %d requests", code, len(healthy.Requests())-sent)
	}
}

// TestBunnyPurgeThrottledToItsBuckets: 130 URLs against Bunny's exact
// bucket of 120 at 5 a second: the client waits for the last ones itself,
// so the API refuses nothing; the journal records every URL.
func TestBunnyPurgeThrottledToItsBuckets(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Bunny's bucket to refill")
	}
	site := edgeSite(t, "MISS")
	fake, cfg, env := bunnySetup(t, site.URL, bunnyfake.Options{RateLimits: true})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	start := time.Now()
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, 130), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// 119 tokens at once (one under Bunny's bucket), 11 more at 5 a second.
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("130 purges took %v, want the 2.2s the bucket allows", d)
	}
	c := fake.Counts()
	if c.Requests != 130 || c.RateLimited != 0 || !strings.Contains(out, `"api_calls": 130`) {
		t.Errorf("API: %d requests, %d rate limited; want 130 and none", c.Requests, c.RateLimited)
	}
	if j, _ := os.ReadFile(journal); strings.Count(string(j), `"state":"purged"`) != 130 {
		t.Errorf("journal records %d purged URLs, want 130", strings.Count(string(j), `"state":"purged"`))
	}
}

// TestBunnyRetriesAndPrefixes: a 429 with Retry-After is waited out; a
// prefix goes as the URL with a trailing *; the dry run shows the request
// with the key hidden.
func TestBunnyRetriesAndPrefixes(t *testing.T) {
	site := edgeSite(t, "MISS")
	fake, cfg, env := bunnySetup(t, site.URL, bunnyfake.Options{Faults: cdnfake.Faults{FailFirst: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second}})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--verify", "-o", "jsonl", "--prefix", "/blog/", "/articles/1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	reqs := fake.Requests()
	if len(reqs) != 3 || reqs[1].Time.Sub(reqs[0].Time) < 900*time.Millisecond {
		t.Fatalf("requests %d (retry after %v), want 3 with the 1s Retry-After honoured", len(reqs), reqs[1].Time.Sub(reqs[0].Time))
	}
	if !strings.Contains(reqs[2].Path, "%2Fblog%2F%2A&async=false") || !strings.Contains(out, `"verify":{"cache":{"status":"MISS"`) {
		t.Errorf("prefix request %s; output %s", reqs[2].Path, out)
	}
	code, out, _ = run(t, env, "purge", "--config", cfg, "--env", "production", "--dry-run", "/articles/1/")
	if code != 0 || !strings.Contains(out, "AccessKey: REDACTED") || !strings.Contains(out, "&exactPath=true") || len(fake.Requests()) != 3 {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
}

// TestNewProvidersSecretsNeverLeak: with the Akamai and Bunny providers,
// at debug level and in every output format, the .edgerc credentials and
// the Bunny key appear in no output, log or journal, whether the purge
// succeeds, fails and resumes, is a dry run, or is refused by an API that
// quotes the credentials back.
func TestNewProvidersSecretsNeverLeak(t *testing.T) {
	secrets := []string{akamaiCreds.ClientToken.Reveal(), akamaiCreds.ClientSecret.Reveal(), akamaiCreds.AccessToken.Reveal(), bunnyKey}
	site := edgeSite(t, "TCP_MISS")
	_, akamaiCfg, akamaiEnv := akamaiSetup(t, site.URL, akamaifake.Options{EstimatedSeconds: 1, Faults: cdnfake.Faults{FailFirst: 1, Status: http.StatusServiceUnavailable}}, "")
	_, bunnyCfg, bunnyEnv := bunnySetup(t, site.URL, bunnyfake.Options{Faults: cdnfake.Faults{FailFirst: 1, Status: http.StatusServiceUnavailable}})
	echo := echoingAPI(t, http.StatusUnauthorized) // quotes the Authorization header back
	_, echoCfg, echoEnv := akamaiSetup(t, site.URL, akamaifake.Options{}, "")
	echoCfg = writeFile(t, "echo.yaml", strings.Replace(mustRead(t, echoCfg), "api_url: ", "api_url: "+echo.URL+" #", 1))
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	check := func(name, out, stderr string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out+stderr, s) {
				t.Errorf("%s: a credential reached the output:\n%s\n%s", name, out, stderr)
			}
		}
	}
	for _, p := range []struct {
		name string
		cfg  string
		env  map[string]string
	}{{"akamai", akamaiCfg, akamaiEnv}, {"bunny", bunnyCfg, bunnyEnv}, {"akamai echoing", echoCfg, echoEnv}} {
		for _, format := range []string{"table", "json", "jsonl"} {
			base := []string{"--config", p.cfg, "--log-level", "debug", "-o", format}
			_, out, stderr := run(t, p.env, append(base, "purge", "--env", "production", "--journal", journal, "--verify", "/articles/1")...)
			check(p.name+" purge -o "+format, out, stderr)
			_, out, stderr = run(t, p.env, append(base, "purge", "--env", "production", "--journal", journal, "--dry-run", "--variants", "/articles/1")...)
			check(p.name+" purge --dry-run -o "+format, out, stderr)
			if m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr); m != nil {
				_, out, stderr = run(t, p.env, append(base, "purge", "--journal", journal, "--resume", m[1])...)
				check(p.name+" purge --resume -o "+format, out, stderr)
			}
			_, out, stderr = run(t, p.env, append(base, "purge", "log", "--journal", journal)...)
			check(p.name+" purge log -o "+format, out, stderr)
		}
		for _, args := range [][]string{{"config", "show"}, {"config", "validate"}} {
			_, out, stderr := run(t, p.env, append([]string{"--config", p.cfg, "--log-level", "debug"}, args...)...)
			check(p.name+" "+strings.Join(args, " "), out, stderr)
		}
	}
	j := mustRead(t, journal)
	check("the journal", j, "")
	if !strings.Contains(j, "REDACTED") {
		t.Error("the journal holds no redacted echo: the echoing API was not exercised")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
