package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVersionWithoutVCS: a binary built with -buildvcs=false says that it
// carries no commit, and why, instead of "unknown".
func TestVersionWithoutVCS(t *testing.T) {
	code, out, stderr := cachectl(t, nil, "version")
	if code != 0 {
		t.Fatalf("version: exit %d: %s", code, stderr)
	}
	want := "commit: not recorded (built without version control information: with -buildvcs=false, or outside a git checkout)\n"
	if !strings.HasPrefix(out, "cachectl dev\n") || !strings.Contains(out, want) {
		t.Errorf("version printed\n%s\nwant cachectl dev and %q", out, want)
	}
	code, out, stderr = cachectl(t, nil, "version", "-o", "json")
	if code != 0 {
		t.Fatalf("version -o json: exit %d: %s", code, stderr)
	}
	var v struct{ Version, Commit, Source string }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json: %v\n%s", err, out)
	}
	if v.Version != "dev" || v.Commit != "unknown" || v.Source != "none" {
		t.Errorf("version -o json = %+v, want dev, unknown, none", v)
	}
}
