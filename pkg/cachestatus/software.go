package cachestatus

import (
	"net/http"
	"strings"
)

// Software names the CDN or caching proxy that answered, from the headers
// it adds to every answer, including refusals and answers without a cache
// status (Server, Via, X-Varnish, X-Squid-Error): one of the CDN names of
// Result.CDN, or "" when nothing identifies it.
func Software(h http.Header) string {
	if c := detectCDN(h); c != "" {
		return c
	}
	server := strings.TrimSpace(h.Get("Server"))
	switch {
	case hasPrefixFold(server, "Varnish"):
		return CDNVarnish
	case hasPrefixFold(server, "nginx"), hasPrefixFold(server, "openresty"):
		return CDNNginx
	}
	return ""
}

// EnableHint says how to make a cache report whether it served an answer,
// for a response whose status could not be read (UNKNOWN): the header to
// turn on for the software Software named, or how to name a site's own
// header when it is none of the caching proxies cachectl knows.
func EnableHint(software string) string {
	switch software {
	case CDNVarnish:
		return "Varnish: keep the X-Varnish header (do not unset it in vcl_deliver), or set X-Cache there: if (obj.hits > 0) { set resp.http.X-Cache = \"HIT\"; } else { set resp.http.X-Cache = \"MISS\"; }"
	case CDNNginx:
		return "nginx: add_header X-Cache-Status $upstream_cache_status always; next to proxy_cache"
	case CDNSquid:
		return "Squid: it sends X-Cache (5.x) or Cache-Status (6.x) unless reply_header_access removes it; drop that reply_header_access line from squid.conf"
	case CDNTrafficServer:
		return "Traffic Server: set proxy.config.http.insert_response_via_str to 2 in records.config (cache codes in Via), or load the xdebug plugin and send X-Debug: X-Cache (environments.NAME.headers)"
	}
	return "name the site's own cache status header with --cache-header or cache_headers in the config"
}
