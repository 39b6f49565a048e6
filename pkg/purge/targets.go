package purge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// InputError is a purge request refused before anything was sent: no
// target, a malformed URL, a URL outside the environment's hosts, a kind of
// target the provider cannot purge. Retrying the same input fails the same
// way; the command exits 2.
type InputError struct {
	msg string
}

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{msg: fmt.Sprintf(format, args...)}
}

// NormalizeURL returns the canonical form of an absolute http or https URL:
// scheme and host lower-cased, the default port dropped, an empty path
// written as "/", the fragment dropped. Path case, percent-encoding and the
// query string are kept as given because caches key on them.
func NormalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("purge: %q is not a valid URL: %w", raw, errors.Unwrap(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("purge: %q is not an http or https URL", raw)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("purge: %q has no host", raw)
	}
	if u.User != nil {
		// Credentials would end up in the journal and the output.
		return "", fmt.Errorf("purge: %s://%s%s carries user credentials; remove them", scheme, u.Host, u.EscapedPath())
	}
	host, err := normalizeHost(u.Host, scheme)
	if err != nil {
		return "", fmt.Errorf("purge: %q: %w", raw, err)
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

// normalizeHost lower-cases host[:port] and drops the scheme's default port.
func normalizeHost(hostport, scheme string) (string, error) {
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
		for _, c := range port {
			if c < '0' || c > '9' {
				return "", fmt.Errorf("invalid port %q", port)
			}
		}
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

// ResolveURL turns a command-line argument into a normalized URL: a path
// ("/blog/post-1") is resolved against baseURL, a full URL is used as is.
func ResolveURL(arg, baseURL string) (string, error) {
	arg = strings.TrimSpace(arg)
	if strings.HasPrefix(arg, "/") && !strings.HasPrefix(arg, "//") {
		if baseURL == "" {
			return "", inputErrorf("purge: %s is a path but the environment has no base_url; give a full URL", arg)
		}
		base, err := url.Parse(baseURL)
		if err != nil {
			return "", inputErrorf("purge: base_url %q is not a valid URL", baseURL)
		}
		prefix := strings.TrimSuffix(base.Scheme+"://"+base.Host+base.EscapedPath(), "/")
		arg = prefix + arg
	}
	u, err := NormalizeURL(arg)
	if err != nil {
		return "", &InputError{msg: err.Error()}
	}
	return u, nil
}

// Input is what a user asked to purge, as given on the command line.
type Input struct {
	// URLs are full URLs or paths, from arguments and --from-file.
	URLs []string
	// Tags, Prefixes and Hosts come from --tag, --prefix and --host.
	Tags     []string
	Prefixes []string
	Hosts    []string
	// Everything is --everything; the command asks for confirmation first.
	Everything bool
}

// Targets validates and normalizes the input. Paths resolve against
// baseURL. Naming nothing is an error: purging everything is never a default.
func (in Input) Targets(baseURL string) ([]Target, error) {
	if len(in.URLs)+len(in.Tags)+len(in.Prefixes)+len(in.Hosts) == 0 && !in.Everything {
		return nil, inputErrorf("purge: no target given; name URLs or paths, --from-file, --tag, --prefix, --host or --everything; nothing was sent")
	}
	if in.Everything {
		if len(in.URLs)+len(in.Tags)+len(in.Prefixes)+len(in.Hosts) > 0 {
			return nil, inputErrorf("purge: --everything cannot be combined with other targets; nothing was sent")
		}
		return []Target{{Kind: KindEverything}}, nil
	}
	var out []Target
	for _, raw := range in.URLs {
		u, err := ResolveURL(raw, baseURL)
		if err != nil {
			return nil, err
		}
		out = append(out, Target{Kind: KindURL, Value: u})
	}
	for _, tag := range in.Tags {
		tag = strings.TrimSpace(tag)
		if tag == "" || strings.ContainsAny(tag, " \t\r\n") {
			return nil, inputErrorf("purge: tag %q must be one word without spaces", tag)
		}
		out = append(out, Target{Kind: KindTag, Value: tag})
	}
	for _, raw := range in.Prefixes {
		p, err := NormalizePrefix(raw, baseURL)
		if err != nil {
			return nil, err
		}
		out = append(out, Target{Kind: KindPrefix, Value: p})
	}
	for _, raw := range in.Hosts {
		h, err := normalizeHost(strings.TrimSpace(raw), "")
		if err != nil || strings.ContainsAny(raw, "/:") {
			return nil, inputErrorf("purge: --host %q must be a host name such as www.example.com", raw)
		}
		out = append(out, Target{Kind: KindHost, Value: h})
	}
	return out, nil
}

// NormalizePrefix turns a URL, a path or a "host/path" into the form prefix
// purges use: host and path, no scheme and no query
// ("www.example.com/blog/").
func NormalizePrefix(raw, baseURL string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(s, "/"):
		r, err := ResolveURL(s, baseURL)
		if err != nil {
			return "", err
		}
		s = r
	case !strings.Contains(s, "://"):
		s = "https://" + s
	}
	u, err := NormalizeURL(s)
	if err != nil {
		return "", inputErrorf("purge: prefix %q is not a URL, host/path or path", raw)
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return "", inputErrorf("purge: prefix %q must not have a query string", raw)
	}
	return u[strings.Index(u, "://")+3:], nil
}

// Expand drops duplicate targets, keeping the first, and with variants adds
// the cache entries a URL commonly has besides itself: the trailing-slash
// twin and the other scheme. Each added target names its origin in
// VariantOf; a variant that was also given explicitly stays explicit.
func Expand(targets []Target, variants bool) []Target {
	seen := make(map[string]bool, len(targets))
	var explicit []Target
	for _, t := range targets {
		k := targetKey(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		explicit = append(explicit, t)
	}
	if !variants {
		return explicit
	}
	out := make([]Target, 0, len(explicit)*4)
	for _, t := range explicit {
		out = append(out, t)
		if t.Kind != KindURL {
			continue
		}
		for _, v := range urlVariants(t.Value) {
			vt := Target{Kind: KindURL, Value: v, Headers: t.Headers, VariantOf: t.Value}
			k := targetKey(vt)
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, vt)
		}
	}
	return out
}

// urlVariants lists the other cache entries of a normalized URL: the
// trailing-slash twin, then the same two under the other scheme. The root
// path has no twin.
func urlVariants(u string) []string {
	i := strings.Index(u, "://")
	if i < 0 {
		return nil
	}
	scheme, rest := u[:i], u[i+3:]
	other := map[string]string{"http": "https", "https": "http"}[scheme]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return nil
	}
	host, path := rest[:slash], rest[slash:]
	query := ""
	if q := strings.IndexByte(path, '?'); q >= 0 {
		path, query = path[:q], path[q:]
	}
	paths := []string{path}
	if path != "/" {
		if strings.HasSuffix(path, "/") {
			paths = append(paths, strings.TrimSuffix(path, "/"))
		} else {
			paths = append(paths, path+"/")
		}
	}
	var out []string
	for _, s := range []string{scheme, other} {
		// An explicit port (default ones are already dropped) belongs to
		// one scheme only.
		if s != scheme && strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
			continue
		}
		for _, p := range paths {
			v := s + "://" + host + p + query
			if v != u {
				out = append(out, v)
			}
		}
	}
	return out
}

// targetKey identifies a target for de-duplication and in the journal.
func targetKey(t Target) string {
	var b strings.Builder
	b.WriteString(string(t.Kind))
	b.WriteByte(' ')
	b.WriteString(t.Value)
	if len(t.Headers) > 0 {
		names := make([]string, 0, len(t.Headers))
		for k := range t.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(&b, " %s=%s", strings.ToLower(k), t.Headers[k])
		}
	}
	return b.String()
}

// CheckHosts refuses targets whose host is not one of the environment's
// allowed hosts. An allowed entry matches a host with or without port when
// it has none ("www.example.com"), exactly when it has one, and every
// subdomain when it starts with "*.". Tags and everything have no host.
func CheckHosts(env string, targets []Target, allowed []string) error {
	for _, t := range targets {
		var host string
		switch t.Kind {
		case KindURL:
			u, err := url.Parse(t.Value)
			if err != nil {
				return inputErrorf("purge: %s is not a valid URL; nothing was sent", t.Value)
			}
			host = u.Host
		case KindPrefix:
			host, _, _ = strings.Cut(t.Value, "/")
		case KindHost:
			host = t.Value
		default:
			continue
		}
		if !HostAllowed(host, allowed) {
			return inputErrorf("purge: %s is outside environment %q (allowed hosts: %s); nothing was sent",
				t.Value, env, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// HostAllowed reports whether hostport ("host" or "host:port") matches one of
// the allowed entries, with the rules CheckHosts documents. The session
// cookie follows the same rules.
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

// ReadTargetsFile reads URLs and paths, one per line. Blank lines and lines
// starting with "#" are skipped. A line that is neither a URL nor a path is
// reported with its line number.
func ReadTargetsFile(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var out []string
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, inputErrorf("purge: targets file line %d: %q holds more than one target; give one per line", n, line)
		}
		switch {
		case strings.HasPrefix(line, "/"):
		case strings.Contains(line, "://"):
			if _, err := NormalizeURL(line); err != nil {
				return nil, inputErrorf("purge: targets file line %d: %s", n, strings.TrimPrefix(err.Error(), "purge: "))
			}
		default:
			return nil, inputErrorf("purge: targets file line %d: %q is neither a URL nor a path starting with /", n, line)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("purge: read targets file after line %d: %w", n, err)
	}
	return out, nil
}
