package servertiming

import "strings"

// Part is where in a response's life a metric's time was spent.
type Part string

// The parts a response's time splits into.
const (
	// Network is the connection between the visitor and the edge.
	Network Part = "network"
	// Edge is time inside the CDN: lookup, edge compute, serving.
	Edge Part = "edge"
	// Origin is time at the origin or waiting on it, seen from the edge
	// or reported by the origin's application itself.
	Origin Part = "origin"
	// Database is the origin's time in its database.
	Database Part = "database"
	// Cache marks a metric that reports a cache status, not a time.
	Cache Part = "cache"
	// Info marks a metric that names something (a PoP, a request id).
	Info Part = "info"
)

// Known describes a metric name cachectl recognizes.
type Known struct {
	// CDN is the CDN that emits the metric ("cloudflare", "akamai",
	// "cloudfront"); empty for the origin's own metrics.
	CDN string
	// Part is where the metric's time was spent.
	Part Part
	// About says what the metric means, for people.
	About string
}

// cdnMetrics are the metrics CDNs add themselves, by exact name.
var cdnMetrics = map[string]Known{
	"cfCacheStatus": {CDN: "cloudflare", Part: Cache, About: "Cloudflare's cache status (desc)"},
	"cfEdge":        {CDN: "cloudflare", Part: Edge, About: "time spent in Cloudflare's edge"},
	"cfOrigin":      {CDN: "cloudflare", Part: Origin, About: "time Cloudflare waited on the origin (0 on a hit)"},
	"cfWorker":      {CDN: "cloudflare", Part: Edge, About: "time spent in a Cloudflare Worker"},
	"cfL4":          {CDN: "cloudflare", Part: Network, About: "the visitor's connection to Cloudflare: protocol, RTT, loss (desc)"},

	"cdn-cache": {CDN: "akamai", Part: Cache, About: "Akamai's cache status (desc: HIT, MISS, ...)"},
	"edge":      {CDN: "akamai", Part: Edge, About: "time spent at the Akamai edge"},
	"origin":    {CDN: "akamai", Part: Origin, About: "time Akamai waited on the origin"},

	"cdn-cache-hit":        {CDN: "cloudfront", Part: Cache, About: "CloudFront served the response from its cache"},
	"cdn-cache-miss":       {CDN: "cloudfront", Part: Cache, About: "CloudFront fetched the response from the origin"},
	"cdn-cache-refresh":    {CDN: "cloudfront", Part: Cache, About: "CloudFront revalidated its cached copy with the origin"},
	"cdn-upstream-dns":     {CDN: "cloudfront", Part: Origin, About: "CloudFront's DNS lookup of the origin"},
	"cdn-upstream-connect": {CDN: "cloudfront", Part: Origin, About: "CloudFront's connection to the origin"},
	"cdn-upstream-fbl":     {CDN: "cloudfront", Part: Origin, About: "first-byte latency from the origin to CloudFront"},
	"cdn-downstream-fbl":   {CDN: "cloudfront", Part: Edge, About: "time from the request reaching CloudFront to its first byte to the visitor"},
	"cdn-hit-layer":        {CDN: "cloudfront", Part: Cache, About: "the CloudFront layer that served the hit (desc: EDGE, REC, Origin Shield)"},
	"cdn-upstream-layer":   {CDN: "cloudfront", Part: Cache, About: "the CloudFront layer that went to the origin (desc: EDGE, REC, Origin Shield)"},
	"cdn-pop":              {CDN: "cloudfront", Part: Info, About: "the CloudFront point of presence (desc)"},
	"cdn-rid":              {CDN: "cloudfront", Part: Info, About: "CloudFront's request id (desc)"},
}

// databaseNames are metric names an origin commonly gives its database time.
var databaseNames = map[string]bool{
	"db": true, "database": true, "sql": true, "query": true, "queries": true,
	"sqlite": true, "mysql": true, "postgres": true, "postgresql": true, "pg": true,
	"mongo": true, "mongodb": true,
}

// Classify says what a metric name stands for: one of the CDN metrics
// above by exact name; else the origin's database time for the usual
// database names (db, sql, postgres, ..., case-insensitively); else the
// origin's own time.
func Classify(name string) Known {
	if k, ok := cdnMetrics[name]; ok {
		return k
	}
	if databaseNames[strings.ToLower(name)] {
		return Known{Part: Database, About: "the origin's database time"}
	}
	return Known{Part: Origin, About: "reported by the origin"}
}
