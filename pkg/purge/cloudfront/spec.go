package cloudfront

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cachectl/cachectl/pkg/purge"
)

// Spec declares the provider to the registry.
var Spec = purge.Define(purge.Definition[Settings, *Provider]{
	Name:         Name,
	Required:     []string{"distribution_id"},
	Secret:       secretNeed,
	Capabilities: capabilities,
	Validate:     validate,
	Limits:       limits,
	Hint:         hint,
	New:          New,
})

// Settings are the provider's own keys in an environment's cdn section.
type Settings struct {
	// DistributionID is the distribution to invalidate, such as
	// EDFDVBD6EXAMPLE.
	DistributionID string `mapstructure:"distribution_id" yaml:"distribution_id,omitempty"`
	// BatchSize is paths per invalidation: default and at most 3,000.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size,omitempty"`
	// WaitTimeout bounds each wait on CloudFront: for room under its
	// limits on work in progress, and (--verify) for an invalidation to
	// complete. A duration such as 15m (the default).
	WaitTimeout string `mapstructure:"wait_timeout" yaml:"wait_timeout,omitempty"`
	// PollInterval is the first pause between two questions about an
	// invalidation's status; the pause grows to an eighth of the time
	// waited, up to 30s. A duration such as 5s (the default).
	PollInterval string `mapstructure:"poll_interval" yaml:"poll_interval,omitempty"`
}

// Defaults of the provider's keys.
const (
	DefaultWaitTimeout  = 15 * time.Minute
	DefaultPollInterval = 5 * time.Second
	// maxPollInterval caps the pause between status questions.
	maxPollInterval = 30 * time.Second
)

var (
	secretNeed = purge.Secret{Kind: purge.SecretAWS, Grants: "cloudfront:CreateInvalidation, cloudfront:GetInvalidation and cloudfront:ListInvalidations"}
	// capabilities: URL (its path), prefix (a wildcard path) and
	// everything (/*). A distribution has no tags, no soft purge, and its
	// paths are the same on every host it serves.
	capabilities     = []purge.Capability{purge.CapURL, purge.CapPrefix, purge.CapEverything}
	distributionIDRE = regexp.MustCompile(`^E[0-9A-Z]{7,20}$`)
)

func validate(s Settings) []purge.Problem {
	var ps []purge.Problem
	if p, ok := checkDistributionID(s.DistributionID); !ok {
		ps = append(ps, p)
	}
	if s.BatchSize < 0 || s.BatchSize > MaxPaths {
		ps = append(ps, purge.Problem{Key: "batch_size", Value: strconv.Itoa(s.BatchSize), Expected: "paths per invalidation between 1 and 3000 (default 3000)"})
	}
	wait, poll := DefaultWaitTimeout, DefaultPollInterval
	for _, d := range []struct {
		key, value string
		into       *time.Duration
	}{{"wait_timeout", s.WaitTimeout, &wait}, {"poll_interval", s.PollInterval, &poll}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 || v > 24*time.Hour {
			ps = append(ps, purge.Problem{Key: d.key, Value: strconv.Quote(d.value), Expected: "a duration from 1ms to 24h such as 15m or 5s"})
			continue
		}
		*d.into = v
	}
	if poll > wait {
		ps = append(ps, purge.Problem{Key: "poll_interval", Value: strconv.Quote(s.PollInterval), Expected: "a duration no longer than wait_timeout (" + wait.String() + ")"})
	}
	return ps
}

// durationOr is v as a duration, or def when v is empty or not a positive
// duration (validate reports those).
func durationOr(v string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	return def
}

// checkDistributionID checks the id's form and names the usual mistakes:
// the distribution's domain name or its ARN in its place.
func checkDistributionID(id string) (purge.Problem, bool) {
	p := purge.Problem{Key: "distribution_id", Value: strconv.Quote(id)}
	const want = "a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE"
	switch {
	case id == "":
		p.Value, p.Expected = "", want+" (missing)"
	case distributionIDRE.MatchString(id):
		return p, true
	case strings.HasSuffix(strings.ToLower(id), ".cloudfront.net"):
		p.Expected = want + " (this is the distribution's domain name; the console lists the id beside it)"
	case strings.HasPrefix(id, "arn:"):
		p.Expected = want + " (this is an ARN; keep only what follows distribution/)"
	case distributionIDRE.MatchString(strings.ToUpper(strings.TrimSpace(id))):
		p.Expected = want + " (ids are upper case, without spaces)"
	default:
		p.Expected = want
	}
	return p, false
}

// CloudFront publishes no rate for CreateInvalidation. An AWS engineer
// gave its default as 0.5 requests a second per account
// (aws/aws-sdk-js#3983), and users see Throttling after six or seven
// requests in a row, so the bucket holds five. The limits that matter
// more, on work in progress, are kept by the provider itself.
const (
	createRate  = rate.Limit(0.5)
	createBurst = 5
)

func limits(Settings) (*purge.Limits, error) {
	return &purge.Limits{Requests: purge.UnderLimit(createRate, createBurst)}, nil
}

// hint says what to do about a refusal: the policy the credentials lack,
// the credentials themselves, the distribution, the limits.
func hint(ae *purge.APIError, _ purge.Kind, cfg purge.Config, s Settings) string {
	source := cfg.TokenEnv
	if source == "" {
		source = "the AWS SDK's default chain"
	}
	switch ae.CodeName {
	case "AccessDenied":
		return fmt.Sprintf("the AWS credentials from %s need %s on arn:aws:cloudfront::<account>:distribution/%s; retrying will not help until the IAM policy allows them", source, secretNeed.Grants, s.DistributionID)
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "MissingAuthenticationToken", "IncompleteSignature", "UnrecognizedClientException":
		return fmt.Sprintf("check the AWS credentials from %s: the access key must exist, its secret match and a session token be current (aws sso login renews an SSO session); retrying will not help until they are fixed", source)
	case "RequestTimeTooSkewed":
		return "this machine's clock is more than 15 minutes off; set it right (NTP) and retry"
	case "NoSuchDistribution":
		return "distribution_id " + s.DistributionID + " names no distribution these credentials can see; check the id in the CloudFront console"
	case "TooManyInvalidationsInProgress":
		return "CloudFront allows 3,000 paths and 15 wildcard paths in progress per distribution; retry once other invalidations complete, or raise wait_timeout"
	case "BatchTooLarge":
		return "lower batch_size: CloudFront takes at most 3,000 paths per invalidation"
	case "Throttling":
		return "CloudFront's API rate (about one CreateInvalidation every two seconds per account) was exceeded longer than the retries lasted; retry later, or lower cdn.rate"
	case "InvalidationBatchAlreadyExists":
		return "CloudFront holds another invalidation under this batch's CallerReference; start a new run instead of resuming this one"
	}
	if ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden {
		return fmt.Sprintf("check the AWS credentials from %s and their IAM policy (%s on distribution %s); retrying will not help until they are fixed", source, secretNeed.Grants, s.DistributionID)
	}
	return ""
}
