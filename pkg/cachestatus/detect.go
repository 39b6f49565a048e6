package cachestatus

import (
	"net/http"
	"net/textproto"
	"strings"
)

// Canonical names of the headers Detect reads a status from.
const (
	hdrCloudflare   = "Cf-Cache-Status"
	hdrVercel       = "X-Vercel-Cache"
	hdrBunny        = "Cdn-Cache"
	hdrAkamaiStatus = "Akamai-Cache-Status"
	hdrCacheStatus  = "Cache-Status"
	hdrNginx        = "X-Cache-Status"
	hdrProxyCache   = "X-Proxy-Cache"
	hdrXCache       = "X-Cache"
	hdrXCacheRemote = "X-Cache-Remote"
	hdrVarnish      = "X-Varnish"
	hdrVia          = "Via"
	hdrAge          = "Age"
	hdrServedBy     = "X-Served-By"
)

// Headers returns the canonical names of the response headers Detect reads
// a cache status from, in the order it prefers them, so that callers can
// show them next to the normalized status. The caller owns the slice.
func Headers() []string {
	return []string{
		hdrCloudflare, hdrVercel, hdrBunny, hdrAkamaiStatus, hdrCacheStatus,
		hdrNginx, hdrProxyCache, hdrXCache, hdrXCacheRemote, hdrVarnish, hdrVia, hdrAge,
	}
}

// Options adjusts Detect for one site.
type Options struct {
	// ExtraHeaders names site-specific cache-status headers (from
	// --cache-header or the config), such as the header a Google Cloud CDN
	// operator fills from {cdn_cache_status}. When present with a
	// recognizable value they win over every built-in header, in the order
	// given. Values are read with the X-Cache vocabulary (HIT, MISS, TCP_*,
	// hit-fresh, "Hit from X", comma-separated layers), or as RFC 9211
	// Cache-Status when that vocabulary finds nothing.
	ExtraHeaders []string
}

// Detect reads the cache status of a response from its headers, which must
// use canonical keys as net/http produces them. It never fails: without a
// recognizable header the result is UNKNOWN with an empty Source. See the
// package documentation for the order in which headers are preferred.
func Detect(h http.Header, opts Options) Result {
	res := Result{Status: UNKNOWN, Layers: []Layer{}, CDN: detectCDN(h)}
	if age, ok := parseAge(h.Get(hdrAge)); ok {
		res.AgeS = &age
	}
	for _, name := range opts.ExtraHeaders {
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if name != "" && res.use(h, name, parseExtra) {
			return res
		}
	}
	if res.use(h, hdrCloudflare, parseWords) ||
		res.use(h, hdrVercel, parseWords) ||
		res.use(h, hdrBunny, parseWords) ||
		res.use(h, hdrAkamaiStatus, parseAkamaiStatus) {
		return res
	}
	edge := xCacheEdge(res.CDN)
	if edge && res.useXCache(h) {
		return res
	}
	if res.use(h, hdrCacheStatus, parseRFC9211) ||
		res.use(h, hdrNginx, parseWords) ||
		res.use(h, hdrProxyCache, parseWords) {
		return res
	}
	if !edge && res.useXCache(h) {
		return res
	}
	if res.use(h, hdrVarnish, parseVarnish) || res.use(h, hdrVia, parseTrafficServerVia) {
		return res
	}
	// Traffic Server sends Age: 1 on answers it just fetched, so its Age
	// says nothing about a hit.
	if res.CDN != CDNTrafficServer {
		res.use(h, hdrAge, parseAgeLayer)
	}
	return res
}

// use reads the status from one header. It succeeds only when the
// client-facing layer says something, so that a header carrying NONE or
// garbage gives way to the next one.
func (r *Result) use(h http.Header, name string, parse func(string) ([]Layer, bool)) bool {
	raw := joinValues(h[name])
	if raw == "" {
		return false
	}
	layers, ok := parse(raw)
	if !ok || len(layers) == 0 || layers[len(layers)-1].Status == UNKNOWN {
		return false
	}
	r.Status = layers[len(layers)-1].Status
	r.Source = name
	r.Raw = raw
	r.Layers = layers
	return true
}

// useXCache reads X-Cache and adds what the detected CDN says about its
// layers: Fastly's node names, Akamai's child and parent tiers.
func (r *Result) useXCache(h http.Header) bool {
	if !r.use(h, hdrXCache, parseWords) {
		return false
	}
	switch r.CDN {
	case CDNFastly:
		nameFromServedBy(h[hdrServedBy], r.Layers)
	case CDNAkamai:
		for i := range r.Layers {
			r.Layers[i].Name = "child"
		}
		remote, ok := parseWords(joinValues(h[hdrXCacheRemote]))
		if ok && len(r.Layers)+len(remote) <= maxLayers {
			for i := range remote {
				remote[i].Name = "parent"
			}
			r.Layers = append(remote, r.Layers...)
		}
	}
	return true
}

// nameFromServedBy names Fastly's layers after X-Served-By, which lists
// the nodes in the same shield-then-edge order as X-Cache. Names are left
// empty when the two lists disagree in length.
func nameFromServedBy(values []string, layers []Layer) {
	n := 0
	for _, v := range values {
		n += countSegments(v)
	}
	if n != len(layers) {
		return
	}
	i := 0
	for _, v := range values {
		for seg := range strings.SplitSeq(v, ",") {
			if seg = strings.TrimSpace(seg); seg != "" {
				layers[i].Name = seg
				i++
			}
		}
	}
}

// joinValues returns a header's value lines as one comma-separated value,
// or "" when absent, blank or too long to be a real cache header.
func joinValues(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		v := strings.TrimSpace(values[0])
		if len(v) > maxValueLen {
			return ""
		}
		return v
	}
	total := 0
	for _, v := range values {
		total += len(v) + 2
	}
	if total > maxValueLen {
		return ""
	}
	return strings.TrimSpace(strings.Join(values, ", "))
}

// parseExtra reads a site-specific header: the X-Cache vocabulary first,
// RFC 9211 when that finds nothing.
func parseExtra(v string) ([]Layer, bool) {
	layers, ok := parseWords(v)
	if ok && layers[len(layers)-1].Status != UNKNOWN {
		return layers, true
	}
	return parseRFC9211(v)
}

// parseRFC9211 adapts ParseCacheStatus to use; a malformed value makes
// Detect fall back to the next header.
func parseRFC9211(v string) ([]Layer, bool) {
	layers, err := ParseCacheStatus(v)
	return layers, err == nil
}

// parseAkamaiStatus reads Akamai-Cache-Status ("Miss from child, Hit from
// parent"), which lists the client-facing child first.
func parseAkamaiStatus(v string) ([]Layer, bool) {
	layers, ok := parseWords(v)
	if ok {
		reverseLayers(layers)
	}
	return layers, ok
}

// parseVarnish reads X-Varnish transaction ids: one id means the object
// was fetched for this request (MISS), two mean it came from the cache and
// the second id is the request that stored it (HIT).
func parseVarnish(v string) ([]Layer, bool) {
	n := countSegments(v)
	if n == 0 || n > maxLayers {
		return nil, false
	}
	layers := make([]Layer, 0, n)
	for seg := range strings.SplitSeq(v, ",") {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		ids := 0
		for id := range strings.FieldsSeq(seg) {
			if !isDigits(id) {
				return nil, false
			}
			ids++
		}
		st := UNKNOWN
		switch ids {
		case 1:
			st = MISS
		case 2:
			st = HIT
		}
		layers = append(layers, Layer{Status: st, Raw: seg})
	}
	return layers, true
}

// parseAgeLayer turns a positive Age into a HIT: some cache held the
// response for that long. Age 0 says nothing either way.
func parseAgeLayer(v string) ([]Layer, bool) {
	first, _, _ := strings.Cut(v, ",")
	age, ok := parseAge(first)
	if !ok || age <= 0 {
		return nil, false
	}
	return []Layer{{Status: HIT, Raw: v}}, true
}

// ageOverflow is the value RFC 9111 §1.2.2 tells a cache to use for an Age
// too large to represent.
const ageOverflow = 1 << 31

// parseAge reads an Age value as RFC 9111 delta-seconds: digits only,
// surrounding whitespace tolerated, huge values clamped to 2^31.
func parseAge(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if !isDigits(v) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		n = n*10 + int64(v[i]-'0')
		if n >= ageOverflow {
			return ageOverflow, true
		}
	}
	return n, true
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
