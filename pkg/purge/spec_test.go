package purge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/purge/fastly"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

func TestNewLimitsConfigOverridesAndOtherProviders(t *testing.T) {
	l, err := cloudflare.Spec.Limits(purge.Config{Provider: "cloudflare", Rate: 2, Burst: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := providertest.BucketDelay(l.Requests, 3); !providertest.JustUnder(got, 500*time.Millisecond) {
		t.Errorf("configured 2/s burst 3: request 3 waits %v, want just over 500ms", got)
	}
	l, err = httppurge.Spec.Limits(purge.Config{Provider: "http-purge"}, nil)
	if err != nil || l.Requests != nil || l.Bulk != nil || l.URLs != nil {
		t.Fatalf("http-purge limits = %+v, %v; want none", l, err)
	}
	if _, err := cloudflare.Spec.Limits(purge.Config{Provider: "cloudflare"}, &cloudflare.Settings{Plan: "platinum"}); err == nil {
		t.Fatal("unknown plan accepted")
	}
	if _, err := fastly.Spec.Limits(purge.Config{Provider: "fastly", Rate: -1}, nil); err == nil {
		t.Fatal("negative rate accepted")
	}
}

// TestNewLimitsKeepsPublishedBuckets: a configured rate replaces only the
// per-request bucket, and never changes the published limits it started from.
func TestNewLimitsKeepsPublishedBuckets(t *testing.T) {
	published, err := cloudflare.Spec.Limits(purge.Config{}, &cloudflare.Settings{Plan: "pro"})
	if err != nil {
		t.Fatal(err)
	}
	requests := published.Requests
	l, err := purge.NewLimits(published, purge.Config{Rate: 2})
	if err != nil {
		t.Fatal(err)
	}
	if l.Bulk != published.Bulk || l.URLs != published.URLs || l.Requests == requests || published.Requests != requests {
		t.Errorf("NewLimits(published, rate 2) = %+v from %+v; want the bulk and URL buckets kept, a new request bucket, published untouched", l, published)
	}
}

type testSettings struct {
	Account string   `mapstructure:"account"`
	Nodes   []string `mapstructure:"nodes"`
	Ignored string
}

// TestDefineErasesSettings: the Spec hands its own settings type through,
// treats nil as the zero settings and refuses another provider's.
func TestDefineErasesSettings(t *testing.T) {
	var got testSettings
	spec := purge.Define(purge.Definition[testSettings, purge.Provider]{
		Name:     "test",
		Required: []string{"account"},
		Validate: func(s testSettings) []purge.Problem {
			if s.Account == "" {
				return []purge.Problem{{Key: "account", Expected: "an account"}}
			}
			return nil
		},
		New: func(_ purge.Config, s testSettings, _ purge.Deps) (purge.Provider, error) {
			got = s
			return nil, nil
		},
	})
	if keys := strings.Join(spec.Keys(), ","); keys != "account,nodes" {
		t.Errorf("Keys() = %s, want account,nodes", keys)
	}
	s := spec.NewSettings().(*testSettings)
	s.Account = "a"
	if _, err := spec.New(purge.Config{}, s, purge.Deps{}); err != nil || got.Account != "a" {
		t.Errorf("New(settings) got %+v, %v; want account a", got, err)
	}
	if ps := spec.Validate(purge.Common{}, nil); len(ps) != 1 || ps[0].Key != "account" {
		t.Errorf("Validate(nil) = %v, want the zero settings' problem", ps)
	}
	if _, err := spec.New(purge.Config{}, &cloudflare.Settings{}, purge.Deps{}); err == nil {
		t.Error("New accepted another provider's settings")
	}
	if ps := spec.Validate(purge.Common{}, &cloudflare.Settings{}); len(ps) != 1 || ps[0].Key != "provider" {
		t.Errorf("Validate(another provider's settings) = %v, want one problem", ps)
	}
}
