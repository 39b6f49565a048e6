package cachetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/cli"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
)

// sessionEnv is the variable the configs read the session cookie from.
const sessionEnv = "CACHECTL_TEST_SESSION"

// fixture is one cache with a config whose environments reach it:
// prod (purges admitted), denied (purges from [::1], refused) and any
// extra ones a test adds.
type fixture struct {
	c       *stacktest.Cache
	config  string
	session string
}

// env is one environment of a fixture's config.
type env struct {
	name, baseURL, endpoint string
	// extra is more YAML under the environment (headers, cdn keys), each
	// line indented for the environment's level.
	extra []string
	// cdn is more YAML under cdn.
	cdn []string
}

func newFixture(t *testing.T, k stacktest.Kind, extra ...env) *fixture {
	t.Helper()
	st := stacktest.Shared(t)
	c := stacktest.SharedCache(t, k)
	denied := c.DeniedURL
	if c.Endpoint != c.URL {
		denied += strings.TrimPrefix(c.Endpoint, c.URL)
	}
	envs := append([]env{
		{name: "prod", baseURL: c.URL, endpoint: c.Endpoint},
		{name: "denied", baseURL: c.URL, endpoint: denied},
	}, extra...)
	var sb strings.Builder
	sb.WriteString("environments:\n")
	for _, e := range envs {
		host := strings.TrimPrefix(e.baseURL, "http://")
		fmt.Fprintf(&sb, "  %s:\n    base_url: %s\n    hosts: [%s]\n", e.name, e.baseURL, host)
		fmt.Fprintf(&sb, "    session: { cookie: %s, value_env: %s }\n", stacktest.SessionCookie, sessionEnv)
		for _, l := range e.extra {
			fmt.Fprintf(&sb, "    %s\n", l)
		}
		fmt.Fprintf(&sb, "    cdn:\n      provider: http-purge\n      endpoints: [%q]\n", e.endpoint)
		for _, l := range e.cdn {
			fmt.Fprintf(&sb, "      %s\n", l)
		}
	}
	path := filepath.Join(t.TempDir(), "cachectl.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &fixture{c: c, config: path, session: st.Login(t)}
}

// run executes one cachectl command line against the fixture's config
// and returns its exit code, stdout and stderr.
func (f *fixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	environ := config.EnvironFromMap(map[string]string{sessionEnv: f.session})
	args = append([]string{"--config", f.config}, args...)
	code := cli.Execute(context.Background(), args, ios, environ)
	return code, out.String(), errOut.String()
}

// probe is what an inspect jsonl line says.
type probe struct {
	URL     string `json:"url"`
	Variant string `json:"variant"`
	Cache   struct {
		Status string `json:"status"`
		Source string `json:"source"`
		Raw    string `json:"raw"`
		Layers []struct {
			Raw string `json:"raw"`
		} `json:"layers"`
	} `json:"cache"`
	Findings []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"findings"`
}

// record is what a purge jsonl line says.
type record struct {
	Target    string `json:"target"`
	Kind      string `json:"kind"`
	State     string `json:"state"`
	Error     string `json:"error"`
	RelatedTo string `json:"related_to"`
	Verify    *struct {
		Cache struct {
			Status string `json:"status"`
		} `json:"cache"`
		Passed   bool   `json:"passed"`
		Unproven bool   `json:"unproven"`
		Note     string `json:"note"`
		Error    string `json:"error"`
	} `json:"verify"`
}

// lines decodes jsonl output, one T per line that has the key field.
func lines[T any](t *testing.T, out, key string) []T {
	t.Helper()
	var got []T
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), `"`+key+`"`) {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("decode %q: %v", sc.Text(), err)
		}
		got = append(got, v)
	}
	return got
}

// inspect probes path as the variants given and returns each probe.
func (f *fixture) inspect(t *testing.T, envName, as, path string, extra ...string) []probe {
	t.Helper()
	args := append([]string{"inspect", "--env", envName, "--as", as, "-o", "jsonl", path}, extra...)
	code, out, stderr := f.run(t, args...)
	if code != 0 {
		t.Fatalf("inspect %s: exit %d\n%s\n%s", path, code, stderr, out)
	}
	return lines[probe](t, out, "variant")
}

// statuses are the cache statuses of probes, in order.
func statuses(ps []probe) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Cache.Status
	}
	return out
}

// purge runs cachectl purge and returns the exit code, the records and
// stderr.
func (f *fixture) purge(t *testing.T, envName string, args ...string) (int, []record, string) {
	t.Helper()
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := f.run(t, append([]string{"purge", "--env", envName, "-o", "jsonl", "--journal", journal}, args...)...)
	return code, lines[record](t, out, "state"), stderr
}

func hasFinding(p probe, id string) bool {
	for _, f := range p.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// appendFile adds text to the end of a file and returns its path.
func appendFile(t *testing.T, path, text string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, text...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
