package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputExits2: input refused before anything is sent is a usage
// error (exit 2) with a message naming what was wrong, not an operational
// failure (exit 3).
func TestBadInputExits2(t *testing.T) {
	o := newOrigin(t)
	_, cfCfg, cfEnv := cloudflareSetup(t, cloudflareNoFaults())
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"bogus"}, `unknown command "bogus"`},
		{"extra arguments", nil, []string{"version", "extra"}, `"extra"`},
		{"unknown flag", nil, []string{"inspect", "--bogus", o.URL}, "unknown flag: --bogus"},
		{"header with CR/LF", nil, []string{"inspect", "-H", "X-A: a\r\nX-Injected: b", o.URL + "/"}, "line break"},
		{"port above 65535", nil, []string{"inspect", "http://127.0.0.1:70000/"}, "expected a number from 1 to 65535"},
		{"--journal a directory", cfEnv, []string{"purge", "--config", cfCfg, "--env", "production", "--journal", dir, "/articles/1"}, "is a directory"},
		{"purge log --journal a directory", nil, []string{"purge", "log", "--journal", dir}, "is a directory"},
		{"token with a line break", map[string]string{"TEST_CF_TOKEN": "abc\ndef"}, []string{"purge", "--config", cfCfg, "--env", "production", "--journal", filepath.Join(dir, "j"), "/articles/1"}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.env, tt.args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
	if n := o.requests.Load(); n != 0 {
		t.Errorf("%d requests reached the origin", n)
	}
}

// TestHostHeaderWithSessionRefused: -H "Host: other.example" with the
// logged-in variant would carry the session cookie to another virtual
// host; it is refused before anything is sent. Anonymous probes may use it.
func TestHostHeaderWithSessionRefused(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	env := map[string]string{"TEST_SESSION": "sess-abcdef123456"}
	for _, as := range []string{"both", "logged-in"} {
		args := []string{"inspect", "--config", cfg, "--env", "production", "-H", "Host: other.example", "--as", as, "/"}
		code, _, stderr := run(t, env, args...)
		if code != ExitUsage || !strings.Contains(stderr, "never sent to another virtual host") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if n := o.requests.Load(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	code, _, stderr := run(t, env, "inspect", "--config", cfg, "--env", "production", "--as", "anonymous", "-H", "Host: other.example", "/")
	if code == ExitUsage {
		t.Errorf("anonymous with a Host header: exit 2: %s", stderr)
	}
}

// TestNoConfigFileSaysWhereItLooked: a command that needs an environment,
// run without any config file, says that none was found, where it looked
// and how to start one, instead of listing no environments.
func TestNoConfigFileSaysWhereItLooked(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	for _, args := range [][]string{{"verify"}, {"purge", "/a"}, {"inspect", "/a"}, {"diff"}} {
		code, _, stderr := run(t, env, args...)
		want := "no config file was found (looked for ./cachectl.yaml and " + home + "/.config/cachectl/config.yaml); create one"
		if code != ExitUsage || !strings.Contains(stderr, want) || strings.Contains(stderr, "one of: )") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}

// TestPurgeFileErrorsNameTheLine: an out-of-host or control-character line
// in --from-file is refused with its line number; nothing is sent.
func TestPurgeFileErrorsNameTheLine(t *testing.T) {
	fake, cfg, env := cloudflareSetup(t, cloudflareNoFaults())
	for name, body := range map[string]string{
		"line 3: https://evil.example/x is outside environment": "# changed\n/articles/1\nhttps://evil.example/x\n",
		"line 2: invalid path": "/articles/1\n/articles/2\x01x\n",
	} {
		path := writeFile(t, "urls.txt", body)
		code, _, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "--from-file", path)
		if code != ExitUsage || !strings.Contains(stderr, path+" "+name) {
			t.Errorf("exit %d, stderr %q; want 2 naming %q", code, stderr, name)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
