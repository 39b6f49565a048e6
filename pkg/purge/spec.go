package purge

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Spec is everything cachectl knows about one purge provider, declared in
// the provider's own package and listed by the registry
// (pkg/purge/providers): its name, its cdn keys and their validation, the
// secret it needs, what it can purge, the limits of its API and how to
// build it. Configuration loading, validation, `config show` and the purge
// command ask the Spec; none of them knows a provider by name.
//
// A Spec is made with Define, which keeps the provider's settings type
// behind it: settings travel as the pointer NewSettings returns.
type Spec struct {
	// Name is the value of cdn.provider that selects the provider.
	Name string
	// Secret is the credential the provider needs.
	Secret Secret
	// Capabilities is what the provider can purge; the provider's
	// Capabilities method returns the same list, or the part of it its
	// configuration enables (http-purge: tags only with cdn.tags).
	Capabilities []Capability

	keys     []string
	required []string
	def      erased
}

// Definition is how a provider package declares its Spec. S is the
// provider's settings type: a struct whose mapstructure tags name the
// provider's own keys in an environment's cdn section (in the order
// `config show` prints them) and whose yaml tags print them. The keys
// every provider shares (Common) are not part of S. P is the type its
// factory returns.
type Definition[S any, P Provider] struct {
	// Name is the value of cdn.provider that selects the provider.
	Name string
	// Required lists the keys of S the provider cannot work without (the
	// zone, service or cache nodes it purges). One of them set without
	// cdn.provider is reported as a missing provider.
	Required []string
	// Secret is the credential the provider needs.
	Secret Secret
	// Capabilities is what the provider can purge.
	Capabilities []Capability
	// Validate checks the settings as loaded, every problem at once, with
	// keys relative to the cdn section ("zone_id", "endpoints[0]").
	Validate func(s S) []Problem
	// Limits returns the buckets that keep one account under the API's
	// published limits (Cloudflare: its plan's). Nil when the API
	// publishes none: the run is then throttled only by cdn.rate.
	Limits func(s S) (*Limits, error)
	// Hint says what to do about the API's refusal ae of a batch of kind k
	// for the account (cfg, s), or "" when there is nothing to add. The
	// provider puts Spec.Hint's answer in APIError.Hint.
	Hint func(ae *APIError, k Kind, cfg Config, s S) string
	// New builds the provider. It is given an API token in cfg.Token when
	// Secret asks for one.
	New func(cfg Config, s S, deps Deps) (P, error)
}

// Define turns a provider's Definition into the Spec the registry lists.
// It panics when S is not a struct or Required names a key S lacks:
// mistakes in a provider package, which no configuration can cause.
func Define[S any, P Provider](d Definition[S, P]) Spec {
	t := reflect.TypeFor[S]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("purge: provider %s: settings type %s is not a struct", d.Name, t))
	}
	keys := keysOf(t)
	for _, k := range d.Required {
		if !slices.Contains(keys, k) {
			panic(fmt.Sprintf("purge: provider %s: required key %q is not a key of %s", d.Name, k, t))
		}
	}
	return Spec{
		Name: d.Name, Secret: d.Secret, Capabilities: d.Capabilities,
		keys: keys, required: d.Required, def: defined[S, P](d),
	}
}

// erased is a Definition with its settings type hidden: settings travel as
// the pointer newSettings returns.
type erased interface {
	newSettings() any
	validate(settings any) []Problem
	limits(settings any) (*Limits, error)
	hint(ae *APIError, k Kind, cfg Config, settings any) string
	build(cfg Config, settings any, deps Deps) (Provider, error)
}

type defined[S any, P Provider] Definition[S, P]

func (d defined[S, P]) newSettings() any { return new(S) }

// settings unwraps settings made by newSettings; nil is the zero settings.
func (d defined[S, P]) settings(v any) (S, error) {
	var zero S
	switch s := v.(type) {
	case nil:
		return zero, nil
	case *S:
		if s == nil {
			return zero, nil
		}
		return *s, nil
	case S:
		return s, nil
	}
	return zero, fmt.Errorf("purge: provider %s: settings of type %T, want %T", d.Name, v, &zero)
}

func (d defined[S, P]) validate(v any) []Problem {
	s, err := d.settings(v)
	if err != nil {
		return []Problem{{Key: "provider", Value: d.Name, Expected: err.Error()}}
	}
	if d.Validate == nil {
		return nil
	}
	return d.Validate(s)
}

func (d defined[S, P]) limits(v any) (*Limits, error) {
	s, err := d.settings(v)
	if err != nil || d.Limits == nil {
		return nil, err
	}
	return d.Limits(s)
}

func (d defined[S, P]) hint(ae *APIError, k Kind, cfg Config, v any) string {
	s, err := d.settings(v)
	if err != nil || d.Hint == nil {
		return ""
	}
	return d.Hint(ae, k, cfg, s)
}

func (d defined[S, P]) build(cfg Config, v any, deps Deps) (Provider, error) {
	s, err := d.settings(v)
	if err != nil {
		return nil, err
	}
	p, err := d.New(cfg, s, deps)
	if err != nil {
		// Not p: a nil *T in a Provider is not a nil Provider.
		return nil, err
	}
	return p, nil
}

// keysOf lists the mapstructure names of a settings struct's fields.
func keysOf(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// Keys lists the provider's own keys in a cdn section, in the order
// `config show` prints them.
func (s Spec) Keys() []string { return slices.Clone(s.keys) }

// Required lists the keys the provider cannot work without.
func (s Spec) Required() []string { return slices.Clone(s.required) }

// NewSettings returns a pointer to the provider's zero settings, for a
// configuration loader to decode the provider's keys into.
func (s Spec) NewSettings() any { return s.def.newSettings() }

// Validate checks a cdn section for this provider: the credential it
// needs, then its own settings (as returned by NewSettings and decoded).
// Keys are relative to the section. The shared keys are Common.Validate's.
func (s Spec) Validate(c Common, settings any) []Problem {
	var ps []Problem
	switch {
	case s.Secret.Kind == SecretAPIToken && c.APITokenEnv == "" && c.APITokenFile == "":
		ps = append(ps, Problem{Key: "api_token_env", Expected: "the name of the environment variable holding the API token (or api_token_file)"})
	case s.Secret.Kind == SecretAWS:
		chain := "nothing: " + s.Name + " takes its credentials from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity), never from the config"
		if c.APITokenEnv != "" {
			ps = append(ps, Problem{Key: "api_token_env", Value: strconv.Quote(c.APITokenEnv), Expected: chain})
		}
		if c.APITokenFile != "" {
			ps = append(ps, Problem{Key: "api_token_file", Value: strconv.Quote(c.APITokenFile), Expected: chain})
		}
	}
	return append(ps, s.def.validate(settings)...)
}

// Limits returns the buckets for an account: the API's published limits
// for its settings, with cdn.rate and cdn.burst applied (NewLimits).
func (s Spec) Limits(cfg Config, settings any) (*Limits, error) {
	published, err := s.def.limits(settings)
	if err != nil {
		return nil, err
	}
	return NewLimits(published, cfg)
}

// Hint is the provider's advice on the API's refusal ae of a batch of
// kind k for the account (cfg, settings); "" when it has none.
func (s Spec) Hint(ae *APIError, k Kind, cfg Config, settings any) string {
	if ae == nil {
		return ""
	}
	return s.def.hint(ae, k, cfg, settings)
}

// New builds the provider for an account. Nil settings are the zero
// settings.
func (s Spec) New(cfg Config, settings any, deps Deps) (Provider, error) {
	return s.def.build(cfg, settings, deps)
}
