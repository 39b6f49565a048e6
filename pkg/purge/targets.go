package purge

import (
	"fmt"
	"iter"
	"math"
	"net/url"
	"sort"
	"strings"

	"github.com/cachectl/cachectl/pkg/target"
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

// Input is what a user asked to purge, as given on the command line.
type Input struct {
	// URLs are full URLs or paths, from arguments; Lines, when set, yields
	// more URLs as they are read (--from-file), after URLs, already
	// resolved and normalized (target.Canonical) by the targets file's
	// pipeline.
	URLs  []string
	Lines iter.Seq2[string, error]
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
	return collectTargets(in.All(baseURL))
}

// All is Targets as a sequence, URLs from Lines taken as Lines yields
// them; the first error ends it.
func (in Input) All(baseURL string) iter.Seq2[Target, error] {
	return func(yield func(Target, error) bool) {
		if err := in.check(); err != nil {
			yield(Target{}, err)
			return
		}
		if in.Everything {
			yield(Target{Kind: KindEverything}, nil)
			return
		}
		env := &target.Env{BaseURL: baseURL}
		for _, raw := range in.URLs {
			u, err := target.Canonical(env, raw)
			if err != nil {
				yield(Target{}, inputErrorf("purge: %v", err))
				return
			}
			if !yield(Target{Kind: KindURL, Value: u}, nil) {
				return
			}
		}
		if in.Lines != nil {
			for u, err := range in.Lines {
				if !yield(Target{Kind: KindURL, Value: u}, err) || err != nil {
					return
				}
			}
		}
		for t, err := range in.others(baseURL) {
			if !yield(t, err) || err != nil {
				return
			}
		}
	}
}

// check refuses an input that names nothing, or everything with more.
func (in Input) check() error {
	named := len(in.URLs)+len(in.Tags)+len(in.Prefixes)+len(in.Hosts) > 0 || in.Lines != nil
	switch {
	case !named && !in.Everything:
		return inputErrorf("purge: no target given; name URLs or paths, --from-file, --tag, --prefix, --host or --everything; nothing was sent")
	case named && in.Everything:
		return inputErrorf("purge: --everything cannot be combined with other targets; nothing was sent")
	}
	return nil
}

// others yields the tags, prefixes and hosts.
func (in Input) others(baseURL string) iter.Seq2[Target, error] {
	return func(yield func(Target, error) bool) {
		for _, tag := range in.Tags {
			tag = strings.TrimSpace(tag)
			if tag == "" || strings.ContainsAny(tag, " \t\r\n") {
				yield(Target{}, inputErrorf("purge: tag %q must be one word without spaces", tag))
				return
			}
			if !yield(Target{Kind: KindTag, Value: tag}, nil) {
				return
			}
		}
		for _, raw := range in.Prefixes {
			p, err := NormalizePrefix(raw, baseURL)
			if !yield(Target{Kind: KindPrefix, Value: p}, err) || err != nil {
				return
			}
		}
		for _, raw := range in.Hosts {
			h, err := target.NormalizeHost(strings.TrimSpace(raw), "")
			if err != nil || strings.ContainsAny(raw, "/:") {
				yield(Target{}, inputErrorf("purge: --host %q must be a host name such as www.example.com", raw))
				return
			}
			if !yield(Target{Kind: KindHost, Value: h}, nil) {
				return
			}
		}
	}
}

// NormalizePrefix turns a URL, a path or a "host/path" into the form prefix
// purges use: host and path, no scheme and no query
// ("www.example.com/blog/").
func NormalizePrefix(raw, baseURL string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(s, "/"):
		r, err := target.Canonical(&target.Env{BaseURL: baseURL}, s)
		if err != nil {
			return "", inputErrorf("purge: %v", err)
		}
		s = r
	case !strings.Contains(s, "://"):
		s = "https://" + s
	}
	u, err := target.Normalize(s)
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
	return expandAll(targets, &expander{variants: variants, explicit: spool[Target]{memory: math.MaxInt}})
}

// TargetSeq yields targets held in memory as a source for PlanStream.
func TargetSeq(targets []Target) iter.Seq2[Target, error] {
	return func(yield func(Target, error) bool) {
		for _, t := range targets {
			if !yield(t, nil) {
				return
			}
		}
	}
}

// expandAll runs targets through e and collects what it emits.
func expandAll(targets []Target, e *expander) []Target {
	var out []Target
	_ = e.each(TargetSeq(targets), func(t Target) error {
		out = append(out, t)
		return nil
	}) // in memory, collecting: cannot fail
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
		if err := checkHost(env, t, allowed); err != nil {
			return err
		}
	}
	return nil
}

// checkHost is CheckHosts for one target.
func checkHost(env string, t Target, allowed []string) error {
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
		return nil
	}
	if !target.HostAllowed(host, allowed) {
		return inputErrorf("purge: %s is outside environment %q (allowed hosts: %s); nothing was sent",
			t.Value, env, strings.Join(allowed, ", "))
	}
	return nil
}
