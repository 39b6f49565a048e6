package purge

import (
	"fmt"
	"iter"
	"math"
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

// PlanOptions shape a plan made by PlanStream.
type PlanOptions struct {
	// Soft and Delete ask for a soft purge or for deletion; a provider
	// that cannot do them is refused before anything is planned.
	Soft, Delete bool
	// Variants adds each URL's trailing-slash twin and other scheme
	// (Expand); KeyHeaders multiply each URL by the combinations of their
	// values (WithKeyHeaders).
	Variants   bool
	KeyHeaders []KeyHeader
	// AllowedHosts, when not nil, refuses a target outside the hosts of
	// environment Environment (CheckHosts).
	Environment  string
	AllowedHosts []string
	// Observe, when set, sees every target as it is planned; an error it
	// returns refuses the plan.
	Observe func(Target) error
	// SpoolDir is where a large plan is spooled; "" is the system's
	// temporary directory.
	SpoolDir string
	// spoolMemory overrides how many targets stay in memory.
	spoolMemory int
}

// PlanStream plans targets as they arrive: repeats dropped, variants and
// cache-key combinations added (Expand, WithKeyHeaders), each checked
// against the environment's hosts and the provider's capabilities, and
// cut into batches (Plan). Memory does not grow with the number of
// targets beyond 16 bytes each for the repeat check: the batches are
// spooled to a file once the plan is large. Any refusal, or an error from
// targets, refuses the whole plan; nothing has been sent then.
func PlanStream(p Provider, targets iter.Seq2[Target, error], o PlanOptions) (*BatchPlan, error) {
	pl, err := newPlanner(p, o)
	if err != nil {
		return nil, err
	}
	e := &expander{variants: o.Variants, combos: keyCombinations(o.KeyHeaders),
		explicit: spool[Target]{dir: o.SpoolDir, memory: o.spoolMemory}}
	err = e.each(targets, pl.add)
	if err == nil {
		err = pl.finish()
	}
	if err != nil {
		_ = pl.plan.Close()
		return nil, err
	}
	return pl.plan, nil
}

// Plan groups targets by kind, in the order kinds first appear, and splits
// each group into batches no larger than the provider's BatchLimit. URLs
// with cache-key headers travel apart from plain URLs (with them, for a
// provider whose URL purge covers every variant), and purge-everything is
// always a batch of its own. For an EntryKeyer, targets one request purges
// share a batch and the limit counts requests. A target kind, or soft
// purge, the provider cannot do is refused before anything is sent, naming
// what it supports. It is PlanStream over targets already expanded, held
// in memory.
func Plan(p Provider, targets []Target, soft bool) ([]Batch, error) {
	plan, err := PlanStream(p, TargetSeq(targets), PlanOptions{Soft: soft, spoolMemory: math.MaxInt})
	if err != nil {
		return nil, err
	}
	defer plan.Close()
	return slices.Collect(plan.All()), plan.Err()
}

// planner cuts targets into batches as they arrive (Plan): each group of
// targets fills its open batch, which goes to the plan when full; the
// batches still open go, in the order their groups first appeared, when
// the targets end.
type planner struct {
	p       Provider
	o       PlanOptions
	caps    []Capability
	keyer   EntryKeyer
	refused map[Kind]bool
	groups  map[Capability]*group
	order   []Capability
	plan    *BatchPlan
}

// group is the open batch of one capability: its targets and, for an
// EntryKeyer, the entries they belong to in the order they appeared.
type group struct {
	kind    Kind
	limit   int
	targets []Target
	keys    []string
	byKey   map[string][]Target
	done    bool // purge-everything: one is enough
}

func newPlanner(p Provider, o PlanOptions) (*planner, error) {
	pl := &planner{p: p, o: o, caps: p.Capabilities(), refused: map[Kind]bool{}, groups: map[Capability]*group{},
		plan: &BatchPlan{batches: spool[Batch]{dir: o.SpoolDir, memory: o.spoolMemory}}}
	pl.keyer, _ = p.(EntryKeyer)
	if o.Delete && !slices.Contains(pl.caps, CapDelete) {
		return nil, inputErrorf("purge: provider %q cannot delete instead of invalidating (supports: %s); nothing was sent", p.Name(), pl.capNames())
	}
	return pl, nil
}

func (pl *planner) capNames() string {
	names := make([]string, len(pl.caps))
	for i, c := range pl.caps {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

func (pl *planner) refuse(what string) error {
	return inputErrorf("purge: provider %q cannot %s (supports: %s)", pl.p.Name(), what, pl.capNames())
}

// add checks target t and puts it in its group's open batch.
func (pl *planner) add(t Target) error {
	if pl.o.AllowedHosts != nil {
		if err := checkHost(pl.o.Environment, t, pl.o.AllowedHosts); err != nil {
			return err
		}
	}
	if pl.o.Observe != nil {
		if err := pl.o.Observe(t); err != nil {
			return err
		}
	}
	g, err := pl.group(t)
	if err != nil || g.done {
		return err
	}
	g.done = t.Kind == KindEverything
	if pl.keyer != nil {
		return pl.addEntry(g, t)
	}
	if len(g.targets) == g.limit {
		if err := pl.emit(g); err != nil {
			return err
		}
	}
	g.targets = append(g.targets, t)
	return nil
}

// addEntry adds t to g's open batch for an EntryKeyer: with the targets of
// its entry when they are in it, else in a new batch once it holds limit
// entries.
func (pl *planner) addEntry(g *group, t Target) error {
	key := pl.keyer.EntryKey(t)
	if _, ok := g.byKey[key]; !ok {
		if len(g.keys) == g.limit {
			if err := pl.emit(g); err != nil {
				return err
			}
		}
		g.keys = append(g.keys, key)
	}
	g.byKey[key] = append(g.byKey[key], t)
	return nil
}

// group is the group target t belongs to, opened when it is the first.
func (pl *planner) group(t Target) (*group, error) {
	c := capabilityFor(t)
	if c == CapURLHeaders && !slices.Contains(pl.caps, c) && slices.Contains(pl.caps, CapURLAllVariants) {
		c = CapURL
	}
	if g, ok := pl.groups[c]; ok {
		return g, nil
	}
	if r, ok := pl.p.(Refuser); ok && !pl.refused[t.Kind] {
		pl.refused[t.Kind] = true
		if err := r.Refuse(t.Kind, pl.o.Soft); err != nil {
			return nil, &InputError{msg: "purge: " + err.Error() + "; nothing was sent"}
		}
	}
	if pl.o.Soft && !slices.Contains(pl.caps, CapSoft) {
		return nil, pl.refuse("soft purge")
	}
	if !slices.Contains(pl.caps, c) {
		return nil, pl.refuse("purge " + capabilityPhrase(c))
	}
	_, everything := pl.groups[CapEverything]
	if len(pl.groups) > 0 && (everything || c == CapEverything) {
		return nil, inputErrorf("purge: purge-everything cannot be combined with other targets; nothing was sent")
	}
	limit := pl.p.BatchLimit(t.Kind)
	if limit < 1 {
		return nil, fmt.Errorf("purge: provider %q reports a batch limit of %d for %s", pl.p.Name(), limit, t.Kind)
	}
	g := &group{kind: t.Kind, limit: limit, byKey: map[string][]Target{}}
	pl.groups[c] = g
	pl.order = append(pl.order, c)
	return g, nil
}

// emit moves g's open batch to the plan: for an EntryKeyer, the targets
// of one entry together, in the order entries appeared.
func (pl *planner) emit(g *group) error {
	for _, k := range g.keys {
		g.targets = append(g.targets, g.byKey[k]...)
	}
	if len(g.targets) == 0 {
		return nil
	}
	b := Batch{Seq: pl.plan.batches.len() + 1, Kind: g.kind, Targets: g.targets, Soft: pl.o.Soft, Delete: pl.o.Delete}
	pl.plan.targets += len(g.targets)
	g.targets, g.keys = nil, nil
	clear(g.byKey)
	return pl.plan.batches.add(b, len(b.Targets))
}

// finish moves the batches still open to the plan.
func (pl *planner) finish() error {
	for _, c := range pl.order {
		if err := pl.emit(pl.groups[c]); err != nil {
			return err
		}
	}
	return pl.plan.batches.failed()
}

// BatchPlan is a purge's batches in the order they are sent, read back as
// often as needed. A large plan lives in a temporary file (see PlanStream);
// Close releases it.
type BatchPlan struct {
	batches spool[Batch]
	targets int
}

// PlanOf holds batches, already planned, as a plan.
func PlanOf(batches []Batch) *BatchPlan {
	p := &BatchPlan{batches: spool[Batch]{memory: math.MaxInt}}
	for _, b := range batches {
		_ = p.batches.add(b, len(b.Targets)) // in memory: cannot fail
		p.targets += len(b.Targets)
	}
	return p
}

// Len is the number of batches.
func (p *BatchPlan) Len() int { return p.batches.len() }

// Targets is the number of targets in all batches.
func (p *BatchPlan) Targets() int { return p.targets }

// All yields the batches in order. When a spooled batch cannot be read
// back, the sequence stops early and Err says why.
func (p *BatchPlan) All() iter.Seq[Batch] { return p.batches.all() }

// Err is the first error spooling or reading back the plan.
func (p *BatchPlan) Err() error { return p.batches.failed() }

// Close releases the plan's file, if it has one.
func (p *BatchPlan) Close() error {
	if p == nil {
		return nil
	}
	return p.batches.close()
}

// expander drops repeated targets and adds the variants and cache-key
// combinations of each URL, as Expand and WithKeyHeaders do, while
// targets stream through. With variants, the targets given are kept
// (spooled) until the last, so that a URL given is never planned as the
// variant of another.
type expander struct {
	variants bool
	combos   []map[string]string
	seen     *keySet
	explicit spool[Target]
}

func (e *expander) each(src iter.Seq2[Target, error], emit func(Target) error) error {
	e.seen = newKeySet()
	defer e.explicit.close()
	for t, err := range src {
		if err != nil {
			return err
		}
		if !e.seen.add(targetKey(t)) {
			continue
		}
		if !e.variants {
			err = e.combine(t, emit)
		} else {
			err = e.explicit.add(t, 1)
		}
		if err != nil {
			return err
		}
	}
	if !e.variants {
		return nil
	}
	for t := range e.explicit.all() {
		if err := e.withVariants(t, emit); err != nil {
			return err
		}
	}
	return e.explicit.failed()
}

// withVariants emits t and the variants of it no target given names.
func (e *expander) withVariants(t Target, emit func(Target) error) error {
	if err := e.combine(t, emit); err != nil || t.Kind != KindURL {
		return err
	}
	for _, v := range urlVariants(t.Value) {
		vt := Target{Kind: KindURL, Value: v, Headers: t.Headers, VariantOf: t.Value, RelatedTo: t.RelatedTo, Stale: t.Stale}
		if !e.seen.add(targetKey(vt)) {
			continue
		}
		if err := e.combine(vt, emit); err != nil {
			return err
		}
	}
	return nil
}

// combine emits t once per combination of the cache-key headers' values
// when it is a URL, and as it is otherwise.
func (e *expander) combine(t Target, emit func(Target) error) error {
	if t.Kind != KindURL || len(e.combos) == 0 || len(e.combos) == 1 && len(e.combos[0]) == 0 {
		return emit(t)
	}
	for _, c := range e.combos {
		v := t
		v.Headers = c
		if err := emit(v); err != nil {
			return err
		}
	}
	return nil
}
