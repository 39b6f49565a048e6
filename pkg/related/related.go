package related

import (
	"fmt"
	"iter"
	"strings"
)

// Rule is one related rule as written in the configuration.
type Rule struct {
	// Match is the path pattern of the targets the rule applies to,
	// e.g. /articles/{slug}.
	Match string `mapstructure:"match" yaml:"match" json:"match"`
	// Also lists the paths to purge with a matching target; they may use
	// the captures of Match, and a trailing "*" makes one a prefix.
	Also []string `mapstructure:"also" yaml:"also" json:"also"`
}

// Kind is what an expansion names; the values are those of purge target
// kinds.
type Kind string

// Expansion kinds.
const (
	// KindURL is one path.
	KindURL Kind = "url"
	// KindPrefix is every path that starts with Path.
	KindPrefix Kind = "prefix"
)

// Expansion is one path a target pulls in.
type Expansion struct {
	// Path is the path to purge, percent-encoded; for KindPrefix the
	// prefix, without the "*".
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// RelatedTo is the target that pulled the path in, as given.
	RelatedTo string `json:"related_to"`
	// Rule is the index of the rule in the configured list.
	Rule int `json:"rule"`
}

// Problem is one thing wrong with a rule.
type Problem struct {
	// Index is the rule's index in the configured list.
	Index int
	// Field is "match", "also" (when the list is empty) or "also[i]".
	Field string
	// Value is the value found, as written; empty when it is missing.
	Value string
	// Expected describes what would be valid.
	Expected string
}

// Key is the problem's key path below the related list, e.g.
// related[0].also[1]; a configuration that holds the list under an
// environment puts its own path in front.
func (p Problem) Key() string {
	return fmt.Sprintf("related[%d].%s", p.Index, p.Field)
}

// String writes the problem the way config validate reports one:
// related[0].also[1]: found "/tags/{tg}", expected ...
func (p Problem) String() string {
	if p.Value == "" {
		return fmt.Sprintf("%s: %s", p.Key(), p.Expected)
	}
	return fmt.Sprintf("%s: found %q, expected %s", p.Key(), p.Value, p.Expected)
}

// Set is a compiled list of rules. A nil Set has no rules.
type Set struct {
	rules []rule
}

type rule struct {
	index int
	match matcher
	also  []template
}

// Compile checks and compiles rules. It reports every problem it finds, one
// at most per field; the Set is nil if and only if there are problems.
func Compile(rules []Rule) (*Set, []Problem) {
	s := &Set{}
	var problems []Problem
	for i, r := range rules {
		cr, ps := compileRule(i, r)
		s.rules = append(s.rules, cr)
		problems = append(problems, ps...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return s, nil
}

func compileRule(i int, r Rule) (rule, []Problem) {
	var ps []Problem
	m, why := compileMatch(r.Match)
	if why != "" {
		ps = append(ps, Problem{Index: i, Field: "match", Value: r.Match, Expected: why})
	}
	if len(r.Also) == 0 {
		ps = append(ps, Problem{Index: i, Field: "also", Expected: expectNonEmpty})
	}
	cr := rule{index: i, match: m}
	for j, a := range r.Also {
		t, whyAlso := compileAlso(a, m.names, why == "")
		if whyAlso != "" {
			ps = append(ps, Problem{Index: i, Field: fmt.Sprintf("also[%d]", j), Value: a, Expected: whyAlso})
		}
		cr.also = append(cr.also, t)
	}
	return cr, ps
}

// key identifies an expansion for deduplication.
type key struct {
	kind Kind
	path string
}

func keyOf(e Expansion) key {
	norm, _ := normalize(e.Path, nil)
	return key{e.Kind, norm}
}

// Expand returns the paths the rules pull in for one target, a path or a
// full URL: rule order, then also order, without duplicates and without the
// target's own path. A target that matches no rule has none.
func (s *Set) Expand(target string) []Expansion {
	if s == nil {
		return nil
	}
	p, ok := targetPath(target)
	if !ok {
		return nil
	}
	segs := splitTarget(p)
	seen := map[key]bool{{KindURL, "/" + restOf(segs)}: true}
	var out []Expansion
	for _, r := range s.rules {
		caps, ok := r.match.match(segs)
		if !ok {
			continue
		}
		for _, t := range r.also {
			e := Expansion{Path: t.expand(caps), Kind: t.kind, RelatedTo: target, Rule: r.index}
			if k := keyOf(e); !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// ExpandAll expands a stream of targets with one deduplication across all
// of them: a path pulled in by several targets comes once, with the first
// as its RelatedTo. It holds the distinct expansions, not the targets.
func (s *Set) ExpandAll(targets iter.Seq[string]) iter.Seq[Expansion] {
	return func(yield func(Expansion) bool) {
		seen := map[key]struct{}{}
		for t := range targets {
			for _, e := range s.Expand(t) {
				k := keyOf(e)
				if _, dup := seen[k]; dup {
					continue
				}
				seen[k] = struct{}{}
				if !yield(e) {
					return
				}
			}
		}
	}
}

// targetSeg is one segment of a target path, as written and normalized,
// with the offsets that map the one onto the other.
type targetSeg struct {
	raw, norm string
	offs      []int
}

func splitTarget(p string) []targetSeg {
	var segs []targetSeg
	for raw := range strings.SplitSeq(p[1:], "/") {
		norm, offs := normalize(raw, make([]int, 0, len(raw)+1))
		segs = append(segs, targetSeg{raw: raw, norm: norm, offs: offs})
	}
	return segs
}

// match reports whether a target's segments match, and its captures in the
// order of m.names.
func (m *matcher) match(segs []targetSeg) ([]string, bool) {
	n := len(m.segs)
	if len(segs) < n || !m.star && len(segs) > n {
		return nil, false
	}
	caps := make([]string, len(m.names))
	for i, sm := range m.segs {
		if m.star && i == n-1 {
			return caps, strings.HasPrefix(restOf(segs[i:]), sm.prefix)
		}
		if sm.capture < 0 {
			if segs[i].norm != sm.prefix {
				return nil, false
			}
			continue
		}
		v, ok := sm.captureFrom(segs[i])
		if !ok {
			return nil, false
		}
		caps[sm.capture] = v
	}
	return caps, true
}

// restOf is the normalized rest of a path from a segment on; escapes never
// span a "/", so it is the normalized form of that rest.
func restOf(segs []targetSeg) string {
	norms := make([]string, len(segs))
	for i, s := range segs {
		norms[i] = s.norm
	}
	return strings.Join(norms, "/")
}

// captureFrom returns the capture of a target segment, as the target wrote
// it with only the bytes that cannot stand in a path escaped.
func (sm segMatcher) captureFrom(t targetSeg) (string, bool) {
	p, s := len(sm.prefix), len(sm.suffix)
	if len(t.norm) <= p+s || !strings.HasPrefix(t.norm, sm.prefix) || !strings.HasSuffix(t.norm, sm.suffix) {
		return "", false
	}
	end := len(t.norm) - s
	if dotSegment(t.norm[p:end]) {
		return "", false
	}
	return escape(t.raw[t.offs[p]:t.offs[end]]), true
}

func (t template) expand(caps []string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.capture >= 0 {
			b.WriteString(caps[p.capture])
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}
