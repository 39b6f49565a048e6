package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
)

// cfLeakCheck runs cachectl at debug level against a CloudFront fake and
// fails the test when the AWS access key, its secret or the session token
// shows in stdout or stderr.
type cfLeakCheck struct {
	t    *testing.T
	env  map[string]string
	base []string
}

func newCFLeakCheck(t *testing.T, cfg string) *cfLeakCheck {
	return &cfLeakCheck{t: t, env: cfEnv(t), base: []string{"--config", cfg, "--log-level", "debug"}}
}

// exec runs args and returns stderr.
func (c *cfLeakCheck) exec(name string, wantCode int, args ...string) string {
	c.t.Helper()
	code, out, stderr := run(c.t, c.env, append(append([]string{}, c.base...), args...)...)
	if code != wantCode {
		c.t.Errorf("%s: exit %d, want %d\nstderr: %s", name, code, wantCode, stderr)
	}
	c.noSecret(name, out+stderr)
	return stderr
}

func (c *cfLeakCheck) noSecret(where, text string) {
	c.t.Helper()
	for _, s := range []string{cfKey.AccessKeyID, cfKey.SecretAccessKey, cfKey.SessionToken} {
		if strings.Contains(text, s) {
			c.t.Errorf("%s holds a secret:\n%s", where, text)
		}
	}
}

// TestCloudFrontSecretsNeverLeak runs every purge path through the
// CloudFront provider at debug level in every output format — success
// after a lost answer, dry run, --verify, an API that is down and the
// resume, purge log, config show and validate — and looks for the AWS
// access key, its secret and the session token in stdout, stderr and the
// journal.
func TestCloudFrontSecretsNeverLeak(t *testing.T) {
	site := newCFSite(t)
	api, cfg := cloudfrontSetup(t, cloudfrontfake.Options{LoseAnswers: 1, CompleteAfter: 20 * time.Millisecond}, site.URL)
	c := newCFLeakCheck(t, cfg)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	for i, format := range []string{"table", "json", "jsonl"} {
		page := "/articles/" + string(rune('1'+i))
		c.exec("purge -o "+format, 0, "purge", "--env", "production", "--journal", journal, "--reason", "leak check", "--verify", "-o", format, page)
		c.exec("purge --dry-run -o "+format, 0, "purge", "--env", "production", "--journal", journal, "--dry-run", "--variants", "--prefix", "/blog/", "-o", format, page)
	}
	api.Config.Handler = cloudfrontfake.New(cloudfrontfake.Options{DistributionID: cfDistribution, Credentials: cfKey, Faults: cdnfake.Faults{FailFirst: 100, Status: http.StatusServiceUnavailable}})
	stderr := c.exec("purge (API down)", ExitOperational, "purge", "--env", "production", "--journal", journal, "-o", "jsonl", "/articles/7", "/articles/8")
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume command in %q", stderr)
	}
	api.Config.Handler = cloudfrontfake.New(cloudfrontfake.Options{DistributionID: cfDistribution, Credentials: cfKey})
	for _, format := range []string{"table", "json", "jsonl"} {
		c.exec("purge --resume -o "+format, 0, "purge", "--journal", journal, "--resume", m[1], "-o", format)
		c.exec("purge log -o "+format, 0, "purge", "log", "--journal", journal, "-o", format)
	}
	for _, format := range []string{"table", "json"} {
		c.exec("config show -o "+format, 0, "config", "show", "-o", format)
		c.exec("config validate -o "+format, 0, "config", "validate", "-o", format)
	}
	b, err := os.ReadFile(journal)
	if err != nil || len(b) == 0 {
		t.Fatalf("journal: %v (%d bytes)", err, len(b))
	}
	c.noSecret("the journal", string(b))
}

// TestCloudFrontEchoedCredentialsScrubbed: a gateway that refuses the
// session token and quotes the request's Authorization and
// X-Amz-Security-Token back gets its refusal shown with both redacted,
// in every format and in the journal.
func TestCloudFrontEchoedCredentialsScrubbed(t *testing.T) {
	_, cfg := cloudfrontSetup(t, cloudfrontfake.Options{EchoCredentials: true,
		Credentials: cloudfrontfake.Credentials{AccessKeyID: cfKey.AccessKeyID, SecretAccessKey: cfKey.SecretAccessKey, SessionToken: "another-token"}}, "https://www.example.com")
	c := newCFLeakCheck(t, cfg)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	for _, format := range []string{"table", "json", "jsonl"} {
		stderr := c.exec("purge -o "+format, ExitOperational, "purge", "--env", "production", "--journal", journal, "-o", format, "/articles/9")
		if !strings.Contains(stderr, "InvalidClientTokenId") || !strings.Contains(stderr, "X-Amz-Security-Token: REDACTED") {
			t.Errorf("the refusal should be shown, its quoted credentials redacted:\n%s", stderr)
		}
	}
	b, err := os.ReadFile(journal)
	if err != nil || !strings.Contains(string(b), "InvalidClientTokenId") {
		t.Fatalf("journal: %v\n%s", err, b)
	}
	c.noSecret("the journal", string(b))
}
