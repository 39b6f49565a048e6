package purge

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// streamTargets are n URLs given twice each, a tag and a prefix.
func streamTargets(n int) []Target {
	var out []Target
	for range 2 {
		for i := range n {
			out = append(out, Target{Kind: KindURL, Value: fmt.Sprintf("https://www.example.com/a/%d", i)})
		}
	}
	return append(out, Target{Kind: KindTag, Value: "blog"}, Target{Kind: KindURL, Value: "https://www.example.com/a/1/"})
}

// TestPlanStreamSpoolsLargePlans: a plan past the memory limit goes to a
// file that is unlinked at once, and reads back batch for batch what the
// plan held in memory holds, as often as asked.
func TestPlanStreamSpoolsLargePlans(t *testing.T) {
	p := &shrinking{urls: 7}
	opts := PlanOptions{
		Variants:     true,
		KeyHeaders:   []KeyHeader{{Name: "CF-Device-Type", Values: []string{"mobile", "desktop"}}},
		Environment:  "production",
		AllowedHosts: []string{"www.example.com"},
	}
	inMemory := opts
	inMemory.spoolMemory = math.MaxInt
	want, err := PlanStream(p, TargetSeq(streamTargets(300)), inMemory)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()

	dir := t.TempDir()
	opts.SpoolDir, opts.spoolMemory = dir, 20
	got, err := PlanStream(p, TargetSeq(streamTargets(300)), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.batches.f == nil {
		t.Fatal("the plan stayed in memory; want it spooled")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spool left %d file(s) in its directory, want none", len(entries))
	}
	// 300 URLs × 4 (variants; /a/1/ is given and stays given) × 2 devices, and the tag.
	if got.Targets() != 300*4*2+1 || got.Targets() != want.Targets() || got.Len() != want.Len() {
		t.Fatalf("spooled plan: %d targets in %d batches; in memory: %d in %d; want %d targets",
			got.Targets(), got.Len(), want.Targets(), want.Len(), 300*4*2+1)
	}
	for range 2 {
		if a, b := slices.Collect(got.All()), slices.Collect(want.All()); !reflect.DeepEqual(a, b) {
			t.Fatalf("the spooled plan reads back differently: %d batches, want %d", len(a), len(b))
		}
	}
	if err := got.Err(); err != nil {
		t.Fatal(err)
	}
	for b := range got.All() {
		for _, tg := range b.Targets {
			if tg.Value == "https://www.example.com/a/1/" && tg.VariantOf != "" {
				t.Errorf("%s is given, but planned as a variant of %s", tg.Value, tg.VariantOf)
			}
		}
	}
}

// TestPlanStreamRefusesWholePlan: a target outside the environment late in
// the stream refuses the plan; nothing after it is read.
func TestPlanStreamRefusesWholePlan(t *testing.T) {
	targets := streamTargets(50)
	targets = slices.Insert(targets, 40, Target{Kind: KindURL, Value: "https://evil.example/x"})
	read := 0
	src := func(yield func(Target, error) bool) {
		for _, tg := range targets {
			read++
			if !yield(tg, nil) {
				return
			}
		}
	}
	plan, err := PlanStream(&shrinking{urls: 7}, src, PlanOptions{Environment: "production", AllowedHosts: []string{"www.example.com"}, spoolMemory: 5, SpoolDir: t.TempDir()})
	var ie *InputError
	if plan != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), "https://evil.example/x is outside environment") {
		t.Fatalf("PlanStream = %v, %v; want the out-of-host URL refused", plan, err)
	}
	if read != 41 {
		t.Errorf("read %d targets, want 41 (none after the refused one)", read)
	}
	wantErr := errors.New("line 7: not a URL")
	_, err = PlanStream(&shrinking{urls: 7}, func(yield func(Target, error) bool) {
		if yield(targets[0], nil) {
			yield(Target{}, wantErr)
		}
	}, PlanOptions{})
	if !errors.Is(err, wantErr) {
		t.Errorf("PlanStream with a failing source = %v, want %v", err, wantErr)
	}
}

// TestPendingRefusesAPlanJournaledInPart: a run that died while
// journaling its plan sent nothing; resuming it would send part of it, so
// it is refused with what to do instead.
func TestPendingRefusesAPlanJournaledInPart(t *testing.T) {
	j := testJournal(t)
	const id = "20261130T070000Z-abcdef"
	mustAppend(t, j, Entry{Type: EntryStart, RunID: id, Start: &StartEntry{RunInfo: RunInfo{ID: id, Environment: "production"}, TargetCount: 10}})
	pe := &PlanEntry{Seq: 1, Kind: KindURL}
	for i := range 5 {
		pe.Targets = append(pe.Targets, JournalTarget{Target: Target{Kind: KindURL, Value: fmt.Sprintf("https://www.example.com/%d", i)}})
	}
	mustAppend(t, j, Entry{Type: EntryPlan, RunID: id, Plan: pe})
	_, _, _, err := Pending(j.Path(), id)
	if err == nil || !strings.Contains(err.Error(), "planned 10 targets, but its journal lists only 5") || !strings.Contains(err.Error(), "run the purge again") {
		t.Fatalf("Pending = %v; want the partly journaled plan refused", err)
	}
	pe.Seq, pe.Targets = 2, pe.Targets[:0]
	for i := 5; i < 10; i++ {
		pe.Targets = append(pe.Targets, JournalTarget{Target: Target{Kind: KindURL, Value: fmt.Sprintf("https://www.example.com/%d", i)}})
	}
	mustAppend(t, j, Entry{Type: EntryPlan, RunID: id, Plan: pe})
	pending, _, _, err := Pending(j.Path(), id)
	if err != nil || len(pending) != 10 || pending[9].Value != "https://www.example.com/9" {
		t.Fatalf("Pending = %d targets, %v; want all 10 in order", len(pending), err)
	}
}

// TestKeySetAcrossRuns: keys are remembered exactly through the moves from
// the map to sorted runs and the merges of runs.
func TestKeySetAcrossRuns(t *testing.T) {
	k := newKeySet()
	const n = 5*keySetRecent + 123
	for i := range n {
		if !k.add(fmt.Sprintf("url https://www.example.com/%d", i)) {
			t.Fatalf("key %d reported seen before it was added", i)
		}
	}
	if len(k.runs) == 0 || len(k.runs) > 3 {
		t.Errorf("%d runs for %d keys, want the map compacted into at most 3", len(k.runs), n)
	}
	for i := range n {
		key := fmt.Sprintf("url https://www.example.com/%d", i)
		if k.add(key) || !k.has(key) {
			t.Fatalf("key %d not remembered", i)
		}
	}
	if k.has("url https://www.example.com/x") {
		t.Error("a key never added is reported seen")
	}
	for i, r := range k.runs {
		if !slices.IsSortedFunc(r, compareHash) {
			t.Errorf("run %d is not sorted", i)
		}
	}
}

// BenchmarkPlanStream plans 100,000 URLs given twice: the allocations and
// bytes per URL the streamed plan costs.
func BenchmarkPlanStream(b *testing.B) {
	targets := streamTargets(100_000)
	p := &shrinking{urls: 500}
	b.ReportAllocs()
	for b.Loop() {
		plan, err := PlanStream(p, TargetSeq(targets), PlanOptions{SpoolDir: b.TempDir(), Environment: "production", AllowedHosts: []string{"www.example.com"}})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for range plan.All() {
			n++
		}
		if err := plan.Close(); err != nil || n != plan.Len() {
			b.Fatal(err, n)
		}
	}
}
