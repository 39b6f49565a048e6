package servertiming

import (
	"net/http"
	"testing"
)

// BenchmarkFromHeader reads a Cloudflare response's Server-Timing with an
// origin's database metric: what every probe of such a site costs.
func BenchmarkFromHeader(b *testing.B) {
	h := http.Header{"Server-Timing": {
		`cfCacheStatus;desc="MISS", cfEdge;dur=14,cfOrigin;dur=212`,
		`db;dur=12.4;desc="3 queries", app;dur=31.0`,
	}}
	b.ReportAllocs()
	for b.Loop() {
		s, _ := FromHeader(h, nil)
		if len(s) != 5 {
			b.Fatal(s)
		}
	}
}
