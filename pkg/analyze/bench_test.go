package analyze

import (
	"net/http"
	"testing"
	"time"
)

// benchCacheControl holds Cache-Control values as sites send them: short
// and long, shared and private, and one with a malformed directive.
var benchCacheControl = []string{
	"public, max-age=3600",
	"public, max-age=300, s-maxage=600, stale-while-revalidate=60, stale-if-error=86400",
	"private, no-cache, no-store, must-revalidate, max-age=0",
	`no-cache="Set-Cookie, Set-Cookie2", max-age=120, proxy-revalidate`,
	"max-age=abc, s-maxage=30, immutable",
}

func BenchmarkParseCacheControl(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := ParseCacheControl(benchCacheControl[i%len(benchCacheControl)])
		if d.Empty() {
			b.Fatalf("ParseCacheControl(%q) is empty", benchCacheControl[i%len(benchCacheControl)])
		}
		i++
	}
}

func BenchmarkSharedFreshness(b *testing.B) {
	now := time.Date(2025, 11, 16, 12, 20, 0, 0, time.UTC)
	headers := []http.Header{
		{"Cache-Control": {"public, max-age=300, s-maxage=600"}, "Cdn-Cache-Control": {"max-age=900"}},
		{"Cache-Control": {"public, max-age=3600"}, "Date": {"Sun, 16 Nov 2025 12:00:00 GMT"}},
		{"Expires": {"Sun, 16 Nov 2025 13:00:00 GMT"}, "Date": {"Sun, 16 Nov 2025 12:00:00 GMT"}},
		{"Cache-Control": {"private, max-age=60"}},
		{"Last-Modified": {"Sat, 15 Nov 2025 12:00:00 GMT"}, "Date": {"Sun, 16 Nov 2025 12:00:00 GMT"}},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = SharedFreshness(headers[i%len(headers)], now)
		i++
	}
}
