package bunny

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry. Bunny needs only the shared
// keys: the API key (api_token_env or api_token_file) and, for tests and
// gateways, api_url.
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Secret:       secretNeed,
	Capabilities: capabilities,
	Limits:       limits,
	Hint:         hint,
	New:          New,
})

// Settings are the provider's own keys: none.
type Settings struct{}

var (
	secretNeed = purge.Secret{Kind: purge.SecretAPIToken, Grants: "the account's API key (sent as AccessKey)"}
	// capabilities: URL and prefix (a URL with a trailing *).
	capabilities = []purge.Capability{purge.CapURL, purge.CapPrefix}
)

// Bunny's purge buckets, per account (its "Purge Rate Limits" page): exact
// purges 120 at once, then 5 a second; wildcard purges 20 at once, then
// one every 2 seconds.
const (
	exactBurst    = 120
	exactRate     = 5
	wildcardBurst = 20
	wildcardRate  = 0.5
)

// limits are Bunny's buckets. A URL whose path ends in "/" is a wildcard
// purge in Bunny's count even though cachectl purges only that page
// (exactPath), so it takes a wildcard token.
func limits(Settings) (*purge.Limits, error) {
	return &purge.Limits{
		URLs:    purge.UnderLimit(exactRate, exactBurst),
		Bulk:    purge.UnderLimit(rate.Limit(wildcardRate), wildcardBurst),
		BulkURL: isWildcard,
	}, nil
}

// isWildcard reports whether Bunny counts a purge of u as a wildcard
// purge: a * anywhere, or a path ending in "/".
func isWildcard(u string) bool {
	if strings.Contains(u, "*") {
		return true
	}
	p, err := url.Parse(u)
	return err == nil && strings.HasSuffix(p.Path, "/")
}

// hint says what to do about a refusal: fix the key, or the pace.
func hint(ae *purge.APIError, _ purge.Kind, cfg purge.Config, _ Settings) string {
	switch ae.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("check the API key in %s: it must be the account's API key, not a storage zone password; retrying will not help until it is fixed", cfg.TokenSource())
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Bunny allows %d exact purges, then %d a second, and %d wildcard purges, then one every %g seconds", exactBurst, exactRate, wildcardBurst, 1/wildcardRate)
	}
	return ""
}
