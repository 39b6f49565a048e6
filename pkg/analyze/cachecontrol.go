// Package analyze works out how shared caches treat a response — whether a
// CDN may store it, for how long, and what in its headers puts visitors at
// risk — from one probe or from an anonymous/logged-in pair of the same URL.
// Everything here is a pure function of headers; nothing touches the network.
package analyze

import (
	"math"
	"net/http"
	"slices"
	"strings"
)

// The parser below is our own rather than github.com/pquerna/cachecontrol
// (v0.2.0), because that library's behaviour loses exactly the directives an
// audit needs to see:
//   - one malformed argument ("max-age=abc, private", "no-store=1, public",
//     "max-age=-1") makes it return an error and no directives at all, so the
//     "private" next to it disappears;
//   - an unquoted field list swallows the rest of the header when no space
//     follows the comma: "private=set-cookie,max-age=60" yields a private
//     field named "max-age=60" and no max-age;
//   - a repeated directive keeps the last value ("max-age=5, max-age=10" → 10)
//     where RFC 9111 §4.2.1 says to use the first;
//   - a valueless "s-maxage" or "stale-while-revalidate" is a hard error.

// maxDelta is what an overflowing delta-seconds value becomes: RFC 9111
// §1.2.2 allows "the greatest positive integer it can conveniently represent"
// in place of 2^31, and int is 32 bits on some platforms.
const maxDelta = math.MaxInt32

// Directive is one cache directive as it appeared in the header.
type Directive struct {
	// Name is the directive name, lower-cased (names are case-insensitive).
	Name string `json:"name"`
	// Value is the argument with quoting removed; empty when there is none.
	Value string `json:"value,omitempty"`
	// HasValue reports whether an argument was given, even an empty one.
	HasValue bool `json:"has_value,omitempty"`
}

// String renders the directive in header syntax, quoting the value when it
// is not a plain token.
func (d Directive) String() string {
	if !d.HasValue {
		return d.Name
	}
	if d.Value != "" && isTokenString(d.Value) {
		return d.Name + "=" + d.Value
	}
	return d.Name + "=" + quote(d.Value)
}

// Directives is a parsed Cache-Control (or CDN-Cache-Control,
// Surrogate-Control, ...) header. Boolean directives are true when they
// appear anywhere; for directives with a number the first valid occurrence
// counts, as RFC 9111 §4.2.1 recommends.
type Directives struct {
	Public          bool
	NoStore         bool
	MustRevalidate  bool
	ProxyRevalidate bool
	Immutable       bool
	NoTransform     bool
	MustUnderstand  bool

	// Private is set for any private directive; PrivateFields lists the
	// canonical field names of a qualified private="Set-Cookie, X-User", which
	// only forbids storing those fields rather than the whole response.
	Private       bool
	PrivateFields []string
	// NoCache is set for any no-cache directive; NoCacheFields lists the
	// field names of a qualified no-cache="Set-Cookie".
	NoCache       bool
	NoCacheFields []string

	// Delta-seconds directives; nil when absent or never valid.
	MaxAge               *int
	SMaxAge              *int
	StaleWhileRevalidate *int
	StaleIfError         *int

	// List holds every directive in header order, repeats included.
	List []Directive
	// Invalid holds, in header syntax, the directives whose argument is
	// malformed (max-age=abc, max-age=-1, no-store=1, unterminated quotes)
	// and any stray text that is not a directive.
	Invalid []string
}

// PrivateAll reports whether private applies to the whole response (no field
// list), which is what keeps a shared cache from storing it.
func (d Directives) PrivateAll() bool { return d.Private && len(d.PrivateFields) == 0 }

// NoCacheAll reports whether no-cache applies to the whole response.
func (d Directives) NoCacheAll() bool { return d.NoCache && len(d.NoCacheFields) == 0 }

// Names returns the distinct directive names present, sorted; two headers
// with the same names carry the same kinds of instruction.
func (d Directives) Names() []string {
	names := make([]string, 0, len(d.List))
	for _, e := range d.List {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Get returns the argument of the first occurrence of the named directive
// (case-insensitive) and whether the directive is present.
func (d Directives) Get(name string) (string, bool) {
	name = strings.ToLower(name)
	for _, e := range d.List {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// Has reports whether the named directive is present.
func (d Directives) Has(name string) bool {
	_, ok := d.Get(name)
	return ok
}

// Empty reports whether the header held no directive at all.
func (d Directives) Empty() bool { return len(d.List) == 0 }

// invalidFor reports whether some occurrence of the named directive was
// malformed.
func (d Directives) invalidFor(name string) bool {
	for _, s := range d.Invalid {
		n, _, _ := strings.Cut(s, "=")
		if strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

// ParseCacheControl parses a Cache-Control field value (RFC 9111 §5.2,
// list syntax of RFC 9110 §5.6.1). Several field lines may be passed joined
// with commas. It never fails: malformed parts are kept in Invalid and the
// rest is still read, because a cache ignores what it cannot parse and the
// report must still show the directives it did honour.
func ParseCacheControl(v string) Directives {
	var d Directives
	p := ccParser{s: v}
	for {
		p.skipSeparators()
		if p.done() {
			break
		}
		start := p.i
		name := p.token()
		if name == "" {
			// Not a directive: skip to the next top-level comma.
			p.skipElement()
			d.Invalid = append(d.Invalid, strings.TrimSpace(v[start:p.i]))
			continue
		}
		e := Directive{Name: strings.ToLower(name)}
		p.skipOWS()
		bad := false
		if p.peek() == '=' {
			p.i++
			p.skipOWS()
			e.HasValue = true
			if p.peek() == '"' {
				val, ok := p.quoted()
				e.Value = val
				bad = !ok
			} else {
				e.Value = p.token()
			}
		}
		p.skipOWS()
		if !p.done() && p.peek() != ',' {
			// Trailing junk such as "max-age=60;foo" or "max-age=1 2".
			p.skipElement()
			bad = true
		}
		d.List = append(d.List, e)
		if !d.apply(e) || bad {
			d.Invalid = append(d.Invalid, strings.TrimSpace(v[start:p.i]))
		}
	}
	return d
}

// apply records one directive and reports whether its argument was valid.
func (d *Directives) apply(e Directive) bool {
	switch e.Name {
	case "public":
		d.Public = true
	case "no-store":
		d.NoStore = true
	case "must-revalidate":
		d.MustRevalidate = true
	case "proxy-revalidate":
		d.ProxyRevalidate = true
	case "immutable":
		d.Immutable = true
	case "no-transform":
		d.NoTransform = true
	case "must-understand":
		d.MustUnderstand = true
	case "private":
		d.Private = true
		d.PrivateFields = appendFields(d.PrivateFields, e.Value)
		return true
	case "no-cache":
		d.NoCache = true
		d.NoCacheFields = appendFields(d.NoCacheFields, e.Value)
		return true
	case "max-age":
		return setDelta(&d.MaxAge, e)
	case "s-maxage":
		return setDelta(&d.SMaxAge, e)
	case "stale-while-revalidate":
		return setDelta(&d.StaleWhileRevalidate, e)
	case "stale-if-error":
		return setDelta(&d.StaleIfError, e)
	default:
		// Unknown extensions are ignored by caches (RFC 9111 §5.2.3).
		return true
	}
	// The flag directives take no argument; the flag still counts, since
	// honouring "no-store=1" as no-store is the restrictive reading.
	return !e.HasValue
}

// appendFields adds the comma-separated field names of a qualified
// private/no-cache, canonicalized and without repeats.
func appendFields(dst []string, v string) []string {
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		f = http.CanonicalHeaderKey(f)
		if !slices.Contains(dst, f) {
			dst = append(dst, f)
		}
	}
	return dst
}

// setDelta stores a delta-seconds value unless an earlier occurrence
// already did, and reports whether this one was valid.
func setDelta(dst **int, e Directive) bool {
	n, ok := parseDelta(e.Value)
	if !e.HasValue || !ok {
		return false
	}
	if *dst == nil {
		*dst = &n
	}
	return true
}

// parseDelta reads 1*DIGIT, saturating at maxDelta.
func parseDelta(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (maxDelta-int(c-'0'))/10 {
			n = maxDelta
			continue
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

type ccParser struct {
	s string
	i int
}

func (p *ccParser) done() bool { return p.i >= len(p.s) }

func (p *ccParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *ccParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *ccParser) skipSeparators() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *ccParser) token() string {
	start := p.i
	for !p.done() && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string starting at the opening quote and returns
// its unescaped content; ok is false when the closing quote is missing.
func (p *ccParser) quoted() (string, bool) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			if !p.done() {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), false
}

// skipElement advances to the next comma that is not inside a quoted string.
func (p *ccParser) skipElement() {
	inQuote := false
	for !p.done() {
		c := p.s[p.i]
		switch {
		case inQuote && c == '\\':
			p.i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			return
		}
		p.i++
	}
	if p.i > len(p.s) {
		p.i = len(p.s)
	}
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isTokenString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
