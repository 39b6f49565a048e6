package providers

import (
	"slices"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/purge/cloudfront"
	"github.com/cachectl/cachectl/pkg/purge/fastly"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

// build finds the provider cfg names and builds it, as cachectl purge does,
// with AWS keys in the environment it hands over.
func build(cfg purge.Config, settings any) (purge.Provider, error) {
	spec, err := Find(cfg)
	if err != nil {
		return nil, err
	}
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	return spec.New(cfg, settings, purge.Deps{LookupEnv: lookup})
}

func TestNew(t *testing.T) {
	tests := []struct {
		cfg      purge.Config
		settings any
		wantErr  string
	}{
		{purge.Config{Provider: "cloudflare", Token: "t"}, &cloudflare.Settings{ZoneID: "z"}, ""},
		{purge.Config{Provider: "fastly", Token: "t"}, &fastly.Settings{ServiceID: "s"}, ""},
		{purge.Config{Provider: "http-purge"}, &httppurge.Settings{Endpoints: []string{"http://127.0.0.1:6081"}}, ""},
		{purge.Config{Provider: "cloudfront"}, &cloudfront.Settings{DistributionID: "EDFDVBD6EXAMPLE"}, ""},
		{purge.Config{Provider: "nosuchcdn", Environment: "production"}, nil, `unknown provider "nosuchcdn"`},
		{purge.Config{Environment: "production"}, nil, "no CDN provider"},
	}
	for _, tt := range tests {
		p, err := build(tt.cfg, tt.settings)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%q) error = %v, want it to contain %q", tt.cfg.Provider, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tt.cfg.Provider, err)
			continue
		}
		if got, want := p.Name(), tt.cfg.Provider; got != want {
			t.Errorf("Name() = %q, want %q", got, want)
		}
	}
}

func TestNamesAllBuild(t *testing.T) {
	for _, n := range Names() {
		_, err := build(purge.Config{Provider: n}, nil)
		if err != nil && strings.Contains(err.Error(), "unknown provider") {
			t.Errorf("Names() lists %q but Find does not know it", n)
		}
	}
}

// TestRegistry: names are unique, and every key a provider declares is a
// key a cdn section may hold.
func TestRegistry(t *testing.T) {
	if got, want := strings.Join(Names(), ", "), "cloudflare, fastly, http-purge, cloudfront, akamai, bunny"; got != want {
		t.Errorf("Names() = %s, want %s", got, want)
	}
	keys := Keys()
	for _, name := range Names() {
		s, ok := Lookup(name)
		if !ok || s.Name != name {
			t.Errorf("Lookup(%q) = %q, %v", name, s.Name, ok)
		}
		for _, k := range append(s.Keys(), purge.CommonKeys()...) {
			if !slices.Contains(keys, k) {
				t.Errorf("Keys() lacks %s's key %q", s.Name, k)
			}
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(keys) {
		t.Errorf("Keys() repeats a key: %v", keys)
	}
	if _, ok := Lookup("nosuchcdn"); ok {
		t.Error(`Lookup("nosuchcdn") found a provider`)
	}
}
