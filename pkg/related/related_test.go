package related

import (
	"fmt"
	"iter"
	"runtime"
	"slices"
	"testing"
)

var siteRules = []Rule{
	{Match: "/articles/{slug}", Also: []string{"/", "/feed.xml", "/tags/*", "/authors/{slug}/"}},
	{Match: "/docs/{section}/{page}.html", Also: []string{"/docs/{section}/", "/docs/{section}/index.json", "/feed.xml"}},
	{Match: "/blog/*", Also: []string{"/blog/", "/sitemap.xml"}},
	{Match: "/post-{id}", Also: []string{"/archive/{id}-{id}/", "/tags/", "/tags/*"}},
	{Match: "/", Also: []string{"/feed.xml"}},
	{Match: "/articles/{slug}", Also: []string{"/", "/sitemap.xml"}},
	{Match: "/~{user}", Also: []string{"/%7E{user}", "/people/{user}"}},
	{Match: "/café/{slug}", Also: []string{"/café/", "/amp/{slug}"}},
}

func compileSite(t *testing.T) *Set {
	t.Helper()
	s, problems := Compile(siteRules)
	if len(problems) > 0 || s == nil {
		t.Fatalf("Compile: %v", problems)
	}
	return s
}

// brief writes an expansion as "kind path #rule".
func brief(es []Expansion) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s %s #%d", e.Kind, e.Path, e.Rule))
	}
	return out
}

func TestExpand(t *testing.T) {
	s := compileSite(t)
	article := []string{"url / #0", "url /feed.xml #0", "prefix /tags/ #0", "url /authors/hello/ #0", "url /sitemap.xml #5"}
	tests := []struct {
		name, target string
		want         []string
	}{
		{"captures and prefixes, rules in order, deduplicated", "/articles/hello", article},
		{"query ignored", "/articles/hello?utm_source=x", article},
		{"full URL: path only", "https://www.example.com/articles/hello#top", article},
		{"trailing slash counts", "/articles/hello/", nil},
		{"one segment only", "/articles/a/b", nil},
		{"empty capture", "/articles/", nil},
		{"dot capture", "/articles/..", nil},
		{"escaped dot capture", "/articles/%2e", nil},
		{"case-sensitive", "/Articles/hello", nil},
		{"empty segment", "//articles/hello", nil},
		{"not a path", "articles/hello", nil},
		{"not a URL", "mailto:a@example.com", nil},
		{"capture substituted as written", "/articles/caf%c3%a9", []string{"url / #0", "url /feed.xml #0", "prefix /tags/ #0", "url /authors/caf%c3%a9/ #0", "url /sitemap.xml #5"}},
		{"raw non-ASCII capture escaped", "/articles/café", []string{"url / #0", "url /feed.xml #0", "prefix /tags/ #0", "url /authors/caf%C3%A9/ #0", "url /sitemap.xml #5"}},
		{"capture keeps an escaped slash", "/articles/a%2Fb", []string{"url / #0", "url /feed.xml #0", "prefix /tags/ #0", "url /authors/a%2Fb/ #0", "url /sitemap.xml #5"}},
		{"literal matched in any encoding", "/%61rticles/hello", article},
		{"capture inside a segment", "/docs/guide/intro.html", []string{"url /docs/guide/ #1", "url /docs/guide/index.json #1", "url /feed.xml #1"}},
		{"capture may hold the suffix's text", "/docs/guide/a.html.html", []string{"url /docs/guide/ #1", "url /docs/guide/index.json #1", "url /feed.xml #1"}},
		{"capture inside a segment is not empty", "/docs/guide/.html", nil},
		{"suffix must match", "/docs/guide/intro.htm", nil},
		{"star matches any rest", "/blog/2024/06/post", []string{"url /blog/ #2", "url /sitemap.xml #2"}},
		{"star matches nothing, target not its own expansion", "/blog/", []string{"url /sitemap.xml #2"}},
		{"star needs its prefix", "/blog", nil},
		{"capture used twice; url and prefix of one path both kept", "/post-42", []string{"url /archive/42-42/ #3", "url /tags/ #3", "prefix /tags/ #3"}},
		{"root", "/", []string{"url /feed.xml #4"}},
		{"URL without a path is the root", "https://www.example.com", []string{"url /feed.xml #4"}},
		{"URL with only a query is the root", "https://www.example.com?x=1", []string{"url /feed.xml #4"}},
		{"target in another encoding is still not its own expansion", "/~bob", []string{"url /people/bob #6"}},
		{"non-ASCII literal matches raw and escaped", "/caf%C3%A9/x", []string{"url /caf%C3%A9/ #7", "url /amp/x #7"}},
		{"non-ASCII literal matches lower-case escapes", "/caf%c3%a9/x", []string{"url /caf%C3%A9/ #7", "url /amp/x #7"}},
		{"no rule", "/about", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Expand(tc.target)
			if !slices.Equal(brief(got), tc.want) {
				t.Errorf("Expand(%q)\n got %q\nwant %q", tc.target, brief(got), tc.want)
			}
			for _, e := range got {
				if e.RelatedTo != tc.target {
					t.Errorf("RelatedTo = %q, want %q", e.RelatedTo, tc.target)
				}
			}
		})
	}
}

func TestExpandNilSet(t *testing.T) {
	var s *Set
	if got := s.Expand("/articles/a"); got != nil {
		t.Errorf("nil Set: Expand = %v, want nil", got)
	}
	for e := range s.ExpandAll(slices.Values([]string{"/a"})) {
		t.Errorf("nil Set: ExpandAll yielded %v", e)
	}
	empty, problems := Compile(nil)
	if empty == nil || problems != nil {
		t.Fatalf("Compile(nil) = %v, %v; want an empty Set", empty, problems)
	}
	if got := empty.Expand("/"); got != nil {
		t.Errorf("empty Set: Expand = %v, want nil", got)
	}
}

func TestExpandNotTransitive(t *testing.T) {
	s, problems := Compile([]Rule{
		{Match: "/a", Also: []string{"/b"}},
		{Match: "/b", Also: []string{"/a", "/c"}},
	})
	if problems != nil {
		t.Fatal(problems)
	}
	if got, want := brief(s.Expand("/a")), []string{"url /b #0"}; !slices.Equal(got, want) {
		t.Errorf("Expand(/a) = %q, want %q", got, want)
	}
}

func TestExpandAll(t *testing.T) {
	s := compileSite(t)
	targets := []string{"/articles/a", "/about", "/articles/b", "/articles/a", "/post-1"}
	var got []string
	for e := range s.ExpandAll(slices.Values(targets)) {
		got = append(got, fmt.Sprintf("%s %s <- %s", e.Kind, e.Path, e.RelatedTo))
	}
	want := []string{
		"url / <- /articles/a", "url /feed.xml <- /articles/a", "prefix /tags/ <- /articles/a",
		"url /authors/a/ <- /articles/a", "url /sitemap.xml <- /articles/a",
		"url /authors/b/ <- /articles/b",
		"url /archive/1-1/ <- /post-1", "url /tags/ <- /post-1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ExpandAll\n got %q\nwant %q", got, want)
	}
}

// TestExpandAllStreams checks that expansions come out as targets go in,
// and that stopping early stops pulling targets.
func TestExpandAllStreams(t *testing.T) {
	s := compileSite(t)
	pulled := 0
	targets := func(yield func(string) bool) {
		for i := 0; ; i++ {
			pulled++
			if !yield(fmt.Sprintf("/articles/%d", i)) {
				return
			}
		}
	}
	n := 0
	for e := range s.ExpandAll(iter.Seq[string](targets)) {
		n++
		if e.RelatedTo == "/articles/2" {
			break
		}
	}
	if pulled != 3 {
		t.Errorf("pulled %d targets, want 3", pulled)
	}
	if want := 5 + 1 + 1; n != want {
		t.Errorf("got %d expansions, want %d", n, want)
	}
}

// TestExpandAllMemory checks that the deduplication holds the distinct
// expansions, not the targets: the live heap does not grow with 100,000
// distinct targets that all pull in the same two paths.
func TestExpandAllMemory(t *testing.T) {
	s, problems := Compile([]Rule{{Match: "/articles/{slug}", Also: []string{"/", "/feed.xml"}}})
	if problems != nil {
		t.Fatal(problems)
	}
	const total = 100_000
	var before, after runtime.MemStats
	targets := func(yield func(string) bool) {
		for i := range total {
			switch i {
			case 1_000:
				runtime.GC()
				runtime.ReadMemStats(&before)
			case total - 1:
				runtime.GC()
				runtime.ReadMemStats(&after)
			}
			if !yield(fmt.Sprintf("/articles/%d", i)) {
				return
			}
		}
	}
	n := 0
	for range s.ExpandAll(targets) {
		n++
	}
	if n != 2 {
		t.Errorf("got %d expansions, want 2", n)
	}
	// Holding the targets would take several MiB.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("live heap grew by %d bytes over %d targets", grew, total-1_000)
	}
}
