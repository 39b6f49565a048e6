package cachestatus

// Status is the normalized cache status of a response.
type Status string

// The normalized statuses. Their meaning is documented in the README and in
// the package documentation.
const (
	HIT         Status = "HIT"
	MISS        Status = "MISS"
	EXPIRED     Status = "EXPIRED"
	STALE       Status = "STALE"
	UPDATING    Status = "UPDATING"
	REVALIDATED Status = "REVALIDATED"
	BYPASS      Status = "BYPASS"
	DYNAMIC     Status = "DYNAMIC"
	UNKNOWN     Status = "UNKNOWN"
)

// Layer is the status one cache layer reported (an edge, a shield, a parent,
// one member of an RFC 9211 Cache-Status list).
type Layer struct {
	// Name identifies the cache when the header names it (RFC 9211 member
	// name, Fastly POP, Akamai "child"/"parent"); empty otherwise.
	Name string `json:"name,omitempty"`
	// Status is this layer's normalized status.
	Status Status `json:"status"`
	// Raw is the layer's value as the header carried it.
	Raw string `json:"raw"`
	// Detail holds extra facts the header gave (RFC 9211 ttl, fwd-status, detail, ...).
	Detail map[string]string `json:"detail,omitempty"`
}

// Result is what a response's headers say about caching.
type Result struct {
	// Status is the client-facing layer's status.
	Status Status `json:"status"`
	// Source is the canonical name of the header the status was read from
	// ("Cf-Cache-Status", "Cache-Status", "Age", ...); empty when UNKNOWN.
	Source string `json:"source"`
	// Raw is the full value of the Source header.
	Raw string `json:"raw,omitempty"`
	// Layers lists every layer, origin-side first and the client-facing layer last.
	Layers []Layer `json:"layers"`
	// AgeS is the Age header in seconds, nil when absent or invalid.
	AgeS *int64 `json:"age_s"`
	// CDN names the detected CDN or cache ("cloudflare", "fastly", "varnish", ...); empty when unknown.
	CDN string `json:"cdn,omitempty"`
}
