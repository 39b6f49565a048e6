package purge_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/cdnfake/cloudflarefake"
	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/purge/cloudflare"
	"github.com/cachectl/cachectl/pkg/retry"
	"github.com/cachectl/cachectl/pkg/secret"
)

const (
	zoneID    = "023e105f4ecef8ad9ca31a8372d0c353"
	goodToken = "cf-token-that-must-never-be-written"
)

// newCloudflare starts Cloudflare's API fake for zone www.example.com and
// a provider using token against it.
func newCloudflare(t *testing.T, token string, batchSize int) (*cloudflare.Provider, *cloudflarefake.Server) {
	t.Helper()
	srv := cloudflarefake.NewServer(cloudflarefake.Options{ZoneID: zoneID, Token: goodToken, Hosts: []string{"www.example.com"}})
	t.Cleanup(srv.Close)
	p, err := cloudflare.New(purge.Config{
		Provider: "cloudflare", Environment: "production", APIURL: srv.APIURL(),
		Token: secret.Value(token), TokenEnv: "CLOUDFLARE_API_TOKEN",
	}, cloudflare.Settings{ZoneID: zoneID, BatchSize: batchSize}, purge.Deps{HTTP: retry.NewClient(retry.Policy{MaxAttempts: 1}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func TestAuthFailureStopsTheRun(t *testing.T) {
	p, srv := newCloudflare(t, "a-revoked-token", 2)
	batches, err := purge.Plan(p, pageTargets(5), false)
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t)
	var out collector
	run := purge.NewRunInfo("production", p.Name(), "")
	sum, err := (&purge.Runner{Provider: p, Journal: j, OnResult: out.add}).Run(t.Context(), run, batches)
	if !purge.IsAuthError(err) {
		t.Fatalf("Run() error = %v, want the authentication error", err)
	}
	if got := len(srv.Requests()); got != 1 {
		t.Fatalf("API received %d requests, want 1: nothing after the refusal", got)
	}
	if sum.Failed != 2 || sum.Skipped != 3 || sum.Purged != 0 {
		t.Fatalf("summary = %+v, want 2 failed, 3 skipped", sum)
	}
	for _, rec := range out.byTarget() {
		if rec.Batch > 1 && (rec.State != purge.Skipped || !strings.Contains(rec.Error, "authentication failed in batch 1")) {
			t.Errorf("record %+v, want skipped after the authentication failure", rec)
		}
	}
	pending, _, _, err := purge.Pending(j.Path(), run.ID)
	if err != nil || len(pending) != 5 {
		t.Fatalf("Pending() = %d targets, %v; want all 5", len(pending), err)
	}
	runs := mustRead(t, j.Path()).Runs(1)
	if len(runs) != 1 || runs[0].Status != "incomplete" {
		t.Fatalf("Runs() = %+v, want the run incomplete", runs)
	}
}

func TestJournalKeepsCodesAndPurgeIDsButNoToken(t *testing.T) {
	p, _ := newCloudflare(t, goodToken, 30)
	targets := append(pageTargets(2), purge.Target{Kind: purge.KindURL, Value: "https://blog.example.org/a"})
	batches, err := purge.Plan(p, targets[:2], false)
	if err != nil {
		t.Fatal(err)
	}
	outside, err := purge.Plan(p, targets[2:], false)
	if err != nil {
		t.Fatal(err)
	}
	outside[0].Seq = 2
	j := openJournal(t)
	var out collector
	sum, err := (&purge.Runner{Provider: p, Journal: j, OnResult: out.add}).Run(t.Context(), purge.NewRunInfo("production", p.Name(), "release 42"), append(batches, outside...))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Purged != 2 || sum.Failed != 1 || sum.APICalls != 2 {
		t.Fatalf("summary = %+v, want 2 purged, 1 failed, 2 API calls", sum)
	}
	recs := out.byTarget()
	if id := recs["https://www.example.com/p/1"].PurgeID; id == "" {
		t.Errorf("purged record has no purge id")
	}
	l := mustRead(t, j.Path())
	var codes []string
	for _, e := range l.Entries {
		if e.Type == purge.EntryBatch && e.Batch.ErrorCode != "" {
			codes = append(codes, e.Batch.ErrorCode)
		}
	}
	if len(codes) != 1 || codes[0] != "1082" {
		t.Fatalf("journal error codes = %v, want [1082] (URL not in zone)", codes)
	}
	raw, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(goodToken)) {
		t.Fatal("the journal contains the API token")
	}
}

func TestPlanKindsAndEverything(t *testing.T) {
	p, _ := newCloudflare(t, goodToken, 30)
	mobile := purge.Target{Kind: purge.KindURL, Value: "https://www.example.com/", Headers: map[string]string{"CF-Device-Type": "mobile"}}
	targets := []purge.Target{
		{Kind: purge.KindTag, Value: "blog"},
		{Kind: purge.KindURL, Value: "https://www.example.com/a"},
		mobile,
		{Kind: purge.KindPrefix, Value: "www.example.com/docs/"},
		{Kind: purge.KindURL, Value: "https://www.example.com/b"},
		{Kind: purge.KindTag, Value: "news"},
	}
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range batches {
		var vals []string
		for _, tg := range b.Targets {
			vals = append(vals, tg.Value)
		}
		got = append(got, string(b.Kind)+":"+strings.Join(vals, ","))
	}
	want := []string{
		"tag:blog,news",
		"url:https://www.example.com/a,https://www.example.com/b",
		"url:https://www.example.com/",
		"prefix:www.example.com/docs/",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("batches =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	everything := purge.Target{Kind: purge.KindEverything}
	batches, err = purge.Plan(p, []purge.Target{everything, everything}, false)
	if err != nil || len(batches) != 1 || len(batches[0].Targets) != 1 {
		t.Fatalf("Plan(everything) = %+v, %v; want one batch of one", batches, err)
	}
	_, err = purge.Plan(p, []purge.Target{{Kind: purge.KindURL, Value: "https://www.example.com/a"}, everything}, false)
	var ie *purge.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("Plan(url + everything) error = %v, want an InputError", err)
	}
}

func TestDryRunShowsCloudflareRequests(t *testing.T) {
	p, srv := newCloudflare(t, goodToken, 2)
	var buf bytes.Buffer
	dry := purge.DryRun(p, &buf)
	targets := append(pageTargets(3), purge.Target{Kind: purge.KindTag, Value: "blog"})
	batches, err := purge.Plan(dry, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	run := purge.NewRunInfo("production", p.Name(), "")
	run.DryRun = true
	if _, err := (&purge.Runner{Provider: dry}).Run(t.Context(), run, batches); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("dry run sent %d requests", n)
	}
	if strings.Contains(buf.String(), goodToken) {
		t.Fatal("dry run printed the token")
	}
	golden.Check(t, "dryrun-cloudflare", []byte(strings.ReplaceAll(buf.String(), srv.URL, "http://API")))
}

// TestTenThousandURLsOnPro: 10,000 URLs on the Pro plan take
// ⌈10,000/100⌉ = 100 requests. Against a zone that still insists on 30
// they take ⌈10,000/30⌉ = 334 and the one request refused as too many:
// the run keeps the size the API accepted, says so in its summary and
// journal, and cuts every later batch to it.
func TestTenThousandURLsOnPro(t *testing.T) {
	tests := []struct {
		name       string
		filesLimit int
		wantCalls  int
		wantLimits map[purge.Kind]int
	}{
		{"the documented limit", 0, 100, nil},
		{"an API that insists on 30", 30, 334 + 1, map[purge.Kind]int{purge.KindURL: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cloudflarefake.NewServer(cloudflarefake.Options{ZoneID: zoneID, Token: goodToken, Hosts: []string{"www.example.com"}, FilesLimit: tt.filesLimit, Keep: 1})
			t.Cleanup(srv.Close)
			p, err := cloudflare.New(purge.Config{Provider: "cloudflare", APIURL: srv.APIURL(), Token: secret.Value(goodToken)},
				cloudflare.Settings{ZoneID: zoneID, Plan: "pro"}, purge.Deps{HTTP: retry.NewClient(retry.Policy{MaxAttempts: 1}, nil)})
			if err != nil {
				t.Fatal(err)
			}
			batches, err := purge.Plan(p, pageTargets(10_000), false)
			if err != nil {
				t.Fatal(err)
			}
			j := openJournal(t)
			sum, err := (&purge.Runner{Provider: p, Journal: j}).Run(t.Context(), purge.NewRunInfo("production", p.Name(), ""), batches)
			if err != nil {
				t.Fatal(err)
			}
			c := srv.Counts()
			if sum.APICalls != tt.wantCalls || c.Requests != tt.wantCalls {
				t.Errorf("API calls = %d (fake received %d), want %d", sum.APICalls, c.Requests, tt.wantCalls)
			}
			if sum.Purged != 10_000 || c.Items != 10_000 {
				t.Errorf("purged %d, fake purged %d items; want 10,000 each (none twice)", sum.Purged, c.Items)
			}
			if !reflect.DeepEqual(sum.BatchLimits, tt.wantLimits) {
				t.Errorf("summary batch limits = %v, want %v", sum.BatchLimits, tt.wantLimits)
			}
			var journaled []int
			for _, e := range mustRead(t, j.Path()).Entries {
				if e.Type == purge.EntryBatch && e.Batch.BatchLimit > 0 {
					journaled = append(journaled, e.Batch.Seq, e.Batch.BatchLimit)
				}
				if e.Type == purge.EntryEnd && !reflect.DeepEqual(e.End.Summary.BatchLimits, tt.wantLimits) {
					t.Errorf("journal end batch limits = %v, want %v", e.End.Summary.BatchLimits, tt.wantLimits)
				}
			}
			if tt.wantLimits != nil && !reflect.DeepEqual(journaled, []int{1, 30}) {
				t.Errorf("journal batch entries with a batch limit (seq, limit) = %v, want batch 1 lowering it to 30", journaled)
			}
		})
	}
}
