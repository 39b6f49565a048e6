package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cachectl/cachectl/pkg/secret"
)

// ErrNoEnvironment is returned when a path needs an environment and none was chosen.
var ErrNoEnvironment = errors.New("no environment")

// Env returns the named environment, with an error listing the known ones.
func (c *Config) Env(name string) (*Environment, error) {
	if e, ok := c.Environments[strings.ToLower(name)]; ok {
		return e, nil
	}
	known := c.EnvNames()
	if len(known) == 0 {
		where := "no config file was found (looked for ./cachectl.yaml and $XDG_CONFIG_HOME/cachectl/config.yaml)"
		if c.File != "" {
			where = c.File + " defines no environments"
		}
		return nil, fmt.Errorf("unknown environment %q: %s; pass --config FILE", name, where)
	}
	return nil, fmt.Errorf("unknown environment %q (expected one of: %s)", name, strings.Join(known, ", "))
}

// AllowedHosts returns the environment's hosts, defaulting to the base URL's host.
func (e *Environment) AllowedHosts() []string {
	if len(e.Hosts) > 0 {
		return e.Hosts
	}
	if u, err := url.Parse(e.BaseURL); err == nil && u.Host != "" {
		return []string{u.Host}
	}
	return nil
}

// ResolveTarget turns a URL or a path into an absolute URL. A path needs an
// environment (env may be nil for full URLs).
func ResolveTarget(env *Environment, target string) (string, error) {
	target = strings.TrimSpace(target)
	if target == "" {
		return "", fmt.Errorf("empty target (expected a URL such as https://www.example.com/a or a path such as /a)")
	}
	if strings.HasPrefix(target, "/") {
		if env == nil {
			return "", fmt.Errorf("%s is a path but no environment was chosen (expected --env NAME with a base_url, or a full URL): %w", target, ErrNoEnvironment)
		}
		if strings.HasPrefix(target, "//") {
			return "", fmt.Errorf("%s: a path must not start with // (expected /path or a full URL)", target)
		}
		base, err := url.Parse(env.BaseURL)
		if err != nil {
			return "", fmt.Errorf("environment %q has an invalid base_url %q: %w", env.Name, env.BaseURL, err)
		}
		ref, err := url.Parse(target)
		if err != nil {
			return "", fmt.Errorf("invalid path %q: %w", target, err)
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
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q: %w (expected http(s)://host/path or /path)", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("invalid URL %q: expected scheme http or https, or a path starting with /", target)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("invalid URL %q: no host (expected http(s)://host/path)", target)
	}
	if u.User != nil {
		return "", fmt.Errorf("invalid URL %q: credentials in URLs are refused (expected http(s)://host/path)", redactUser(u))
	}
	u.Fragment = ""
	return u.String(), nil
}

func redactUser(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}

// SessionValue resolves the session cookie value: from the variable named by
// overrideEnv (--cookie-env) when set, else value_env, else value_file.
func (e *Environment) SessionValue(lookup Lookup, overrideEnv string) (secret.Value, error) {
	if e.Session == nil {
		return "", fmt.Errorf("environment %q has no session configured (expected session.cookie and session.value_env in the config)", e.Name)
	}
	if overrideEnv != "" {
		return fromEnv(lookup, overrideEnv, "--cookie-env")
	}
	if e.Session.ValueEnv != "" {
		return fromEnv(lookup, e.Session.ValueEnv, fmt.Sprintf("environments.%s.session.value_env", e.Name))
	}
	return fromFile(e.Session.ValueFile, fmt.Sprintf("environments.%s.session.value_file", e.Name))
}

// Token resolves the CDN API token from api_token_env or api_token_file.
func (c *CDN) Token(lookup Lookup, envName string) (secret.Value, error) {
	if c.APITokenEnv != "" {
		return fromEnv(lookup, c.APITokenEnv, fmt.Sprintf("environments.%s.cdn.api_token_env", envName))
	}
	if c.APITokenFile != "" {
		return fromFile(c.APITokenFile, fmt.Sprintf("environments.%s.cdn.api_token_file", envName))
	}
	return "", fmt.Errorf("environments.%s.cdn: no api_token_env or api_token_file configured (expected the name of the variable holding the API token)", envName)
}

func fromEnv(lookup Lookup, name, key string) (secret.Value, error) {
	if lookup == nil {
		return "", fmt.Errorf("%s names variable %s, but no environment was given to read it from", key, name)
	}
	v, ok := lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s names variable %s, which is not set (expected it to hold the secret; export %s=...)", key, name, name)
	}
	return secret.Value(strings.TrimSpace(v)), nil
}

func fromFile(path, key string) (secret.Value, error) {
	b, err := readRegular(path, MaxSecretFileBytes)
	if err != nil {
		if u := errors.Unwrap(err); u != nil {
			err = u
		}
		return "", fmt.Errorf("%s: cannot read %s: %w (expected a regular file holding the secret)", key, path, err)
	}
	v, _, _ := strings.Cut(string(b), "\n")
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty (expected the secret on its first line)", key, path)
	}
	return secret.Value(v), nil
}

// SecretValues returns every secret the configuration names (session
// values, API tokens, any key ending in _env or _file) that can be read now,
// so output can be scrubbed of them whether or not the command uses them.
func (c *Config) SecretValues(lookup Lookup) []secret.Value {
	var out []secret.Value
	for _, src := range c.secrets {
		var v secret.Value
		if src.env {
			v, _ = fromEnv(lookup, src.name, src.name)
		} else {
			v, _ = fromFile(src.name, src.name)
		}
		if !v.IsZero() {
			out = append(out, v)
		}
	}
	return out
}
