package httppurge

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry. Cache nodes take purges from
// the machines their configuration allows, so no secret is needed, and
// publish no rate limits: only cdn.rate throttles.
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Required:     []string{"endpoints"},
	Capabilities: capabilities,
	Validate:     validate,
	Hint:         hint,
	New:          New,
})

// Settings are the provider's own keys in an environment's cdn section.
type Settings struct {
	// BatchSize is URLs per batch (default 50); the nodes take one request
	// per URL, so it only sets how much is journaled at once.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size,omitempty" json:"batch_size,omitzero"`
	// Endpoints are the cache nodes, e.g. http://10.0.0.5:6081.
	Endpoints []string `mapstructure:"endpoints" yaml:"endpoints,omitempty" json:"endpoints,omitzero"`
	// Method is the purge request method (default PURGE).
	Method string `mapstructure:"method" yaml:"method,omitempty" json:"method,omitzero"`
}

// method is the request method purges are sent with.
func (s Settings) method() string {
	if m := strings.TrimSpace(s.Method); m != "" {
		return strings.ToUpper(m)
	}
	return DefaultMethod
}

var (
	// capabilities: URLs, with or without cache-key headers; a purge
	// request names exactly one cache entry, and carries the request
	// headers the node's cache key is made of.
	capabilities = []purge.Capability{purge.CapURL, purge.CapURLHeaders}
	methodRE     = regexp.MustCompile(`^[A-Z]+$`)
)

func validate(s Settings) []purge.Problem {
	var ps []purge.Problem
	if len(s.Endpoints) == 0 {
		ps = append(ps, purge.Problem{Key: "endpoints", Expected: "at least one cache node URL such as http://127.0.0.1:6081 (missing)"})
	}
	for i, e := range s.Endpoints {
		if err := purge.CheckBaseURL(e); err != nil {
			ps = append(ps, purge.Problem{Key: fmt.Sprintf("endpoints[%d]", i), Value: strconv.Quote(e), Expected: err.Error()})
		}
	}
	if s.Method != "" && !methodRE.MatchString(s.Method) {
		ps = append(ps, purge.Problem{Key: "method", Value: strconv.Quote(s.Method), Expected: "an upper-case HTTP method such as PURGE or BAN"})
	}
	return ps
}

// hint says how to let purges through when a node refuses them.
func hint(ae *purge.APIError, _ purge.Kind, _ purge.Config, s Settings) string {
	switch ae.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the node does not accept " + s.method() + " from this machine or these credentials; allow it in the cache's configuration (Varnish: the purge ACL in vcl_recv)"
	case http.StatusMethodNotAllowed:
		return "the node does not accept " + s.method() + " from this machine; allow it in the cache's configuration (Varnish: an ACL in vcl_recv)"
	}
	return ""
}
