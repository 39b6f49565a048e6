package target

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Normalize returns the canonical form of an absolute http or https URL:
// scheme and host lower-cased, the default port dropped, an empty path
// written as "/", the fragment dropped. Path case, percent-encoding and the
// query string are kept as given because caches key on them.
func Normalize(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid URL: %w", raw, errors.Unwrap(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q is not an http or https URL", raw)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		// Credentials would end up in the journal and the output.
		return "", fmt.Errorf("%s://%s%s carries user credentials; remove them", scheme, u.Host, u.EscapedPath())
	}
	host, err := NormalizeHost(u.Host, scheme)
	if err != nil {
		return "", fmt.Errorf("%q: %w", raw, err)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out := scheme + "://" + host + path
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// NormalizeHost lower-cases host[:port], refuses what is not a host name or
// IP literal, and drops the scheme's default port (scheme "" keeps any port).
func NormalizeHost(hostport, scheme string) (string, error) {
	hostport = strings.ToLower(hostport)
	name, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		name, port = h, p
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		name = hostport[1 : len(hostport)-1]
	}
	if name == "" {
		return "", errors.New("empty host name")
	}
	if strings.ContainsAny(name, " /\\@?#[]") {
		return "", fmt.Errorf("invalid host name %q", name)
	}
	// A colon is only allowed inside an IPv6 literal.
	if ip, _, _ := strings.Cut(name, "%"); strings.Contains(name, ":") && net.ParseIP(ip) == nil {
		return "", fmt.Errorf("invalid host name %q", name)
	}
	if port != "" {
		p, err := checkPort(port)
		if err != nil {
			return "", err
		}
		port = p
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if port != "" {
		return name + ":" + port, nil
	}
	return name, nil
}

// checkPort returns port without leading zeros, or an error when it is not
// a number from 1 to 65535.
func checkPort(port string) (string, error) {
	for _, c := range port {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("invalid port %q (expected a number from 1 to 65535)", port)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid port %q (expected a number from 1 to 65535)", port)
	}
	return strconv.Itoa(n), nil
}
