package analyze

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// hdr builds a header from "Name: value" lines; repeated names add lines.
func hdr(lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return h
}

const dateHdr = "Date: Wed, 26 Nov 2025 12:00:00 GMT"

func TestSharedFreshness(t *testing.T) {
	now := time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want Freshness
	}{
		{
			"vendor field beats CDN-Cache-Control and Cache-Control",
			hdr("Cloudflare-CDN-Cache-Control: max-age=900", "CDN-Cache-Control: max-age=600", "Cache-Control: s-maxage=60"),
			Freshness{900, "Cloudflare-CDN-Cache-Control: max-age=900", true},
		},
		{
			"Netlify field beats CDN-Cache-Control",
			hdr("Netlify-CDN-Cache-Control: max-age=30, stale-while-revalidate=60", "CDN-Cache-Control: max-age=600"),
			Freshness{30, "Netlify-CDN-Cache-Control: max-age=30", true},
		},
		{
			"CDN-Cache-Control overrides private Cache-Control at the CDN",
			hdr("CDN-Cache-Control: max-age=600", "Cache-Control: private, max-age=0"),
			Freshness{600, "CDN-Cache-Control: max-age=600", true},
		},
		{
			"CDN-Cache-Control beats Surrogate-Control",
			hdr("CDN-Cache-Control: max-age=600", "Surrogate-Control: max-age=3600"),
			Freshness{600, "CDN-Cache-Control: max-age=600", true},
		},
		{
			"Surrogate-Control beats Cache-Control",
			hdr("Surrogate-Control: max-age=3600", "Cache-Control: max-age=60"),
			Freshness{3600, "Surrogate-Control: max-age=3600", true},
		},
		{
			"no-store in a targeted field",
			hdr("CDN-Cache-Control: no-store", "Cache-Control: public, max-age=60"),
			Freshness{0, "CDN-Cache-Control: no-store", true},
		},
		{
			"malformed targeted field is ignored",
			hdr("CDN-Cache-Control: max-age=abc", "Cache-Control: s-maxage=120"),
			Freshness{120, "Cache-Control: s-maxage=120", true},
		},
		{
			"empty targeted field is ignored",
			hdr("CDN-Cache-Control: ", "Cache-Control: max-age=30"),
			Freshness{30, "Cache-Control: max-age=30", true},
		},
		{
			"targeted field without lifetime ignores Expires",
			hdr("CDN-Cache-Control: stale-if-error=60", dateHdr, "Expires: Wed, 26 Nov 2025 13:00:00 GMT"),
			Freshness{0, "heuristic: no explicit lifetime, each cache picks its own", false},
		},
		{
			"s-maxage beats max-age",
			hdr("Cache-Control: max-age=60, s-maxage=300"),
			Freshness{300, "Cache-Control: s-maxage=300", true},
		},
		{
			"max-age beats Expires",
			hdr("Cache-Control: max-age=60", dateHdr, "Expires: Wed, 26 Nov 2025 13:00:00 GMT"),
			Freshness{60, "Cache-Control: max-age=60", true},
		},
		{
			"Expires minus Date",
			hdr(dateHdr, "Expires: Wed, 26 Nov 2025 13:00:00 GMT"),
			Freshness{3600, "Expires − Date", true},
		},
		{
			"Expires minus now without Date",
			hdr("Expires: Wed, 26 Nov 2025 12:10:00 GMT"),
			Freshness{600, "Expires − Date", true},
		},
		{
			"Expires in the past",
			hdr(dateHdr, "Expires: Thu, 01 Jan 1970 00:00:00 GMT"),
			Freshness{0, "Expires − Date", true},
		},
		{
			"Expires 0 means already expired",
			hdr(dateHdr, "Expires: 0"),
			Freshness{0, "Expires (invalid date, treated as expired)", true},
		},
		{
			"no-store", hdr("Cache-Control: no-store, max-age=600"),
			Freshness{0, "Cache-Control: no-store", true},
		},
		{
			"private", hdr("Cache-Control: private, max-age=600"),
			Freshness{0, "Cache-Control: private", true},
		},
		{
			"private naming a field leaves the lifetime", hdr(`Cache-Control: private="Set-Cookie", max-age=600`),
			Freshness{600, "Cache-Control: max-age=600", true},
		},
		{
			"no-cache", hdr("Cache-Control: no-cache, max-age=600"),
			Freshness{0, "Cache-Control: no-cache (revalidated on every use)", true},
		},
		{
			"invalid s-maxage is stale even with max-age", hdr("Cache-Control: s-maxage=soon, max-age=600"),
			Freshness{0, "Cache-Control: invalid s-maxage (treated as stale)", true},
		},
		{
			"invalid max-age is stale", hdr("Cache-Control: max-age=-5"),
			Freshness{0, "Cache-Control: invalid max-age (treated as stale)", true},
		},
		{
			"Cache-Control on several lines", hdr("Cache-Control: public", "Cache-Control: max-age=45"),
			Freshness{45, "Cache-Control: max-age=45", true},
		},
		{
			"heuristic from Last-Modified", hdr(dateHdr, "Last-Modified: Sun, 16 Nov 2025 12:00:00 GMT"),
			Freshness{86400, "heuristic: 10% of the time since Last-Modified", false},
		},
		{
			"nothing at all", hdr(),
			Freshness{0, "heuristic: no explicit lifetime, each cache picks its own", false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SharedFreshness(tt.h, now); got != tt.want {
				t.Errorf("SharedFreshness() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSharedCacheable(t *testing.T) {
	tests := []struct {
		name       string
		h          http.Header
		status     int
		want       bool
		wantReason string
	}{
		{"s-maxage", hdr("Cache-Control: public, s-maxage=300, max-age=60"), 200, true, "storable: Cache-Control: s-maxage=300"},
		{"max-age on a 302", hdr("Cache-Control: max-age=60"), 302, true, "storable: Cache-Control: max-age=60"},
		{"public alone", hdr("Cache-Control: public"), 200, true, "storable: Cache-Control: public"},
		{"Expires", hdr("Expires: Wed, 26 Nov 2025 13:00:00 GMT"), 200, true, "storable: Expires"},
		{"no-store", hdr("Cache-Control: no-store"), 200, false, "Cache-Control: no-store"},
		{"private", hdr("Cache-Control: private, max-age=60"), 200, false, "Cache-Control: private"},
		{
			"private naming a field", hdr(`Cache-Control: private="Set-Cookie", max-age=60`), 200, true,
			"storable: Cache-Control: max-age=60, without the fields named by private: Set-Cookie",
		},
		{"no-cache is storable", hdr("Cache-Control: no-cache"), 200, true, "storable heuristically: status 200 without an explicit lifetime, revalidated on every use (no-cache)"},
		{"heuristic 200", hdr(), 200, true, "storable heuristically: status 200 without an explicit lifetime"},
		{"heuristic 404", hdr(), 404, true, "storable heuristically: status 404 without an explicit lifetime"},
		{"heuristic 308", hdr(), 308, true, "storable heuristically: status 308 without an explicit lifetime"},
		{"302 without lifetime", hdr(), 302, false, "status 302 is not cacheable without an explicit lifetime (max-age, s-maxage, Expires or public)"},
		{"500 without lifetime", hdr("Cache-Control: must-revalidate"), 500, false, "status 500 is not cacheable without an explicit lifetime (max-age, s-maxage, Expires or public)"},
		{"Vary star", hdr("Cache-Control: max-age=60", "Vary: Accept-Encoding, *"), 200, false, "Vary: * — a stored copy can never be reused"},
		{"304", hdr("Cache-Control: max-age=60"), 304, false, "304 Not Modified only refreshes a stored response"},
		{"1xx", hdr(), 103, false, "status 103 is not a final response"},
		{"must-understand overrides no-store", hdr("Cache-Control: must-understand, no-store, max-age=60"), 200, true, "storable: Cache-Control: max-age=60"},
		{"must-understand with unknown status", hdr("Cache-Control: must-understand, no-store, max-age=60"), 299, false, "Cache-Control: must-understand and status 299 is not understood by caches"},
		{"targeted field allows despite private", hdr("CDN-Cache-Control: max-age=600", "Cache-Control: private"), 200, true, "storable: CDN-Cache-Control: max-age=600"},
		{"targeted field forbids despite public", hdr("Surrogate-Control: no-store", "Cache-Control: public, max-age=60"), 200, false, "Surrogate-Control: no-store"},
		{"targeted field ignores Expires", hdr("CDN-Cache-Control: must-revalidate", "Expires: Wed, 26 Nov 2025 13:00:00 GMT"), 302, false, "status 302 is not cacheable without an explicit lifetime (max-age, s-maxage, Expires or public)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := SharedCacheable(tt.h, tt.status)
			if got != tt.want || reason != tt.wantReason {
				t.Errorf("SharedCacheable() = %v, %q; want %v, %q", got, reason, tt.want, tt.wantReason)
			}
		})
	}
}

func FuzzSharedFreshness(f *testing.F) {
	f.Add("public, max-age=60", "", "", "Wed, 26 Nov 2025 13:00:00 GMT", "Wed, 26 Nov 2025 12:00:00 GMT", "", int64(1764158400))
	f.Add("private", "max-age=600", "", "", "", "", int64(0))
	f.Add("", "", "max-age=3600", "0", "", "Sun, 16 Nov 2025 12:00:00 GMT", int64(1764158400))
	f.Add("s-maxage=abc", "max-age=x", "", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", int64(-62135596800))
	f.Add("no-cache", "", "", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "", int64(1<<62))
	f.Fuzz(func(t *testing.T, cc, cdn, surrogate, expires, date, lastMod string, nowUnix int64) {
		h := http.Header{}
		for k, v := range map[string]string{
			"Cache-Control": cc, "CDN-Cache-Control": cdn, "Surrogate-Control": surrogate,
			"Expires": expires, "Date": date, "Last-Modified": lastMod,
		} {
			if v != "" {
				h.Set(k, v)
			}
		}
		got := SharedFreshness(h, time.Unix(nowUnix, 0))
		if got.TTLSeconds < 0 {
			t.Fatalf("TTLSeconds = %d, want >= 0 (%+v)", got.TTLSeconds, h)
		}
		if got.Source == "" {
			t.Fatalf("empty Source for %+v", h)
		}
		ok, reason := SharedCacheable(h, 200)
		if reason == "" {
			t.Fatalf("SharedCacheable() = %v with empty reason", ok)
		}
	})
}
