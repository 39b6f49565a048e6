package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/related"
)

const relatedConfig = `
related:
  - match: /articles/{slug}
    also: [/, /feed.xml, /tags/*]
environments:
  production:
    base_url: https://www.example.com
    related:
      - match: /docs/{page}
        also: [/docs/]
    cache_key:
      headers:
        CF-Device-Type: [mobile, desktop]
        Accept-Language: [en, de]
  staging:
    base_url: https://staging.example.com
`

func TestRelatedAndCacheKeyLoad(t *testing.T) {
	cfg, err := Load(LoadOptions{File: writeFile(t, relatedConfig)})
	if err != nil {
		t.Fatal(err)
	}
	prod, staging := cfg.Environments["production"], cfg.Environments["staging"]
	wantTop := []related.Rule{{Match: "/articles/{slug}", Also: []string{"/", "/feed.xml", "/tags/*"}}}
	if !reflect.DeepEqual(cfg.Related, wantTop) {
		t.Errorf("related = %+v, want %+v", cfg.Related, wantTop)
	}
	rules := cfg.RelatedRules(prod)
	if len(rules) != 2 || rules[1].Match != "/docs/{page}" {
		t.Fatalf("RelatedRules(production) = %+v, want the top-level rule then production's", rules)
	}
	if got := cfg.RuleKey(prod, 1); got != "environments.production.related[0]" {
		t.Errorf("RuleKey(production, 1) = %q", got)
	}
	if got := cfg.RuleKey(prod, 0); got != "related[0]" {
		t.Errorf("RuleKey(production, 0) = %q", got)
	}
	if got := cfg.RelatedRules(staging); !reflect.DeepEqual(got, wantTop) {
		t.Errorf("RelatedRules(staging) = %+v, want the top-level rules only", got)
	}
	want := []purge.KeyHeader{
		{Name: "Accept-Language", Values: []string{"en", "de"}},
		{Name: "CF-Device-Type", Values: []string{"mobile", "desktop"}},
	}
	if got := prod.CacheKey.Headers.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("cache_key.headers = %+v, want %+v", got, want)
	}
}

// TestRelatedAndCacheKeyProblems: config validate reports what package
// related finds under the rule's key path (top level or per environment),
// and cache-key headers that cannot be purged by.
func TestRelatedAndCacheKeyProblems(t *testing.T) {
	body := `
related:
  - match: /articles/{slug}
    also: [/, "/tags/{tg}"]
  - match: articles
    also: []
environments:
  production:
    base_url: https://www.example.com
    related:
      - match: /docs/{page}
        also: [https://www.example.com/x, /*]
    cache_key:
      headers:
        Cookie: [a]
        X-Lang: []
        X-Device: [mobile, ""]
  staging:
    base_url: https://staging.example.com
    cache_key:
      headers:
        A: [1, 2, 3, 4, 5, 6, 7, 8]
        B: [1, 2, 3, 4, 5, 6, 7, 8, 9]
`
	_, err := Load(LoadOptions{File: writeFile(t, body)})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Load() = %v, want a ValidationError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`related[0].also[1]: found "/tags/{tg}", expected a capture defined in match (one of: slug) in place of {tg}`,
		`related[1].match: found "articles", expected a path pattern starting with /`,
		`related[1].also: at least one path to purge`,
		`environments.production.related[0].also[0]: found "https://www.example.com/x", expected a path starting with /`,
		`environments.production.related[0].also[1]: found "/*", expected a narrower prefix than /*`,
		`environments.production.cache_key.headers.cookie: found "cookie", expected a header that is not a credential`,
		`environments.production.cache_key.headers.x-lang: a list of at least one value`,
		`environments.production.cache_key.headers.x-device[1]: found "", expected a non-empty header value`,
		`environments.staging.cache_key.headers: found 72 combinations, expected at most 64 combinations`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("validation lacks %q:\n%s", want, msg)
		}
	}
}

func TestCacheKeyOverride(t *testing.T) {
	env := Environ{"CACHECTL_ENVIRONMENTS_PRODUCTION_CACHE_KEY_HEADERS_CF_DEVICE_TYPE=mobile, tablet"}
	cfg, err := Load(LoadOptions{File: writeFile(t, relatedConfig), Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Environments["production"].CacheKey.Headers
	want := KeyHeaders{"cf-device-type": {"mobile", "tablet"}, "accept-language": {"en", "de"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cache_key.headers = %v, want %v (the variable's _ stands for -)", got, want)
	}
}
