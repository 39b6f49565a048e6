package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/purge"
)

// PurgeWriter writes purge results target by target.
type PurgeWriter interface {
	// Record writes one target's outcome.
	Record(r purge.Record) error
	// Close writes the summary.
	Close(s purge.Summary) error
}

// NewPurgeWriter returns a writer for format f.
func NewPurgeWriter(f Format, w io.Writer, st Style) (PurgeWriter, error) {
	switch f {
	case Table:
		return &purgeTable{w: w, st: st}, nil
	case JSON:
		return &purgeJSON{w: w}, nil
	case JSONL:
		return &purgeJSONL{enc: newEncoder(w)}, nil
	}
	return nil, fmt.Errorf("purge cannot write %s (expected table, json or jsonl)", f)
}

type purgeJSONL struct{ enc *json.Encoder }

func (p *purgeJSONL) Record(r purge.Record) error { return p.enc.Encode(r) }
func (p *purgeJSONL) Close(purge.Summary) error   { return nil }

// purgeJSON writes one document, {"targets": [...], "summary": {...}},
// as the records come: a purge of a million targets holds none of them.
type purgeJSON struct {
	w io.Writer
	n int
}

func (p *purgeJSON) Record(r purge.Record) error {
	sep := ",\n    "
	if p.n == 0 {
		sep = "{\n  \"targets\": [\n    "
	}
	p.n++
	return writeIndented(p.w, sep, r, "    ")
}

func (p *purgeJSON) Close(s purge.Summary) error {
	head := "\n  ],\n  \"summary\": "
	if p.n == 0 {
		head = "{\n  \"targets\": [],\n  \"summary\": "
	}
	if err := writeIndented(p.w, head, s, "  "); err != nil {
		return err
	}
	_, err := io.WriteString(p.w, "\n}\n")
	return err
}

// writeIndented writes head, then v as indented JSON whose lines after
// the first start with prefix, without a final newline.
func writeIndented(w io.Writer, head string, v any, prefix string) error {
	var buf bytes.Buffer
	buf.WriteString(head)
	enc := newEncoder(&buf)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}

type purgeTable struct {
	w       io.Writer
	st      Style
	started bool
}

func (p *purgeTable) Record(r purge.Record) error {
	st := p.st
	if !p.started {
		p.started = true
		fmt.Fprintln(p.w, st.Bold(fmt.Sprintf("%-10s  %5s  %-8s  %s", "STATE", "BATCH", "ATTEMPTS", "TARGET")))
	}
	state := fmt.Sprintf("%-10s", r.State)
	switch r.State {
	case purge.Purged:
		state = st.Green(state)
	case purge.Failed:
		state = st.Red(state)
	case purge.Skipped:
		state = st.Yellow(state)
	}
	target := r.Target
	if r.Kind != purge.KindURL && r.Kind != "" {
		target = string(r.Kind) + ": " + target
	}
	fmt.Fprintf(p.w, "%s  %5d  %8d  %s\n", state, r.Batch, r.Attempts, target)
	if extra := recordNotes(r); len(extra) > 0 {
		fmt.Fprintln(p.w, "    "+st.Dim(strings.Join(extra, " | ")))
	}
	if r.Error != "" {
		fmt.Fprintf(p.w, "    %s %s\n", st.Red("error:"), r.Error)
	}
	if v := r.Verify; v != nil {
		fmt.Fprintln(p.w, "    "+verifyLine(st, v))
		if v.Note != "" {
			fmt.Fprintf(p.w, "    %s %s\n", st.Yellow("note:"), v.Note)
		}
	}
	return nil
}

// verifyLine is the table's line for the check after a purge.
func verifyLine(st Style, v *purge.VerifyRecord) string {
	line := fmt.Sprintf("verify: %s", v.Cache.Status)
	if v.Cache.Source != "" {
		line += " (" + v.Cache.Source + ")"
	}
	switch {
	case v.Passed:
		line = st.Green("✓ " + line)
	case v.Unproven:
		line = st.Yellow("? " + line)
	default:
		line = st.Red("✖ " + line)
	}
	if v.Error != "" {
		line += ": " + v.Error
	}
	if v.WarmMS != nil {
		line += fmt.Sprintf(" | warm again after %s", time.Duration(*v.WarmMS)*time.Millisecond)
	}
	return line
}

// recordNotes are the details of a record the table shows under it: the
// variant's headers, what pulled the target in, its purge id and owner.
func recordNotes(r purge.Record) []string {
	var extra []string
	if len(r.Headers) > 0 {
		extra = append(extra, "headers "+purge.FormatHeaders(r.Headers))
	}
	extra = append(extra, purge.Reasons(r.VariantOf, r.RelatedTo, r.Stale)...)
	if r.PurgeID != "" {
		extra = append(extra, "purge id "+r.PurgeID)
	}
	if r.EstimatedSeconds > 0 {
		extra = append(extra, fmt.Sprintf("done in about %ds", r.EstimatedSeconds))
	}
	if r.Owner != "" {
		extra = append(extra, "owner "+r.Owner)
	}
	return extra
}

func (p *purgeTable) Close(s purge.Summary) error {
	st := p.st
	counts := fmt.Sprintf("purged %d, failed %d, skipped %d", s.Purged, s.Failed, s.Skipped)
	if s.NotCached > 0 {
		counts = fmt.Sprintf("purged %d, not cached %d, failed %d, skipped %d", s.Purged, s.NotCached, s.Failed, s.Skipped)
	}
	if s.Planned > 0 {
		counts = fmt.Sprintf("planned %d (dry run: nothing sent)", s.Planned)
	}
	if s.Failed > 0 {
		counts = st.Red(counts)
	}
	line := fmt.Sprintf("\n%s; %d API call(s), %d retries; %s; run %s (%s, %s)",
		counts, s.APICalls, s.Retries, fmtMS(float64(s.ElapsedMS)), s.RunID, s.Environment, s.Provider)
	if cached := s.VerifyFailed - s.VerifyUnproven; cached > 0 {
		line += "; " + st.Red(fmt.Sprintf("%d still served from cache", cached))
	}
	if s.VerifyUnproven > 0 {
		line += "; " + st.Yellow(fmt.Sprintf("%d not proven evicted (no cache status)", s.VerifyUnproven))
	}
	for _, k := range slices.Sorted(maps.Keys(s.BatchLimits)) {
		line += fmt.Sprintf("; the API took at most %d %s targets a request", s.BatchLimits[k], k)
	}
	_, err := fmt.Fprintln(p.w, line)
	return err
}

// WritePurgeLog lists purge runs, most recent first.
func WritePurgeLog(f Format, w io.Writer, st Style, runs []purge.RunSummary) error {
	switch f {
	case JSON:
		enc := newEncoder(w)
		enc.SetIndent("", "  ")
		if runs == nil {
			runs = []purge.RunSummary{}
		}
		return enc.Encode(struct {
			Runs []purge.RunSummary `json:"runs"`
		}{runs})
	case JSONL:
		enc := newEncoder(w)
		for _, r := range runs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintln(w, st.Bold(fmt.Sprintf("%-24s  %-20s  %-12s  %-11s  %7s  %6s  %6s  %7s  %s", "RUN", "TIME", "ENV", "STATUS", "TARGETS", "PURGED", "FAILED", "PENDING", "REASON")))
	for _, r := range runs {
		status := fmt.Sprintf("%-11s", r.Status)
		switch r.Status {
		case "complete":
			status = st.Green(status)
		case "incomplete", "interrupted", "unfinished":
			status = st.Red(status)
		}
		reason := r.Reason
		if r.Resumes > 0 {
			reason = strings.TrimSpace(fmt.Sprintf("%s (resumed %d×)", reason, r.Resumes))
		}
		fmt.Fprintf(w, "%-24s  %-20s  %-12s  %s  %7d  %6d  %6d  %7d  %s\n", r.ID, r.Time.UTC().Format("2006-01-02 15:04:05Z"), r.Environment, status, r.Targets, r.Purged, r.Failed, r.Pending, reason)
	}
	return nil
}
