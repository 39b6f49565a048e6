package purge

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"testing"
)

// shrinking is a provider whose URL batch limit the test lowers.
type shrinking struct{ urls int }

func (p *shrinking) Name() string               { return "shrinking" }
func (p *shrinking) Capabilities() []Capability { return []Capability{CapURL, CapURLHeaders, CapTag} }
func (p *shrinking) BatchLimit(k Kind) int {
	if k == KindURL {
		return p.urls
	}
	return 100
}
func (p *shrinking) Purge(context.Context, Batch) (BatchResult, error) { return BatchResult{}, nil }

func TestRebatchMergesAndCutsOnlyTheLoweredGroup(t *testing.T) {
	p := &shrinking{urls: 100}
	var targets []Target
	for i := range 250 {
		targets = append(targets, Target{Kind: KindURL, Value: fmt.Sprintf("https://www.example.com/%d", i)})
	}
	targets = append(targets,
		Target{Kind: KindURL, Value: "https://www.example.com/", Headers: map[string]string{"CF-Device-Type": "mobile"}},
		Target{Kind: KindTag, Value: "blog"})
	batches, err := Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iter.Pull(slices.Values(batches))
	defer stop()
	rb := &rebatcher{p: p, next: next}
	first, _ := rb.pull()
	got := []Batch{first}
	p.urls = 30 // the API refused the first batch as too large
	for b, ok := rb.pull(); ok; b, ok = rb.pull() {
		got = append(got, b)
	}
	var sizes, seqs []int
	for _, b := range got {
		sizes, seqs = append(sizes, len(b.Targets)), append(seqs, b.Seq)
	}
	// The first batch (sent) stays; the other 150 plain URLs are cut at
	// 30; the URL with cache-key headers and the tag keep their batches.
	if want := []int{100, 30, 30, 30, 30, 30, 1, 1}; !slices.Equal(sizes, want) {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(seqs, want) {
		t.Errorf("seqs = %v, want %v", seqs, want)
	}
	if got[1].Targets[0].Value != "https://www.example.com/100" || got[5].Targets[29].Value != "https://www.example.com/249" {
		t.Errorf("targets out of order: %v ... %v", got[1].Targets[0], got[5].Targets[29])
	}
	if len(batches) != 5 || len(batches[1].Targets) != 100 {
		t.Errorf("the planned batches were changed: %d batches", len(batches))
	}
}
