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

// ReportMergeOptions are the parsed arguments of `cachectl report merge`
// and what its plan and run steps use.
type ReportMergeOptions struct {
	cmdDeps

	Files []string
}

func newCmdReportMerge(f *Factory, runF func(context.Context, *ReportMergeOptions) error) *cobra.Command {
	opts := &ReportMergeOptions{cmdDeps: f.deps()}
	return &cobra.Command{
		Use:   "merge FILE.jsonl...",
		Short: "Combine the jsonl outputs of sharded verify runs into one report",
		Long: `Read the -o jsonl output of verify runs (the shards of one run: --shard I/N, a
CI matrix, a Kubernetes Indexed Job) and write one report, in route order, in
any output format, with the exit status a single run would have had: 0 all
checks passed, 1 a check failed, 3 a probe got no response. "-" reads stdin.`,
		Example: `  cachectl report merge shard-1.jsonl shard-2.jsonl shard-3.jsonl shard-4.jsonl -o junit > verify.xml
  cachectl report merge verify.jsonl -o markdown >> "$GITHUB_STEP_SUMMARY"
  cachectl report merge shard-*.jsonl -o html > cache-report.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return reportMergeRun(opts)
		},
	}
}

// reportMergePlan is the files to merge, opened, and the output format;
// every refusal comes from planReportMerge.
type reportMergePlan struct {
	format  report.Format
	readers []*verify.Reader
	files   []io.Closer
}

func planReportMerge(opts *ReportMergeOptions) (*reportMergePlan, error) {
	format, err := opts.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown, report.HTML)
	if err != nil {
		return nil, err
	}
	p := &reportMergePlan{format: format, readers: make([]*verify.Reader, 0, len(opts.Files))}
	for _, name := range opts.Files {
		var r io.Reader
		if name == "-" {
			r = opts.IO.In
		} else {
			fh, err := os.Open(name)
			if err != nil {
				p.close()
				return nil, usageErrorf("report merge: %v (expected the jsonl output of cachectl verify)", err)
			}
			p.files = append(p.files, fh)
			r = fh
		}
		p.readers = append(p.readers, verify.NewReader(name, r))
	}
	return p, nil
}

func (p *reportMergePlan) close() {
	for _, c := range p.files {
		_ = c.Close()
	}
}

func reportMergeRun(opts *ReportMergeOptions) error {
	p, err := planReportMerge(opts)
	if err != nil {
		return err
	}
	defer p.close()
	return runReportMerge(opts, p)
}

func runReportMerge(opts *ReportMergeOptions, p *reportMergePlan) error {
	out := &mergeOutput{format: p.format, w: opts.IO.Out, style: opts.Style()}
	var sum verify.Summary
	ann := githubAnnotator(opts.cmdDeps, "")
	err := verify.Merge(p.readers, func(r verify.Record) error {
		if err := out.add(r); err != nil {
			return err
		}
		sum.Add(r)
		if ann != nil {
			return ann.Check(r)
		}
		return nil
	})
	if err != nil {
		return usageError(fmt.Errorf("report merge: %w", err))
	}
	if err := out.flush(); err != nil {
		return operationalError(fmt.Errorf("report merge: writing output: %w", err))
	}
	if err := out.open(""); err != nil {
		return usageError(err)
	}
	sum.Finish()
	if err := out.report.Close(&sum); err != nil {
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

// mergeOutput writes merged records a route at a time. The environment and
// route width come from the records; the table's width is fixed before the
// first line, so the longest route is not known.
type mergeOutput struct {
	format report.Format
	w      io.Writer
	style  report.Style
	report report.VerifyWriter
	// cur holds the records of the route being read.
	cur []verify.Record
}

// open starts the report for environment env, once.
func (m *mergeOutput) open(env string) error {
	if m.report != nil {
		return nil
	}
	var err error
	m.report, err = report.NewVerifyWriter(m.format, m.w, report.VerifyOptions{Style: m.style, Env: env, RouteWidth: 40})
	return err
}

// add takes the next record; a record of another route writes the one before.
func (m *mergeOutput) add(r verify.Record) error {
	if len(m.cur) > 0 && m.cur[0].Index != r.Index {
		if err := m.flush(); err != nil {
			return err
		}
	}
	m.cur = append(m.cur, r)
	return nil
}

// flush writes the route being read.
func (m *mergeOutput) flush() error {
	if len(m.cur) == 0 {
		return nil
	}
	if err := m.open(m.cur[0].Env); err != nil {
		return err
	}
	err := m.report.Route(m.cur)
	m.cur = m.cur[:0]
	return err
}
