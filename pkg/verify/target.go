package verify

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/shard"
	"github.com/cachectl/cachectl/pkg/target"
)

// Target is one route to verify in one environment.
type Target struct {
	// Index is the route's position in the whole route list, before
	// sharding; merged shard outputs are put back in this order.
	Index int
	// Route is the route as named: a config path, a line of --routes, a
	// sitemap entry's path.
	Route string
	// URL is the route resolved against the environment.
	URL string
	// Owner and Rollback come from the config route of the same path.
	Owner    string
	Rollback string
	// Anonymous and LoggedIn are the checks per variant.
	Anonymous *Checklist
	LoggedIn  *Checklist
}

// Checklist returns the checks for a variant.
func (t Target) Checklist(v probe.Variant) *Checklist {
	if v == probe.LoggedIn {
		return t.LoggedIn
	}
	return t.Anonymous
}

// needsFindings reports whether the checks of any of variants judge findings.
func (t Target) needsFindings(variants []probe.Variant) bool {
	return slices.ContainsFunc(variants, func(v probe.Variant) bool { return t.Checklist(v).NeedsFindings() })
}

// Planner turns route names into targets: the config route with the same
// path lends its owner, rollback and expectations; any other route gets the
// defaults section's expectations, or the findings check alone.
type Planner struct {
	// resolver resolves routes against the environment, derived once.
	resolver *target.Resolver
	byPath   map[string]int
	routes   []config.Route
	compiled []compiledRoute
	defaults compiledRoute
}

type compiledRoute struct {
	anonymous, loggedIn *Checklist
}

// NewPlanner compiles every expectation of cfg once, so per-route work is a
// map lookup however many routes a sitemap brings.
func NewPlanner(cfg *config.Config, env *config.Environment) (*Planner, error) {
	p := &Planner{resolver: target.NewResolver(env.TargetEnv()), byPath: map[string]int{}, routes: cfg.Routes}
	var err error
	if p.defaults, err = compileRoute(cfg.Defaults.Expect, compiledRoute{}, "defaults.expect"); err != nil {
		return nil, err
	}
	for i, r := range cfg.Routes {
		c, err := compileRoute(r.Expect, p.defaults, fmt.Sprintf("routes[%d].expect", i))
		if err != nil {
			return nil, err
		}
		p.compiled = append(p.compiled, c)
		p.byPath[routeKey(r.Path)] = i
	}
	return p, nil
}

func compileRoute(e config.Expectations, fallback compiledRoute, key string) (compiledRoute, error) {
	var c compiledRoute
	var err error
	c.anonymous, c.loggedIn = fallback.anonymous, fallback.loggedIn
	if e.Anonymous != nil || c.anonymous == nil {
		if c.anonymous, err = Compile(e.Anonymous); err != nil {
			return c, fmt.Errorf("%s.anonymous.%w", key, err)
		}
	}
	if e.LoggedIn != nil || c.loggedIn == nil {
		if c.loggedIn, err = Compile(e.LoggedIn); err != nil {
			return c, fmt.Errorf("%s.logged_in.%w", key, err)
		}
	}
	return c, nil
}

// NeedsFindings reports whether any target the planner makes judges
// findings for one of variants; when none does, bodies need not be hashed
// (the findings of an anonymous/logged-in pair are the only thing that
// compares them).
func (p *Planner) NeedsFindings(variants []probe.Variant) bool {
	return p.anyChecklist(variants, (*Checklist).NeedsFindings)
}

// NeedsServerTiming reports whether any target the planner makes checks
// Server-Timing metrics for one of variants; when none does and no
// findings are judged, probes need not read Server-Timing.
func (p *Planner) NeedsServerTiming(variants []probe.Variant) bool {
	return p.anyChecklist(variants, (*Checklist).NeedsServerTiming)
}

// anyChecklist reports whether need holds for the checklist of one of
// variants of any target the planner makes.
func (p *Planner) anyChecklist(variants []probe.Variant, need func(*Checklist) bool) bool {
	all := append([]compiledRoute{p.defaults}, p.compiled...)
	return slices.ContainsFunc(all, func(c compiledRoute) bool {
		t := Target{Anonymous: c.anonymous, LoggedIn: c.loggedIn}
		return slices.ContainsFunc(variants, func(v probe.Variant) bool { return need(t.Checklist(v)) })
	})
}

// Routes returns the configured routes' paths, in config order.
func (p *Planner) Routes() []string {
	out := make([]string, len(p.routes))
	for i, r := range p.routes {
		out[i] = r.Path
	}
	return out
}

// Target resolves one route name.
func (p *Planner) Target(index int, route string) (Target, error) {
	route = strings.TrimSpace(route)
	u, err := p.resolver.Resolve(route)
	if err != nil {
		return Target{}, err
	}
	t := Target{Index: index, Route: route, URL: u, Anonymous: p.defaults.anonymous, LoggedIn: p.defaults.loggedIn}
	if i, ok := p.byPath[routeKey(route)]; ok {
		r := p.routes[i]
		t.Owner, t.Rollback = r.Owner, r.Rollback
		t.Anonymous, t.LoggedIn = p.compiled[i].anonymous, p.compiled[i].loggedIn
	}
	return t, nil
}

// routeKey matches a route to a config route: a full URL matches the config
// entry for its path as well as the entry for the same URL.
func routeKey(route string) string {
	return strings.TrimSpace(route)
}

// Indexed is a route name with its position in the whole list.
type Indexed struct {
	Index int
	Route string
}

// MaxSample is the largest --sample accepted: far above any site's route
// count, far below what would exhaust memory.
const MaxSample = 10_000_000

// Select numbers routes, keeps a reproducible random sample of n of them
// (n ≤ 0 keeps all; the same seed and input always give the same sample) and
// then keeps only the routes of shard s. Sampling comes first, so the N
// shards of a sampled run split one and the same sample.
func Select(routes iter.Seq[string], n int, seed uint64, s shard.Shard) iter.Seq[Indexed] {
	numbered := func(yield func(Indexed) bool) {
		i := 0
		for r := range routes {
			if !yield(Indexed{Index: i, Route: r}) {
				return
			}
			i++
		}
	}
	var src iter.Seq[Indexed] = numbered
	if n > 0 {
		src = func(yield func(Indexed) bool) {
			for _, r := range reservoir(numbered, n, seed) {
				if !yield(r) {
					return
				}
			}
		}
	}
	return func(yield func(Indexed) bool) {
		for r := range src {
			if s.Has(ShardKey(r.Route)) && !yield(r) {
				return
			}
		}
	}
}

// ShardKey is what a route is hashed by: its path and query, so a path in
// the config and the same page's full URL in a sitemap land in one shard.
func ShardKey(route string) string {
	if strings.HasPrefix(route, "/") {
		return route
	}
	u, err := url.Parse(route)
	if err != nil || u.Host == "" {
		return route
	}
	return u.RequestURI()
}

// reservoir keeps a uniform sample of n items (Algorithm R) with a seeded
// generator, returned in input order.
func reservoir(items iter.Seq[Indexed], n int, seed uint64) []Indexed {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// The sample grows with the routes seen: n may far exceed them.
	sample := make([]Indexed, 0, min(n, 1024))
	seen := 0
	for it := range items {
		seen++
		if len(sample) < n {
			sample = append(sample, it)
			continue
		}
		if j := rng.IntN(seen); j < n {
			sample[j] = it
		}
	}
	slices.SortFunc(sample, func(a, b Indexed) int { return a.Index - b.Index })
	return sample
}
