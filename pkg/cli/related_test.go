package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigValidateRefusesWrongRules: a rule package related refuses is a
// configuration error (exit 2) naming the key path, the value found and
// what was expected, at the top level and in an environment.
func TestConfigValidateRefusesWrongRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cachectl.yaml")
	body := `related:
  - match: /articles/{slug}
    also: [/, "/authors/{author}/"]
environments:
  production:
    base_url: https://www.example.com
    related:
      - match: /docs/{page
        also: [/docs/]
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, nil, "config", "validate", "--config", path)
	if code != ExitUsage {
		t.Fatalf("exit %d, want 2 (stdout %q, stderr %q)", code, out, stderr)
	}
	for _, want := range []string{
		`related[0].also[1]: found "/authors/{author}/", expected a capture defined in match (one of: slug) in place of {author}`,
		`environments.production.related[0].match: found "/docs/{page", expected captures written {name}`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
