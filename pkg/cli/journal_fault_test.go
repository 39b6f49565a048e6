package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
)

// TestResumeSkipsCorruptJournalLine: a torn line in the middle of a real
// journal (a write cut short by a crash) is reported with its line number,
// and --resume still re-sends exactly the targets the intact lines leave
// unconfirmed.
func TestResumeSkipsCorruptJournalLine(t *testing.T) {
	// 95 URLs in batches of 30: batches 1 and 2 go through, 3 and 4 fail
	// both attempts (requests 3 to 6).
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{FailNth: []int{3, 4, 5, 6}, Status: http.StatusBadGateway})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, 95))
	if code != ExitOperational {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume command in %q", stderr)
	}

	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("journal has %d lines, want start, 4 plans, 4 batches, end:\n%s", len(lines), raw)
	}
	// Line 3 becomes the first half of a copy of line 2 (the first batch's
	// plan): valid start, no end.
	torn := lines[1][:len(lines[1])/2] + "\n"
	corrupted := slices.Concat(lines[:2], []string{torn}, lines[2:])
	if err := os.WriteFile(journal, []byte(strings.Join(corrupted, "")), 0o600); err != nil {
		t.Fatal(err)
	}

	healthy := cloudflarefake.New(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}})
	fake.Config.Handler = healthy
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--journal", journal, "--resume", m[1], "-o", "jsonl")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if want := fmt.Sprintf("journal %s line 3 skipped", journal); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	var sent []string
	for _, r := range healthy.Requests() {
		var body struct{ Files []string }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("request body: %v", err)
		}
		sent = append(sent, body.Files...)
	}
	var want []string
	for i := 61; i <= 95; i++ {
		want = append(want, fmt.Sprintf("https://%s/articles/%d", zoneHost, i))
	}
	slices.Sort(sent)
	slices.Sort(want)
	if !slices.Equal(sent, want) {
		t.Errorf("resume sent %d URLs, want exactly the 35 of the failed batches:\n got %v\nwant %v", len(sent), sent, want)
	}
	if got := strings.Count(out, `"state":"purged"`); got != 35 {
		t.Errorf("resume reported %d purged, want 35", got)
	}

	// purge log reads past the same line.
	code, out, stderr = run(t, env, "purge", "log", "--journal", journal, "-o", "json")
	if code != 0 || !strings.Contains(out, `"status": "complete"`) || !strings.Contains(stderr, "line 3 skipped") {
		t.Errorf("purge log: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
}
