package probe

import (
	"net/http"

	"github.com/cachectl/cachectl/pkg/analyze/finding"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// Variant is the kind of visitor a probe impersonates.
type Variant string

// The two variants.
const (
	Anonymous Variant = "anonymous"
	LoggedIn  Variant = "logged_in"
)

// Timing holds the phases of one request in milliseconds.
type Timing struct {
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	TLS     float64 `json:"tls"`
	TTFB    float64 `json:"ttfb"`
	Total   float64 `json:"total"`
}

// Hop is one redirect that was followed.
type Hop struct {
	URL        string `json:"url"`
	StatusCode int    `json:"status_code"`
	Location   string `json:"location"`
}

// Result is the outcome of one probe: one request for one URL as one variant.
type Result struct {
	// URL is the URL requested (the first one when redirects were followed).
	URL string `json:"url"`
	// Variant is the visitor kind.
	Variant Variant `json:"variant"`
	// Seq numbers repeated probes of the same URL and variant, from 1.
	Seq int `json:"seq,omitempty"`
	// Method is the request method.
	Method string `json:"method"`
	// StatusCode is the final response's status code; 0 when the request failed.
	StatusCode int `json:"status_code"`
	// Location is the redirect target of a 3xx response that was not followed.
	Location string `json:"location,omitempty"`
	// Redirects lists the hops followed with --follow.
	Redirects []Hop `json:"redirects,omitempty"`
	// FinalURL is the URL of the final response when redirects were followed.
	FinalURL string `json:"final_url,omitempty"`
	// Cache is the normalized cache status.
	Cache cachestatus.Result `json:"cache"`
	// CacheControl is the Cache-Control response header.
	CacheControl string `json:"cache_control"`
	// CDNCacheControl holds CDN-only cache directives (CDN-Cache-Control, Surrogate-Control, ...) by header name.
	CDNCacheControl map[string]string `json:"cdn_cache_control,omitempty"`
	// Vary is the Vary response header.
	Vary string `json:"vary"`
	// SetCookie reports whether the response set a cookie; values are never kept.
	SetCookie bool `json:"set_cookie"`
	// ETag and LastModified are the validators.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Expires is the Expires response header.
	Expires string `json:"expires,omitempty"`
	// RequestHeaders are the request headers sent that shape the cache
	// variant; Cookie shows as "<redacted>". Results of one Prober may share
	// the map: read it, never change it.
	RequestHeaders map[string]string `json:"request_headers,omitempty"`
	// BodyBytes is the body size read (capped); BodySHA256 its hash, used to spot personalization.
	BodyBytes  int64  `json:"body_bytes"`
	BodySHA256 string `json:"body_sha256,omitempty"`
	// Timing is the request's phases in milliseconds.
	Timing Timing `json:"timing_ms"`
	// ServerTiming holds the response's Server-Timing metrics (header and
	// trailer) by name: the origin's own (db, app, ...) and the CDN's
	// (cfEdge, cdn-upstream-fbl, ...). On a cache hit the origin's are the
	// ones stored with the cached copy.
	ServerTiming servertiming.Set `json:"server_timing,omitempty"`
	// ServerTimingProblems are the Server-Timing metrics left out as
	// malformed. Not serialized: package analyze reports them as a finding.
	ServerTimingProblems []servertiming.Problem `json:"-"`
	// Findings are filled by package analyze.
	Findings []finding.Finding `json:"findings"`
	// Error says why the probe failed; empty on success.
	Error string `json:"error,omitempty"`

	// Header is the final response's header with Set-Cookie values removed. Not serialized.
	Header http.Header `json:"-"`
}
