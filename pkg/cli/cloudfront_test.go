package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
)

const cfDistribution = "EDFDVBD6EXAMPLE"

// cfKey is the access key the CloudFront fakes accept; unique values, so
// a leak is easy to find.
var cfKey = cloudfrontfake.Credentials{
	AccessKeyID:     "AKIACLITEST000000001",
	SecretAccessKey: "cf-cli-secret-3d8e1a7f-leakcheck",
	SessionToken:    "FwoGZXIvYXdzEJr-cli-session-leakcheck",
}

// cfEnv is the environment a CloudFront purge runs with: the fake's key,
// the instance metadata service off, a private state directory.
func cfEnv(t testing.TB) map[string]string {
	t.Helper()
	return map[string]string{
		"AWS_ACCESS_KEY_ID": cfKey.AccessKeyID, "AWS_SECRET_ACCESS_KEY": cfKey.SecretAccessKey, "AWS_SESSION_TOKEN": cfKey.SessionToken,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
		"XDG_STATE_HOME": t.TempDir(),
	}
}

// cfSite is a site behind CloudFront that answers every page as a miss
// and remembers when each path was first requested.
type cfSite struct {
	*httptest.Server
	mu    sync.Mutex
	first map[string]time.Time
}

func newCFSite(t *testing.T) *cfSite {
	t.Helper()
	s := &cfSite{first: map[string]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if _, ok := s.first[r.URL.Path]; !ok {
			s.first[r.URL.Path] = time.Now()
		}
		s.mu.Unlock()
		w.Header().Set("X-Cache", "Miss from cloudfront")
		w.Header().Set("Via", "1.1 abc.cloudfront.net (CloudFront)")
		fmt.Fprintln(w, "<html>fresh</html>")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *cfSite) firstRequest(path string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first[path]
}

// cloudfrontSetup starts a CloudFront fake and writes a config whose
// production environment purges through it.
func cloudfrontSetup(t testing.TB, opts cloudfrontfake.Options, baseURL string) (*cloudfrontfake.Server, string) {
	t.Helper()
	opts.DistributionID = cfDistribution
	if opts.Credentials.AccessKeyID == "" {
		opts.Credentials = cfKey
	}
	fake := cloudfrontfake.NewServer(opts)
	t.Cleanup(fake.Close)
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
    cdn:
      provider: cloudfront
      distribution_id: %s
      api_url: %s
      poll_interval: 10ms
      wait_timeout: 20s
      max_attempts: 2
routes:
  - path: /articles/1
    owner: editorial
`, baseURL, cfDistribution, fake.URL))
	return fake, cfg
}

type cfRecord struct {
	Target   string `json:"target"`
	State    string `json:"state"`
	PurgeID  string `json:"purge_id"`
	Error    string `json:"error"`
	Batch    int    `json:"batch"`
	Attempts int    `json:"attempts"`
	Verify   *struct {
		Passed bool `json:"passed"`
		Cache  struct {
			Status string `json:"status"`
		} `json:"cache"`
	} `json:"verify"`
}

func cfRecords(t *testing.T, out string) []cfRecord {
	t.Helper()
	var recs []cfRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r cfRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestCloudFrontPurgeBatchesUnderTheLimits: 3,500 URLs go out as two
// invalidations, the second once the first has left room under
// CloudFront's 3,000 paths in progress; every record and the journal
// carry the invalidation's id.
func TestCloudFrontPurgeBatchesUnderTheLimits(t *testing.T) {
	fake, cfg := cloudfrontSetup(t, cloudfrontfake.Options{CompleteAfter: time.Second}, "https://www.example.com")
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := run(t, cfEnv(t), "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, 3500), "-o", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	invs := fake.Invalidations()
	if len(invs) != 2 || len(invs[0].Paths) != 3000 || len(invs[1].Paths) != 500 {
		t.Fatalf("invalidations = %d, want 3000 then 500 paths", len(invs))
	}
	if invs[1].Created.Before(invs[0].Completed) {
		t.Error("the second invalidation went out while the first kept the distribution full")
	}
	for _, r := range fake.Requests() {
		if strings.Contains(string(r.Response), "TooManyInvalidationsInProgress") {
			t.Errorf("CloudFront refused request %d for lack of room", r.Seq)
		}
	}
	if !strings.Contains(stderr, "cloudfront: waiting for room on distribution "+cfDistribution+": 3000 of 3000 paths") {
		t.Errorf("stderr does not say why the run waited:\n%s", stderr)
	}
	recs := cfRecords(t, out)
	if len(recs) != 3500 || recs[0].PurgeID != invs[0].ID || recs[3499].PurgeID != invs[1].ID || recs[3499].Batch != 2 || recs[0].State != "purged" {
		t.Errorf("%d records, first %+v, last %+v; want 3500 purged with their invalidation ids", len(recs), recs[0], recs[len(recs)-1])
	}
	j, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if !strings.Contains(string(j), `"purge_id":"`+inv.ID+`"`) {
			t.Errorf("the journal lacks invalidation %s", inv.ID)
		}
	}
}

// TestCloudFrontRetriesAndResumeMakeOneInvalidation: an answer lost on
// its way back is retried with the same CallerReference; a run whose
// answers are all lost fails with the resume command, and the resume gets
// the invalidation CloudFront already made instead of a second one.
func TestCloudFrontRetriesAndResumeMakeOneInvalidation(t *testing.T) {
	fake, cfg := cloudfrontSetup(t, cloudfrontfake.Options{LoseAnswers: 1}, "https://www.example.com")
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	env := cfEnv(t)
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "-o", "jsonl", "/articles/1", "/articles/2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if recs := cfRecords(t, out); len(fake.Invalidations()) != 1 || recs[0].Attempts != 2 || recs[1].PurgeID != fake.Invalidations()[0].ID {
		t.Errorf("%d invalidations, records %+v; want one, after 2 attempts", len(fake.Invalidations()), recs)
	}

	lost, cfg := cloudfrontSetup(t, cloudfrontfake.Options{LoseAnswers: 2}, "https://www.example.com")
	code, _, stderr = run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "-o", "jsonl", "/articles/3", "/articles/4")
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if code != ExitOperational || m == nil {
		t.Fatalf("exit %d, want 3 with the resume command: %s", code, stderr)
	}
	code, out, stderr = run(t, env, "purge", "--config", cfg, "--journal", journal, "--resume", m[1], "-o", "jsonl")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	invs := lost.Invalidations()
	if len(invs) != 1 || len(lost.Requests()) != 3 {
		t.Fatalf("CloudFront holds %d invalidations after %d requests, want 1 after 3", len(invs), len(lost.Requests()))
	}
	for _, r := range cfRecords(t, out) {
		if r.State != "purged" || r.PurgeID != invs[0].ID {
			t.Errorf("resumed record %+v, want purged by %s", r, invs[0].ID)
		}
	}
}

// TestCloudFrontDryRun: the plan shows the paths in the exact request,
// the number of invalidations and what they cost, and sends nothing.
func TestCloudFrontDryRun(t *testing.T) {
	fake, cfg := cloudfrontSetup(t, cloudfrontfake.Options{}, "https://www.example.com")
	code, out, stderr := run(t, cfEnv(t), "purge", "--config", cfg, "--env", "production", "--dry-run",
		"--prefix", "/blog/", "/articles/1?page=2", "https://www.example.com/caf%C3%A9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"-> POST " + fake.URL + "/2020-05-31/distribution/" + cfDistribution + "/invalidation",
		"Authorization: AWS4-HMAC-SHA256 REDACTED",
		"<Path>/articles/1?page=2</Path><Path>/caf%C3%A9</Path>",
		"<Path>/blog/*</Path>",
		"cloudfront: 2 invalidations of 3 paths (1 wildcard) on distribution " + cfDistribution,
		"the first 1,000 are free, then each\n  path costs $0.005",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the dry run sent %d requests", n)
	}
	code, out, _ = run(t, cfEnv(t), "purge", "--config", cfg, "--env", "production", "--dry-run", "--everything", "-o", "jsonl")
	if code != 0 || !strings.Contains(out, `"target":"everything","kind":"everything","state":"planned"`) {
		t.Errorf("dry run of everything: exit %d:\n%s", code, out)
	}
}

// TestCloudFrontEverythingAndRefusals: --everything --yes is one
// invalidation of /*; what CloudFront cannot purge is refused before
// anything is sent.
func TestCloudFrontEverythingAndRefusals(t *testing.T) {
	fake, cfg := cloudfrontSetup(t, cloudfrontfake.Options{}, "https://www.example.com")
	env := cfEnv(t)
	if code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--everything", "--yes"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if invs := fake.Invalidations(); len(invs) != 1 || strings.Join(invs[0].Paths, " ") != "/*" {
		t.Errorf("invalidations = %+v, want one of /*", invs)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--tag", "blog"}, `provider "cloudfront" cannot purge by tag (supports: url, prefix, everything)`},
		{[]string{"--host", "www.example.com", "--yes"}, `cannot purge by host`},
		{[]string{"--soft", "/a"}, "cannot soft purge"},
	} {
		code, _, stderr := run(t, env, append([]string{"purge", "--config", cfg, "--env", "production"}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if n := len(fake.Invalidations()); n != 1 {
		t.Errorf("%d invalidations, want the one of /* only", n)
	}
}

// TestCloudFrontVerifyWaitsForCompletion: --verify probes a URL only after
// its invalidation is Completed, and says on stderr that it is waiting.
func TestCloudFrontVerifyWaitsForCompletion(t *testing.T) {
	site := newCFSite(t)
	fake, cfg := cloudfrontSetup(t, cloudfrontfake.Options{CompleteAfter: time.Second}, site.URL)
	code, out, stderr := run(t, cfEnv(t), "purge", "--config", cfg, "--env", "production", "--verify", "-o", "jsonl", "/articles/1", "/articles/2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	inv := fake.Invalidations()[0]
	for _, p := range []string{"/articles/1", "/articles/2"} {
		if got := site.firstRequest(p); got.IsZero() || got.Before(inv.Completed) {
			t.Errorf("%s was probed at %v, before its invalidation completed at %v", p, got, inv.Completed)
		}
	}
	for _, r := range cfRecords(t, out) {
		if r.Verify == nil || !r.Verify.Passed || r.Verify.Cache.Status != "MISS" {
			t.Errorf("record %+v, want verified MISS", r)
		}
	}
	for _, want := range []string{"cloudfront: invalidation " + inv.ID + " is InProgress after", "cloudfront: invalidation " + inv.ID + " completed after"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestCloudFrontConfig: config validate names a wrong distribution id and
// a token in the config; config show says where credentials come from.
func TestCloudFrontConfig(t *testing.T) {
	cfg := writeFile(t, "cachectl.yaml", `environments:
  production:
    base_url: https://www.example.com
    cdn: {provider: cloudfront, distribution_id: d111111abcdef8.cloudfront.net, api_token_env: AWS_SECRET_ACCESS_KEY}
`)
	code, _, stderr := run(t, nil, "config", "validate", "--config", cfg)
	for _, want := range []string{
		`environments.production.cdn.distribution_id: found "d111111abcdef8.cloudfront.net", expected a CloudFront distribution id`,
		`environments.production.cdn.api_token_env: found "AWS_SECRET_ACCESS_KEY", expected nothing: cloudfront takes its credentials from the AWS SDK's default chain`,
	} {
		if code != ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	_, cfg = cloudfrontSetup(t, cloudfrontfake.Options{}, "https://www.example.com")
	code, out, stderr := run(t, cfEnv(t), "config", "show", "--config", cfg)
	if code != 0 || !strings.Contains(out, "environments.production.cdn.credentials: from the AWS SDK's default chain") || strings.Contains(out, cfKey.SecretAccessKey) {
		t.Errorf("config show: exit %d: %s%s", code, out, stderr)
	}
}
