package cli

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
	"github.com/spf13/cobra"
)

// parseWith runs one command built with a capturing runF and returns what
// it captured, or the parse error.
func parseWith[O any](t *testing.T, build func(*Factory, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := &Factory{IO: ios, Globals: &Globals{}}
	var got *O
	cmd := build(f, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	return got, cmd.Execute()
}

func TestPurgeFlags(t *testing.T) {
	build := newCmdPurge
	tests := []struct {
		args []string
		want PurgeOptions
	}{
		{[]string{"/a", "https://www.example.com/b"}, PurgeOptions{Targets: []string{"/a", "https://www.example.com/b"}}},
		{[]string{"--from-file", "-", "--dry-run", "--variants"}, PurgeOptions{FromFile: "-", DryRun: true, Variants: true, Targets: []string{}}},
		{[]string{"--tag", "blog", "--tag", "authors", "--prefix", "/blog/", "--host", "www.example.com"}, PurgeOptions{Tags: []string{"blog", "authors"}, Prefixes: []string{"/blog/"}, Hosts: []string{"www.example.com"}, Targets: []string{}}},
		{[]string{"--everything", "--yes", "--soft"}, PurgeOptions{Everything: true, Yes: true, Soft: true, Targets: []string{}}},
		{[]string{"--verify", "--warm", "--reason", "fix typo", "--journal", "j.jsonl", "/a"}, PurgeOptions{Verify: true, Warm: true, Reason: "fix typo", Journal: "j.jsonl", Targets: []string{"/a"}}},
		{[]string{"--resume", "20261126T161200Z-ab12cd"}, PurgeOptions{Resume: "20261126T161200Z-ab12cd", Targets: []string{}}},
		{[]string{"--delete", "/a"}, PurgeOptions{Delete: true, Targets: []string{"/a"}}},
		{[]string{"--stale", "--sitemap", "https://www.example.com/sitemap.xml", "--rate", "20"}, PurgeOptions{Stale: true, Sitemap: "https://www.example.com/sitemap.xml", Rate: 20, Targets: []string{}}},
		{[]string{"--related", "--key-header", "CF-Device-Type: mobile,desktop", "--key-header", "Accept-Language: en", "/articles/a"},
			PurgeOptions{Related: true, KeyHeaders: []string{"CF-Device-Type: mobile,desktop", "Accept-Language: en"}, Targets: []string{"/articles/a"}}},
	}
	for _, tt := range tests {
		got, err := parseWith(t, build, tt.args...)
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		tt.want.Concurrency = 8 // the --stale check's default
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%v:\n got %+v\nwant %+v", tt.args, *got, tt.want)
		}
	}
	if _, err := parseWith(t, build, "--bogus"); err == nil {
		t.Error("--bogus accepted")
	}
}

func TestPurgeLogFlags(t *testing.T) {
	build := newCmdPurgeLog
	got, err := parseWith(t, build)
	if err != nil || *got != (PurgeLogOptions{Limit: 20}) {
		t.Errorf("defaults: %+v, %v", got, err)
	}
	got, err = parseWith(t, build, "--limit", "5", "--journal", "j.jsonl")
	if err != nil || *got != (PurgeLogOptions{Limit: 5, Journal: "j.jsonl"}) {
		t.Errorf("flags: %+v, %v", got, err)
	}
	if _, err := parseWith(t, build, "extra"); err == nil {
		t.Error("an argument was accepted")
	}
}

// TestWholeZonePurgesNeedConfirmation: --host, --prefix / and resuming a
// purge-everything run empty a whole host or zone, so like --everything
// they need --yes; a narrower prefix does not.
func TestWholeZonePurgesNeedConfirmation(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	base := []string{"purge", "--config", cfg, "--env", "production", "--journal", journal}
	for _, extra := range [][]string{{"--host", "www.example.com"}, {"--prefix", "/"}, {"--prefix", "https://www.example.com/"}} {
		code, _, stderr := run(t, env, append(base, extra...)...)
		if code != ExitUsage || !strings.Contains(stderr, "add --yes to confirm; nothing was sent") {
			t.Errorf("%v without --yes: exit %d: %s", extra, code, stderr)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d requests sent without confirmation", n)
	}
	if code, _, stderr := run(t, env, append(base, "--prefix", "/blog/")...); code != 0 {
		t.Errorf("--prefix /blog/: exit %d: %s", code, stderr)
	}
	// An interrupted purge-everything run resumes only with --yes.
	dead, deadCfg, _ := cloudflareSetup(t, cdnfake.Faults{FailFirst: 1000, Status: 502})
	deadBase := []string{"purge", "--config", deadCfg, "--env", "production", "--journal", journal}
	code, _, stderr := run(t, env, append(deadBase, "--everything", "--yes")...)
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(stderr)
	if code != ExitOperational || m == nil {
		t.Fatalf("dead API: exit %d, %s", code, stderr)
	}
	sent := len(dead.Requests())
	code, _, stderr = run(t, env, append(deadBase, "--resume", m[1])...)
	if code != ExitUsage || !strings.Contains(stderr, "--everything purges the whole cache") || len(dead.Requests()) != sent {
		t.Errorf("resume without --yes: exit %d, %d more requests: %s", code, len(dead.Requests())-sent, stderr)
	}
}

// TestPurgeAuthFailurePrintsResume: after an authentication failure the
// message names the resume command and says once that retrying will not
// help.
func TestPurgeAuthFailurePrintsResume(t *testing.T) {
	_, cfg, _ := cloudflareSetup(t, cdnfake.Faults{})
	code, _, stderr := run(t, map[string]string{"TEST_CF_TOKEN": "wrong-token"}, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "/articles/1")
	if code != ExitOperational || !regexp.MustCompile(`--resume \S+`).MatchString(stderr) {
		t.Errorf("exit %d, want 3 with the resume command: %s", code, stderr)
	}
	if n := strings.Count(stderr, "retrying will not help"); n != 1 {
		t.Errorf("%q said %d times: %s", "retrying will not help", n, stderr)
	}
}

// TestPurgeTerminalOutput: success chatter and the progress bar go to a
// terminal's stderr only; piped output carries the data alone.
func TestPurgeTerminalOutput(t *testing.T) {
	_, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	args := []string{"purge", "--config", cfg, "--env", "production", "--from-file", urlFile(t, 65)}
	for _, tty := range []bool{true, false} {
		ios, _, out, errOut := iostreams.Test()
		ios.SetTTY(false, tty, tty)
		a := append(append([]string{}, args...), "--journal", filepath.Join(t.TempDir(), "j"))
		if code := Execute(context.Background(), a, ios, config.EnvironFromMap(env)); code != 0 {
			t.Fatalf("tty=%v: exit %d: %s", tty, code, errOut)
		}
		chatter := strings.Contains(errOut.String(), "✓ Purged 65 targets")
		progress := strings.Contains(errOut.String(), "purging")
		if chatter != tty || progress != tty {
			t.Errorf("tty=%v: success line %v, progress %v; want both %v:\n%s", tty, chatter, progress, tty, errOut)
		}
		if !strings.Contains(out.String(), "/articles/65") {
			t.Errorf("tty=%v: the table lacks the targets:\n%s", tty, out)
		}
		colored := strings.Contains(out.String(), "\x1b[")
		if colored != tty {
			t.Errorf("tty=%v: colour %v", tty, colored)
		}
	}
}
