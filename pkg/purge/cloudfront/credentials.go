package cloudfront

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/secret"
)

// EnvVars are the variables the provider reads, from the environment
// cachectl was started with (purge.Deps.LookupEnv), to follow the AWS
// SDK's default credential chain. Keys in the environment come first,
// then web identity, then the profile in the shared files; a profile may
// name SSO, a role to assume, a credential process, a container or
// instance role.
var EnvVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "HOME",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE",
	"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
}

// awsSetup is the SDK configuration for one provider.
type awsSetup struct {
	cfg aws.Config
	// source says where credentials come from, for messages.
	source string
	// roots are the CA bundle's certificates (AWS_CA_BUNDLE, or the
	// profile's ca_bundle); nil trusts the system's.
	roots *x509.CertPool
}

// loadAWS builds the SDK configuration from the environment deps hand
// over. Keys in the environment need no more; otherwise the SDK's loader
// reads the shared files of the profile the environment names. Loading
// makes no request: a role or SSO session is resolved at the first one.
func loadAWS(deps purge.Deps) (awsSetup, error) {
	env := func(name string) string {
		if deps.LookupEnv == nil {
			return ""
		}
		v, _ := deps.LookupEnv(name)
		return strings.TrimSpace(v)
	}
	region := signingRegion(env("AWS_REGION"), env("AWS_DEFAULT_REGION"))
	pem, roots, err := caBundle(env("AWS_CA_BUNDLE"))
	if err != nil {
		return awsSetup{}, err
	}
	if id, key := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" && key != "" {
		token := env("AWS_SESSION_TOKEN")
		for _, v := range []string{id, key, token} {
			deps.Secrets.Add(secret.Value(v))
		}
		creds := credentials.NewStaticCredentialsProvider(id, key, token)
		return awsSetup{cfg: aws.Config{Region: region, Credentials: creds}, source: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", roots: roots}, nil
	}
	s, err := loadChain(env, region, pem)
	if err != nil {
		return awsSetup{}, err
	}
	if roots == nil {
		roots = sdkRoots(s.cfg.HTTPClient)
	}
	s.roots = roots
	s.cfg.Credentials = &registering{next: s.cfg.Credentials, secrets: deps.Secrets}
	return s, nil
}

// loadChain hands the rest of the default chain to the SDK's loader, with
// everything it would read from the environment given explicitly.
func loadChain(env func(string) string, region string, pem []byte) (awsSetup, error) {
	home := env("HOME")
	files := func(override, name string) []string {
		switch {
		case override != "":
			return []string{override}
		case home != "":
			return []string{filepath.Join(home, ".aws", name)}
		}
		return []string{}
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithSharedConfigFiles(files(env("AWS_CONFIG_FILE"), "config")),
		config.WithSharedCredentialsFiles(files(env("AWS_SHARED_CREDENTIALS_FILE"), "credentials")),
	}
	profile := env("AWS_PROFILE")
	if profile == "" {
		profile = env("AWS_DEFAULT_PROFILE")
	}
	source := "the AWS SDK's default chain (default profile, container or instance role)"
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
		source = "AWS profile " + profile
	}
	if strings.EqualFold(env("AWS_EC2_METADATA_DISABLED"), "true") {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if v := env("AWS_EC2_METADATA_SERVICE_ENDPOINT"); v != "" {
		opts = append(opts, config.WithEC2IMDSEndpoint(v))
	}
	if pem != nil {
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(pem)))
	}
	// Loading reads files only; the context governs no request.
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return awsSetup{}, fmt.Errorf("cloudfront: AWS configuration (%s): %w", source, err)
	}
	if file, arn := env("AWS_WEB_IDENTITY_TOKEN_FILE"), env("AWS_ROLE_ARN"); profile == "" && file != "" && arn != "" {
		name := env("AWS_ROLE_SESSION_NAME")
		cfg.Credentials = stscreds.NewWebIdentityRoleProvider(sts.NewFromConfig(cfg), arn, stscreds.IdentityTokenFile(file), func(o *stscreds.WebIdentityRoleOptions) {
			if name != "" {
				o.RoleSessionName = name
			}
		})
		source = "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role " + arn + ")"
	}
	return awsSetup{cfg: cfg, source: source}, nil
}

// signingRegion is where CloudFront's global API is signed: us-east-1,
// or the China region the environment names (CloudFront in China has an
// API of its own).
func signingRegion(regions ...string) string {
	for _, r := range regions {
		if strings.HasPrefix(r, "cn-") {
			return r
		}
	}
	return "us-east-1"
}

// caBundle reads the PEM file AWS_CA_BUNDLE names.
func caBundle(path string) ([]byte, *x509.CertPool, error) {
	if path == "" {
		return nil, nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cloudfront: AWS_CA_BUNDLE: %w (expected a PEM file of CA certificates)", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("cloudfront: AWS_CA_BUNDLE: %s holds no PEM certificate (expected a PEM file of CA certificates)", path)
	}
	return pem, roots, nil
}

// sdkRoots are the CA roots the SDK's loader put into its own client (a
// profile's ca_bundle), or nil.
func sdkRoots(c aws.HTTPClient) *x509.CertPool {
	b, ok := c.(*awshttp.BuildableClient)
	if !ok {
		return nil
	}
	if tr := b.GetTransport(); tr != nil && tr.TLSClientConfig != nil {
		return tr.TLSClientConfig.RootCAs
	}
	return nil
}

// registering hands every credential it resolves to the run's scrubber
// before anything can print it.
type registering struct {
	next    aws.CredentialsProvider
	secrets *secret.Scrubber
}

// errNoCredentials marks a failure to find or refresh credentials: no
// request reached CloudFront.
var errNoCredentials = errors.New("no usable AWS credentials")

func (r *registering) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if r.next == nil {
		return aws.Credentials{}, errNoCredentials
	}
	c, err := r.next.Retrieve(ctx)
	if err != nil {
		return c, fmt.Errorf("%w: %w", errNoCredentials, err)
	}
	for _, v := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken} {
		r.secrets.Add(secret.Value(v))
	}
	return c, nil
}
