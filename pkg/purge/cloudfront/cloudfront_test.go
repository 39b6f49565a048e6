package cloudfront_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudfront"
	"github.com/cachectl/cachectl/pkg/secret"
)

const distribution = "EDFDVBD6EXAMPLE"

// key is the access key the fakes accept; its values are unique so a
// leak is easy to find.
var key = cloudfrontfake.Credentials{AccessKeyID: "AKIACFTEST0123456789", SecretAccessKey: "cf-secret-7c1d9e4b2a-leakcheck"}

// TestMain keeps every test on loopback: a host name is never resolved,
// so nothing can reach a real AWS endpoint, and the tests' environments
// disable the EC2 instance metadata service.
func TestMain(m *testing.M) {
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("tests resolve no host names")
	}}
	os.Exit(m.Run())
}

// awsEnv is the environment a provider reads: the fake's key, the
// instance metadata service off, no HOME, plus extra.
func awsEnv(creds cloudfrontfake.Credentials, extra map[string]string) func(string) (string, bool) {
	env := map[string]string{"AWS_EC2_METADATA_DISABLED": "true", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"}
	if creds.AccessKeyID != "" {
		env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = creds.AccessKeyID, creds.SecretAccessKey
	}
	if creds.SessionToken != "" {
		env["AWS_SESSION_TOKEN"] = creds.SessionToken
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func fake(t *testing.T, opts cloudfrontfake.Options) *cloudfrontfake.Server {
	t.Helper()
	if opts.DistributionID == "" {
		opts.DistributionID = distribution
	}
	if opts.Credentials.AccessKeyID == "" {
		opts.Credentials = key
	}
	srv := cloudfrontfake.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// quick settings poll every few milliseconds.
var quick = cloudfront.Settings{DistributionID: distribution, PollInterval: "5ms", WaitTimeout: "10s"}

func newProvider(t *testing.T, apiURL string, s cloudfront.Settings, deps purge.Deps) *cloudfront.Provider {
	t.Helper()
	if deps.LookupEnv == nil {
		deps.LookupEnv = awsEnv(key, nil)
	}
	p, err := cloudfront.New(purge.Config{Provider: cloudfront.Name, APIURL: apiURL}, s, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func target(k purge.Kind, i int) purge.Target {
	switch k {
	case purge.KindURL:
		return purge.Target{Kind: k, Value: fmt.Sprintf("https://www.example.com/blog/post-%d?page=2", i)}
	case purge.KindPrefix:
		return purge.Target{Kind: k, Value: fmt.Sprintf("www.example.com/blog/%d/", i)}
	}
	return purge.Target{Kind: k}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Spec: cloudfront.Spec,
		New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
			srv := fake(t, cloudfrontfake.Options{Faults: f})
			return newProvider(t, srv.URL, quick, deps), srv
		},
		Target:   target,
		PurgeIDs: true,
		Auth:     true,
		MaxBatch: 500,
	})
}

// batch is a batch of n targets of kind k in run "run-1".
func batch(k purge.Kind, n int) purge.Batch {
	b := purge.Batch{Seq: 1, Kind: k, Run: "20261126T161200Z-ab12cd"}
	for i := range n {
		b.Targets = append(b.Targets, target(k, i))
	}
	return b
}

// progressLines collects what a provider says about its waits.
type progressLines struct {
	mu    sync.Mutex
	lines []string
}

func (p *progressLines) add(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, msg)
}

func (p *progressLines) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func TestScrubberLearnsTheKeys(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{Credentials: cloudfrontfake.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey, SessionToken: "FwoGZXIvYXdzEtoken-leakcheck"}})
	scrub := &secret.Scrubber{}
	creds := key
	creds.SessionToken = "FwoGZXIvYXdzEtoken-leakcheck"
	p := newProvider(t, srv.URL, quick, purge.Deps{LookupEnv: awsEnv(creds, nil), Secrets: scrub})
	if _, err := p.Purge(context.Background(), batch(purge.KindURL, 1)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{key.AccessKeyID, key.SecretAccessKey, creds.SessionToken} {
		if got := scrub.String("x " + v + " y"); got != "x REDACTED y" {
			t.Errorf("the scrubber does not know %q: %q", v, got)
		}
	}
	if r := srv.Requests()[0]; r.Header.Get("X-Amz-Security-Token") != "REDACTED" {
		t.Errorf("the session token was not sent: %v", r.Header)
	}
}
