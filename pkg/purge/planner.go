package purge

import (
	"fmt"
	"slices"
	"strings"
)

// capabilityFor is the capability a target needs from its provider.
func capabilityFor(t Target) Capability {
	switch t.Kind {
	case KindURL:
		if len(t.Headers) > 0 {
			return CapURLHeaders
		}
		return CapURL
	case KindTag:
		return CapTag
	case KindPrefix:
		return CapPrefix
	case KindHost:
		return CapHost
	case KindEverything:
		return CapEverything
	}
	return Capability(t.Kind)
}

// capabilityPhrase completes "cannot purge ..." in error messages.
func capabilityPhrase(c Capability) string {
	switch c {
	case CapURL:
		return "by URL"
	case CapURLHeaders:
		return "by URL with cache-key headers"
	case CapEverything:
		return "everything"
	}
	return "by " + string(c)
}

// Plan groups targets by kind, in the order kinds first appear, and splits
// each group into batches no larger than the provider's BatchLimit. URLs
// with cache-key headers travel apart from plain URLs, and purge-everything
// is always a batch of its own. A target kind, or soft purge, the provider
// cannot do is refused before anything is sent, naming what it supports.
func Plan(p Provider, targets []Target, soft bool) ([]Batch, error) {
	caps := p.Capabilities()
	refuse := func(what string) error {
		names := make([]string, len(caps))
		for i, c := range caps {
			names[i] = string(c)
		}
		return inputErrorf("purge: provider %q cannot %s (supports: %s)", p.Name(), what, strings.Join(names, ", "))
	}
	if soft && !slices.Contains(caps, CapSoft) {
		return nil, refuse("soft purge")
	}
	type group struct {
		kind    Kind
		targets []Target
	}
	var order []Capability
	groups := map[Capability]*group{}
	for _, t := range targets {
		c := capabilityFor(t)
		if !slices.Contains(caps, c) {
			return nil, refuse("purge " + capabilityPhrase(c))
		}
		g, ok := groups[c]
		if !ok {
			g = &group{kind: t.Kind}
			groups[c] = g
			order = append(order, c)
		}
		if t.Kind == KindEverything && len(g.targets) > 0 {
			continue // one purge-everything is enough
		}
		g.targets = append(g.targets, t)
	}
	if _, ok := groups[CapEverything]; ok && len(groups) > 1 {
		return nil, inputErrorf("purge: purge-everything cannot be combined with other targets; nothing was sent")
	}
	var batches []Batch
	for _, c := range order {
		g := groups[c]
		limit := p.BatchLimit(g.kind)
		if limit < 1 {
			return nil, fmt.Errorf("purge: provider %q reports a batch limit of %d for %s", p.Name(), limit, g.kind)
		}
		for chunk := range slices.Chunk(g.targets, limit) {
			batches = append(batches, Batch{Seq: len(batches) + 1, Kind: g.kind, Targets: chunk, Soft: soft})
		}
	}
	return batches, nil
}
