package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
)

// terminals says which standard streams are terminals.
type terminals struct{ in, out, err bool }

var (
	allPipes     = terminals{}
	allTerminals = terminals{in: true, out: true, err: true}
)

func (tm terminals) String() string {
	name := func(on bool, s string) string {
		if on {
			return s + "=tty"
		}
		return s + "=pipe"
	}
	return name(tm.in, "in") + "," + name(tm.out, "out") + "," + name(tm.err, "err")
}

// runOn runs one command line the way main does, with the standard streams
// marked as terminals or not and stdin holding stdin. Execute wraps stdout
// and stderr in the secret scrubber; the terminal flags are the streams'
// own and survive the wrapping.
func runOn(t *testing.T, tm terminals, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	ios.SetTTY(tm.in, tm.out, tm.err)
	in.WriteString(stdin)
	code := Execute(context.Background(), args, ios, config.EnvironFromMap(env))
	return code, out.String(), errOut.String()
}

const ansi = "\x1b["

// TestColourOnlyOnATerminal: every table is coloured when stdout is a
// terminal, and never when it is piped, with --no-color, or in JSON.
func TestColourOnlyOnATerminal(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	env := map[string]string{"TEST_SESSION": sessionValue}
	code, jsonl, stderr := run(t, env, "--config", cfg, "--env", "nosession", "verify", "-o", "jsonl")
	if code != ExitOK {
		t.Fatalf("verify -o jsonl: exit %d: %s", code, stderr)
	}
	shard := writeFile(t, "shard.jsonl", jsonl)
	staleCfg := writeStaleConfig(t, o.URL, o.URL)
	_, cdnCfg, cdnEnv := cloudflareSetup(t, cdnfake.Faults{})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	for k, v := range cdnEnv {
		env[k] = v
	}
	commands := []struct {
		name string
		args []string
	}{
		{"inspect", []string{"--config", cfg, "--env", "nosession", "inspect", "/a"}},
		{"verify", []string{"--config", cfg, "--env", "nosession", "verify"}},
		{"diff", []string{"--config", cfg, "--env", "nosession", "--env", "production", "diff", "--ignore", "set_cookie"}},
		{"report merge", []string{"report", "merge", shard}},
		{"stale", []string{"--config", staleCfg, "--env", "production", "stale", "/warming", "/a"}},
		{"purge", []string{"--config", cdnCfg, "--env", "production", "purge", "--journal", journal, "/articles/1"}},
		{"purge log", []string{"purge", "log", "--journal", journal}},
		{"measure", []string{"measure", "--samples", "2", "--state", "cold", o.URL + "/measured"}},
		{"compare", []string{"compare", writeDoc(t, "old.json", 1, 5, 6, 7), writeDoc(t, "new.json", 1, 50, 60, 70)}},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for _, tt := range []struct {
				name  string
				tm    terminals
				extra []string
				color bool
			}{
				{"terminal", allTerminals, nil, true},
				{"stdout piped", terminals{in: true, err: true}, nil, false},
				{"--no-color", allTerminals, []string{"--no-color"}, false},
				{"json", allTerminals, []string{"-o", "json"}, false},
			} {
				code, out, stderr := runOn(t, tt.tm, "", env, append(append([]string{}, c.args...), tt.extra...)...)
				if code != ExitOK && code != ExitCheckFailed {
					t.Fatalf("%s: exit %d: %s", tt.name, code, stderr)
				}
				if got := strings.Contains(out, ansi); got != tt.color {
					t.Errorf("%s: colour in stdout = %v, want %v:\n%q", tt.name, got, tt.color, out)
				}
			}
		})
	}
}

// TestProgressOnlyWhenStdoutAndStderrAreTerminals: verify and a purge of
// several batches draw a progress bar on stderr, only when both stdout and
// stderr are terminals, and never on stdout.
func TestProgressOnlyWhenStdoutAndStderrAreTerminals(t *testing.T) {
	// The bar is redrawn at most every 100ms: verify gets a site slow
	// enough for a run to last longer than that.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(40 * time.Millisecond)
		w.Header().Set("Cache-Control", "public, max-age=60")
	}))
	t.Cleanup(slow.Close)
	cfg := writeConfig(t, slow.URL)
	routes := writeFile(t, "routes.txt", "/1\n/2\n/3\n/4\n/5\n/6\n")
	_, cdnCfg, env := cloudflareSetup(t, cdnfake.Faults{})
	urls := urlFile(t, 95) // four batches of at most 30
	commands := []struct {
		name, bar string
		args      []string
	}{
		{"verify", "verify nosession", []string{"--config", cfg, "--env", "nosession", "verify", "--routes", routes, "--concurrency", "1"}},
		{"purge", "purging", []string{"--config", cdnCfg, "--env", "production", "purge", "--journal", filepath.Join(t.TempDir(), "j"), "--from-file", urls, "-o", "jsonl"}},
	}
	for _, c := range commands {
		for _, tt := range []struct {
			tm  terminals
			bar bool
		}{
			{allTerminals, true},
			{terminals{out: true, err: true}, true},
			{terminals{in: true, out: true}, false},
			{terminals{in: true, err: true}, false},
			{allPipes, false},
		} {
			code, out, stderr := runOn(t, tt.tm, "", env, c.args...)
			if code != ExitOK {
				t.Fatalf("%s %s: exit %d: %s", c.name, tt.tm, code, stderr)
			}
			if got := strings.Contains(stderr, c.bar); got != tt.bar {
				t.Errorf("%s %s: progress on stderr = %v, want %v:\n%q", c.name, tt.tm, got, tt.bar, stderr)
			}
			if strings.Contains(out, c.bar) {
				t.Errorf("%s %s: progress on stdout:\n%q", c.name, tt.tm, out)
			}
		}
	}
}

// TestPurgeSuccessChatterOnlyOnATerminal: "✓ Purged ..." goes to stderr
// when it is a terminal and the output is a table; piped, in JSON or in a
// dry run there is none.
func TestPurgeSuccessChatterOnlyOnATerminal(t *testing.T) {
	_, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	for _, tt := range []struct {
		name  string
		tm    terminals
		extra []string
		want  bool
	}{
		{"terminal", allTerminals, nil, true},
		{"stderr only", terminals{err: true}, nil, true},
		{"stderr piped", terminals{in: true, out: true}, nil, false},
		{"piped", allPipes, nil, false},
		{"jsonl", allTerminals, []string{"-o", "jsonl"}, false},
		{"dry run", allTerminals, []string{"--dry-run"}, false},
	} {
		args := append([]string{"purge", "--config", cfg, "--env", "production", "--journal", journal, "/articles/1", "/articles/2"}, tt.extra...)
		code, out, stderr := runOn(t, tt.tm, "", env, args...)
		checkSuccessLine(t, tt.name, code, out, stderr, "✓ Purged 2 targets", tt.want)
	}
}

// checkSuccessLine checks a successful run's output: line on stderr when
// want, and never a success line on stdout.
func checkSuccessLine(t *testing.T, name string, code int, out, stderr, line string, want bool) {
	t.Helper()
	if code != ExitOK {
		t.Fatalf("%s: exit %d: %s", name, code, stderr)
	}
	if got := strings.Contains(stderr, line); got != want {
		t.Errorf("%s: success line on stderr = %v, want %v:\n%q", name, got, want, stderr)
	}
	if strings.Contains(out, "✓") {
		t.Errorf("%s: success line on stdout:\n%q", name, out)
	}
}

// TestPurgeEverythingPromptsOnlyOnATerminal: --everything --yes asks for the
// zone's host name when stdin and stderr are terminals; otherwise --yes is
// the whole confirmation.
func TestPurgeEverythingPromptsOnlyOnATerminal(t *testing.T) {
	const question = "Type the host name"
	for _, tt := range []struct {
		name     string
		tm       terminals
		typed    string
		wantCode int
		asked    bool
		sent     int
	}{
		{"terminal, host typed", allTerminals, zoneHost + "\n", ExitOK, true, 1},
		{"terminal, wrong host", allTerminals, "blog.example.org\n", ExitUsage, true, 0},
		{"terminal, nothing typed", allTerminals, "", ExitUsage, true, 0},
		{"stdin and stderr only", terminals{in: true, err: true}, zoneHost + "\n", ExitOK, true, 1},
		{"stdin piped", terminals{out: true, err: true}, "", ExitOK, false, 1},
		{"stderr piped", terminals{in: true, out: true}, "", ExitOK, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake, cfg, env := cloudflareSetup(t, cdnfake.Faults{})
			code, _, stderr := runOn(t, tt.tm, tt.typed, env, "purge", "--config", cfg, "--env", "production",
				"--journal", filepath.Join(t.TempDir(), "j"), "--everything", "--yes")
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			if got := strings.Contains(stderr, question); got != tt.asked {
				t.Errorf("asked = %v, want %v:\n%q", got, tt.asked, stderr)
			}
			if n := len(fake.Requests()); n != tt.sent {
				t.Errorf("API got %d request(s), want %d", n, tt.sent)
			}
		})
	}
}

// TestSameOutputOnATerminal: config validate, config show and version print
// the same on a terminal as into a pipe.
func TestSameOutputOnATerminal(t *testing.T) {
	cfg := writeConfig(t, "http://127.0.0.1:1")
	env := map[string]string{"TEST_SESSION": sessionValue}
	for _, args := range [][]string{
		{"config", "validate", "--config", cfg},
		{"config", "show", "--config", cfg},
		{"version"},
	} {
		code, piped, _ := runOn(t, allPipes, "", env, args...)
		tcode, onTerminal, _ := runOn(t, allTerminals, "", env, args...)
		if code != ExitOK || tcode != ExitOK || piped != onTerminal {
			t.Errorf("%v: exit %d piped, %d on a terminal; output differs:\npiped:\n%s\nterminal:\n%s", args, code, tcode, piped, onTerminal)
		}
	}
}

// TestLogLevelReachesCommands: --log-level applies to the logger every
// command took from the Factory when it was built.
func TestLogLevelReachesCommands(t *testing.T) {
	o := newOrigin(t)
	for _, tt := range []struct {
		level string
		want  bool
	}{{"debug", true}, {"warn", false}} {
		code, _, stderr := run(t, nil, "inspect", "--log-level", tt.level, o.URL+"/a")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := strings.Contains(stderr, "level=DEBUG msg=probe"); got != tt.want {
			t.Errorf("--log-level %s: debug line on stderr = %v, want %v:\n%s", tt.level, got, tt.want, stderr)
		}
	}
}
