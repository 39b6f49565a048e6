package cloudfront_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/internal/cdnfake/cloudfrontfake"
	"github.com/cachectl/cachectl/internal/providertest"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// checkModel holds every request a fake received, and its answer, to
// CloudFront's published model.
func checkModel(t *testing.T, srv *cloudfrontfake.Server) {
	t.Helper()
	m, err := cloudfrontfake.LoadModel(filepath.Join("..", "..", "..", "testdata", "cloudfront", "cloudfront-invalidation-model.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if err := m.Check(r); err != nil {
			t.Errorf("request %d: %v", r.Seq, err)
		}
	}
}

func TestRequestsOnTheWire(t *testing.T) {
	urls := func(values ...string) purge.Batch {
		b := purge.Batch{Seq: 1, Kind: purge.KindURL, Run: "20261126T161200Z-ab12cd"}
		for _, v := range values {
			b.Targets = append(b.Targets, purge.Target{Kind: purge.KindURL, Value: v})
		}
		return b
	}
	prefixes := batch(purge.KindPrefix, 2)
	everything := purge.Batch{Seq: 1, Kind: purge.KindEverything, Run: "20261126T161200Z-ab12cd"}
	tests := []struct {
		name      string
		batch     purge.Batch
		wantPaths []string
		wantKind  string
	}{
		{"urls, one path per host and scheme", urls("https://www.example.com/a?x=1&y=2", "http://www.example.com/a?x=1&y=2", "https://example.com/caf%C3%A9", "https://www.example.com/~me"),
			[]string{"/a?x=1&y=2", "/caf%C3%A9", "/%7Eme"}, "url"},
		{"prefixes", prefixes, []string{"/blog/0/*", "/blog/1/*"}, "prefix"},
		{"everything", everything, []string{"/*"}, "everything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkWire(t, tt.batch, tt.wantPaths, tt.wantKind) })
	}
}

// checkWire purges b and checks what went over the wire: one request,
// described exactly by Describe, holding wantPaths, naming the run in its
// CallerReference, the invalidation's id on every target.
func checkWire(t *testing.T, b purge.Batch, wantPaths []string, wantKind string) {
	srv := fake(t, cloudfrontfake.Options{})
	p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP})
	desc, refused := p.Describe(b)
	if err := errors.Join(refused...); err != nil {
		t.Errorf("Describe refused valid targets: %v", err)
	}
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	reqs, invs := srv.Requests(), srv.Invalidations()
	if len(reqs) != 1 || len(desc) != 1 || len(invs) != 1 {
		t.Fatalf("sent %d requests, described %d, fake holds %d invalidations; want 1 each", len(reqs), len(desc), len(invs))
	}
	if got, want := strings.Join(invs[0].Paths, " "), strings.Join(wantPaths, " "); got != want {
		t.Errorf("paths = %s, want %s", got, want)
	}
	r := reqs[0]
	if r.Kind != wantKind || r.Status != 201 {
		t.Errorf("request kind %s answered %d, want %s and 201", r.Kind, r.Status, wantKind)
	}
	if got, want := desc[0].URL, srv.URL+r.Path; got != want {
		t.Errorf("described URL %s, sent %s", got, want)
	}
	if got, want := desc[0].Body, string(r.Body); got != want {
		t.Errorf("described body\n%s\nsent\n%s", got, want)
	}
	if !strings.HasPrefix(invs[0].CallerReference, "cachectl-"+b.Run+"-") {
		t.Errorf("CallerReference %q does not name the run", invs[0].CallerReference)
	}
	for i, tr := range res.Results {
		if tr.Err != nil || tr.PurgeID != invs[0].ID {
			t.Errorf("Results[%d] = %+v, want purged by invalidation %s", i, tr, invs[0].ID)
		}
	}
	checkModel(t, srv)
}

// TestBatchesBeyond3000Paths: a batch larger than batch_size goes out as
// several invalidations, each when the previous ones leave room.
func TestBatchSizeSplitsInvalidations(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{CompleteAfter: 30 * time.Millisecond})
	s := quick
	s.BatchSize = 40
	p := newProvider(t, srv.URL, s, purge.Deps{HTTP: providertest.Deps().HTTP})
	res, err := p.Purge(context.Background(), batch(purge.KindURL, 100))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, inv := range srv.Invalidations() {
		sizes = append(sizes, len(inv.Paths))
	}
	if got, want := len(sizes), 3; got != want || sizes[0] != 40 || sizes[2] != 20 {
		t.Errorf("invalidation sizes = %v, want [40 40 20]", sizes)
	}
	if got, want := res.Results[99].PurgeID, srv.Invalidations()[2].ID; got != want {
		t.Errorf("the last target's purge id = %s, want %s", got, want)
	}
}

// TestRetryReusesTheCallerReference: when CloudFront made the
// invalidation but its answer was lost, the retry carries the same
// CallerReference and gets the same invalidation back; a resume of the
// batch (same run, same paths) does too.
func TestRetryReusesTheCallerReference(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{LoseAnswers: 1})
	p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP})
	b := batch(purge.KindURL, 3)
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	invs := srv.Invalidations()
	if len(invs) != 1 {
		t.Fatalf("CloudFront holds %d invalidations, want 1", len(invs))
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Status != 500 || reqs[1].Status != 201 || string(reqs[0].Body) != string(reqs[1].Body) {
		t.Fatalf("requests answered %v, want a 500 then 201 for the same body", statuses(reqs))
	}
	if res.Attempts != 2 || res.Results[0].PurgeID != invs[0].ID {
		t.Errorf("Attempts %d, purge id %s; want 2 and %s", res.Attempts, res.Results[0].PurgeID, invs[0].ID)
	}
	// The run resumed later: the same batch, a new provider.
	again := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP})
	res, err = again.Purge(context.Background(), b)
	if err != nil || len(srv.Invalidations()) != 1 || res.Results[2].PurgeID != invs[0].ID {
		t.Errorf("resume: %v, %d invalidations, purge id %s; want the first invalidation again", err, len(srv.Invalidations()), res.Results[2].PurgeID)
	}
	checkModel(t, srv)
}

func statuses(reqs []cdnfake.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
	}
	return out
}

// TestThrottlingIsRetried: CloudFront's 400 Throttling goes through the
// retrying client like a 429.
func TestThrottlingIsRetried(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{Rate: 20, Burst: 1})
	patient := providertest.Policy()
	patient.MaxAttempts = 20
	p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: retry.NewClient(patient, nil)})
	for i := range 3 {
		b := batch(purge.KindURL, 1)
		b.Targets[0].Value += "&n=" + string(rune('a'+i))
		if _, err := p.Purge(context.Background(), b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	throttled := 0
	for _, r := range srv.Requests() {
		if r.Status == 400 && strings.Contains(string(r.Response), "<Code>Throttling</Code>") {
			throttled++
		}
	}
	if throttled == 0 || len(srv.Invalidations()) != 3 {
		t.Errorf("%d throttled answers, %d invalidations; want some and 3", throttled, len(srv.Invalidations()))
	}
	checkModel(t, srv)
}

// TestWaitsForRoomOurs: a batch goes out when this run's invalidations in
// progress leave room for it, without CloudFront having to refuse it.
func TestWaitsForRoomOurs(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{CompleteAfter: 500 * time.Millisecond})
	lines := &progressLines{}
	p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP, Progress: lines.add})
	for _, b := range []purge.Batch{batch(purge.KindPrefix, 15), batch(purge.KindPrefix, 1)} {
		b.Targets[0].Value = strings.Replace(b.Targets[0].Value, "blog", "news", 1)
		if _, err := p.Purge(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	invs := srv.Invalidations()
	if len(invs) != 2 || invs[1].Created.Before(invs[0].Completed) {
		t.Errorf("the second invalidation started before the first completed: %+v", invs)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Response), "TooManyInvalidationsInProgress") {
			t.Errorf("request %d was refused for lack of room", r.Seq)
		}
	}
	if !strings.Contains(lines.String(), "waiting for room on distribution "+distribution+": 0 of 3000 paths and 15 of 15 wildcard paths in progress") {
		t.Errorf("progress lines = %q", lines)
	}
	checkModel(t, srv)
}

// TestWaitsForRoomOthers: when CloudFront says the distribution is full of
// others' invalidations, the provider learns about them and goes out once
// they complete.
func TestWaitsForRoomOthers(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{CompleteAfter: 500 * time.Millisecond})
	if _, err := srv.Invalidate("someone-else", []string{"/a*", "/b*", "/c*", "/d*", "/e*", "/f*", "/g*", "/h*", "/i*", "/j*"}); err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP})
	res, err := p.Purge(context.Background(), batch(purge.KindPrefix, 8))
	if err != nil {
		t.Fatal(err)
	}
	invs := srv.Invalidations()
	if len(invs) != 2 || invs[1].Created.Before(invs[0].Completed) || res.Results[0].PurgeID != invs[1].ID {
		t.Errorf("invalidations %+v, purge id %s: want ours after theirs completed", invs, res.Results[0].PurgeID)
	}
	var seen []string
	for _, r := range srv.Requests() {
		seen = append(seen, fmt.Sprintf("%s %d", r.Method, r.Status))
	}
	if got := strings.Join(seen, ", "); !strings.HasPrefix(got, "POST 400, GET 200, GET 200") || !strings.HasSuffix(got, "POST 201") {
		t.Errorf("requests = %s; want a refusal, the list and their invalidation, polls, then ours", got)
	}
	checkModel(t, srv)
}

// TestNoRoomWithinWaitTimeout: the batch fails, retryable, once
// wait_timeout passes without room.
func TestNoRoomWithinWaitTimeout(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{CompleteAfter: time.Hour})
	if _, err := srv.Invalidate("someone-else", []string{"/*"}); err != nil {
		t.Fatal(err)
	}
	s := quick
	s.WaitTimeout = "100ms"
	p := newProvider(t, srv.URL, s, purge.Deps{HTTP: providertest.Deps().HTTP})
	start := time.Now()
	_, err := p.Purge(context.Background(), batch(purge.KindPrefix, 15))
	var ae *purge.APIError
	if !errors.As(err, &ae) || ae.CodeName != "TooManyInvalidationsInProgress" || !ae.Retryable || !strings.Contains(err.Error(), "still has 0 paths and 1 wildcard paths in progress after 100ms") {
		t.Errorf("error = %v, want a retryable TooManyInvalidationsInProgress after wait_timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("gave up after %v, want about wait_timeout", elapsed)
	}
}

// TestWaitCompleted: --verify waits for an invalidation to complete,
// saying so on the progress line, and gives up after wait_timeout.
func TestWaitCompleted(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{CompleteAfter: 500 * time.Millisecond})
	lines := &progressLines{}
	s := quick
	s.PollInterval, s.WaitTimeout = "20ms", "2s"
	p := newProvider(t, srv.URL, s, purge.Deps{HTTP: providertest.Deps().HTTP, Progress: lines.add})
	res, err := p.Purge(context.Background(), batch(purge.KindURL, 2))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Results[0].PurgeID
	if err := p.WaitCompleted(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if inv := srv.Invalidations()[0]; time.Now().Before(inv.Completed) {
		t.Error("WaitCompleted returned before the invalidation completed")
	}
	if !strings.Contains(lines.String(), "invalidation "+id+" is InProgress after") || !strings.Contains(lines.String(), "invalidation "+id+" completed after") {
		t.Errorf("progress lines = %q", lines)
	}
	n := len(srv.Requests())
	if err := p.WaitCompleted(context.Background(), id); err != nil || len(srv.Requests()) != n {
		t.Errorf("a completed invalidation was asked about again (%v)", err)
	}

	slow := fake(t, cloudfrontfake.Options{CompleteAfter: time.Hour})
	s.WaitTimeout = "80ms"
	p = newProvider(t, slow.URL, s, purge.Deps{HTTP: providertest.Deps().HTTP})
	res, err = p.Purge(context.Background(), batch(purge.KindURL, 1))
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitCompleted(context.Background(), res.Results[0].PurgeID)
	if err == nil || !strings.Contains(err.Error(), "still InProgress after") {
		t.Errorf("WaitCompleted = %v, want it to give up", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitCompleted(ctx, res.Results[0].PurgeID); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitCompleted(cancelled) = %v", err)
	}
	checkModel(t, srv)
	checkModel(t, slow)
}

func TestPlanNote(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:9", quick, purge.Deps{})
	note := p.PlanNote(slices.Values([]purge.Batch{batch(purge.KindURL, 3000), batch(purge.KindURL, 500), batch(purge.KindPrefix, 2)}))
	for _, want := range []string{
		"cloudfront: 3 invalidations of 3502 paths (2 wildcard) on distribution " + distribution,
		"the first 1,000 are free",
		"$0.005",
		"This plan submits 3502 paths: $12.51 while none of this month's free paths is used, $17.51 once all are.",
	} {
		if !strings.Contains(note, want) {
			t.Errorf("note lacks %q:\n%s", want, note)
		}
	}
	if note := p.PlanNote(slices.Values([]purge.Batch{{Kind: purge.KindEverything}})); !strings.Contains(note, "1 invalidation of 1 path (1 wildcard)") || !strings.Contains(note, "$0.00 while") {
		t.Errorf("note for everything:\n%s", note)
	}
}

// TestCallerReferenceTaken: when CloudFront holds the batch's
// CallerReference for other paths, it answers 409
// InvalidationBatchAlreadyExists; the batch fails, not retried, with the
// way out in the hint.
func TestCallerReferenceTaken(t *testing.T) {
	srv := fake(t, cloudfrontfake.Options{})
	p := newProvider(t, srv.URL, quick, purge.Deps{HTTP: providertest.Deps().HTTP})
	b := batch(purge.KindURL, 2)
	desc, _ := p.Describe(b)
	_, rest, _ := strings.Cut(desc[0].Body, "<CallerReference>")
	ref, _, _ := strings.Cut(rest, "</CallerReference>")
	if _, err := srv.Invalidate(ref, []string{"/something-else"}); err != nil {
		t.Fatal(err)
	}
	res, err := p.Purge(context.Background(), b)
	var ae *purge.APIError
	if !errors.As(err, &ae) || ae.Status != 409 || ae.CodeName != "InvalidationBatchAlreadyExists" || ae.Retryable || !strings.Contains(ae.Hint, "start a new run") {
		t.Fatalf("Purge = %v, want a refusal InvalidationBatchAlreadyExists with a hint", err)
	}
	if len(srv.Requests()) != 1 || res.Results[1].Err == nil {
		t.Errorf("%d requests, results %+v; want one request and every target failed", len(srv.Requests()), res.Results)
	}
	checkModel(t, srv)
}
