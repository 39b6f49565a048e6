// Package akamai purges Akamai's cache through the Fast Purge API (CCU v3):
// POST /ccu/v3/{invalidate|delete}/{url|tag|cpcode}/{network} with
// {"objects": [...]}, every attempt signed afresh with EdgeGrid. The API
// client's credentials come from an .edgerc file, never from flags or the
// configuration, and are registered with the run's scrubber.
//
// A request holds as many objects as fit in 50,000 bytes. An invalidation
// (the default) marks objects stale, so the next request revalidates with
// the origin; a deletion (--delete) evicts them. The API answers with its
// estimate of when the purge reaches every edge server, which --verify
// waits out before it probes.
package akamai

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/akamai/edgegrid"
	"github.com/cachectl/cachectl/pkg/secret"
)

// Name is the provider's registry name.
const Name = "akamai"

// Defaults and limits of the API.
const (
	// DefaultEdgerc is where the credentials are read from by default.
	DefaultEdgerc = "~/.edgerc"
	// DefaultSection is the .edgerc section read by default.
	DefaultSection = "default"
	// NetworkProduction and NetworkStaging are the networks a purge reaches.
	NetworkProduction = "production"
	NetworkStaging    = "staging"
	// MaxBodyBytes is the largest request body the API takes.
	MaxBodyBytes = 50_000
	// MaxURLs is the account's bucket of URLs: no request may hold more.
	MaxURLs = 10_000
	// MaxTags is the account's bucket of cache tags.
	MaxTags = 5_000
	// MaxCPCodes is the account's bucket of CP codes.
	MaxCPCodes = 300
	// MaxTagBytes is the longest cache tag.
	MaxTagBytes = 128
)

// Provider purges through one API client's Fast Purge access. It is safe
// for concurrent use.
type Provider struct {
	hc      *http.Client
	api     string
	signer  *edgegrid.Signer
	cfg     purge.Config
	s       Settings
	network string
	caps    []purge.Capability
	log     *slog.Logger
}

var _ purge.Provider = (*Provider)(nil)
var _ purge.Describer = (*Provider)(nil)

// New reads the API client's credentials from the .edgerc file s names
// (HOME from deps.LookupEnv for the default ~/.edgerc), registers them with
// deps.Secrets and builds the provider. cfg.APIURL replaces the file's
// host.
func New(cfg purge.Config, s Settings, deps purge.Deps) (*Provider, error) {
	if ps := validate(s); len(ps) > 0 {
		return nil, fmt.Errorf("akamai: %s: found %s, expected %s", ps[0].Key, ps[0].Value, ps[0].Expected)
	}
	path, err := edgercPath(s.Edgerc, deps.LookupEnv)
	if err != nil {
		return nil, err
	}
	section := orDefault(s.Section, DefaultSection)
	creds, err := edgegrid.ReadEdgerc(path, section)
	if err != nil {
		return nil, fmt.Errorf("akamai: edgerc: %w (expected host, client_token, client_secret and access_token in section [%s]; edgerc and edgerc_section name another file or section)", err, section)
	}
	for _, v := range []secret.Value{creds.ClientToken, creds.ClientSecret, creds.AccessToken} {
		deps.Secrets.Add(v)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o044 != 0 {
		deps.Log().Warn(fmt.Sprintf("akamai: %s is readable by other users (mode %s); run chmod 600 %s", path, st.Mode().Perm(), path))
	}
	api, err := cfg.BaseURL(Name, "https://"+creds.Host)
	if err != nil {
		return nil, err
	}
	caps := slices.DeleteFunc(slices.Clone(capabilities), func(c purge.Capability) bool {
		return c == purge.CapEverything && len(s.CPCodes) == 0
	})
	return &Provider{
		hc: deps.Client(), api: api, signer: &edgegrid.Signer{Credentials: creds}, cfg: cfg, s: s,
		network: orDefault(s.Network, NetworkProduction), caps: caps, log: deps.Log(),
	}, nil
}

// edgercPath resolves the .edgerc path, ~ being HOME.
func edgercPath(p string, lookup func(string) (string, bool)) (string, error) {
	p = orDefault(p, DefaultEdgerc)
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p, nil
	}
	home := ""
	if lookup != nil {
		home, _ = lookup("HOME")
	}
	if home == "" {
		return "", fmt.Errorf("akamai: edgerc %s: HOME is not set (expected HOME, or edgerc naming the file)", p)
	}
	return filepath.Join(home, rest), nil
}

// Name returns "akamai".
func (p *Provider) Name() string { return Name }

// Capabilities lists URL, tag and delete, and everything when cp_codes
// names the CP codes it purges.
func (p *Provider) Capabilities() []purge.Capability { return slices.Clone(p.caps) }

// BatchLimit is the account's bucket for the kind: 10,000 URLs or 5,000
// tags (a request holds as many as fit in 50,000 bytes), or 1 for
// everything.
func (p *Provider) BatchLimit(k purge.Kind) int {
	switch k {
	case purge.KindURL:
		return MaxURLs
	case purge.KindTag:
		return MaxTags
	case purge.KindEverything:
		return 1
	}
	return 0
}

// request is one API call Purge makes.
type request struct {
	typ     string // url, tag or cpcode
	objects []any
	idx     []int // targets it covers
	body    []byte
}

func newRequest(typ string, objects []any, idx []int) request {
	body, _ := json.Marshal(struct {
		Objects []any `json:"objects"`
	}{objects}) // strings and ints always marshal
	return request{typ: typ, objects: objects, idx: idx, body: body}
}

// emptyBody is the size of {"objects":[]}.
const emptyBody = len(`{"objects":[]}`)

// plan packs a batch's valid targets into requests of at most
// MaxBodyBytes and says why it refuses the others.
func (p *Provider) plan(b purge.Batch) ([]request, []error) {
	refused := make([]error, len(b.Targets))
	if b.Kind == purge.KindEverything {
		codes := make([]any, len(p.s.CPCodes))
		for i, c := range p.s.CPCodes {
			codes[i] = c
		}
		idx := make([]int, len(b.Targets))
		for i := range idx {
			idx[i] = i
		}
		return []request{newRequest("cpcode", codes, idx)}, refused
	}
	var reqs []request
	var objects []any
	var idx []int
	size := emptyBody
	for i, t := range b.Targets {
		item, _ := json.Marshal(t.Value)
		err := validateTarget(t, b.Kind)
		if err == nil && emptyBody+len(item) > MaxBodyBytes {
			err = fmt.Errorf("%d bytes, more than a request of %d bytes can hold", len(item), MaxBodyBytes)
		}
		if err != nil {
			refused[i] = fmt.Errorf("akamai: %w: %w; not sent", purge.ErrInvalidTarget, err)
			continue
		}
		if len(objects) > 0 && size+1+len(item) > MaxBodyBytes {
			reqs = append(reqs, newRequest(string(b.Kind), objects, idx))
			objects, idx, size = nil, nil, emptyBody
		}
		if len(objects) > 0 {
			size++ // the comma
		}
		objects, idx, size = append(objects, t.Value), append(idx, i), size+len(item)
	}
	if len(objects) > 0 {
		reqs = append(reqs, newRequest(string(b.Kind), objects, idx))
	}
	return reqs, refused
}

func validateTarget(t purge.Target, kind purge.Kind) error {
	if t.Kind != kind {
		return fmt.Errorf("%s target %q in a %s batch", t.Kind, t.Value, kind)
	}
	if kind == purge.KindURL {
		u, err := url.Parse(t.Value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an absolute http(s) URL", t.Value)
		}
		return nil
	}
	if t.Value == "" || len(t.Value) > MaxTagBytes || strings.IndexFunc(t.Value, func(r rune) bool { return !isTagChar(r) }) >= 0 {
		return fmt.Errorf("cache tag %q: want 1 to %d letters, digits or !#$%%&'*+-.^_`|~", t.Value, MaxTagBytes)
	}
	return nil
}

// isTagChar reports whether r may appear in a cache tag: an HTTP token
// character.
func isTagChar(r rune) bool {
	return r < 0x7f && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// endpoint is the URL a request of type typ goes to.
func (p *Provider) endpoint(b purge.Batch, typ string) string {
	action := "invalidate"
	if b.Delete {
		action = "delete"
	}
	return p.api + "/ccu/v3/" + action + "/" + typ + "/" + p.network
}

// Describe says which requests Purge would send for b, for dry runs, and
// which targets it would refuse.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	if b.Kind == purge.KindEverything && len(b.Targets) == 0 {
		b.Targets = []purge.Target{{Kind: purge.KindEverything}}
	}
	reqs, refused := p.plan(b)
	out := make([]purge.RequestDescription, len(reqs))
	for i, rq := range reqs {
		out[i] = purge.RequestDescription{
			Method: http.MethodPost, URL: p.endpoint(b, rq.typ), Body: string(rq.body),
			Header: map[string]string{"Authorization": edgegrid.Scheme + " " + secret.Redacted, "Content-Type": "application/json"},
		}
	}
	return out, refused
}
