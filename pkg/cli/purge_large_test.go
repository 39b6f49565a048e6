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

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
)

// TestLargePurgeSpoolsJournalsAndResumes: a purge larger than the plan
// kept in memory is spooled and journaled batch by batch before anything
// is sent; a batch the API fails is resumed from the journal alone, and
// every URL reaches the API exactly once confirmed.
func TestLargePurgeSpoolsJournalsAndResumes(t *testing.T) {
	const n = 6000
	fake := cloudflarefake.NewServer(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}, FilesLimit: 500,
		Faults: cdnfake.Faults{FailNth: []int{5, 6}, Status: http.StatusBadGateway}})
	t.Cleanup(fake.Close)
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: https://%s
    cdn:
      provider: cloudflare
      zone_id: %s
      api_token_env: TEST_CF_TOKEN
      api_url: %s
      plan: enterprise
      max_attempts: 2
`, zoneHost, zoneID, fake.APIURL()))
	env := map[string]string{"TEST_CF_TOKEN": cfToken, "TMPDIR": t.TempDir()}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, n), "-o", "json")
	if code != ExitOperational {
		t.Fatalf("exit %d, want 3 (one batch failed): %s", code, stderr)
	}
	var doc struct {
		Targets []struct{ State string }
		Summary struct{ Purged, Failed int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("-o json: %v", err)
	}
	if len(doc.Targets) != n || doc.Summary.Purged != n-500 || doc.Summary.Failed != 500 {
		t.Fatalf("%d records, %d purged, %d failed; want %d, %d, 500", len(doc.Targets), doc.Summary.Purged, doc.Summary.Failed, n, n-500)
	}
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 1+12+12+1 || !strings.Contains(lines[0], `"target_count":6000`) || !strings.Contains(lines[1], `"type":"plan"`) {
		t.Fatalf("journal: %d lines (want start, 12 plans, 12 batches, end), first %.200s", len(lines), lines[0])
	}
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume command in %q", stderr)
	}
	before := fake.Counts().Items
	code, _, stderr = run(t, env, "purge", "--config", cfg, "--journal", journal, "--resume", m[1], "-o", "jsonl")
	if code != ExitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if got := fake.Counts().Items - before; got != 500 {
		t.Errorf("the resume purged %d URLs, want the failed batch's 500", got)
	}
	if entries, _ := os.ReadDir(env["TMPDIR"]); len(entries) != 0 {
		t.Errorf("the plan's spool left %d file(s) in TMPDIR", len(entries))
	}

	// An empty file names nothing to purge: exit 2, never "purged 0".
	empty := writeFile(t, "empty.txt", "# nothing changed\n\n")
	code, _, stderr = run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", empty)
	if code != ExitUsage || !strings.Contains(stderr, "no target given: --from-file "+empty+" names no URL or path") {
		t.Errorf("empty --from-file: exit %d, stderr %q; want 2", code, stderr)
	}

	// The plan is spooled in TMPDIR: where none can be made, nothing is sent.
	env["TMPDIR"] = filepath.Join(t.TempDir(), "missing")
	before = fake.Counts().Requests
	code, _, stderr = run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, n))
	if code != ExitOperational || !strings.Contains(stderr, "spool the plan to disk") || !strings.Contains(stderr, env["TMPDIR"]) {
		t.Errorf("exit %d, stderr %q; want 3 naming the spool directory", code, stderr)
	}
	if got := fake.Counts().Requests - before; got != 0 {
		t.Errorf("%d request(s) sent without a plan, want none", got)
	}
}
