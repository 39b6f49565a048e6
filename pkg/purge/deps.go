package purge

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/cachectl/cachectl/pkg/retry"
)

// Log returns the provider's logger, or one that discards.
func (d Deps) Log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Client returns the HTTP client to send through: the injected one, or the
// default retrying client, so no provider ever sends without retries.
func (d Deps) Client() *http.Client {
	return retry.OrDefault(d.HTTP, d.Log())
}

// RequireToken fails when no API token was resolved, saying which variable
// to set and what the token must be allowed to do.
func (c Config) RequireToken(provider, permission string) error {
	if !c.Token.IsZero() {
		return nil
	}
	env := c.TokenEnv
	if env == "" {
		env = "the variable named by api_token_env"
	}
	return fmt.Errorf("%s: no API token: set %s to a token with %s", provider, env, permission)
}

// TokenSource names where the API token comes from, for hints: the
// variable (or file) it was read from, or "the configured token variable".
func (c Config) TokenSource() string {
	if c.TokenEnv == "" {
		return "the configured token variable"
	}
	return c.TokenEnv
}

// BaseURL returns the configured API URL (or def) without a trailing slash,
// after checking it is an absolute http(s) URL.
func (c Config) BaseURL(provider, def string) (string, error) {
	api := c.APIURL
	if api == "" {
		api = def
	}
	if u, err := url.Parse(api); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: api_url %q: want an absolute http(s) URL", provider, api)
	}
	return strings.TrimSuffix(api, "/"), nil
}
