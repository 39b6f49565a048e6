package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cachectl/cachectl/pkg/secret"
	"github.com/cachectl/cachectl/pkg/target"
)

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

// TargetEnv is the environment as the target pipeline sees it: name, base
// URL and host allow-list. It is nil for a nil environment (none chosen).
func (e *Environment) TargetEnv() *target.Env {
	if e == nil {
		return nil
	}
	t := &target.Env{Name: e.Name, BaseURL: e.BaseURL, Hosts: e.Hosts}
	// The default allow-list is derived once, not on every URL checked.
	t.Hosts = t.AllowedHosts()
	return t
}

// AllowedHosts returns the environment's hosts, defaulting to the base URL's host.
func (e *Environment) AllowedHosts() []string {
	return e.TargetEnv().AllowedHosts()
}

// SessionValue resolves the session cookie value: from the variable named by
// overrideEnv (--cookie-env) when set, else value_env, else value_file.
func (e *Environment) SessionValue(lookup Lookup, overrideEnv string) (secret.Value, error) {
	v, err := e.sessionValue(lookup, overrideEnv)
	if err != nil {
		return "", err
	}
	return checkCookieValue(v, fmt.Sprintf("environments.%s.session", e.Name))
}

func (e *Environment) sessionValue(lookup Lookup, overrideEnv string) (secret.Value, error) {
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
	return checkSecret(secret.Value(strings.TrimSpace(v)), key+" ("+name+")")
}

// checkSecret refuses a secret with a control character inside (a line
// break pasted with a token): no header can carry it, and retrying cannot
// help. The value itself is never shown.
func checkSecret(v secret.Value, where string) (secret.Value, error) {
	for i, c := range []byte(v.Reveal()) {
		if c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%s: the secret has a control character (byte %d of %d, 0x%02x) inside; expected one line of printable characters", where, i+1, len(v), c)
		}
	}
	return v, nil
}

// checkCookieValue refuses a session value with a byte a cookie cannot
// carry (RFC 6265 cookie-octets), instead of letting it be altered on the
// way out. The value itself is never shown.
func checkCookieValue(v secret.Value, where string) (secret.Value, error) {
	for i, c := range []byte(v.Reveal()) {
		if c <= 0x20 || c == '"' || c == ',' || c == ';' || c == '\\' || c >= 0x7f {
			return "", fmt.Errorf("%s: the session value has a byte a cookie cannot carry (byte %d of %d, %q); expected RFC 6265 cookie characters (quote or encode it as the site does)", where, i+1, len(v), string(rune(c)))
		}
	}
	return v, nil
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
	return checkSecret(secret.Value(v), key+" ("+path+")")
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
