package cli

import (
	"bufio"
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

// readTargetLines reads one target per line from path ("-" is stdin),
// skipping blank lines and # comments.
func readTargetLines(f *Factory, path string) ([]string, error) {
	var r io.Reader
	if path == "-" {
		r = f.IO.In
	} else {
		file, err := os.Open(path)
		if err != nil {
			return nil, usageErrorf("--from-file: %v (expected a readable file with one URL or path per line)", err)
		}
		defer file.Close()
		r = file
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, usageErrorf("--from-file %s: %v", path, err)
	}
	return out, nil
}

// resolveTargets turns every argument into an absolute URL before anything
// is sent; the first bad one is a usage error naming it.
func resolveTargets(env *config.Environment, targets []string) ([]string, error) {
	urls := make([]string, 0, len(targets))
	for _, t := range targets {
		u, err := config.ResolveTarget(env, t)
		if err != nil {
			return nil, usageError(err)
		}
		urls = append(urls, u)
	}
	return urls, nil
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
