package related

import (
	"slices"
	"testing"
)

func TestCompileProblems(t *testing.T) {
	ok := []string{"/"}
	tests := []struct {
		name  string
		rules []Rule
		want  []string
	}{
		{"unknown capture", []Rule{{Match: "/articles/{slug}", Also: []string{"/", "/tags/{tg}"}}},
			[]string{`related[0].also[1]: found "/tags/{tg}", expected a capture defined in match (one of: slug) in place of {tg}`}},
		{"capture from a match without any", []Rule{{Match: "/about", Also: []string{"/people/{who}"}}},
			[]string{`related[0].also[0]: found "/people/{who}", expected a capture defined in match (match defines none) in place of {who}`}},
		{"missing match", []Rule{{Also: ok}},
			[]string{`related[0].match: a path pattern starting with /, e.g. /articles/{slug} (missing)`}},
		{"match not a path", []Rule{{Match: "articles/{slug}", Also: ok}},
			[]string{`related[0].match: found "articles/{slug}", expected a path pattern starting with /, e.g. /articles/{slug}`}},
		{"match a full URL", []Rule{{Match: "https://www.example.com/articles/{slug}", Also: ok}},
			[]string{`related[0].match: found "https://www.example.com/articles/{slug}", expected a path pattern starting with /, e.g. /articles/{slug}`}},
		{"match with a query", []Rule{{Match: "/search?q={q}", Also: ok}},
			[]string{`related[0].match: found "/search?q={q}", expected a path without query or fragment`}},
		{"star not at the end", []Rule{{Match: "/articles/*/comments", Also: ok}},
			[]string{`related[0].match: found "/articles/*/comments", expected * only as the last character, e.g. /tags/*`}},
		{"duplicate capture", []Rule{{Match: "/{lang}/docs/{lang}", Also: ok}},
			[]string{`related[0].match: found "/{lang}/docs/{lang}", expected each capture name once; {lang} appears twice`}},
		{"two captures in a segment", []Rule{{Match: "/archive/{year}-{month}", Also: ok}},
			[]string{`related[0].match: found "/archive/{year}-{month}", expected at most one capture per path segment, e.g. /{slug}.html ({a}-{b} splits more than one way)`}},
		{"capture beside the star", []Rule{{Match: "/docs/{page}*", Also: ok}},
			[]string{`related[0].match: found "/docs/{page}*", expected no capture in the segment of *, e.g. /{slug}/*`}},
		{"unclosed capture", []Rule{{Match: "/articles/{slug", Also: ok}},
			[]string{`related[0].match: found "/articles/{slug", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`}},
		{"capture across segments", []Rule{{Match: "/articles/{a/b}", Also: ok}},
			[]string{`related[0].match: found "/articles/{a/b}", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`}},
		{"stray closing brace", []Rule{{Match: "/articles/slug}", Also: ok}},
			[]string{`related[0].match: found "/articles/slug}", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`}},
		{"empty capture name", []Rule{{Match: "/articles/{}", Also: ok}},
			[]string{`related[0].match: found "/articles/{}", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`}},
		{"capture name starting with a digit", []Rule{{Match: "/articles/{1st}", Also: ok}},
			[]string{`related[0].match: found "/articles/{1st}", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`}},
		{"empty segment", []Rule{{Match: "/articles//{slug}", Also: ok}},
			[]string{`related[0].match: found "/articles//{slug}", expected a path without empty segments (//)`}},
		{"dot segment", []Rule{{Match: "/articles/../{slug}", Also: ok}},
			[]string{`related[0].match: found "/articles/../{slug}", expected a path without . or .. segments`}},
		{"escaped dot segment", []Rule{{Match: "/articles/%2E/{slug}", Also: ok}},
			[]string{`related[0].match: found "/articles/%2E/{slug}", expected a path without . or .. segments`}},
		{"bad escape", []Rule{{Match: "/articles/100%/{slug}", Also: ok}},
			[]string{`related[0].match: found "/articles/100%/{slug}", expected valid percent-encoding (% followed by two hex digits, e.g. %20)`}},
		{"space", []Rule{{Match: "/my articles/{slug}", Also: ok}},
			[]string{`related[0].match: found "/my articles/{slug}", expected a path without spaces or control characters (write a space as %20)`}},
		{"missing also", []Rule{{Match: "/articles/{slug}"}},
			[]string{`related[0].also: at least one path to purge with the match, e.g. also: [/, /feed.xml]`}},
		{"also not a path", []Rule{{Match: "/articles/{slug}", Also: []string{"feed.xml", ""}}},
			[]string{
				`related[0].also[0]: found "feed.xml", expected a path starting with /, e.g. /feed.xml or /authors/{slug}/ (full URLs are not accepted: paths are resolved against the environment's base_url)`,
				`related[0].also[1]: a path starting with /, e.g. /feed.xml or /authors/{slug}/ (full URLs are not accepted: paths are resolved against the environment's base_url) (missing)`,
			}},
		{"also a full URL", []Rule{{Match: "/articles/{slug}", Also: []string{"https://www.example.com/feed.xml"}}},
			[]string{`related[0].also[0]: found "https://www.example.com/feed.xml", expected a path starting with /, e.g. /feed.xml or /authors/{slug}/ (full URLs are not accepted: paths are resolved against the environment's base_url)`}},
		{"also scheme-relative", []Rule{{Match: "/articles/{slug}", Also: []string{"//cdn.example.com/feed.xml"}}},
			[]string{`related[0].also[0]: found "//cdn.example.com/feed.xml", expected a path without empty segments (//)`}},
		{"also the whole site", []Rule{{Match: "/articles/{slug}", Also: []string{"/*"}}},
			[]string{`related[0].also[0]: found "/*", expected a narrower prefix than /* (purging a whole site is --host or --everything)`}},
		{"also star not at the end", []Rule{{Match: "/articles/{slug}", Also: []string{"/tags/*/feed"}}},
			[]string{`related[0].also[0]: found "/tags/*/feed", expected * only as the last character, e.g. /tags/*`}},
		{"also malformed capture", []Rule{{Match: "/articles/{slug}", Also: []string{"/authors/{slug/"}}},
			[]string{`related[0].also[0]: found "/authors/{slug/", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`}},
		{"captures not checked against a broken match", []Rule{{Match: "/articles/{slug", Also: []string{"/authors/{slug}/", "/x/{y"}}},
			[]string{
				`related[0].match: found "/articles/{slug", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`,
				`related[0].also[1]: found "/x/{y", expected captures written {name}, the name of ASCII letters, digits and _ not starting with a digit, within one segment`,
			}},
		{"every rule reported with its index", []Rule{
			{Match: "/articles/{slug}", Also: []string{"/"}},
			{Match: "/tags/{tag}", Also: []string{"/tags/{tg}/feed.xml"}},
			{Match: "tags"},
		}, []string{
			`related[1].also[0]: found "/tags/{tg}/feed.xml", expected a capture defined in match (one of: tag) in place of {tg}`,
			`related[2].match: found "tags", expected a path pattern starting with /, e.g. /articles/{slug}`,
			`related[2].also: at least one path to purge with the match, e.g. also: [/, /feed.xml]`,
		}},
		{"valid: partial segments, prefixes, non-ASCII, captures reused", []Rule{
			{Match: "/docs/{section}/{page}.html", Also: []string{"/docs/{section}/", "/docs/{section}-{page}*", "/café/{page}", "/v/{page}/{page}"}},
			{Match: "/*", Also: []string{"/sitemap.xml", "/a/.*"}},
			{Match: "/", Also: []string{"/"}},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, problems := Compile(tc.rules)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Compile problems\n got %q\nwant %q", got, tc.want)
			}
			if (s == nil) != (len(problems) > 0) {
				t.Errorf("Compile returned Set %v with %d problems; want a Set exactly when there are none", s, len(problems))
			}
		})
	}
}

func TestProblemFields(t *testing.T) {
	_, problems := Compile([]Rule{{Match: "/a", Also: []string{"/"}}, {Match: "/articles/{slug}", Also: []string{"/", "/tags/{tg}"}}})
	want := Problem{Index: 1, Field: "also[1]", Value: "/tags/{tg}", Expected: "a capture defined in match (one of: slug) in place of {tg}"}
	if len(problems) != 1 || problems[0] != want {
		t.Fatalf("problems = %+v, want [%+v]", problems, want)
	}
	if got, want := problems[0].Key(), "related[1].also[1]"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
}
