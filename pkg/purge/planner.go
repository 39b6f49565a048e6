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
		return "by URL with cache-key headers (--key-header, cache_key.headers)"
	case CapEverything:
		return "everything"
	}
	return "by " + string(c)
}

// Plan groups targets by kind, in the order kinds first appear, and splits
// each group into batches no larger than the provider's BatchLimit. URLs
// with cache-key headers travel apart from plain URLs (with them, for a
// provider whose URL purge covers every variant), and purge-everything is
// always a batch of its own. For an EntryKeyer, targets one request purges
// share a batch and the limit counts requests. A target kind, or soft
// purge, the provider cannot do is refused before anything is sent, naming
// what it supports.
func Plan(p Provider, targets []Target, soft bool) ([]Batch, error) {
	caps := p.Capabilities()
	refuse := func(what string) error {
		names := make([]string, len(caps))
		for i, c := range caps {
			names[i] = string(c)
		}
		return inputErrorf("purge: provider %q cannot %s (supports: %s)", p.Name(), what, strings.Join(names, ", "))
	}
	if err := refusedKinds(p, targets, soft); err != nil {
		return nil, err
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
		if c == CapURLHeaders && !slices.Contains(caps, c) && slices.Contains(caps, CapURLAllVariants) {
			c = CapURL
		}
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
		for _, chunk := range chunkTargets(p, g.targets, limit) {
			batches = append(batches, Batch{Seq: len(batches) + 1, Kind: g.kind, Targets: chunk, Soft: soft})
		}
	}
	return batches, nil
}

// refusedKinds asks a Refuser about every kind of target, once each.
func refusedKinds(p Provider, targets []Target, soft bool) error {
	r, ok := p.(Refuser)
	if !ok {
		return nil
	}
	seen := map[Kind]bool{}
	for _, t := range targets {
		if seen[t.Kind] {
			continue
		}
		seen[t.Kind] = true
		if err := r.Refuse(t.Kind, soft); err != nil {
			return &InputError{msg: "purge: " + err.Error() + "; nothing was sent"}
		}
	}
	return nil
}

// chunkTargets splits one kind's targets into batches of at most limit
// targets or, for an EntryKeyer, of at most limit entries, the targets of
// one entry together in the order their entries first appear.
func chunkTargets(p Provider, targets []Target, limit int) [][]Target {
	k, ok := p.(EntryKeyer)
	if !ok {
		return slices.Collect(slices.Chunk(targets, limit))
	}
	var keys []string
	byKey := map[string][]Target{}
	for _, t := range targets {
		key := k.EntryKey(t)
		if _, seen := byKey[key]; !seen {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], t)
	}
	var out [][]Target
	for chunk := range slices.Chunk(keys, limit) {
		var b []Target
		for _, key := range chunk {
			b = append(b, byKey[key]...)
		}
		out = append(out, b)
	}
	return out
}
