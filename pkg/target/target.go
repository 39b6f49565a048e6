// Package target is the one way from what a user names — an argument, a
// line of a targets file, a configured route — to the URL a command works
// on: paths resolve against an environment's base URL, URLs are checked and,
// for cache keys, normalized, and every URL can pass one check (such as the
// environment's host allow-list) as it is used.
package target

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrNoEnvironment is returned when a path needs an environment and none was chosen.
var ErrNoEnvironment = errors.New("no environment")

// Env is what the pipeline knows of an environment.
type Env struct {
	// Name is the environment's name, for messages.
	Name string
	// BaseURL is what paths resolve against.
	BaseURL string
	// Hosts is the host allow-list; empty means the base URL's host.
	Hosts []string
}

// Resolve turns a URL or a path into an absolute URL, as given: a path
// ("/blog/post-1") is joined to env's base URL, a full URL must be http or
// https with a host and without credentials. The fragment is dropped. A path
// needs an environment (env may be nil for full URLs).
func Resolve(env *Env, raw string) (string, error) {
	return NewResolver(env).Resolve(raw)
}

// Resolver resolves names against one environment as Resolve does, with
// the base URL parsed once for all of them.
type Resolver struct {
	env  *Env
	base *url.URL
	// baseErr says why the base URL cannot be parsed.
	baseErr error
}

// NewResolver returns a Resolver for env (nil for full URLs only).
func NewResolver(env *Env) *Resolver {
	r := &Resolver{env: env}
	if env != nil && env.BaseURL != "" {
		r.base, r.baseErr = url.Parse(env.BaseURL)
	}
	return r
}

// Resolve is the package's Resolve against the resolver's environment.
func (r *Resolver) Resolve(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("empty target (expected a URL such as https://www.example.com/a or a path such as /a)")
	}
	if strings.HasPrefix(raw, "/") {
		return r.resolvePath(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q: %w (expected http(s)://host/path or /path)", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("invalid URL %q: expected scheme http or https, or a path starting with /", raw)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("invalid URL %q: no host (expected http(s)://host/path)", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("invalid URL %q: credentials in URLs are refused (expected http(s)://host/path)", redactUser(u))
	}
	if p := u.Port(); p != "" {
		if _, err := checkPort(p); err != nil {
			return "", fmt.Errorf("invalid URL %q: %w", raw, err)
		}
	}
	u.Fragment = ""
	return u.String(), nil
}

// Canonical is Resolve followed by Normalize: the form a cache keys on. A
// full URL goes to Normalize alone, whose checks include Resolve's.
func Canonical(env *Env, raw string) (string, error) {
	if s := strings.TrimSpace(raw); strings.HasPrefix(s, "/") {
		u, err := NewResolver(env).resolvePath(s)
		if err != nil {
			return "", err
		}
		raw = u
	}
	return Normalize(raw)
}

// resolvePath joins a path starting with "/" to env's base URL.
func (r *Resolver) resolvePath(path string) (string, error) {
	env := r.env
	if env == nil {
		return "", fmt.Errorf("%s is a path but no environment was chosen (expected --env NAME with a base_url, or a full URL): %w", path, ErrNoEnvironment)
	}
	if strings.HasPrefix(path, "//") {
		return "", fmt.Errorf("%s: a path must not start with // (expected /path or a full URL)", path)
	}
	if env.BaseURL == "" {
		return "", fmt.Errorf("%s is a path but environment %q has no base_url (expected a base_url in the config, or a full URL)", path, env.Name)
	}
	if r.baseErr != nil {
		return "", fmt.Errorf("environment %q has an invalid base_url %q: %w", env.Name, env.BaseURL, r.baseErr)
	}
	base := r.base
	ref, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("invalid path %q: %w", path, err)
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + ref.Path
	u.RawPath = ""
	if ref.RawPath != "" {
		u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + ref.RawPath
	}
	u.RawQuery = ref.RawQuery
	u.Fragment = ""
	return u.String(), nil
}

func redactUser(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}
