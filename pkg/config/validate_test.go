package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cachectl.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const validConfig = `
environments:
  production:
    base_url: https://www.example.com
    hosts: [www.example.com, example.com]
    session: {cookie: sessionid, value_env: PROD_SESSION}
    cdn:
      provider: cloudflare
      zone_id: 023e105f4ecef8ad9ca31a8372d0c353
      api_token_env: CLOUDFLARE_API_TOKEN
      batch_size: 30
      plan: pro
  staging:
    base_url: https://staging.example.com
    cdn: {provider: http-purge, endpoints: [http://127.0.0.1:6081]}
defaults:
  expect:
    anonymous: {fail_on_findings: error}
routes:
  - path: /
    owner: web-team
    expect:
      anonymous: {cache: [HIT], min_max_age: 60, max_ttfb_ms: 300}
      logged_in: {cache: [BYPASS, MISS, DYNAMIC], private: true}
    rollback: cachectl purge --env production /
  - path: /health
    expect:
      anonymous:
        no_store: true
        status: 200
        headers: {present: [ETag], absent: [Set-Cookie], equal: {X-Frame-Options: DENY}, match: {Server: "^nginx"}}
        server_timing: {db: {max_ms: 50}, cfOrigin: {present: true}}
`

func TestLoadValid(t *testing.T) {
	cfg, err := Load(LoadOptions{File: writeFile(t, validConfig)})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := cfg.Env("production")
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := prod.CDN.Settings.(*cloudflare.Settings)
	if prod.Name != "production" || cf == nil || cf.BatchSize != 30 || prod.Session.ValueEnv != "PROD_SESSION" {
		t.Errorf("production = %+v", prod)
	}
	r := cfg.Routes[1].Expect.Anonymous
	if r.NoStore == nil || !*r.NoStore || r.Headers.Equal["x-frame-options"] != "DENY" ||
		*r.ServerTiming["db"].MaxMs != 50 || !*r.ServerTiming["cforigin"].Present {
		t.Errorf("health expectation = %+v", r)
	}
	if got := cfg.EnvNames(); strings.Join(got, ",") != "production,staging" {
		t.Errorf("EnvNames = %v", got)
	}
}

// TestStaleKeys: an environment's origin and ignore patterns, and a route's
// own patterns, are read as written.
func TestStaleKeys(t *testing.T) {
	cfg, err := Load(LoadOptions{File: writeFile(t, `environments:
  production:
    base_url: https://www.example.com
    origin_url: http://10.0.0.7:8000
    origin_host: origin.example.com
    stale:
      ignore: ['<span class="rendered">[^<]*</span>', 'nonce="[^"]*"']
routes:
  - path: /now
    stale: {ignore: ['<time>[^<]*</time>']}
  - path: /
`)})
	if err != nil {
		t.Fatal(err)
	}
	prod := cfg.Environments["production"]
	if prod.OriginURL != "http://10.0.0.7:8000" || prod.OriginHost != "origin.example.com" {
		t.Errorf("origin = %q with Host %q", prod.OriginURL, prod.OriginHost)
	}
	if got := strings.Join(prod.Stale.Ignore, " | "); got != `<span class="rendered">[^<]*</span> | nonce="[^"]*"` {
		t.Errorf("environment stale.ignore = %s", got)
	}
	if got := cfg.Routes[0].Stale.Ignore; len(got) != 1 || got[0] != "<time>[^<]*</time>" || cfg.Routes[1].Stale.Ignore != nil {
		t.Errorf("route stale.ignore = %q, %q", got, cfg.Routes[1].Stale.Ignore)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := Environ{"CACHECTL_ENVIRONMENTS_STAGING_BASE_URL=https://stage2.example.com"}
	cfg, err := Load(LoadOptions{File: writeFile(t, validConfig), Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Environments["staging"].BaseURL; got != "https://stage2.example.com" {
		t.Errorf("base_url = %q, want the CACHECTL_ override", got)
	}
}

func TestSearchPath(t *testing.T) {
	cfg, err := Load(LoadOptions{SearchPaths: []string{filepath.Join(t.TempDir(), "missing.yaml")}})
	if err != nil || len(cfg.Environments) != 0 || cfg.File != "" {
		t.Errorf("no file on the search path: got %+v, %v; want an empty config", cfg, err)
	}
	p := writeFile(t, validConfig)
	cfg, err = Load(LoadOptions{SearchPaths: []string{filepath.Join(t.TempDir(), "missing.yaml"), p}})
	if err != nil || cfg.File != p {
		t.Errorf("got file %q, %v; want %s", cfg.File, err, p)
	}
	_, err = Load(LoadOptions{File: filepath.Join(t.TempDir(), "nope.yaml")})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Errorf("explicit missing file: got %v, want a FileError", err)
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each "key: ..." line expected among the problems
	}{
		{"unknown keys", "environments:\n  p:\n    base_url: https://a.example\n    bsae_url: x\nroutse: []\n",
			[]string{"environments.p.bsae_url: found unknown key, expected one of base_url", "routse: found unknown key"}},
		{"types", "environments:\n  p:\n    base_url: https://a.example\n    cdn: {provider: cloudflare, zone_id: 023e105f4ecef8ad9ca31a8372d0c353, api_token_env: T, batch_size: many}\n",
			[]string{`environments.p.cdn.batch_size: found "many", expected a whole number`}},
		{"base url", "environments:\n  p: {base_url: ftp://a.example}\n  q: {hosts: [a.example]}\n  r: {base_url: 'https://a.example/?q=1'}\n",
			[]string{`environments.p.base_url: found "ftp://a.example", expected an absolute URL with scheme http or https`,
				"environments.q.base_url: an absolute http(s) URL", `environments.r.base_url: found "https://a.example/?q=1", expected a URL without query`}},
		{"session", "environments:\n  p:\n    base_url: https://a.example\n    session: {cookie: 'bad name'}\n",
			[]string{`environments.p.session.cookie: found "bad name"`, "environments.p.session: value_env (an environment variable name) or value_file"}},
		{"cdn", "environments:\n  p:\n    base_url: https://a.example\n    cdn: {provider: nosuchcdn}\n  c:\n    base_url: https://a.example\n    cdn: {provider: cloudflare, zone_id: nope, batch_size: 900, plan: gold, rate: -1}\n  h:\n    base_url: https://a.example\n    cdn: {provider: http-purge, method: purge}\n",
			[]string{`environments.p.cdn.provider: found "nosuchcdn", expected one of cloudflare, fastly, http-purge, cloudfront, akamai, bunny`,
				`environments.c.cdn.zone_id: found "nope"`, "environments.c.cdn.api_token_env: the name of the environment variable",
				"environments.c.cdn.batch_size: found 900", `environments.c.cdn.plan: found "gold"`, "environments.c.cdn.rate: found -1",
				"environments.h.cdn.endpoints: at least one cache node", `environments.h.cdn.method: found "purge"`}},
		{"credential header", "environments:\n  p:\n    base_url: https://a.example\n    headers: {Cookie: a=b}\n",
			[]string{"environments.p.headers.cookie: found a credential header"}},
		{"expectations", `environments:
  p: {base_url: https://a.example, session: {cookie: s, value_env: S}}
routes:
  - path: relative
    expect:
      anonymous: {cache: [WARM], status: 700, max_ttfb_ms: 0, fail_on_findings: fatal, min_max_age: 100, max_max_age: 10}
  - path: /private
    expect:
      logged_in: {private: true, cache: [HIT], min_max_age: 60}
  - path: /private
  - path: /h
    expect:
      anonymous: {headers: {present: [ETag], absent: [etag], match: {Server: "("}}}
`, []string{`routes[0].path: found "relative"`, `routes[0].expect.anonymous.cache[0]: found "WARM"`, "routes[0].expect.anonymous.status: found 700",
			"routes[0].expect.anonymous.max_ttfb_ms: found 0", `routes[0].expect.anonymous.fail_on_findings: found "fatal"`,
			"routes[0].expect.anonymous.min_max_age: found 100, expected at most max_max_age (10)",
			"routes[1].expect.logged_in.min_max_age: found 60, expected no min_max_age when private",
			"routes[1].expect.logged_in.cache: found HIT, expected a status that is not served from a shared cache",
			`routes[2].path: found "/private", expected a path not already listed (same as routes[1])`,
			`routes[3].expect.anonymous.headers.present: found "ETag", expected a header not also listed under headers.absent`,
			`routes[3].expect.anonymous.headers.match.server: found "("`}},
		{"stale", `environments:
  p: {base_url: https://a.example, origin_url: 'ftp://10.0.0.7', origin_host: 'a.example/x', stale: {ignore: ['(', '']}}
  q: {base_url: https://a.example, origin_host: a.example}
  r: {base_url: https://a.example, origin_url: 'http://10.0.0.7:8000/?q=1'}
routes:
  - path: /
    stale: {ignore: ['<span>[^<]*</span>', '[z-a]']}
`, []string{`environments.p.origin_url: found "ftp://10.0.0.7", expected an absolute URL with scheme http or https, such as http://10.0.0.7:8000`,
			`environments.p.origin_host: found "a.example/x", expected a host name`,
			`environments.p.stale.ignore[0]: found "(", expected a valid regular expression (RE2 syntax): error parsing regexp: missing closing )`,
			`environments.p.stale.ignore[1]: found "", expected a non-empty regular expression`,
			`environments.q.origin_host: found "a.example", expected origin_url set too`,
			`environments.r.origin_url: found "http://10.0.0.7:8000/?q=1", expected a URL without query`,
			`routes[0].stale.ignore[1]: found "[z-a]", expected a valid regular expression (RE2 syntax): error parsing regexp: invalid character class range`}},
		{"server_timing", `environments:
  p: {base_url: https://a.example}
routes:
  - path: /
    expect:
      anonymous:
        server_timing:
          db: {max_ms: 0}
          "bad name": {max_ms: 5}
          app: {}
          cache: {max_ms: 5, present: false}
`, []string{"routes[0].expect.anonymous.server_timing.db.max_ms: found 0, expected milliseconds > 0",
			`routes[0].expect.anonymous.server_timing.bad name: found "bad name", expected a Server-Timing metric name`,
			"routes[0].expect.anonymous.server_timing.app: max_ms (milliseconds) or present (true or false)",
			"routes[0].expect.anonymous.server_timing.cache.present: found false, expected true or no present key when max_ms is set"}},
		{"server_timing keys and types", "environments:\n  p: {base_url: https://a.example}\nroutes:\n  - path: /\n    expect:\n      anonymous:\n        server_timing: {cfOrigin: {max_ms: fast}, edge: {max_ms: 5, wat: 1}}\n",
			[]string{`routes[0].expect.anonymous.server_timing.cforigin.max_ms: found "fast", expected a number`,
				"routes[0].expect.anonymous.server_timing.edge.wat: found unknown key, expected one of max_ms, present"}},
		{"logged_in without any session", "environments:\n  p: {base_url: https://a.example}\nroutes:\n  - path: /\n    expect: {logged_in: {private: true}}\n",
			[]string{"routes[0].expect.logged_in: found an expectation, expected a session configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tt.yaml)})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("problems lack %q:\n%s", w, msg)
				}
			}
			if len(ve.Problems) < len(tt.want) {
				t.Errorf("got %d problems, want at least %d", len(ve.Problems), len(tt.want))
			}
		})
	}
}

func TestSecretsResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "session")
	if err := os.WriteFile(file, []byte("  from-file-value \nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"S": "from-env", "OTHER": "from-flag-env"}[k]
		return v, ok
	}
	env := &Environment{Name: "p", Session: &Session{Cookie: "sid", ValueEnv: "S"}}
	if v, err := env.SessionValue(lookup, ""); err != nil || v.Reveal() != "from-env" {
		t.Errorf("value_env: %q %v", v.Reveal(), err)
	}
	if v, err := env.SessionValue(lookup, "OTHER"); err != nil || v.Reveal() != "from-flag-env" {
		t.Errorf("--cookie-env: %q %v", v.Reveal(), err)
	}
	env.Session = &Session{Cookie: "sid", ValueFile: file}
	if v, err := env.SessionValue(lookup, ""); err != nil || v.Reveal() != "from-file-value" {
		t.Errorf("value_file: %q %v", v.Reveal(), err)
	}
	env.Session = &Session{Cookie: "sid", ValueEnv: "UNSET"}
	if _, err := env.SessionValue(lookup, ""); err == nil || !strings.Contains(err.Error(), "UNSET, which is not set") {
		t.Errorf("unset variable: %v", err)
	}
	cdn := &CDN{Common: purge.Common{APITokenFile: filepath.Join(dir, "missing")}}
	if _, err := cdn.Token(lookup, "p"); err == nil || !strings.Contains(err.Error(), "environments.p.cdn.api_token_file") {
		t.Errorf("missing token file: %v", err)
	}
}
