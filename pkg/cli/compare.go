package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/measure"
	"github.com/cachectl/cachectl/pkg/report"
)

// CompareOptions are the parsed flags of `cachectl compare` and what its
// plan and run steps use.
type CompareOptions struct {
	cmdDeps

	Old, New    string
	Alpha       float64
	MinDeltaPct float64
	MinDeltaMs  float64
}

func newCmdCompare(f *Factory, runF func(context.Context, *CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{cmdDeps: f.deps()}
	d := measure.DefaultCompareOptions
	cmd := &cobra.Command{
		Use:   "compare OLD.json NEW.json",
		Short: "Compare two measure runs route by route, with a rank test",
		Long: `Read two outputs of cachectl measure -o json, pair their runs by URL, visitor
variant and cache state (a cold run is only ever compared with a cold one), and
for each metric — ttfb_ms, total_ms and every server_timing.NAME — show the old
and new medians, the change, the p-value of a Mann-Whitney U test and a verdict.

A metric is improved or regressed only when the test says the two sets of
samples differ (p < --alpha) and the median moved by at least --min-delta-pct
percent and --min-delta-ms milliseconds; anything else is unchanged. The
p-value is the chance of seeing a difference at least this large between two
measurements of the same thing; the minimum effects keep a real but
meaningless change (a tenth of a millisecond) from failing a build. Runs and
metrics found in only one file are listed as missing, never guessed.

Exit status: 0 nothing regressed, 1 something regressed, 2 the files cannot be
compared (not measure output, another format version, unreadable).`,
		Example: `  cachectl compare before.json after.json
  cachectl compare -o markdown before.json after.json >> "$GITHUB_STEP_SUMMARY"
  cachectl compare --min-delta-pct 5 --min-delta-ms 1 before.json after.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf("compare: expected two files, OLD.json and NEW.json (outputs of cachectl measure -o json); got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return compareRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&opts.Alpha, "alpha", d.Alpha, "significance level: a difference counts when the rank test's p-value is below it")
	fl.Float64Var(&opts.MinDeltaPct, "min-delta-pct", d.MinDeltaPct, "smallest change of the median that counts, in percent of the old median")
	fl.Float64Var(&opts.MinDeltaMs, "min-delta-ms", d.MinDeltaMs, "smallest change of the median that counts, in milliseconds")
	return cmd
}

// comparePlan is a comparison decided before anything is written: both
// documents read and checked.
type comparePlan struct {
	format   report.Format
	old, new *measure.Document
	options  measure.CompareOptions
}

func planCompare(opts *CompareOptions) (*comparePlan, error) {
	format, err := opts.OutputFormat(report.Table, report.JSON, report.JSONL, report.Markdown)
	if err != nil {
		return nil, err
	}
	switch {
	case !(opts.Alpha > 0 && opts.Alpha < 1):
		return nil, usageErrorf("--alpha %g: expected a probability between 0 and 1, such as 0.05", opts.Alpha)
	case opts.MinDeltaPct < 0:
		return nil, usageErrorf("--min-delta-pct %g: expected a percentage ≥ 0", opts.MinDeltaPct)
	case opts.MinDeltaMs < 0:
		return nil, usageErrorf("--min-delta-ms %g: expected milliseconds ≥ 0", opts.MinDeltaMs)
	}
	p := &comparePlan{format: format, options: measure.CompareOptions{Alpha: opts.Alpha, MinDeltaPct: opts.MinDeltaPct, MinDeltaMs: opts.MinDeltaMs}}
	if p.old, err = readMeasurement(opts.Old); err != nil {
		return nil, err
	}
	if p.new, err = readMeasurement(opts.New); err != nil {
		return nil, err
	}
	return p, nil
}

// readMeasurement reads a measure document; anything compare cannot use
// is a usage error naming the file.
func readMeasurement(path string) (*measure.Document, error) {
	fh, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, usageErrorf("compare: %s cannot be read: %v (expected the output of cachectl measure -o json)", path, err)
	}
	defer fh.Close()
	doc, err := measure.Read(fh)
	if err != nil {
		return nil, usageErrorf("compare: %s cannot be compared: %v", path, err)
	}
	return doc, nil
}

func compareRun(opts *CompareOptions) error {
	p, err := planCompare(opts)
	if err != nil {
		return err
	}
	return runCompare(opts, p)
}

func runCompare(opts *CompareOptions, p *comparePlan) error {
	c := measure.Compare(p.old, p.new, p.options)
	err := report.WriteComparison(p.format, opts.IO.Out, c, report.CompareOptions{
		Style: opts.Style(),
		Old:   report.CompareSide{File: opts.Old, Started: p.old.Started, Machine: p.old.Machine},
		New:   report.CompareSide{File: opts.New, Started: p.new.Started, Machine: p.new.Machine},
	})
	if err != nil {
		return operationalError(fmt.Errorf("compare: writing output: %w", err))
	}
	if c.Regressed > 0 {
		return checkFailed("compare: %s regressed (p < %g and at least %g%% and %g ms slower)", plural(c.Regressed, "metric", "metrics"), p.options.Alpha, p.options.MinDeltaPct, p.options.MinDeltaMs)
	}
	return nil
}
