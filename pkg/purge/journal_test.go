package purge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func testJournal(t *testing.T) *Journal {
	t.Helper()
	j, err := OpenJournal(filepath.Join(t.TempDir(), "state", "cachectl", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func mustAppend(t *testing.T, j *Journal, e Entry) {
	t.Helper()
	if err := j.Append(e); err != nil {
		t.Fatal(err)
	}
}

func startEntry(id string, at time.Time, targets ...Target) Entry {
	st := &StartEntry{RunInfo: RunInfo{ID: id, Time: at, Environment: "production", Provider: "cloudflare"}, TargetCount: len(targets)}
	for _, tg := range targets {
		st.Targets = append(st.Targets, JournalTarget{Target: tg})
	}
	return Entry{Type: EntryStart, RunID: id, Start: st}
}

func batchEntry(id string, seq int, state State, targets ...Target) Entry {
	be := &BatchEntry{Seq: seq, Kind: KindURL, Sent: true, Attempts: 1, Calls: 1}
	for _, tg := range targets {
		be.Targets = append(be.Targets, JournalTarget{Target: tg, State: state})
	}
	return Entry{Type: EntryBatch, RunID: id, Batch: be}
}

func TestJournalCorruptLineIsSkippedWithItsNumber(t *testing.T) {
	j := testJournal(t)
	tg := []Target{{Kind: KindURL, Value: "https://www.example.com/a"}, {Kind: KindURL, Value: "https://www.example.com/b"}, {Kind: KindTag, Value: "blog"}}
	const id = "20261126T161200Z-ab12cd"
	mustAppend(t, j, startEntry(id, time.Now(), tg...))
	mustAppend(t, j, batchEntry(id, 1, Purged, tg[0]))
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"v":1,"type":"batch","run_id":"` + id + `","batch":{"seq":2,` + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, batchEntry(id, 3, Failed, tg[2]))

	pending, info, warnings, err := Pending(j.Path(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || warnings[0].Line != 3 {
		t.Fatalf("warnings = %v, want one for line 3", warnings)
	}
	if want := tg[1:]; !reflect.DeepEqual(pending, want) {
		t.Fatalf("Pending() = %v, want %v", pending, want)
	}
	if !info.Resume || info.ID != id || info.Provider != "cloudflare" {
		t.Fatalf("Pending() info = %+v, want a resume of %s", info, id)
	}
}

func TestJournalRepairsTornLastLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.jsonl")
	if err := os.WriteFile(path, []byte(`{"v":1,"type":"start","run_id":"x","st`), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	mustAppend(t, j, startEntry("20261126T161200Z-000001", time.Now(), Target{Kind: KindHost, Value: "www.example.com"}))
	l, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 1 || len(l.Warnings) != 1 || l.Warnings[0].Line != 1 {
		t.Fatalf("read %d entries, warnings %v; want the new entry and a warning for line 1", len(l.Entries), l.Warnings)
	}
}

func TestJournalPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	j, err := OpenJournal(filepath.Join(dir, "cachectl", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for path, want := range map[string]os.FileMode{filepath.Join(dir, "cachectl"): 0o700, j.Path(): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
}

func TestJournalConcurrentAppends(t *testing.T) {
	j := testJournal(t)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			id := fmt.Sprintf("20261126T161200Z-%06d", i)
			if err := j.Append(startEntry(id, time.Now(), Target{Kind: KindTag, Value: id})); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	l, err := ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 40 || len(l.Warnings) != 0 {
		t.Fatalf("read %d entries and %d warnings, want 40 and none", len(l.Entries), len(l.Warnings))
	}
}

func TestRunsNewestFirstWithCounts(t *testing.T) {
	j := testJournal(t)
	base := time.Date(2026, 11, 26, 16, 12, 0, 0, time.UTC)
	a, b := Target{Kind: KindURL, Value: "https://www.example.com/a"}, Target{Kind: KindURL, Value: "https://www.example.com/b"}
	ids := []string{NewRunID(base), NewRunID(base.Add(time.Minute)), NewRunID(base.Add(2 * time.Minute))}
	mustAppend(t, j, startEntry(ids[0], base, a, b))
	mustAppend(t, j, batchEntry(ids[0], 1, Purged, a))
	mustAppend(t, j, batchEntry(ids[0], 1, Failed, b))
	mustAppend(t, j, Entry{Type: EntryEnd, RunID: ids[0], End: &EndEntry{}})
	mustAppend(t, j, startEntry(ids[1], base.Add(time.Minute), a))
	mustAppend(t, j, startEntry(ids[2], base.Add(2*time.Minute), b))
	mustAppend(t, j, batchEntry(ids[2], 1, Purged, b))
	mustAppend(t, j, Entry{Type: EntryEnd, RunID: ids[2], End: &EndEntry{}})
	l, err := ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	got := l.Runs(0)
	want := []struct {
		id                               string
		targets, purged, failed, pending int
		status                           string
	}{
		{ids[2], 1, 1, 0, 0, "complete"},
		{ids[1], 1, 0, 0, 1, "unfinished"},
		{ids[0], 2, 1, 1, 1, "incomplete"},
	}
	if len(got) != len(want) {
		t.Fatalf("Runs() = %d runs, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.Targets != w.targets || g.Purged != w.purged || g.Failed != w.failed || g.Pending != w.pending || g.Status != w.status {
			t.Errorf("run %d = %+v, want %+v", i, g, w)
		}
	}
	if got := l.Runs(2); len(got) != 2 || got[0].ID != ids[2] {
		t.Fatalf("Runs(2) = %+v, want the two newest", got)
	}
	if _, _, err := l.Pending("20000101T000000Z-000000"); err == nil {
		t.Fatal("Pending() of an unknown run succeeded")
	}
}

func TestReadJournalMissingFile(t *testing.T) {
	l, err := ReadJournal(filepath.Join(t.TempDir(), "none.jsonl"))
	if err != nil || len(l.Entries) != 0 || len(l.Runs(10)) != 0 {
		t.Fatalf("ReadJournal(missing) = %+v, %v; want an empty journal", l, err)
	}
}

func TestNewRunID(t *testing.T) {
	at := time.Date(2026, 11, 26, 16, 12, 0, 0, time.FixedZone("CET", 3600))
	id := NewRunID(at)
	if !regexp.MustCompile(`^20261126T151200Z-[0-9a-f]{6}$`).MatchString(id) {
		t.Fatalf("NewRunID() = %q, want 20261126T151200Z-xxxxxx", id)
	}
	if later := NewRunID(at.Add(time.Second)); later <= id {
		t.Fatalf("NewRunID one second later = %q, want it to sort after %q", later, id)
	}
}

func TestDefaultJournalPath(t *testing.T) {
	env := map[string]string{"XDG_STATE_HOME": "/var/lib/me", "HOME": "/home/me"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if got, err := DefaultJournalPath(lookup); err != nil || got != "/var/lib/me/cachectl/journal.jsonl" {
		t.Fatalf("DefaultJournalPath() = %q, %v", got, err)
	}
	env["XDG_STATE_HOME"] = ""
	if got, err := DefaultJournalPath(lookup); err != nil || got != "/home/me/.local/state/cachectl/journal.jsonl" {
		t.Fatalf("DefaultJournalPath() = %q, %v", got, err)
	}
	delete(env, "HOME")
	if _, err := DefaultJournalPath(lookup); err == nil || !strings.Contains(err.Error(), "HOME") {
		t.Fatalf("DefaultJournalPath() without HOME: %v, want an error naming HOME", err)
	}
}

func FuzzJournalLine(f *testing.F) {
	for _, e := range []Entry{
		startEntry("20261126T161200Z-ab12cd", time.Date(2026, 11, 26, 16, 12, 0, 0, time.UTC), Target{Kind: KindURL, Value: "https://www.example.com/a"}),
		{Type: EntryPlan, RunID: "20261126T161200Z-ab12cd", Plan: &PlanEntry{Seq: 1, Kind: KindTag, Targets: []JournalTarget{{Target: Target{Kind: KindTag, Value: "blog"}}}}},
		batchEntry("20261126T161200Z-ab12cd", 1, Purged, Target{Kind: KindTag, Value: "blog"}),
		{Type: EntryEnd, RunID: "20261126T161200Z-ab12cd", End: &EndEntry{Interrupted: true, Error: "context canceled"}},
	} {
		e.V = journalVersion
		b, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"type":"batch","run_id":"x","batch":{"seq":2,`))
	f.Add([]byte(`{"v":9,"type":"end","run_id":"x","end":{}}`))
	f.Add([]byte(`{"v":2,"type":"plan","run_id":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseEntry(line)
		if err != nil {
			return
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("re-encode %q: %v", line, err)
		}
		again, err := ParseEntry(b)
		if err != nil {
			t.Fatalf("entry %q re-encoded as %q does not parse: %v", line, b, err)
		}
		if again.Type != e.Type || again.RunID != e.RunID {
			t.Fatalf("round trip changed the entry: %+v -> %+v", e, again)
		}
	})
}
