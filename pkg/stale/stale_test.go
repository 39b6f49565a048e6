package stale

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	older = "Mon, 01 Sep 2025 08:00:00 GMT"
	newer = "Tue, 30 Sep 2025 08:00:00 GMT"
)

// hdr builds a header map from name/value pairs.
func hdr(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// hit is a Varnish-style cached response header plus kv.
func hit(kv ...string) map[string]string {
	return hdr(append([]string{"X-Cache", "HIT", "Age", "30"}, kv...)...)
}

const article = "<html>\n<h1>Cancelling work</h1>\n<p>Pass a context first.</p>\n</html>\n"

func TestCheckDecides(t *testing.T) {
	big := strings.Repeat("x", 200)
	tests := []struct {
		name               string
		edge, origin       page
		ignoreConditionals bool
		opts               Options
		wantStale          bool
		wantReason         string
		wantINM, wantIMS   string // checked when set
	}{
		{name: "miss is not compared", edge: page{header: hdr("X-Cache", "MISS"), body: "old"}, origin: page{body: "new"}, wantReason: "not cached at edge"},
		{name: "expired is not compared", edge: page{header: hdr("Cf-Cache-Status", "EXPIRED"), body: "old"}, origin: page{body: "new"}, wantReason: "not cached at edge"},
		{name: "revalidated is not compared", edge: page{header: hdr("Cf-Cache-Status", "REVALIDATED"), body: "old"}, origin: page{body: "new"}, wantReason: "not cached at edge"},
		{name: "bypass is not compared", edge: page{header: hdr("Cf-Cache-Status", "BYPASS"), body: "old"}, origin: page{body: "new"}, wantReason: "not cached at edge"},
		{name: "dynamic is not compared", edge: page{header: hdr("Cf-Cache-Status", "DYNAMIC"), body: "old"}, origin: page{body: "new"}, wantReason: "not cached at edge"},
		{
			name:    "unchanged page costs a 304",
			edge:    page{header: hit("ETag", `"v1"`, "Last-Modified", older), body: article},
			origin:  page{header: hdr("ETag", `"v1"`, "Last-Modified", older), body: article},
			wantINM: `"v1"`, wantIMS: older, wantReason: "origin answered 304 to the edge copy's validators",
		},
		{
			name:    "weakened etag is sent as its opaque tag",
			edge:    page{header: hdr("Cf-Cache-Status", "HIT", "ETag", `W/"v1"`), body: article, encode: "gzip"},
			origin:  page{header: hdr("ETag", `"v1"`), body: article},
			wantINM: `"v1"`, wantReason: "origin answered 304 to the edge copy's validators",
		},
		{
			name:      "strong etags differ",
			edge:      page{header: hit("ETag", `"v1"`), body: article},
			origin:    page{header: hdr("ETag", `"v2"`), body: article + "<p>edited</p>\n"},
			wantStale: true, wantReason: "etag differs",
		},
		{
			name:               "strong etags match although the origin ignores If-None-Match",
			edge:               page{header: hit("ETag", `"v1"`), body: article},
			origin:             page{header: hdr("ETag", `"v1"`), body: article},
			ignoreConditionals: true, wantReason: "etag matches",
		},
		{
			name:      "weakened etag that differs falls through to the bodies",
			edge:      page{header: hdr("Cf-Cache-Status", "HIT", "ETag", `W/"v1"`), body: article, encode: "gzip"},
			origin:    page{header: hdr("ETag", `"v2"`), body: article + "<p>edited</p>\n"},
			wantStale: true, wantReason: "body differs",
		},
		{
			name:      "last-modified newer at origin",
			edge:      page{header: hit("Last-Modified", older), body: article},
			origin:    page{header: hdr("Last-Modified", newer), body: article},
			wantIMS:   older,
			wantStale: true, wantReason: "last-modified newer at origin",
		},
		{
			name:   "same body without validators",
			edge:   page{header: hit(), body: article},
			origin: page{body: article}, wantReason: "body matches",
		},
		{
			name:      "body differs without validators",
			edge:      page{header: hit(), body: article},
			origin:    page{body: strings.Replace(article, "first", "first, always", 1)},
			wantStale: true, wantReason: "body differs",
		},
		{
			name:   "gzip edge copy matches identity origin",
			edge:   page{header: hit(), body: article, encode: "gzip"},
			origin: page{body: article}, wantReason: "body matches",
		},
		{
			name:   "zlib deflate matches raw deflate",
			edge:   page{header: hit(), body: article, encode: "deflate"},
			origin: page{body: article, encode: "rawdeflate"}, wantReason: "body matches",
		},
		{
			name:      "render time stamp without an ignore pattern",
			edge:      page{header: hit(), body: `<p>Rendered <span class="rendered">2026-11-30T04:00:00Z</span></p>`},
			origin:    page{body: `<p>Rendered <span class="rendered">2026-11-30T04:05:00Z</span></p>`},
			wantStale: true, wantReason: "body differs",
		},
		{
			name:   "render time stamp ignored",
			edge:   page{header: hit(), body: `<p>Rendered <span class="rendered">2026-11-30T04:00:00Z</span></p>`},
			origin: page{body: `<p>Rendered <span class="rendered">2026-11-30T04:05:00Z</span></p>`},
			opts:   Options{Ignore: []string{`<span class="rendered">[^<]*</span>`}}, wantReason: "body matches",
		},
		{
			name:   "status differs",
			edge:   page{status: 404, header: hit(), body: "not found"},
			origin: page{body: article}, wantStale: true, wantReason: "status differs",
		},
		{
			name:      "location differs",
			edge:      page{status: 301, header: hit("Location", "/a")},
			origin:    page{status: 301, header: hdr("Location", "/b")},
			wantStale: true, wantReason: "location differs",
		},
		{
			name:       "stale and updating are compared",
			edge:       page{header: hdr("Cf-Cache-Status", "UPDATING", "ETag", `"v1"`), body: article},
			origin:     page{header: hdr("ETag", `"v2"`), body: "new"},
			wantStale:  true,
			wantReason: "etag differs",
		},
		{
			name:       "unknown cache status is compared and said so",
			edge:       page{header: hdr("ETag", `"v1"`), body: article},
			origin:     page{header: hdr("ETag", `"v2"`), body: "new"},
			wantStale:  true,
			wantReason: "etag differs (edge cache status unknown)",
		},
		{
			name:      "body over the cap: stored before the origin changed",
			edge:      page{header: hit("Date", newer, "Age", "3600"), body: big},
			origin:    page{header: hdr("Last-Modified", "Tue, 30 Sep 2025 07:30:00 GMT"), body: big},
			opts:      Options{BodyLimit: 64},
			wantStale: true, wantReason: "stored before last-modified at origin",
		},
		{
			name:   "body over the cap: stored after the origin changed",
			edge:   page{header: hit("Date", newer, "Age", "3600"), body: big},
			origin: page{header: hdr("Last-Modified", "Tue, 30 Sep 2025 06:30:00 GMT"), body: big},
			opts:   Options{BodyLimit: 64}, wantReason: "stored after last-modified at origin",
		},
		{
			name:   "undecodable encoding and no dates",
			edge:   page{header: hit(), body: article, encode: "br"},
			origin: page{body: article}, wantReason: "not comparable",
		},
		{
			name:      "undecodable encoding falls back to the storage time",
			edge:      page{header: hit("Date", newer, "Age", "60"), body: article, encode: "br"},
			origin:    page{header: hdr("Last-Modified", newer), body: article},
			wantStale: true, wantReason: "stored before last-modified at origin",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edge := newServer(t, tt.edge, false)
			origin := newServer(t, tt.origin, true)
			origin.ignoreConditionals = tt.ignoreConditionals
			opts := tt.opts
			opts.Origin = origin.srv.URL
			c, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Check(t.Context(), edge.srv.URL+"/articles/a?x=1")
			if r.Error != "" {
				t.Fatalf("Error = %q", r.Error)
			}
			if r.Stale != tt.wantStale || r.Reason != tt.wantReason {
				t.Errorf("stale, reason = %v, %q; want %v, %q", r.Stale, r.Reason, tt.wantStale, tt.wantReason)
			}
			reqs := origin.requests()
			if tt.wantReason == string(NotCached) {
				if len(reqs) != 0 {
					t.Errorf("origin got %d requests, want none", len(reqs))
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("origin got %d requests, want 1", len(reqs))
			}
			if got := reqs[0].uri; got != "/articles/a?x=1" {
				t.Errorf("origin request URI = %q, want the URL's path and query", got)
			}
			if got, want := reqs[0].host, strings.TrimPrefix(edge.srv.URL, "http://"); got != want {
				t.Errorf("origin Host = %q, want the URL's host %q", got, want)
			}
			if tt.wantINM != "" {
				if got := reqs[0].header.Get("If-None-Match"); got != tt.wantINM {
					t.Errorf("If-None-Match = %q, want %q", got, tt.wantINM)
				}
			}
			if tt.wantIMS != "" {
				if got := reqs[0].header.Get("If-Modified-Since"); got != tt.wantIMS {
					t.Errorf("If-Modified-Since = %q, want %q", got, tt.wantIMS)
				}
			}
			if r.Origin.StatusCode != reqs[0].status {
				t.Errorf("origin.status_code = %d, server sent %d", r.Origin.StatusCode, reqs[0].status)
			}
		})
	}
}

// TestNotModifiedSendsNoBody: the 304 path transfers no body from the origin
// and reports no origin hash.
func TestNotModifiedSendsNoBody(t *testing.T) {
	body := strings.Repeat("<p>a long article</p>\n", 1000)
	edge := newServer(t, page{header: hit("ETag", `"v1"`), body: body}, false)
	origin := newServer(t, page{header: hdr("ETag", `"v1"`), body: body}, true)
	c, err := New(Options{Origin: origin.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(t.Context(), edge.srv.URL+"/")
	reqs := origin.requests()
	if len(reqs) != 1 || reqs[0].status != http.StatusNotModified || reqs[0].bodyBytes != 0 {
		t.Fatalf("origin requests = %+v, want one 304 without a body", reqs)
	}
	if r.Stale || r.Origin.StatusCode != 304 || r.Origin.BodySHA256 != "" || r.Edge.BodySHA256 == "" {
		t.Errorf("result = %+v, want not stale, origin 304 without a hash, edge hashed", r)
	}
}

// TestSameAcceptEncodingBothSides: both sides get the same Accept-Encoding,
// gzip by default or the one configured.
func TestSameAcceptEncodingBothSides(t *testing.T) {
	for _, ae := range []string{"", "gzip, deflate"} {
		edge := newServer(t, page{header: hit(), body: article, encode: "gzip"}, false)
		origin := newServer(t, page{body: article, encode: "deflate"}, true)
		c, err := New(Options{Origin: origin.srv.URL, AcceptEncoding: ae})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Check(t.Context(), edge.srv.URL+"/")
		if r.Reason != string(BodyMatches) {
			t.Errorf("Accept-Encoding %q: reason = %q, want %q", ae, r.Reason, BodyMatches)
		}
		want := ae
		if want == "" {
			want = "gzip"
		}
		for name, s := range map[string]*server{"edge": edge, "origin": origin} {
			if got := s.requests()[0].header.Get("Accept-Encoding"); got != want {
				t.Errorf("%s Accept-Encoding = %q, want %q", name, got, want)
			}
		}
	}
}

func TestOriginHostOption(t *testing.T) {
	edge := newServer(t, page{header: hit(), body: article}, false)
	origin := newServer(t, page{body: article}, true)
	c, err := New(Options{Origin: origin.srv.URL + "/prefix/", OriginHost: "www.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	c.Check(t.Context(), edge.srv.URL)
	reqs := origin.requests()
	if len(reqs) != 1 || reqs[0].host != "www.example.com" || reqs[0].uri != "/prefix/" {
		t.Errorf("origin requests = %+v, want Host www.example.com and /prefix/", reqs)
	}
}

func TestIgnoredReportsMatches(t *testing.T) {
	edge := newServer(t, page{header: hit(), body: "a <i>1</i> b <i>2</i>\nc <b>x</b>\n"}, false)
	origin := newServer(t, page{body: "a <i>3</i> b \nc <b>y</b> tail\n"}, true)
	c, err := New(Options{Origin: origin.srv.URL, Ignore: []string{`<i>[^<]*</i>`, `never`, `<b>[^<]*</b>`, ` tail$`}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(t.Context(), edge.srv.URL)
	if r.Stale {
		t.Errorf("stale = true (%s), want the ignored parts to make the bodies equal", r.Reason)
	}
	want := []Ignored{
		{Index: 0, Pattern: `<i>[^<]*</i>`, Edge: 2, Origin: 1},
		{Index: 2, Pattern: `<b>[^<]*</b>`, Edge: 1, Origin: 1},
		{Index: 3, Pattern: ` tail$`, Edge: 0, Origin: 1},
	}
	if len(r.Ignored) != len(want) {
		t.Fatalf("ignored = %+v, want %+v", r.Ignored, want)
	}
	for i := range want {
		if r.Ignored[i] != want[i] {
			t.Errorf("ignored[%d] = %+v, want %+v", i, r.Ignored[i], want[i])
		}
	}
}

// TestURLIgnoreAppliesToItsURLOnly: a URL's own patterns are applied to
// that URL after the shared ones, numbered after them; other URLs get the
// shared patterns alone.
func TestURLIgnoreAppliesToItsURLOnly(t *testing.T) {
	edge := newServer(t, page{header: hit(), body: "<i>9:00</i> <b>token-a</b>\n"}, false)
	origin := newServer(t, page{body: "<i>9:05</i> <b>token-b</b>\n"}, true)
	own := edge.srv.URL + "/own"
	c, err := New(Options{Origin: origin.srv.URL, Ignore: []string{`<i>[^<]*</i>`}, URLIgnore: map[string][]string{own: {`<b>[^<]*</b>`}}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(t.Context(), own)
	want := []Ignored{{Index: 0, Pattern: `<i>[^<]*</i>`, Edge: 1, Origin: 1}, {Index: 1, Pattern: `<b>[^<]*</b>`, Edge: 1, Origin: 1}}
	if r.Stale || r.Reason != string(BodyMatches) || len(r.Ignored) != 2 || r.Ignored[0] != want[0] || r.Ignored[1] != want[1] {
		t.Errorf("%s: stale %v (%s), ignored %+v; want %q with %+v", own, r.Stale, r.Reason, r.Ignored, BodyMatches, want)
	}
	r = c.Check(t.Context(), edge.srv.URL+"/other")
	if !r.Stale || r.Reason != string(BodyDiffers) || len(r.Ignored) != 1 || r.Ignored[0] != want[0] {
		t.Errorf("other URL: stale %v (%s), ignored %+v; want %q with the shared pattern only", r.Stale, r.Reason, r.Ignored, BodyDiffers)
	}
	if _, err := New(Options{Origin: origin.srv.URL, URLIgnore: map[string][]string{own: {"("}}}); err == nil || !strings.Contains(err.Error(), own+": ignore pattern 1") {
		t.Errorf("New with a bad URL pattern: %v, want an error naming the URL and the pattern", err)
	}
}

func TestCheckErrors(t *testing.T) {
	// Nothing listens on port 1; the connection is refused.
	const down = "http://127.0.0.1:1"
	tests := []struct {
		name      string
		edge      func(t *testing.T) string
		origin    func(t *testing.T) string
		wantError string
	}{
		{
			name:      "edge unreachable",
			edge:      func(*testing.T) string { return down + "/a" },
			origin:    func(t *testing.T) string { return newServer(t, page{}, true).srv.URL },
			wantError: "edge: connection to ",
		},
		{
			name:      "origin unreachable",
			edge:      func(t *testing.T) string { return newServer(t, page{header: hit(), body: "x"}, false).srv.URL },
			origin:    func(*testing.T) string { return down },
			wantError: "origin: connection to ",
		},
		{
			name:      "origin fails",
			edge:      func(t *testing.T) string { return newServer(t, page{header: hit(), body: "x"}, false).srv.URL },
			origin:    func(t *testing.T) string { return newServer(t, page{status: 503}, true).srv.URL },
			wantError: "origin: answered 503 Service Unavailable; no verdict",
		},
		{
			name:      "origin only answers the CDN",
			edge:      func(t *testing.T) string { return newServer(t, page{header: hit(), body: "x"}, false).srv.URL },
			origin:    func(t *testing.T) string { return newServer(t, page{status: 403}, true).srv.URL },
			wantError: "origin: answered 403 Forbidden; no verdict",
		},
		{
			name:      "not a URL",
			edge:      func(*testing.T) string { return "/relative/path" },
			origin:    func(t *testing.T) string { return newServer(t, page{}, true).srv.URL },
			wantError: "invalid URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Options{Origin: tt.origin(t), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			r := c.Check(t.Context(), tt.edge(t))
			if !strings.HasPrefix(r.Error, tt.wantError) || r.Stale || r.Reason != "" {
				t.Errorf("result = %+v, want error starting %q and no verdict", r, tt.wantError)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	for _, opts := range []Options{
		{Origin: ""},
		{Origin: "127.0.0.1:18080"},
		{Origin: "ftp://127.0.0.1"},
		{Origin: "http://127.0.0.1/?q=1"},
		{Origin: "http://127.0.0.1", Ignore: []string{"ok", "("}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) = nil error, want one", opts)
		}
	}
	_, err := New(Options{Origin: "http://127.0.0.1", Ignore: []string{"ok", "(", "x"}})
	if err == nil || !strings.Contains(err.Error(), `ignore pattern 2 "("`) {
		t.Errorf("error = %v, want it to name ignore pattern 2", err)
	}
}

func TestCheckStopsWhenCancelled(t *testing.T) {
	edge := newServer(t, page{header: hit(), body: "x"}, false)
	edge.delay = 2 * time.Second
	c, err := New(Options{Origin: edge.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := c.Check(ctx, edge.srv.URL)
	if r.Error == "" || time.Since(start) > time.Second {
		t.Errorf("result after %v = %+v, want a prompt error", time.Since(start), r)
	}
}
