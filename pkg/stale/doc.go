// Package stale finds the pages a CDN serves from a copy older than the
// origin's current version — the pages an edit affected and a purge has not
// reached yet.
//
// For each URL it fetches the copy the edge serves, as an anonymous visitor,
// and reads its normalized cache status (package cachestatus). A response
// the edge did not serve from its stored copy — MISS, EXPIRED, REVALIDATED,
// BYPASS, DYNAMIC — came from the origin for this very request, so it is not
// stale and the origin is not asked. HIT, STALE and UPDATING are compared;
// so is UNKNOWN (no header said what the edge did), and the reason then ends
// in UnknownStatusNote.
//
// The origin is reached without the CDN at Options.Origin, with the URL's
// path and query and, like a CDN sends it, the URL's own Host (or
// Options.OriginHost). The request carries the edge copy's validators —
// If-None-Match with its ETag (the opaque tag of an ETag the edge weakened)
// and If-Modified-Since with its Last-Modified — so an unchanged page costs
// a 304 and no body. Both requests send the same Accept-Encoding (gzip by
// default); gzip and deflate bodies are decoded, identity passes through.
//
// # Reasons
//
// Result.Reason names the signal that decided, tried in this order:
//
//	not cached at edge                                 not stale: the edge did not serve a stored copy
//	origin answered 304 to the edge copy's validators  not stale
//	status differs                                     stale: the origin answers another status code
//	location differs                                   stale: both redirect, elsewhere
//	etag differs / etag matches                        both ETags strong: stale / not stale
//	last-modified newer at origin                      stale
//	body differs / body matches                        normalized decoded bodies: stale / not stale
//	stored before last-modified at origin              bodies not comparable; edge Date minus Age
//	stored after last-modified at origin                 against the origin's Last-Modified
//	not comparable                                     no signal decided; not reported stale
//
// A body is not comparable when it is larger than Options.BodyLimit (before
// or after decoding) or its Content-Encoding cannot be decoded. An origin
// that answers 401, 403, 407, 429 or 5xx where the edge copy has another
// status gives no verdict: Result.Error says so, as it does when either side
// cannot be reached.
//
// # Ignore patterns
//
// Pages carry bytes that change on every render or that the edge injects,
// which would make every page look stale. Options.Ignore lists RE2 patterns
// (package regexp) whose matches are removed from both bodies before they
// are hashed; Options.URLIgnore adds patterns for particular URLs (a route's
// own), applied to that URL after the shared ones. Bodies are streamed and
// never held whole, so the patterns are
// applied line by line: a pattern sees one line without its "\n" (^ and $
// match at its ends) and cannot match across lines; a line longer than
// Options.LineLimit (1 MiB) is matched in pieces of that size. Result.Ignored
// counts each pattern's matches per side. Typical patterns:
//
//	render time stamps      <span class="rendered">[^<]*</span>
//	                        <!-- generated in [0-9.]+ ?ms -->
//	CSRF tokens and nonces  name="csrfmiddlewaretoken" value="[^"]*"
//	                        <meta name="csrf-token" content="[^"]*">
//	                        nonce="[^"]*"
//	Cloudflare email        /cdn-cgi/l/email-protection#[0-9a-f]+
//	obfuscation             data-cfemail="[0-9a-f]+"
//	                        <script[^>]*/cdn-cgi/scripts/[^>]*email-decode\.min\.js"></script>
//	Cloudflare beacon and   <script[^>]*static\.cloudflareinsights\.com/beacon\.min\.js[^>]*></script>
//	Rocket Loader           type="[0-9a-f]+-text/javascript"
//	analytics               <script[^>]*googletagmanager\.com/gtag/js[^>]*></script>
//	ads                     <ins class="adsbygoogle"[^>]*>
//	cache-busting queries   \?v=[0-9a-f]+
package stale
