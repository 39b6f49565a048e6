package related

import (
	"slices"
	"strings"
	"testing"
)

// FuzzCompileExpand compiles arbitrary rules and expands arbitrary targets
// with them: no panics, a Set exactly when there are no problems, and
// expansions that are paths with every capture replaced. A target built from
// a valid match pattern must match it.
func FuzzCompileExpand(f *testing.F) {
	for _, r := range siteRules {
		f.Add(r.Match, r.Also[0], r.Also[len(r.Also)-1], "/articles/hello")
	}
	f.Add("/docs/{section}/{page}.html", "/docs/{section}/*", "/{page}/{section}", "/docs/a%2Fb/%7B%7D.html")
	f.Add("/{a}-{b}", "/{a}", "/*", "/x-y")
	f.Add("/p/{x}*", "/q/{x", "//x", "https://h/p/%zz?q#f")
	f.Add("/\xff{x}", "/\xfe{x}/", "/é*", "/\xff{}/../%2e")
	f.Fuzz(func(t *testing.T, match, also1, also2, target string) {
		s, problems := Compile([]Rule{{Match: match, Also: []string{also1, also2}}})
		if (s == nil) != (len(problems) > 0) {
			t.Fatalf("Compile returned Set %v with problems %v", s, problems)
		}
		for _, p := range problems {
			if p.Index != 0 || p.Expected == "" || !strings.HasPrefix(p.Key(), "related[0].") {
				t.Errorf("malformed problem %+v", p)
			}
		}
		if s == nil {
			return
		}
		checkExpansions(t, s, target)
		example := instantiate(match)
		if _, ok := s.rules[0].match.match(splitTarget(example)); !ok {
			t.Errorf("match %q does not match %q", match, example)
		}
		checkExpansions(t, s, example)
	})
}

func checkExpansions(t *testing.T, s *Set, target string) {
	t.Helper()
	got := s.Expand(target)
	if again := s.Expand(target); !slices.Equal(got, again) {
		t.Fatalf("Expand(%q) is not deterministic: %v, then %v", target, got, again)
	}
	p, _ := targetPath(target)
	self, _ := normalize(p, nil)
	seen := map[key]bool{}
	for _, e := range got {
		switch {
		case strings.ContainsAny(e.Path, "{}"):
			t.Errorf("Expand(%q): %q has an unreplaced capture", target, e.Path)
		case !strings.HasPrefix(e.Path, "/") || strings.HasPrefix(e.Path, "//"):
			t.Errorf("Expand(%q): %q is not a path", target, e.Path)
		case strings.ContainsAny(e.Path, "?# \x00"):
			t.Errorf("Expand(%q): %q has a byte a path cannot hold", target, e.Path)
		case e.Kind != KindURL && e.Kind != KindPrefix:
			t.Errorf("Expand(%q): kind %q", target, e.Kind)
		case e.RelatedTo != target || e.Rule != 0:
			t.Errorf("Expand(%q): RelatedTo %q, Rule %d", target, e.RelatedTo, e.Rule)
		case seen[keyOf(e)]:
			t.Errorf("Expand(%q): %q %s twice", target, e.Path, e.Kind)
		case e.Kind == KindURL && keyOf(e).path == self:
			t.Errorf("Expand(%q): the target is its own expansion", target)
		}
		seen[keyOf(e)] = true
	}
}

// instantiate writes a path that a valid match pattern matches: each
// capture replaced by "v", the "*" by nothing.
func instantiate(match string) string {
	var b strings.Builder
	for match != "" {
		i := strings.IndexByte(match, '{')
		if i < 0 {
			b.WriteString(strings.TrimSuffix(match, "*"))
			break
		}
		b.WriteString(match[:i])
		b.WriteString("v")
		match = match[i+strings.IndexByte(match[i:], '}')+1:]
	}
	return b.String()
}
