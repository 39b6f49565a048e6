package related

import (
	"fmt"
	"slices"
	"strings"
)

// Expected messages shared by match and also entries.
const (
	expectNoQuery  = "a path without query or fragment"
	expectStar     = "* only as the last character, e.g. /tags/*"
	expectNoEmpty  = "a path without empty segments (//)"
	expectNoDot    = "a path without . or .. segments"
	expectCapture  = "captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment"
	expectEscape   = "valid percent-encoding (% followed by two hex digits, e.g. %20)"
	expectNoSpace  = "a path without spaces or control characters (write a space as %20)"
	expectMatch    = "a path pattern starting with /, e.g. /articles/{slug}"
	expectAlso     = "a path starting with /, e.g. /feed.xml or /authors/{slug}/ (full URLs are not accepted: paths are resolved against the environment's base_url)"
	expectOneCap   = "at most one capture per path segment, e.g. /{slug}.html ({a}-{b} splits more than one way)"
	expectStarCap  = "no capture in the segment of *, e.g. /{slug}/*"
	expectNotAll   = "a narrower prefix than /* (purging a whole site is --host or --everything)"
	expectNonEmpty = "at least one path to purge with the match, e.g. also: [/, /feed.xml]"
)

// piece is literal text or, when name is set, a capture.
type piece struct {
	lit  string
	name string
}

// parsed is a pattern split into its segments; star is a trailing "*",
// already cut off the last segment.
type parsed struct {
	segs [][]piece
	star bool
}

// parse splits a match pattern or an also entry into segments, or says what
// was expected instead; notPath is the message for a value that is no path.
// Literal text comes back escaped as written.
func parse(s, notPath string) (parsed, string) {
	switch {
	case s == "":
		return parsed{}, notPath + " (missing)"
	case s[0] != '/':
		return parsed{}, notPath
	case strings.ContainsAny(s, "?#"):
		return parsed{}, expectNoQuery
	}
	var p parsed
	if i := strings.IndexByte(s, '*'); i >= 0 {
		if i != len(s)-1 {
			return parsed{}, expectStar
		}
		p.star, s = true, s[:i]
	}
	texts := strings.Split(s[1:], "/")
	for i, t := range texts {
		last := i == len(texts)-1
		if t == "" && !last {
			return parsed{}, expectNoEmpty
		}
		seg, why := parseSegment(t)
		if why != "" {
			return parsed{}, why
		}
		if len(seg) == 1 && seg[0].name == "" && !(last && p.star) {
			if norm, _ := normalize(seg[0].lit, nil); dotSegment(norm) {
				return parsed{}, expectNoDot
			}
		}
		p.segs = append(p.segs, seg)
	}
	return p, ""
}

// parseSegment splits one segment into literal text and captures.
func parseSegment(t string) ([]piece, string) {
	var seg []piece
	for t != "" {
		i := strings.IndexAny(t, "{}")
		if i < 0 {
			i = len(t)
		}
		if i > 0 {
			if why := checkLiteral(t[:i]); why != "" {
				return nil, why
			}
			seg = append(seg, piece{lit: escape(t[:i])})
			t = t[i:]
			continue
		}
		end := strings.IndexByte(t, '}')
		if t[0] == '}' || end < 0 || !validName(t[1:end]) {
			return nil, expectCapture
		}
		seg = append(seg, piece{name: t[1:end]})
		t = t[end+1:]
	}
	return seg, ""
}

// checkLiteral says what is wrong with literal pattern text, if anything.
func checkLiteral(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			return expectNoSpace
		}
		if _, ok := escapeAt(s, i); c == '%' && !ok {
			return expectEscape
		}
	}
	return ""
}

// validName reports whether s is a capture name: ASCII letters, digits and
// "_", not starting with a digit.
func validName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// segMatcher matches one segment of a target: the literal text before and
// after a capture, normalized. Without a capture, capture is -1 and prefix
// is the whole segment.
type segMatcher struct {
	prefix, suffix string
	capture        int
}

// matcher is a compiled match pattern.
type matcher struct {
	segs  []segMatcher
	star  bool // the last segment matches any rest of the path starting with its prefix
	names []string
}

// compileMatch compiles a match pattern, or says what was expected instead.
func compileMatch(s string) (matcher, string) {
	p, why := parse(s, expectMatch)
	if why != "" {
		return matcher{}, why
	}
	m := matcher{star: p.star}
	for i, seg := range p.segs {
		sm := segMatcher{capture: -1}
		for _, pc := range seg {
			switch {
			case pc.name == "" && sm.capture < 0:
				sm.prefix, _ = normalize(pc.lit, nil)
			case pc.name == "":
				sm.suffix, _ = normalize(pc.lit, nil)
			case sm.capture >= 0:
				return matcher{}, expectOneCap
			case p.star && i == len(p.segs)-1:
				return matcher{}, expectStarCap
			case slices.Contains(m.names, pc.name):
				return matcher{}, fmt.Sprintf("each capture name once; {%s} appears twice", pc.name)
			default:
				sm.capture = len(m.names)
				m.names = append(m.names, pc.name)
			}
		}
		m.segs = append(m.segs, sm)
	}
	return m, ""
}

// template is a compiled also entry: literal text escaped as written and
// references to the match's captures (capture >= 0).
type template struct {
	parts []tpart
	kind  Kind
}

type tpart struct {
	lit     string
	capture int
}

// compileAlso compiles an also entry against the captures of its match, or
// says what was expected instead. With known false the match did not
// compile and capture names are not checked.
func compileAlso(s string, names []string, known bool) (template, string) {
	p, why := parse(s, expectAlso)
	if why != "" {
		return template{}, why
	}
	t := template{kind: KindURL}
	if p.star {
		if len(p.segs) == 1 && len(p.segs[0]) == 0 {
			return template{}, expectNotAll
		}
		t.kind = KindPrefix
	}
	for _, seg := range p.segs {
		t.parts = appendLit(t.parts, "/")
		for _, pc := range seg {
			if pc.name == "" {
				t.parts = appendLit(t.parts, pc.lit)
				continue
			}
			i := slices.Index(names, pc.name)
			if i < 0 && known {
				return template{}, unknownCapture(pc.name, names)
			}
			t.parts = append(t.parts, tpart{capture: i})
		}
	}
	return t, ""
}

func appendLit(parts []tpart, lit string) []tpart {
	if n := len(parts); n > 0 && parts[n-1].capture < 0 {
		parts[n-1].lit += lit
		return parts
	}
	return append(parts, tpart{lit: lit, capture: -1})
}

func unknownCapture(name string, names []string) string {
	defined := "match defines none"
	if len(names) > 0 {
		defined = "one of: " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("a capture defined in match (%s) in place of {%s}", defined, name)
}
