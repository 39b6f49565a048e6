package cachestatus

import (
	"bytes"
	"strings"
)

// Limits that keep a hostile or broken header from costing more than a
// real one: no CDN sends a cache header anywhere near these sizes.
const (
	maxValueLen = 4096
	maxLayers   = 16
	maxWordLen  = 32
)

// vocabulary maps the first word of a cache-status value, upper-cased with
// '-' turned into '_', onto the normalized status. It covers the words of
// every CDN and cache in the catalog; a word missing here falls back to
// wordPrefixStatus.
var vocabulary = map[string]Status{
	// The normalized names themselves (Cloudflare, nginx, Vercel, Bunny,
	// KeyCDN, CDN77, Varnish VCL, Fastly and Google's {cdn_cache_status}).
	"HIT":         HIT,
	"MISS":        MISS,
	"EXPIRED":     EXPIRED,
	"STALE":       STALE,
	"UPDATING":    UPDATING,
	"REVALIDATED": REVALIDATED,
	"BYPASS":      BYPASS,
	"DYNAMIC":     DYNAMIC,
	"UNKNOWN":     UNKNOWN,

	// Cloudflare NONE, CloudFront "Error from cloudfront", Traffic Server
	// "none": the cache said nothing about this response.
	"NONE":  UNKNOWN,
	"ERROR": UNKNOWN,

	// Vercel serves prerendered pages out of its cache.
	"PRERENDER": HIT,

	// Varnish VCL conventions for a pass and a hit-for-pass.
	"PASS":         BYPASS,
	"HITPASS":      BYPASS,
	"HIT_FOR_PASS": BYPASS,
	"HIT_PASS":     BYPASS,
	"HITMISS":      MISS,
	"HIT_MISS":     MISS,

	// Akamai-Cache-Status and CloudFront.
	"REFRESHHIT":   REVALIDATED,
	"HITSTALE":     STALE,
	"NOTCACHEABLE": BYPASS,

	// Apache Traffic Server xdebug.
	"HIT_FRESH": HIT,
	"HIT_STALE": STALE,
	"SKIPPED":   BYPASS,

	// Google Cloud CDN {cdn_cache_status}.
	"UNCACHEABLE": BYPASS,

	// Azure Front Door / Azure CDN.
	"TCP_REMOTE_HIT":  HIT,
	"PRIVATE_NOSTORE": BYPASS,
	"CONFIG_NOCACHE":  DYNAMIC,

	// Akamai X-Cache / X-Cache-Remote.
	"TCP_HIT":              HIT,
	"TCP_MEM_HIT":          HIT,
	"TCP_IMS_HIT":          HIT,
	"TCP_NEGATIVE_HIT":     HIT,
	"TCP_MISS":             MISS,
	"TCP_REFRESH_HIT":      REVALIDATED,
	"TCP_REFRESH_MISS":     EXPIRED,
	"TCP_REFRESH_FAIL_HIT": STALE,
	"TCP_DENIED":           BYPASS,
	"TCP_COOKIE_DENY":      BYPASS,

	// Squid result codes, which some setups copy into a header.
	"TCP_REFRESH_UNMODIFIED":  REVALIDATED,
	"TCP_REFRESH_MODIFIED":    EXPIRED,
	"TCP_REFRESH_FAIL_OLD":    STALE,
	"TCP_REFRESH_FAIL_ERR":    EXPIRED,
	"TCP_STALE_HIT":           STALE,
	"TCP_OFFLINE_HIT":         STALE,
	"TCP_INM_HIT":             HIT,
	"TCP_CLIENT_REFRESH_MISS": BYPASS,
	"TCP_TUNNEL":              BYPASS,
}

// wordStatus normalizes one vendor word without allocating: the word is
// upper-cased into a stack buffer that the map lookup reads in place.
func wordStatus(w string) Status {
	if w == "" || len(w) > maxWordLen {
		return UNKNOWN
	}
	var buf [maxWordLen]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c == '-':
			c = '_'
		}
		buf[i] = c
	}
	key := buf[:len(w)]
	if st, ok := vocabulary[string(key)]; ok {
		return st
	}
	return wordPrefixStatus(key)
}

// wordPrefixStatus reads compound codes the table does not list, such as
// a new Akamai "TCP_xxx_HIT" or Fastly's "HIT-SYNTH".
func wordPrefixStatus(w []byte) Status {
	switch {
	case bytes.HasPrefix(w, []byte("TCP_")) && bytes.HasSuffix(w, []byte("_HIT")):
		return HIT
	case bytes.HasPrefix(w, []byte("TCP_")) && bytes.HasSuffix(w, []byte("_MISS")):
		return MISS
	case bytes.HasPrefix(w, []byte("HIT_")):
		return HIT
	case bytes.HasPrefix(w, []byte("MISS_")):
		return MISS
	}
	return UNKNOWN
}

// isWordEnd reports whether c ends the status word of a value such as
// "TCP_HIT from a23-...", "HIT; edge" or "MISS/200".
func isWordEnd(c byte) bool {
	switch c {
	case ' ', '\t', ';', '(', '/', '"', '=':
		return true
	}
	return false
}

// parseSegment reads one comma-separated layer: a status word, optionally
// followed by "from NAME" (CloudFront, Squid, Akamai) and anything else.
func parseSegment(seg string) Layer {
	seg = strings.TrimSpace(seg)
	i := 0
	for i < len(seg) && !isWordEnd(seg[i]) {
		i++
	}
	l := Layer{Status: wordStatus(seg[:i]), Raw: seg}
	rest := strings.TrimLeft(seg[i:], " \t")
	if len(rest) > 5 && strings.EqualFold(rest[:4], "from") && (rest[4] == ' ' || rest[4] == '\t') {
		name := strings.TrimLeft(rest[5:], " \t")
		j := 0
		for j < len(name) && name[j] != ' ' && name[j] != '\t' && name[j] != '(' {
			j++
		}
		l.Name = name[:j]
	}
	return l
}

// parseWords reads a comma-separated list of status words, one per layer,
// in the order the header lists them. It fails for an empty or oversized
// value; unrecognized words become UNKNOWN layers.
func parseWords(v string) ([]Layer, bool) { return eachLayer(v, parseSegment) }

// eachLayer reads every non-blank comma-separated part of v, trimmed, as
// one layer. It fails for an empty value, or one too long or with too
// many parts to be a real header.
func eachLayer(v string, parse func(seg string) Layer) ([]Layer, bool) {
	if len(v) > maxValueLen {
		return nil, false
	}
	n := countSegments(v)
	if n == 0 || n > maxLayers {
		return nil, false
	}
	layers := make([]Layer, 0, n)
	for seg := range strings.SplitSeq(v, ",") {
		if seg = strings.TrimSpace(seg); seg != "" {
			layers = append(layers, parse(seg))
		}
	}
	return layers, true
}

// countSegments counts the non-blank comma-separated parts of v, so that
// the layer slice is allocated once at its final size.
func countSegments(v string) int {
	n := 0
	for seg := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(seg) != "" {
			n++
		}
	}
	return n
}

// reverseLayers turns a client-first list (Akamai-Cache-Status) into the
// origin-first order Result.Layers uses.
func reverseLayers(l []Layer) {
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
}
