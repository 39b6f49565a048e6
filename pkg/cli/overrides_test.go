package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

// TestOverrideOfAPIURLAbsentFromFile: CACHECTL_..._CDN_API_URL points the
// purge at a test API although the file has no api_url; the dry run shows
// it and the real run reaches only it.
func TestOverrideOfAPIURLAbsentFromFile(t *testing.T) {
	fake, _, env := cloudflareSetup(t, cloudflareNoFaults())
	path := filepath.Join(t.TempDir(), "cachectl.yaml")
	cfg := fmt.Sprintf("environments:\n  production:\n    base_url: https://%s\n    cdn: {provider: cloudflare, zone_id: %s, api_token_env: TEST_CF_TOKEN}\n", zoneHost, zoneID)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env["CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_API_URL"] = fake.APIURL()
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := run(t, env, "purge", "--config", path, "--env", "production", "--dry-run", "/articles/1")
	if code != 0 || !strings.Contains(out, fake.APIURL()) || strings.Contains(out, "api.cloudflare.com") {
		t.Fatalf("dry run: exit %d, want the overridden API URL %s in:\n%s%s", code, fake.APIURL(), out, stderr)
	}
	code, _, stderr = run(t, env, "purge", "--config", path, "--env", "production", "--journal", journal, "/articles/1")
	if code != 0 || len(fake.Requests()) != 1 {
		t.Fatalf("purge: exit %d, %d requests reached the overridden API: %s", code, len(fake.Requests()), stderr)
	}
}

// TestOverrideNamingNoKeyExits2: a CACHECTL_ variable that names no config
// key stops every command with exit 2 naming it; nothing is sent.
func TestOverrideNamingNoKeyExits2(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cloudflareNoFaults())
	env["CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_APIURL"] = "http://127.0.0.1:1/"
	code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "/articles/1")
	if code != ExitUsage || !strings.Contains(stderr, "CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_APIURL") {
		t.Fatalf("exit %d, want 2 naming the variable: %s", code, stderr)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func cloudflareNoFaults() cdnfake.Faults { return cdnfake.Faults{} }
