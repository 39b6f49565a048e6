package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestManPagesUpToDate: docs/man holds exactly the pages the command tree
// makes; after changing a command, run scripts/gen-man.sh.
func TestManPagesUpToDate(t *testing.T) {
	committed := filepath.Join("..", "..", "docs", "man")
	fresh := t.TempDir()
	if err := run(fresh); err != nil {
		t.Fatal(err)
	}
	want := pages(t, fresh)
	got := pages(t, committed)
	for name, page := range want {
		switch old, ok := got[name]; {
		case !ok:
			t.Errorf("docs/man/%s is missing (run scripts/gen-man.sh)", name)
		case old != page:
			t.Errorf("docs/man/%s is out of date (run scripts/gen-man.sh)", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/man/%s names no command (run scripts/gen-man.sh)", name)
		}
	}
	if len(want) < 10 {
		t.Errorf("%d pages generated, want one per command", len(want))
	}
}

func pages(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}
