package cloudfront

import (
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/purge"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		s    Settings
		want []string // "key: expected" of each problem, in order
	}{
		{Settings{DistributionID: "EDFDVBD6EXAMPLE"}, nil},
		{Settings{DistributionID: "E2RE5FZJI8MX89", BatchSize: 3000, WaitTimeout: "1h", PollInterval: "10s"}, nil},
		{Settings{}, []string{"distribution_id: a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE (missing)"}},
		{Settings{DistributionID: "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"}, []string{"distribution_id: a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE (this is an ARN; keep only what follows distribution/)"}},
		{Settings{DistributionID: "edfdvbd6example"}, []string{"distribution_id: a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE (ids are upper case, without spaces)"}},
		{Settings{DistributionID: "d111111abcdef8.cloudfront.net"}, []string{"distribution_id: a CloudFront distribution id: E followed by upper-case letters and digits, such as EDFDVBD6EXAMPLE (this is the distribution's domain name; the console lists the id beside it)"}},
		{Settings{DistributionID: "EDFDVBD6EXAMPLE", BatchSize: -1, WaitTimeout: "0s", PollInterval: "soon"}, []string{
			"batch_size: paths per invalidation between 1 and 3000 (default 3000)",
			"wait_timeout: a duration from 1ms to 24h such as 15m or 5s",
			"poll_interval: a duration from 1ms to 24h such as 15m or 5s",
		}},
		{Settings{DistributionID: "EDFDVBD6EXAMPLE", WaitTimeout: "1s", PollInterval: "5s"}, []string{"poll_interval: a duration no longer than wait_timeout (1s)"}},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range validate(tt.s) {
			got = append(got, p.Key+": "+p.Expected)
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("validate(%+v) =\n%s\nwant\n%s", tt.s, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestHint(t *testing.T) {
	s := Settings{DistributionID: "EDFDVBD6EXAMPLE"}
	cfg := purge.Config{TokenEnv: "AWS profile deploy"}
	tests := []struct {
		ae   purge.APIError
		want string
	}{
		{purge.APIError{Status: 403, CodeName: "AccessDenied"}, "the AWS credentials from AWS profile deploy need cloudfront:CreateInvalidation, cloudfront:GetInvalidation and cloudfront:ListInvalidations on arn:aws:cloudfront::<account>:distribution/EDFDVBD6EXAMPLE"},
		{purge.APIError{Status: 403, CodeName: "ExpiredToken"}, "aws sso login renews an SSO session"},
		{purge.APIError{Status: 403, CodeName: "RequestTimeTooSkewed"}, "clock is more than 15 minutes off"},
		{purge.APIError{Status: 404, CodeName: "NoSuchDistribution"}, "distribution_id EDFDVBD6EXAMPLE names no distribution"},
		{purge.APIError{Status: 400, CodeName: "TooManyInvalidationsInProgress"}, "3,000 paths and 15 wildcard paths in progress"},
		{purge.APIError{Status: 413, CodeName: "BatchTooLarge"}, "lower batch_size"},
		{purge.APIError{Status: 400, CodeName: "Throttling"}, "about one CreateInvalidation every two seconds"},
		{purge.APIError{Status: 409, CodeName: "InvalidationBatchAlreadyExists"}, "start a new run"},
		{purge.APIError{Status: 401}, "check the AWS credentials from AWS profile deploy and their IAM policy"},
		{purge.APIError{Status: 400, CodeName: "InvalidArgument"}, ""},
	}
	for _, tt := range tests {
		got := Spec.Hint(&tt.ae, purge.KindURL, cfg, &s)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("Hint(%s %d) = %q, want %q", tt.ae.CodeName, tt.ae.Status, got, tt.want)
		}
	}
}
