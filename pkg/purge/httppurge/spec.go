package httppurge

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry. Cache nodes take purges from
// the machines their configuration allows, so no secret is needed, and
// publish no rate limits: only cdn.rate throttles. Capabilities lists all
// the provider can do; tags and prefixes only where the environment's cdn
// section enables them (Provider.Capabilities, Provider.Refuse).
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Required:     []string{"endpoints"},
	Capabilities: []purge.Capability{purge.CapURL, purge.CapURLHeaders, purge.CapTag, purge.CapPrefix, purge.CapSoft},
	Validate:     validate,
	Hint:         hint,
	New:          New,
})

// TagsXkey is the cdn.tags value for Varnish's xkey module.
const TagsXkey = "xkey"

// PrefixBan is the cdn.prefix value for Varnish bans.
const PrefixBan = "ban"

// Settings are the provider's own keys in an environment's cdn section.
type Settings struct {
	// BatchSize is URLs per batch (default 50); the nodes take one request
	// per URL, so it only sets how much is journaled at once.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size,omitempty" json:"batch_size,omitzero"`
	// Endpoints are the cache nodes, e.g. http://10.0.0.5:6081, or the URL
	// of a node's purge location, e.g. http://10.0.0.5:8080/purge.
	Endpoints []string `mapstructure:"endpoints" yaml:"endpoints,omitempty" json:"endpoints,omitzero"`
	// Method is the purge request method (default PURGE).
	Method string `mapstructure:"method" yaml:"method,omitempty" json:"method,omitzero"`
	// Tags enables --tag: "xkey" sends Varnish xkey's xkey-purge header
	// (xkey-softpurge with --soft); any other value is the name of the
	// request header the cache reads space-separated tags from.
	Tags string `mapstructure:"tags" yaml:"tags,omitempty" json:"tags,omitzero"`
	// Prefix enables --prefix: "ban" sends a BAN with X-Host and X-Url
	// regular expressions, for a VCL that turns them into a ban.
	Prefix string `mapstructure:"prefix" yaml:"prefix,omitempty" json:"prefix,omitzero"`
}

// method is the request method purges are sent with.
func (s Settings) method() string {
	if m := strings.TrimSpace(s.Method); m != "" {
		return strings.ToUpper(m)
	}
	return DefaultMethod
}

// tags is cdn.tags, "xkey" in lower case.
func (s Settings) tags() string {
	t := strings.TrimSpace(s.Tags)
	if strings.EqualFold(t, TagsXkey) {
		return TagsXkey
	}
	return t
}

// prefixBan reports whether cdn.prefix enables bans.
func (s Settings) prefixBan() bool { return strings.EqualFold(strings.TrimSpace(s.Prefix), PrefixBan) }

var (
	methodRE = regexp.MustCompile(`^[A-Z]+$`)
	headerRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
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
	return append(ps, validateTagsPrefix(s)...)
}

// validateTagsPrefix checks the keys that enable tag and prefix purges.
func validateTagsPrefix(s Settings) []purge.Problem {
	var ps []purge.Problem
	if t := s.tags(); t != "" && !headerRE.MatchString(t) {
		ps = append(ps, purge.Problem{Key: "tags", Value: strconv.Quote(s.Tags), Expected: "xkey or the name of the request header the cache reads tags from"})
	}
	if p := strings.TrimSpace(s.Prefix); p != "" && !s.prefixBan() {
		ps = append(ps, purge.Problem{Key: "prefix", Value: strconv.Quote(s.Prefix), Expected: "ban (a Varnish BAN, with the VCL in configs/varnish-xkey.vcl)"})
	}
	return ps
}

// hint says how to let purges through when a node refuses them, in the
// configuration of the cache that answered.
func hint(ae *purge.APIError, _ purge.Kind, _ purge.Config, s Settings) string {
	if ae.Status != http.StatusUnauthorized && ae.Status != http.StatusForbidden && ae.Status != http.StatusMethodNotAllowed {
		return ""
	}
	m := s.method()
	switch ae.Server {
	case cachestatus.CDNVarnish:
		return "Varnish refused " + m + " from this machine: add its address to the acl that vcl_recv checks before return (purge)"
	case cachestatus.CDNSquid:
		return "Squid refused " + m + " from this machine: in squid.conf, acl purge method PURGE and http_access allow localhost purge (this machine's address) before http_access deny purge"
	case cachestatus.CDNTrafficServer:
		return "Traffic Server refused " + m + " from this machine: allow the method for its address in ip_allow.yaml (methods: [GET, HEAD, POST, PURGE])"
	case cachestatus.CDNNginx:
		return "nginx refused " + m + " from this machine: add its address to allow in the purge location (allow 127.0.0.1; deny all;), or proxy_cache_purge ... from its address"
	}
	return "the node does not accept " + m + " from this machine; allow it in the cache's configuration (Varnish: the purge acl in vcl_recv; Squid: http_access allow ... purge; Traffic Server: ip_allow.yaml; nginx: allow in the purge location)"
}
