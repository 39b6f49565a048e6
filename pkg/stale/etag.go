package stale

import "strings"

// entityTag is a parsed ETag header (RFC 9110 §8.8.3).
type entityTag struct {
	// opaque is the quoted tag itself, quotes included: `"abc"`.
	opaque string
	// weak is set for W/"abc".
	weak bool
}

// parseETag reads an ETag header value. It accepts the weakness indicator in
// either case (some servers write w/) and refuses values that are not a
// quoted opaque tag, so an unquoted or garbled header is never sent back to
// the origin nor compared.
func parseETag(s string) (entityTag, bool) {
	s = strings.TrimSpace(s)
	var t entityTag
	if len(s) >= 2 && (s[:2] == "W/" || s[:2] == "w/") {
		t.weak = true
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return entityTag{}, false
	}
	for i := 1; i < len(s)-1; i++ {
		// etagc: %x21 / %x23-7E / obs-text
		if c := s[i]; c == '"' || c < 0x21 || c == 0x7f {
			return entityTag{}, false
		}
	}
	t.opaque = s
	return t, true
}

// String formats the tag as an ETag header value.
func (t entityTag) String() string {
	if t.weak {
		return "W/" + t.opaque
	}
	return t.opaque
}
