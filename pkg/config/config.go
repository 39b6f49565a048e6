// Package config loads cachectl's YAML configuration (environments, routes and
// their expectations) through viper, validates it with specific errors, and
// resolves secrets from environment variables or files.
package config

import (
	"sort"
	"time"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/related"
)

// Config is the whole configuration file.
type Config struct {
	// Environments by name (production, staging, ...).
	Environments map[string]*Environment `mapstructure:"environments" yaml:"environments" json:"environments"`
	// Routes and what their owners expect of them.
	Routes []Route `mapstructure:"routes" yaml:"routes,omitempty" json:"routes,omitzero"`
	// Defaults apply to routes (and sitemap or --routes entries) without their own expectations.
	Defaults Defaults `mapstructure:"defaults" yaml:"defaults,omitempty" json:"defaults,omitzero"`
	// CacheHeaders are extra response headers holding a site's own cache status, checked first.
	CacheHeaders []string `mapstructure:"cache_headers" yaml:"cache_headers,omitempty" json:"cache_headers,omitzero"`
	// Related are the related-route rules of every environment: what else
	// `purge --related` purges with a page (package related).
	Related []related.Rule `mapstructure:"related" yaml:"related,omitempty" json:"related,omitzero"`

	// File is the path the configuration was read from; empty when none was used.
	File string `mapstructure:"-" yaml:"-" json:"-"`

	// secrets are the variables and files the configuration names as
	// holding secrets.
	secrets []secretSource
}

// Environment is one deployment of the site: production, staging, ...
type Environment struct {
	// Name is the key under environments.
	Name string `mapstructure:"-" yaml:"-" json:"-"`
	// BaseURL resolves paths, e.g. https://www.example.com.
	BaseURL string `mapstructure:"base_url" yaml:"base_url" json:"base_url"`
	// Hosts is the purge allow-list and the set of hosts the session cookie may go to;
	// default: the base URL's host.
	Hosts []string `mapstructure:"hosts" yaml:"hosts,omitempty" json:"hosts,omitzero"`
	// OriginURL is the origin reached without the CDN (http://10.0.0.7:8000):
	// stale compares the edge's copies with what it answers.
	OriginURL string `mapstructure:"origin_url" yaml:"origin_url,omitempty" json:"origin_url,omitzero"`
	// OriginHost is the Host header sent to OriginURL; default: each URL's
	// own host, as a CDN sends it.
	OriginHost string `mapstructure:"origin_host" yaml:"origin_host,omitempty" json:"origin_host,omitzero"`
	// Session enables the logged-in variant.
	Session *Session `mapstructure:"session" yaml:"session,omitempty" json:"session,omitzero"`
	// CDN selects and configures the purge provider.
	CDN CDN `mapstructure:"cdn" yaml:"cdn,omitempty" json:"cdn,omitzero"`
	// Headers are extra request headers sent with every probe of this environment.
	Headers map[string]string `mapstructure:"headers" yaml:"headers,omitempty" json:"headers,omitzero"`
	// CacheHeaders are extra cache-status headers for this environment.
	CacheHeaders []string `mapstructure:"cache_headers" yaml:"cache_headers,omitempty" json:"cache_headers,omitzero"`
	// Stale configures stale detection for every URL of this environment.
	// Related are this environment's own related-route rules, applied
	// after the top-level ones.
	Related []related.Rule `mapstructure:"related" yaml:"related,omitempty" json:"related,omitzero"`
	// CacheKey says what besides the URL the CDN's cache key holds, so a
	// purge reaches every variant of a page.
	CacheKey CacheKey `mapstructure:"cache_key" yaml:"cache_key,omitempty" json:"cache_key,omitzero"`
	Stale    Stale    `mapstructure:"stale" yaml:"stale,omitempty" json:"stale,omitzero"`
}

// Stale configures how stale compares an edge copy with the origin's version.
type Stale struct {
	// Ignore lists RE2 patterns whose matches are removed from both bodies
	// before they are compared (render time stamps, CSRF tokens, what an
	// edge injects). A pattern matches within one line.
	Ignore []string `mapstructure:"ignore" yaml:"ignore,omitempty" json:"ignore,omitzero"`
}

// CacheKey is what an environment's CDN keys its cache on besides the URL.
type CacheKey struct {
	// Headers are the request headers of the cache key and their values:
	// a purge of a URL purges one variant per combination of values.
	Headers KeyHeaders `mapstructure:"headers" yaml:"headers,omitempty" json:"headers,omitzero"`
}

// KeyHeaders maps a cache-key request header (CF-Device-Type,
// Accept-Language) to the values whose variants a purge reaches. Names are
// case-insensitive.
type KeyHeaders map[string][]string

// Session names the session cookie and where its value comes from. The value
// itself is never part of the configuration.
type Session struct {
	// Cookie is the cookie name.
	Cookie string `mapstructure:"cookie" yaml:"cookie" json:"cookie"`
	// ValueEnv names the environment variable holding the value.
	ValueEnv string `mapstructure:"value_env" yaml:"value_env,omitempty" json:"value_env,omitzero"`
	// ValueFile names a file holding the value (first line, trimmed).
	ValueFile string `mapstructure:"value_file" yaml:"value_file,omitempty" json:"value_file,omitzero"`
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
	Path string `mapstructure:"path" yaml:"path" json:"path"`
	// Owner is the team or person to ask.
	Owner string `mapstructure:"owner" yaml:"owner,omitempty" json:"owner,omitzero"`
	// Expect holds the expectations per variant: anonymous, logged_in.
	Expect Expectations `mapstructure:"expect" yaml:"expect,omitempty" json:"expect,omitzero"`
	// Rollback says what to do when the route misbehaves.
	Rollback string `mapstructure:"rollback" yaml:"rollback,omitempty" json:"rollback,omitzero"`
	// Stale holds this route's own ignore patterns, applied in addition to
	// the environment's.
	Stale Stale `mapstructure:"stale" yaml:"stale,omitempty" json:"stale,omitzero"`
}

// Expectations per variant.
type Expectations struct {
	Anonymous *Expectation `mapstructure:"anonymous" yaml:"anonymous,omitempty" json:"anonymous,omitzero"`
	LoggedIn  *Expectation `mapstructure:"logged_in" yaml:"logged_in,omitempty" json:"logged_in,omitzero"`
}

// Defaults are expectations for routes that have none.
type Defaults struct {
	Expect Expectations `mapstructure:"expect" yaml:"expect,omitempty" json:"expect,omitzero"`
}

// Expectation is what one variant of a route must look like.
type Expectation struct {
	// Cache lists the allowed normalized cache statuses.
	Cache []string `mapstructure:"cache" yaml:"cache,omitempty" json:"cache,omitzero"`
	// Private requires Cache-Control: private (true) or forbids it (false).
	Private *bool `mapstructure:"private" yaml:"private,omitempty" json:"private,omitzero"`
	// NoStore requires Cache-Control: no-store (true) or forbids it (false).
	NoStore *bool `mapstructure:"no_store" yaml:"no_store,omitempty" json:"no_store,omitzero"`
	// MinMaxAge and MaxMaxAge bound the effective shared-cache lifetime in seconds.
	MinMaxAge *int64 `mapstructure:"min_max_age" yaml:"min_max_age,omitempty" json:"min_max_age,omitzero"`
	MaxMaxAge *int64 `mapstructure:"max_max_age" yaml:"max_max_age,omitempty" json:"max_max_age,omitzero"`
	// Status is the expected status code.
	Status *int `mapstructure:"status" yaml:"status,omitempty" json:"status,omitzero"`
	// MaxTTFBMs bounds the time to first byte.
	MaxTTFBMs *float64 `mapstructure:"max_ttfb_ms" yaml:"max_ttfb_ms,omitempty" json:"max_ttfb_ms,omitzero"`
	// Headers are checks on response headers.
	Headers *HeaderExpect `mapstructure:"headers" yaml:"headers,omitempty" json:"headers,omitzero"`
	// ServerTiming bounds Server-Timing metrics by name (db, app, cfOrigin,
	// ...; names are matched ignoring case).
	ServerTiming map[string]ServerTimingExpect `mapstructure:"server_timing" yaml:"server_timing,omitempty" json:"server_timing,omitzero"`
	// FailOnFindings fails the route when a finding at or above this severity (info, warn, error) is present.
	FailOnFindings string `mapstructure:"fail_on_findings" yaml:"fail_on_findings,omitempty" json:"fail_on_findings,omitzero"`
}

// HeaderExpect checks response headers. Header names are case-insensitive.
type HeaderExpect struct {
	Present []string          `mapstructure:"present" yaml:"present,omitempty" json:"present,omitzero"`
	Absent  []string          `mapstructure:"absent" yaml:"absent,omitempty" json:"absent,omitzero"`
	Equal   map[string]string `mapstructure:"equal" yaml:"equal,omitempty" json:"equal,omitzero"`
	Match   map[string]string `mapstructure:"match" yaml:"match,omitempty" json:"match,omitzero"`
}

// ServerTimingExpect is what one Server-Timing metric must show.
type ServerTimingExpect struct {
	// MaxMs bounds the metric's duration in milliseconds; the metric must
	// then be present with a duration.
	MaxMs *float64 `mapstructure:"max_ms" yaml:"max_ms,omitempty" json:"max_ms,omitzero"`
	// Present requires the metric (true) or forbids it (false).
	Present *bool `mapstructure:"present" yaml:"present,omitempty" json:"present,omitzero"`
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
