package related

import "strings"

const upperhex = "0123456789ABCDEF"

// unreserved reports whether b is an RFC 3986 unreserved character, whose
// percent-encoded and literal forms are the same path.
func unreserved(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == '-' || b == '.' || b == '_' || b == '~'
}

// pathByte reports whether b may stand unescaped in a path as browsers and
// caches send it: unreserved, sub-delims, ":", "@", "/", and the brackets
// Go's own URL parser keeps.
func pathByte(b byte) bool {
	return unreserved(b) || strings.IndexByte("!$&'()*+,;=:@/[]", b) >= 0
}

func unhex(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// escapeAt reports whether s[i:] starts with a well-formed "%XX" and the byte
// it stands for.
func escapeAt(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi<<4 | lo, ok1 && ok2
}

// pct is the percent-encoding of b, in upper case.
func pct(b byte) string {
	return string([]byte{'%', upperhex[b>>4], upperhex[b&15]})
}

// escape percent-encodes the bytes of s that cannot stand in a path and
// leaves everything else, existing escapes included, as written.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pathByte(c) || c == '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteString(pct(c))
	}
	return b.String()
}

// normalize returns the RFC 3986 normal form of a path or part of one:
// escapes of unreserved characters decoded, other escapes in upper case,
// bytes that cannot stand in a path escaped. A "%" that starts no escape is
// kept. If offs is not nil, normalize also returns, for each byte of the
// result and one past its end, the offset in s it came from.
func normalize(s string, offs []int) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c, n := s[i], 1
		var out string
		switch v, ok := escapeAt(s, i); {
		case ok && unreserved(v):
			out, n = string(v), 3
		case ok:
			out, n = pct(v), 3
		case pathByte(c) || c == '%':
			out = s[i : i+1]
		default:
			out = pct(c)
		}
		b.WriteString(out)
		if offs != nil {
			for range len(out) {
				offs = append(offs, i)
			}
		}
		i += n
	}
	if offs != nil {
		offs = append(offs, len(s))
	}
	return b.String(), offs
}

// dotSegment reports whether a normalized segment is "." or "..", which a
// client or cache may resolve away.
func dotSegment(norm string) bool {
	return norm == "." || norm == ".."
}

// targetPath returns the path of a target given as a path or a full URL,
// without query or fragment, and false when there is none.
func targetPath(target string) (string, bool) {
	p := target
	if !strings.HasPrefix(p, "/") {
		i := strings.Index(p, "://")
		if i <= 0 {
			return "", false
		}
		rest := p[i+len("://"):]
		j := strings.IndexAny(rest, "/?#")
		if j < 0 || rest[j] != '/' {
			return "/", true
		}
		p = rest[j:]
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return p, true
}
