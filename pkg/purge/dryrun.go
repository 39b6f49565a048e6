package purge

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// DryRun wraps p so that Purge prints each batch — its targets and, for
// providers that implement Describer, the exact requests (method,
// endpoint, headers, body) it would send and the targets it would refuse —
// to w, and sends nothing. A Runner given a DryRun provider reports every
// target as planned, with the reason for those that would be refused.
func DryRun(p Provider, w io.Writer) Provider {
	return &dryRunProvider{p: p, w: w}
}

type dryRunProvider struct {
	p  Provider
	mu sync.Mutex
	w  io.Writer
}

func (d *dryRunProvider) Name() string               { return d.p.Name() }
func (d *dryRunProvider) Capabilities() []Capability { return d.p.Capabilities() }
func (d *dryRunProvider) BatchLimit(k Kind) int      { return d.p.BatchLimit(k) }

// EntryKey is the wrapped provider's, so a dry run batches as a run does.
func (d *dryRunProvider) EntryKey(t Target) string {
	if k, ok := d.p.(EntryKeyer); ok {
		return k.EntryKey(t)
	}
	return targetKey(t)
}

// Purge prints the batch and sends nothing: no calls. Targets the
// provider would refuse without sending come back with the reason in
// their result, so the run can report them.
func (d *dryRunProvider) Purge(_ context.Context, b Batch) (BatchResult, error) {
	var reqs []RequestDescription
	var refused []error
	if desc, ok := d.p.(Describer); ok {
		reqs, refused = desc.Describe(b)
	}
	var sb strings.Builder
	soft := ""
	if b.Soft {
		soft = ", soft"
	}
	fmt.Fprintf(&sb, "batch %d: %s, %d target%s%s (%s)\n", b.Seq, b.Kind, len(b.Targets), plural(len(b.Targets)), soft, d.p.Name())
	res := NewBatchResult(b.Targets)
	for i, t := range b.Targets {
		fmt.Fprintf(&sb, "  %s", displayTarget(t))
		if len(t.Headers) > 0 {
			fmt.Fprintf(&sb, " [%s]", FormatHeaders(t.Headers))
		}
		if why := reason(t); why != "given" {
			fmt.Fprintf(&sb, " (%s)", why)
		}
		sb.WriteString("\n")
		if i < len(refused) && refused[i] != nil {
			res.Results[i].Err = refused[i]
			fmt.Fprintf(&sb, "    would be refused: %v\n", refused[i])
		}
	}
	for _, r := range reqs {
		fmt.Fprintf(&sb, "  -> %s %s\n", r.Method, r.URL)
		for _, name := range slices.Sorted(maps.Keys(r.Header)) {
			fmt.Fprintf(&sb, "       %s: %s\n", name, r.Header[name])
		}
		if r.Body != "" {
			fmt.Fprintf(&sb, "       %s\n", r.Body)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := io.WriteString(d.w, sb.String()); err != nil {
		return res, fmt.Errorf("purge: dry run: write batch %d: %w", b.Seq, err)
	}
	return res, nil
}

// planNote prints what the provider has to say about the whole plan
// (PlanNoter) after a dry run's batches.
func (s *session) planNote(plan *BatchPlan) {
	d, ok := s.r.Provider.(*dryRunProvider)
	if !ok {
		return
	}
	n, ok := d.p.(PlanNoter)
	if !ok {
		return
	}
	note := n.PlanNote(plan.All())
	if note == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := io.WriteString(d.w, strings.TrimSuffix(note, "\n")+"\n"); err != nil {
		s.log.Warn("dry run: write the plan's note", "error", err)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
