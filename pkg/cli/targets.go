package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
)

// openTargets opens --from-file PATH ("-" is stdin).
func openTargets(f *Factory, path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(f.IO.In), nil
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("--from-file: %v (expected a readable file with one URL or path per line)", err)
	}
	return file, nil
}

// scanTargets calls fn for each target line of r with its line number,
// skipping blank lines and # comments.
func scanTargets(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// readTargetLines reads one target per line from path ("-" is stdin).
func readTargetLines(f *Factory, path string) ([]string, error) {
	r, err := openTargets(f, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	if err := scanTargets(r, func(_ int, line string) error { out = append(out, line); return nil }); err != nil {
		return nil, usageErrorf("--from-file %s: %v", path, err)
	}
	return out, nil
}

// targetList is the URLs a command works through. Arguments and stdin are
// held in memory; a --from-file file is checked in full before anything is
// sent and then read again as the run goes, so a file of a million URLs
// costs no memory.
type targetList struct {
	env   *config.Environment
	held  []string
	file  string
	count int
	// width is the longest URL's length, for table columns.
	width int
	// err is set when the file changed between the check and the run.
	err error
}

// newTargetList resolves every target (and calls check on each URL) before
// the run starts; the first bad one is a usage error naming it and, for
// files, its line.
func newTargetList(f *Factory, env *config.Environment, args []string, fromFile string, check func(string) error) (*targetList, error) {
	l := &targetList{env: env}
	add := func(u string, keep bool) error {
		if check != nil {
			if err := check(u); err != nil {
				return err
			}
		}
		l.count++
		l.width = max(l.width, len(u))
		if keep {
			l.held = append(l.held, u)
		}
		return nil
	}
	for _, a := range args {
		u, err := config.ResolveTarget(env, a)
		if err != nil {
			return nil, usageError(err)
		}
		if err := add(u, true); err != nil {
			return nil, err
		}
	}
	if fromFile == "" {
		return l, nil
	}
	r, err := openTargets(f, fromFile)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	stdin := fromFile == "-"
	err = scanTargets(r, func(n int, line string) error {
		u, err := config.ResolveTarget(env, line)
		if err != nil {
			return usageErrorf("--from-file %s line %d: %v", fromFile, n, err)
		}
		return add(u, stdin)
	})
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, usageErrorf("--from-file %s: %v", fromFile, err)
	}
	if !stdin {
		l.file = fromFile
	}
	return l, nil
}

// All yields every URL in input order.
func (l *targetList) All(yield func(string) bool) {
	for _, u := range l.held {
		if !yield(u) {
			return
		}
	}
	if l.file == "" {
		return
	}
	file, err := os.Open(l.file)
	if err != nil {
		l.err = fmt.Errorf("--from-file %s: %w", l.file, err)
		return
	}
	defer file.Close()
	stop := errors.New("stop")
	err = scanTargets(file, func(n int, line string) error {
		u, err := config.ResolveTarget(l.env, line)
		if err != nil {
			return fmt.Errorf("--from-file %s line %d changed during the run: %w", l.file, n, err)
		}
		if !yield(u) {
			return stop
		}
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		l.err = err
	}
}

// parseHeaders parses --header "Name: value" flags. Credentials are refused:
// secrets never come from the command line.
func parseHeaders(flags []string, env *config.Environment) (http.Header, error) {
	h := http.Header{}
	if env != nil {
		for k, v := range env.Headers {
			h.Set(k, v)
		}
	}
	for _, raw := range flags {
		name, value, ok := strings.Cut(raw, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usageErrorf("--header %q: expected \"Name: value\"", raw)
		}
		switch strings.ToLower(name) {
		case "cookie", "authorization", "proxy-authorization":
			return nil, usageErrorf("--header %s: credentials are never taken from the command line (expected the session in config: session.value_env or value_file, or --cookie-env VAR)", name)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// hostAllowed reports whether rawURL's host is one of the environment's hosts.
func hostAllowed(env *config.Environment, rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && purge.HostAllowed(u.Host, env.AllowedHosts())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// newProber builds the prober a command uses against env (nil for bare
// URLs): the environment's headers plus --header flags, cache-status headers
// from the flags, the environment and the config, and the global timeout and
// TLS setting. o carries the command's own choices (method, keep-alive, ...).
func (f *Factory) newProber(env *config.Environment, o probe.Options, headerFlags, cacheHeaderFlags []string) (*probe.Prober, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if o.Header, err = parseHeaders(headerFlags, env); err != nil {
		return nil, err
	}
	o.CacheHeaders = append([]string{}, cacheHeaderFlags...)
	if env != nil {
		o.CacheHeaders = append(o.CacheHeaders, env.CacheHeaders...)
	}
	o.CacheHeaders = append(o.CacheHeaders, cfg.CacheHeaders...)
	o.Timeout = f.Globals.Timeout
	o.Insecure = f.Globals.Insecure
	return probe.New(o), nil
}
