package purge

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"

	"github.com/cachectl/cachectl/pkg/secret"
)

// Common holds the keys of an environment's cdn section that every
// provider shares; a provider's own keys are its settings (Spec).
type Common struct {
	// Provider names the provider (a Spec's Name).
	Provider string `mapstructure:"provider" yaml:"provider,omitempty" json:"provider,omitzero"`
	// APIURL overrides the provider's API base URL.
	APIURL string `mapstructure:"api_url" yaml:"api_url,omitempty" json:"api_url,omitzero"`
	// APITokenEnv names the environment variable holding the API token.
	APITokenEnv string `mapstructure:"api_token_env" yaml:"api_token_env,omitempty" json:"api_token_env,omitzero"`
	// APITokenFile names a file holding the API token.
	APITokenFile string `mapstructure:"api_token_file" yaml:"api_token_file,omitempty" json:"api_token_file,omitzero"`
	// Rate is purge requests per second; Burst the token-bucket size. Zero
	// keeps the provider's published limits.
	Rate  float64 `mapstructure:"rate" yaml:"rate,omitempty" json:"rate,omitzero"`
	Burst int     `mapstructure:"burst" yaml:"burst,omitempty" json:"burst,omitzero"`
	// MaxAttempts bounds the requests sent for one batch, retries included (default 5).
	MaxAttempts int `mapstructure:"max_attempts" yaml:"max_attempts,omitempty" json:"max_attempts,omitzero"`
}

// CommonKeys lists the shared keys of a cdn section, in the order
// `config show` prints them.
func CommonKeys() []string { return keysOf(reflect.TypeFor[Common]()) }

// Problem is one thing wrong with a cdn section. Key is relative to the
// section ("zone_id", "endpoints[0]"); Value is the value found, as
// written ("" when missing); Expected says what would be valid.
type Problem struct {
	Key      string
	Value    string
	Expected string
}

// Validate checks the shared keys, every problem at once. Whether the
// provider is known, and its own keys, are checked through its Spec.
func (c Common) Validate() []Problem {
	var ps []Problem
	add := func(key, value, expected string) {
		ps = append(ps, Problem{Key: key, Value: value, Expected: expected})
	}
	if c.APITokenEnv != "" && !secret.ValidEnvName(c.APITokenEnv) {
		add("api_token_env", strconv.Quote(c.APITokenEnv), "an environment variable name such as CLOUDFLARE_API_TOKEN")
	}
	if c.APIURL != "" {
		if err := CheckBaseURL(c.APIURL); err != nil {
			add("api_url", strconv.Quote(c.APIURL), err.Error())
		}
	}
	if c.Rate < 0 {
		add("rate", fmt.Sprint(c.Rate), "requests per second ≥ 0 (0 = the plan's default)")
	}
	if c.Burst < 0 {
		add("burst", fmt.Sprint(c.Burst), "a bucket size ≥ 0 (0 = the plan's default)")
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 20 {
		add("max_attempts", strconv.Itoa(c.MaxAttempts), "requests per batch, retries included, between 1 and 20 (default 5)")
	}
	return ps
}

// CheckBaseURL checks that raw is an absolute http(s) URL without query,
// fragment or user info, as a site's base URL, an API URL or a cache node
// must be. The error says what was expected.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("an absolute http(s) URL (%v)", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("an absolute URL with scheme http or https")
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("an absolute URL with a host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("a URL without query, fragment or user info")
	}
	return nil
}

// SecretKind is the kind of credential a provider needs.
type SecretKind string

// Credential kinds. A provider that reads a credentials file named by one
// of its own keys declares SecretNone and reads it in its factory.
const (
	// SecretNone: no credential from the shared keys (cache nodes that
	// accept purges from this machine).
	SecretNone SecretKind = ""
	// SecretAPIToken: an API token from api_token_env or api_token_file,
	// resolved before the provider is built and handed over in Config.Token.
	SecretAPIToken SecretKind = "api-token"
	// SecretAWS: credentials from the AWS SDK's default chain (environment
	// variables, shared config and credentials files with their profiles,
	// SSO, web identity, container and instance roles), never from the
	// config file or a flag. The provider resolves them itself from
	// Deps.LookupEnv, as late as the first request (a role or SSO session
	// may need a request of its own), and registers every value it
	// resolves with Deps.Secrets. The config's api_token_env and
	// api_token_file are refused.
	SecretAWS SecretKind = "aws-default-chain"
)

// Secret says which credential a provider needs.
type Secret struct {
	Kind SecretKind
	// Grants says what the credential must be allowed to do, for messages:
	// "the permission Zone → Cache Purge → Purge".
	Grants string
}
