package fastly

import (
	"fmt"
	"net/http"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry. Fastly publishes no purge
// rate limits beyond its general API limit, so only cdn.rate throttles.
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Required:     []string{"service_id"},
	Secret:       secretNeed,
	Capabilities: capabilities,
	Validate:     validate,
	Hint:         hint,
	New:          New,
})

// Settings are the provider's own keys in an environment's cdn section.
type Settings struct {
	// ServiceID is the Fastly service to purge.
	ServiceID string `mapstructure:"service_id" yaml:"service_id,omitempty" json:"service_id,omitzero"`
}

var (
	secretNeed = purge.Secret{Kind: purge.SecretAPIToken, Grants: "the purge_select scope (purge_all for --everything)"}
	// capabilities: URL, tag (surrogate key), everything and soft. A URL
	// purge removes every variant Fastly keeps of the URL (its cache key is
	// host and path; Vary variants share the entry).
	capabilities = []purge.Capability{purge.CapURL, purge.CapTag, purge.CapEverything, purge.CapSoft, purge.CapURLAllVariants}
)

func validate(s Settings) []purge.Problem {
	if s.ServiceID == "" {
		return []purge.Problem{{Key: "service_id", Expected: "the Fastly service id (missing)"}}
	}
	return nil
}

// hint says which scope a refused token lacks: purge_all for a purge of
// everything, purge_select for the rest; and that purge-all, unlike URL
// and key purges, counts against the hourly limit of API writes.
func hint(ae *purge.APIError, kind purge.Kind, cfg purge.Config, s Settings) string {
	if ae.Status == http.StatusTooManyRequests && kind == purge.KindEverything {
		return "purge-all counts against the account's API writes an hour (1,000 by default); URL and key purges do not"
	}
	if ae.Status != http.StatusUnauthorized && ae.Status != http.StatusForbidden {
		return ""
	}
	scope := "purge_select"
	if kind == purge.KindEverything {
		scope = "purge_all"
	}
	return fmt.Sprintf("check the API token in %s: it needs the %s scope on service %s; retrying will not help until the token is fixed", cfg.TokenSource(), scope, s.ServiceID)
}
