package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/report"
)

// runPurge carries out a plan: it opens the journal (or, for a dry run,
// the plan printer), the verifier, the output writer and the progress bar,
// runs the batches and maps the outcome to an exit status.
func runPurge(ctx context.Context, f *Factory, opts *PurgeOptions, p *purgePlan) error {
	runner, closeJournal, err := p.runner(f, opts)
	if err != nil {
		return err
	}
	defer closeJournal()
	w, err := report.NewPurgeWriter(p.format, f.IO.Out, f.Style())
	if err != nil {
		return usageError(err)
	}
	var writeErr error
	runner.OnResult = func(r purge.Record) {
		if err := w.Record(r); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if bar := purgeProgress(f, p.plan.Len(), p.plan.Targets()); bar != nil {
		runner.Progress = func(done, _ int) { _ = bar.Set(done) }
		defer func() { _ = bar.Finish() }()
	}
	sum, runErr := runner.RunPlan(ctx, p.run, p.plan)
	if err := w.Close(sum); err != nil && writeErr == nil {
		writeErr = err
	}
	if err := p.outcome(sum, runErr, writeErr); err != nil {
		return err
	}
	if f.IO.IsStderrTTY() && p.format == report.Table && !opts.DryRun {
		fmt.Fprintf(f.IO.ErrOut, "✓ Purged %s\n", plural(sum.Purged, "target", "targets"))
	}
	return nil
}

// runner builds the purge runner of a plan: the provider (wrapped by the
// plan printer in a dry run), limits, journal and verifier.
func (p *purgePlan) runner(f *Factory, opts *PurgeOptions) (*purge.Runner, func(), error) {
	logger := f.Logger.With("env", p.env.Name, "provider", p.pcfg.Provider)
	r := &purge.Runner{Provider: p.provider, Logger: logger, Owner: p.owner}
	if opts.DryRun {
		// The plan goes to stdout for people, to stderr when stdout carries JSON.
		planOut := f.IO.Out
		if p.format != report.Table {
			planOut = f.IO.ErrOut
		}
		sum := purge.Summarize(p.provider, p.limits, p.plan)
		if note := p.variantsNote(); note != "" {
			sum.Notes = append(sum.Notes, note)
		}
		if err := sum.Write(planOut); err != nil {
			return nil, nil, operationalError(fmt.Errorf("purge: dry run: %w", err))
		}
		r.Provider = purge.DryRun(p.provider, planOut)
		return r, func() {}, nil
	}
	r.Limits = p.limits
	if note := p.variantsNote(); note != "" {
		fmt.Fprintf(f.IO.ErrOut, "note: %s\n", note)
	}
	j, err := purge.OpenJournal(p.journal)
	if err != nil {
		return nil, nil, operationalError(fmt.Errorf("purge: %w; nothing was sent", err))
	}
	j.Scrub = f.Scrubber
	r.Journal = j
	logger.Debug("journal", "path", p.journal, "run", p.run.ID)
	if opts.Verify {
		prober, err := f.newProber(p.env, probe.Options{}, nil, nil)
		if err != nil {
			_ = j.Close()
			return nil, nil, err
		}
		r.Verifier = &probeVerifier{prober: prober}
		r.Verify = purge.VerifyOptions{Warm: opts.Warm}
		if opts.Related {
			r.Redirects = p.redirectTarget
		}
	}
	return r, func() { _ = j.Close() }, nil
}

// outcome maps a finished run to its exit status. Whenever targets are
// left unconfirmed, the error says how to finish them.
func (p *purgePlan) outcome(sum purge.Summary, runErr, writeErr error) error {
	resume := fmt.Sprintf("cachectl purge --env %s --resume %s", p.env.Name, p.run.ID)
	switch {
	case runErr != nil && errors.Is(runErr, context.Canceled):
		return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("purge: interrupted; the journal is consistent, finish with: %s", resume)}
	case runErr != nil && purge.IsAuthError(runErr):
		fix := "the credentials are fixed"
		if ae := (*purge.APIError)(nil); errors.As(runErr, &ae) && ae.AccessList {
			fix = "the cache admits this machine"
		}
		return operationalError(fmt.Errorf("%w\n  once %s, finish with: %s", runErr, fix, resume))
	case runErr != nil:
		return operationalError(fmt.Errorf("%w\n  finish with: %s", runErr, resume))
	case writeErr != nil:
		return operationalError(fmt.Errorf("purge: writing output: %w", writeErr))
	}
	if err := sum.Err(); err != nil {
		if errors.Is(err, purge.ErrStillCached) || errors.Is(err, purge.ErrUnproven) {
			return checkFailed("%s", err.Error())
		}
		return operationalError(fmt.Errorf("%w\n  finish with: %s", err, resume))
	}
	if p.staleErrors > 0 {
		return operationalError(fmt.Errorf("purge: the stale pages were purged, but %s could not be checked for staleness and %s not purged (see the warnings)",
			plural(p.staleErrors, "URL", "URLs"), map[bool]string{true: "was", false: "were"}[p.staleErrors == 1]))
	}
	return nil
}
