package analyze

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TargetedFields are the CDN-only cache-control fields, most specific first.
// RFC 9213 §2.1: a CDN that honours them uses the first one with a valid,
// non-empty value and ignores Cache-Control and Expires. Vendor fields
// precede the generic one because each vendor documents that its own field
// wins over CDN-Cache-Control; Surrogate-Control (Fastly, Akamai, Varnish
// setups) behaves the same way for the CDNs that read it.
var TargetedFields = []string{
	"Cloudflare-CDN-Cache-Control",
	"Netlify-CDN-Cache-Control",
	"CDN-Cache-Control",
	"Surrogate-Control",
}

// targetedKeys are TargetedFields as http.Header keys, made once rather
// than for every response.
var targetedKeys = func() []string {
	keys := make([]string, len(TargetedFields))
	for i, name := range TargetedFields {
		keys[i] = http.CanonicalHeaderKey(name)
	}
	return keys
}()

// heuristicStatus lists the status codes a cache may store without explicit
// freshness (RFC 9110 §15.1).
var heuristicStatus = []int{200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}

// understoodStatus lists the final status codes defined by RFC 9110 that a
// cache can be expected to understand; must-understand (RFC 9111 §5.2.2.3)
// makes storage depend on it.
var understoodStatus = []int{
	200, 201, 202, 203, 204, 205, 206,
	300, 301, 302, 303, 304, 305, 307, 308,
	400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
	500, 501, 502, 503, 504, 505,
}

// policy is the set of directives a shared cache acts on for one response.
type policy struct {
	// field is the header the directives came from: a targeted field when
	// one is usable, else Cache-Control.
	field string
	raw   string
	d     Directives
	// cc is Cache-Control itself, which browsers still follow when a
	// targeted field overrides it at the CDN.
	cc Directives
	// ignored lists targeted fields present but unusable (empty or malformed).
	ignored []string
}

func (p policy) targeted() bool { return p.field != "Cache-Control" }

// sharedPolicy selects the directives a CDN follows (RFC 9213 §2.1).
func sharedPolicy(h http.Header) policy {
	cc := joined(h, "Cache-Control")
	p := policy{field: "Cache-Control", raw: cc, cc: ParseCacheControl(cc)}
	for i, name := range TargetedFields {
		vs, present := h[targetedKeys[i]]
		if !present {
			continue
		}
		v := strings.Join(vs, ", ")
		d := ParseCacheControl(v)
		if d.Empty() || len(d.Invalid) > 0 {
			// RFC 9213 §2.1: an empty or unparsable targeted field is
			// ignored as if absent.
			p.ignored = append(p.ignored, name)
			continue
		}
		p.field, p.raw, p.d = name, v, d
		return p
	}
	p.d = p.cc
	return p
}

// joined returns all field lines of a header as one list value.
func joined(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// Freshness is how long a shared cache may serve a response without asking
// the origin again.
type Freshness struct {
	// TTLSeconds is the freshness lifetime, never negative.
	TTLSeconds int64 `json:"ttl_s"`
	// Source names the header and directive the lifetime came from, e.g.
	// "Cache-Control: s-maxage=300" or "Expires − Date".
	Source string `json:"source"`
	// Explicit is false when no header states a lifetime and each cache
	// applies its own heuristic.
	Explicit bool `json:"explicit"`
}

// SharedFreshness computes the freshness lifetime a shared cache gives a
// response (RFC 9111 §4.2.1, RFC 9213): a CDN-targeted field first, then
// s-maxage, then max-age, then Expires − Date. now stands in for a missing
// or invalid Date header. A response a shared cache must not store
// (no-store, unqualified private) or must revalidate on every use
// (unqualified no-cache) has a lifetime of 0.
func SharedFreshness(h http.Header, now time.Time) Freshness {
	return sharedPolicy(h).freshness(h, now)
}

func (p policy) freshness(h http.Header, now time.Time) Freshness {
	d, f := p.d, p.field
	switch {
	case d.NoStore:
		return Freshness{Source: f + ": no-store", Explicit: true}
	case d.PrivateAll():
		return Freshness{Source: f + ": private", Explicit: true}
	case d.NoCacheAll():
		return Freshness{Source: f + ": no-cache (revalidated on every use)", Explicit: true}
	case d.SMaxAge != nil:
		return Freshness{TTLSeconds: int64(*d.SMaxAge), Source: f + ": s-maxage=" + strconv.Itoa(*d.SMaxAge), Explicit: true}
	case d.invalidFor("s-maxage"):
		return Freshness{Source: f + ": invalid s-maxage (treated as stale)", Explicit: true}
	case d.MaxAge != nil:
		return Freshness{TTLSeconds: int64(*d.MaxAge), Source: f + ": max-age=" + strconv.Itoa(*d.MaxAge), Explicit: true}
	case d.invalidFor("max-age"):
		return Freshness{Source: f + ": invalid max-age (treated as stale)", Explicit: true}
	}
	if !p.targeted() {
		if exp, ok := h[http.CanonicalHeaderKey("Expires")]; ok && len(exp) > 0 {
			return expiresFreshness(exp[0], h, now)
		}
	}
	return heuristicFreshness(h, now)
}

// expiresFreshness applies RFC 9111 §5.3: an invalid date, notably "0",
// means already expired.
func expiresFreshness(v string, h http.Header, now time.Time) Freshness {
	exp, err := http.ParseTime(strings.TrimSpace(v))
	if err != nil {
		return Freshness{Source: "Expires (invalid date, treated as expired)", Explicit: true}
	}
	date := responseDate(h, now)
	return Freshness{TTLSeconds: max(0, exp.Unix()-date.Unix()), Source: "Expires − Date", Explicit: true}
}

// heuristicFreshness follows the common 10%-of-Last-Modified rule that RFC
// 9111 §4.2.2 suggests; the figure is indicative, since each cache picks its
// own heuristic.
func heuristicFreshness(h http.Header, now time.Time) Freshness {
	if lm, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		if age := responseDate(h, now).Unix() - lm.Unix(); age > 0 {
			return Freshness{TTLSeconds: age / 10, Source: "heuristic: 10% of the time since Last-Modified"}
		}
	}
	return Freshness{Source: "heuristic: no explicit lifetime, each cache picks its own"}
}

func responseDate(h http.Header, now time.Time) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t
	}
	return now
}

// SharedCacheable reports whether a shared cache may store the response and
// reuse it for later requests (RFC 9111 §3, §4.1), with the reason. It does
// not know the request: Authorization (§3.5) is the caller's concern.
func SharedCacheable(h http.Header, statusCode int) (bool, string) {
	return sharedPolicy(h).cacheable(h, statusCode)
}

func (p policy) cacheable(h http.Header, statusCode int) (bool, string) {
	d, f := p.d, p.field
	if statusCode < 200 || statusCode > 999 {
		return false, fmt.Sprintf("status %d is not a final response", statusCode)
	}
	understood := slices.Contains(understoodStatus, statusCode)
	switch {
	case d.MustUnderstand && !understood:
		return false, fmt.Sprintf("%s: must-understand and status %d is not understood by caches", f, statusCode)
	case d.NoStore && !d.MustUnderstand:
		return false, f + ": no-store"
	case d.PrivateAll():
		return false, f + ": private"
	case statusCode == 304:
		return false, "304 Not Modified only refreshes a stored response"
	}
	if varyStar(h) {
		return false, "Vary: * — a stored copy can never be reused"
	}
	explicit := ""
	switch {
	case d.SMaxAge != nil:
		explicit = fmt.Sprintf("%s: s-maxage=%d", f, *d.SMaxAge)
	case d.MaxAge != nil:
		explicit = fmt.Sprintf("%s: max-age=%d", f, *d.MaxAge)
	case d.Public:
		explicit = f + ": public"
	case !p.targeted() && h.Get("Expires") != "":
		explicit = "Expires"
	}
	suffix := ""
	if d.NoCache {
		suffix = ", revalidated on every use (no-cache)"
	}
	if len(d.PrivateFields) > 0 {
		suffix += ", without the fields named by private: " + strings.Join(d.PrivateFields, ", ")
	}
	if explicit != "" {
		return true, "storable: " + explicit + suffix
	}
	if slices.Contains(heuristicStatus, statusCode) {
		return true, fmt.Sprintf("storable heuristically: status %d without an explicit lifetime%s", statusCode, suffix)
	}
	return false, fmt.Sprintf("status %d is not cacheable without an explicit lifetime (max-age, s-maxage, Expires or public)", statusCode)
}

// varyFields returns the canonical field names listed in Vary.
func varyFields(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, http.CanonicalHeaderKey(f))
			}
		}
	}
	return out
}

func varyStar(h http.Header) bool { return slices.Contains(varyFields(h), "*") }

// ageSeconds reads the Age header; ok is false when absent or invalid.
func ageSeconds(h http.Header) (int64, bool) {
	v := strings.TrimSpace(h.Get("Age"))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
