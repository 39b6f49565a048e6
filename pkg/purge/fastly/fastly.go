// Package fastly purges Fastly's cache through its API: single URLs,
// surrogate keys in batches, and the whole service, each optionally soft
// (marked stale rather than evicted) except purge-all, which Fastly always
// does hard. Requests go through the client in purge.Deps, which retries.
package fastly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
	"github.com/cachectl/cachectl/pkg/secret"
)

// Name is the provider's registry name.
const Name = "fastly"

// Defaults and limits of the purge API.
const (
	// DefaultAPIURL is Fastly's API base.
	DefaultAPIURL = "https://api.fastly.com"
	// MaxKeys is surrogate keys per request.
	MaxKeys = 256
	// URLBatch is URLs per batch. Fastly purges one URL per request, so
	// this only bounds how much one batch (one journal entry) covers.
	URLBatch = 32
)

// Provider purges one Fastly service. It is safe for concurrent use.
type Provider struct {
	hc  *http.Client
	api string
	cfg purge.Config
	s   Settings
	log *slog.Logger
}

var _ purge.Provider = (*Provider)(nil)
var _ purge.Describer = (*Provider)(nil)
var _ purge.EntryKeyer = (*Provider)(nil)

// New builds a provider for the service s names; requests go through
// deps.HTTP (a retry client is built when it is nil).
func New(cfg purge.Config, s Settings, deps purge.Deps) (*Provider, error) {
	if s.ServiceID == "" {
		return nil, errors.New("fastly: service_id is required")
	}
	if err := cfg.RequireToken(Name, secretNeed.Grants); err != nil {
		return nil, err
	}
	api, err := cfg.BaseURL(Name, DefaultAPIURL)
	if err != nil {
		return nil, err
	}
	return &Provider{hc: deps.Client(), api: api, cfg: cfg, s: s, log: deps.Log()}, nil
}

// Name returns "fastly".
func (p *Provider) Name() string { return Name }

// Capabilities lists URL (every variant of it at once), tag (surrogate
// key), everything and soft.
func (p *Provider) Capabilities() []purge.Capability { return slices.Clone(capabilities) }

// BatchLimit is 32 URLs (one request each host and path: EntryKey), 256
// surrogate keys, or 1 for everything.
func (p *Provider) BatchLimit(k purge.Kind) int {
	switch k {
	case purge.KindURL:
		return URLBatch
	case purge.KindTag:
		return MaxKeys
	case purge.KindEverything:
		return 1
	}
	return 0
}

// purgePath is the API path that purges a URL target: its host and path
// with query. Fastly keys its cache on host and path, so the scheme plays
// no part, and every variant the cache keeps of the URL (Vary) goes with
// it: cache-key headers need no request of their own.
func purgePath(t purge.Target) (string, bool) {
	u, err := url.Parse(t.Value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return "/purge/" + u.Host + u.RequestURI(), true
}

// EntryKey is the same for targets one request purges: URLs with the same
// host and path, whatever their scheme or cache-key headers.
func (p *Provider) EntryKey(t purge.Target) string {
	if path, ok := purgePath(t); ok && t.Kind == purge.KindURL {
		return path
	}
	return string(t.Kind) + " " + t.Value
}

// request is one API call Purge makes.
type request struct {
	path string
	body []byte
	idx  []int // targets it covers
}

func (p *Provider) plan(b purge.Batch) ([]request, []error) {
	errs := make([]error, len(b.Targets))
	var reqs []request
	switch b.Kind {
	case purge.KindURL:
		// One request per host and path: the http and https forms of a
		// URL, and its cache-key variants, are one purge.
		byPath := map[string]int{}
		for i, t := range b.Targets {
			path, ok := purgePath(t)
			if !ok {
				errs[i] = fmt.Errorf("fastly: %q is not an absolute http(s) URL: %w; not sent", t.Value, purge.ErrInvalidTarget)
				continue
			}
			if n, seen := byPath[path]; seen {
				reqs[n].idx = append(reqs[n].idx, i)
				continue
			}
			byPath[path] = len(reqs)
			reqs = append(reqs, request{path: path, idx: []int{i}})
		}
	case purge.KindTag:
		var idx []int
		var keys []string
		for i, t := range b.Targets {
			if t.Value == "" || strings.ContainsAny(t.Value, " \t\r\n") {
				errs[i] = fmt.Errorf("fastly: surrogate key %q is empty or holds white space: %w; not sent", t.Value, purge.ErrInvalidTarget)
				continue
			}
			idx, keys = append(idx, i), append(keys, t.Value)
		}
		for start := 0; start < len(keys); start += MaxKeys {
			end := min(start+MaxKeys, len(keys))
			body, _ := json.Marshal(map[string][]string{"surrogate_keys": keys[start:end]})
			reqs = append(reqs, request{path: "/service/" + url.PathEscape(p.s.ServiceID) + "/purge", body: body, idx: idx[start:end]})
		}
	case purge.KindEverything:
		idx := make([]int, len(b.Targets))
		for i := range idx {
			idx[i] = i
		}
		reqs = append(reqs, request{path: "/service/" + url.PathEscape(p.s.ServiceID) + "/purge_all", idx: idx})
	}
	return reqs, errs
}

// Purge sends one batch: one request per URL, one per 256 keys, or one
// purge-all. It returns an error when the whole batch failed (credentials,
// network, cancellation, rate limit or server errors outlasting retries,
// or a refusal of every target); Results always holds one entry per target.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	res := purge.NewBatchResult(b.Targets)
	if p.BatchLimit(b.Kind) == 0 {
		return res.Fail(fmt.Errorf("fastly: purge by %s: %w; nothing was sent", b.Kind, purge.ErrUnsupported))
	}
	if b.Kind == purge.KindEverything {
		if b.Soft {
			return res.Fail(fmt.Errorf("fastly: purge all cannot be soft: %w; nothing was sent", purge.ErrUnsupported))
		}
		if len(res.Results) == 0 {
			res.Results = []purge.TargetResult{{Target: purge.Target{Kind: purge.KindEverything}}}
			b.Targets = []purge.Target{{Kind: purge.KindEverything}}
		}
	}
	reqs, errs := p.plan(b)
	for i, err := range errs {
		res.Results[i].Err = err
	}
	var firstRefusal error
	purged := 0
	for n, rq := range reqs {
		ids, ae, err := p.do(ctx, b, rq, &res)
		if err == nil && ae != nil && (ae.Auth || ae.Retryable) {
			err = ae
		}
		if err != nil {
			err = fmt.Errorf("fastly: purge batch %d: %w", b.Seq, err)
			for _, later := range reqs[n:] {
				for _, i := range later.idx {
					res.Results[i].Err = err
				}
			}
			return res, err
		}
		if ae != nil {
			werr := fmt.Errorf("fastly: purge batch %d: %w", b.Seq, ae)
			if firstRefusal == nil {
				firstRefusal = werr
			}
			for _, i := range rq.idx {
				res.Results[i].Err = werr
			}
			continue
		}
		for k, i := range rq.idx {
			if ids[k] == "" && b.Kind == purge.KindTag {
				res.Results[i].Err = fmt.Errorf("fastly: purge batch %d: key %q: %w", b.Seq, b.Targets[i].Value,
					&purge.APIError{Provider: Name, Status: http.StatusOK, Message: "the answer holds no purge id for this key"})
				if firstRefusal == nil {
					firstRefusal = res.Results[i].Err
				}
				continue
			}
			res.Results[i].PurgeID = ids[k]
			purged++
		}
	}
	if len(reqs) > 0 && purged == 0 && firstRefusal != nil {
		return res, firstRefusal
	}
	return res, nil
}

// do sends one request and returns the purge id of each target it covers.
func (p *Provider) do(ctx context.Context, b purge.Batch, rq request, res *purge.BatchResult) ([]string, *purge.APIError, error) {
	actx, att := retry.WithAttempts(ctx)
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.api+rq.path, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range p.headers(b, rq) {
		req.Header.Set(k, v)
	}
	req.Header.Set("Fastly-Key", p.cfg.Token.Reveal())
	resp, err := p.hc.Do(req)
	attempts := max(att.Count(), 1)
	res.Calls += attempts
	// One batch is several requests; it took as many attempts as its hardest one.
	res.Attempts = max(res.Attempts, attempts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	p.log.Debug("fastly: purge request", "batch", b.Seq, "kind", b.Kind, "targets", len(rq.idx), "status", resp.StatusCode, "attempts", attempts)
	if resp.StatusCode != http.StatusOK {
		return nil, p.apiError(resp, raw, b.Kind), nil
	}
	ids := make([]string, len(rq.idx))
	if b.Kind == purge.KindTag {
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, &purge.APIError{Provider: Name, Status: resp.StatusCode, Message: "unreadable answer: " + purge.BodySnippet(raw)}, nil
		}
		for n, i := range rq.idx {
			ids[n] = m[b.Targets[i].Value]
		}
		return ids, nil, nil
	}
	var st struct {
		Status string `json:"status"`
		ID     string `json:"id"`
		Msg    string `json:"msg"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.Status != "ok" {
		return nil, &purge.APIError{Provider: Name, Status: resp.StatusCode, Message: "the API did not confirm the purge: " + purge.BodySnippet(raw)}, nil
	}
	for n := range ids {
		ids[n] = st.ID
	}
	return ids, nil, nil
}

func (p *Provider) headers(b purge.Batch, rq request) map[string]string {
	h := map[string]string{"Accept": "application/json"}
	if rq.body != nil {
		h["Content-Type"] = "application/json"
	}
	if b.Soft && b.Kind != purge.KindEverything {
		h["Fastly-Soft-Purge"] = "1"
	}
	return h
}

func (p *Provider) apiError(resp *http.Response, raw []byte, kind purge.Kind) *purge.APIError {
	status := resp.StatusCode
	ae := &purge.APIError{Provider: Name, Status: status, Retryable: retry.RetryableStatus(status)}
	var e struct {
		Msg    string `json:"msg"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Msg != "" {
		ae.Message = e.Msg
		if e.Detail != "" {
			ae.Message += ": " + e.Detail
		}
	} else {
		ae.Message = purge.BodySnippet(raw)
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		ae.Auth, ae.Retryable = true, false
	}
	if status == http.StatusTooManyRequests {
		ae.Message += resetNote(resp.Header, time.Now())
	}
	ae.Hint = Spec.Hint(ae, kind, p.cfg, &p.s)
	return ae
}

// resetNote says when a used-up hourly limit of API writes resets, from
// Fastly's Fastly-RateLimit-Remaining and Fastly-RateLimit-Reset headers.
// The retrying client has not waited for a reset further away than it
// waits for any answer.
func resetNote(h http.Header, now time.Time) string {
	if h.Get("Fastly-RateLimit-Remaining") != "0" {
		return ""
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(h.Get("Fastly-RateLimit-Reset")), 10, 64)
	if err != nil {
		return ""
	}
	at := time.Unix(secs, 0).UTC()
	return fmt.Sprintf(" (the hourly limit of API writes is used up; it resets at %s, in %s)", at.Format("15:04:05 MST"), max(at.Sub(now), 0).Round(time.Second))
}

// Describe says which requests Purge would send for b, for dry runs, and
// which targets it would refuse.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	if b.Kind == purge.KindEverything && len(b.Targets) == 0 {
		b.Targets = []purge.Target{{Kind: purge.KindEverything}}
	}
	reqs, refused := p.plan(b)
	out := make([]purge.RequestDescription, 0, len(reqs))
	for _, rq := range reqs {
		h := p.headers(b, rq)
		h["Fastly-Key"] = secret.Redacted
		out = append(out, purge.RequestDescription{Method: http.MethodPost, URL: p.api + rq.path, Header: h, Body: string(rq.body)})
	}
	return out, refused
}
