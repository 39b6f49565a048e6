package purge

import (
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// KeyHeader is a request header that is part of a CDN's cache key (device
// type, country, language), with the values whose variants a purge of a
// URL must reach: each value is its own cache entry of the same URL.
type KeyHeader struct {
	Name   string
	Values []string
}

// MaxKeyVariants bounds how many variants of one URL the cache-key headers
// may make (the product of their value counts). Every variant is one more
// purge entry for each URL, so a few headers with many values would turn a
// purge of ten pages into thousands of API operations.
const MaxKeyVariants = 64

// spellings are the usual spellings of cache-key headers whose canonical
// form (textproto) differs from the one their CDN documents.
var spellings = map[string]string{
	"Cf-Device-Type": "CF-Device-Type",
	"Cf-Ipcountry":   "CF-IPCountry",
}

// CanonicalKeyHeader is the spelling a cache-key header name is sent with:
// Cloudflare's documented names as documented, others in canonical form.
func CanonicalKeyHeader(name string) string {
	c := textproto.CanonicalMIMEHeaderKey(name)
	if s, ok := spellings[c]; ok {
		return s
	}
	return c
}

// KeyHeaderNameProblem says what is wrong with a cache-key header name, or
// "" when it may be one: an HTTP token, and not a credential or Host (the
// URL names the host).
func KeyHeaderNameProblem(name string) string {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !tokenChar(r) }) >= 0 {
		return "a header name (letters, digits and !#$%&'*+-.^_`|~), e.g. CF-Device-Type"
	}
	switch strings.ToLower(name) {
	case "cookie", "authorization", "proxy-authorization":
		return "a header that is not a credential: a cache key never holds Cookie or Authorization (cachectl sends no credentials with a purge)"
	case "host":
		return "a header other than Host: the URL names the host"
	}
	return ""
}

// KeyHeaderValueProblem says what is wrong with a cache-key header value,
// or "" when it may be one: non-empty, one line, no control characters.
func KeyHeaderValueProblem(v string) string {
	if strings.TrimSpace(v) == "" {
		return "a non-empty header value, e.g. mobile"
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
		return "a header value on one line without control characters"
	}
	return ""
}

func tokenChar(r rune) bool {
	return r < 0x7f && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// ParseKeyHeader parses a --key-header flag, "Name: v1,v2".
func ParseKeyHeader(s string) (KeyHeader, error) {
	name, list, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok {
		return KeyHeader{}, inputErrorf("--key-header %q: expected \"Name: value1,value2\"", s)
	}
	if why := KeyHeaderNameProblem(name); why != "" {
		return KeyHeader{}, inputErrorf("--key-header %q: found header name %q, expected %s", s, name, why)
	}
	h := KeyHeader{Name: name}
	for v := range strings.SplitSeq(list, ",") {
		v = strings.TrimSpace(v)
		if why := KeyHeaderValueProblem(v); why != "" {
			return KeyHeader{}, inputErrorf("--key-header %q: found value %s, expected %s", s, strconv.Quote(v), why)
		}
		h.Values = append(h.Values, v)
	}
	return h, nil
}

// MergeKeyHeaders joins lists of cache-key headers: a name given twice
// (in any case) has the values of both, in order, without repeats. The
// result is sorted by name, names in their usual spelling. More than
// MaxKeyVariants variants is an error.
func MergeKeyHeaders(lists ...[]KeyHeader) ([]KeyHeader, error) {
	byName := map[string]*KeyHeader{}
	for _, l := range lists {
		for _, h := range l {
			name := CanonicalKeyHeader(h.Name)
			m := byName[name]
			if m == nil {
				m = &KeyHeader{Name: name}
				byName[name] = m
			}
			for _, v := range h.Values {
				if !slices.Contains(m.Values, v) {
					m.Values = append(m.Values, v)
				}
			}
		}
	}
	out := make([]KeyHeader, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, *byName[name])
	}
	if n := KeyVariants(out); n > MaxKeyVariants {
		return nil, inputErrorf("purge: the cache-key headers make %d variants of every URL (%s), more than the %d allowed; name fewer values", n, describeKeyHeaders(out), MaxKeyVariants)
	}
	return out, nil
}

// KeyVariants is how many variants of one URL hs make: the product of
// their value counts (1 without headers).
func KeyVariants(hs []KeyHeader) int {
	n := 1
	for _, h := range hs {
		n *= max(len(h.Values), 1)
		if n > MaxKeyVariants*MaxKeyVariants {
			return n // large enough to refuse; no overflow
		}
	}
	return n
}

func describeKeyHeaders(hs []KeyHeader) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s: %d", h.Name, len(h.Values))
	}
	return strings.Join(parts, ", ")
}

// keyCombinations lists every combination of one value per header, the
// first header varying slowest and each header's values in their order.
func keyCombinations(hs []KeyHeader) []map[string]string {
	combos := []map[string]string{{}}
	for _, h := range hs {
		if len(h.Values) == 0 {
			continue
		}
		next := make([]map[string]string, 0, len(combos)*len(h.Values))
		for _, c := range combos {
			for _, v := range h.Values {
				m := maps.Clone(c)
				m[h.Name] = v
				next = append(next, m)
			}
		}
		combos = next
	}
	return combos
}

// WithKeyHeaders replaces every URL target by one target per combination
// of the cache-key headers' values, in a fixed order (see MergeKeyHeaders
// and keyCombinations); other targets, and every target when hs is empty,
// stay as they are.
func WithKeyHeaders(targets []Target, hs []KeyHeader) []Target {
	return expandAll(targets, &expander{combos: keyCombinations(hs)})
}

// FormatHeaders writes cache-key headers for people, sorted by name:
// "Accept-Language: de; CF-Device-Type: mobile".
func FormatHeaders(h map[string]string) string {
	names := slices.SortedFunc(maps.Keys(h), func(a, b string) int {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + h[n]
	}
	return strings.Join(parts, "; ")
}
