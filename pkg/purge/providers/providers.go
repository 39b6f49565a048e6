// Package providers is the registry of purge providers: one list of
// Specs, no init-time registration, so the set of providers a binary
// carries is visible in one place. Adding a provider is one package that
// declares a purge.Spec and one line in all.
package providers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/akamai"
	"github.com/cachectl/cachectl/pkg/purge/bunny"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/purge/cloudfront"
	"github.com/cachectl/cachectl/pkg/purge/fastly"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

// all lists the providers in the order help text and messages show them.
var all = []purge.Spec{
	cloudflare.Spec,
	fastly.Spec,
	httppurge.Spec,
	cloudfront.Spec,
	akamai.Spec,
	bunny.Spec,
}

// Names returns the provider names, in registry order.
func Names() []string {
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the Spec of the provider called name.
func Lookup(name string) (purge.Spec, bool) {
	i := slices.IndexFunc(all, func(s purge.Spec) bool { return s.Name == name })
	if i < 0 {
		return purge.Spec{}, false
	}
	return all[i], true
}

// Keys returns every key a cdn section may hold: the shared keys, then
// each provider's own in registry order, without repeats.
func Keys() []string {
	keys := purge.CommonKeys()
	for _, s := range all {
		for _, k := range s.Keys() {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// RequiredKeys returns the keys some provider cannot work without; one of
// them set without cdn.provider means the provider was forgotten.
func RequiredKeys() []string {
	var keys []string
	for _, s := range all {
		keys = append(keys, s.Required()...)
	}
	return keys
}

// Find returns the Spec cfg.Provider names, with an error for environment
// cfg.Environment that lists the known providers when there is none.
func Find(cfg purge.Config) (purge.Spec, error) {
	if cfg.Provider == "" {
		return purge.Spec{}, fmt.Errorf("purge: no CDN provider configured for environment %q: set cdn.provider to one of %s", cfg.Environment, strings.Join(Names(), ", "))
	}
	spec, ok := Lookup(cfg.Provider)
	if !ok {
		return purge.Spec{}, fmt.Errorf("purge: unknown provider %q for environment %q: want one of %s", cfg.Provider, cfg.Environment, strings.Join(Names(), ", "))
	}
	return spec, nil
}
