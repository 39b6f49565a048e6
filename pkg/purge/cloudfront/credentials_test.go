package cloudfront_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudfront"
	"github.com/cachectl/cachectl/pkg/secret"
)

// sdkReadsItself are variables the AWS SDK's loader reads from the
// process environment on its own. Tests that go through the loader clear
// them, so a developer's own AWS setup cannot leak into a test.
var sdkReadsItself = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CA_BUNDLE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDFRONT", "AWS_ENDPOINT_URL_STS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
}

func isolateSDK(t *testing.T) {
	t.Helper()
	for _, v := range sdkReadsItself {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// metadataService counts requests to an instance metadata endpoint.
func metadataService(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// profileKey is the key the shared files of the profile tests hold.
var profileKey = cloudfrontfake.Credentials{AccessKeyID: "AKIAPROFILE000000000", SecretAccessKey: "profile-secret-5e2f8a1c-leakcheck"}

// TestCredentialsFromProfiles: without keys in the environment, the
// profile the environment names, or the default one under HOME, is read
// through the SDK's loader; its keys sign the requests and reach the
// scrubber. A profile that does not exist is refused by New.
func TestCredentialsFromProfiles(t *testing.T) {
	isolateSDK(t)
	creds := "[deploy]\naws_access_key_id = " + profileKey.AccessKeyID + "\naws_secret_access_key = " + profileKey.SecretAccessKey + "\n"
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(strings.Replace(creds, "[deploy]", "[default]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]map[string]string{
		"AWS_PROFILE in AWS_SHARED_CREDENTIALS_FILE": {"AWS_PROFILE": "deploy", "AWS_SHARED_CREDENTIALS_FILE": writeFile(t, "credentials", creds)},
		"the default profile under HOME":             {"HOME": home},
	} {
		t.Run(name, func(t *testing.T) {
			srv := fake(t, cloudfrontfake.Options{Credentials: profileKey})
			scrub := &secret.Scrubber{}
			p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP, LookupEnv: awsEnv(cloudfrontfake.Credentials{}, env), Secrets: scrub})
			if _, err := p.Purge(context.Background(), batch(purge.KindURL, 1)); err != nil {
				t.Fatal(err)
			}
			if got := scrub.String(profileKey.SecretAccessKey); got != secret.Redacted {
				t.Errorf("the scrubber does not know the profile's secret: %q", got)
			}
		})
	}
	_, err := cloudfront.New(purge.Config{Provider: cloudfront.Name}, quick, purge.Deps{LookupEnv: awsEnv(cloudfrontfake.Credentials{}, map[string]string{"AWS_PROFILE": "nope", "HOME": home})})
	if err == nil || !strings.Contains(err.Error(), "cloudfront: AWS configuration (AWS profile nope)") {
		t.Errorf("New = %v, want the missing profile named", err)
	}
}

// TestNoCredentials: with nothing to find, a web identity whose token
// service cannot be reached, or an SSO profile nobody logged in with, the
// first request fails as an authentication failure naming where cachectl
// looked, before anything reaches CloudFront or the instance metadata
// service.
func TestNoCredentials(t *testing.T) {
	isolateSDK(t)
	t.Setenv("HOME", t.TempDir()) // where the SDK itself looks for an SSO session's token
	imds, imdsHits := metadataService(t)
	token := writeFile(t, "token", "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
	sso := writeFile(t, "config", "[profile sso-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Deploy\n\n[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n")
	for name, tt := range map[string]struct {
		env  map[string]string
		want string
	}{
		"nothing to find":                  {map[string]string{"HOME": t.TempDir(), "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds}, "the AWS SDK's default chain"},
		"web identity":                     {map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/deploy"}, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role arn:aws:iam::123456789012:role/deploy)"},
		"an SSO profile without a session": {map[string]string{"AWS_PROFILE": "sso-dev", "AWS_CONFIG_FILE": sso}, "AWS profile sso-dev"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := fake(t, cloudfrontfake.Options{})
			p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP, LookupEnv: awsEnv(cloudfrontfake.Credentials{}, tt.env)})
			start := time.Now()
			_, err := p.Purge(context.Background(), batch(purge.KindURL, 1))
			if !purge.IsAuthError(err) || !strings.Contains(err.Error(), "no usable AWS credentials") || !strings.Contains(err.Error(), "nothing was sent; cachectl looked in "+tt.want) {
				t.Errorf("Purge = %v, want an authentication failure naming %s", err, tt.want)
			}
			if n := len(srv.Requests()); n != 0 || imdsHits.Load() != 0 {
				t.Errorf("CloudFront got %d requests and the metadata service %d, want none", n, imdsHits.Load())
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("finding no credentials took %v", time.Since(start))
			}
		})
	}
}

// TestRefusedCredentials: a wrong secret, or a session token missing,
// are authentication failures with a hint, never retried.
func TestRefusedCredentials(t *testing.T) {
	withToken := key
	withToken.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN"
	tests := []struct {
		name     string
		server   cloudfrontfake.Credentials
		client   cloudfrontfake.Credentials
		wantCode string
	}{
		{"wrong secret", key, cloudfrontfake.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: "not-the-secret-at-all"}, "SignatureDoesNotMatch"},
		{"unknown key", key, cloudfrontfake.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: key.SecretAccessKey}, "InvalidClientTokenId"},
		{"session token missing", withToken, key, "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, cloudfrontfake.Options{Credentials: tt.server})
			p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP, LookupEnv: awsEnv(tt.client, nil)})
			_, err := p.Purge(context.Background(), batch(purge.KindURL, 2))
			var ae *purge.APIError
			if !errors.As(err, &ae) || !ae.Auth || ae.CodeName != tt.wantCode || ae.Status != http.StatusForbidden {
				t.Fatalf("Purge = %v, want an authentication failure %s", err, tt.wantCode)
			}
			if !strings.Contains(ae.Hint, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") || len(srv.Requests()) != 1 {
				t.Errorf("hint %q after %d requests; want the credentials' source named, after one request", ae.Hint, len(srv.Requests()))
			}
			checkModel(t, srv)
		})
	}
}

// tlsFake serves a fake over HTTPS with a certificate no system trusts,
// and writes that certificate as a PEM bundle.
func tlsFake(t *testing.T) (*httptest.Server, *cloudfrontfake.Fake, string) {
	t.Helper()
	f := cloudfrontfake.New(cloudfrontfake.Options{DistributionID: distribution, Credentials: key})
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	bundle := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	return srv, f, bundle
}

// TestCABundle: AWS_CA_BUNDLE's certificates are what the client handed
// to the SDK trusts — with keys in the environment and through the SDK's
// loader, which refuses a custom client of its own when it sees a bundle.
func TestCABundle(t *testing.T) {
	isolateSDK(t)
	srv, f, bundle := tlsFake(t)
	creds := "[deploy]\naws_access_key_id = " + key.AccessKeyID + "\naws_secret_access_key = " + key.SecretAccessKey + "\n"
	profile := map[string]string{"AWS_PROFILE": "deploy", "AWS_SHARED_CREDENTIALS_FILE": writeFile(t, "credentials", creds), "AWS_CA_BUNDLE": bundle}
	tests := []struct {
		name    string
		creds   cloudfrontfake.Credentials
		env     map[string]string
		wantErr string
	}{
		{"keys in the environment", key, map[string]string{"AWS_CA_BUNDLE": bundle}, ""},
		{"a profile, through the SDK's loader", cloudfrontfake.Credentials{}, profile, ""},
		{"no bundle: the system's roots", key, nil, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The SDK's loader reads AWS_CA_BUNDLE from the process too.
			t.Setenv("AWS_CA_BUNDLE", tt.env["AWS_CA_BUNDLE"])
			before := len(f.Requests())
			p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP, LookupEnv: awsEnv(tt.creds, tt.env)})
			res, err := p.Purge(context.Background(), batch(purge.KindURL, 1))
			if tt.wantErr == "" {
				if err != nil || len(f.Requests()) != before+1 {
					t.Fatalf("Purge = %v after %d requests, want one request over TLS", err, len(f.Requests())-before)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || res.Attempts != 1 {
				t.Errorf("Purge = %v after %d attempts, want a certificate failure, not retried", err, res.Attempts)
			}
		})
	}
	// What the provider avoids: the SDK's loader refuses a plain client
	// when it finds a bundle.
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if _, err := config.LoadDefaultConfig(context.Background(), config.WithHTTPClient(&http.Client{}), config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{})); err == nil || !strings.Contains(err.Error(), "unable to add custom RootCAs HTTPClient") {
		t.Errorf("LoadDefaultConfig with a custom client and AWS_CA_BUNDLE = %v; the SDK's refusal changed", err)
	}
}

func TestNewRefuses(t *testing.T) {
	notPEM := writeFile(t, "ca.pem", "not a certificate")
	tests := []struct {
		name    string
		cfg     purge.Config
		s       cloudfront.Settings
		env     map[string]string
		wantErr string
	}{
		{"no distribution", purge.Config{}, cloudfront.Settings{}, nil, "cloudfront: distribution_id is required"},
		{"a domain name", purge.Config{}, cloudfront.Settings{DistributionID: "d111111abcdef8.cloudfront.net"}, nil, "cloudfront: distribution_id: found"},
		{"batch too large", purge.Config{}, cloudfront.Settings{DistributionID: distribution, BatchSize: 3001}, nil, "batch_size: found 3001"},
		{"bad api_url", purge.Config{APIURL: "cloudfront.internal"}, quick, nil, "cloudfront: api_url"},
		{"bundle missing", purge.Config{}, quick, map[string]string{"AWS_CA_BUNDLE": "/nonexistent/ca.pem"}, "cloudfront: AWS_CA_BUNDLE: open /nonexistent/ca.pem"},
		{"bundle not PEM", purge.Config{}, quick, map[string]string{"AWS_CA_BUNDLE": notPEM}, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		_, err := cloudfront.New(tt.cfg, tt.s, purge.Deps{LookupEnv: awsEnv(key, tt.env)})
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: New = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
