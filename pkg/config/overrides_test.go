package config

import (
	"errors"
	"strings"
	"testing"
)

// TestOverrideOfKeyAbsentFromFile: a CACHECTL_ variable sets a key the file
// does not contain (the CI job that points api_url at a test API must never
// reach the real one), lists and numbers included.
func TestOverrideOfKeyAbsentFromFile(t *testing.T) {
	env := Environ{
		"CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_API_URL=http://127.0.0.1:8787/client/v4",
		"CACHECTL_ENVIRONMENTS_STAGING_HOSTS=staging.example.com, stage2.example.com",
		"CACHECTL_ENVIRONMENTS_STAGING_CDN_MAX_ATTEMPTS=3",
		"CACHECTL_ENVIRONMENTS_PRODUCTION_HEADERS_X-DEBUG=X-Cache",
		"CACHECTL_CACHE_HEADERS=X-My-Cache",
		"CACHECTL_ENVIRONMENTS_STAGING_ORIGIN_URL=http://10.0.0.7:8000",
		"CACHECTL_ENVIRONMENTS_STAGING_ORIGIN_HOST=staging.example.com",
		"CACHECTL_ENVIRONMENTS_STAGING_STALE_IGNORE=nonce=\"[^\"]*\", <time>[^<]*</time>",
		"CACHECTL_ENV=production",      // a flag's default, not a key
		"CACHECTL_LOG_LEVEL=debug",     // likewise
		"PROD_SESSION=not-an-override", // a secret the config names
		"UNRELATED_VARIABLE=whatever",
	}
	file := writeFile(t, strings.Replace(validConfig, "value_env: PROD_SESSION", "value_env: CACHECTL_PROD_SESSION", 1))
	cfg, err := Load(LoadOptions{File: file, Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	prod, staging := cfg.Environments["production"], cfg.Environments["staging"]
	if prod.CDN.APIURL != "http://127.0.0.1:8787/client/v4" {
		t.Errorf("production cdn.api_url = %q, want the override", prod.CDN.APIURL)
	}
	if strings.Join(staging.Hosts, " ") != "staging.example.com stage2.example.com" {
		t.Errorf("staging hosts = %q", staging.Hosts)
	}
	if staging.CDN.MaxAttempts != 3 {
		t.Errorf("staging cdn.max_attempts = %d, want 3", staging.CDN.MaxAttempts)
	}
	if prod.Headers["x-debug"] != "X-Cache" {
		t.Errorf("production headers = %v", prod.Headers)
	}
	if staging.OriginURL != "http://10.0.0.7:8000" || staging.OriginHost != "staging.example.com" {
		t.Errorf("staging origin = %q with Host %q, want the overrides", staging.OriginURL, staging.OriginHost)
	}
	if got := strings.Join(staging.Stale.Ignore, " | "); got != `nonce="[^"]*" | <time>[^<]*</time>` {
		t.Errorf("staging stale.ignore = %s, want the comma-separated override", got)
	}
	if strings.Join(cfg.CacheHeaders, ",") != "X-My-Cache" {
		t.Errorf("cache_headers = %v", cfg.CacheHeaders)
	}
}

// TestOverrideNamingNoKeyIsAnError: a misspelt CACHECTL_ variable, or one
// naming an environment the file lacks, is a configuration error naming the
// variable, never silently ignored; its value is not echoed.
func TestOverrideNamingNoKeyIsAnError(t *testing.T) {
	tests := []struct{ variable, want string }{
		{"CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_API_ULR", "CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_API_URL"},
		{"CACHECTL_ENVIRONMENTS_PRODUCTON_BASE_URL", "known: production, staging"},
		{"CACHECTL_ROUTES", "routes are set in the file"},
		{"CACHECTL_BASE_URL", "known here: cache_headers, defaults, environments, related, routes"},
		{"CACHECTL_RELATED", "set in the file"},
		{"CACHECTL_ENVIRONMENTS_PRODUCTION_RELATED", "set in the file"},
	}
	for _, tt := range tests {
		t.Run(tt.variable, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, validConfig), Environ: Environ{tt.variable + "=secret-looking-value"}})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.variable+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q: want it to name %s and say %q", msg, tt.variable, tt.want)
			}
			if strings.Contains(msg, "secret-looking-value") {
				t.Errorf("error echoes the variable's value: %s", msg)
			}
		})
	}
}

// TestOverrideWithoutConfigFile: with no file, a variable naming an
// environment is an error too, and no variables means an empty config.
func TestOverrideWithoutConfigFile(t *testing.T) {
	if cfg, err := Load(LoadOptions{Environ: Environ{"HOME=/nonexistent"}}); err != nil || len(cfg.Environments) != 0 {
		t.Fatalf("no file, no overrides: %+v, %v", cfg, err)
	}
	_, err := Load(LoadOptions{Environ: Environ{"CACHECTL_ENVIRONMENTS_PRODUCTION_BASE_URL=https://www.example.com"}})
	if err == nil || !strings.Contains(err.Error(), "known: none") {
		t.Fatalf("got %v, want an error saying no environment is defined", err)
	}
}

func TestEnvironLookup(t *testing.T) {
	env := Environ{"A=1", "B=", "A=2", "NOEQUALS"}
	if v, ok := env.Lookup("A"); !ok || v != "2" {
		t.Errorf("A = %q, %v; want the last one", v, ok)
	}
	if v, ok := env.Lookup("B"); !ok || v != "" {
		t.Errorf("B = %q, %v; want set and empty", v, ok)
	}
	if _, ok := env.Lookup("NOEQUALS"); ok {
		t.Error("an entry without = is not a variable")
	}
	paths := DefaultSearchPaths(Environ{"HOME=/home/me"})
	if strings.Join(paths, " ") != "cachectl.yaml /home/me/.config/cachectl/config.yaml" {
		t.Errorf("search paths = %v", paths)
	}
	paths = DefaultSearchPaths(Environ{"HOME=/home/me", "XDG_CONFIG_HOME=/etc/xdg"})
	if strings.Join(paths, " ") != "cachectl.yaml /etc/xdg/cachectl/config.yaml" {
		t.Errorf("search paths = %v", paths)
	}
}
