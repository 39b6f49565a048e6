package config

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
			if _, err := ResolveTarget(env, "/a"); err != nil {
				t.Fatalf("accepted environment %q cannot resolve /a: %v", name, err)
			}
			if len(env.AllowedHosts()) == 0 {
				t.Fatalf("environment %q allows no host", name)
			}
		}
	})
}

// FuzzResolveTarget: any target against any base URL either resolves to an
// absolute http(s) URL without credentials or fragment, on the base URL's
// host for a path, or fails with a message naming what was expected.
func FuzzResolveTarget(f *testing.F) {
	for _, s := range [][2]string{
		{"https://www.example.com", "/blog/post-1"},
		{"https://www.example.com/base/", "/a?b=c#frag"},
		{"https://www.example.com", "https://www.example.com/a"},
		{"http://127.0.0.1:8080", "/%2F..%2Fetc"},
		{"https://www.example.com", "//evil.example/a"},
		{"https://www.example.com", "https://user:pass@www.example.com/"},
		{"https://www.example.com", "ftp://x/"},
		{"https://[::1]:8443", "/ä/ü?q=%zz"},
		{"::", "/a"},
		{"https://www.example.com", "  "},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, base, target string) {
		env := &Environment{Name: "fuzz", BaseURL: base}
		got, err := ResolveTarget(env, target)
		if err != nil {
			if !strings.Contains(err.Error(), "expected") && !strings.Contains(err.Error(), "invalid") {
				t.Fatalf("error %q says neither what is invalid nor what was expected", err)
			}
			return
		}
		u, perr := url.Parse(got)
		if perr != nil {
			t.Fatalf("ResolveTarget(%q, %q) = %q, which does not parse: %v", base, target, got, perr)
		}
		if u.Fragment != "" {
			t.Fatalf("ResolveTarget(%q, %q) = %q keeps a fragment", base, target, got)
		}
		if strings.HasPrefix(strings.TrimSpace(target), "/") {
			b, berr := url.Parse(base)
			if berr != nil {
				t.Fatalf("resolved a path against an unparseable base %q", base)
			}
			if !strings.EqualFold(u.Host, b.Host) {
				t.Fatalf("path %q against %q went to host %q", target, base, u.Host)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("ResolveTarget(%q, %q) = %q: want an http(s) URL with a host and no credentials", base, target, got)
		}
	})
}
