package target

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// AllowedHosts returns the environment's host allow-list: Hosts, or else the
// base URL's host.
func (e *Env) AllowedHosts() []string {
	if e == nil {
		return nil
	}
	if len(e.Hosts) > 0 {
		return e.Hosts
	}
	if u, err := url.Parse(e.BaseURL); err == nil && u.Host != "" {
		return []string{u.Host}
	}
	return nil
}

// Allows reports whether rawURL's host is on the environment's allow-list.
func (e *Env) Allows(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && HostAllowed(u.Host, e.AllowedHosts())
}

// HostAllowed reports whether hostport ("host" or "host:port") matches one
// of the allowed entries. An entry matches a host with or without port when
// it has none ("www.example.com"), exactly when it has one
// ("127.0.0.1:6081"), and every subdomain when it starts with "*."
// ("*.cdn.example.com", which does not match cdn.example.com itself).
func HostAllowed(hostport string, allowed []string) bool {
	hostport = strings.ToLower(hostport)
	name := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	return slices.ContainsFunc(allowed, func(a string) bool {
		a = strings.ToLower(strings.TrimSpace(a))
		if suffix, ok := strings.CutPrefix(a, "*."); ok {
			return strings.HasSuffix(name, "."+suffix)
		}
		if _, _, err := net.SplitHostPort(a); err == nil {
			return a == hostport
		}
		return strings.Trim(a, "[]") == name
	})
}
