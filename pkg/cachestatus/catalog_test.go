package cachestatus

import (
	"net/http"
	"strings"
)

// catalogCase is one response from the vendor catalog
// (reference/cdn-cache-headers.md) and what Detect must make of it.
type catalogCase struct {
	name       string
	headers    []string // "Name: value" lines, in wire order
	extra      []string // Options.ExtraHeaders
	wantStatus Status
	wantSource string
	wantCDN    string
	// wantLayers, when set, lists every layer as "NAME=STATUS" (or just
	// "STATUS" for an unnamed layer), origin-side first.
	wantLayers []string
}

// header builds a canonical http.Header from "Name: value" lines.
func header(lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		h.Add(name, strings.TrimPrefix(value, " "))
	}
	return h
}

const (
	akamaiFrom = " from a23-45-67-89.deploy.akamaitechnologies.com (AkamaiGHost/11.4.3-58765432) (-)"
	akamaiPeer = "Akamai-Grn: 0.5d8b2c17.1712345678.1a2b3c4d"
	cfRay      = "Cf-Ray: 86c2c1e0bd5e2a1f-SJC"
	fastlyEdge = "X-Served-By: cache-sjc3120-SJC"
	cfPop      = "X-Amz-Cf-Pop: IAD89-C1"
	azureRef   = "X-Azure-Ref: 0zxV+YwAAAAD6+1cTv7pKRoU0gD2BxTqsU0pDRURHRTA1MTUAZTM0ZjJkZjMtNjM0Ni00"
	viaGoogle  = "Via: 1.1 google"
	nginxSrv   = "Server: nginx/1.26.2"
	vercelID   = "X-Vercel-Id: cdg1::iad1::8qvhs-1712345678901-abcdef012345"
	bunnySrv   = "Server: BunnyCDN-DE1-1054"
	keycdnSrv  = "Server: keycdn-engine"
	cdn77Srv   = "Server: CDN77-Turbo"
	squidVia   = "Via: 1.1 proxy.example.net (squid/5.7)"
	squid6Srv  = "Server: squid/6.6"
	atsSrv     = "Server: ATS/9.2.3"
	caddySrv   = "Server: Caddy"
	netlifyID  = "X-Nf-Request-Id: 01HTZ8Q4ZK4J7X3Q9W6B3V2M1N"
)

// catalog has one case for every CDN row and value of the reference
// catalog, then the multi-header, multi-layer and hostile cases.
var catalog = []catalogCase{
	// Cloudflare: every value maps to itself; NONE and UNKNOWN say nothing.
	{name: "cloudflare HIT", headers: []string{"Cf-Cache-Status: HIT", cfRay, "Age: 120"}, wantStatus: HIT, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare MISS", headers: []string{"cf-cache-status: MISS", cfRay}, wantStatus: MISS, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare EXPIRED", headers: []string{"cf-cache-status: EXPIRED", cfRay}, wantStatus: EXPIRED, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare STALE", headers: []string{"cf-cache-status: STALE", cfRay}, wantStatus: STALE, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare UPDATING", headers: []string{"cf-cache-status: UPDATING", cfRay}, wantStatus: UPDATING, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare REVALIDATED", headers: []string{"cf-cache-status: REVALIDATED", cfRay}, wantStatus: REVALIDATED, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare BYPASS", headers: []string{"cf-cache-status: BYPASS", cfRay}, wantStatus: BYPASS, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare DYNAMIC", headers: []string{"cf-cache-status: DYNAMIC", cfRay}, wantStatus: DYNAMIC, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare NONE", headers: []string{"cf-cache-status: NONE", cfRay}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "cloudflare"},
	{name: "cloudflare UNKNOWN", headers: []string{"cf-cache-status: UNKNOWN", cfRay}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "cloudflare"},
	{name: "cloudflare without cf-ray", headers: []string{"cf-cache-status: hit"}, wantStatus: HIT, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},

	// Fastly: X-Cache with X-Served-By in the same order; shield first, edge last.
	{name: "fastly HIT", headers: []string{"X-Cache: HIT", fastlyEdge, "X-Cache-Hits: 3", "Via: 1.1 varnish"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "fastly", wantLayers: []string{"cache-sjc3120-SJC=HIT"}},
	{name: "fastly MISS (also a pass)", headers: []string{"X-Cache: MISS", fastlyEdge, "X-Cache-Hits: 0"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "fastly"},
	{name: "fastly shield MISS edge HIT", headers: []string{"X-Cache: MISS, HIT", "X-Served-By: cache-iad2120-IAD, cache-sjc3120-SJC", "X-Cache-Hits: 0, 1"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "fastly", wantLayers: []string{"cache-iad2120-IAD=MISS", "cache-sjc3120-SJC=HIT"}},
	{name: "fastly shield HIT edge MISS", headers: []string{"X-Cache: HIT, MISS", "X-Served-By: cache-iad2120-IAD, cache-sjc3120-SJC"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "fastly", wantLayers: []string{"cache-iad2120-IAD=HIT", "cache-sjc3120-SJC=MISS"}},
	{name: "fastly shield as separate lines", headers: []string{"X-Cache: MISS", "X-Cache: MISS", "X-Served-By: cache-iad2120-IAD", "X-Served-By: cache-sjc3120-SJC"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "fastly", wantLayers: []string{"cache-iad2120-IAD=MISS", "cache-sjc3120-SJC=MISS"}},
	{name: "fastly debug headers only", headers: []string{"X-Cache: HIT", "Fastly-Debug-Path: (D cache-sjc3120-SJC 1712345678) (F cache-sjc3120-SJC 1712345600)"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "fastly", wantLayers: []string{"HIT"}},

	// Akamai X-Cache (Pragma debug headers) with X-Cache-Remote as parent.
	{name: "akamai TCP_HIT", headers: []string{"X-Cache: TCP_HIT" + akamaiFrom}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai", wantLayers: []string{"child=HIT"}},
	{name: "akamai TCP_MEM_HIT", headers: []string{"X-Cache: TCP_MEM_HIT" + akamaiFrom}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_IMS_HIT", headers: []string{"X-Cache: TCP_IMS_HIT" + akamaiFrom}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_NEGATIVE_HIT", headers: []string{"X-Cache: TCP_NEGATIVE_HIT" + akamaiFrom}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_MISS", headers: []string{"X-Cache: TCP_MISS" + akamaiFrom}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_REFRESH_HIT", headers: []string{"X-Cache: TCP_REFRESH_HIT" + akamaiFrom}, wantStatus: REVALIDATED, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_REFRESH_MISS", headers: []string{"X-Cache: TCP_REFRESH_MISS" + akamaiFrom}, wantStatus: EXPIRED, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_REFRESH_FAIL_HIT", headers: []string{"X-Cache: TCP_REFRESH_FAIL_HIT" + akamaiFrom}, wantStatus: STALE, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_DENIED", headers: []string{"X-Cache: TCP_DENIED" + akamaiFrom}, wantStatus: BYPASS, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai TCP_COOKIE_DENY", headers: []string{"X-Cache: TCP_COOKIE_DENY" + akamaiFrom}, wantStatus: BYPASS, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai bare code with side header", headers: []string{"X-Cache: TCP_HIT", akamaiPeer, "X-Check-Cacheable: YES"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "akamai child MISS parent HIT", headers: []string{"X-Cache: TCP_MISS" + akamaiFrom, "X-Cache-Remote: TCP_HIT from a77-1-2-3.deploy.akamaitechnologies.com (AkamaiGHost/11.4.3-58765432) (-)", "X-Check-Cacheable: YES"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "akamai", wantLayers: []string{"parent=HIT", "child=MISS"}},
	{name: "akamai child HIT parent MISS", headers: []string{"X-Cache: TCP_MEM_HIT" + akamaiFrom, "X-Cache-Remote: TCP_MISS" + akamaiFrom}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai", wantLayers: []string{"parent=MISS", "child=HIT"}},

	// Akamai-Cache-Status lists the child (client-facing) first.
	{name: "akamai-cache-status Hit", headers: []string{"Akamai-Cache-Status: Hit from child"}, wantStatus: HIT, wantSource: "Akamai-Cache-Status", wantCDN: "akamai", wantLayers: []string{"child=HIT"}},
	{name: "akamai-cache-status Miss", headers: []string{"Akamai-Cache-Status: Miss from child"}, wantStatus: MISS, wantSource: "Akamai-Cache-Status", wantCDN: "akamai"},
	{name: "akamai-cache-status child Miss parent Hit", headers: []string{"Akamai-Cache-Status: Miss from child, Hit from parent"}, wantStatus: MISS, wantSource: "Akamai-Cache-Status", wantCDN: "akamai", wantLayers: []string{"parent=HIT", "child=MISS"}},
	{name: "akamai-cache-status child Hit parent Miss", headers: []string{"Akamai-Cache-Status: Hit from child, Miss from parent"}, wantStatus: HIT, wantSource: "Akamai-Cache-Status", wantCDN: "akamai", wantLayers: []string{"parent=MISS", "child=HIT"}},
	{name: "akamai-cache-status RefreshHit", headers: []string{"Akamai-Cache-Status: RefreshHit from child"}, wantStatus: REVALIDATED, wantSource: "Akamai-Cache-Status", wantCDN: "akamai"},
	{name: "akamai-cache-status HitStale", headers: []string{"Akamai-Cache-Status: HitStale from child"}, wantStatus: STALE, wantSource: "Akamai-Cache-Status", wantCDN: "akamai"},
	{name: "akamai-cache-status NotCacheable", headers: []string{"Akamai-Cache-Status: NotCacheable from child"}, wantStatus: BYPASS, wantSource: "Akamai-Cache-Status", wantCDN: "akamai"},
	{name: "akamai-cache-status wins over X-Cache", headers: []string{"X-Cache: TCP_MISS" + akamaiFrom, "Akamai-Cache-Status: Hit from child"}, wantStatus: HIT, wantSource: "Akamai-Cache-Status", wantCDN: "akamai"},

	// Amazon CloudFront.
	{name: "cloudfront Hit", headers: []string{"X-Cache: Hit from cloudfront", cfPop, "Via: 1.1 0a1b2c3d4e5f.cloudfront.net (CloudFront)"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "cloudfront", wantLayers: []string{"cloudfront=HIT"}},
	{name: "cloudfront Miss", headers: []string{"X-Cache: Miss from cloudfront", cfPop}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "cloudfront"},
	{name: "cloudfront RefreshHit", headers: []string{"X-Cache: RefreshHit from cloudfront", cfPop}, wantStatus: REVALIDATED, wantSource: "X-Cache", wantCDN: "cloudfront"},
	{name: "cloudfront Error", headers: []string{"X-Cache: Error from cloudfront", cfPop}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "cloudfront"},
	{name: "cloudfront by value alone", headers: []string{"X-Cache: Hit from cloudfront"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "cloudfront"},

	// Azure Front Door / Azure CDN.
	{name: "azure TCP_HIT", headers: []string{"X-Cache: TCP_HIT", azureRef}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "azure"},
	{name: "azure TCP_REMOTE_HIT", headers: []string{"X-Cache: TCP_REMOTE_HIT", azureRef}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "azure"},
	{name: "azure TCP_MISS", headers: []string{"X-Cache: TCP_MISS", azureRef}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "azure"},
	{name: "azure PRIVATE_NOSTORE", headers: []string{"X-Cache: PRIVATE_NOSTORE", azureRef}, wantStatus: BYPASS, wantSource: "X-Cache", wantCDN: "azure"},
	{name: "azure CONFIG_NOCACHE", headers: []string{"X-Cache: CONFIG_NOCACHE", azureRef}, wantStatus: DYNAMIC, wantSource: "X-Cache", wantCDN: "azure"},

	// Google Cloud CDN: a header the operator fills from {cdn_cache_status}.
	{name: "google hit", headers: []string{"X-Cdn-Cache-Status: hit", viaGoogle, "Age: 40"}, extra: []string{"x-cdn-cache-status"}, wantStatus: HIT, wantSource: "X-Cdn-Cache-Status", wantCDN: "google"},
	{name: "google miss", headers: []string{"X-Cdn-Cache-Status: miss", viaGoogle}, extra: []string{"X-Cdn-Cache-Status"}, wantStatus: MISS, wantSource: "X-Cdn-Cache-Status", wantCDN: "google"},
	{name: "google revalidated", headers: []string{"X-Cdn-Cache-Status: revalidated", viaGoogle}, extra: []string{"X-Cdn-Cache-Status"}, wantStatus: REVALIDATED, wantSource: "X-Cdn-Cache-Status", wantCDN: "google"},
	{name: "google uncacheable", headers: []string{"X-Cdn-Cache-Status: uncacheable", viaGoogle}, extra: []string{"X-Cdn-Cache-Status"}, wantStatus: BYPASS, wantSource: "X-Cdn-Cache-Status", wantCDN: "google"},
	{name: "google default: Age only", headers: []string{viaGoogle, "Age: 312"}, wantStatus: HIT, wantSource: "Age", wantCDN: "google"},
	{name: "google default: no Age", headers: []string{viaGoogle}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "google"},

	// Varnish.
	{name: "varnish one id", headers: []string{"X-Varnish: 32770", "Via: 1.1 varnish (Varnish/7.5)"}, wantStatus: MISS, wantSource: "X-Varnish", wantCDN: "varnish"},
	{name: "varnish two ids", headers: []string{"X-Varnish: 32773 32771", "Age: 7"}, wantStatus: HIT, wantSource: "X-Varnish", wantCDN: "varnish"},
	{name: "varnish VCL X-Cache preferred", headers: []string{"X-Cache: MISS", "X-Varnish: 32773 32771"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "varnish"},
	{name: "varnish VCL pass", headers: []string{"X-Cache: PASS", "X-Varnish: 98306"}, wantStatus: BYPASS, wantSource: "X-Cache", wantCDN: "varnish"},
	{name: "varnish ids not numbers", headers: []string{"X-Varnish: abc def"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "varnish"},

	// nginx proxy_cache.
	{name: "nginx HIT", headers: []string{"X-Cache-Status: HIT", nginxSrv}, wantStatus: HIT, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx MISS", headers: []string{"X-Cache-Status: MISS", nginxSrv}, wantStatus: MISS, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx BYPASS", headers: []string{"X-Cache-Status: BYPASS", nginxSrv}, wantStatus: BYPASS, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx EXPIRED", headers: []string{"X-Cache-Status: EXPIRED", nginxSrv}, wantStatus: EXPIRED, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx STALE", headers: []string{"X-Cache-Status: STALE", nginxSrv}, wantStatus: STALE, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx UPDATING", headers: []string{"X-Cache-Status: UPDATING", nginxSrv}, wantStatus: UPDATING, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx REVALIDATED", headers: []string{"X-Cache-Status: REVALIDATED", nginxSrv}, wantStatus: REVALIDATED, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "nginx X-Proxy-Cache", headers: []string{"X-Proxy-Cache: HIT", nginxSrv}, wantStatus: HIT, wantSource: "X-Proxy-Cache", wantCDN: "nginx"},
	{name: "nginx X-Cache", headers: []string{"X-Cache: HIT", nginxSrv}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "nginx"},

	// Vercel.
	{name: "vercel HIT", headers: []string{"X-Vercel-Cache: HIT", vercelID}, wantStatus: HIT, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},
	{name: "vercel MISS", headers: []string{"X-Vercel-Cache: MISS", vercelID}, wantStatus: MISS, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},
	{name: "vercel BYPASS", headers: []string{"X-Vercel-Cache: BYPASS", vercelID}, wantStatus: BYPASS, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},
	{name: "vercel REVALIDATED", headers: []string{"X-Vercel-Cache: REVALIDATED", vercelID}, wantStatus: REVALIDATED, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},
	{name: "vercel STALE", headers: []string{"X-Vercel-Cache: STALE", vercelID}, wantStatus: STALE, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},
	{name: "vercel PRERENDER", headers: []string{"X-Vercel-Cache: PRERENDER", vercelID}, wantStatus: HIT, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},

	// Netlify: RFC 9211, durable cache origin-side, edge client-facing.
	{name: "netlify durable hit edge miss", headers: []string{`Cache-Status: "Netlify Durable"; hit, "Netlify Edge"; fwd=miss`, netlifyID}, wantStatus: MISS, wantSource: "Cache-Status", wantCDN: "netlify", wantLayers: []string{"Netlify Durable=HIT", "Netlify Edge=MISS"}},
	{name: "netlify edge hit", headers: []string{`Cache-Status: "Netlify Edge"; hit`}, wantStatus: HIT, wantSource: "Cache-Status", wantCDN: "netlify", wantLayers: []string{"Netlify Edge=HIT"}},
	{name: "netlify both miss", headers: []string{`Cache-Status: "Netlify Durable"; fwd=miss, "Netlify Edge"; fwd=miss`, "Server: Netlify"}, wantStatus: MISS, wantSource: "Cache-Status", wantCDN: "netlify"},

	// Bunny CDN.
	{name: "bunny HIT", headers: []string{"CDN-Cache: HIT", bunnySrv, "Perma-Cache: MISS"}, wantStatus: HIT, wantSource: "Cdn-Cache", wantCDN: "bunny"},
	{name: "bunny MISS", headers: []string{"CDN-Cache: MISS", bunnySrv}, wantStatus: MISS, wantSource: "Cdn-Cache", wantCDN: "bunny"},
	{name: "bunny BYPASS", headers: []string{"CDN-Cache: BYPASS", bunnySrv}, wantStatus: BYPASS, wantSource: "Cdn-Cache", wantCDN: "bunny"},
	{name: "bunny EXPIRED", headers: []string{"CDN-Cache: EXPIRED", bunnySrv}, wantStatus: EXPIRED, wantSource: "Cdn-Cache", wantCDN: "bunny"},

	// KeyCDN.
	{name: "keycdn HIT", headers: []string{"X-Cache: HIT", keycdnSrv}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "keycdn"},
	{name: "keycdn MISS", headers: []string{"X-Cache: MISS", keycdnSrv}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "keycdn"},
	{name: "keycdn EXPIRED", headers: []string{"X-Cache: EXPIRED", keycdnSrv}, wantStatus: EXPIRED, wantSource: "X-Cache", wantCDN: "keycdn"},
	{name: "keycdn REVALIDATED", headers: []string{"X-Cache: REVALIDATED", keycdnSrv}, wantStatus: REVALIDATED, wantSource: "X-Cache", wantCDN: "keycdn"},
	{name: "keycdn UPDATING", headers: []string{"X-Cache: UPDATING", keycdnSrv}, wantStatus: UPDATING, wantSource: "X-Cache", wantCDN: "keycdn"},
	{name: "keycdn STALE", headers: []string{"X-Cache: STALE", keycdnSrv}, wantStatus: STALE, wantSource: "X-Cache", wantCDN: "keycdn"},

	// CDN77.
	{name: "cdn77 HIT", headers: []string{"X-Cache: HIT", cdn77Srv, "X-Age: 3600"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "cdn77"},
	{name: "cdn77 MISS", headers: []string{"X-Cache: MISS", cdn77Srv}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "cdn77"},
	{name: "cdn77 BYPASS", headers: []string{"X-Cache: BYPASS", cdn77Srv}, wantStatus: BYPASS, wantSource: "X-Cache", wantCDN: "cdn77"},
	{name: "cdn77 EXPIRED", headers: []string{"X-Cache: EXPIRED", cdn77Srv}, wantStatus: EXPIRED, wantSource: "X-Cache", wantCDN: "cdn77"},
	{name: "cdn77 STALE", headers: []string{"X-Cache: STALE", cdn77Srv}, wantStatus: STALE, wantSource: "X-Cache", wantCDN: "cdn77"},
	{name: "cdn77 UPDATING", headers: []string{"X-Cache: UPDATING", cdn77Srv}, wantStatus: UPDATING, wantSource: "X-Cache", wantCDN: "cdn77"},

	// Squid before 6: "HIT from host"; X-Cache-Lookup is only a prediction.
	{name: "squid5 HIT", headers: []string{"X-Cache: HIT from proxy.example.net", "X-Cache-Lookup: HIT from proxy.example.net:3128", squidVia}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "squid", wantLayers: []string{"proxy.example.net=HIT"}},
	{name: "squid5 MISS", headers: []string{"X-Cache: MISS from proxy.example.net", "X-Cache-Lookup: HIT from proxy.example.net:3128", squidVia}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "squid"},
	{name: "squid5 chain", headers: []string{"X-Cache: HIT from parent.example.net", "X-Cache: MISS from child.example.net", "Server: squid/5.7"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "squid", wantLayers: []string{"parent.example.net=HIT", "child.example.net=MISS"}},

	// Squid 6 and later: RFC 9211.
	{name: "squid6 hit", headers: []string{"Cache-Status: proxy.example.net;hit;detail=match", squid6Srv}, wantStatus: HIT, wantSource: "Cache-Status", wantCDN: "squid", wantLayers: []string{"proxy.example.net=HIT"}},
	{name: "squid6 miss", headers: []string{"Cache-Status: proxy.example.net;fwd=miss;detail=mismatch", squid6Srv}, wantStatus: MISS, wantSource: "Cache-Status", wantCDN: "squid"},

	// Apache Traffic Server xdebug.
	{name: "trafficserver hit-fresh", headers: []string{"X-Cache: hit-fresh", atsSrv}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "trafficserver"},
	{name: "trafficserver hit-stale", headers: []string{"X-Cache: hit-stale", atsSrv}, wantStatus: STALE, wantSource: "X-Cache", wantCDN: "trafficserver"},
	{name: "trafficserver miss", headers: []string{"X-Cache: miss", atsSrv}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "trafficserver"},
	{name: "trafficserver skipped", headers: []string{"X-Cache: skipped", atsSrv}, wantStatus: BYPASS, wantSource: "X-Cache", wantCDN: "trafficserver"},
	{name: "trafficserver none", headers: []string{"X-Cache: none", atsSrv}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "trafficserver"},
	{name: "trafficserver by Via", headers: []string{"X-Cache: hit-fresh", "Via: http/1.1 ats.example.net (ApacheTrafficServer/9.2.3)"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "trafficserver"},

	// Apache Traffic Server without xdebug: the cache codes in Via.
	{name: "trafficserver Via miss", headers: []string{"Via: http/1.1 ats.example.net (ApacheTrafficServer/9.2.5 [cMsSfW])", atsSrv, "Age: 0"}, wantStatus: MISS, wantSource: "Via", wantCDN: "trafficserver", wantLayers: []string{"ats.example.net=MISS"}},
	{name: "trafficserver Via hit", headers: []string{"Via: http/1.1 ats.example.net (ApacheTrafficServer/9.2.5 [cHs f ])", atsSrv, "Age: 12"}, wantStatus: HIT, wantSource: "Via", wantCDN: "trafficserver"},
	{name: "trafficserver Age alone says nothing", headers: []string{"Via: http/1.1 ats.example.net (ApacheTrafficServer/9.2.5)", atsSrv, "Age: 1"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: "trafficserver"},
	{name: "trafficserver Via revalidated", headers: []string{"Via: http/1.1 ats.example.net (ApacheTrafficServer/9.2.5 [cSsNfU])", atsSrv}, wantStatus: REVALIDATED, wantSource: "Via", wantCDN: "trafficserver"},

	// Caddy cache-handler / Souin.
	{name: "souin miss stored", headers: []string{"Cache-Status: Souin; fwd=uri-miss; stored; key=GET-https-example.com-/blog; detail=DEFAULT", caddySrv}, wantStatus: MISS, wantSource: "Cache-Status", wantCDN: "souin"},
	{name: "souin hit", headers: []string{"Cache-Status: Souin; hit; ttl=1765; key=GET-https-example.com-/blog; detail=DEFAULT", caddySrv, "Age: 35"}, wantStatus: HIT, wantSource: "Cache-Status", wantCDN: "souin"},
	{name: "souin bypass with detail", headers: []string{"Cache-Status: Souin; fwd=bypass; detail=CANNOT-HANDLE-NO-STORE"}, wantStatus: BYPASS, wantSource: "Cache-Status", wantCDN: "souin"},
	{name: "caddy custom cache name", headers: []string{`Cache-Status: "Caddy Cache"; hit; ttl=-12; detail=SERVE-STALE`, caddySrv}, wantStatus: STALE, wantSource: "Cache-Status", wantCDN: "souin"},

	// Generic RFC 9211 members.
	{name: "rfc9211 fwd=stale revalidated", headers: []string{"Cache-Status: ExampleCache; fwd=stale; fwd-status=304"}, wantStatus: REVALIDATED, wantSource: "Cache-Status", wantCDN: ""},
	{name: "rfc9211 fwd=stale expired", headers: []string{"Cache-Status: ExampleCache; fwd=stale; fwd-status=200; stored"}, wantStatus: EXPIRED, wantSource: "Cache-Status", wantCDN: ""},
	{name: "rfc9211 fwd=method", headers: []string{"Cache-Status: ExampleCache; fwd=method"}, wantStatus: BYPASS, wantSource: "Cache-Status", wantCDN: ""},
	{name: "rfc9211 origin cache and CDN lines", headers: []string{"Cache-Status: OriginCache; hit", "Cache-Status: CDN; fwd=vary-miss"}, wantStatus: MISS, wantSource: "Cache-Status", wantCDN: "", wantLayers: []string{"OriginCache=HIT", "CDN=MISS"}},

	// Precedence between headers.
	{name: "extra header beats cloudflare", headers: []string{"X-Site-Cache: MISS", "Cf-Cache-Status: HIT", cfRay}, extra: []string{"X-Site-Cache"}, wantStatus: MISS, wantSource: "X-Site-Cache", wantCDN: "cloudflare"},
	{name: "extra header absent falls through", headers: []string{"Cf-Cache-Status: HIT", cfRay}, extra: []string{"X-Site-Cache"}, wantStatus: HIT, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "extra header unrecognized falls through", headers: []string{"X-Site-Cache: maybe", "Cf-Cache-Status: HIT"}, extra: []string{"X-Site-Cache"}, wantStatus: HIT, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "extra header in RFC 9211 form", headers: []string{"X-Site-Cache: edge; fwd=uri-miss"}, extra: []string{"X-Site-Cache"}, wantStatus: MISS, wantSource: "X-Site-Cache", wantCDN: "", wantLayers: []string{"edge=MISS"}},
	{name: "extra header with Squid code", headers: []string{"X-Upstream-Cache: TCP_REFRESH_UNMODIFIED"}, extra: []string{"", "x-upstream-cache"}, wantStatus: REVALIDATED, wantSource: "X-Upstream-Cache", wantCDN: ""},
	{name: "cloudflare before origin varnish", headers: []string{"Cf-Cache-Status: DYNAMIC", cfRay, "X-Cache: HIT", "X-Varnish: 5 3", "Age: 30"}, wantStatus: DYNAMIC, wantSource: "Cf-Cache-Status", wantCDN: "cloudflare"},
	{name: "cloudflare NONE falls to Age", headers: []string{"Cf-Cache-Status: NONE", cfRay, "Age: 30"}, wantStatus: HIT, wantSource: "Age", wantCDN: "cloudflare"},
	{name: "Cache-Status before X-Cache-Status", headers: []string{"Cache-Status: Souin; hit", "X-Cache-Status: MISS"}, wantStatus: HIT, wantSource: "Cache-Status", wantCDN: "souin"},
	{name: "X-Cache-Status before plain X-Cache", headers: []string{"X-Cache-Status: EXPIRED", "X-Cache: HIT"}, wantStatus: EXPIRED, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "fastly edge X-Cache beats leaked origin X-Cache-Status", headers: []string{"X-Cache-Status: MISS", "X-Cache: MISS, HIT", "X-Served-By: cache-iad2120-IAD, cache-sjc3120-SJC", nginxSrv}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "fastly"},
	{name: "cloudfront edge X-Cache beats leaked Cache-Status", headers: []string{"Cache-Status: Souin; hit", "X-Cache: Miss from cloudfront", cfPop}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: "cloudfront"},
	{name: "edge X-Cache unusable falls to Cache-Status", headers: []string{"Cache-Status: origin; hit", "X-Cache: Error from cloudfront", cfPop}, wantStatus: HIT, wantSource: "Cache-Status", wantCDN: "cloudfront"},
	{name: "malformed Cache-Status falls back to X-Cache", headers: []string{`Cache-Status: "unterminated; hit`, "X-Cache: MISS"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: ""},
	{name: "Cache-Status with hit and fwd falls back to Age", headers: []string{"Cache-Status: c; hit; fwd=miss", "Age: 4"}, wantStatus: HIT, wantSource: "Age", wantCDN: ""},
	{name: "X-Cache before X-Varnish", headers: []string{"X-Cache: HIT", "X-Varnish: 1"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "varnish"},
	{name: "X-Varnish before Age", headers: []string{"X-Varnish: 11", "Age: 100"}, wantStatus: MISS, wantSource: "X-Varnish", wantCDN: "varnish"},
	{name: "Age alone", headers: []string{"Age: 86400"}, wantStatus: HIT, wantSource: "Age", wantCDN: ""},
	{name: "Age zero", headers: []string{"Age: 0"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "no headers", headers: nil, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "only unrelated headers", headers: []string{"Content-Type: text/html", "Server: Apache"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},

	// Odd casing, whitespace and trailing garbage.
	{name: "lower-case value with spaces", headers: []string{"X-Cache:    hit   ", keycdnSrv}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "keycdn"},
	{name: "mixed case vercel", headers: []string{"X-Vercel-Cache: Prerender"}, wantStatus: HIT, wantSource: "X-Vercel-Cache", wantCDN: "vercel"},
	{name: "word with trailing reason", headers: []string{"X-Cache-Status: BYPASS (cookie)"}, wantStatus: BYPASS, wantSource: "X-Cache-Status", wantCDN: "nginx"},
	{name: "fastly HIT-STALE", headers: []string{"X-Cache: HIT-STALE", fastlyEdge}, wantStatus: STALE, wantSource: "X-Cache", wantCDN: "fastly"},
	{name: "fastly HIT-SYNTH", headers: []string{"X-Cache: MISS, HIT-SYNTH", "X-Served-By: cache-iad2120-IAD, cache-sjc3120-SJC"}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "fastly"},
	{name: "new akamai code", headers: []string{"X-Cache: TCP_HIT_SOMETHING_HIT" + akamaiFrom}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "akamai"},
	{name: "trailing comma and blank layer", headers: []string{"X-Cache: MISS, , HIT,", fastlyEdge}, wantStatus: HIT, wantSource: "X-Cache", wantCDN: "fastly", wantLayers: []string{"MISS", "HIT"}},

	// Hostile values degrade to the next header or to UNKNOWN.
	{name: "empty X-Cache", headers: []string{"X-Cache: ", "Age: 3"}, wantStatus: HIT, wantSource: "Age", wantCDN: ""},
	{name: "non-ASCII X-Cache", headers: []string{"X-Cache: HÏT", "X-Varnish: 7 3"}, wantStatus: HIT, wantSource: "X-Varnish", wantCDN: "varnish"},
	{name: "non-ASCII Cache-Status", headers: []string{"Cache-Status: caché; hit"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "huge X-Cache", headers: []string{"X-Cache: HIT" + strings.Repeat(" x", 5000)}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "too many layers", headers: []string{"X-Cache: " + strings.Repeat("HIT, ", 40) + "HIT"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "huge Cache-Status falls back", headers: []string{"Cache-Status: c; hit; detail=" + strings.Repeat("a", 5000), "X-Cache: MISS"}, wantStatus: MISS, wantSource: "X-Cache", wantCDN: ""},
	{name: "negative Age", headers: []string{"Age: -5"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "garbage Age", headers: []string{"Age: 12abc"}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
	{name: "long word", headers: []string{"X-Cache: " + strings.Repeat("H", 200)}, wantStatus: UNKNOWN, wantSource: "", wantCDN: ""},
}
