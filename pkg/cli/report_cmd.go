package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/verify"
)

func newCmdReport(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with saved verify reports",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdReportMerge(f, nil))
	return cmd
}

// ReportMergeOptions are the parsed arguments of `cachectl report merge`.
type ReportMergeOptions struct {
	Files []string
}

func newCmdReportMerge(f *Factory, runF func(context.Context, *ReportMergeOptions) error) *cobra.Command {
	opts := &ReportMergeOptions{}
	return &cobra.Command{
		Use:   "merge FILE.jsonl...",
		Short: "Combine the jsonl outputs of sharded verify runs into one report",
		Long: `Read the -o jsonl output of verify runs (the shards of one run: --shard I/N, a
CI matrix, a Kubernetes Indexed Job) and write one report, in route order, in
any output format, with the exit status a single run would have had: 0 all
checks passed, 1 a check failed, 3 a probe got no response. "-" reads stdin.`,
		Example: `  cachectl report merge shard-1.jsonl shard-2.jsonl shard-3.jsonl shard-4.jsonl -o junit > verify.xml
  cachectl report merge verify.jsonl -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return reportMergeRun(f, opts)
		},
	}
}

func reportMergeRun(f *Factory, opts *ReportMergeOptions) error {
	format, err := f.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown)
	if err != nil {
		return err
	}
	readers := make([]*verify.Reader, 0, len(opts.Files))
	for _, name := range opts.Files {
		var r io.Reader
		if name == "-" {
			r = f.IO.In
		} else {
			fh, err := os.Open(name)
			if err != nil {
				return usageErrorf("report merge: %v (expected the jsonl output of cachectl verify)", err)
			}
			defer fh.Close()
			r = fh
		}
		readers = append(readers, verify.NewReader(name, r))
	}
	// The environment and route width come from the records; the table's
	// width is fixed before the first line, so the longest route is not known.
	var (
		w   report.VerifyWriter
		sum verify.Summary
		cur []verify.Record
		ann *report.GitHubAnnotator
	)
	if v, _ := f.Lookup("GITHUB_ACTIONS"); v == "true" {
		ann = report.NewGitHubAnnotator(f.IO.ErrOut, "")
	}
	open := func(env string) error {
		if w != nil {
			return nil
		}
		var err error
		w, err = report.NewVerifyWriter(format, f.IO.Out, report.VerifyOptions{Style: f.Style(), Env: env, RouteWidth: 40})
		return err
	}
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		if err := open(cur[0].Env); err != nil {
			return err
		}
		err := w.Route(cur)
		cur = cur[:0]
		return err
	}
	err = verify.Merge(readers, func(r verify.Record) error {
		if len(cur) > 0 && cur[0].Index != r.Index {
			if err := flush(); err != nil {
				return err
			}
		}
		cur = append(cur, r)
		sum.Add(r)
		if ann != nil {
			return ann.Check(r)
		}
		return nil
	})
	if err != nil {
		return usageError(fmt.Errorf("report merge: %w", err))
	}
	if err := flush(); err != nil {
		return operationalError(fmt.Errorf("report merge: writing output: %w", err))
	}
	if err := open(""); err != nil {
		return usageError(err)
	}
	sum.Finish()
	if err := w.Close(&sum); err != nil {
		return operationalError(fmt.Errorf("report merge: writing output: %w", err))
	}
	if ann != nil {
		if err := ann.Close(); err != nil {
			return operationalError(err)
		}
	}
	if sum.Checks == 0 {
		return usageErrorf("report merge: no records in %d file(s) (expected the -o jsonl output of cachectl verify)", len(opts.Files))
	}
	return verdict("report merge", &sum)
}
