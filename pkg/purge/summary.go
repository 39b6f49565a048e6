package purge

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
)

// PlanSummary is a plan as a dry run shows it before the batches: every
// operation with why it is there, the API calls the batches make and the
// time the rate limits alone impose.
type PlanSummary struct {
	// Provider is the provider's name.
	Provider string
	// Plan holds the planned batches, in order.
	Plan *BatchPlan
	// Calls is the number of API requests the batches make (the provider's
	// Describe; one per batch for a provider that cannot describe its
	// requests).
	Calls int
	// Wait is the shortest time the client's rate limits let the batches
	// be sent in (Limits.MinDuration); Throttled is false when no limit
	// applies at all.
	Wait      time.Duration
	Throttled bool
	// Notes are said after the operations.
	Notes []string
}

// Summarize describes the plan batches make for provider p under limits.
// It sends nothing, and reads the plan once.
func Summarize(p Provider, limits *Limits, plan *BatchPlan) PlanSummary {
	s := PlanSummary{Provider: p.Name(), Plan: plan, Throttled: limits.throttles()}
	desc, ok := p.(Describer)
	s.Wait = limits.MinDuration(func(yield func(Batch) bool) {
		for b := range plan.All() {
			if !ok {
				s.Calls++
			} else {
				reqs, _ := desc.Describe(b)
				s.Calls += len(reqs)
			}
			if !yield(b) {
				return
			}
		}
	})
	return s
}

// Write prints the summary: a line with the counts, then one line per
// operation (kind, target, why), then the notes. It reads the plan twice:
// once for the columns' widths, once for the lines.
func (s PlanSummary) Write(w io.Writer) error {
	widths := [2]int{}
	for op := range s.operations() {
		widths[0], widths[1] = max(widths[0], len(op[0])), max(widths[1], len(op[1]))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	targets, batches := s.Plan.Targets(), s.Plan.Len()
	fmt.Fprintf(bw, "plan: %d operation%s in %d batch%s, %d API call%s to %s; %s\n",
		targets, plural(targets), batches, pluralES(batches), s.Calls, plural(s.Calls), s.Provider, s.pace())
	for op := range s.operations() {
		fmt.Fprintf(bw, "  %-*s  %-*s  %s\n", widths[0], op[0], widths[1], op[1], op[2])
	}
	for _, n := range s.Notes {
		fmt.Fprintf(bw, "note: %s\n", n)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return s.Plan.Err()
}

// operations yields each target of the plan as kind, target and why.
func (s PlanSummary) operations() iter.Seq[[3]string] {
	return func(yield func([3]string) bool) {
		for b := range s.Plan.All() {
			for _, t := range b.Targets {
				op := [3]string{operation(t), displayTarget(t), reason(t)}
				if len(t.Headers) > 0 {
					op[1] += " [" + FormatHeaders(t.Headers) + "]"
				}
				if !yield(op) {
					return
				}
			}
		}
	}
}

func (s PlanSummary) pace() string {
	if !s.Throttled {
		return "no rate limit applies (the provider publishes none and cdn.rate is not set)"
	}
	return fmt.Sprintf("about %.1f s at the plan's rate limits", s.Wait.Seconds())
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// operation names what a target purges: url, url+headers, tag, prefix,
// host or everything.
func operation(t Target) string {
	if t.Kind == KindURL && len(t.Headers) > 0 {
		return "url+headers"
	}
	return string(t.Kind)
}

// reason says why a target is in the plan.
func reason(t Target) string {
	parts := Reasons(t.VariantOf, t.RelatedTo, t.Stale)
	if len(parts) == 0 {
		return "given"
	}
	return strings.Join(parts, ", ")
}

// Reasons says why a target that was not given is in a plan, from its
// VariantOf, RelatedTo and Stale: "variant of URL", "related to URL",
// "stale: why"; none for a target given.
func Reasons(variantOf, relatedTo, stale string) []string {
	var parts []string
	if variantOf != "" {
		parts = append(parts, "variant of "+variantOf)
	}
	if relatedTo != "" {
		parts = append(parts, "related to "+relatedTo)
	}
	if stale != "" {
		parts = append(parts, "stale: "+stale)
	}
	return parts
}
