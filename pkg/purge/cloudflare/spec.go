package cloudflare

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry.
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Required:     []string{"zone_id"},
	Secret:       secretNeed,
	Capabilities: capabilities,
	Validate:     validate,
	Limits:       planLimits,
	Hint:         hint,
	New:          New,
})

// Settings are the provider's own keys in an environment's cdn section.
type Settings struct {
	// ZoneID is the zone to purge: 32 lower-case hex characters.
	ZoneID string `mapstructure:"zone_id" yaml:"zone_id,omitempty" json:"zone_id,omitzero"`
	// BatchSize is URLs per request: by default the plan's documented
	// limit (100, 500 on Enterprise), at most 500.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size,omitempty" json:"batch_size,omitzero"`
	// Plan is the zone's plan (free, pro, business, enterprise); it sets
	// the rate-limit defaults.
	Plan string `mapstructure:"plan" yaml:"plan,omitempty" json:"plan,omitzero"`
}

var (
	secretNeed = purge.Secret{Kind: purge.SecretAPIToken, Grants: "the permission " + permissionHint}
	// capabilities: URL (with or without cache-key headers), tag, host,
	// prefix and everything. Cloudflare has no soft purge.
	capabilities = []purge.Capability{purge.CapURL, purge.CapURLHeaders, purge.CapTag, purge.CapHost, purge.CapPrefix, purge.CapEverything}
	zoneIDRE     = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func validate(s Settings) []purge.Problem {
	var ps []purge.Problem
	if !zoneIDRE.MatchString(s.ZoneID) {
		ps = append(ps, purge.Problem{Key: "zone_id", Value: strconv.Quote(s.ZoneID), Expected: "a Cloudflare zone id: 32 lower-case hex characters"})
	}
	if s.BatchSize < 0 || s.BatchSize > MaxBatchSize {
		ps = append(ps, purge.Problem{Key: "batch_size", Value: strconv.Itoa(s.BatchSize), Expected: "URLs per request between 1 and 500 (default: 100, or 500 on Enterprise)"})
	}
	if s.Plan != "" && !slices.ContainsFunc(plans, func(p plan) bool { return p.name == s.Plan }) {
		ps = append(ps, purge.Problem{Key: "plan", Value: strconv.Quote(s.Plan), Expected: "one of " + planNames(", ")})
	}
	return ps
}

// plan holds one Cloudflare plan's purge limits (reference: Cloudflare's
// "Purge cache" limits table).
type plan struct {
	name       string
	bulkRate   rate.Limit // tag/host/prefix/everything requests per second
	bulkBurst  int
	urlsPerSec int // moving-average URL throughput
}

var plans = []plan{
	{name: "free", bulkRate: rate.Every(12 * time.Second), bulkBurst: 25, urlsPerSec: 800},
	{name: "pro", bulkRate: 5, bulkBurst: 25, urlsPerSec: 1500},
	{name: "business", bulkRate: 10, bulkBurst: 50, urlsPerSec: 1500},
	{name: "enterprise", bulkRate: 50, bulkBurst: 500, urlsPerSec: 3000},
}

// planBatchSize is URLs per request as the plan's limits document them.
func planBatchSize(plan string) int {
	if strings.EqualFold(plan, "enterprise") {
		return MaxBatchSize
	}
	return DefaultBatchSize
}

func planNames(sep string) string {
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.name
	}
	return strings.Join(names, sep)
}

// Cloudflare's global API limit is 1,200 requests per five minutes per
// user. A bucket of 150 refilled at 3.5 a second never sends more in any
// five minutes (150 + 3.5 × 300 = 1,200), and sends a purge of up to 150
// requests at once.
const (
	apiRate  = rate.Limit(3.5)
	apiBurst = 150
)

// planLimits returns the buckets of the zone's plan (default free).
func planLimits(s Settings) (*purge.Limits, error) {
	name := strings.ToLower(s.Plan)
	if name == "" {
		name = "free"
	}
	i := slices.IndexFunc(plans, func(p plan) bool { return p.name == name })
	if i < 0 {
		return nil, fmt.Errorf("purge: unknown Cloudflare plan %q (expected free, pro, business or enterprise)", s.Plan)
	}
	p := plans[i]
	return &purge.Limits{
		Requests: purge.UnderLimit(apiRate, apiBurst),
		Bulk:     purge.UnderLimit(p.bulkRate, p.bulkBurst),
		URLs:     purge.UnderLimit(rate.Limit(p.urlsPerSec), p.urlsPerSec),
	}, nil
}

// hint says what to do about a refusal: fix the token, the zone or the
// batch size.
func hint(ae *purge.APIError, _ purge.Kind, cfg purge.Config, s Settings) string {
	switch ae.Code {
	case codeNotInZone:
		return "the URL's host is not part of zone " + s.ZoneID + "; check the environment's hosts and zone_id"
	case codeTooManyFiles:
		return "lower batch_size to the number of URLs a request the zone accepts"
	}
	if ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden || ae.Code == codeAuth {
		return fmt.Sprintf("check the API token in %s: it needs %s on zone %s; retrying will not help until the token is fixed", cfg.TokenSource(), secretNeed.Grants, s.ZoneID)
	}
	return ""
}
