package stale

import "github.com/cachectl/cachectl/pkg/cachestatus"

// Reason says which signal decided whether a URL is stale. The strings are
// stable: scripts match on them.
type Reason string

// Reasons for a copy that is not stale.
const (
	// NotCached: the edge did not serve its own stored copy without asking
	// the origin (MISS, EXPIRED, REVALIDATED, BYPASS, DYNAMIC), so what it
	// served is what the origin said at that moment. The origin is not asked.
	NotCached Reason = "not cached at edge"
	// NotModified: the origin answered 304 to the edge copy's ETag or
	// Last-Modified; no body was transferred.
	NotModified Reason = "origin answered 304 to the edge copy's validators"
	// ETagMatches: both sides sent the same strong ETag.
	ETagMatches Reason = "etag matches"
	// BodyMatches: the decoded bodies hash the same once the ignore patterns'
	// matches are removed.
	BodyMatches Reason = "body matches"
	// StoredAfterModified: the bodies could not be compared, and the edge
	// stored its copy after the origin's Last-Modified.
	StoredAfterModified Reason = "stored after last-modified at origin"
	// NotComparable: the bodies could not be compared and no date decides;
	// the copy is not reported stale.
	NotComparable Reason = "not comparable"
)

// Reasons for a stale copy, in the order they are tried.
const (
	// StatusDiffers: the origin now answers with another status code (a
	// cached 404 for a page published since, a page that was removed).
	StatusDiffers Reason = "status differs"
	// LocationDiffers: both sides redirect, to different places.
	LocationDiffers Reason = "location differs"
	// ETagDiffers: both sides sent strong ETags and they differ.
	ETagDiffers Reason = "etag differs"
	// LastModifiedNewer: the origin's Last-Modified is later than the edge copy's.
	LastModifiedNewer Reason = "last-modified newer at origin"
	// BodyDiffers: the normalized decoded bodies differ.
	BodyDiffers Reason = "body differs"
	// StoredBeforeModified: the bodies could not be compared, and the edge
	// stored its copy (its Date minus its Age) before the origin's Last-Modified.
	StoredBeforeModified Reason = "stored before last-modified at origin"
)

// UnknownStatusNote ends the reason of a copy whose cache status is UNKNOWN:
// nothing said whether the edge served it from its cache, so it was compared
// as if it had been.
const UnknownStatusNote = " (edge cache status unknown)"

// Result is the verdict on one URL.
type Result struct {
	// URL is the URL as given.
	URL string `json:"url"`
	// Stale reports whether the edge serves a copy older than the origin's.
	Stale bool `json:"stale"`
	// Reason names the signal that decided, with UnknownStatusNote appended
	// when the edge's cache status is UNKNOWN; empty when Error is set.
	Reason string `json:"reason"`
	// Edge is what the edge served.
	Edge Edge `json:"edge"`
	// Origin is what the origin answered; zero when it was not asked.
	Origin Origin `json:"origin"`
	// Ignored lists the ignore patterns that removed something from either body.
	Ignored []Ignored `json:"ignored,omitempty"`
	// Error says why no verdict was reached (edge or origin unreachable,
	// origin failing); empty otherwise.
	Error string `json:"error,omitempty"`
}

// Edge is the copy the edge served.
type Edge struct {
	StatusCode int `json:"status_code"`
	// Cache is the normalized cache status, as inspect reports it.
	Cache        cachestatus.Result `json:"cache"`
	ETag         string             `json:"etag,omitempty"`
	LastModified string             `json:"last_modified,omitempty"`
	// BodySHA256 hashes the decoded body after normalization; empty when the
	// body was not read or is not comparable.
	BodySHA256 string `json:"body_sha256,omitempty"`
	// NotComparable says why the body could not be compared.
	NotComparable string `json:"not_comparable,omitempty"`
	// AgeS is the Age header in seconds, nil when absent.
	AgeS *int64 `json:"age_s"`
	// StoredAt is when the edge stored the copy (Date minus Age, RFC 3339),
	// set when it decided the verdict.
	StoredAt string `json:"stored_at,omitempty"`
}

// Origin is the origin's current version.
type Origin struct {
	StatusCode   int    `json:"status_code"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// BodySHA256 hashes the decoded body after normalization; empty on a 304
	// or when the body is not comparable.
	BodySHA256 string `json:"body_sha256,omitempty"`
	// NotComparable says why the body could not be compared.
	NotComparable string `json:"not_comparable,omitempty"`
}

// Ignored is one ignore pattern that matched.
type Ignored struct {
	// Index is the pattern's position, from 0, in Options.Ignore followed
	// by the URL's own patterns from Options.URLIgnore.
	Index   int    `json:"index"`
	Pattern string `json:"pattern"`
	// Edge and Origin count the matches removed from each body.
	Edge   int `json:"edge"`
	Origin int `json:"origin"`
}
