package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/iostreams"
)

// testFactory is the Factory Execute builds, for calling a command's plan
// and run steps one at a time.
func testFactory(t *testing.T, cfg string, env map[string]string) *Factory {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	return &Factory{
		IO:      ios,
		Globals: &Globals{ConfigFile: cfg, Env: "production", Timeout: 5 * time.Second},
		Lookup:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// replaceFile swaps path for a new file with body, the way an editor or a
// deploy script does.
func replaceFile(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTargetsFileSwappedBetweenPassesIsRechecked: a targets file is checked
// before anything is sent and read again as the run goes. A file swapped in
// between for one naming another host must not send the session cookie
// there: the run stops at that line with a usage error naming the file and
// the line, and the other host gets no request at all.
func TestTargetsFileSwappedBetweenPassesIsRechecked(t *testing.T) {
	site := newOrigin(t)
	other := newOrigin(t)
	cfg := writeConfig(t, site.URL)
	env := map[string]string{"TEST_SESSION": sessionValue}
	ctx := context.Background()
	steal := other.URL + "/steal"

	tests := []struct {
		name string
		// planAndRun plans the command on file, calls swap, then runs it.
		planAndRun func(f *Factory, file string, swap func()) error
		want       func(file string) []string
	}{
		{
			name: "inspect --from-file",
			planAndRun: func(f *Factory, file string, swap func()) error {
				opts := &InspectOptions{cmdDeps: f.deps(), FromFile: file, Concurrency: 1, Repeat: 1, Method: "GET", Wait: time.Second}
				p, err := planInspect(opts)
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				swap()
				return runInspect(ctx, opts, p)
			},
			want: func(file string) []string {
				return []string{"--from-file " + file + " line 3: " + steal + " is not on a host of environment"}
			},
		},
		{
			name: "verify --routes",
			planAndRun: func(f *Factory, file string, swap func()) error {
				opts := &VerifyOptions{cmdDeps: f.deps(), Routes: file, Concurrency: 1, Seed: 1, Interval: time.Second}
				p, err := planVerify(ctx, opts)
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				swap()
				return runVerify(ctx, opts, p)
			},
			want: func(file string) []string {
				return []string{steal + " is not on a host of environment", "--routes " + file + " changed after it was checked"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "targets.txt")
			if err := os.WriteFile(file, []byte("/a\n/b\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			before := site.requests.Load()
			err := tt.planAndRun(testFactory(t, cfg, env), file, func() {
				replaceFile(t, file, "# swapped\n/a\n"+steal+"\n")
			})
			if code := exitCode(ctx, err); code != ExitUsage {
				t.Errorf("exit %d (%v), want %d", code, err, ExitUsage)
			}
			for _, want := range tt.want(file) {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
			if n := other.requests.Load(); n != 0 {
				t.Errorf("the other host got %d request(s), want none", n)
			}
			if site.requests.Load() == before {
				t.Error("the site got no request: the run never started")
			}
		})
	}
}

// TestTargetFilesFollowOneSetOfRules: inspect --from-file, verify --routes
// and purge --from-file read files the same way: a byte order mark, CRLF,
// comments, blank lines and surrounding whitespace are fine; a line with
// whitespace inside is refused with its line number, before anything is sent.
func TestTargetFilesFollowOneSetOfRules(t *testing.T) {
	site := newOrigin(t)
	cfg := writeConfig(t, site.URL)
	env := map[string]string{"TEST_SESSION": sessionValue}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(good, []byte("\ufeff# changed\r\n  /a  \r\n\r\n\t"+site.URL+"/b\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("# changed\n/a\n/b /c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inspect", "--from-file", good, "-o", "jsonl"},
		{"verify", "--routes", good, "-o", "jsonl"},
	} {
		args = append([]string{"--config", cfg, "--env", "nosession"}, args...)
		code, out, stderr := run(t, env, args...)
		if code != ExitOK || strings.Count(out, site.URL+"/a") == 0 || strings.Count(out, site.URL+"/b") == 0 {
			t.Errorf("%s: exit %d, want 0 with /a and /b probed\n%s\n%s", args[4], code, out, stderr)
		}
	}
	// purge plans with its provider: the same site, purged by PURGE.
	purgeCfg := writeFile(t, "purge.yaml", fmt.Sprintf("environments:\n  nosession:\n    base_url: %s\n    cdn:\n      provider: http-purge\n      endpoints: [%s]\n", site.URL, site.URL))
	for _, args := range [][]string{
		{"--config", cfg, "inspect", "--from-file", bad},
		{"--config", cfg, "verify", "--routes", bad},
		{"--config", purgeCfg, "purge", "--from-file", bad},
	} {
		before := site.requests.Load()
		code, _, stderr := run(t, env, append([]string{"--env", "nosession"}, args...)...)
		args = args[2:]
		if want := args[1] + " " + bad + " line 3: "; code != ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", args[0], code, stderr, ExitUsage, want)
		}
		if n := site.requests.Load() - before; n != 0 {
			t.Errorf("%s: %d request(s) sent, want none", args[0], n)
		}
	}
}
