package sitemap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParse(t *testing.T) {
	urlset := readFile(t, "sitemap.xml")
	tests := []struct {
		name      string
		in        []byte
		wantIndex bool
		wantLocs  []string
		wantErr   string
	}{
		{
			name: "urlset", in: []byte(urlset),
			wantLocs: []string{"https://www.example.com/", "https://www.example.com/articles/go-context-cancellation", "https://www.example.com/search?q=cache&page=2"},
		},
		{
			name: "gzip urlset", in: gz(t, urlset),
			wantLocs: []string{"https://www.example.com/", "https://www.example.com/articles/go-context-cancellation", "https://www.example.com/search?q=cache&page=2"},
		},
		{
			name: "index", in: []byte(readFile(t, "index.xml")), wantIndex: true,
			wantLocs: []string{"https://www.example.com/sitemap-articles.xml.gz", "https://www.example.com/sitemap-pages.xml"},
		},
		{name: "empty urlset", in: []byte(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>`)},
		{name: "cdata loc", in: []byte(`<urlset><url><loc><![CDATA[https://a.example/x]]></loc></url></urlset>`), wantLocs: []string{"https://a.example/x"}},
		{name: "unclosed", in: []byte(`<urlset><url><loc>https://a.example/</loc></url>`), wantErr: "malformed XML"},
		{name: "html", in: []byte(`<!doctype html><html><body>404</body></html>`), wantErr: "root element <html>"},
		{name: "wrong root", in: []byte(`<rss><channel/></rss>`), wantErr: "root element <rss>"},
		{name: "empty", in: nil, wantErr: "empty document"},
		{name: "unknown entity", in: []byte(`<urlset><url><loc>&xxe;</loc></url></urlset>`), wantErr: "malformed XML"},
		{name: "broken gzip", in: gz(t, urlset)[:20], wantErr: "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(bytes.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if got.Index != tt.wantIndex {
				t.Errorf("Index = %v, want %v", got.Index, tt.wantIndex)
			}
			if !slices.Equal(got.Locs, tt.wantLocs) {
				t.Errorf("Locs = %q, want %q", got.Locs, tt.wantLocs)
			}
		})
	}
}

func TestParseTooManyLocs(t *testing.T) {
	var b strings.Builder
	b.WriteString("<urlset>")
	for i := 0; i <= MaxLocs; i++ {
		fmt.Fprintf(&b, "<url><loc>https://a.example/%d</loc></url>", i)
	}
	b.WriteString("</urlset>")
	_, err := Parse(strings.NewReader(b.String()))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse(%d locs) error = %v, want ErrTooLarge", MaxLocs+1, err)
	}
}

// TestRead serves an index, a gzip child and a plain child from a real
// HTTP server, and checks that entries on other hosts are skipped, that no
// cookie reaches the server and that nested indexes are not followed.
func TestRead(t *testing.T) {
	var cookies []string
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		cookies = append(cookies, r.Header.Get("Cookie"))
		fmt.Fprintf(w, `<sitemapindex>
<sitemap><loc>%[1]s/a.xml.gz</loc></sitemap>
<sitemap><loc>%[1]s/b.xml</loc></sitemap>
<sitemap><loc>https://evil.example/c.xml</loc></sitemap>
<sitemap><loc>%[1]s/nested.xml</loc></sitemap>
</sitemapindex>`, base)
	})
	mux.HandleFunc("/a.xml.gz", func(w http.ResponseWriter, r *http.Request) {
		cookies = append(cookies, r.Header.Get("Cookie"))
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(gz(t, fmt.Sprintf(`<urlset><url><loc>%[1]s/one</loc></url><url><loc>https://other.example/two</loc></url></urlset>`, base)))
	})
	mux.HandleFunc("/b.xml", func(w http.ResponseWriter, r *http.Request) {
		cookies = append(cookies, r.Header.Get("Cookie"))
		fmt.Fprintf(w, `<urlset><url><loc>%[1]s/three</loc></url><url><loc>ftp://x/y</loc></url></urlset>`, base)
	})
	mux.HandleFunc("/nested.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<sitemapindex><sitemap><loc>%s/sitemap.xml</loc></sitemap></sitemapindex>`, base)
	})

	res, err := Read(t.Context(), base+"/sitemap.xml", Options{Client: srv.Client(), Allowed: func(string) bool { return false }})
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	pages, skipped := res.Pages, res.Skipped
	if want := []string{base + "/one", base + "/three"}; !slices.Equal(pages, want) {
		t.Errorf("pages = %q, want %q", pages, want)
	}
	var gotSkipped []string
	for _, s := range skipped {
		gotSkipped = append(gotSkipped, s.Loc)
	}
	wantSkipped := []string{"https://evil.example/c.xml", "https://other.example/two", "ftp://x/y", base + "/nested.xml"}
	slices.Sort(gotSkipped)
	slices.Sort(wantSkipped)
	if !slices.Equal(gotSkipped, wantSkipped) {
		t.Errorf("skipped = %q, want %q", gotSkipped, wantSkipped)
	}
	for _, c := range cookies {
		if c != "" {
			t.Errorf("a sitemap request carried Cookie %q, want none", c)
		}
	}
}

func TestReadErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusNotFound)
	}))
	defer srv.Close()
	if _, err := Read(t.Context(), srv.URL+"/sitemap.xml", Options{Client: srv.Client()}); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("Read(404) error = %v, want status 404", err)
	}
	if _, err := Read(t.Context(), filepath.Join(t.TempDir(), "missing.xml"), Options{}); err == nil {
		t.Errorf("Read(missing file) succeeded")
	}
	res, err := Read(t.Context(), filepath.Join("testdata", "sitemap.xml"), Options{Allowed: func(h string) bool { return h == "www.example.com" }})
	if err != nil || len(res.Pages) != 3 {
		t.Errorf("Read(file) = %+v, %v, want 3 pages", res, err)
	}
}

func FuzzParseSitemap(f *testing.F) {
	for _, name := range []string{"sitemap.xml", "index.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(gz(f, string(b)))
	}
	f.Add([]byte(`<urlset><url><loc>&amp;</loc></url></urlset>`))
	f.Add([]byte(`<urlset><url><loc>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(doc.Locs) > MaxLocs {
			t.Fatalf("%d locs, more than MaxLocs", len(doc.Locs))
		}
		for _, l := range doc.Locs {
			if l == "" || l != strings.TrimSpace(l) {
				t.Fatalf("loc %q is empty or untrimmed", l)
			}
		}
	})
}

// indexServer serves an index of n children, each listing per entries of
// which only the first is on the site's host.
func indexServer(t *testing.T, n, per int) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<sitemapindex>`)
		for i := range n {
			fmt.Fprintf(w, `<sitemap><loc>%s/child-%d.xml</loc></sitemap>`, srv.URL, i)
		}
		fmt.Fprint(w, `</sitemapindex>`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<urlset><url><loc>%s%s/page</loc></url>`, srv.URL, r.URL.Path)
		for i := 1; i < per; i++ {
			fmt.Fprintf(w, `<url><loc>https://elsewhere.example/%d</loc></url>`, i)
		}
		fmt.Fprint(w, `</urlset>`)
	})
	return srv.URL + "/sitemap.xml"
}

// TestCapsHoldAcrossTheIndex: the entry and byte caps count every child of
// an index together, skipped entries included, and skipped entries are
// counted rather than all kept.
func TestCapsHoldAcrossTheIndex(t *testing.T) {
	src := indexServer(t, 20, 500)
	res, err := Read(t.Context(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pages) != 20 || res.SkippedTotal != 20*499 || len(res.Skipped) != MaxSkippedListed {
		t.Errorf("pages %d, skipped %d (listed %d); want 20, %d (listed %d)", len(res.Pages), res.SkippedTotal, len(res.Skipped), 20*499, MaxSkippedListed)
	}

	defer func(u int, b int64) { urlCap, totalBytesCap = u, b }(urlCap, totalBytesCap)
	urlCap = 5000 // each child is within any per-file cap; together they are not
	if _, err := Read(t.Context(), src, Options{}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "across the sitemap") {
		t.Errorf("entries over the cap across children: %v, want ErrTooLarge", err)
	}
	urlCap, totalBytesCap = MaxURLs, 200_000
	if _, err := Read(t.Context(), src, Options{}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "across the sitemap index") {
		t.Errorf("bytes over the cap across children: %v, want ErrTooLarge", err)
	}
}
