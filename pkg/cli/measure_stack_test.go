package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/measure"
)

// measureOnStack runs measure against the stack's production Varnish and
// returns the exit code, the document (-o json) and stderr.
func measureOnStack(t *testing.T, cfg string, args ...string) (int, *measure.Document, string) {
	t.Helper()
	env := map[string]string{"CACHECTL_DEMO_SESSION": "not-a-session"}
	code, out, stderr := run(t, env, append([]string{"--config", cfg, "--env", "production", "measure", "-o", "json"}, args...)...)
	var doc measure.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("measure %v: exit %d, output is not a document: %v\n%s\n%s", args, code, err, out, stderr)
	}
	return code, &doc, stderr
}

// TestMeasureOnRealStack: against the real Varnish and FastAPI origin,
// cold samples are misses and warm samples hits, each carrying the
// origin's database time on a miss only; responses in another state are
// discarded and counted.
func TestMeasureOnRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Shared(t)
	cfg := s.ConfigYAML(t)

	t.Run("cold samples are MISS, warm samples HIT", func(t *testing.T) {
		code, doc, stderr := measureOnStack(t, cfg, "--samples", "5", "/articles/rust-ownership-explained")
		if code != ExitOK || len(doc.Runs) != 2 {
			t.Fatalf("exit %d with %d runs, want 0 and 2: %s", code, len(doc.Runs), stderr)
		}
		for _, r := range doc.Runs {
			want, db := "MISS", true
			if r.State == measure.Warm {
				want, db = "HIT", false
			}
			if len(r.Samples) != 5 || r.Discarded != 0 {
				t.Errorf("%s: %d samples, %d discarded; want 5 and 0", r.State, len(r.Samples), r.Discarded)
			}
			for i, smp := range r.Samples {
				if string(smp.CacheStatus) != want || smp.StatusCode != 200 {
					t.Errorf("%s sample %d: %s %d, want %s 200", r.State, i, smp.CacheStatus, smp.StatusCode, want)
				}
				if _, ok := smp.ServerTiming["db"]; ok != db {
					t.Errorf("%s sample %d: db metric present = %v, want %v (a hit replays the stored copy's)", r.State, i, ok, db)
				}
			}
		}
		if doc.Runs[0].Summary["server_timing.db"].N != 5 || doc.Machine.CPUs == 0 || doc.FormatVersion != measure.FormatVersion {
			t.Errorf("document = %+v", doc)
		}
	})

	t.Run("responses in another state are discarded and counted", func(t *testing.T) {
		// /health is no-store: never a hit.
		code, doc, stderr := measureOnStack(t, cfg, "--samples", "3", "--state", "warm", "/health")
		if code != ExitCheckFailed {
			t.Errorf("exit %d, want 1 (a run short of its samples)", code)
		}
		r := doc.Runs[0]
		if len(r.Samples) != 0 || r.Discarded != 6 || r.DiscardedBy["MISS"] != 6 {
			t.Errorf("run = %+v, want 0 samples and 6 MISS discarded", r)
		}
		if !strings.Contains(stderr, "(anonymous, warm): 0 kept, 6 discarded (6 MISS; expected HIT)") {
			t.Errorf("stderr = %q", stderr)
		}
	})

	t.Run("--bust purge purges through the environment's provider", func(t *testing.T) {
		code, doc, stderr := measureOnStack(t, cfg, "--samples", "3", "--state", "cold", "--bust", "purge", "/articles/git-rebase-interactive")
		if code != ExitOK || doc.Bust != "purge" {
			t.Fatalf("exit %d (bust %q): %s", code, doc.Bust, stderr)
		}
		for _, smp := range doc.Runs[0].Samples {
			if smp.CacheStatus != "MISS" {
				t.Errorf("a purged URL answered %s", smp.CacheStatus)
			}
		}
	})
}

// TestCompareOnRealStack: the workflow the demo shows, on the real stack.
// A missing index makes /popular slow on a miss; fixing it is an
// improvement of the cold path only; two measurements of an unchanged
// stack differ in nothing; and breaking it again is a regression that
// fails the build, found with 12 samples per state.
func TestCompareOnRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Varnish")
	}
	s := stacktest.Shared(t)
	cfg := s.ConfigYAML(t)
	t.Cleanup(func() { s.SetSlow(t, false) })
	dir := t.TempDir()
	measureTo := func(name string, samples string) string {
		t.Helper()
		env := map[string]string{"CACHECTL_DEMO_SESSION": "not-a-session"}
		code, out, stderr := run(t, env, "--config", cfg, "--env", "production", "measure", "-o", "json", "--samples", samples, "/popular")
		if code != ExitOK {
			t.Fatalf("measure (%s): exit %d: %s", name, code, stderr)
		}
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	compare := func(old, new string) (int, map[string]string, string) {
		t.Helper()
		code, out, stderr := run(t, nil, "compare", "-o", "jsonl", old, new)
		verdicts := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r measure.Result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("compare output: %v: %q", err, line)
			}
			verdicts[string(r.State)+" "+r.Metric] = string(r.Verdict)
		}
		return code, verdicts, stderr
	}

	s.SetSlow(t, true)
	before := measureTo("before", "20")
	s.SetSlow(t, false)
	after := measureTo("after", "20")

	t.Run("fixing the index improves the cold path and leaves the warm one", func(t *testing.T) {
		code, v, stderr := compare(before, after)
		if code != ExitOK {
			t.Errorf("exit %d, want 0: %s", code, stderr)
		}
		for metric, want := range map[string]string{
			"cold ttfb_ms": "improved", "cold server_timing.db": "improved", "cold server_timing.app": "improved",
			"warm ttfb_ms": "unchanged", "warm total_ms": "unchanged",
		} {
			if v[metric] != want {
				t.Errorf("%s: %s, want %s (all: %v)", metric, v[metric], want, v)
			}
		}
	})

	t.Run("A/A: an unchanged stack measured twice", func(t *testing.T) {
		again := measureTo("again", "20")
		code, v, stderr := compare(after, again)
		if code != ExitOK {
			t.Errorf("exit %d, want 0: %s", code, stderr)
		}
		for metric, verdict := range v {
			if verdict != "unchanged" {
				t.Errorf("%s: %s, want unchanged", metric, verdict)
			}
		}
	})

	t.Run("a missing index again is a regression with 12 samples", func(t *testing.T) {
		fast := measureTo("fast", "12")
		s.SetSlow(t, true)
		slow := measureTo("slow", "12")
		code, v, stderr := compare(fast, slow)
		if code != ExitCheckFailed || !strings.Contains(stderr, "regressed") {
			t.Errorf("exit %d, want 1 naming the regression: %s", code, stderr)
		}
		if v["cold ttfb_ms"] != "regressed" || v["cold server_timing.db"] != "regressed" || v["warm ttfb_ms"] != "unchanged" {
			t.Errorf("verdicts %v, want the cold path regressed and the warm one unchanged", v)
		}
	})
}
