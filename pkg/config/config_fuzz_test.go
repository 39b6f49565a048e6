package config

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/cachectl/cachectl/pkg/target"
)

// FuzzLoadConfig feeds arbitrary YAML to Load: it must never panic, must
// fail only with a file or validation error, and whatever it accepts must be
// usable (every environment has an http(s) base URL paths resolve against).
func FuzzLoadConfig(f *testing.F) {
	f.Add(validConfig)
	if demo, err := os.ReadFile(filepath.Join("..", "..", "configs", "demo.yaml")); err == nil {
		f.Add(string(demo))
	}
	for _, seed := range []string{
		"",
		"environments: {}",
		"environments:\n  production:\n    base_url: ftp://x\n    wat: 1\n",
		"environments:\n  p:\n    base_url: https://www.example.com\n    cdn: {provider: fastly, service_id: x, api_token_file: /nonexistent}\n",
		"environments:\n  p: &a\n    base_url: https://a.example\n  q: *a\n",
		"routes:\n  - path: /\n    expect: {anonymous: {cache: [HIT, WARM], min_max_age: -1, max_ttfb_ms: .nan}}\n",
		"environments:\n  p:\n    base_url: https://[::1]:8443/base/\n    hosts: ['[::1]:8443', 'EXAMPLE.com.']\n    headers: {Host: x}\n",
		"environments: [1, 2, 3]\nroutes: {a: b}\n",
		"a: &a [*a]\n",
		"environments:\n  p:\n    base_url: https://www.example.com\nroutes:\n  - path: /x\n    expect: {logged_in: {headers: {match: {X: '('}}}}\n",
		"\xff\xfe\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		path := filepath.Join(t.TempDir(), "cachectl.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(LoadOptions{File: path})
		if err != nil {
			var ve *ValidationError
			var fe *FileError
			if !errors.As(err, &ve) && !errors.As(err, &fe) {
				t.Fatalf("Load error %T %v, want a *ValidationError or *FileError", err, err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, name := range cfg.EnvNames() {
			env, err := cfg.Env(name)
			if err != nil {
				t.Fatalf("Env(%q) of a loaded config: %v", name, err)
			}
			u, err := url.Parse(env.BaseURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("accepted base_url %q of %q", env.BaseURL, name)
			}
			if _, err := target.Resolve(env.TargetEnv(), "/a"); err != nil {
				t.Fatalf("accepted environment %q cannot resolve /a: %v", name, err)
			}
			if len(env.AllowedHosts()) == 0 {
				t.Fatalf("environment %q allows no host", name)
			}
		}
	})
}
