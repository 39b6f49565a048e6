package purge

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// PlanSummary is a plan as a dry run shows it before the batches: every
// operation with why it is there, the API calls the batches make and the
// time the rate limits alone impose.
type PlanSummary struct {
	// Provider is the provider's name.
	Provider string
	// Batches are the planned batches, in order.
	Batches []Batch
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
// It sends nothing.
func Summarize(p Provider, limits *Limits, batches []Batch) PlanSummary {
	s := PlanSummary{Provider: p.Name(), Batches: batches, Wait: limits.MinDuration(batches), Throttled: limits.throttles()}
	desc, ok := p.(Describer)
	for _, b := range batches {
		if !ok {
			s.Calls++
			continue
		}
		reqs, _ := desc.Describe(b)
		s.Calls += len(reqs)
	}
	return s
}

// Write prints the summary: a line with the counts, then one line per
// operation (kind, target, why), then the notes.
func (s PlanSummary) Write(w io.Writer) error {
	var ops [][3]string
	widths := [2]int{}
	targets := 0
	for _, b := range s.Batches {
		for _, t := range b.Targets {
			op := [3]string{operation(t), displayTarget(t), reason(t)}
			if len(t.Headers) > 0 {
				op[1] += " [" + FormatHeaders(t.Headers) + "]"
			}
			widths[0], widths[1] = max(widths[0], len(op[0])), max(widths[1], len(op[1]))
			ops = append(ops, op)
			targets++
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "plan: %d operation%s in %d batch%s, %d API call%s to %s; %s\n",
		targets, plural(targets), len(s.Batches), pluralES(len(s.Batches)), s.Calls, plural(s.Calls), s.Provider, s.pace())
	for _, op := range ops {
		fmt.Fprintf(&sb, "  %-*s  %-*s  %s\n", widths[0], op[0], widths[1], op[1], op[2])
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&sb, "note: %s\n", n)
	}
	_, err := io.WriteString(w, sb.String())
	return err
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
	var parts []string
	if t.VariantOf != "" {
		parts = append(parts, "variant of "+t.VariantOf)
	}
	if t.RelatedTo != "" {
		parts = append(parts, "related to "+t.RelatedTo)
	}
	if t.Stale != "" {
		parts = append(parts, "stale: "+t.Stale)
	}
	if len(parts) == 0 {
		return "given"
	}
	return strings.Join(parts, ", ")
}
