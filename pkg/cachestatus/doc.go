// Package cachestatus reads the cache-status headers of every common CDN and
// caching proxy and maps them onto one vocabulary:
//
//	HIT          served from cache, fresh
//	MISS         not in cache; fetched from the origin
//	EXPIRED      was in cache but expired; fetched again
//	STALE        served from cache although expired
//	UPDATING     served stale while the cache refreshes in the background
//	REVALIDATED  expired copy confirmed with the origin (304) and served
//	BYPASS       the cache was deliberately not used
//	DYNAMIC      not eligible for caching under the CDN's configuration
//	UNKNOWN      no recognizable cache header
//
// Supported CDNs and caches, with the headers read and the value of
// Result.CDN:
//
//	Cloudflare            Cf-Cache-Status (Cf-Ray)                        cloudflare
//	Fastly                X-Cache "SHIELD, EDGE" (X-Served-By: cache-...)  fastly
//	Akamai                Akamai-Cache-Status, X-Cache TCP_* codes with
//	                      X-Cache-Remote as the parent tier              akamai
//	Amazon CloudFront     X-Cache "Hit from cloudfront" (X-Amz-Cf-Pop)    cloudfront
//	Azure Front Door/CDN  X-Cache TCP_HIT, PRIVATE_NOSTORE, ... (X-Azure-Ref)  azure
//	Google Cloud CDN      Age and Via: 1.1 google; a custom header from
//	                      {cdn_cache_status} named in Options.ExtraHeaders  google
//	Varnish               X-Cache set in VCL, else X-Varnish ids          varnish
//	nginx proxy_cache     X-Cache-Status, X-Proxy-Cache, X-Cache          nginx
//	Vercel                X-Vercel-Cache                                  vercel
//	Netlify               Cache-Status (RFC 9211)                         netlify
//	Bunny CDN             CDN-Cache (Server: BunnyCDN-...)                bunny
//	KeyCDN                X-Cache (Server: keycdn-engine)                 keycdn
//	CDN77                 X-Cache (Server: CDN77-Turbo)                   cdn77
//	Squid                 X-Cache "HIT from host" (< 6), Cache-Status (>= 6)  squid
//	Apache Traffic Server X-Cache hit-fresh, hit-stale, ... (xdebug), else
//	                      the cache codes in Via ([cHs f ], [cMsSfW])     trafficserver
//	Caddy cache-handler / Souin  Cache-Status with detail                souin
//
// Any other cache that emits RFC 9211 Cache-Status is read too, and a site
// can name its own header (Options.ExtraHeaders), whose values are read with
// the same vocabulary as X-Cache.
//
// When a response carries several of these headers, the most specific one
// wins: a header named in Options.ExtraHeaders, then the vendor headers
// (Cf-Cache-Status, X-Vercel-Cache, CDN-Cache, Akamai-Cache-Status,
// Cache-Status, X-Cache-Status, X-Proxy-Cache), then X-Cache, then X-Varnish
// transaction ids, then Traffic Server's codes in Via, then Age (except
// from Traffic Server, which sends Age: 1 on fresh fetches). One
// exception keeps the client-facing answer: when side headers show that
// X-Cache belongs to an edge CDN (Fastly, CloudFront, Akamai, Azure, KeyCDN,
// CDN77), X-Cache outranks the Cache-Status and X-Cache-Status an origin
// cache behind it leaked through.
// A header whose client-facing value says nothing (Cloudflare NONE,
// CloudFront Error, Traffic Server none, a malformed Cache-Status) is
// skipped in favour of the next one.
//
// Layers are listed origin-side first and client-facing last, whatever order
// the header itself uses (Akamai-Cache-Status names the child first), and
// Result.Status is always the last layer's status.
package cachestatus
