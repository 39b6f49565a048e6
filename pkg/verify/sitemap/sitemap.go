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
	// MaxURLs caps the entries read in total across an index, pages and
	// skipped entries alike.
	MaxURLs = 1_000_000
	// MaxTotalBytes caps the bytes read in total across an index, after
	// decompression, so an index of many children cannot multiply MaxBytes.
	MaxTotalBytes = 256 << 20
	// MaxSkippedListed caps the skipped entries kept for the report; the
	// rest are only counted.
	MaxSkippedListed = 100
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

// Caps in force; tests lower them.
var (
	totalBytesCap int64 = MaxTotalBytes
	urlCap              = MaxURLs
)

// ErrTooLarge is returned when a sitemap exceeds MaxBytes or MaxLocs.
var ErrTooLarge = errors.New("sitemap too large")

// Parse reads one sitemap, gzip-compressed or not (detected from the
// content, since servers label .gz files inconsistently).
func Parse(r io.Reader) (*Document, error) {
	doc := &Document{}
	budget := int64(MaxTotalBytes)
	index, err := stream(r, &budget, func(_ bool, loc string) error {
		if len(doc.Locs) >= MaxLocs {
			return fmt.Errorf("%w: more than %d entries in one file", ErrTooLarge, MaxLocs)
		}
		doc.Locs = append(doc.Locs, loc)
		return nil
	})
	doc.Index = index
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// stream parses one sitemap, gzip-compressed or not, calling fn with each
// <loc> as it is read (and whether the document is an index), and reports
// whether it is an index. Decompressed
// bytes count against both MaxBytes and *budget.
func stream(r io.Reader, budget *int64, fn func(index bool, loc string) error) (bool, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return false, fmt.Errorf("sitemap: gzip: %w", err)
		}
		defer zr.Close()
		return parseXML(zr, budget, fn)
	}
	return parseXML(br, budget, fn)
}

type limitedReader struct {
	r      io.Reader
	n      int64
	budget *int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("%w: more than %d MiB uncompressed", ErrTooLarge, MaxBytes>>20)
	}
	if *l.budget <= 0 {
		return 0, fmt.Errorf("%w: more than %d bytes uncompressed across the sitemap index", ErrTooLarge, totalBytesCap)
	}
	p = p[:min(int64(len(p)), l.n, *l.budget)]
	n, err := l.r.Read(p)
	l.n -= int64(n)
	*l.budget -= int64(n)
	return n, err
}

func parseXML(r io.Reader, budget *int64, fn func(index bool, loc string) error) (bool, error) {
	dec := xml.NewDecoder(&limitedReader{r: r, n: MaxBytes, budget: budget})
	// The decoder knows only XML's predefined entities and never loads a
	// DTD, so entity tricks (billion laughs, external entities) go nowhere;
	// strict mode rejects unknown entities outright.
	dec.Strict = true
	index := false
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
			if errors.Is(err, ErrTooLarge) {
				return index, err
			}
			return index, fmt.Errorf("sitemap: malformed XML: %w", err)
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
					index = true
				default:
					return index, fmt.Errorf("sitemap: root element <%s> (expected <urlset> or <sitemapindex>)", name)
				}
				root = name
			case depth == 3 && name == "loc":
				inLoc = true
				loc.Reset()
			}
		case xml.CharData:
			if inLoc {
				if loc.Len()+len(t) > maxLocLen {
					return index, fmt.Errorf("sitemap: a <loc> longer than %d characters", maxLocLen)
				}
				loc.Write(t)
			}
		case xml.EndElement:
			if inLoc && depth == 3 {
				inLoc = false
				if v := strings.TrimSpace(loc.String()); v != "" {
					if err := fn(index, v); err != nil {
						return index, err
					}
				}
			}
			depth--
		}
	}
	if root == "" {
		return index, errors.New("sitemap: empty document (expected <urlset> or <sitemapindex>)")
	}
	return index, nil
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

// Result is what Read found.
type Result struct {
	// Pages are the entries to check, in document order.
	Pages []string
	// Skipped lists the first MaxSkippedListed entries left out;
	// SkippedTotal counts them all.
	Skipped      []Skipped
	SkippedTotal int
}

// Read returns the pages listed by the sitemap at src (an http(s) URL or a
// file), following one level of sitemap index. Entries on hosts that are not
// allowed are skipped and counted, never fetched. Sitemaps are parsed as
// they arrive; the caps on entries and bytes hold across the whole index.
func Read(ctx context.Context, src string, opts Options) (*Result, error) {
	rd := &reader{opts: opts, budget: totalBytesCap, res: &Result{}}
	origin, err := sourceHost(src)
	if err != nil {
		return nil, err
	}
	rd.origin = origin
	var children []string
	index, err := rd.load(ctx, src, func(index bool, loc string) error {
		if !index {
			return rd.entry(loc)
		}
		if len(children) >= MaxSitemaps {
			return fmt.Errorf("%w: index lists more than %d sitemaps", ErrTooLarge, MaxSitemaps)
		}
		children = append(children, loc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !index {
		return rd.res, nil
	}
	for _, loc := range children {
		if err := rd.child(ctx, loc); err != nil {
			return nil, err
		}
	}
	return rd.res, nil
}

// reader holds the state of one Read across an index and its children.
type reader struct {
	opts   Options
	origin string
	budget int64
	seen   int
	res    *Result
}

func (rd *reader) child(ctx context.Context, loc string) error {
	if reason, ok := rd.allowed(loc); !ok {
		rd.skip(loc, reason)
		return nil
	}
	nested := false
	_, err := rd.load(ctx, loc, func(index bool, page string) error {
		if index {
			// The protocol forbids nesting; following it would allow loops.
			nested = true
			return nil
		}
		return rd.entry(page)
	})
	if nested {
		rd.skip(loc, "a sitemap index inside a sitemap index")
	}
	return err
}

func (rd *reader) entry(loc string) error {
	rd.seen++
	if rd.seen > urlCap {
		return fmt.Errorf("%w: more than %d entries across the sitemap (use --sample N to check a subset)", ErrTooLarge, urlCap)
	}
	if reason, ok := rd.allowed(loc); !ok {
		rd.skip(loc, reason)
		return nil
	}
	rd.res.Pages = append(rd.res.Pages, loc)
	return nil
}

func (rd *reader) skip(loc, reason string) {
	rd.res.SkippedTotal++
	if len(rd.res.Skipped) < MaxSkippedListed {
		rd.res.Skipped = append(rd.res.Skipped, Skipped{Loc: loc, Reason: reason})
	}
}

func (rd *reader) allowed(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "not an absolute http(s) URL", false
	}
	if !strings.EqualFold(u.Host, rd.origin) && (rd.opts.Allowed == nil || !rd.opts.Allowed(u.Host)) {
		return "host " + u.Host + " is not one of the environment's hosts", false
	}
	return "", true
}

// sourceHost is the host of a sitemap URL, or "" for a file.
func sourceHost(src string) (string, error) {
	if !isRemote(src) {
		return "", nil
	}
	u, err := url.Parse(src)
	if err != nil {
		return "", fmt.Errorf("sitemap: invalid URL %q: %w", src, err)
	}
	if u.User != nil {
		return "", fmt.Errorf("sitemap: credentials in URLs are refused (%s)", u.Redacted())
	}
	return u.Host, nil
}

func isRemote(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// load streams one sitemap (a file or an http(s) URL) through fn.
func (rd *reader) load(ctx context.Context, src string, fn func(index bool, loc string) error) (bool, error) {
	if !isRemote(src) {
		f, err := os.Open(src)
		if err != nil {
			return false, fmt.Errorf("sitemap: %w (expected an http(s) URL or a readable file)", err)
		}
		defer f.Close()
		index, err := stream(f, &rd.budget, fn)
		if err != nil {
			return index, fmt.Errorf("%s: %w", src, err)
		}
		return index, nil
	}
	if _, err := sourceHost(src); err != nil {
		return false, err
	}
	body, err := rd.fetch(ctx, src)
	if err != nil {
		return false, err
	}
	defer body.Close()
	// Compressed bytes are capped too, so a small file cannot stream forever.
	index, err := stream(io.LimitReader(body, MaxBytes+1), &rd.budget, fn)
	if err != nil {
		return index, fmt.Errorf("%s: %w", src, err)
	}
	return index, nil
}

// fetch GETs one sitemap anonymously and returns its body.
func (rd *reader) fetch(ctx context.Context, src string) (io.ReadCloser, error) {
	client := rd.opts.Client
	if client == nil {
		client = &http.Client{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("sitemap: %w", err)
	}
	if rd.opts.UserAgent != "" {
		req.Header.Set("User-Agent", rd.opts.UserAgent)
	}
	req.Header.Set("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sitemap: fetch %s: %w", src, err)
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("sitemap: fetch %s: status %d (expected 200)", src, resp.StatusCode)
	}
	return resp.Body, nil
}
