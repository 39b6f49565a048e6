// Package bunny purges Bunny CDN's cache through its API:
// POST /purge?url=<URL>&async=false for a URL (exactPath=true when its
// path ends in "/", so only that page goes), and the prefix with a
// trailing * for a prefix. Each call returns once the purge is done. The
// API key goes in the AccessKey header; requests go through the client
// in purge.Deps, which retries.
package bunny

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
	"github.com/cachectl/cachectl/pkg/secret"
)

// Name is the provider's registry name.
const Name = "bunny"

// Defaults and limits of the API.
const (
	// DefaultAPIURL is Bunny's API base.
	DefaultAPIURL = "https://api.bunny.net"
	// URLBatch is URLs per batch. Bunny purges one URL a request, so this
	// only bounds how much one batch (one journal entry) covers.
	URLBatch = 20
)

// Provider purges through one Bunny account. It is safe for concurrent use.
type Provider struct {
	hc  *http.Client
	api string
	cfg purge.Config
	log *slog.Logger
}

var _ purge.Provider = (*Provider)(nil)
var _ purge.Describer = (*Provider)(nil)

// New builds a provider for the account whose API key cfg.Token holds.
func New(cfg purge.Config, _ Settings, deps purge.Deps) (*Provider, error) {
	if err := cfg.RequireToken(Name, secretNeed.Grants); err != nil {
		return nil, err
	}
	api, err := cfg.BaseURL(Name, DefaultAPIURL)
	if err != nil {
		return nil, err
	}
	return &Provider{hc: deps.Client(), api: api, cfg: cfg, log: deps.Log()}, nil
}

// Name returns "bunny".
func (p *Provider) Name() string { return Name }

// Capabilities lists URL and prefix.
func (p *Provider) Capabilities() []purge.Capability { return slices.Clone(capabilities) }

// BatchLimit is 20 URLs (sent one request each) or 1 prefix.
func (p *Provider) BatchLimit(k purge.Kind) int {
	switch k {
	case purge.KindURL:
		return URLBatch
	case purge.KindPrefix:
		return 1
	}
	return 0
}

// purgeURL is the URL Bunny is asked to purge for t, and whether only
// its exact path goes.
func purgeURL(t purge.Target) (string, bool, error) {
	raw := t.Value
	if t.Kind == purge.KindPrefix {
		raw = "https://" + strings.TrimSuffix(t.Value, "*")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false, fmt.Errorf("bunny: %q is not an absolute http(s) URL: %w; not sent", t.Value, purge.ErrInvalidTarget)
	}
	if t.Kind == purge.KindPrefix {
		if u.RawQuery != "" {
			return "", false, fmt.Errorf("bunny: prefix %q has a query: %w; not sent", t.Value, purge.ErrInvalidTarget)
		}
		return raw + "*", false, nil
	}
	if strings.Contains(raw, "*") {
		return "", false, fmt.Errorf("bunny: URL %q holds a *, which Bunny takes as a wildcard (use --prefix): %w; not sent", t.Value, purge.ErrInvalidTarget)
	}
	return raw, strings.HasSuffix(u.Path, "/"), nil
}

// endpoint is the API URL that purges u.
func (p *Provider) endpoint(u string, exact bool) string {
	e := p.api + "/purge?url=" + url.QueryEscape(u) + "&async=false"
	if exact {
		e += "&exactPath=true"
	}
	return e
}

// Purge sends one request per target. It returns an error when the whole
// batch failed: a refused key, the network, cancellation, a rate limit
// or server error outlasting the retries, or a refusal of every target.
// Results always holds one entry per target.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	res := purge.NewBatchResult(b.Targets)
	if p.BatchLimit(b.Kind) == 0 || b.Soft {
		return res.Fail(fmt.Errorf("bunny: purge by %s (soft: %v): %w; nothing was sent", b.Kind, b.Soft, purge.ErrUnsupported))
	}
	var firstRefusal error
	purged := 0
	for i, t := range b.Targets {
		u, exact, err := purgeURL(t)
		if err != nil {
			res.Results[i].Err = err
			continue
		}
		ae, err := p.do(ctx, b, u, exact, &res)
		if err == nil && ae != nil && (ae.Auth || ae.Retryable) {
			err = ae
		}
		if err != nil {
			err = fmt.Errorf("bunny: purge batch %d: %w", b.Seq, err)
			for j := i; j < len(b.Targets); j++ {
				if res.Results[j].Err == nil {
					res.Results[j].Err = err
				}
			}
			return res, err
		}
		if ae != nil {
			res.Results[i].Err = fmt.Errorf("bunny: purge batch %d: %s: %w", b.Seq, u, ae)
			firstRefusal = cmp.Or(firstRefusal, res.Results[i].Err)
			continue
		}
		purged++
	}
	if purged == 0 && firstRefusal != nil {
		return res, firstRefusal
	}
	return res, nil
}

// do sends one purge and returns the API's refusal, or an error without
// an answer.
func (p *Provider) do(ctx context.Context, b purge.Batch, u string, exact bool, res *purge.BatchResult) (*purge.APIError, error) {
	actx, att := retry.WithAttempts(ctx)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.endpoint(u, exact), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("AccessKey", p.cfg.Token.Reveal())
	resp, err := p.hc.Do(req)
	attempts := max(att.Count(), 1)
	res.Calls += attempts
	res.Attempts = max(res.Attempts, attempts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	p.log.Debug("bunny: purge request", "batch", b.Seq, "kind", b.Kind, "status", resp.StatusCode, "attempts", attempts)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil, nil
	}
	return p.apiError(resp.StatusCode, raw, b.Kind), nil
}

// apiError reads Bunny's error answer: {"ErrorKey", "Field", "Message"}.
func (p *Provider) apiError(status int, raw []byte, kind purge.Kind) *purge.APIError {
	ae := &purge.APIError{Provider: Name, Status: status, Retryable: retry.RetryableStatus(status)}
	var e struct {
		ErrorKey string `json:"ErrorKey"`
		Message  string `json:"Message"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		ae.Message = e.Message
		if e.ErrorKey != "" {
			ae.Message += " (" + e.ErrorKey + ")"
		}
	} else {
		ae.Message = purge.BodySnippet(raw)
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		ae.Auth, ae.Retryable = true, false
	}
	ae.Hint = Spec.Hint(ae, kind, p.cfg, &Settings{})
	return ae
}

// Describe says which requests Purge would send for b, for dry runs, and
// which targets it would refuse.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	var out []purge.RequestDescription
	refused := make([]error, len(b.Targets))
	for i, t := range b.Targets {
		u, exact, err := purgeURL(t)
		if err != nil {
			refused[i] = err
			continue
		}
		out = append(out, purge.RequestDescription{Method: http.MethodPost, URL: p.endpoint(u, exact), Header: map[string]string{"AccessKey": secret.Redacted}})
	}
	return out, refused
}
