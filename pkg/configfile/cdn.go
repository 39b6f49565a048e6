package configfile

import (
	"fmt"
	"net/url"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge/akamai"
	"github.com/cachectl/cachectl/pkg/purge/bunny"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/purge/cloudfront"
	"github.com/cachectl/cachectl/pkg/purge/fastly"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

// CDN is what `cachectl init` writes about the CDN or cache it detected:
// a cdn section with the provider guessed, active when every key it needs
// could be filled in, commented out with placeholders otherwise.
type CDN struct {
	// Detected names the CDN or cache (cachestatus.CDN... names), "" when
	// no header identified one; Header is the header that told.
	Detected string
	Header   string
	// Provider is the purge provider (cdn.provider), "" when cachectl has
	// none for it.
	Provider string
	// Keys are the cdn section's keys after provider, in order; secrets
	// are the names of the variables holding them (*_env), never values.
	Keys [][2]string
	// Active is false when a key needs a value only the user knows (a
	// zone or service id): the section is then written as a comment.
	Active bool
	// Notes explain the section, one comment line each.
	Notes []string
}

// caches are the caching proxies http-purge reaches with PURGE requests.
var caches = map[string]string{
	cachestatus.CDNVarnish:       "Varnish",
	cachestatus.CDNNginx:         "nginx (with the cache purge module)",
	cachestatus.CDNSquid:         "Squid",
	cachestatus.CDNTrafficServer: "Apache Traffic Server",
	cachestatus.CDNSouin:         "Souin",
}

// GuessCDN says what to write for a site whose responses came from
// detected (as the header named it) at baseURL.
func GuessCDN(detected, header, baseURL string) CDN {
	c := CDN{Detected: detected, Header: header}
	switch detected {
	case cachestatus.CDNCloudflare:
		c.Provider, c.Keys = cloudflare.Name, [][2]string{
			{"zone_id", "0123456789abcdef0123456789abcdef   # TODO: the zone id (Cloudflare dashboard → the site → Overview)"},
			{"api_token_env", "CLOUDFLARE_API_TOKEN   # the variable holding a token with Zone → Cache Purge → Purge"},
		}
		c.Notes = []string{fmt.Sprintf("Detected Cloudflare (%s). Fill in the zone id and uncomment to purge through its API.", header)}
	case cachestatus.CDNFastly:
		c.Provider, c.Keys = fastly.Name, [][2]string{
			{"service_id", "TODO   # the service id (Fastly dashboard → the service)"},
			{"api_token_env", "FASTLY_API_TOKEN   # the variable holding a token with the purge_select scope"},
		}
		c.Notes = []string{fmt.Sprintf("Detected Fastly (%s). Fill in the service id and uncomment to purge through its API.", header)}
	case cachestatus.CDNCloudFront:
		c.Provider, c.Keys = cloudfront.Name, [][2]string{
			{"distribution_id", "E2QWRUHAPOMQZL   # TODO: the distribution id (CloudFront console → Distributions)"},
		}
		c.Notes = []string{fmt.Sprintf("Detected Amazon CloudFront (%s). Fill in the distribution id and uncomment to purge through invalidations; credentials come from the AWS SDK's default chain.", header)}
	case cachestatus.CDNAkamai:
		c.Provider, c.Keys = akamai.Name, [][2]string{
			{"edgerc", "~/.edgerc   # the .edgerc file holding the API client's credentials (never this file)"},
			{"edgerc_section", "default   # TODO: the section of an API client granted CCU APIs, READ-WRITE"},
			{"network", "production   # or staging"},
		}
		c.Notes = []string{fmt.Sprintf("Detected Akamai (%s). Check the .edgerc section and uncomment to purge through Fast Purge.", header)}
	case cachestatus.CDNBunny:
		c.Provider, c.Keys = bunny.Name, [][2]string{
			{"api_token_env", "BUNNY_API_KEY   # the variable holding the account's API key"},
		}
		c.Notes = []string{fmt.Sprintf("Detected Bunny (%s). Set the API key variable and uncomment to purge through its API.", header)}
	case "":
		c.Notes = []string{"No CDN or cache was recognized from the response headers; see `cachectl purge --help` for the providers."}
	default:
		if name, ok := caches[detected]; ok {
			return proxyCDN(c, name, baseURL)
		}
		c.Notes = []string{fmt.Sprintf("Detected %s (%s); cachectl has no purge provider for it: inspect, verify and diff work, purge does not.", detected, header)}
	}
	return c
}

// proxyCDN purges a caching proxy with PURGE requests sent to the node
// that answered at the base URL.
func proxyCDN(c CDN, name, baseURL string) CDN {
	node := baseURL
	if u, err := url.Parse(baseURL); err == nil {
		node = u.Scheme + "://" + u.Host
	}
	c.Provider, c.Active = httppurge.Name, true
	c.Keys = [][2]string{{"endpoints", flowList(node)}}
	c.Notes = []string{
		fmt.Sprintf("Detected %s (%s): purges are PURGE requests to every cache node in endpoints,", name, c.Header),
		"which must accept them from where cachectl runs. The node that answered is listed; add the others.",
	}
	return c
}
