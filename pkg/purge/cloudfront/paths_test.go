package cloudfront

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge"
)

func TestInvalidationPath(t *testing.T) {
	tests := []struct {
		url, want, wantErr string
	}{
		{url: "https://www.example.com/blog/post-1", want: "/blog/post-1"},
		{url: "https://www.example.com", want: "/"},
		{url: "http://example.com:8080/a/", want: "/a/"},
		{url: "https://www.example.com/search?q=go&page=2", want: "/search?q=go&page=2"},
		{url: "https://www.example.com/a?", want: "/a?"},
		{url: "https://www.example.com/Caf%C3%A9/Menu", want: "/Caf%C3%A9/Menu"},
		{url: "https://www.example.com/café", want: "/caf%C3%A9"},
		{url: "https://www.example.com/~user/a%20b", want: "/%7Euser/a%20b"},
		{url: "https://www.example.com/a|b?x={1}", want: "/a%7Cb?x=%7B1%7D"},
		{url: "https://www.example.com/a%2Fb;c,d(e)!'$@:+=&", want: "/a%2Fb;c,d(e)!'$@:+=&"},
		{url: "https://www.example.com/100%", wantErr: "not an absolute"},
		{url: "https://www.example.com/images/*", wantErr: "CloudFront reads as a wildcard"},
		{url: "https://www.example.com/a?q=*", wantErr: "CloudFront reads as a wildcard"},
		{url: "/blog/post-1", wantErr: "not an absolute http(s) URL"},
		{url: "ftp://example.com/a", wantErr: "not an absolute http(s) URL"},
		{url: "https://www.example.com/" + strings.Repeat("a", MaxPathLength), wantErr: "more than CloudFront's 4000"},
	}
	for _, tt := range tests {
		got, err := InvalidationPath(tt.url)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("InvalidationPath(%q) = %q, %v; want an error with %q", tt.url, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("InvalidationPath(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
}

func TestTargetPath(t *testing.T) {
	tests := []struct {
		target  purge.Target
		want    string
		wantErr string
	}{
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/blog/"}, want: "/blog/*"},
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/blog"}, want: "/blog*"},
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/"}, want: "/*"},
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/blog/*"}, want: "/blog/*"},
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/a b/"}, want: "/a%20b/*"},
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/a*b/"}, wantErr: "wildcard"},
		{target: purge.Target{Kind: purge.KindPrefix, Value: "www.example.com"}, wantErr: "not host/path"},
		{target: purge.Target{Kind: purge.KindEverything}, want: "/*"},
		{target: purge.Target{Kind: purge.KindURL, Value: "https://www.example.com/a", Headers: map[string]string{"CF-Device-Type": "mobile"}}, wantErr: "not variants selected by headers"},
		{target: purge.Target{Kind: purge.KindTag, Value: "blog"}, wantErr: "cannot purge by tag"},
	}
	for _, tt := range tests {
		got, err := targetPath(tt.target)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("targetPath(%+v) = %q, %v; want an error with %q", tt.target, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("targetPath(%+v) = %q, %v; want %q", tt.target, got, err, tt.want)
		}
	}
}

// TestBatchPathsShareAPath: URLs on other hosts or schemes, and the
// trailing-slash twin's other scheme, map to one path each target owns.
func TestBatchPathsShareAPath(t *testing.T) {
	b := purge.Batch{Kind: purge.KindURL, Targets: []purge.Target{
		{Kind: purge.KindURL, Value: "https://www.example.com/a"},
		{Kind: purge.KindURL, Value: "http://www.example.com/a"},
		{Kind: purge.KindURL, Value: "https://example.com/b"},
		{Kind: purge.KindURL, Value: "https://example.com/a"},
		{Kind: purge.KindURL, Value: "https://example.com/x*"},
		{Kind: purge.KindPrefix, Value: "example.com/p/"},
	}}
	paths, owners, refused := batchPaths(b)
	if got, want := strings.Join(paths, " "), "/a /b"; got != want {
		t.Errorf("paths = %s, want %s", got, want)
	}
	if len(owners) != 2 || len(owners[0]) != 3 || owners[0][2] != 3 || len(owners[1]) != 1 {
		t.Errorf("owners = %v, want [[0 1 3] [2]]", owners)
	}
	for i, err := range refused {
		if got, want := err != nil, i >= 4; got != want {
			t.Errorf("refused[%d] = %v, want refused: %v", i, err, want)
		}
	}
}

func TestCallerReference(t *testing.T) {
	a := callerReference("20261126T161200Z-ab12cd", []string{"/a", "/b"})
	if a != callerReference("20261126T161200Z-ab12cd", []string{"/a", "/b"}) {
		t.Error("the same run and paths gave two references")
	}
	if !strings.HasPrefix(a, "cachectl-20261126T161200Z-ab12cd-") || len(a) > 128 {
		t.Errorf("reference %q does not name its run, or is long", a)
	}
	for _, other := range []string{
		callerReference("20261126T161200Z-ab12cd", []string{"/a"}),
		callerReference("20261126T161200Z-ab12cd", []string{"/a/b"}),
		callerReference("20261126T170000Z-ef34ab", []string{"/a", "/b"}),
		callerReference("", []string{"/a", "/b"}),
	} {
		if other == a {
			t.Errorf("reference %q repeats for another run or other paths", a)
		}
	}
	if once, twice := callerReference("", []string{"/a"}), callerReference("", []string{"/a"}); once == twice {
		t.Error("without a run id, two calls gave the same reference")
	}
}

// FuzzInvalidationPath: whatever URL comes in, a path that comes out
// starts with "/", holds only printable ASCII without RFC 1738's unsafe
// characters or a "*", and decodes to the URL's own path and query.
func FuzzInvalidationPath(f *testing.F) {
	for _, s := range []string{"https://www.example.com/a?b=c", "https://x/caf\u00e9 ~", "http://x/%zz", "https://x/a%2Fb", "https://x/?", "https://x/a#frag"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := InvalidationPath(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || len(p) > MaxPathLength {
			t.Fatalf("InvalidationPath(%q) = %q: not an absolute path within the limit", raw, p)
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; c <= ' ' || c >= 0x7f || c == '*' || strings.IndexByte(unsafe, c) >= 0 {
				t.Fatalf("InvalidationPath(%q) = %q holds %q", raw, p, c)
			}
		}
		u, _ := url.Parse(raw)
		wantPath, err1 := url.PathUnescape(u.EscapedPath())
		gotPath, rest, _ := strings.Cut(p, "?")
		gotPath, err2 := url.PathUnescape(gotPath)
		if err1 == nil && err2 == nil && wantPath != gotPath && !(wantPath == "" && gotPath == "/") {
			t.Fatalf("InvalidationPath(%q) = %q decodes to path %q, want %q", raw, p, gotPath, wantPath)
		}
		if wantQuery, err := url.QueryUnescape(u.RawQuery); err == nil {
			if gotQuery, err := url.QueryUnescape(rest); err == nil && gotQuery != wantQuery {
				t.Fatalf("InvalidationPath(%q) = %q decodes to query %q, want %q", raw, p, gotQuery, wantQuery)
			}
		}
	})
}
