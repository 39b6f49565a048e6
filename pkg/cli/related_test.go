package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/cdnfake/fastlyfake"
	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/purge"
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

// relatedRule is a top-level related rule for purge configs: an article
// pulls in the home page, the feed and every tag page.
const relatedRule = `related:
  - match: /articles/{slug}
    also: [/, /feed.xml, /tags/*]
`

// schemaCloudflare starts Cloudflare's API fake checking every body
// against the published schema, and a config whose production environment
// purges through it, with extra YAML appended (environment keys indented
// by four spaces, then top-level keys).
func schemaCloudflare(t *testing.T, extra string) (*cloudflarefake.Server, string) {
	t.Helper()
	schema, err := cloudflarefake.LoadSchema(cloudflarefake.SchemaFile())
	if err != nil {
		t.Fatal(err)
	}
	fake := cloudflarefake.NewServer(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}, Schema: schema})
	t.Cleanup(fake.Close)
	return fake, withExtra(t, purgeConfig(t, "cloudflare", fake.URL), extra)
}

// withExtra appends YAML to the config file at path.
func withExtra(t *testing.T, path, extra string) string {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	return path
}

type purgeLine struct {
	Target, Kind, State, RelatedTo, VariantOf string
	Headers                                   map[string]string
}

func purgeLines(t *testing.T, out string) []purgeLine {
	t.Helper()
	var lines []purgeLine
	for l := range strings.Lines(out) {
		var r struct {
			Target    string            `json:"target"`
			Kind      string            `json:"kind"`
			State     string            `json:"state"`
			RelatedTo string            `json:"related_to"`
			VariantOf string            `json:"variant_of"`
			Headers   map[string]string `json:"headers"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, purgeLine{r.Target, r.Kind, r.State, r.RelatedTo, r.VariantOf, r.Headers})
	}
	return lines
}

// TestPurgeRelatedDryRun: --related lists each rule expansion with the
// target that pulled it in, once, the "*" entry as a prefix; the plan
// (operations, calls, time) goes to stderr; nothing is sent.
func TestPurgeRelatedDryRun(t *testing.T) {
	fake, cfg := schemaCloudflare(t, relatedRule)
	code, out, stderr := run(t, map[string]string{"TEST_TOKEN": cfToken}, "purge", "--config", cfg, "--env", "production",
		"--related", "--dry-run", "-o", "jsonl", "/articles/a", "/articles/b", "/feed.xml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a, b := "https://www.example.com/articles/a", "https://www.example.com/articles/b"
	want := []purgeLine{
		{Target: a, Kind: "url", State: "planned"},
		{Target: b, Kind: "url", State: "planned"},
		{Target: "https://www.example.com/feed.xml", Kind: "url", State: "planned"},
		{Target: "https://www.example.com/", Kind: "url", State: "planned", RelatedTo: a},
		{Target: "www.example.com/tags/", Kind: "prefix", State: "planned", RelatedTo: a},
	}
	if got := purgeLines(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("jsonl:\n got %+v\nwant %+v", got, want)
	}
	for _, w := range []string{"plan: 5 operations in 2 batches, 2 API calls to cloudflare; about 0.0 s at the plan's rate limits",
		"related to " + a, `{"prefixes":["www.example.com/tags/"]}`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
}

// TestPurgeRelatedJournalKeepsRelatedTo: a real run purges the
// expansions, and the journal keeps related_to for a resume.
func TestPurgeRelatedJournalKeepsRelatedTo(t *testing.T) {
	fake, cfg := schemaCloudflare(t, relatedRule)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, stderr := run(t, map[string]string{"TEST_TOKEN": cfToken}, "purge", "--config", cfg, "--env", "production",
		"--related", "--journal", journal, "-o", "jsonl", "/articles/a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Count(out, `"state":"purged"`); got != 4 {
		t.Errorf("%d purged, want 4:\n%s", got, out)
	}
	if c := fake.Counts(); c.Requests != 2 {
		t.Errorf("API got %d requests, want 2 (URLs, then the prefix)", c.Requests)
	}
	pending, _, _, err := purge.Pending(journal, regexp.MustCompile(`"run_id":"([^"]+)"`).FindStringSubmatch(readFile(t, journal))[1])
	if err != nil || len(pending) != 0 {
		t.Fatalf("Pending() = %v, %v; want nothing left", pending, err)
	}
	if !strings.Contains(readFile(t, journal), `"related_to":"https://www.example.com/articles/a"`) {
		t.Error("journal lacks related_to")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPurgeRelatedPrefixRefused: where the provider has no prefix purge, a
// rule's "*" entry is refused before anything is sent, naming the
// provider and the rule; so is --related with no rules at all.
func TestPurgeRelatedPrefixRefused(t *testing.T) {
	var purges atomic.Int64
	node := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { purges.Add(1) }))
	t.Cleanup(node.Close)
	cfg := withExtra(t, purgeConfig(t, "http-purge", node.URL), "    related:\n      - match: /articles/{slug}\n        also: [/, /tags/*]\n")
	code, _, stderr := run(t, nil, "purge", "--config", cfg, "--env", "production", "--related", "--journal", filepath.Join(t.TempDir(), "j"), "/articles/a")
	want := `purge --related: environments.production.related[0] pulls in the prefix www.example.com/tags/ for https://www.example.com/articles/a, and provider "http-purge" cannot purge by prefix (supports: url, url-headers)`
	if code != ExitUsage || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	if n := purges.Load(); n != 0 {
		t.Errorf("node received %d requests, want none", n)
	}
	// --related without a rule for the environment is a mistake, not a no-op.
	cfg = purgeConfig(t, "http-purge", node.URL)
	code, _, stderr = run(t, nil, "purge", "--config", cfg, "--env", "production", "--related", "--journal", filepath.Join(t.TempDir(), "j"), "/articles/a")
	if want := `purge --related: no related rules apply to environment "production"`; code != ExitUsage || !strings.Contains(stderr, want) {
		t.Errorf("without rules: exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	if n := purges.Load(); n != 0 {
		t.Errorf("node received %d requests, want none", n)
	}
}

// TestPurgeDryRunGolden: the whole dry run of an article with its related
// pages and two device types: the plan first (operations and why, API
// calls, time at the plan's rate limits), then every batch's request; the
// records on stdout.
func TestPurgeDryRunGolden(t *testing.T) {
	fake, cfg := schemaCloudflare(t, "    cache_key: {headers: {CF-Device-Type: [mobile, desktop]}}\n"+relatedRule)
	code, out, stderr := run(t, map[string]string{"TEST_TOKEN": cfToken}, "purge", "--config", cfg, "--env", "production",
		"--related", "--dry-run", "--tag", "blog", "-o", "jsonl", "/articles/a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden.Check(t, "purge_dryrun_plan", []byte(strings.ReplaceAll(stderr, fake.URL, "http://API")))
	golden.Check(t, "purge_dryrun_jsonl", []byte(out))
}

// TestPurgeKeyHeadersReachCloudflare: cache_key.headers and --key-header
// make one "files with headers" entry per combination, which the API fake
// checks against Cloudflare's published schema; each is reported with its
// headers.
func TestPurgeKeyHeadersReachCloudflare(t *testing.T) {
	fake, cfg := schemaCloudflare(t, "    cache_key: {headers: {cf-device-type: [mobile, desktop]}}\n")
	code, out, stderr := run(t, map[string]string{"TEST_TOKEN": cfToken}, "purge", "--config", cfg, "--env", "production",
		"--journal", filepath.Join(t.TempDir(), "j"), "--key-header", "Accept-Language: en, de", "-o", "jsonl", "/articles/a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Status != http.StatusOK {
		t.Fatalf("API got %+v, want one accepted request", reqs)
	}
	var body struct {
		Files []struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"files"`
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range body.Files {
		got = append(got, f.URL+" "+purge.FormatHeaders(f.Headers))
	}
	const u = "https://www.example.com/articles/a "
	want := []string{
		u + "Accept-Language: en; CF-Device-Type: mobile", u + "Accept-Language: en; CF-Device-Type: desktop",
		u + "Accept-Language: de; CF-Device-Type: mobile", u + "Accept-Language: de; CF-Device-Type: desktop",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files:\n got %q\nwant %q", got, want)
	}
	lines := purgeLines(t, out)
	if len(lines) != 4 || lines[3].State != "purged" || lines[3].Headers["CF-Device-Type"] != "desktop" {
		t.Errorf("records = %+v, want 4 purged variants with their headers", lines)
	}
}

// TestPurgeKeyHeaderRefused: a credential, a malformed flag or too many
// combinations is refused before anything is sent.
func TestPurgeKeyHeaderRefused(t *testing.T) {
	fake, cfg := schemaCloudflare(t, "")
	for flag, want := range map[string]string{
		"Cookie: a":            "never holds Cookie or Authorization",
		"CF-Device-Type":       `expected "Name: value1,value2"`,
		"A: 1,2,3,4,5,6,7,8,9": "",
	} {
		args := []string{"purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "--key-header", flag, "/a"}
		if want == "" {
			args = append(args, "--key-header", "B: 1,2,3,4,5,6,7,8")
			want = "make 72 variants of every URL (A: 9, B: 8), more than the 64 allowed"
		}
		code, _, stderr := run(t, map[string]string{"TEST_TOKEN": cfToken}, args...)
		if code != ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("--key-header %q: exit %d, stderr %q; want 2 and %q", flag, code, stderr, want)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("API got %d requests, want none", n)
	}
}

// TestPurgeFastlyVariantsOneRequest: Fastly purges by host and path, so
// --variants' other scheme adds no request, and neither do cache-key
// headers (a URL purge takes every variant), which the run says.
func TestPurgeFastlyVariantsOneRequest(t *testing.T) {
	fake := fastlyfake.NewServer(fastlyfake.Options{ServiceID: fastlyID, Token: cfToken})
	t.Cleanup(fake.Close)
	cfg := purgeConfig(t, "fastly", fake.URL)
	env := map[string]string{"TEST_TOKEN": cfToken}
	code, out, stderr := run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"),
		"--variants", "-o", "jsonl", "/articles/a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Count(out, `"state":"purged"`); got != 4 {
		t.Errorf("%d targets purged, want 4 (the URL and its three variants)", got)
	}
	paths := func() []string {
		var p []string
		for _, r := range fake.Requests() {
			p = append(p, r.Path)
		}
		return p
	}
	want := []string{"/purge/www.example.com/articles/a", "/purge/www.example.com/articles/a/"}
	if got := paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q: one per host and path", got, want)
	}
	code, out, stderr = run(t, env, "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"),
		"--key-header", "Accept-Language: en,de", "-o", "jsonl", "/articles/b")
	if code != 0 || strings.Count(out, `"state":"purged"`) != 2 {
		t.Fatalf("exit %d, output %s: %s", code, out, stderr)
	}
	if got := paths(); len(got) != 3 || got[2] != "/purge/www.example.com/articles/b" {
		t.Errorf("requests = %q, want one more for /articles/b", got)
	}
	if !strings.Contains(stderr, "note: fastly purges every cache variant of a URL with one purge of the URL") {
		t.Errorf("stderr lacks the note on cache-key headers: %q", stderr)
	}
}

// variantNode is a cache node whose key holds X-Device, as a VCL that
// hashes on it makes it: a PURGE evicts the variant its X-Device names,
// and a request without the header is a variant of its own, always cached.
type variantNode struct {
	*httptest.Server
	mu     sync.Mutex
	cached map[string]bool
	purged []string
}

func newVariantNode(t *testing.T) *variantNode {
	n := &variantNode{cached: map[string]bool{}}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path + " " + r.Header.Get("X-Device")
		n.mu.Lock()
		defer n.mu.Unlock()
		if r.Method == "PURGE" {
			n.purged = append(n.purged, key)
			delete(n.cached, key)
			return
		}
		status := "MISS"
		if n.cached[key] || r.Header.Get("X-Device") == "" {
			status = "HIT"
		}
		n.cached[key] = true
		w.Header().Set("X-Cache", status)
	}))
	t.Cleanup(n.Close)
	return n
}

// TestPurgeKeyHeadersHTTPPurgeVerified: each variant is one PURGE with its
// headers, and --verify probes each variant with them: a probe without
// them would see the headerless variant's HIT.
func TestPurgeKeyHeadersHTTPPurgeVerified(t *testing.T) {
	node := newVariantNode(t)
	cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  staging:
    base_url: %s
    cache_key: {headers: {X-Device: [mobile, desktop]}}
    cdn: {provider: http-purge, endpoints: [%s]}
`, node.URL, node.URL))
	code, out, stderr := run(t, nil, "purge", "--config", cfg, "--env", "staging", "--journal", filepath.Join(t.TempDir(), "j"),
		"--verify", "-o", "jsonl", "/p")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	if got := strings.Count(out, `"verify":{"cache":{"status":"MISS"`); got != 2 {
		t.Errorf("%d variants verified MISS, want 2:\n%s", got, out)
	}
	if want := []string{"/p mobile", "/p desktop"}; !reflect.DeepEqual(node.purged, want) {
		t.Errorf("node purged %q, want %q", node.purged, want)
	}
}

// TestPurgeResumeRefusesNewExpansions: a resume re-sends what its run
// planned; --related, --variants and --key-header would plan anew.
func TestPurgeResumeRefusesNewExpansions(t *testing.T) {
	fake, cfg := schemaCloudflare(t, relatedRule)
	for _, flag := range [][]string{{"--related"}, {"--variants"}, {"--key-header", "X-Device: mobile"}} {
		args := append([]string{"purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(t.TempDir(), "j"), "--resume", "20261126T161200Z-ab12cd"}, flag...)
		code, _, stderr := run(t, map[string]string{"TEST_TOKEN": cfToken}, args...)
		if code != ExitUsage || !strings.Contains(stderr, "--resume takes no other targets, --related, --variants or --key-header") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the refusal", flag, code, stderr)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("API got %d requests, want none", n)
	}
}
