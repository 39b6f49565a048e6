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

// TestSecretAWSRefusesATokenInTheConfig: a provider whose credentials come
// from the AWS SDK's chain reports api_token_env and api_token_file as
// problems, and asks for neither when they are absent.
func TestSecretAWSRefusesATokenInTheConfig(t *testing.T) {
	spec := purge.Define(purge.Definition[testSettings, purge.Provider]{
		Name:   "aws-test",
		Secret: purge.Secret{Kind: purge.SecretAWS},
		New:    func(purge.Config, testSettings, purge.Deps) (purge.Provider, error) { return nil, nil },
	})
	if ps := spec.Validate(purge.Common{}, nil); len(ps) != 0 {
		t.Errorf("Validate without a token = %v, want no problem", ps)
	}
	ps := spec.Validate(purge.Common{APITokenEnv: "AWS_SECRET_ACCESS_KEY", APITokenFile: "/run/key"}, nil)
	if len(ps) != 2 || ps[0].Key != "api_token_env" || ps[1].Key != "api_token_file" || ps[0].Value != `"AWS_SECRET_ACCESS_KEY"` {
		t.Fatalf("Validate with a token = %+v, want api_token_env and api_token_file", ps)
	}
	if !strings.Contains(ps[0].Expected, "AWS SDK's default chain") {
		t.Errorf("Expected = %q, want it to name the AWS SDK's default chain", ps[0].Expected)
	}
}

func TestAPIErrorNamesStatusAndCode(t *testing.T) {
	tests := []struct {
		err  purge.APIError
		want string
	}{
		{purge.APIError{Status: 400, Code: 1094, Message: "too many"}, "API refused the request (HTTP 400, code 1094): too many; retrying the same request will not help"},
		{purge.APIError{Status: 400, CodeName: "TooManyInvalidationsInProgress", Retryable: true}, "API refused the request (HTTP 400, TooManyInvalidationsInProgress); retrying later is safe"},
		{purge.APIError{Auth: true, Message: "no credentials", Hint: "set AWS_PROFILE"}, "authentication failed: no credentials; set AWS_PROFILE"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
