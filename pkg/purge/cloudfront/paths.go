package cloudfront

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
)

// EverythingPath is the invalidation path of a whole distribution.
const EverythingPath = "/*"

// MaxPathLength is the longest path CloudFront invalidates.
const MaxPathLength = 4000

// unsafe are the characters RFC 1738 calls unsafe, which CloudFront wants
// percent-encoded in a path; every other character must stay as it is, or
// the path no longer matches the cached object's.
const unsafe = " <>\"#{}|\\^~[]`"

// InvalidationPath is the path CloudFront invalidates for an absolute
// http(s) URL: its path, with its query when it has one, percent-encoded
// where CloudFront asks (non-ASCII, control and RFC 1738's unsafe
// characters) and left as given elsewhere. The host does not appear: a
// distribution's paths are the same on every host it serves. A "*"
// anywhere is refused, since CloudFront reads it as a wildcard.
func InvalidationPath(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", rawURL)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	return checkPath(encodePath(p), rawURL, false)
}

// prefixPath is the wildcard path for a prefix target ("host/blog/"):
// its path with "*" appended, "/blog/*".
func prefixPath(prefix string) (string, error) {
	_, p, ok := strings.Cut(prefix, "/")
	if !ok || strings.Contains(prefix, "://") {
		return "", fmt.Errorf("prefix %q is not host/path", prefix)
	}
	p = "/" + strings.TrimSuffix(p, "*")
	if strings.ContainsAny(p, "?#") {
		return "", fmt.Errorf("prefix %q has a query or fragment: CloudFront wildcards match paths", prefix)
	}
	return checkPath(encodePath(p)+"*", prefix, true)
}

// checkPath refuses what CloudFront cannot take: a "*" other than a
// prefix's closing wildcard, a path beyond 4,000 characters.
func checkPath(p, target string, wildcard bool) (string, error) {
	body := p
	if wildcard {
		body = strings.TrimSuffix(p, "*")
	}
	if strings.Contains(body, "*") {
		return "", fmt.Errorf("%q holds a *, which CloudFront reads as a wildcard; purge it with --prefix instead", target)
	}
	if len(p) > MaxPathLength {
		return "", fmt.Errorf("%q is %d characters as an invalidation path, more than CloudFront's %d", target, len(p), MaxPathLength)
	}
	return p, nil
}

// encodePath percent-encodes the bytes CloudFront wants encoded and
// leaves valid percent-escapes and everything else as given.
func encodePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte(c)
		case c == '%' || c <= ' ' || c >= 0x7f || strings.IndexByte(unsafe, c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// targetPath is the invalidation path of one target.
func targetPath(t purge.Target) (string, error) {
	switch t.Kind {
	case purge.KindURL:
		if len(t.Headers) > 0 {
			return "", errors.New("CloudFront invalidates paths, not variants selected by headers")
		}
		return InvalidationPath(t.Value)
	case purge.KindPrefix:
		return prefixPath(t.Value)
	case purge.KindEverything:
		return EverythingPath, nil
	}
	return "", fmt.Errorf("CloudFront cannot purge by %s", t.Kind)
}

// batchPaths maps a batch's targets to paths: the distinct paths in first
// appearance order, the targets each path stands for, and why a target
// is refused (refused[i] for b.Targets[i], nil when it is sent). Several
// URLs may share a path (other hosts, the other scheme).
func batchPaths(b purge.Batch) (paths []string, owners [][]int, refused []error) {
	refused = make([]error, len(b.Targets))
	at := map[string]int{}
	for i, t := range b.Targets {
		p, err := targetPath(t)
		switch {
		case t.Kind != b.Kind:
			refused[i] = fmt.Errorf("cloudfront: %s target %q in a %s batch: %w", t.Kind, t.Value, b.Kind, purge.ErrInvalidTarget)
			continue
		case err != nil:
			refused[i] = fmt.Errorf("cloudfront: %w: %w; not sent", purge.ErrInvalidTarget, err)
			continue
		}
		n, ok := at[p]
		if !ok {
			n = len(paths)
			at[p] = n
			paths = append(paths, p)
			owners = append(owners, nil)
		}
		owners[n] = append(owners[n], i)
	}
	return paths, owners, refused
}

// callerReference is the CallerReference of an invalidation: the run's id
// and a digest of its paths. The same batch sent again — by a retry, or by
// a resume, which keeps the run's id — carries the same reference, and
// CloudFront answers with the invalidation it already made instead of a
// second one. Without a run id the reference is unique to this call.
func callerReference(run string, paths []string) string {
	if run == "" {
		run = "once-" + rand.Text()
	}
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write([]byte{'\n'})
	}
	return "cachectl-" + run + "-" + hex.EncodeToString(h.Sum(nil))[:24]
}
