package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestVerifyRecordFlags: --record takes ROUTE arguments, refuses what does
// not go with it, and without --yes needs a terminal to ask on; all before
// anything is sent.
func TestVerifyRecordFlags(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	def := func(mod func(*VerifyOptions)) *VerifyOptions {
		opts := &VerifyOptions{Seed: 1, Interval: 5 * time.Second, Concurrency: 8, Record: true, Yes: true, RecordRoutes: []string{}}
		mod(opts)
		return opts
	}
	cases := []parseCase[VerifyOptions]{
		{name: "every route", env: "production", args: []string{"--record", "--yes"}, want: def(func(*VerifyOptions) {})},
		{name: "chosen routes", env: "production", args: []string{"--record", "--yes", "/"}, want: def(func(o *VerifyOptions) { o.RecordRoutes = []string{"/"} })},

		{name: "no terminal and no --yes", env: "production", args: []string{"--record", "/"}, code: ExitUsage, wantErr: "verify --record: no terminal to confirm on; add --yes to write the changes to " + cfg},
		{name: "a route not in the config", env: "production", args: []string{"--record", "--yes", "/nope"}, code: ExitUsage, wantErr: `verify --record: "/nope" is not a route of ` + cfg},
		{name: "with --routes", env: "production", args: []string{"--record", "--yes", "--routes", cfg}, code: ExitUsage, wantErr: "verify --record: --routes does not go with --record"},
		{name: "with --shard", env: "production", args: []string{"--record", "--yes", "--shard", "1/2"}, code: ExitUsage, wantErr: "verify --record: --shard does not go with --record"},
		{name: "no environment", args: []string{"--record", "--yes"}, code: ExitUsage, wantErr: "verify --record: no environment chosen"},
	}
	runParseCases(t, cfg, cases, newCmdVerify, func(o *VerifyOptions) *cmdDeps { return &o.cmdDeps }, func(o *VerifyOptions) error {
		_, err := planRecord(o)
		return err
	})
	if n := o.requests.Load(); n != 0 {
		t.Errorf("planning sent %d request(s), want none", n)
	}
}

// recordConfig is a config whose one route expects less than the test
// origin's max-age=600 and whose comments must survive a recording.
func recordConfig(t *testing.T, base string) string {
	return writeFile(t, "cachectl.yaml", fmt.Sprintf(`# The test site.
environments:
  production:
    base_url: %s
routes:
  # The home page.
  - path: /
    owner: web-team  # ask in #web
    expect:
      anonymous: { status: 200, min_max_age: 60, max_max_age: 60 }  # one minute
    rollback: cachectl purge --env production /
  - path: /other
    expect:
      anonymous: { status: 200, cache: [HIT] }
`, base))
}

// TestVerifyRecordOnATerminal: on a terminal the diff is shown in colour
// and the file written only once the question is answered yes; the other
// route, the comments and the layout stay as they were.
func TestVerifyRecordOnATerminal(t *testing.T) {
	o := newOrigin(t)
	for _, tt := range []struct {
		answer  string
		written bool
	}{{"n\n", false}, {"y\n", true}} {
		t.Run(strings.TrimSpace(tt.answer), func(t *testing.T) {
			cfg := recordConfig(t, o.URL)
			before, _ := os.ReadFile(cfg)
			code, out, stderr := runOn(t, allTerminals, tt.answer, nil, "--config", cfg, "--env", "production", "verify", "--record", "/")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(out, ansi) || !strings.Contains(out, "min_max_age: 600") {
				t.Errorf("want a coloured diff with the new lifetime:\n%s", out)
			}
			if !strings.Contains(stderr, "Write these changes to "+cfg+"? [y/N]") {
				t.Errorf("no question on stderr: %q", stderr)
			}
			after, _ := os.ReadFile(cfg)
			if changed := string(after) != string(before); changed != tt.written {
				t.Fatalf("file changed = %v, want %v:\n%s", changed, tt.written, after)
			}
			if !tt.written {
				return
			}
			want := strings.Replace(string(before), "      anonymous: { status: 200, min_max_age: 60, max_max_age: 60 }  # one minute",
				"      anonymous: {status: 200, cache: [MISS, EXPIRED, BYPASS, DYNAMIC], min_max_age: 600, max_max_age: 600, fail_on_findings: error} # one minute", 1)
			if string(after) != want {
				t.Errorf("file after recording:\n%s\nwant only the route's expectation changed:\n%s", after, want)
			}
			if code, _, stderr := run(t, nil, "--config", cfg, "--env", "production", "verify", "/"); code != ExitUsage {
				t.Errorf("verify with a route argument but no --record: exit %d, want 2 (%s)", code, stderr)
			}
		})
	}
}

// TestVerifyRecordWithYesWhenPiped: --yes writes without asking, the diff
// is plain text, and recording again finds nothing to change.
func TestVerifyRecordWithYesWhenPiped(t *testing.T) {
	o := newOrigin(t)
	cfg := recordConfig(t, o.URL)
	code, out, stderr := run(t, nil, "--config", cfg, "--env", "production", "verify", "--record", "--yes", "/")
	if code != ExitOK || strings.Contains(out, ansi) || !strings.HasPrefix(out, "--- "+cfg+"\n+++ "+cfg+" (recorded from production)\n@@ ") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "--config", cfg, "--env", "production", "verify", "--record", "--yes", "/")
	if code != ExitOK || out != "" || !strings.Contains(stderr, "No change") {
		t.Errorf("second recording: exit %d, stdout %q, stderr %q; want no change", code, out, stderr)
	}
	if code, _, stderr := run(t, nil, "--config", cfg, "--env", "production", "verify"); code != ExitCheckFailed || !strings.Contains(stderr, "1 route") {
		t.Errorf("verify after recording /: exit %d (%s); want /other alone to fail, as it did", code, stderr)
	}
}
