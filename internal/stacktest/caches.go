package stacktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kind names a caching proxy the tests run cachectl against.
type Kind string

// The caches, each from its Debian package.
const (
	Nginx         Kind = "nginx"         // nginx, libnginx-mod-http-cache-purge
	Squid         Kind = "squid"         // squid
	TrafficServer Kind = "trafficserver" // trafficserver
	VarnishXkey   Kind = "varnish"       // varnish, varnish-modules
)

// Cache is one caching proxy running on loopback in front of the stack's
// origin, configured from the files under scripts/stack/caches (Varnish:
// configs/varnish-xkey.vcl). Its purge access list admits 127.0.0.1 only;
// it also listens on [::1], where purges are refused.
type Cache struct {
	Kind Kind
	// URL is where visitors and purges reach it: http://127.0.0.1:PORT.
	URL string
	// DeniedURL is the same cache on http://[::1]:PORT, whose purges its
	// access list refuses.
	DeniedURL string
	// Endpoint is what cdn.endpoints names to purge through it: URL, or
	// for nginx URL + "/purge" (its separate purge location).
	Endpoint string
	// AltURL is a second way in, when the cache has one: nginx's server
	// with the module's "same location" purge syntax; Traffic Server as
	// http://localhost:PORT, whose remap rule turns the Via codes off.
	AltURL string
	// Dir holds its configuration, logs and cache files.
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
}

// cacheSpec says how to run one kind of cache.
type cacheSpec struct {
	// binary is the program, modules the files of its plugins the
	// configuration loads (glob patterns), packages the Debian packages
	// they come from.
	binary   string
	modules  []string
	packages []string
	// ports is how many loopback ports it listens on.
	ports int
	// setup writes the configuration into c.Dir and returns the command.
	setup func(s *cacheSetup) (*exec.Cmd, error)
}

// cacheSetup is what a cacheSpec's setup works with.
type cacheSetup struct {
	c      *Cache
	root   string
	origin *url.URL
	ports  []int
}

// replacer fills the @NAME@ placeholders of the configuration files.
func (s *cacheSetup) replacer() *strings.Replacer {
	pairs := []string{
		"@DIR@", s.c.Dir,
		"@PORT@", strconv.Itoa(s.ports[0]),
		"@ORIGIN@", s.origin.Host,
		"@ORIGIN_HOST@", s.origin.Hostname(),
		"@ORIGIN_PORT@", s.origin.Port(),
	}
	if len(s.ports) > 1 {
		pairs = append(pairs, "@SAME_LOCATION_PORT@", strconv.Itoa(s.ports[1]))
	}
	return strings.NewReplacer(pairs...)
}

// template copies a configuration file from the repository with its
// placeholders filled in.
func (s *cacheSetup) template(src, dst string) error {
	b, err := os.ReadFile(filepath.Join(s.root, src))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.c.Dir, dst), []byte(s.replacer().Replace(string(b))), 0o644)
}

var cacheSpecs = map[Kind]cacheSpec{
	Nginx: {binary: "/usr/sbin/nginx", modules: []string{"/usr/lib/nginx/modules/ngx_http_cache_purge_module.so"},
		packages: []string{"nginx", "libnginx-mod-http-cache-purge"}, ports: 2, setup: setupNginx},
	Squid:         {binary: "/usr/sbin/squid", packages: []string{"squid"}, ports: 1, setup: setupSquid},
	TrafficServer: {binary: "/usr/bin/traffic_server", packages: []string{"trafficserver"}, ports: 1, setup: setupTrafficServer},
	VarnishXkey: {binary: "/usr/sbin/varnishd", modules: []string{"/usr/lib/*/varnish/vmods/libvmod_xkey.so"},
		packages: []string{"varnish", "varnish-modules"}, ports: 1, setup: setupVarnishXkey},
}

// sharedCaches are the caches SharedCache started, stopped by Main.
var sharedCaches struct {
	mu     sync.Mutex
	caches map[Kind]*Cache
}

// SharedCache returns the test binary's one cache of kind k, in front of
// the shared stack's origin (Shared), started by the first test that asks
// for it and stopped by Main after the last test. Later tests find it in
// whatever state earlier ones left it. Without its Debian packages the
// test is skipped with the install command, or fails with CI=true.
func SharedCache(t testing.TB, k Kind) *Cache {
	t.Helper()
	origin := Shared(t).OriginURL
	sharedCaches.mu.Lock()
	defer sharedCaches.mu.Unlock()
	if c := sharedCaches.caches[k]; c != nil {
		return c
	}
	c, err := StartCache(k, origin)
	var missing *MissingError
	switch {
	case errors.As(err, &missing) && os.Getenv("CI") == "true":
		t.Fatalf("stacktest: %v", err)
	case errors.As(err, &missing):
		t.Skipf("stacktest: %v; skipping", err)
	case err != nil:
		t.Fatalf("stacktest: %v", err)
	}
	if sharedCaches.caches == nil {
		sharedCaches.caches = map[Kind]*Cache{}
	}
	sharedCaches.caches[k] = c
	return c
}

// stopSharedCaches stops what SharedCache started; after failed tests it
// first logs the end of each cache's log.
func stopSharedCaches(failed bool, logf func(string, ...any)) error {
	sharedCaches.mu.Lock()
	defer sharedCaches.mu.Unlock()
	var errs []error
	for k, c := range sharedCaches.caches {
		if failed {
			c.logTail(logf)
		}
		errs = append(errs, c.Stop())
		delete(sharedCaches.caches, k)
	}
	return errors.Join(errs...)
}

// MissingError says which Debian packages a cache needs.
type MissingError struct {
	Kind     Kind
	Packages []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is not installed; install it with: apt-get install -y %s", e.Kind, strings.Join(e.Packages, " "))
}

// StartCache starts a cache of kind k in front of originURL on free
// loopback ports and waits until it answers through to the origin. Stop it
// with Stop.
func StartCache(k Kind, originURL string) (*Cache, error) {
	spec, ok := cacheSpecs[k]
	if !ok {
		return nil, fmt.Errorf("no cache kind %q", k)
	}
	for _, f := range append([]string{spec.binary}, spec.modules...) {
		if found, _ := filepath.Glob(f); len(found) == 0 {
			return nil, &MissingError{Kind: k, Packages: spec.packages}
		}
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	origin, err := url.Parse(originURL)
	if err != nil {
		return nil, fmt.Errorf("origin %q: %w", originURL, err)
	}
	var lastErr error
	for range 3 {
		// A port picked free can be taken before the cache binds it.
		c, err := startCacheOnce(k, spec, root, origin)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startCacheOnce(k Kind, spec cacheSpec, root string, origin *url.URL) (*Cache, error) {
	ports, err := freePorts(spec.ports)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cc"+string(k)[:3])
	if err != nil {
		return nil, err
	}
	// The caches drop privileges to their own users, who must read the
	// configuration and write logs and cache files here.
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, err
	}
	c := &Cache{Kind: k, Dir: dir, done: make(chan struct{})}
	c.URL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	c.DeniedURL = "http://[::1]:" + strconv.Itoa(ports[0])
	c.Endpoint = c.URL
	cmd, err := spec.setup(&cacheSetup{c: c, root: root, origin: origin, ports: ports})
	if err == nil {
		err = c.start(cmd)
	}
	if err == nil {
		err = c.waitReady(60 * time.Second)
	}
	if err != nil {
		tail := c.tail()
		_ = c.Stop()
		return nil, fmt.Errorf("start %s: %w\n%s", k, err, tail)
	}
	return c, nil
}

// start runs cmd with its output in the cache's log.
func (c *Cache) start(cmd *exec.Cmd) error {
	log, err := os.OpenFile(filepath.Join(c.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = c.Dir
	// Its own process group, so a Ctrl-C meant for the tests reaches the
	// cache only through Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	return nil
}

// waitReady polls the origin's /health through the cache.
func (c *Cache) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		select {
		case <-c.done:
			return errors.New("exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("%s/health did not answer 200 within %s", c.URL, timeout)
		case <-time.After(100 * time.Millisecond):
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/health", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// Stop ends the cache by its pid — SIGTERM, then SIGKILL after ten seconds —
// checks that its processes are gone and removes its directory.
func (c *Cache) Stop() error {
	var errs []error
	if c.cmd != nil && c.cmd.Process != nil {
		pids := append([]int{c.cmd.Process.Pid}, children(c.cmd.Process.Pid)...)
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range pids {
			for processAlive(pid) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if processAlive(pid) {
				errs = append(errs, fmt.Errorf("%s: process %d still running after stop", c.Kind, pid))
			}
		}
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// children lists a process's child processes (nginx's workers, Varnish's
// cache process), which must stop with it.
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if c, err := strconv.Atoi(f); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// tail is the end of every log file in the cache's directory.
func (c *Cache) tail() string {
	var sb strings.Builder
	logs, _ := filepath.Glob(filepath.Join(c.Dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(c.Dir, "log", "*.log"))
	for _, p := range append(logs, more...) {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&sb, "--- %s\n%s\n", filepath.Base(p), strings.Join(lines, "\n"))
	}
	return sb.String()
}

func (c *Cache) logTail(logf func(string, ...any)) {
	if t := c.tail(); t != "" {
		logf("stacktest: %s logs:\n%s", c.Kind, t)
	}
}
