package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/configfile"
	"github.com/cachectl/cachectl/pkg/inspect"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/target"
	"github.com/cachectl/cachectl/pkg/textdiff"
)

// recordPlan is everything `verify --record` needs, decided before any
// probe is sent: every refusal comes from planRecord.
type recordPlan struct {
	file     string
	src      []byte
	env      *config.Environment
	routes   []config.Route
	urls     []string
	variants []probe.Variant
	session  *probe.Session
	probe    probe.Options
}

func planRecord(opts *VerifyOptions) (*recordPlan, error) {
	if err := checkRecordFlags(opts); err != nil {
		return nil, err
	}
	cfg, env, err := opts.requireEnvironment("verify --record")
	if err != nil {
		return nil, err
	}
	if cfg.File == "" {
		return nil, usageErrorf("verify --record: no config file to record into (expected --config FILE or ./cachectl.yaml)")
	}
	if !opts.Yes && !opts.IO.CanPrompt() {
		return nil, usageErrorf("verify --record: no terminal to confirm on; add --yes to write the changes to %s; nothing was sent", cfg.File)
	}
	p := &recordPlan{file: cfg.File, env: env}
	if p.routes, err = chosenRoutes(cfg, opts.RecordRoutes); err != nil {
		return nil, err
	}
	if err := checkCookieEnv(env, opts.CookieEnv, cfg.File); err != nil {
		return nil, err
	}
	if p.session, err = resolveSession(opts.Lookup, env, opts.CookieEnv); err != nil {
		return nil, err
	}
	p.variants = []probe.Variant{probe.Anonymous}
	if p.session != nil {
		p.variants = append(p.variants, probe.LoggedIn)
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	if p.src, err = os.ReadFile(cfg.File); err != nil {
		return nil, usageErrorf("verify --record: %v", err)
	}
	if p.probe, err = opts.proberOptions(env, probe.Options{KeepAlive: !opts.Fresh}, nil, opts.CacheHeaders); err != nil {
		return nil, err
	}
	return p, checkHostHeader(p.probe, env, p.session)
}

// checkRecordFlags refuses what --record does not take: other route
// sources (it records the config's routes) and other outputs (it writes a
// diff).
func checkRecordFlags(opts *VerifyOptions) error {
	if _, err := opts.OutputFormat(report.Table); err != nil {
		return usageErrorf("verify --record writes a diff of the config file: %v", err)
	}
	for _, f := range []struct {
		set  bool
		name string
	}{{opts.Routes != "", "--routes"}, {opts.Sitemap != "", "--sitemap"}, {opts.Sample != 0, "--sample"}, {opts.Shard != "" || opts.Shards != 0, "--shard"}, {opts.Retries != 0, "--retry-until-pass"}} {
		if f.set {
			return usageErrorf("verify --record: %s does not go with --record (it records routes of the config, named as ROUTE arguments)", f.name)
		}
	}
	return checkConcurrency(opts.Concurrency)
}

// chosenRoutes are the config's routes named (all when none is), in the
// file's order.
func chosenRoutes(cfg *config.Config, names []string) ([]config.Route, error) {
	for _, n := range names {
		if !slices.ContainsFunc(cfg.Routes, func(r config.Route) bool { return r.Path == n }) {
			return nil, usageErrorf("verify --record: %q is not a route of %s (expected a path as written under routes:)", n, cfg.File)
		}
	}
	var out []config.Route
	for _, r := range cfg.Routes {
		if len(names) == 0 || slices.Contains(names, r.Path) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, usageErrorf("verify --record: %s has no routes to record", cfg.File)
	}
	return out, nil
}

// resolve turns each route into its URL in the environment.
func (p *recordPlan) resolve() error {
	check := sessionCheck(p.env, p.session)
	for i, r := range p.routes {
		u, err := target.Resolve(p.env.TargetEnv(), r.Path)
		if err == nil && check != nil {
			err = check(u)
		}
		if err != nil {
			return usageError(fmt.Errorf("route %d (%s): %w", i+1, r.Path, err))
		}
		p.urls = append(p.urls, u)
	}
	return nil
}

func recordRun(ctx context.Context, opts *VerifyOptions) error {
	p, err := planRecord(opts)
	if err != nil {
		return err
	}
	return runRecord(ctx, opts, p)
}

func runRecord(ctx context.Context, opts *VerifyOptions, p *recordPlan) error {
	recorded, err := p.observe(ctx, opts.Concurrency)
	if err != nil {
		return err
	}
	changes, err := configfile.Record(p.src, recorded)
	if err != nil {
		return fmt.Errorf("verify --record: %s: %w", p.file, err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "No change: the expectations of %s in %s already match what they do now.\n", plural(len(recorded), "route", "routes"), p.file)
		return nil
	}
	if err := writeRecordDiff(opts, p, changes); err != nil {
		return operationalError(fmt.Errorf("verify --record: writing output: %w", err))
	}
	if !opts.Yes {
		if ok, err := confirm(opts.cmdDeps, fmt.Sprintf("Write these changes to %s?", p.file)); err != nil || !ok {
			fmt.Fprintf(opts.IO.ErrOut, "%s unchanged.\n", p.file)
			return err
		}
	}
	if err := configfile.Write(p.file, configfile.Apply(p.src, changes), p.src, true); err != nil {
		if errors.Is(err, configfile.ErrChanged) {
			return operationalError(fmt.Errorf("verify --record: %s changed while the routes were probed; nothing was written (run it again)", p.file))
		}
		return fmt.Errorf("verify --record: %s not written: %w", p.file, err)
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "✓ Recorded the expectations of %s in %s\n", plural(len(changes), "route", "routes"), p.file)
	}
	return nil
}

// observe probes the routes and returns what each does now; a variant the
// environment cannot probe (logged in, without a session) is kept as the
// file has it. A route that got no response stops the run: nothing is
// recorded from half a picture.
func (p *recordPlan) observe(ctx context.Context, concurrency int) ([]configfile.Route, error) {
	recorded := make([]configfile.Route, len(p.routes))
	var failed []string
	err := observeRoutes(ctx, p.probe, p.urls, p.variants, p.session, concurrency, func(i int, g inspect.Group) {
		if reason := noResponse(g); reason != "" {
			failed = append(failed, p.routes[i].Path+" ("+reason+")")
			return
		}
		r := configfile.Route{Path: p.routes[i].Path, Variants: observeVariants(g, p.variants)}
		if p.routes[i].Expect.LoggedIn != nil && !slices.Contains(p.variants, probe.LoggedIn) {
			r.Variants = append(r.Variants, configfile.Variant{Variant: probe.LoggedIn, Keep: true})
		}
		recorded[i] = r
	})
	if err == nil && len(failed) > 0 {
		err = fmt.Errorf("%s got no response: %s", plural(len(failed), "route", "routes"), strings.Join(failed, "; "))
	}
	if err != nil {
		return nil, operationalError(fmt.Errorf("verify --record: %w; nothing was written", err))
	}
	return recorded, nil
}

// writeRecordDiff shows the changes as a unified diff of the file on
// stdout, coloured on a terminal.
func writeRecordDiff(opts *VerifyOptions, p *recordPlan, changes []textdiff.Change) error {
	st := opts.Style()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", st.Bold("--- "+p.file), st.Bold("+++ "+p.file+" (recorded from "+p.env.Name+")"))
	for _, h := range textdiff.Hunks(textdiff.SplitLines(string(p.src)), changes, 3) {
		b.WriteString(st.Cyan(h.Header()) + "\n")
		for _, l := range h.Lines {
			line := string(l.Kind) + l.Text
			switch l.Kind {
			case textdiff.Removed:
				line = st.Red(line)
			case textdiff.Added:
				line = st.Green(line)
			}
			b.WriteString(line + "\n")
		}
	}
	_, err := fmt.Fprint(opts.IO.Out, b.String())
	return err
}

// confirm asks question on stderr and reads the answer from stdin: yes
// only for "y" or "yes".
func confirm(d cmdDeps, question string) (bool, error) {
	fmt.Fprintf(d.IO.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(d.IO.In).ReadString('\n')
	if err != nil && line == "" {
		return false, usageErrorf("no answer read")
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
