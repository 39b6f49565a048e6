package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
)

// BenchmarkCloudFrontPurge10000 purges 10,000 URLs through the CloudFront
// fake, whose invalidations stay in progress for completeAfter. Three of
// the four invalidations fill CloudFront's 3,000 paths in progress, so
// each must wait for the previous one: the floor is 3 × completeAfter.
// Reports the API calls (creates and status polls), and the time over the
// floor.
//
//	go test ./pkg/cli -run '^$' -bench CloudFrontPurge10000 -benchtime 1x
func BenchmarkCloudFrontPurge10000(b *testing.B) {
	const (
		n             = 10000
		completeAfter = 3 * time.Second
	)
	floor := time.Duration((n+2999)/3000-1) * completeAfter
	urls := urlFile(b, n)
	for b.Loop() {
		fake, cfg := cloudfrontSetup(b, cloudfrontfake.Options{CompleteAfter: completeAfter}, "https://www.example.com")
		cfg = slowerPolls(b, cfg, "250ms")
		start := time.Now()
		code, _, stderr := run(b, cfEnv(b), "purge", "--config", cfg, "--env", "production", "--journal", filepath.Join(b.TempDir(), "j"), "--from-file", urls, "-o", "jsonl")
		elapsed := time.Since(start)
		if code != 0 {
			b.Fatalf("exit %d: %s", code, stderr)
		}
		creates, polls := 0, 0
		for _, r := range fake.Requests() {
			if r.Method == "POST" {
				creates++
			} else {
				polls++
			}
		}
		b.ReportMetric(float64(creates), "creates")
		b.ReportMetric(float64(polls), "polls")
		b.ReportMetric(float64(len(fake.Invalidations())), "invalidations")
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(100*(elapsed.Seconds()/floor.Seconds()-1), "%-over-floor")
	}
}

// slowerPolls sets the config's poll_interval.
func slowerPolls(b *testing.B, cfg, poll string) string {
	b.Helper()
	body, err := os.ReadFile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return writeFile(b, "cachectl.yaml", strings.Replace(string(body), "poll_interval: 10ms", "poll_interval: "+poll, 1))
}
