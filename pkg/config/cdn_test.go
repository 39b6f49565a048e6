package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/pkg/purge/akamai"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/purge/cloudfront"
	"github.com/cachectl/cachectl/pkg/purge/httppurge"
)

// TestCDNSectionDecodedByProvider: the provider named decodes its own
// keys, CACHECTL_ overrides of the keys in the file included, and the
// section prints as written.
func TestCDNSectionDecodedByProvider(t *testing.T) {
	env := Environ{"CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_BATCH_SIZE=50", "CACHECTL_ENVIRONMENTS_PRODUCTION_CDN_API_TOKEN_ENV=CF_TOKEN"}
	cfg, err := Load(LoadOptions{File: writeFile(t, validConfig), Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	prod := cfg.Environments["production"].CDN
	cf, ok := prod.Settings.(*cloudflare.Settings)
	if !ok || cf.ZoneID != "023e105f4ecef8ad9ca31a8372d0c353" || cf.BatchSize != 50 || cf.Plan != "pro" || prod.APITokenEnv != "CF_TOKEN" {
		t.Errorf("production cdn = %+v, settings %+v; want the cloudflare settings with the overrides", prod.Common, prod.Settings)
	}
	staging := cfg.Environments["staging"].CDN
	if hp, ok := staging.Settings.(*httppurge.Settings); !ok || strings.Join(hp.Endpoints, ",") != "http://127.0.0.1:6081" {
		t.Errorf("staging settings = %+v, want the http-purge endpoints", staging.Settings)
	}
	b, err := yaml.Marshal(prod)
	if err != nil {
		t.Fatal(err)
	}
	want := "provider: cloudflare\nzone_id: 023e105f4ecef8ad9ca31a8372d0c353\nbatch_size: 50\nplan: pro\napi_token_env: CF_TOKEN\n"
	if got := string(b); got != want {
		t.Errorf("YAML =\n%s\nwant\n%s", got, want)
	}
	b, err = json.Marshal(staging)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil || fields["provider"] != "http-purge" || fields["endpoints"] == nil {
		t.Errorf("JSON = %s (%v), want the shared and the provider's fields in one object", b, err)
	}
}

func TestCDNSectionProblems(t *testing.T) {
	tests := []struct {
		name, cdn string
		want      []string
	}{
		{"required key without provider", "{endpoints: [http://127.0.0.1:6081]}",
			[]string{"environments.p.cdn.provider: one of cloudflare, fastly, http-purge, cloudfront, akamai, bunny when other cdn keys are set"}},
		{"cloudfront key without provider", "{distribution_id: EDFDVBD6EXAMPLE}",
			[]string{"environments.p.cdn.provider: one of cloudflare, fastly, http-purge, cloudfront, akamai, bunny when other cdn keys are set"}},
		{"unknown key", "{provider: fastly, service_id: s, api_token_env: T, wat: 1}",
			[]string{"environments.p.cdn.wat: found unknown key, expected one of provider, api_url, api_token_env, api_token_file, rate, burst, max_attempts, zone_id, batch_size, plan, service_id, endpoints, method, tags, prefix, distribution_id, wait_timeout, poll_interval"}},
		{"provider key of the wrong type", "{provider: http-purge, endpoints: [http://127.0.0.1:6081], batch_size: many}",
			[]string{`environments.p.cdn.batch_size: found "many", expected a whole number`}},
		{"http-purge tags and prefix", "{provider: http-purge, endpoints: [http://127.0.0.1:6081], tags: 'x tags', prefix: regex}",
			[]string{`environments.p.cdn.tags: found "x tags", expected xkey or the name of the request header the cache reads tags from`,
				`environments.p.cdn.prefix: found "regex", expected ban`}},
		{"token needed", "{provider: fastly, service_id: s}",
			[]string{"environments.p.cdn.api_token_env: the name of the environment variable holding the API token (or api_token_file)"}},
		{"cloudfront: a domain name for the distribution id", "{provider: cloudfront, distribution_id: d111111abcdef8.cloudfront.net}",
			[]string{`environments.p.cdn.distribution_id: found "d111111abcdef8.cloudfront.net", expected a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE (this is the distribution's domain name; the console lists the id beside it)`}},
		{"cloudfront: no distribution id", "{provider: cloudfront}",
			[]string{`environments.p.cdn.distribution_id: a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE (missing)`}},
		{"cloudfront: a token in the config", "{provider: cloudfront, distribution_id: EDFDVBD6EXAMPLE, api_token_env: AWS_SECRET_ACCESS_KEY, batch_size: 5000, wait_timeout: soon}",
			[]string{
				`environments.p.cdn.api_token_env: found "AWS_SECRET_ACCESS_KEY", expected nothing: cloudfront takes its credentials from the AWS SDK's default chain`,
				`environments.p.cdn.batch_size: found 5000, expected paths per invalidation between 1 and 3000 (default 3000)`,
				`environments.p.cdn.wait_timeout: found "soon", expected a duration from 1ms to 24h such as 15m or 5s`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, "environments:\n  p:\n    base_url: https://a.example\n    cdn: "+tt.cdn+"\n")})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems lack %q:\n%s", w, err)
				}
			}
		})
	}
	cfg, err := Load(LoadOptions{File: writeFile(t, "environments:\n  p:\n    base_url: https://a.example\n    cdn: {provider: http-purge, endpoints: [http://127.0.0.1:6081], tags: xkey}\n"),
		Environ: Environ{"CACHECTL_ENVIRONMENTS_P_CDN_PREFIX=ban"}})
	if err != nil {
		t.Fatal(err)
	}
	if hp, ok := cfg.Environments["p"].CDN.Settings.(*httppurge.Settings); !ok || hp.Tags != "xkey" || hp.Prefix != "ban" {
		t.Errorf("settings = %+v, want tags xkey and prefix ban (from the environment)", cfg.Environments["p"].CDN.Settings)
	}
	// Another provider's key is accepted (and has no effect), as before
	// providers declared their own keys.
	if _, err := Load(LoadOptions{File: writeFile(t, "environments:\n  p:\n    base_url: https://a.example\n    cdn: {provider: fastly, service_id: s, api_token_env: T, zone_id: abc}\n")}); err != nil {
		t.Errorf("fastly section with a zone_id: %v", err)
	}
}

// TestAkamaiSection: the Akamai provider's keys decode, a CACHECTL_
// override of its CP code list included, and name no secret: the
// credentials stay in the .edgerc file.
func TestAkamaiSection(t *testing.T) {
	file := writeFile(t, "environments:\n  staging:\n    base_url: https://staging.example.com\n    cdn:\n      provider: akamai\n      edgerc: /etc/cachectl/edgerc\n      edgerc_section: ccu\n      network: staging\n")
	cfg, err := Load(LoadOptions{File: file, Environ: Environ{"CACHECTL_ENVIRONMENTS_STAGING_CDN_CP_CODES=12345,67890"}})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := cfg.Environments["staging"].CDN.Settings.(*akamai.Settings)
	want := akamai.Settings{Edgerc: "/etc/cachectl/edgerc", Section: "ccu", Network: "staging", CPCodes: []int{12345, 67890}}
	if !ok || !reflect.DeepEqual(*got, want) {
		t.Errorf("settings = %#v, want %#v", cfg.Environments["staging"].CDN.Settings, want)
	}
	if vs := cfg.SecretValues(Environ{}.Lookup); len(vs) != 0 {
		t.Errorf("secret values %d, want none", len(vs))
	}
	_, err = Load(LoadOptions{File: writeFile(t, "environments:\n  p:\n    base_url: https://a.example\n    cdn: {provider: akamai, network: prod, cp_codes: [0]}\n")})
	for _, want := range []string{`environments.p.cdn.network: found "prod", expected production or staging`, "environments.p.cdn.cp_codes[0]: found 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestCloudFrontSection: the cloudfront provider's keys decode into its
// settings, a CACHECTL_ override included, and print in its order.
func TestCloudFrontSection(t *testing.T) {
	file := writeFile(t, "environments:\n  cf:\n    base_url: https://www.example.com\n    cdn: {provider: cloudfront, distribution_id: EXXXXXXXXXXXX, wait_timeout: 20m, max_attempts: 3}\n")
	cfg, err := Load(LoadOptions{File: file, Environ: Environ{"CACHECTL_ENVIRONMENTS_CF_CDN_DISTRIBUTION_ID=EDFDVBD6EXAMPLE"}})
	if err != nil {
		t.Fatal(err)
	}
	cdn := cfg.Environments["cf"].CDN
	s, ok := cdn.Settings.(*cloudfront.Settings)
	if !ok || s.DistributionID != "EDFDVBD6EXAMPLE" || s.WaitTimeout != "20m" {
		t.Fatalf("settings = %#v, want the cloudfront settings with the override", cdn.Settings)
	}
	b, err := yaml.Marshal(cdn)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "provider: cloudfront\ndistribution_id: EDFDVBD6EXAMPLE\nwait_timeout: 20m\nmax_attempts: 3\n"; got != want {
		t.Errorf("YAML =\n%s\nwant\n%s", got, want)
	}
}
