package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/measure"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/target"
)

// MeasureOptions are the parsed flags of `cachectl measure` and what its
// plan and run steps use.
type MeasureOptions struct {
	cmdDeps

	Targets      []string
	Samples      int
	State        string
	Bust         string
	BustParam    string
	As           string
	Headers      []string
	CacheHeaders []string
	CookieEnv    string
}

// maxSamples bounds --samples: a measurement is a few dozen requests a
// route, not a load test.
const maxSamples = 1000

// bustParamRE is a query parameter name that needs no escaping.
var bustParamRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

func newCmdMeasure(f *Factory, runF func(context.Context, *MeasureOptions) error) *cobra.Command {
	opts := &MeasureOptions{cmdDeps: f.deps()}
	cmd := &cobra.Command{
		Use:   "measure URL|PATH...",
		Short: "Time routes with the cache cold (real misses) and warm (real hits)",
		Long: `Take --samples timing samples of each route, variant and cache state, one
request at a time. Cold samples are real misses: each request gets a unique
query parameter (--bust query) or the URL is purged through the environment's
CDN provider first (--bust purge, for caches that ignore the query string).
Warm samples are real hits, taken after one priming request that is not
counted. A response in any other cache state is discarded and counted, never
kept, so a lucky hit cannot pass for a fast origin.

Each sample records the time to first byte, the total time, the status code,
the normalized cache status and the response's Server-Timing metrics (the
origin's database time, a CDN's edge and origin time), so a route's time can be
split into network, edge, origin and database. On a warm sample only the CDN's
own metrics are kept: the origin's are stored with the cached copy.

-o json writes the document cachectl compare reads. Requests reuse connections
(keep-alive), so TTFB is the server's time plus one round trip.

Exit status: 0 every run kept --samples samples, 1 a run ended short because
the route never reached its state (every response discarded is counted in the
output), 2 bad input (nothing sent), 3 requests or purges failed.`,
		Example: `  cachectl measure --env production /articles/x
  cachectl measure --env production --samples 30 --state cold -o json /popular > before.json
  cachectl measure --env production --bust purge -o json /popular > after.json
  cachectl compare before.json after.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return measureRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Samples, "samples", 20, "samples to keep per route, variant and state")
	fl.StringVar(&opts.State, "state", "both", "cache state to measure: cold, warm or both")
	fl.StringVar(&opts.Bust, "bust", "query", "how cold samples miss the cache: query (a unique query parameter) or purge (through the environment's CDN provider)")
	fl.StringVar(&opts.BustParam, "bust-param", "cachectl-bust", "the query parameter --bust query adds")
	fl.StringVar(&opts.As, "as", "anonymous", "visitor variant: anonymous, logged-in or both (a logged-in visitor usually bypasses the cache)")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, `extra request header "Name: value" (repeatable; no credentials)`)
	fl.StringArrayVar(&opts.CacheHeaders, "cache-header", nil, "response header holding the site's own cache status, checked first (repeatable)")
	fl.StringVar(&opts.CookieEnv, "cookie-env", "", "read the session cookie value from this environment variable (never from a flag)")
	return cmd
}

// measurePlan is everything measure needs, decided before anything is
// sent: every refusal comes from planMeasure.
type measurePlan struct {
	format   report.Format
	env      *config.Environment
	urls     []string
	width    int
	states   []measure.State
	variants []probe.Variant
	session  *probe.Session
	probe    probe.Options
	// buster makes cold samples: a query buster, or purges through the
	// environment's provider.
	buster measure.Buster
}

func planMeasure(opts *MeasureOptions) (*measurePlan, error) {
	format, cfg, env, err := opts.planStart(report.Table, report.JSON, report.JSONL)
	if err != nil {
		return nil, err
	}
	p := &measurePlan{format: format, env: env}
	if err := p.readFlags(opts); err != nil {
		return nil, err
	}
	if p.session, err = variantSession(opts.Lookup, opts.As, opts.CookieEnv, cfg.File, p.env, p.variants); err != nil {
		return nil, err
	}
	if err := p.resolve(opts, cfg); err != nil {
		return nil, err
	}
	if p.probe, err = opts.proberOptions(p.env, probe.Options{KeepAlive: true, NoBodyHash: true}, opts.Headers, opts.CacheHeaders); err != nil {
		return nil, err
	}
	if err := checkHostHeader(p.probe, p.env, p.session); err != nil {
		return nil, err
	}
	if opts.Bust == "purge" {
		return p, p.planPurge(opts)
	}
	p.buster = measure.NewQueryBuster(opts.BustParam)
	return p, nil
}

// readFlags checks the flags that need no config: the targets, sample
// count, states, busting and variants.
func (p *measurePlan) readFlags(opts *MeasureOptions) error {
	if len(opts.Targets) == 0 {
		return usageErrorf("measure: no URL or path given (expected URL|PATH arguments)")
	}
	if opts.Samples < 1 || opts.Samples > maxSamples {
		return usageErrorf("--samples %d: expected 1 to %d", opts.Samples, maxSamples)
	}
	switch opts.State {
	case "cold":
		p.states = []measure.State{measure.Cold}
	case "warm":
		p.states = []measure.State{measure.Warm}
	case "both":
		p.states = []measure.State{measure.Cold, measure.Warm}
	default:
		return usageErrorf("--state %q: expected cold, warm or both", opts.State)
	}
	switch opts.Bust {
	case "query":
		if !bustParamRE.MatchString(opts.BustParam) {
			return usageErrorf("--bust-param %q: expected a query parameter name of letters, digits, '-', '_' or '.'", opts.BustParam)
		}
	case "purge":
	default:
		return usageErrorf("--bust %q: expected query or purge", opts.Bust)
	}
	var err error
	p.variants, err = inspectVariants(opts.As, false)
	return err
}

// resolve turns the targets into URLs, once each, in order.
func (p *measurePlan) resolve(opts *MeasureOptions, cfg *config.Config) error {
	list, err := newTargetList(opts.IO.In, p.env, opts.Targets, "", sessionCheck(p.env, p.session))
	if errors.Is(err, target.ErrNoEnvironment) {
		return usageErrorf("%v; %s", err, knownEnvironments(cfg, opts.Environ, "--env may name: "))
	}
	if err != nil {
		return err
	}
	for _, u := range list.held {
		if !slices.Contains(p.urls, u) {
			p.urls = append(p.urls, u)
		}
	}
	p.width = list.width
	return nil
}

// planPurge builds the environment's purge provider for --bust purge, with
// its rate limits; every URL must be one the environment may purge.
func (p *measurePlan) planPurge(opts *MeasureOptions) error {
	if p.env == nil || p.env.CDN.Provider == "" {
		return usageErrorf("--bust purge needs --env NAME for an environment with a cdn.provider (or use --bust query)")
	}
	targets := make([]purge.Target, len(p.urls))
	for i, u := range p.urls {
		targets[i] = purge.Target{Kind: purge.KindURL, Value: u}
	}
	if err := purge.CheckHosts(p.env.Name, targets, p.env.AllowedHosts()); err != nil {
		return usageError(fmt.Errorf("--bust purge: %w", err))
	}
	spec, pcfg, provider, err := newProvider(opts.cmdDeps, p.env)
	if err != nil {
		return err
	}
	limits, err := spec.Limits(pcfg, p.env.CDN.Settings)
	if err != nil {
		return usageError(err)
	}
	p.buster = measure.PurgeBuster{Purge: purgeOne(provider, limits)}
	return nil
}

// purgeOne purges one URL through provider within its rate limits; an
// error says what the provider answered.
func purgeOne(provider purge.Provider, limits *purge.Limits) func(context.Context, string) error {
	seq := 0
	return func(ctx context.Context, u string) error {
		seq++
		b := purge.Batch{Seq: seq, Kind: purge.KindURL, Targets: []purge.Target{{Kind: purge.KindURL, Value: u}}}
		if err := limits.Wait(ctx, b); err != nil {
			return err
		}
		res, err := provider.Purge(ctx, b)
		if err == nil && len(res.Results) == 1 {
			err = res.Results[0].Err
		}
		if err != nil {
			return fmt.Errorf("--bust purge: %s: %w", u, err)
		}
		return nil
	}
}

func measureRun(ctx context.Context, opts *MeasureOptions) error {
	p, err := planMeasure(opts)
	if err != nil {
		return err
	}
	return runMeasure(ctx, opts, p)
}

func runMeasure(ctx context.Context, opts *MeasureOptions, p *measurePlan) error {
	start := time.Now()
	doc := &measure.Document{
		FormatVersion: measure.FormatVersion, Started: start.UTC().Truncate(time.Second), Machine: thisMachine(),
		Samples: opts.Samples, Bust: opts.Bust, Runs: []measure.Run{},
	}
	if p.env != nil {
		doc.Env = p.env.Name
	}
	w, err := report.NewMeasureWriter(p.format, opts.IO.Out, report.MeasureOptions{Style: opts.Style(), URLWidth: p.width, Samples: opts.Samples})
	if err != nil {
		return usageError(err)
	}
	bar := measureProgress(opts, len(p.urls)*len(p.variants)*len(p.states))
	runErr := measure.Measure(ctx, probe.New(p.probe), p.urls, measure.Options{
		Samples: opts.Samples, States: p.states, Variants: p.variants, Session: p.session, Buster: p.buster,
	}, func(r measure.Run) error {
		doc.Runs = append(doc.Runs, r)
		opts.Logger.Debug("run", "url", r.URL, "variant", r.Variant, "state", r.State, "kept", len(r.Samples), "discarded", r.Discarded)
		if bar != nil {
			_ = bar.Clear()
			defer func() { _ = bar.Add(1) }()
		}
		return w.Run(r)
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err := w.Close(doc, float64(time.Since(start).Microseconds())/1000); err != nil {
		return operationalError(fmt.Errorf("measure: writing output: %w", err))
	}
	if runErr != nil {
		return operationalError(fmt.Errorf("measure: %w", runErr))
	}
	return measureVerdict(doc)
}

// measureProgress is the progress bar over runs on stderr, nil unless both
// stdout and stderr are terminals.
func measureProgress(opts *MeasureOptions, runs int) *progressbar.ProgressBar {
	if !opts.IO.ProgressEnabled() {
		return nil
	}
	return progressbar.NewOptions(runs,
		progressbar.OptionSetWriter(opts.IO.ErrOut),
		progressbar.OptionSetDescription("measure"),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// measureVerdict turns a finished measurement into the exit-code contract:
// a run short of its samples is a failed check (exit 1), or an operational
// failure (exit 3) when requests failed.
func measureVerdict(doc *measure.Document) error {
	var short []string
	failed := false
	for _, r := range doc.Runs {
		if len(r.Samples) >= doc.Samples {
			continue
		}
		failed = failed || r.DiscardedBy[measure.ErrorStatus] > 0
		short = append(short, fmt.Sprintf("%s: %d kept, %d discarded (%s)", r.Key(), len(r.Samples), r.Discarded, discardReasons(r)))
	}
	if len(short) == 0 {
		return nil
	}
	msg := fmt.Sprintf("measure: %d of %d runs kept fewer than %d samples:\n  %s", len(short), len(doc.Runs), doc.Samples, strings.Join(short, "\n  "))
	if failed {
		return operationalError(errors.New(msg))
	}
	return checkFailed("%s", msg)
}

// discardReasons says why a run's responses were discarded.
func discardReasons(r measure.Run) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(r.DiscardedBy)) {
		parts = append(parts, fmt.Sprintf("%d %s", r.DiscardedBy[s], s))
	}
	want := "MISS or EXPIRED"
	if r.State == measure.Warm {
		want = "HIT"
	}
	why := strings.Join(parts, ", ") + "; expected " + want
	if r.Error != "" {
		why += "; last error: " + r.Error
	}
	return why
}

// thisMachine describes the machine a measurement runs on.
func thisMachine() measure.Machine {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return measure.Machine{Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version(), Cachectl: version}
}
