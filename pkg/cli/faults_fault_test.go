package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake/akamaifake"
	"github.com/cachectl/cachectl/internal/cdnfake/bunnyfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
	"github.com/cachectl/cachectl/internal/cdnfake/fastlyfake"
	"github.com/cachectl/cachectl/internal/faultserver"
	"github.com/cachectl/cachectl/pkg/purge"
)

// faultTimeout is the --timeout every fault run gets; wallBound is how long
// any one command may take against a fault, retries and backoff included.
// Without per-request timeouts the slow faults would hold a run for minutes.
const (
	faultTimeout = time.Second
	wallBound    = 12 * time.Second
	fastlyID     = "SU1Z0isxPaozGVKXdv0eY"
)

// endpoint says where a fault lives when it is not an ordinary HTTP server.
type endpoint int

const (
	plainHTTP endpoint = iota
	untrustedTLS
	notTLS
	noDNS
)

// probeWant is the outcome of inspect, verify and diff against a faulty site.
type probeWant struct {
	// inspect, verify and diff are exit codes. diff compares the faulty
	// environment with a healthy one, so any answer that differs is drift.
	inspect, verify, diff int
	// err is the per-target error reported by each command that exits 3.
	err string
	// requests is what one inspect probe sends: probes never retry.
	requests int
}

// purgeWant is the outcome of purging three URLs through a faulty API.
type purgeWant struct {
	exit int
	// state is every target's final state in the journal.
	state purge.State
	// err is the per-target error in the output and the journal.
	err string
	// attempts is the most attempts any target's request took: retries
	// happen on 429, 5xx, timeouts and connection errors, never on an
	// answer that says no.
	attempts int
}

// faultTable names each fault and what cachectl must make of it. A nil
// probe or missing provider means the fault does not apply there (an
// http-purge node is judged by its status line, not by a JSON envelope).
var faultTable = []struct {
	fault  string
	server faultserver.Options
	at     endpoint
	probe  *probeWant
	purge  map[string]purgeWant
}{
	{
		fault:  "slow headers",
		server: faultserver.Options{Fault: faultserver.SlowHeaders, Delay: time.Minute},
		probe:  &probeWant{inspect: 3, verify: 3, diff: 3, err: "timeout after 1s", requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "no complete answer within 1s", 2},
			"cloudfront": {3, purge.Failed, "no complete answer within 1s", 2},
			"fastly":     {3, purge.Failed, "no complete answer within 1s", 2},
			"akamai":     {3, purge.Failed, "no complete answer within 1s", 2},
			"bunny":      {3, purge.Failed, "no complete answer within 1s", 2},
			"http-purge": {3, purge.Failed, "no complete answer within 1s", 2},
		},
	},
	{
		fault:  "slow body (trickle)",
		server: faultserver.Options{Fault: faultserver.SlowBody, Delay: 100 * time.Millisecond},
		probe:  &probeWant{inspect: 3, verify: 3, diff: 3, err: "reading body: timeout after 1s", requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "no complete answer within 1s", 1},
			"cloudfront": {3, purge.Failed, "no complete answer within 1s", 1},
			"fastly":     {3, purge.Failed, "no complete answer within 1s", 1},
			"akamai":     {3, purge.Failed, "no complete answer within 1s", 1},
			"bunny":      {3, purge.Failed, "no complete answer within 1s", 1},
			// A node's 200 status line is its confirmation; the body is not read.
			"http-purge": {0, purge.Purged, "", 1},
		},
	},
	{
		fault:  "connection reset mid-response",
		server: faultserver.Options{Fault: faultserver.Reset},
		probe:  &probeWant{inspect: 3, verify: 3, diff: 3, err: "connection reset by peer", requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "connection reset by peer", 1},
			"cloudfront": {3, purge.Failed, "connection reset by peer", 1},
			"fastly":     {3, purge.Failed, "connection reset by peer", 1},
			"akamai":     {3, purge.Failed, "connection reset by peer", 1},
			"bunny":      {3, purge.Failed, "connection reset by peer", 1},
			"http-purge": {0, purge.Purged, "", 1},
		},
	},
	{
		fault:  "truncated body (Content-Length larger than sent)",
		server: faultserver.Options{Fault: faultserver.Truncated},
		probe:  &probeWant{inspect: 3, verify: 3, diff: 3, err: "connection closed before the response was complete", requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "unexpected EOF", 1},
			"cloudfront": {3, purge.Failed, "unexpected EOF", 1},
			"fastly":     {3, purge.Failed, "unexpected EOF", 1},
			"akamai":     {3, purge.Failed, "unexpected EOF", 1},
			"bunny":      {3, purge.Failed, "unexpected EOF", 1},
			"http-purge": {0, purge.Purged, "", 1},
		},
	},
	{
		fault: "TLS handshake failure (plain text on a TLS port)",
		at:    notTLS,
		probe: &probeWant{inspect: 3, verify: 3, diff: 3, err: "TLS handshake failed: the server did not answer with TLS"},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "server gave HTTP response to HTTPS client", 2},
			"cloudfront": {3, purge.Failed, "server gave HTTP response to HTTPS client", 2},
			"fastly":     {3, purge.Failed, "server gave HTTP response to HTTPS client", 2},
			"akamai":     {3, purge.Failed, "server gave HTTP response to HTTPS client", 2},
			"bunny":      {3, purge.Failed, "server gave HTTP response to HTTPS client", 2},
			"http-purge": {3, purge.Failed, "server gave HTTP response to HTTPS client", 2},
		},
	},
	{
		fault: "untrusted certificate",
		at:    untrustedTLS,
		probe: &probeWant{inspect: 3, verify: 3, diff: 3, err: "TLS certificate not trusted: x509: certificate signed by unknown authority", requests: 0},
		purge: map[string]purgeWant{
			// A certificate will not become trusted by asking again.
			"cloudflare": {3, purge.Failed, "certificate signed by unknown authority", 1},
			"cloudfront": {3, purge.Failed, "certificate signed by unknown authority", 1},
			"fastly":     {3, purge.Failed, "certificate signed by unknown authority", 1},
			"akamai":     {3, purge.Failed, "certificate signed by unknown authority", 1},
			"bunny":      {3, purge.Failed, "certificate signed by unknown authority", 1},
			"http-purge": {3, purge.Failed, "certificate signed by unknown authority", 1},
		},
	},
	{
		fault: "DNS failure",
		at:    noDNS,
		probe: &probeWant{inspect: 3, verify: 3, diff: 3, err: "DNS lookup of cachectl-fault.invalid failed"},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "cachectl-fault.invalid", 2},
			"fastly":     {3, purge.Failed, "cachectl-fault.invalid", 2},
			"akamai":     {3, purge.Failed, "cachectl-fault.invalid", 2},
			"bunny":      {3, purge.Failed, "cachectl-fault.invalid", 2},
			"http-purge": {3, purge.Failed, "cachectl-fault.invalid", 2},
		},
	},
	{
		fault:  "429 storm without Retry-After",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusTooManyRequests, Body: `{"success":false,"errors":[{"code":10429,"message":"rate limited"}]}`},
		probe:  &probeWant{inspect: 0, verify: 0, diff: 1, requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "HTTP 429", 2},
			"cloudfront": {3, purge.Failed, "HTTP 429", 2},
			"fastly":     {3, purge.Failed, "HTTP 429", 2},
			"akamai":     {3, purge.Failed, "HTTP 429", 2},
			"bunny":      {3, purge.Failed, "HTTP 429", 2},
			"http-purge": {3, purge.Failed, "HTTP 429", 2},
		},
	},
	{
		fault:  "429 storm with Retry-After: 1",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}},
		probe:  &probeWant{inspect: 0, verify: 0, diff: 1, requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "retrying later is safe", 2},
			"cloudfront": {3, purge.Failed, "retrying later is safe", 2},
			"fastly":     {3, purge.Failed, "retrying later is safe", 2},
			"akamai":     {3, purge.Failed, "retrying later is safe", 2},
			"bunny":      {3, purge.Failed, "retrying later is safe", 2},
			"http-purge": {3, purge.Failed, "retrying later is safe", 2},
		},
	},
	{
		fault:  "429 once with Retry-After: 1, then healthy",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}, Times: 1},
		purge: map[string]purgeWant{
			"cloudflare": {0, purge.Purged, "", 2},
			"cloudfront": {0, purge.Purged, "", 2},
			"fastly":     {0, purge.Purged, "", 2},
			"akamai":     {0, purge.Purged, "", 2},
			"bunny":      {0, purge.Purged, "", 2},
			"http-purge": {0, purge.Purged, "", 2},
		},
	},
	{
		// Waiting 31 years is not an option, and retrying early defies
		// the server: hand the 429 back at once.
		fault:  "429 with absurd Retry-After: 999999999",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"999999999"}}},
		probe:  &probeWant{inspect: 0, verify: 0, diff: 1, requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "HTTP 429", 1},
			"cloudfront": {3, purge.Failed, "HTTP 429", 1},
			"fastly":     {3, purge.Failed, "HTTP 429", 1},
			"akamai":     {3, purge.Failed, "HTTP 429", 1},
			"bunny":      {3, purge.Failed, "HTTP 429", 1},
			"http-purge": {3, purge.Failed, "HTTP 429", 1},
		},
	},
	{
		fault:  "429 with Retry-After an HTTP-date in 2999",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"Fri, 31 Dec 2999 23:59:59 GMT"}}},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "HTTP 429", 1},
			"cloudfront": {3, purge.Failed, "HTTP 429", 1},
			"fastly":     {3, purge.Failed, "HTTP 429", 1},
			"akamai":     {3, purge.Failed, "HTTP 429", 1},
			"bunny":      {3, purge.Failed, "HTTP 429", 1},
			"http-purge": {3, purge.Failed, "HTTP 429", 1},
		},
	},
	{
		fault:  "5xx burst (one 502, then healthy)",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", Times: 1},
		purge: map[string]purgeWant{
			"cloudflare": {0, purge.Purged, "", 2},
			"cloudfront": {0, purge.Purged, "", 2},
			"fastly":     {0, purge.Purged, "", 2},
			"akamai":     {0, purge.Purged, "", 2},
			"bunny":      {0, purge.Purged, "", 2},
			"http-purge": {0, purge.Purged, "", 2},
		},
	},
	{
		fault:  "5xx storm (503 on every request)",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusServiceUnavailable, Body: "<html>down</html>"},
		probe:  &probeWant{inspect: 0, verify: 0, diff: 1, requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "HTTP 503", 2},
			"cloudfront": {3, purge.Failed, "HTTP 503", 2},
			"fastly":     {3, purge.Failed, "HTTP 503", 2},
			"akamai":     {3, purge.Failed, "HTTP 503", 2},
			"bunny":      {3, purge.Failed, "HTTP 503", 2},
			"http-purge": {3, purge.Failed, "HTTP 503", 2},
		},
	},
	{
		fault:  "501 (not retryable)",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusNotImplemented},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "HTTP 501", 1},
			"cloudfront": {3, purge.Failed, "HTTP 501", 1},
			"fastly":     {3, purge.Failed, "HTTP 501", 1},
			"akamai":     {3, purge.Failed, "HTTP 501", 1},
			"bunny":      {3, purge.Failed, "HTTP 501", 1},
			"http-purge": {3, purge.Failed, "HTTP 501", 1},
		},
	},
	{
		// inspect follows (--follow) and gives up after 10 hops; verify and
		// diff report the redirect itself; purge APIs never follow one.
		fault:  "redirect loop",
		server: faultserver.Options{Fault: faultserver.RedirectLoop},
		probe:  &probeWant{inspect: 3, verify: 0, diff: 1, err: "stopped after 10 redirects (redirect loop?)", requests: 10},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "HTTP 302", 1},
			"cloudfront": {3, purge.Failed, "HTTP 302", 1},
			"fastly":     {3, purge.Failed, "HTTP 302", 1},
			"akamai":     {3, purge.Failed, "HTTP 302", 1},
			"bunny":      {3, purge.Failed, "HTTP 302", 1},
			"http-purge": {3, purge.Failed, "HTTP 302", 1},
		},
	},
	{
		fault:  "oversized headers (2 MiB)",
		server: faultserver.Options{Fault: faultserver.HugeHeaders, Size: 2 << 20},
		probe:  &probeWant{inspect: 3, verify: 3, diff: 3, err: "server response headers exceeded 1048576 bytes", requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "server response headers exceeded 1048576 bytes", 2},
			"cloudfront": {3, purge.Failed, "server response headers exceeded 1048576 bytes", 2},
			"fastly":     {3, purge.Failed, "server response headers exceeded 1048576 bytes", 2},
			"akamai":     {3, purge.Failed, "server response headers exceeded 1048576 bytes", 2},
			"bunny":      {3, purge.Failed, "server response headers exceeded 1048576 bytes", 2},
			"http-purge": {3, purge.Failed, "server response headers exceeded 1048576 bytes", 2},
		},
	},
	{
		// Probes hash the first 8 MiB and stop; API answers past 8 MiB are refused.
		fault:  "oversized body (9 MiB)",
		server: faultserver.Options{Fault: faultserver.HugeBody, Size: 9 << 20},
		probe:  &probeWant{inspect: 0, verify: 0, diff: 1, requests: 1},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "response body larger than 8 MiB", 1},
			// The SDK decodes the body as it reads: the cap or, when decoding is
			// slow (-race), the attempt's timeout stops it first.
			"cloudfront": {3, purge.Failed, "not readable as CloudFront's answer", 1},
			"fastly":     {3, purge.Failed, "did not confirm the purge", 1},
			"akamai":     {3, purge.Failed, "did not confirm the purge", 1},
			"bunny":      {0, purge.Purged, "", 1},
			"http-purge": {0, purge.Purged, "", 1},
		},
	},
	{
		fault:  "invalid JSON envelope",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusOK, Body: "<html><body>Welcome to nginx!</body></html>"},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "the API answered without success", 1},
			"cloudfront": {3, purge.Failed, "not readable as CloudFront's answer", 1},
			"fastly":     {3, purge.Failed, "the API did not confirm the purge", 1},
			"akamai":     {3, purge.Failed, "the API did not confirm the purge", 1},
		},
	},
	{
		fault:  "half-valid JSON envelope (cut off)",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusOK, Body: `{"success": true, "errors": [], "result": {"id": "9a7806061c88ada191ed06f989cc3dac"`},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "the API answered without success", 1},
			"cloudfront": {3, purge.Failed, "not readable as CloudFront's answer", 1},
			"fastly":     {3, purge.Failed, "the API did not confirm the purge", 1},
			"akamai":     {3, purge.Failed, "the API did not confirm the purge", 1},
		},
	},
	{
		fault:  "valid JSON, not the API's envelope",
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusOK, Body: `{"result": {"id": "x"}, "status": "maybe"}`},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "the API answered without success", 1},
			"cloudfront": {3, purge.Failed, "not readable as CloudFront's answer", 1},
			"fastly":     {3, purge.Failed, "the API did not confirm the purge", 1},
			"akamai":     {3, purge.Failed, "the API did not confirm the purge", 1},
		},
	},
	{
		fault:  `200 with "success": false`,
		server: faultserver.Options{Fault: faultserver.Status, Status: http.StatusOK, Body: `{"success": false, "errors": [{"code": 1016, "message": "Unable to purge"}], "messages": [], "result": null}`},
		purge: map[string]purgeWant{
			"cloudflare": {3, purge.Failed, "Unable to purge (code 1016); retrying the same request will not help", 1},
			"cloudfront": {3, purge.Failed, "not readable as CloudFront's answer", 1},
			"fastly":     {3, purge.Failed, "the API did not confirm the purge", 1},
			"akamai":     {3, purge.Failed, "the API did not confirm the purge", 1},
		},
	},
}

// faultSite starts what a row needs and returns its base URL.
func faultSite(t *testing.T, at endpoint, opts faultserver.Options) (string, func() int) {
	t.Helper()
	switch at {
	case untrustedTLS:
		s := faultserver.NewUntrusted(opts)
		t.Cleanup(s.Close)
		return s.URL, s.Count
	case notTLS:
		s, err := faultserver.NewNotTLS()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s.URL, func() int { return -1 } // connections, not requests
	case noDNS:
		// .invalid never resolves (RFC 6761), so no other host is contacted.
		return "http://cachectl-fault.invalid", func() int { return 0 }
	}
	s := faultserver.New(opts)
	t.Cleanup(s.Close)
	return s.URL, s.Count
}

func writeFile(t testing.TB, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// timed runs one command line and fails the test when it outlasts wallBound.
func timed(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	start := time.Now()
	code, out, stderr := run(t, env, args...)
	if d := time.Since(start); d > wallBound {
		t.Errorf("%s took %s with --timeout %s, want under %s", args[0], d.Round(time.Millisecond), faultTimeout, wallBound)
	}
	return code, out, stderr
}

func TestProbeFaults(t *testing.T) {
	healthy := faultserver.New(faultserver.Options{})
	t.Cleanup(healthy.Close)
	timeout := faultTimeout.String()
	for _, tt := range faultTable {
		if tt.probe == nil {
			continue
		}
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			want := tt.probe
			base, count := faultSite(t, tt.at, tt.server)

			code, out, stderr := timed(t, nil, "inspect", "--timeout", timeout, "--follow", "-o", "jsonl", base+"/a")
			if code != want.inspect {
				t.Errorf("inspect: exit %d, want %d (stderr %q)", code, want.inspect, stderr)
			}
			var res struct {
				StatusCode int    `json:"status_code"`
				BodyBytes  int64  `json:"body_bytes"`
				Error      string `json:"error"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("inspect output is not one JSON object: %v\n%s", err, out)
			}
			if want.err != "" && !strings.Contains(res.Error, want.err) {
				t.Errorf("inspect error = %q, want it to contain %q", res.Error, want.err)
			}
			if want.err == "" && res.Error != "" {
				t.Errorf("inspect error = %q, want none (the response is the finding)", res.Error)
			}
			if tt.server.Fault == faultserver.HugeBody && res.BodyBytes != 8<<20 {
				t.Errorf("body_bytes = %d, want the 8 MiB cap", res.BodyBytes)
			}
			if n := count(); n >= 0 && tt.at == plainHTTP && n != want.requests {
				t.Errorf("inspect sent %d requests, want %d (probes never retry)", n, want.requests)
			}

			cfg := writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: %s
  staging:
    base_url: %s
routes:
  - path: /a
    owner: web-team
`, base, healthy.URL))
			code, out, stderr = timed(t, nil, "verify", "--config", cfg, "--env", "production", "--timeout", timeout, "-o", "jsonl")
			if code != want.verify {
				t.Errorf("verify: exit %d, want %d (stderr %q)\n%s", code, want.verify, stderr, out)
			}
			if want.verify == ExitOperational && (!strings.Contains(out, `"check":"reachable","passed":false`) || !strings.Contains(out, want.err)) {
				t.Errorf("verify output lacks a failed reachable check with %q:\n%s", want.err, out)
			}
			if want.verify == ExitOK && strings.Contains(out, `"passed":false`) {
				t.Errorf("verify passed with a failed check:\n%s", out)
			}

			code, out, stderr = timed(t, nil, "diff", "--config", cfg, "--env", "production", "--env", "staging", "--timeout", timeout, "-o", "jsonl")
			if code != want.diff {
				t.Errorf("diff: exit %d, want %d (stderr %q)\n%s", code, want.diff, stderr, out)
			}
			if want.diff == ExitOperational && (!strings.Contains(out, `"field":"reachable"`) || !strings.Contains(out, want.err)) {
				t.Errorf("diff output lacks the unreachable side with %q:\n%s", want.err, out)
			}
		})
	}
}

// apiFor returns the provider's fake API behind a fault.
func apiFor(provider string) http.Handler {
	switch provider {
	case "cloudflare":
		return cloudflarefake.New(cloudflarefake.Options{ZoneID: zoneID, Token: cfToken, Hosts: []string{zoneHost}})
	case "fastly":
		return fastlyfake.New(fastlyfake.Options{ServiceID: fastlyID, Token: cfToken})
	case "akamai":
		return akamaifake.New(akamaifake.Options{Credentials: akamaiCreds})
	case "bunny":
		return bunnyfake.New(bunnyfake.Options{Token: cfToken})
	case "cloudfront":
		return cloudfrontfake.New(cloudfrontfake.Options{DistributionID: cfDistribution, Credentials: cfKey})
	}
	// A cache node that accepts PURGE the way Varnish does.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PURGE" {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		fmt.Fprintln(w, "<html><body>Purged</body></html>")
	})
}

// purgeConfig writes a config whose production environment purges through
// provider at base.
func purgeConfig(t *testing.T, provider, base string) string {
	t.Helper()
	var cdn string
	switch provider {
	case "cloudflare":
		cdn = fmt.Sprintf("provider: cloudflare\n      zone_id: %s\n      api_token_env: TEST_TOKEN\n      api_url: %s/client/v4\n      plan: enterprise", zoneID, base)
	case "fastly":
		cdn = fmt.Sprintf("provider: fastly\n      service_id: %s\n      api_token_env: TEST_TOKEN\n      api_url: %s", fastlyID, base)
	case "akamai":
		edgerc := writeFile(t, "edgerc", fmt.Sprintf("[default]\nhost = %s\nclient_token = %s\nclient_secret = %s\naccess_token = %s\n",
			akamaiCreds.Host, akamaiCreds.ClientToken.Reveal(), akamaiCreds.ClientSecret.Reveal(), akamaiCreds.AccessToken.Reveal()))
		cdn = fmt.Sprintf("provider: akamai\n      edgerc: %s\n      api_url: %s", edgerc, base)
	case "bunny":
		cdn = fmt.Sprintf("provider: bunny\n      api_token_env: TEST_TOKEN\n      api_url: %s", base)
	case "cloudfront":
		cdn = fmt.Sprintf("provider: cloudfront\n      distribution_id: %s\n      api_url: %s", cfDistribution, base)
	default:
		cdn = fmt.Sprintf("provider: http-purge\n      endpoints: [%s]", base)
	}
	return writeFile(t, "cachectl.yaml", fmt.Sprintf(`environments:
  production:
    base_url: https://%s
    cdn:
      %s
      max_attempts: 2
`, zoneHost, cdn))
}

func TestPurgeFaults(t *testing.T) {
	targets := []string{"/articles/1", "/articles/2", "/articles/3"}
	for _, tt := range faultTable {
		for _, provider := range []string{"cloudflare", "fastly", "akamai", "bunny", "http-purge", "cloudfront"} {
			want, ok := tt.purge[provider]
			if !ok {
				continue
			}
			t.Run(provider+"/"+tt.fault, func(t *testing.T) {
				t.Parallel()
				opts := tt.server
				opts.Next = apiFor(provider)
				base, _ := faultSite(t, tt.at, opts)
				cfg := purgeConfig(t, provider, base)
				journal := filepath.Join(t.TempDir(), "journal.jsonl")
				args := append([]string{"purge", "--config", cfg, "--env", "production", "--journal", journal,
					"--timeout", faultTimeout.String(), "--reason", "fault: " + tt.fault, "-o", "jsonl"}, targets...)
				env := cfEnv(t)
				env["TEST_TOKEN"] = cfToken
				code, out, stderr := timed(t, env, args...)
				if code != want.exit {
					t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, want.exit, out, stderr)
				}
				if want.exit == ExitOperational && !strings.Contains(stderr, "--resume ") {
					t.Errorf("stderr lacks the resume command: %s", stderr)
				}

				// Every target is reported once with the expected state and error.
				var recs []struct {
					Target, State, Error string
					Attempts             int
				}
				for line := range strings.Lines(out) {
					var r struct {
						Target, State, Error string
						Attempts             int
					}
					if err := json.Unmarshal([]byte(line), &r); err != nil {
						t.Fatalf("output line is not JSON: %v: %q", err, line)
					}
					recs = append(recs, r)
				}
				if len(recs) != len(targets) {
					t.Fatalf("got %d records, want %d:\n%s", len(recs), len(targets), out)
				}
				for _, r := range recs {
					if r.State != string(want.state) {
						t.Errorf("%s: state %q, want %q (error %q)", r.Target, r.State, want.state, r.Error)
					}
					if want.err != "" && !strings.Contains(r.Error, want.err) {
						t.Errorf("%s: error %q, want it to contain %q", r.Target, r.Error, want.err)
					}
				}
				most := 0
				for _, r := range recs {
					most = max(most, r.Attempts)
				}
				if most != want.attempts {
					t.Errorf("the most attempts a target took: %d, want %d", most, want.attempts)
				}
				if strings.Contains(out+stderr, cfToken) {
					t.Error("the API token was printed")
				}
				checkJournalAccounts(t, journal, targets, want.state)
			})
		}
	}
}

// checkJournalAccounts reads the journal back: the run lists every target,
// each ends purged, failed or skipped with the expected state, and --resume
// would send exactly the ones not purged.
func checkJournalAccounts(t *testing.T, journal string, paths []string, want purge.State) {
	t.Helper()
	log, err := purge.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Warnings) > 0 {
		t.Errorf("journal has corrupt lines: %v", log.Warnings)
	}
	var runID string
	started := map[string]bool{}
	final := map[string]purge.State{}
	for _, e := range log.Entries {
		switch e.Type {
		case purge.EntryStart:
			runID = e.RunID
		case purge.EntryPlan:
			for _, jt := range e.Plan.Targets {
				started[jt.Value] = true
			}
		case purge.EntryBatch:
			for _, jt := range e.Batch.Targets {
				final[jt.Value] = jt.State
			}
		}
	}
	for _, p := range paths {
		u := "https://" + zoneHost + p
		if !started[u] {
			t.Errorf("journal plan lacks %s", u)
		}
		st, ok := final[u]
		if !ok || !slices.Contains([]purge.State{purge.Purged, purge.Failed, purge.Skipped}, st) {
			t.Errorf("journal: %s ends %q, want purged, failed or skipped", u, st)
		} else if st != want {
			t.Errorf("journal: %s ends %q, want %q", u, st, want)
		}
	}
	pending, _, _, err := purge.Pending(journal, runID)
	if err != nil {
		t.Fatal(err)
	}
	wantPending := 0
	if want != purge.Purged {
		wantPending = len(paths)
	}
	if len(pending) != wantPending {
		t.Errorf("--resume would send %d targets, want %d", len(pending), wantPending)
	}
}
