package cachestatus

import (
	"net/http"
	"strings"
)

// CDN and cache names reported in Result.CDN.
const (
	CDNCloudflare    = "cloudflare"
	CDNFastly        = "fastly"
	CDNAkamai        = "akamai"
	CDNCloudFront    = "cloudfront"
	CDNAzure         = "azure"
	CDNGoogle        = "google"
	CDNVarnish       = "varnish"
	CDNNginx         = "nginx"
	CDNVercel        = "vercel"
	CDNNetlify       = "netlify"
	CDNBunny         = "bunny"
	CDNKeyCDN        = "keycdn"
	CDNCDN77         = "cdn77"
	CDNSquid         = "squid"
	CDNTrafficServer = "trafficserver"
	CDNSouin         = "souin"
)

// maxScan bounds how much of a side header is searched for a vendor name.
const maxScan = 1024

// has reports whether the canonical header name is present.
func has(h http.Header, name string) bool {
	return len(h[name]) > 0
}

// containsFold reports whether s contains sub, ignoring ASCII case,
// without allocating.
func containsFold(s, sub string) bool {
	if len(s) > maxScan {
		s = s[:maxScan]
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// anyContainsFold reports whether any value of the header contains sub.
func anyContainsFold(h http.Header, name, sub string) bool {
	for _, v := range h[name] {
		if containsFold(v, sub) {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// servedByFastly recognizes Fastly's X-Served-By, whose entries name cache
// nodes "cache-<pop><n>-<POP>".
func servedByFastly(h http.Header) bool {
	for _, v := range h["X-Served-By"] {
		if hasPrefixFold(strings.TrimSpace(v), "cache-") {
			return true
		}
	}
	return false
}

// detectCDN names the CDN or cache from the headers that identify it. The
// checks run from client-facing services (CDNs) to origin-side caches, so
// that a CDN in front of a Varnish or nginx cache is the one reported.
func detectCDN(h http.Header) string {
	server := strings.TrimSpace(h.Get("Server"))
	switch {
	case has(h, "Cf-Ray") || has(h, hdrCloudflare) || hasPrefixFold(server, "cloudflare"):
		return CDNCloudflare
	case has(h, "X-Vercel-Id") || has(h, hdrVercel) || strings.EqualFold(server, "Vercel"):
		return CDNVercel
	case has(h, "X-Nf-Request-Id") || hasPrefixFold(server, "Netlify") || anyContainsFold(h, hdrCacheStatus, "netlify"):
		return CDNNetlify
	case hasPrefixFold(server, "BunnyCDN") || has(h, hdrBunny) || has(h, "Cdn-Pullzone"):
		return CDNBunny
	case has(h, hdrAkamaiStatus) || has(h, hdrXCacheRemote) || has(h, "X-Check-Cacheable") ||
		has(h, "Akamai-Grn") || hasPrefixFold(server, "AkamaiGHost") || anyContainsFold(h, hdrXCache, "akamai"):
		return CDNAkamai
	case has(h, "X-Amz-Cf-Pop") || has(h, "X-Amz-Cf-Id") || strings.EqualFold(server, "CloudFront") ||
		anyContainsFold(h, hdrXCache, "cloudfront") || anyContainsFold(h, "Via", "cloudfront"):
		return CDNCloudFront
	case has(h, "X-Azure-Ref") || has(h, "X-Msedge-Ref") || has(h, "X-Azure-Ref-Originshield"):
		return CDNAzure
	case servedByFastly(h) || has(h, "Fastly-Debug-Path") || has(h, "Fastly-Debug-Ttl") || has(h, "X-Fastly-Request-Id"):
		return CDNFastly
	case anyContainsFold(h, "Via", "google"):
		return CDNGoogle
	case hasPrefixFold(server, "keycdn"):
		return CDNKeyCDN
	case hasPrefixFold(server, "CDN77") || has(h, "X-77-Pop") || has(h, "X-77-Nzt") || has(h, "X-77-Cache"):
		return CDNCDN77
	case anyContainsFold(h, hdrCacheStatus, "souin") || (hasPrefixFold(server, "Caddy") && has(h, hdrCacheStatus)):
		return CDNSouin
	case has(h, hdrVarnish) || anyContainsFold(h, "Via", "varnish"):
		return CDNVarnish
	case strings.EqualFold(server, "ATS") || hasPrefixFold(server, "ATS/") || anyContainsFold(h, "Via", "ApacheTrafficServer"):
		return CDNTrafficServer
	case hasPrefixFold(server, "squid") || anyContainsFold(h, "Via", "squid") || has(h, "X-Cache-Lookup") || has(h, "X-Squid-Error"):
		return CDNSquid
	case has(h, hdrNginx) || has(h, hdrProxyCache) || (hasPrefixFold(server, "nginx") && has(h, hdrXCache)):
		return CDNNginx
	}
	return ""
}

// xCacheEdge reports whether the CDN reports its own status in X-Cache, so
// that X-Cache is the client-facing answer even when an origin cache behind
// it leaked a Cache-Status or X-Cache-Status header.
func xCacheEdge(cdn string) bool {
	switch cdn {
	case CDNFastly, CDNCloudFront, CDNAkamai, CDNAzure, CDNKeyCDN, CDNCDN77:
		return true
	}
	return false
}
