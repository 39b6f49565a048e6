package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
	"github.com/cachectl/cachectl/pkg/purge"
)

// TestPurgeInterrupted: Ctrl-C while a batch hangs exits 130, leaves a
// journal that accounts for every target, and --resume finishes the job.
func TestPurgeInterrupted(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{Hang: true})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	ios, _, _, errOut := iostreams.Test()
	ctx, cancel := context.WithCancel(context.Background())
	// What signal.NotifyContext does on SIGINT/SIGTERM, while the first
	// batch's request hangs (the fake records a request when it answers).
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	code := Execute(ctx, []string{"purge", "--config", cfg, "--env", "production", "--journal", journal, "--from-file", urlFile(t, 75)}, ios, config.EnvironFromMap(env))
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want 130: %s", code, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to stop after the interrupt", d)
	}
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(errOut.String())
	if m == nil {
		t.Fatalf("no resume command: %s", errOut)
	}

	log, err := purge.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	runs := log.Runs(10)
	if len(runs) != 1 || runs[0].Targets != 75 || runs[0].Pending != 75 || runs[0].Status != "interrupted" {
		t.Fatalf("journal runs = %+v, want one interrupted run with 75 pending targets", runs)
	}

	healthy := cloudflarefake.New(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}})
	fake.Config.Handler = healthy
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--journal", journal, "--resume", m[1], "-o", "jsonl")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if n := strings.Count(out, `"state":"purged"`); n != 75 || healthy.Counts().Items != 75 {
		t.Errorf("resume purged %d (API saw %d), want 75", n, healthy.Counts().Items)
	}
}
