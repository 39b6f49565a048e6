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

// TestCloudFrontSecretsNeverLeak runs every purge path through the
// CloudFront provider at debug level in every output format — success
// after a lost answer, dry run, --verify, an API that is down and the
// resume, credentials refused by a gateway that quotes them back, purge
// log, config show and validate — and looks for the AWS access key, its
// secret and the session token in stdout, stderr and the journal.
func TestCloudFrontSecretsNeverLeak(t *testing.T) {
	site := newCFSite(t)
	api, cfg := cloudfrontSetup(t, cloudfrontfake.Options{LoseAnswers: 1, CompleteAfter: 20 * time.Millisecond}, site.URL)
	env := cfEnv(t)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	base := []string{"--config", cfg, "--log-level", "debug"}
	secrets := []string{cfKey.AccessKeyID, cfKey.SecretAccessKey, cfKey.SessionToken}
	exec := func(name string, wantCode int, args ...string) string {
		t.Helper()
		code, out, stderr := run(t, env, append(append([]string{}, base...), args...)...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d\nstderr: %s", name, code, wantCode, stderr)
		}
		for _, s := range secrets {
			if strings.Contains(out+stderr, s) {
				t.Errorf("%s: output holds a secret:\n%s\n%s", name, out, stderr)
			}
		}
		return stderr
	}
	for i, format := range []string{"table", "json", "jsonl"} {
		page := "/articles/" + string(rune('1'+i))
		exec("purge -o "+format, 0, "purge", "--env", "production", "--journal", journal, "--reason", "leak check", "--verify", "-o", format, page)
		exec("purge --dry-run -o "+format, 0, "purge", "--env", "production", "--journal", journal, "--dry-run", "--variants", "--prefix", "/blog/", "-o", format, page)
	}
	// The API down, then the resume once it is back.
	api.Config.Handler = cloudfrontfake.New(cloudfrontfake.Options{DistributionID: cfDistribution, Credentials: cfKey, Faults: cdnfake.Faults{FailFirst: 100, Status: http.StatusServiceUnavailable}})
	stderr := exec("purge (API down)", ExitOperational, "purge", "--env", "production", "--journal", journal, "-o", "jsonl", "/articles/7", "/articles/8")
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume command in %q", stderr)
	}
	api.Config.Handler = cloudfrontfake.New(cloudfrontfake.Options{DistributionID: cfDistribution, Credentials: cfKey})
	for _, format := range []string{"table", "json", "jsonl"} {
		exec("purge --resume -o "+format, 0, "purge", "--journal", journal, "--resume", m[1], "-o", format)
		exec("purge log -o "+format, 0, "purge", "log", "--journal", journal, "-o", format)
	}
	// A gateway that refuses the session token and quotes the request's
	// credentials back.
	api.Config.Handler = cloudfrontfake.New(cloudfrontfake.Options{DistributionID: cfDistribution, EchoCredentials: true,
		Credentials: cloudfrontfake.Credentials{AccessKeyID: cfKey.AccessKeyID, SecretAccessKey: cfKey.SecretAccessKey, SessionToken: "another-token"}})
	for _, format := range []string{"table", "json", "jsonl"} {
		stderr := exec("purge (credentials refused) -o "+format, ExitOperational, "purge", "--env", "production", "--journal", journal, "-o", format, "/articles/9")
		if !strings.Contains(stderr, "InvalidClientTokenId") || !strings.Contains(stderr, "X-Amz-Security-Token: REDACTED") {
			t.Errorf("the refusal should be shown, its quoted credentials redacted:\n%s", stderr)
		}
	}
	for _, format := range []string{"table", "json"} {
		exec("config show -o "+format, 0, "config", "show", "-o", format)
		exec("config validate -o "+format, 0, "config", "validate", "-o", format)
	}
	b, err := os.ReadFile(journal)
	if err != nil || len(b) == 0 {
		t.Fatalf("journal: %v (%d bytes)", err, len(b))
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("the journal holds a secret")
		}
	}
}
