package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// TestOnLocalStack runs what users run against the real stack (Varnish in
// front of the FastAPI site), started once for all of it: the GitHub
// Action's steps, and cachectl watch scraped by a real Prometheus.
func TestOnLocalStack(t *testing.T) {
	stack := stacktest.Start(t)
	session := stack.Login(t)
	root, err := stacktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the Action verifies, with a job summary and annotations", func(t *testing.T) {
		testActionVerify(t, stack, root, session)
	})
	t.Run("the Action refuses -o in args", func(t *testing.T) {
		testActionRefusesOutput(t, stack, root, session)
	})
	t.Run("watch scraped by Prometheus", func(t *testing.T) {
		testWatchScrapedByPrometheus(t, stack, session)
	})
}

// actionEnv is the job's environment: the Go toolchain and its caches (the
// setup-go step's part, offline), and the session secret under the name
// the config gives it, as a workflow's env: would pass it.
func actionEnv(t *testing.T, session string) []string {
	t.Helper()
	out, err := exec.Command(goTool(), "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var goenv map[string]string
	if err := json.Unmarshal(out, &goenv); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + t.TempDir(),
		"PATH=" + filepath.Dir(goTool()) + ":/usr/local/bin:/usr/bin:/bin",
		// The action's own checkout carries no .git; nothing is downloaded.
		"GOFLAGS=-buildvcs=false -mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local",
		"CACHECTL_DEMO_SESSION=" + session,
	}
	for k, v := range goenv {
		env = append(env, k+"="+v)
	}
	return env
}

func testActionVerify(t *testing.T, stack *stacktest.Stack, root, session string) {
	r := newActionRunner(t, readAction(t, root), root, actionWorkspace(t, stack), actionEnv(t, session))
	steps := r.run(map[string]string{"env": "production"})
	if len(steps) != 2 {
		t.Fatalf("ran %d steps, want install and run: %+v", len(steps), steps)
	}
	if install := steps[0]; install.code != 0 || !strings.Contains(install.log, "cachectl main\n") {
		t.Fatalf("install: exit %d, log:\n%s\nwant 0 and the version named by the action's ref", install.code, install.log)
	}
	run := steps[1]
	if run.code != 1 || r.outputs["run"]["exit-code"] != "1" {
		t.Fatalf("run: exit %d, output exit-code %q; want 1 (the /dashboard checks fail); log:\n%s", run.code, r.outputs["run"]["exit-code"], run.log)
	}
	var annotations []string
	for _, l := range strings.Split(run.log, "\n") {
		if strings.HasPrefix(l, "::") {
			annotations = append(annotations, l)
		}
	}
	if len(annotations) != 2 {
		t.Errorf("%d annotations, want one per failed check (2), none repeated:\n%s", len(annotations), strings.Join(annotations, "\n"))
	}
	for _, a := range annotations {
		if !strings.HasPrefix(a, "::error file=cachectl.yaml,title=cachectl verify%3A /dashboard logged_in ") || !strings.Contains(a, "owner: web-team") {
			t.Errorf("annotation %q, want an error on cachectl.yaml for /dashboard logged_in naming its owner", a)
		}
	}
	summary, err := os.ReadFile(r.summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## ❌ cachectl verify: production", "| `/dashboard` | logged_in | `cache` | one of BYPASS, MISS, DYNAMIC | HIT"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("step summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(run.log, "/dashboard") || !strings.Contains(run.log, "checks failed") {
		t.Errorf("the log lacks the report table:\n%s", run.log)
	}
	if fi, err := os.Stat(filepath.Join(r.outputs["run"]["report-dir"], "verify.jsonl")); err != nil || fi.Size() == 0 {
		t.Errorf("report-dir holds no verify.jsonl: %v", err)
	}
	if strings.Contains(run.log+string(summary), session) {
		t.Error("the session value appears in the log or the summary")
	}
}

func testActionRefusesOutput(t *testing.T, stack *stacktest.Stack, root, session string) {
	r := newActionRunner(t, readAction(t, root), root, actionWorkspace(t, stack), actionEnv(t, session))
	steps := r.run(map[string]string{"env": "production", "args": "--warm\n-o\njson\n"})
	if len(steps) != 2 || steps[1].code != 2 {
		t.Fatalf("steps %+v, want the run step to exit 2", steps)
	}
	if !strings.Contains(steps[1].log, "::error title=cachectl action::args: -o: leave -o out") {
		t.Errorf("log lacks the annotation refusing -o:\n%s", steps[1].log)
	}
}
