// Package sitemap reads the pages of a site from its XML sitemap
// (sitemaps.org protocol): a urlset, or a sitemap index pointing to more
// sitemaps, each possibly gzip-compressed. Sizes are capped so a hostile or
// broken sitemap cannot exhaust memory, and sitemaps are always fetched as
// an anonymous visitor: no cookie, no session, no credentials.
package sitemap

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Limits from the sitemaps.org protocol, with room to spare: one file holds
// at most 50,000 URLs and 50 MB uncompressed.
const (
	// MaxBytes caps one sitemap, after decompression.
	MaxBytes = 64 << 20
	// MaxLocs caps the entries of one sitemap file.
	MaxLocs = 100_000
	// MaxSitemaps caps the sitemaps read through an index.
	MaxSitemaps = 1000
	// MaxURLs caps the pages read in total.
	MaxURLs = 1_000_000
	// maxLocLen caps one <loc>: the protocol allows 2,048 characters.
	maxLocLen = 8192
)

// Document is one parsed sitemap file.
type Document struct {
	// Index is true for a <sitemapindex>, whose Locs are further sitemaps.
	Index bool
	// Locs are the <loc> values in document order.
	Locs []string
}

// ErrTooLarge is returned when a sitemap exceeds MaxBytes or MaxLocs.
var ErrTooLarge = errors.New("sitemap too large")

// Parse reads one sitemap, gzip-compressed or not (detected from the
// content, since servers label .gz files inconsistently).
func Parse(r io.Reader) (*Document, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("sitemap: gzip: %w", err)
		}
		defer zr.Close()
		return parseXML(zr)
	}
	return parseXML(br)
}

type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("%w: more than %d MiB uncompressed", ErrTooLarge, MaxBytes>>20)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func parseXML(r io.Reader) (*Document, error) {
	dec := xml.NewDecoder(&limitedReader{r: r, n: MaxBytes})
	// The decoder knows only XML's predefined entities and never loads a
	// DTD, so entity tricks (billion laughs, external entities) go nowhere;
	// strict mode rejects unknown entities outright.
	dec.Strict = true
	doc := &Document{}
	depth := 0
	root := ""
	inLoc := false
	var loc strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sitemap: malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name := t.Name.Local
			switch {
			case depth == 1:
				switch name {
				case "urlset":
				case "sitemapindex":
					doc.Index = true
				default:
					return nil, fmt.Errorf("sitemap: root element <%s> (expected <urlset> or <sitemapindex>)", name)
				}
				root = name
			case depth == 3 && name == "loc":
				inLoc = true
				loc.Reset()
			}
		case xml.CharData:
			if inLoc {
				if loc.Len()+len(t) > maxLocLen {
					return nil, fmt.Errorf("sitemap: a <loc> longer than %d characters", maxLocLen)
				}
				loc.Write(t)
			}
		case xml.EndElement:
			if inLoc && depth == 3 {
				inLoc = false
				if v := strings.TrimSpace(loc.String()); v != "" {
					if len(doc.Locs) >= MaxLocs {
						return nil, fmt.Errorf("%w: more than %d entries in one file", ErrTooLarge, MaxLocs)
					}
					doc.Locs = append(doc.Locs, v)
				}
			}
			depth--
		}
	}
	if root == "" {
		return nil, errors.New("sitemap: empty document (expected <urlset> or <sitemapindex>)")
	}
	return doc, nil
}

// Skipped is an entry left out, with the reason.
type Skipped struct {
	Loc    string
	Reason string
}

// Options control Read.
type Options struct {
	// Client fetches remote sitemaps. It must not carry cookies: Read sends
	// none and strips any a redirect would add, but a client with a cookie
	// jar would still send its own.
	Client *http.Client
	// Allowed reports whether a host may be fetched or listed: the
	// environment's hosts. The host of the sitemap named by the user is
	// always allowed.
	Allowed func(host string) bool
	// UserAgent is sent with every request.
	UserAgent string
}

// Read returns the pages listed by the sitemap at src (an http(s) URL or a
// file), following one level of sitemap index. Entries on hosts that are not
// allowed are skipped and reported, never fetched.
func Read(ctx context.Context, src string, opts Options) (pages []string, skipped []Skipped, err error) {
	doc, origin, err := load(ctx, src, opts)
	if err != nil {
		return nil, nil, err
	}
	allowed := func(loc string) (string, bool) {
		u, err := url.Parse(loc)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "not an absolute http(s) URL", false
		}
		if !strings.EqualFold(u.Host, origin) && (opts.Allowed == nil || !opts.Allowed(u.Host)) {
			return "host " + u.Host + " is not one of the environment's hosts", false
		}
		return "", true
	}
	add := func(d *Document) error {
		for _, loc := range d.Locs {
			if reason, ok := allowed(loc); !ok {
				skipped = append(skipped, Skipped{Loc: loc, Reason: reason})
				continue
			}
			if len(pages) >= MaxURLs {
				return fmt.Errorf("%w: more than %d pages (use --sample N to check a subset)", ErrTooLarge, MaxURLs)
			}
			pages = append(pages, loc)
		}
		return nil
	}
	if !doc.Index {
		return pages, skipped, add(doc)
	}
	if len(doc.Locs) > MaxSitemaps {
		return nil, nil, fmt.Errorf("%w: index lists %d sitemaps (at most %d)", ErrTooLarge, len(doc.Locs), MaxSitemaps)
	}
	for _, loc := range doc.Locs {
		if reason, ok := allowed(loc); !ok {
			skipped = append(skipped, Skipped{Loc: loc, Reason: reason})
			continue
		}
		child, _, err := load(ctx, loc, opts)
		if err != nil {
			return nil, nil, err
		}
		if child.Index {
			// The protocol forbids nesting; following it would allow loops.
			skipped = append(skipped, Skipped{Loc: loc, Reason: "a sitemap index inside a sitemap index"})
			continue
		}
		if err := add(child); err != nil {
			return nil, nil, err
		}
	}
	return pages, skipped, nil
}

// load reads one sitemap and returns it with the host it came from (empty
// for a file).
func load(ctx context.Context, src string, opts Options) (*Document, string, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, "", fmt.Errorf("sitemap: %w (expected an http(s) URL or a readable file)", err)
		}
		defer f.Close()
		doc, err := Parse(f)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", src, err)
		}
		return doc, "", nil
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, "", fmt.Errorf("sitemap: invalid URL %q: %w", src, err)
	}
	if u.User != nil {
		return nil, "", fmt.Errorf("sitemap: credentials in URLs are refused (%s)", u.Redacted())
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, "", fmt.Errorf("sitemap: %w", err)
	}
	if opts.UserAgent != "" {
		req.Header.Set("User-Agent", opts.UserAgent)
	}
	req.Header.Set("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("sitemap: fetch %s: %w", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, "", fmt.Errorf("sitemap: fetch %s: status %d (expected 200)", src, resp.StatusCode)
	}
	// Compressed bytes are capped too, so a small file cannot stream forever.
	body := io.LimitReader(resp.Body, MaxBytes+1)
	doc, err := Parse(body)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src, err)
	}
	return doc, u.Host, nil
}
