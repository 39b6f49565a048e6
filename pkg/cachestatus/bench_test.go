package cachestatus

import "testing"

// benchCacheStatus holds RFC 9211 Cache-Status values as CDNs and proxies
// send them, from a single layer to a three-hop chain.
var benchCacheStatus = []string{
	`"Netlify Edge"; hit`,
	`"Netlify Durable"; hit, "Netlify Edge"; fwd=miss`,
	`ExampleCache; fwd=uri-miss; stored; collapsed, CDN; hit; ttl=376`,
	`OriginShield; fwd=stale; fwd-status=304; ttl=-10, "edge-fra"; fwd=miss; key="/articles/x"`,
	`Cloudflare; fwd=bypass; detail="cookie"`,
}

func BenchmarkParseCacheStatus(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		layers, err := ParseCacheStatus(benchCacheStatus[i%len(benchCacheStatus)])
		if err != nil || len(layers) == 0 {
			b.Fatalf("ParseCacheStatus(%q) = %v, %v", benchCacheStatus[i%len(benchCacheStatus)], layers, err)
		}
		i++
	}
}
