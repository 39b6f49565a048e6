package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// actionFile is the part of action.yml the runner reads.
type actionFile struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Author      string            `yaml:"author"`
	Branding    map[string]string `yaml:"branding"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	Uses  string            `yaml:"uses"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
}

// stepsNotRun are the marketplace actions the composite uses; the runner
// here runs only run: steps, with the Go toolchain already in place and
// nothing uploaded.
var stepsNotRun = map[string]bool{"actions/setup-go@v5": true, "actions/upload-artifact@v4": true}

// readAction decodes action.yml strictly: an unknown key fails.
func readAction(t *testing.T, root string) *actionFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var a actionFile
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("action.yml runs.using = %q, want composite", a.Runs.Using)
	}
	for i, s := range a.Runs.Steps {
		switch {
		case s.Uses != "" && !stepsNotRun[s.Uses]:
			t.Errorf("step %d uses %s, which this test does not know how to stand in for", i, s.Uses)
		case s.Uses == "" && s.Shell != "bash":
			t.Errorf("step %d (%s): shell %q, want bash", i, s.Name, s.Shell)
		case strings.Contains(s.Run, "${{"):
			// Expressions in a script are pasted in before the shell reads
			// it: an input could inject commands. They go through env:.
			t.Errorf("step %d (%s): an expression inside run:, want it passed through env:", i, s.Name)
		}
	}
	return &a
}

// actionRunner runs a composite action's run: steps as the GitHub runner
// does: bash with -eo pipefail in the workspace, the GITHUB_* files, the
// PATH additions and step outputs carried from step to step.
type actionRunner struct {
	t          *testing.T
	action     *actionFile
	actionPath string
	workspace  string
	temp       string
	summary    string
	env        []string
	outputs    map[string]map[string]string
}

func newActionRunner(t *testing.T, a *actionFile, actionPath, workspace string, env []string) *actionRunner {
	t.Helper()
	temp := t.TempDir()
	r := &actionRunner{t: t, action: a, actionPath: actionPath, workspace: workspace, temp: temp,
		summary: filepath.Join(temp, "step-summary.md"), outputs: map[string]map[string]string{}}
	for _, f := range []string{r.summary, filepath.Join(temp, "github-env"), filepath.Join(temp, "github-path")} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.env = append(env,
		"GITHUB_ACTIONS=true", "CI=true",
		"GITHUB_WORKSPACE="+workspace, "RUNNER_TEMP="+temp,
		"GITHUB_STEP_SUMMARY="+r.summary,
		"GITHUB_ENV="+filepath.Join(temp, "github-env"),
		"GITHUB_PATH="+filepath.Join(temp, "github-path"),
		"GITHUB_ACTION_PATH="+actionPath, "GITHUB_ACTION_REF=main",
	)
	return r
}

// stepResult is one run: step's exit status and log.
type stepResult struct {
	name string
	code int
	log  string
}

// run runs every run: step with inputs (over the defaults) until one fails.
func (r *actionRunner) run(inputs map[string]string) []stepResult {
	r.t.Helper()
	values := map[string]string{}
	for name, in := range r.action.Inputs {
		values["inputs."+name] = in.Default
	}
	for k, v := range inputs {
		if _, ok := r.action.Inputs[k]; !ok {
			r.t.Fatalf("input %q is not declared in action.yml", k)
		}
		values["inputs."+k] = v
	}
	values["github.action_path"], values["github.action_ref"], values["runner.temp"] = r.actionPath, "main", r.temp
	var results []stepResult
	for i, s := range r.action.Runs.Steps {
		if s.Uses != "" {
			continue
		}
		res := r.runStep(i, s, values)
		results = append(results, res)
		if res.code != 0 {
			break
		}
	}
	return results
}

func (r *actionRunner) runStep(i int, s actionStep, values map[string]string) stepResult {
	r.t.Helper()
	script := filepath.Join(r.temp, "step.sh")
	output := filepath.Join(r.temp, "github-output")
	for _, f := range []struct{ path, body string }{{script, s.Run}, {output, ""}} {
		if err := os.WriteFile(f.path, []byte(f.body), 0o600); err != nil {
			r.t.Fatal(err)
		}
	}
	env := append([]string{}, r.env...)
	env = append(env, "GITHUB_OUTPUT="+output)
	env = append(env, r.readLines("github-env")...)
	for k, v := range s.Env {
		env = append(env, k+"="+r.expand(i, v, values))
	}
	env = append(env, "PATH="+strings.Join(append(r.readLines("github-path"), pathOf(r.env)), ":"))
	cmd := exec.CommandContext(r.t.Context(), "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir, cmd.Env = r.workspace, env
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		r.t.Fatalf("step %q: %v", s.Name, err)
	}
	if s.ID != "" {
		r.outputs[s.ID] = map[string]string{}
		for _, l := range r.readLines("github-output") {
			if k, v, ok := strings.Cut(l, "="); ok {
				r.outputs[s.ID][k] = v
				values["steps."+s.ID+".outputs."+k] = v
			}
		}
	}
	return stepResult{name: s.Name, code: cmd.ProcessState.ExitCode(), log: string(out)}
}

// expression is the one kind of expression this runner evaluates: a
// context property.
var expression = regexp.MustCompile(`\$\{\{\s*([a-z_]+(?:\.[A-Za-z0-9_-]+)+)\s*\}\}`)

func (r *actionRunner) expand(step int, v string, values map[string]string) string {
	out := expression.ReplaceAllStringFunc(v, func(m string) string {
		name := expression.FindStringSubmatch(m)[1]
		val, ok := values[name]
		if !ok {
			r.t.Fatalf("step %d: %s: not a context this runner knows", step, m)
		}
		return val
	})
	if strings.Contains(out, "${{") {
		r.t.Fatalf("step %d: %q: only context properties are evaluated here", step, v)
	}
	return out
}

func (r *actionRunner) readLines(name string) []string {
	f, err := os.Open(filepath.Join(r.temp, name))
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		r.t.Fatal(err)
	}
	return lines
}

func pathOf(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	return "/usr/bin:/bin"
}

// actionWorkspace is a workspace holding the stack's config as
// cachectl.yaml, the action's default config file.
func actionWorkspace(t *testing.T, stack *stacktest.Stack) string {
	t.Helper()
	ws := t.TempDir()
	b, err := os.ReadFile(stack.ConfigYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "cachectl.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestActionScripts: action.yml parses strictly, and its run: scripts are
// bash that shellcheck finds nothing in (actionlint checks the scripts of
// workflows, not those of an action).
func TestActionScripts(t *testing.T) {
	root, err := stacktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	a := readAction(t, root)
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil && os.Getenv("CI") == "true" {
		t.Fatal("shellcheck is not installed (CI): apt-get install shellcheck")
	}
	for _, s := range a.Runs.Steps {
		if s.Run == "" {
			continue
		}
		script := filepath.Join(t.TempDir(), "step.sh")
		if err := os.WriteFile(script, []byte(s.Run), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v\n%s", s.Name, err, out)
		}
		if shellcheck == "" {
			t.Logf("%s: shellcheck is not installed; skipped (apt-get install shellcheck)", s.Name)
			continue
		}
		if out, err := exec.Command(shellcheck, "--shell=bash", "--severity=style", script).CombinedOutput(); err != nil {
			t.Errorf("%s: shellcheck: %v\n%s", s.Name, err, out)
		}
	}
}
