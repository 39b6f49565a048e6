package cli

import (
	"runtime"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/golden"
)

// TestConfigShowGolden prints a fixed config that refers to three secrets, two
// set and one missing: each is reported as set or unavailable, and no value
// is printed. Another prints related rules (top level and per environment)
// and cache-key headers as loaded.
func TestConfigShowGolden(t *testing.T) {
	env := map[string]string{
		"CACHECTL_TEST_SESSION":  "sv-golden-7c1d90e2",
		"CACHECTL_TEST_CF_TOKEN": "cf-golden-55a0b3f4",
	}
	for _, tt := range []struct{ name, format, file string }{
		{"config_show", "table", "config_show.yaml"},
		{"config_show_json", "json", "config_show.yaml"},
		{"config_show_related", "table", "config_show_related.yaml"},
		{"config_show_related_json", "json", "config_show_related.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, env, "config", "show", "--config", "testdata/"+tt.file, "-o", tt.format)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (stderr %q)", code, stderr)
			}
			for _, v := range env {
				if strings.Contains(out+stderr, v) {
					t.Errorf("config show printed the secret %q", v)
				}
			}
			golden.Check(t, tt.name, []byte(out))
		})
	}
}

// TestVersionGolden pins the build variables the release build sets with
// -ldflags; the Go version and platform are the test binary's own, so they
// are replaced by placeholders.
func TestVersionGolden(t *testing.T) {
	saved := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = saved[0], saved[1], saved[2] })
	version, commit, date = "v1.4.0", "3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "2025-03-14T09:26:53Z"
	normalize := strings.NewReplacer(runtime.Version(), "GOVERSION", runtime.GOOS+"/"+runtime.GOARCH, "GOOS/GOARCH")
	for _, tt := range []struct{ name, format string }{
		{"version", "table"},
		{"version_json", "json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, nil, "version", "-o", tt.format)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (stderr %q)", code, stderr)
			}
			golden.Check(t, tt.name, []byte(normalize.Replace(out)))
		})
	}
}
