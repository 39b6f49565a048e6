// Package cloudfront purges Amazon CloudFront's cache with invalidations,
// through the AWS SDK for Go v2's cloudfront service client: a URL
// becomes its path (with its query), a prefix a wildcard path, everything
// "/*". One batch is one invalidation of up to 3,000 paths.
//
// Credentials come from the AWS SDK's default chain, read from the
// environment cachectl was started with (EnvVars); the SDK's own retries
// are off and its requests go through the client in purge.Deps, which
// retries in one place for every provider (CloudFront's 400 Throttling
// included). Every invalidation carries a CallerReference made of the
// run's id and its paths, so sending a batch again — a retry, a resume —
// never makes a second invalidation.
//
// CloudFront allows 3,000 paths and 15 wildcard paths in progress per
// distribution. The provider sends an invalidation only when it fits
// beside those in progress, asking CloudFront about them with backoff,
// and when CloudFront still says it is full (others' invalidations), it
// learns about those and waits for room, within wait_timeout.
package cloudfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// Name is the provider's registry name.
const Name = "cloudfront"

// MaxPaths is paths in one invalidation.
const MaxPaths = 3000

// errStillBusy marks a wait for room that outlasted wait_timeout.
var errStillBusy = errors.New("no room for the invalidation")

// Provider invalidates paths of one distribution. It is safe for
// concurrent use.
type Provider struct {
	client   *cloudfront.Client
	cfg      purge.Config
	s        Settings
	endpoint string
	batch    int
	wait     time.Duration
	poll     time.Duration
	log      *slog.Logger
	progress func(string)
	room     *room
}

var (
	_ purge.Provider  = (*Provider)(nil)
	_ purge.Describer = (*Provider)(nil)
	_ purge.Completer = (*Provider)(nil)
	_ purge.PlanNoter = (*Provider)(nil)
)

// New builds a provider for the distribution s names. Credentials come
// from the AWS SDK's default chain, read from deps.LookupEnv; building
// reads the shared config files (when the environment holds no keys) and
// sends nothing.
func New(cfg purge.Config, s Settings, deps purge.Deps) (*Provider, error) {
	if s.DistributionID == "" {
		return nil, errors.New("cloudfront: distribution_id is required")
	}
	if ps := validate(s); len(ps) > 0 {
		return nil, fmt.Errorf("cloudfront: %s: found %s, expected %s", ps[0].Key, ps[0].Value, ps[0].Expected)
	}
	p := &Provider{cfg: cfg, s: s, batch: s.BatchSize, log: deps.Log(), progress: deps.Progress}
	if p.batch == 0 {
		p.batch = MaxPaths
	}
	p.wait, p.poll = durationOr(s.WaitTimeout, DefaultWaitTimeout), durationOr(s.PollInterval, DefaultPollInterval)
	setup, err := loadAWS(deps)
	if err != nil {
		return nil, err
	}
	p.cfg.TokenEnv = setup.source
	hc := deps.Client()
	if setup.roots != nil {
		if hc, err = retry.WithRootCAs(hc, setup.roots); err != nil {
			return nil, fmt.Errorf("cloudfront: AWS_CA_BUNDLE: %w", err)
		}
	}
	var base *string
	if cfg.APIURL != "" {
		api, err := cfg.BaseURL(Name, cfg.APIURL)
		if err != nil {
			return nil, err
		}
		base = aws.String(api)
	}
	p.client = cloudfront.NewFromConfig(setup.cfg, func(o *cloudfront.Options) {
		o.HTTPClient = hc
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
		o.BaseEndpoint = base
		o.Region = setup.cfg.Region
	})
	if p.endpoint, err = endpoint(setup.cfg.Region, base); err != nil {
		return nil, err
	}
	p.room = newRoom(p)
	return p, nil
}

// endpoint is the API's base URL for dry runs: api_url, or where the SDK
// sends requests for the region.
func endpoint(region string, base *string) (string, error) {
	if base != nil {
		return *base, nil
	}
	// Resolving an endpoint is a computation; the context governs no request.
	e, err := cloudfront.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), cloudfront.EndpointParameters{Region: aws.String(region)})
	if err != nil {
		return "", fmt.Errorf("cloudfront: no API endpoint for region %s: %w", region, err)
	}
	return strings.TrimSuffix(e.URI.String(), "/"), nil
}

// Name returns "cloudfront".
func (p *Provider) Name() string { return Name }

// Capabilities lists URL, prefix and everything.
func (p *Provider) Capabilities() []purge.Capability { return slices.Clone(capabilities) }

// BatchLimit is batch_size paths (default 3,000) for URLs, 15 wildcard
// paths for prefixes (all CloudFront allows in progress), 1 for everything.
func (p *Provider) BatchLimit(k purge.Kind) int {
	switch k {
	case purge.KindURL:
		return p.batch
	case purge.KindPrefix:
		return MaxWildcardsInProgress
	case purge.KindEverything:
		return 1
	}
	return 0
}

// say writes a progress line about a wait on CloudFront, to the log when
// there is no progress line.
func (p *Provider) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.progress == nil {
		p.log.Info(msg)
		return
	}
	p.progress(msg)
}

// pollDelay is the pause before the next question about invalidations in
// progress, after waiting for waited: poll_interval, growing with the wait
// to an eighth of it (up to 30s), so a long wait costs few requests and
// ends at most an eighth late.
func (p *Provider) pollDelay(waited time.Duration) time.Duration {
	return max(p.poll, min(waited/8, maxPollInterval))
}

// run is the state of one Purge call.
type run struct {
	b       purge.Batch
	res     purge.BatchResult
	paths   []string
	owners  [][]int
	ok      int
	firstAE error
}

// Purge sends one batch as one invalidation per batch_size paths, each
// when it fits under CloudFront's limits on work in progress. It returns
// an error when the whole batch failed (credentials, the network, a
// cancelled context, throttling or server errors outlasting the retries,
// no room within wait_timeout, a refusal of every path). Results always
// holds one entry per target; a purged target's PurgeID is its
// invalidation's id.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	r := &run{b: b}
	if b.Kind == purge.KindEverything && len(b.Targets) == 0 {
		r.b.Targets = []purge.Target{{Kind: purge.KindEverything}}
	}
	r.res = purge.NewBatchResult(r.b.Targets)
	if p.BatchLimit(b.Kind) == 0 || b.Soft {
		what := "purge by " + string(b.Kind)
		if b.Soft {
			what = "soft purge"
		}
		return r.res.Fail(fmt.Errorf("cloudfront: %s: %w; nothing was sent", what, purge.ErrUnsupported))
	}
	var refused []error
	r.paths, r.owners, refused = batchPaths(r.b)
	for i, err := range refused {
		r.res.Results[i].Err = err
	}
	all := make([]int, len(r.paths))
	for i := range all {
		all[i] = i
	}
	for chunk := range slices.Chunk(all, p.batch) {
		if _, err := p.invalidate(ctx, r, chunk, true); err != nil {
			for _, n := range all {
				r.failPath(n, err, false)
			}
			return r.res, err
		}
	}
	if r.ok == 0 && r.firstAE != nil {
		return r.res, r.firstAE
	}
	return r.res, nil
}

// failPath marks the targets of path n failed; unless force, only those
// neither purged nor already failed.
func (r *run) failPath(n int, err error, force bool) {
	for _, i := range r.owners[n] {
		tr := &r.res.Results[i]
		if force || (tr.Err == nil && tr.PurgeID == "") {
			tr.Err = err
		}
	}
}
