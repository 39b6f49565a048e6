package purge_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
)

// TestPlanSummaryGolden: the plan a dry run shows first: each operation
// with why it is there, the API calls the batches make, and the time the
// Cloudflare free plan's limits imply (5 tag or prefix purges a minute
// after a bucket of 25, held one token and 3% under it).
func TestPlanSummaryGolden(t *testing.T) {
	p, _ := newCloudflare(t, goodToken, 2)
	article := "https://www.example.com/articles/a"
	given := []purge.Target{
		{Kind: purge.KindURL, Value: article},
		{Kind: purge.KindURL, Value: "https://www.example.com/", RelatedTo: article},
		{Kind: purge.KindPrefix, Value: "www.example.com/tags/", RelatedTo: article},
		{Kind: purge.KindTag, Value: "blog"},
	}
	targets := purge.Expand(given, true)
	targets = purge.WithKeyHeaders(targets, []purge.KeyHeader{{Name: "CF-Device-Type", Values: []string{"mobile", "desktop"}}})
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	limits, err := cloudflare.Spec.Limits(purge.Config{}, &cloudflare.Settings{Plan: "free"})
	if err != nil {
		t.Fatal(err)
	}
	s := purge.Summarize(p, limits, purge.PlanOf(batches))
	// 6 URLs (the root has no trailing-slash twin) × 2 device types in
	// batches of 2, the tag in one, the prefix in one.
	if got, want := s.Calls, 8; got != want {
		t.Errorf("Calls = %d, want %d", got, want)
	}
	// Two bulk requests fit the free plan's bucket: no wait.
	if s.Wait > time.Millisecond {
		t.Errorf("Wait = %v, want none", s.Wait)
	}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "plan-summary", buf.Bytes())

	// 30 tag batches on the free plan: 24 at once, then one each 12 s / 0.97.
	var tags []purge.Target
	for i := range 30 * cloudflare.FlexLimit {
		tags = append(tags, purge.Target{Kind: purge.KindTag, Value: "k" + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + strings.Repeat("z", i/182)})
	}
	batches, err = purge.Plan(p, purge.Expand(tags, false), false)
	if err != nil {
		t.Fatal(err)
	}
	s = purge.Summarize(p, limits, purge.PlanOf(batches))
	want := time.Duration(float64(len(batches)-24) * 12 / 0.97 * float64(time.Second))
	if d := s.Wait - want; d < -10*time.Millisecond || d > 10*time.Millisecond {
		t.Errorf("%d tag batches: Wait = %v, want %v", len(batches), s.Wait, want)
	}
}
