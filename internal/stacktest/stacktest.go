// Package stacktest starts the local stack from scripts/stack.sh — the
// Devnotes origin behind a production and a staging Varnish — for
// integration tests, on ports and in a state directory of its own, so test
// binaries running in parallel do not meet. A test starts a stack of its
// own with Start, or shares the test binary's one stack with Shared.
//
// Without the stack's packages (varnish, python3-fastapi, python3-uvicorn,
// curl) tests are skipped with the install command; with CI=true they fail
// instead, so a CI job cannot pass by skipping.
package stacktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SessionCookie is the name of the origin's session cookie.
const SessionCookie = "sessionid"

// The ports configs/demo.yaml names; ConfigYAML swaps them for the stack's own.
const (
	demoOriginPort     = "18080"
	demoProductionPort = "16081"
	demoStagingPort    = "16082"
)

// exitMissingPackages is stack.sh's exit status when packages are missing.
const exitMissingPackages = 3

// Stack is a running local stack. Its processes stop when the test that
// started it ends.
type Stack struct {
	// OriginURL is the FastAPI origin, without a cache in front.
	OriginURL string
	// ProductionURL is the production Varnish (scripts/stack/production.vcl).
	ProductionURL string
	// StagingURL is the staging Varnish (scripts/stack/staging.vcl).
	StagingURL string
	// Dir is the state directory: pid files, logs (origin.log,
	// production.log, staging.log) and the Varnish work directories
	// (varnishadm -n Dir/production).
	Dir string

	root  string
	ports [3]int
}

// Start brings up a stack for t and registers its shutdown with t.Cleanup.
func Start(t testing.TB) *Stack {
	t.Helper()
	s := start(t)
	pids := s.pids()
	t.Cleanup(func() { s.stop(t, pids) })
	return s
}

// shared is the stack Shared starts once per test binary and Main stops.
var shared struct {
	mu    sync.Mutex
	stack *Stack
	pids  []int
}

// Shared returns the test binary's one stack, started by the first test
// that asks for it; later tests get the same stack in whatever state the
// earlier ones left it (caches warm, articles edited). It stays up until
// Main stops it after the last test, so a package whose tests call Shared
// runs them through Main:
//
//	func TestMain(m *testing.M) { os.Exit(stacktest.Main(m)) }
//
// When the stack cannot start, t is failed or skipped as by Start, and the
// next test to ask tries again.
func Shared(t testing.TB) *Stack {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.stack == nil {
		s := start(t)
		shared.stack, shared.pids = s, s.pids()
	}
	return shared.stack
}

// Main runs the tests of m and then stops the caches SharedCache started
// and the stack Shared started, if any, and returns the exit code for os.Exit: the tests', or 1 when they
// passed but the stack did not stop cleanly.
func Main(m *testing.M) int {
	code := m.Run()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	if err := stopSharedCaches(code != 0, logf); err != nil {
		logf("stacktest: %v", err)
		code = max(code, 1)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if s := shared.stack; s != nil {
		if err := s.shutdown(shared.pids, code != 0, logf); err != nil {
			logf("stacktest: %v", err)
			code = max(code, 1)
		}
		shared.stack = nil
	}
	return code
}

// start brings up a stack; on failure it fails t, or skips it when the
// stack's packages are missing.
func start(t testing.TB) *Stack {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("stacktest: %v", err)
	}
	// Varnish drops privileges to its own users, who cannot enter the 0700
	// directories t.TempDir makes, and its work directory paths must stay
	// short; so the state lives in a short, world-readable dir under /tmp.
	dir, err := os.MkdirTemp("", "ccstk")
	if err != nil {
		t.Fatalf("stacktest: create state dir: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("stacktest: chmod state dir: %v", err)
	}
	s := &Stack{Dir: dir, root: root}
	removeDir := func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("stacktest: remove state dir: %v", err)
		}
	}

	// Free ports are picked, released and then bound by other processes;
	// another test binary can take one in between, so retry with new ones.
	const attempts = 3
	var out []byte
	for i := 1; ; i++ {
		ports, err := freePorts(3)
		if err != nil {
			t.Fatalf("stacktest: %v", err)
		}
		copy(s.ports[:], ports)
		s.OriginURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
		s.ProductionURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
		s.StagingURL = "http://127.0.0.1:" + strconv.Itoa(ports[2])

		out, err = s.run(t.Context(), "up")
		if err == nil {
			break
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() == exitMissingPackages {
			removeDir()
			if os.Getenv("CI") == "true" {
				t.Fatalf("stacktest: local stack cannot start in CI: %s", out)
			}
			t.Skipf("stacktest: local stack unavailable, skipping: %s", bytes.TrimSpace(out))
		}
		// Whatever did start must not outlive the attempt.
		if downOut, downErr := s.run(context.WithoutCancel(t.Context()), "down"); downErr != nil {
			t.Logf("stacktest: down after failed up: %v\n%s", downErr, downOut)
		}
		if i == attempts || !bytes.Contains(out, []byte("already in use")) {
			removeDir()
			t.Fatalf("stacktest: scripts/stack.sh up: %v\n%s", err, out)
		}
	}
	return s
}

// stop shuts the stack down at the end of t.
func (s *Stack) stop(t testing.TB, pids []int) {
	if err := s.shutdown(pids, t.Failed(), t.Logf); err != nil {
		t.Errorf("stacktest: %v", err)
	}
}

// shutdown runs stack.sh down, checks that every process it started is
// gone, and removes the state directory; after a failure (failed) it first
// logs the end of each component's log.
func (s *Stack) shutdown(pids []int, failed bool, logf func(string, ...any)) error {
	if failed {
		s.logTails(logf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := s.run(ctx, "down"); err != nil {
		return fmt.Errorf("scripts/stack.sh down: %w\n%s", err, out)
	}
	var errs []error
	for _, pid := range pids {
		if processAlive(pid) {
			errs = append(errs, fmt.Errorf("process %d still running after down", pid))
		}
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove state dir: %w", err))
	}
	return errors.Join(errs...)
}

// run executes scripts/stack.sh with the stack's settings and returns its
// combined output.
func (s *Stack) run(ctx context.Context, command string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.root, "scripts", "stack.sh"), command)
	cmd.Dir = s.root
	cmd.Env = append(os.Environ(), s.env()...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Background processes may keep inherited descriptors open; don't wait
	// on them once the script itself has exited.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// env is the stack's configuration for stack.sh. Packages are never
// installed from a test run: that is the CI job's or the developer's call.
func (s *Stack) env() []string {
	return []string{
		"STACK_ORIGIN_PORT=" + strconv.Itoa(s.ports[0]),
		"STACK_PRODUCTION_PORT=" + strconv.Itoa(s.ports[1]),
		"STACK_STAGING_PORT=" + strconv.Itoa(s.ports[2]),
		"STACK_DIR=" + s.Dir,
		"STACK_INSTALL=never",
		"STACK_TIMEOUT=60",
	}
}

// pids reads the pid files of the running components and adds their child
// processes (Varnish's cache-main), which must stop with them.
func (s *Stack) pids() []int {
	var pids []int
	for _, name := range []string{"origin", "production", "staging"} {
		b, err := os.ReadFile(filepath.Join(s.Dir, name+".pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		pids = append(pids, pid)
		children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(children)) {
			if c, err := strconv.Atoi(f); err == nil {
				pids = append(pids, c)
			}
		}
	}
	return pids
}

// logTails logs the end of each component's log, for a failed test.
func (s *Stack) logTails(logf func(string, ...any)) {
	for _, name := range []string{"origin", "production", "staging"} {
		b, err := os.ReadFile(filepath.Join(s.Dir, name+".log"))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		logf("stacktest: last lines of %s.log:\n%s", name, strings.Join(lines, "\n"))
	}
}

// Login signs in at the origin's /login and returns the session cookie's
// value. The value is a credential: keep it out of test output.
func (s *Stack) Login(t testing.TB) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.OriginURL+"/login", nil)
	if err != nil {
		t.Fatalf("stacktest: login: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("stacktest: login: %v", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("stacktest: login: read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stacktest: login: status %d, want 200", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("stacktest: login: response has no %s cookie", SessionCookie)
	return ""
}

// EditArticle retitles the published article slug at the origin (POST
// /admin/articles/{slug}), as an editor publishing a change would. The
// origin's pages change at once; the caches keep their copies until purged.
func (s *Stack) EditArticle(t testing.TB, slug, title string) {
	t.Helper()
	form := url.Values{"title": {title}}.Encode()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.OriginURL+"/admin/articles/"+url.PathEscape(slug), strings.NewReader(form))
	if err != nil {
		t.Fatalf("stacktest: edit %s: %v", slug, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	expectOK(t, req, "edit "+slug)
}

// SetSlow switches the origin's deliberately slow route, /popular, on or
// off (POST /admin/slow?on=1 drops the index its queries use, on=0
// creates it again).
func (s *Stack) SetSlow(t testing.TB, on bool) {
	t.Helper()
	v := "0"
	if on {
		v = "1"
	}
	// Also called from a Cleanup, when the test's context is done.
	req, err := http.NewRequestWithContext(context.WithoutCancel(t.Context()), http.MethodPost, s.OriginURL+"/admin/slow?on="+v, nil)
	if err != nil {
		t.Fatalf("stacktest: slow %s: %v", v, err)
	}
	expectOK(t, req, "slow "+v)
}

// Purge sends PURGE for path to the cache at cacheURL (ProductionURL or
// StagingURL), which accept it from loopback.
func (s *Stack) Purge(t testing.TB, cacheURL, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "PURGE", cacheURL+path, nil)
	if err != nil {
		t.Fatalf("stacktest: purge %s: %v", path, err)
	}
	expectOK(t, req, "purge "+path)
}

// UseVCL changes a cache's rules the way an operator does, without a
// restart: edit gets the VCL the cache runs ("production" or "staging",
// backend already pointed at this stack's origin) and returns the new one,
// which is loaded and made active. When t ends the cache goes back to its
// own VCL and drops every stored object, so later tests meet the stack as
// it was configured.
func (s *Stack) UseVCL(t testing.TB, cache string, edit func(vcl string) string) {
	t.Helper()
	own, err := os.ReadFile(filepath.Join(s.Dir, cache+".vcl"))
	if err != nil {
		t.Fatalf("stacktest: read %s's VCL: %v", cache, err)
	}
	name := fmt.Sprintf("changed%d", time.Now().UnixNano())
	path := filepath.Join(s.Dir, name+".vcl")
	if err := os.WriteFile(path, []byte(edit(string(own))), 0o644); err != nil {
		t.Fatalf("stacktest: write VCL: %v", err)
	}
	s.varnishadm(t, cache, "vcl.load", name, path)
	s.varnishadm(t, cache, "vcl.use", name)
	t.Cleanup(func() {
		s.varnishadm(t, cache, "vcl.use", "boot")
		s.varnishadm(t, cache, "vcl.discard", name)
		s.varnishadm(t, cache, "ban", "req.url", "~", ".")
	})
}

// varnishadm runs one command on a cache's management interface.
func (s *Stack) varnishadm(t testing.TB, cache string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "varnishadm", append([]string{"-n", filepath.Join(s.Dir, cache)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stacktest: varnishadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// expectOK sends req and fails t unless the answer is 200.
func expectOK(t testing.TB, req *http.Request, what string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("stacktest: %s: %v", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		t.Fatalf("stacktest: %s: read body: %v", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stacktest: %s: status %d, want 200: %s", what, resp.StatusCode, bytes.TrimSpace(body))
	}
}

// ConfigYAML writes configs/demo.yaml with this stack's URLs in place of the
// demo's default ports and returns the file's path. The session value is
// still read from CACHECTL_DEMO_SESSION (t.Setenv it to Login's value).
func (s *Stack) ConfigYAML(t testing.TB) string {
	t.Helper()
	demo, err := os.ReadFile(filepath.Join(s.root, "configs", "demo.yaml"))
	if err != nil {
		t.Fatalf("stacktest: read demo config: %v", err)
	}
	// Base URLs, purge endpoints and host allow-lists all name host:port.
	var pairs []string
	for _, p := range []struct {
		from string
		to   int
	}{
		{demoOriginPort, s.ports[0]},
		{demoProductionPort, s.ports[1]},
		{demoStagingPort, s.ports[2]},
	} {
		for _, host := range []string{"127.0.0.1:", "localhost:"} {
			pairs = append(pairs, host+p.from, host+strconv.Itoa(p.to))
		}
	}
	cfg := strings.NewReplacer(pairs...).Replace(string(demo))
	for _, want := range []string{s.ProductionURL, s.StagingURL} {
		if !strings.Contains(cfg, "base_url: "+want) {
			t.Fatalf("stacktest: configs/demo.yaml no longer has the base_url %s", want)
		}
	}
	path := filepath.Join(t.TempDir(), "cachectl.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("stacktest: write config: %v", err)
	}
	return path
}

// RepoRoot finds the repository root by walking up from the working
// directory to the directory holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePorts asks the kernel for n distinct free loopback ports, holding them
// all open together so none is returned twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// processAlive reports whether a process with this pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "123 (varnishd) S ...".
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}
