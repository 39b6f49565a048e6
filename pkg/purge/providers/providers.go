// Package providers is the registry of purge providers: one explicit
// switch, no init-time registration, so the set of providers a binary
// carries is visible in one place.
package providers

import (
	"fmt"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/purge/fastly"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

// names lists the providers in the order help text shows them.
var names = []string{cloudflare.Name, fastly.Name, "http-purge"}

// Names returns the provider names New accepts.
func Names() []string { return append([]string(nil), names...) }

// New builds the provider cfg.Provider names.
func New(cfg purge.Config, deps purge.Deps) (purge.Provider, error) {
	switch cfg.Provider {
	case cloudflare.Name:
		return cloudflare.New(cfg, deps)
	case fastly.Name:
		return fastly.New(cfg, deps)
	case "http-purge":
		return httppurge.New(cfg, deps)
	case "":
		return nil, fmt.Errorf("purge: no CDN provider configured for environment %q: set cdn.provider to one of %s", cfg.Environment, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("purge: unknown provider %q for environment %q: want one of %s", cfg.Provider, cfg.Environment, strings.Join(names, ", "))
}

// Factory returns New as a purge.Factory.
func Factory() purge.Factory { return New }
