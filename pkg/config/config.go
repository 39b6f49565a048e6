// Package config loads cachectl's YAML configuration (environments, routes and
// their expectations) through viper, validates it with specific errors, and
// resolves secrets from environment variables or files.
package config

import (
	"sort"
	"time"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Config is the whole configuration file.
type Config struct {
	// Environments by name (production, staging, ...).
	Environments map[string]*Environment `mapstructure:"environments" yaml:"environments"`
	// Routes and what their owners expect of them.
	Routes []Route `mapstructure:"routes" yaml:"routes,omitempty"`
	// Defaults apply to routes (and sitemap or --routes entries) without their own expectations.
	Defaults Defaults `mapstructure:"defaults" yaml:"defaults,omitempty"`
	// CacheHeaders are extra response headers holding a site's own cache status, checked first.
	CacheHeaders []string `mapstructure:"cache_headers" yaml:"cache_headers,omitempty"`

	// File is the path the configuration was read from; empty when none was used.
	File string `mapstructure:"-" yaml:"-"`

	// secrets are the variables and files the configuration names as
	// holding secrets.
	secrets []secretSource
}

// Environment is one deployment of the site: production, staging, ...
type Environment struct {
	// Name is the key under environments.
	Name string `mapstructure:"-" yaml:"-"`
	// BaseURL resolves paths, e.g. https://www.example.com.
	BaseURL string `mapstructure:"base_url" yaml:"base_url"`
	// Hosts is the purge allow-list and the set of hosts the session cookie may go to;
	// default: the base URL's host.
	Hosts []string `mapstructure:"hosts" yaml:"hosts,omitempty"`
	// Session enables the logged-in variant.
	Session *Session `mapstructure:"session" yaml:"session,omitempty"`
	// CDN selects and configures the purge provider.
	CDN CDN `mapstructure:"cdn" yaml:"cdn,omitempty"`
	// Headers are extra request headers sent with every probe of this environment.
	Headers map[string]string `mapstructure:"headers" yaml:"headers,omitempty"`
	// CacheHeaders are extra cache-status headers for this environment.
	CacheHeaders []string `mapstructure:"cache_headers" yaml:"cache_headers,omitempty"`
}

// Session names the session cookie and where its value comes from. The value
// itself is never part of the configuration.
type Session struct {
	// Cookie is the cookie name.
	Cookie string `mapstructure:"cookie" yaml:"cookie"`
	// ValueEnv names the environment variable holding the value.
	ValueEnv string `mapstructure:"value_env" yaml:"value_env,omitempty"`
	// ValueFile names a file holding the value (first line, trimmed).
	ValueFile string `mapstructure:"value_file" yaml:"value_file,omitempty"`
}

// CDN configures an environment's purge provider: the keys every provider
// shares, and the provider's own keys (zone_id, endpoints, ...) decoded by
// the provider cdn.provider names into its settings type.
type CDN struct {
	purge.Common `mapstructure:",squash"`
	// Settings points to the provider's settings (its Spec's NewSettings,
	// filled in from the section); nil when no known provider is named.
	Settings any `mapstructure:"-"`
}

// Route is one page or pattern with its owner, expectations and rollback note.
type Route struct {
	// Path is resolved against the environment's base URL.
	Path string `mapstructure:"path" yaml:"path"`
	// Owner is the team or person to ask.
	Owner string `mapstructure:"owner" yaml:"owner,omitempty"`
	// Expect holds the expectations per variant: anonymous, logged_in.
	Expect Expectations `mapstructure:"expect" yaml:"expect,omitempty"`
	// Rollback says what to do when the route misbehaves.
	Rollback string `mapstructure:"rollback" yaml:"rollback,omitempty"`
}

// Expectations per variant.
type Expectations struct {
	Anonymous *Expectation `mapstructure:"anonymous" yaml:"anonymous,omitempty"`
	LoggedIn  *Expectation `mapstructure:"logged_in" yaml:"logged_in,omitempty"`
}

// Defaults are expectations for routes that have none.
type Defaults struct {
	Expect Expectations `mapstructure:"expect" yaml:"expect,omitempty"`
}

// Expectation is what one variant of a route must look like.
type Expectation struct {
	// Cache lists the allowed normalized cache statuses.
	Cache []string `mapstructure:"cache" yaml:"cache,omitempty"`
	// Private requires Cache-Control: private (true) or forbids it (false).
	Private *bool `mapstructure:"private" yaml:"private,omitempty"`
	// NoStore requires Cache-Control: no-store (true) or forbids it (false).
	NoStore *bool `mapstructure:"no_store" yaml:"no_store,omitempty"`
	// MinMaxAge and MaxMaxAge bound the effective shared-cache lifetime in seconds.
	MinMaxAge *int64 `mapstructure:"min_max_age" yaml:"min_max_age,omitempty"`
	MaxMaxAge *int64 `mapstructure:"max_max_age" yaml:"max_max_age,omitempty"`
	// Status is the expected status code.
	Status *int `mapstructure:"status" yaml:"status,omitempty"`
	// MaxTTFBMs bounds the time to first byte.
	MaxTTFBMs *float64 `mapstructure:"max_ttfb_ms" yaml:"max_ttfb_ms,omitempty"`
	// Headers are checks on response headers.
	Headers *HeaderExpect `mapstructure:"headers" yaml:"headers,omitempty"`
	// ServerTiming bounds Server-Timing metrics by name (db, app, cfOrigin,
	// ...; names are matched ignoring case).
	ServerTiming map[string]ServerTimingExpect `mapstructure:"server_timing" yaml:"server_timing,omitempty"`
	// FailOnFindings fails the route when a finding at or above this severity (info, warn, error) is present.
	FailOnFindings string `mapstructure:"fail_on_findings" yaml:"fail_on_findings,omitempty"`
}

// HeaderExpect checks response headers. Header names are case-insensitive.
type HeaderExpect struct {
	Present []string          `mapstructure:"present" yaml:"present,omitempty"`
	Absent  []string          `mapstructure:"absent" yaml:"absent,omitempty"`
	Equal   map[string]string `mapstructure:"equal" yaml:"equal,omitempty"`
	Match   map[string]string `mapstructure:"match" yaml:"match,omitempty"`
}

// ServerTimingExpect is what one Server-Timing metric must show.
type ServerTimingExpect struct {
	// MaxMs bounds the metric's duration in milliseconds; the metric must
	// then be present with a duration.
	MaxMs *float64 `mapstructure:"max_ms" yaml:"max_ms,omitempty"`
	// Present requires the metric (true) or forbids it (false).
	Present *bool `mapstructure:"present" yaml:"present,omitempty"`
}

// EnvNames returns the environment names, sorted.
func (c *Config) EnvNames() []string {
	names := make([]string, 0, len(c.Environments))
	for n := range c.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DefaultTimeout is the per-request timeout when none is configured.
const DefaultTimeout = 10 * time.Second
