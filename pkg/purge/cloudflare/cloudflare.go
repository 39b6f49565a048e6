// Package cloudflare purges Cloudflare's cache through the zone purge API,
// POST /zones/{zone_id}/purge_cache, with the official Go SDK's cache and
// option packages only (the SDK's root package links every Cloudflare
// service and reads CLOUDFLARE_* variables behind the config's back).
//
// The SDK's own retries are off: requests go through the client in
// purge.Deps, which retries in one place for every provider. On top of
// that, the provider narrows a batch the API refuses because of one URL
// down to that URL, so a single bad target does not fail its neighbours,
// and answers a "too many" refusal by sending fewer targets a request:
// the number the API names, else the next smaller size Cloudflare has
// documented (500, 100, 30), else half. The size the API accepted is kept
// for the rest of the run.
package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cloudflare/cloudflare-go/v7/cache"
	"github.com/cloudflare/cloudflare-go/v7/option"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// Name is the provider's registry name.
const Name = "cloudflare"

// Defaults and limits of the purge API.
const (
	// DefaultAPIURL is Cloudflare's API base.
	DefaultAPIURL = "https://api.cloudflare.com/client/v4"
	// DefaultBatchSize is URLs per request on every plan but Enterprise,
	// as Cloudflare's limits table documents it.
	DefaultBatchSize = 100
	// MaxBatchSize is URLs per request on Enterprise, and the most
	// batch_size may be.
	MaxBatchSize = 500
	// FlexLimit is tags, hosts or prefixes per request (the limits table;
	// the prefix page says 30, and a "too many" answer settles it).
	FlexLimit = 100
	// MaxPrefixSeparators is the most "/" a prefix may hold.
	MaxPrefixSeparators = 31
)

// Error codes the provider acts on.
const (
	codeAuth           = 10000
	codeUnableToPurge  = 1015
	codeUnableToPurge2 = 1016
	codeNotInZone      = 1082
	codeTooManyFiles   = 1094
	codeTooManyTags    = 1101
	codeTooManyHosts   = 1111
	permissionHint     = "Zone → Cache Purge → Purge"
)

// Provider purges one zone. It is safe for concurrent use.
type Provider struct {
	svc    *cache.CacheService
	cfg    purge.Config
	s      Settings
	apiURL string
	log    *slog.Logger

	mu sync.Mutex
	// limits are targets per request by kind: the plan's documented
	// sizes, lowered when the API refuses them as too many.
	limits map[purge.Kind]int
}

var _ purge.Provider = (*Provider)(nil)
var _ purge.Describer = (*Provider)(nil)

// New builds a provider for the zone s names. Requests go through
// deps.HTTP (a retry client is built when it is nil); nothing is read from
// the environment.
func New(cfg purge.Config, s Settings, deps purge.Deps) (*Provider, error) {
	if s.ZoneID == "" {
		return nil, errors.New("cloudflare: zone_id is required")
	}
	if err := cfg.RequireToken(Name, secretNeed.Grants); err != nil {
		return nil, err
	}
	files := s.BatchSize
	if files == 0 {
		files = planBatchSize(s.Plan)
	}
	if files < 1 || files > MaxBatchSize {
		return nil, fmt.Errorf("cloudflare: batch_size %d out of range: want 1 to %d (%d on Free, Pro and Business zones, %d on Enterprise)", s.BatchSize, MaxBatchSize, DefaultBatchSize, MaxBatchSize)
	}
	apiURL, err := cfg.BaseURL(Name, DefaultAPIURL)
	if err != nil {
		return nil, err
	}
	// Every option is explicit. The cache package never consults the
	// environment; only the SDK's root client does, and it is not used.
	svc := cache.NewCacheService(
		option.WithBaseURL(apiURL),
		option.WithHTTPClient(deps.Client()),
		option.WithMaxRetries(0),
		option.WithAPIToken(cfg.Token.Reveal()),
		option.WithHeaderDel("X-Auth-Key"),
		option.WithHeaderDel("X-Auth-Email"),
	)
	limits := map[purge.Kind]int{purge.KindURL: files, purge.KindTag: FlexLimit, purge.KindHost: FlexLimit, purge.KindPrefix: FlexLimit}
	return &Provider{svc: svc, cfg: cfg, s: s, apiURL: apiURL, limits: limits, log: deps.Log()}, nil
}

// Name returns "cloudflare".
func (p *Provider) Name() string { return Name }

// Capabilities lists URL (with or without cache-key headers), tag, host,
// prefix and everything. Cloudflare has no soft purge.
func (p *Provider) Capabilities() []purge.Capability { return slices.Clone(capabilities) }

// BatchLimit is the batch size for URLs (batch_size, by default the
// plan's documented limit), 100 for tags, hosts and prefixes, 1 for
// everything; lower once the API refused a request of that kind as too
// many.
func (p *Provider) BatchLimit(k purge.Kind) int {
	if k == purge.KindEverything {
		return 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limits[k]
}

// lower keeps n as the most targets of kind k a request may hold, when it
// is below the current limit.
func (p *Provider) lower(k purge.Kind, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n >= 1 && n < p.limits[k] {
		p.limits[k] = n
	}
}

// ValidatePrefix checks a prefix the way the API does: a host name and
// path, no scheme, no query or fragment, at most 31 path separators.
func ValidatePrefix(prefix string) error {
	switch {
	case prefix == "":
		return errors.New("empty prefix")
	case strings.Contains(prefix, "://"):
		return fmt.Errorf("prefix %q has a scheme: write it as host/path", prefix)
	case strings.ContainsAny(prefix, "?#"):
		return fmt.Errorf("prefix %q has a query or fragment: prefixes match paths only", prefix)
	case strings.ContainsAny(prefix, " \t\r\n"):
		return fmt.Errorf("prefix %q contains white space", prefix)
	case strings.HasPrefix(prefix, "/"):
		return fmt.Errorf("prefix %q lacks a host name: write it as host/path", prefix)
	case strings.Count(prefix, "/") > MaxPrefixSeparators:
		return fmt.Errorf("prefix %q has %d path separators, more than the %d allowed", prefix, strings.Count(prefix, "/"), MaxPrefixSeparators)
	}
	return nil
}

func validateTarget(t purge.Target) error {
	switch t.Kind {
	case purge.KindPrefix:
		return ValidatePrefix(t.Value)
	case purge.KindURL:
		u, err := url.Parse(t.Value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an absolute http(s) URL", t.Value)
		}
	case purge.KindTag, purge.KindHost:
		if t.Value == "" {
			return fmt.Errorf("empty %s", t.Kind)
		}
	}
	return nil
}

// checkTargets sorts a batch's targets into those the API can take (their
// indexes) and those it would refuse (refused[i] non-nil), which are
// never sent.
func checkTargets(b purge.Batch) (valid []int, refused []error) {
	refused = make([]error, len(b.Targets))
	for i, t := range b.Targets {
		switch err := validateTarget(t); {
		case t.Kind != b.Kind:
			refused[i] = fmt.Errorf("cloudflare: %s target %q in a %s batch: %w", t.Kind, t.Value, b.Kind, purge.ErrInvalidTarget)
		case err != nil:
			refused[i] = fmt.Errorf("cloudflare: %w: %w; not sent", purge.ErrInvalidTarget, err)
		default:
			valid = append(valid, i)
		}
	}
	return valid, refused
}

// run is the state of one Purge call.
type run struct {
	b       purge.Batch
	res     purge.BatchResult
	sent    bool
	ok      int
	firstAE error
}

// Purge sends one batch, splitting it where the API asks for smaller
// requests. It returns an error when the whole batch failed: bad
// credentials, the network, a cancelled context, a rate limit or server
// error that outlasted the retries, or an API refusal of every target.
// Results always holds one entry per target.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	r := &run{b: b, res: purge.NewBatchResult(b.Targets)}
	if p.BatchLimit(b.Kind) == 0 {
		return r.res.Fail(fmt.Errorf("cloudflare: purge by %s: %w; nothing was sent", b.Kind, purge.ErrUnsupported))
	}
	if b.Soft {
		return r.res.Fail(fmt.Errorf("cloudflare: soft purge: %w (Cloudflare always evicts); nothing was sent", purge.ErrUnsupported))
	}
	if b.Kind == purge.KindEverything {
		if len(r.res.Results) == 0 {
			r.res.Results = []purge.TargetResult{{Target: purge.Target{Kind: purge.KindEverything}}}
		}
		idx := make([]int, len(r.res.Results))
		for i := range idx {
			idx[i] = i
		}
		if err := p.send(ctx, r, idx); err != nil {
			return r.res, err
		}
		return r.res, r.batchErr()
	}
	valid, refused := checkTargets(b)
	for i, err := range refused {
		r.res.Results[i].Err = err
	}
	for start := 0; start < len(valid); {
		// The limit may drop while the batch is sent.
		chunk := valid[start:min(start+p.BatchLimit(b.Kind), len(valid))]
		start += len(chunk)
		if err := p.send(ctx, r, chunk); err != nil {
			// Targets not yet sent share the failure that stopped the batch.
			for _, i := range valid {
				if r.res.Results[i].Err == nil && r.res.Results[i].PurgeID == "" {
					r.res.Results[i].Err = err
				}
			}
			return r.res, err
		}
	}
	return r.res, r.batchErr()
}

// batchErr reports an API refusal as the batch's error when nothing was
// purged, so a refused batch is never mistaken for partial success.
func (r *run) batchErr() error {
	if r.sent && r.ok == 0 && r.firstAE != nil {
		return r.firstAE
	}
	return nil
}

// send purges the targets at idx in one request. A returned error stops
// the whole batch; per-target refusals are written into the results.
func (p *Provider) send(ctx context.Context, r *run, idx []int) error {
	targets := make([]purge.Target, len(idx))
	for n, i := range idx {
		targets[n] = r.res.Results[i].Target
	}
	actx, att := retry.WithAttempts(ctx)
	var raw []byte
	var resp *http.Response
	_, err := p.svc.Purge(actx, params(p.s.ZoneID, r.b.Kind, targets),
		option.WithResponseBodyInto(&raw), option.WithResponseInto(&resp))
	attempts := max(att.Count(), 1)
	r.sent = true
	r.res.Calls += attempts
	r.res.Attempts = attempts
	id, ae, err := p.classify(ctx, r.b.Kind, err, resp, raw)
	p.log.Debug("cloudflare: purge request", "batch", r.b.Seq, "kind", r.b.Kind, "targets", len(idx), "attempts", attempts, "purge_id", id, "error", err)
	if err != nil {
		return fmt.Errorf("cloudflare: purge batch %d: %w", r.b.Seq, err)
	}
	if ae == nil {
		for _, i := range idx {
			r.res.Results[i].PurgeID = id
			r.res.Results[i].Err = nil
		}
		r.ok += len(idx)
		return nil
	}
	if ae.Auth || ae.Retryable {
		return fmt.Errorf("cloudflare: purge batch %d: %w", r.b.Seq, ae)
	}
	if len(idx) > 1 && ae.Status != http.StatusOK && tooMany(ae) {
		return p.resend(ctx, r, idx, ae)
	}
	if len(idx) > 1 && ae.Status != http.StatusOK && perTarget(ae) {
		// One target the API will not take: narrow the refusal down to it.
		p.log.Debug("cloudflare: splitting refused request", "batch", r.b.Seq, "targets", len(idx), "code", ae.Code)
		mid := len(idx) / 2
		if err := p.send(ctx, r, idx[:mid]); err != nil {
			return err
		}
		return p.send(ctx, r, idx[mid:])
	}
	werr := fmt.Errorf("cloudflare: purge batch %d: %w", r.b.Seq, ae)
	if r.firstAE == nil {
		r.firstAE = werr
	}
	for _, i := range idx {
		r.res.Results[i].Err = werr
	}
	return nil
}

// resend sends the targets at idx again, fewer a request, after the API
// refused them as too many: at most the size it names, else the next
// smaller documented size. The new size holds for the rest of the run.
func (p *Provider) resend(ctx context.Context, r *run, idx []int, ae *purge.APIError) error {
	size := smallerSize(len(idx), ae.Message)
	p.lower(r.b.Kind, size)
	p.log.Debug("cloudflare: the API refused the request as too many; sending fewer", "batch", r.b.Seq, "kind", r.b.Kind, "targets", len(idx), "code", ae.Code, "batch_limit", size)
	for start := 0; start < len(idx); {
		// A chunk refused again lowers the limit further.
		chunk := idx[start:min(start+p.BatchLimit(r.b.Kind), len(idx))]
		start += len(chunk)
		if err := p.send(ctx, r, chunk); err != nil {
			return err
		}
	}
	return nil
}

// documentedSizes are the per-request sizes Cloudflare's documentation
// has given, largest first: Enterprise URLs, the limits table, the older
// URL limit and the prefix page.
var documentedSizes = []int{MaxBatchSize, DefaultBatchSize, 30}

// namedMaximum finds the number a "too many" message names as the
// maximum ("more than 100", "the maximum is 30").
var namedMaximum = regexp.MustCompile(`(?i)(?:maximum|max|more than|at most|up to|limit)\D{0,24}?(\d+)`)

// smallerSize is how many targets to send a request after n were refused
// as too many: the maximum the message names when it is below n, else the
// largest documented size below n, else half of n.
func smallerSize(n int, msg string) int {
	if m := namedMaximum.FindStringSubmatch(msg); m != nil {
		if v, err := strconv.Atoi(m[1]); err == nil && v >= 1 && v < n {
			return v
		}
	}
	for _, size := range documentedSizes {
		if size < n {
			return size
		}
	}
	return max(n/2, 1)
}

func tooMany(ae *purge.APIError) bool {
	switch ae.Code {
	case codeTooManyFiles, codeTooManyTags, codeTooManyHosts:
		return true
	}
	return ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Message), "too many")
}

func perTarget(ae *purge.APIError) bool {
	switch ae.Code {
	case codeNotInZone, codeUnableToPurge, codeUnableToPurge2:
		return true
	}
	return false
}

// envelope is the API's answer, success or failure.
type envelope struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Result *struct {
		ID string `json:"id"`
	} `json:"result"`
}

// classify turns the SDK's outcome into a purge id, an API refusal, or an
// error without an answer (network, cancellation).
func (p *Provider) classify(ctx context.Context, kind purge.Kind, sdkErr error, resp *http.Response, raw []byte) (string, *purge.APIError, error) {
	if resp == nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if sdkErr == nil {
			sdkErr = errors.New("no response")
		}
		return "", nil, sdkErr
	}
	if sdkErr != nil && resp.Body != nil {
		// The SDK keeps the body of an error answer readable.
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if err != nil {
			// The SDK already read (and closed) the body when reading it
			// failed; its error says why.
			return "", nil, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, sdkErr)
		}
		raw = b
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if resp.StatusCode == http.StatusOK && jsonErr == nil && env.Success {
		id := ""
		if env.Result != nil {
			id = env.Result.ID
		}
		return id, nil, nil
	}
	ae := &purge.APIError{Provider: Name, Status: resp.StatusCode}
	if jsonErr == nil && len(env.Errors) > 0 {
		ae.Code = env.Errors[0].Code
		msgs := make([]string, 0, len(env.Errors))
		for _, e := range env.Errors {
			msgs = append(msgs, fmt.Sprintf("%s (code %d)", e.Message, e.Code))
		}
		ae.Message = strings.Join(msgs, "; ")
	} else {
		ae.Message = purge.BodySnippet(raw)
		if resp.StatusCode == http.StatusOK {
			ae.Message = "the API answered without success: " + ae.Message
		}
	}
	ae.Retryable = retry.RetryableStatus(resp.StatusCode)
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || ae.Code == codeAuth {
		ae.Auth, ae.Retryable = true, false
	}
	ae.Hint = Spec.Hint(ae, kind, p.cfg, &p.s)
	return "", ae, nil
}

// Describe says which requests Purge would send for b, for dry runs, and
// which targets it would refuse. It assumes the batch fits the limits, as
// the planner guarantees.
func (p *Provider) Describe(b purge.Batch) ([]purge.RequestDescription, []error) {
	var targets []purge.Target
	var refused []error
	if b.Kind != purge.KindEverything {
		var valid []int
		valid, refused = checkTargets(b)
		for _, i := range valid {
			targets = append(targets, b.Targets[i])
		}
	}
	var out []purge.RequestDescription
	limit := max(p.BatchLimit(b.Kind), 1)
	for start := 0; start < len(targets) || (start == 0 && b.Kind == purge.KindEverything); start += limit {
		chunk := targets[start:min(start+limit, len(targets))]
		req := params(p.s.ZoneID, b.Kind, chunk)
		js, err := req.MarshalJSON()
		if err != nil {
			js = []byte(err.Error())
		}
		out = append(out, purge.RequestDescription{
			Method: http.MethodPost,
			URL:    p.apiURL + "/zones/" + p.s.ZoneID + "/purge_cache",
			Header: map[string]string{"Authorization": "Bearer REDACTED", "Content-Type": "application/json"},
			Body:   string(js),
		})
		if b.Kind == purge.KindEverything {
			break
		}
	}
	return out, refused
}
