package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/related"
	"github.com/cachectl/cachectl/pkg/target"
)

// addRelated appends to the targets given what the environment's related
// rules pull in for their URLs, each resolved against the base URL and
// naming the URL that pulled it in. Expansions that repeat a target given
// or an earlier expansion are dropped. It returns the configuration key
// of the rule behind each prefix it adds.
func addRelated(cfg *config.Config, env *config.Environment, given []purge.Target) ([]purge.Target, map[string]string, error) {
	rules := cfg.RelatedRules(env)
	if len(rules) == 0 {
		return nil, nil, usageErrorf("purge --related: no related rules apply to environment %q (expected a related: list at the top level of the config or under environments.%s); nothing was sent", env.Name, env.Name)
	}
	set, problems := related.Compile(rules)
	if len(problems) > 0 {
		// Load validates the rules; this is a configuration that skipped it.
		return nil, nil, usageErrorf("purge --related: %s: %s", cfg.RuleKey(env, problems[0].Index), problems[0].String())
	}
	var urls []string
	for _, t := range given {
		if t.Kind == purge.KindURL {
			urls = append(urls, t.Value)
		}
	}
	out := slices.Clone(given)
	prefixRules := map[string]string{}
	for e := range set.ExpandAll(slices.Values(urls)) {
		t := purge.Target{Kind: purge.KindURL, RelatedTo: e.RelatedTo}
		var err error
		if e.Kind == related.KindPrefix {
			t.Kind = purge.KindPrefix
			t.Value, err = purge.NormalizePrefix(e.Path, env.BaseURL)
			prefixRules[t.Value] = cfg.RuleKey(env, e.Rule)
		} else {
			t.Value, err = target.Canonical(env.TargetEnv(), e.Path)
		}
		if err != nil {
			return nil, nil, usageErrorf("purge --related: %s for %s: %v; nothing was sent", cfg.RuleKey(env, e.Rule), e.RelatedTo, err)
		}
		out = append(out, t)
	}
	return purge.Expand(out, false), prefixRules, nil
}

// checkRelatedPrefix refuses, before anything is sent, a prefix a related
// rule's "*" entry pulled in when the provider cannot purge by prefix.
func (p *purgePlan) checkRelatedPrefix(t purge.Target) error {
	if t.Kind != purge.KindPrefix || t.RelatedTo == "" {
		return nil
	}
	caps := p.provider.Capabilities()
	if slices.Contains(caps, purge.CapPrefix) {
		return nil
	}
	names := make([]string, len(caps))
	for i, c := range caps {
		names[i] = string(c)
	}
	why := ""
	if r, ok := p.provider.(purge.Refuser); ok {
		if err := r.Refuse(purge.KindPrefix, false); err != nil {
			why = ": " + err.Error()
		}
	}
	return usageErrorf("purge --related: %s pulls in the prefix %s for %s, and provider %q cannot purge by prefix (supports: %s)%s; drop the \"*\" entry or list the pages; nothing was sent",
		p.relatedPrefixes[t.Value], t.Value, t.RelatedTo, p.provider.Name(), strings.Join(names, ", "), why)
}

// redirectTarget is the URL to purge for a redirect's target seen by
// --verify (with --related): the target, canonical, when it is on the
// environment's hosts; "" otherwise.
func (p *purgePlan) redirectTarget(location string) string {
	tenv := p.env.TargetEnv()
	u, err := target.Canonical(tenv, location)
	if err != nil || !tenv.Allows(u) {
		return ""
	}
	return u
}

// keyHeaders merges the environment's cache_key.headers with the
// --key-header flags.
func keyHeaders(env *config.Environment, flags []string) ([]purge.KeyHeader, error) {
	var fromFlags []purge.KeyHeader
	for _, raw := range flags {
		h, err := purge.ParseKeyHeader(raw)
		if err != nil {
			return nil, usageError(err)
		}
		fromFlags = append(fromFlags, h)
	}
	hs, err := purge.MergeKeyHeaders(env.CacheKey.Headers.List(), fromFlags)
	if err != nil {
		return nil, usageError(err)
	}
	return hs, nil
}

// variantsNote says, for a provider whose URL purge covers every variant
// of a URL, why the cache-key headers send nothing of their own; "" when
// there is nothing to say.
func (p *purgePlan) variantsNote() string {
	caps := p.provider.Capabilities()
	if len(p.keyHeaders) == 0 || slices.Contains(caps, purge.CapURLHeaders) || !slices.Contains(caps, purge.CapURLAllVariants) {
		return ""
	}
	return fmt.Sprintf("%s purges every cache variant of a URL with one purge of the URL, so the cache-key headers (%s) add no request; they select the variants --verify probes",
		p.provider.Name(), headerNames(p.keyHeaders))
}

func headerNames(hs []purge.KeyHeader) string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}
