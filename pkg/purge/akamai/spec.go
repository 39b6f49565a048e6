package akamai

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry. Its credentials come from
// an .edgerc file its own keys name, read when the provider is built.
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Secret:       purge.Secret{Kind: purge.SecretNone, Grants: grantHint},
	Capabilities: capabilities,
	Validate:     validate,
	Limits:       limits,
	Hint:         hint,
	New:          New,
})

// Settings are the provider's own keys in an environment's cdn section.
type Settings struct {
	// Edgerc is the .edgerc file holding the API client's credentials
	// (default ~/.edgerc; ~ is $HOME).
	Edgerc string `mapstructure:"edgerc" yaml:"edgerc,omitempty"`
	// Section is the file's section (default "default").
	Section string `mapstructure:"edgerc_section" yaml:"edgerc_section,omitempty"`
	// Network is production (the default) or staging: the staging
	// network is where an Akamai property's staging version is served.
	Network string `mapstructure:"network" yaml:"network,omitempty"`
	// CPCodes are what --everything purges: the CP codes of the site's
	// content (at most 300, Fast Purge's bucket of CP codes).
	CPCodes []int `mapstructure:"cp_codes" yaml:"cp_codes,omitempty"`
}

const grantHint = "the CCU APIs grant (Fast Purge), READ-WRITE"

var (
	// capabilities: URL, cache tag, everything (the configured CP codes)
	// and delete instead of invalidate. Everything needs cp_codes.
	capabilities = []purge.Capability{purge.CapURL, purge.CapTag, purge.CapEverything, purge.CapDelete}
	networks     = []string{NetworkProduction, NetworkStaging}
)

func validate(s Settings) []purge.Problem {
	var ps []purge.Problem
	if s.Network != "" && !slices.Contains(networks, s.Network) {
		ps = append(ps, purge.Problem{Key: "network", Value: strconv.Quote(s.Network), Expected: "production or staging (default production)"})
	}
	if strings.ContainsAny(s.Section, "[]\r\n") {
		ps = append(ps, purge.Problem{Key: "edgerc_section", Value: strconv.Quote(s.Section), Expected: "the name of an .edgerc section, without brackets (default \"default\")"})
	}
	if len(s.CPCodes) > MaxCPCodes {
		ps = append(ps, purge.Problem{Key: "cp_codes", Value: strconv.Itoa(len(s.CPCodes)) + " CP codes", Expected: fmt.Sprintf("at most %d CP codes", MaxCPCodes)})
	}
	for i, c := range s.CPCodes {
		if c < 1 || slices.Index(s.CPCodes, c) < i {
			ps = append(ps, purge.Problem{Key: fmt.Sprintf("cp_codes[%d]", i), Value: strconv.Itoa(c), Expected: "a CP code: a positive number, listed once"})
		}
	}
	return ps
}

// limits are Fast Purge's token buckets, shared by every API client of
// the account: 100 requests, refilled at 50 a second, and 10,000 URLs,
// refilled at 12,000 a minute. Cache tags (5,000, 500 a minute) and CP
// codes (300, 30 a minute) are counted by the API; its 429 answers say
// how long until they are back, and the retrying client waits that long.
func limits(Settings) (*purge.Limits, error) {
	return &purge.Limits{
		Requests: purge.UnderLimit(50, 100),
		URLs:     purge.UnderLimit(200, MaxURLs),
	}, nil
}

// hint says what to do about a refusal: fix the API client's grants, the
// object's property, or the pace.
func hint(ae *purge.APIError, kind purge.Kind, _ purge.Config, s Settings) string {
	switch {
	case ae.Auth:
		return fmt.Sprintf("check the API client in section [%s] of %s: it needs %s for the %s network; retrying will not help until the credentials are fixed",
			orDefault(s.Section, DefaultSection), orDefault(s.Edgerc, DefaultEdgerc), grantHint, orDefault(s.Network, NetworkProduction))
	case ae.Status == http.StatusForbidden:
		return fmt.Sprintf("the API client may not purge this %s: it is on no property or CP code its grants cover", kind)
	case ae.Status == http.StatusTooManyRequests:
		return "Fast Purge allows an account 100 requests, then 50 a second, and 10,000 URLs, then 200 a second"
	case ae.Status == http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("a request body may hold at most %d bytes", MaxBodyBytes)
	}
	return ""
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
