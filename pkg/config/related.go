package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/related"
)

// RelatedRules returns the related-route rules that apply in env: the
// top-level ones, then the environment's own. The key of rule i in the
// configuration is RuleKey(env, i).
func (c *Config) RelatedRules(env *Environment) []related.Rule {
	rules := slices.Clone(c.Related)
	if env != nil {
		rules = append(rules, env.Related...)
	}
	return rules
}

// RuleKey is the configuration key of rule i of RelatedRules(env), such as
// related[0] or environments.production.related[1].
func (c *Config) RuleKey(env *Environment, i int) string {
	if i < len(c.Related) || env == nil {
		return fmt.Sprintf("related[%d]", i)
	}
	return fmt.Sprintf("environments.%s.related[%d]", env.Name, i-len(c.Related))
}

// List returns the cache-key headers as the purge engine takes them,
// sorted by name, names in their usual spelling (CF-Device-Type).
func (h KeyHeaders) List() []purge.KeyHeader {
	out := make([]purge.KeyHeader, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		out = append(out, purge.KeyHeader{Name: purge.CanonicalKeyHeader(name), Values: h[name]})
	}
	return out
}

// spelled is h with every name in its usual spelling (the loader
// lower-cases keys).
func (h KeyHeaders) spelled() map[string][]string {
	out := make(map[string][]string, len(h))
	for name, values := range h {
		out[purge.CanonicalKeyHeader(name)] = values
	}
	return out
}

// MarshalYAML prints the names in their usual spelling, as config show
// and the CDN's documentation write them.
func (h KeyHeaders) MarshalYAML() (any, error) { return h.spelled(), nil }

// MarshalJSON prints the names in their usual spelling.
func (h KeyHeaders) MarshalJSON() ([]byte, error) { return json.Marshal(h.spelled()) }

// validatePurgeScope checks what widens an environment's purges: its
// related rules and cache-key headers; k is the environment's key.
func validatePurgeScope(k string, env *Environment) []Problem {
	return append(validateRelated(k+".", env.Related), validateCacheKey(k+".cache_key", env.CacheKey)...)
}

// validateRelated reports the problems package related finds in rules,
// under prefix ("" at the top level, "environments.NAME." in one).
func validateRelated(prefix string, rules []related.Rule) []Problem {
	_, problems := related.Compile(rules)
	out := make([]Problem, len(problems))
	for i, p := range problems {
		out[i] = Problem{Key: prefix + p.Key(), Expected: p.Expected}
		if p.Value != "" {
			out[i].Value = strconv.Quote(p.Value)
		}
	}
	return out
}

// validateCacheKey checks an environment's cache_key section: header names
// that can be cache-key headers, at least one non-empty value each, and at
// most purge.MaxKeyVariants combinations.
func validateCacheKey(k string, ck CacheKey) []Problem {
	var ps []Problem
	for _, name := range slices.Sorted(maps.Keys(ck.Headers)) {
		hk := k + ".headers." + name
		if why := purge.KeyHeaderNameProblem(name); why != "" {
			ps = append(ps, Problem{Key: hk, Value: strconv.Quote(name), Expected: why})
			continue
		}
		values := ck.Headers[name]
		if len(values) == 0 {
			ps = append(ps, Problem{Key: hk, Expected: "a list of at least one value, e.g. [mobile, desktop]"})
		}
		for i, v := range values {
			if why := purge.KeyHeaderValueProblem(v); why != "" {
				ps = append(ps, Problem{Key: fmt.Sprintf("%s[%d]", hk, i), Value: strconv.Quote(v), Expected: why})
			}
		}
	}
	if n := purge.KeyVariants(ck.Headers.List()); n > purge.MaxKeyVariants {
		ps = append(ps, Problem{Key: k + ".headers", Value: fmt.Sprintf("%d combinations", n),
			Expected: fmt.Sprintf("at most %d combinations of values in all (each is one more purge of every URL)", purge.MaxKeyVariants)})
	}
	return ps
}
